"""Document downloads over HTTP (both databases): the same access rules as the data, a Chinese file name,
the verification route and the short address printed on paper."""
from __future__ import annotations

import io
from urllib.parse import quote

import openpyxl
import pytest

from documents import fonts
from tests.api.conftest import ALL, Api, World
from tests.documents.helpers import flat
from workflow import archive
from workflow.demo import Driver

PDF = "application/pdf"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _notice_id(api: Api, pid: int) -> int:
    items = api.get("secretary", f"/api/v1/projects/{pid}/documents").json()["items"]
    return next(i["object_id"] for i in items if i["kind"] == "notice")


def test_a_public_notice_downloads_without_login_with_a_chinese_file_name(api: Api, drv: Driver) -> None:
    pid = drv.new_project("publicity")
    nid = _notice_id(api, pid)
    r = api.get(None, f"/api/v1/documents/notice/{nid}")
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == PDF and r.content.startswith(b"%PDF")
    disposition = r.headers["content-disposition"]
    assert disposition.startswith("inline; filename=\"notice-") and f"filename*=UTF-8''{quote('项目公示-')}" in disposition
    code = r.headers["x-document-code"]
    assert f"核验码{code[:4]}-{code[4:8]}-{code[8:]}" in flat(r.content)
    # the short address on the paper leads to the verification answer
    short = api.client.get(f"/v/{code}", follow_redirects=False)
    assert short.status_code == 307 and short.headers["location"] == f"/gongshi/verify?code={code}"
    v = api.get(None, f"/api/v1/public/verify/{code.lower()}")
    assert v.status_code == 200, v.text
    body = v.json()
    assert body["genuine"] and body["current"] and body["kind"] == "notice" and body["public"]
    assert body["record"]["entity_type"] == "project" and body["record"]["entity_id"] == pid
    assert body["links"]["notice"] == f"/api/v1/public/notices/{nid}"


@pytest.mark.parametrize("who", ALL)
def test_the_application_form_follows_the_project_read_rules(api: Api, world: World, drv: Driver, who: str) -> None:
    pid = drv.new_project("pending_approval")
    r = api.get(who, f"/api/v1/documents/application_form/{pid}")
    if who.startswith("other"):
        assert r.status_code == 403 and r.json()["code"] == "auth.not_in_community"
    else:
        assert r.status_code == 200, r.text
        assert "no-store" in r.headers["cache-control"]
        assert "社区党组织服务群众专项经费使用申请审批表" in flat(r.content)


def test_internal_documents_need_a_login_and_unknown_ones_are_404(api: Api, drv: Driver) -> None:
    pid = drv.new_project("in_progress")
    assert api.get(None, f"/api/v1/documents/application_form/{pid}").status_code == 401
    missing = api.get("secretary", "/api/v1/documents/payment_voucher/999999")
    assert missing.status_code == 404 and missing.json()["code"] == "document.not_found"
    assert api.get("secretary", f"/api/v1/documents/invoice/{pid}").status_code == 422
    r = api.get("secretary", "/api/v1/public/verify/ZZZZ-ZZZZ-ZZZZ")
    assert r.status_code == 404 and r.json()["code"] == "document.unknown_code" and "不是 fundflow 出具的" in r.json()["detail"]


def test_every_document_of_a_closed_project_is_listed_and_downloads(api: Api, world: World, drv: Driver) -> None:
    pid = drv.new_project("closed")
    detail = api.get("secretary", f"/api/v1/projects/{pid}").json()
    assert detail["links"]["documents"] == f"/api/v1/projects/{pid}/documents"
    assert detail["links"]["application_form"] == f"/api/v1/documents/application_form/{pid}"
    listing = api.get("supervisor", detail["links"]["documents"])
    assert listing.status_code == 200, listing.text
    items = listing.json()["items"]
    assert {i["kind"] for i in items} == {"application_form", "minutes", "board_record", "notice", "acceptance_record",
                                          "payment_voucher"}
    for item in items:
        r = api.get("supervisor", item["url"])
        assert r.status_code == 200 and r.headers["content-type"] == PDF, item
    assert api.get("other_community", detail["links"]["documents"]).status_code == 403


def test_fund_year_ledger_archive_and_area_summary(api: Api, world: World, drv: Driver) -> None:
    drv.new_project("closed")
    year = api.get("finance", f"/api/v1/fund-years/{world.c0}/2026").json()
    for key in ("documents", "annual_report", "ledger", "archive"):
        assert key in year["links"]
    docs = api.get("finance", year["links"]["documents"]).json()
    assert [i["kind"] for i in docs["items"]] == ["annual_report"]
    report = api.get("finance", year["links"]["annual_report"])
    assert report.status_code == 200 and "年度党组织服务群众专项经费使用情况报告" in flat(report.content)
    assert api.get(None, year["links"]["annual_report"]).status_code == 401
    assert api.get(None, f"/api/v1/documents/annual_disclosure/{year['id']}").status_code == 404

    ledger = api.get("finance", year["links"]["ledger"])
    assert ledger.status_code == 200 and ledger.headers["content-type"] == XLSX
    assert ledger.headers["content-disposition"].startswith("attachment; filename=\"ledger-")
    rows = list(openpyxl.load_workbook(io.BytesIO(ledger.content)).active.iter_rows(min_row=4, values_only=True))
    assert [r[2] for r in rows][:2] == ["年度拨付", "批准承诺"] and "支付" in [r[2] for r in rows]
    assert api.get("other_community", year["links"]["ledger"]).status_code == 403

    zipped = api.get("finance", year["links"]["archive"])
    assert zipped.status_code == 200 and zipped.headers["content-type"] == "application/zip"
    assert archive.verify_archive(zipped.content).ok

    area = f"/api/v1/areas/{world.city.area_id}/years/2026/summary.xlsx"
    for who, status in (("wsec", 200), ("admin", 200), ("finance", 200), ("secretary", 403), ("other_area_wsec", 403)):
        assert api.get(who, area).status_code == status, who
    rows = list(openpyxl.load_workbook(io.BytesIO(api.get("wsec", area).content)).active.iter_rows(min_row=4,
                                                                                                   values_only=True))
    assert [r[0] for r in rows][:2] == ["S01", "S02"] and rows[-1][0] == "合计"
    assert api.get("wsec", f"/api/v1/areas/{world.c0}/years/2026/summary.xlsx").status_code == 404


def test_without_the_font_printing_answers_503_naming_the_package(api: Api, drv: Driver,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    pid = drv.new_project("publicity")
    nid = _notice_id(api, pid)
    monkeypatch.setattr(fonts, "_registered", False)
    monkeypatch.setenv("FUNDFLOW_CJK_FONT", "/nonexistent/font.ttc")
    r = api.get(None, f"/api/v1/documents/notice/{nid}")
    assert r.status_code == 503 and r.json()["code"] == "documents.font_missing"
    assert "fonts-wqy-zenhei" in r.json()["detail"]
