"""Documents on the pages (issue 10): the project, fund-year and overview pages link every document; archived
records open from the page; residents check a paper's verification code on ``/gongshi/verify`` (where the
short address ``/v/{code}`` leads); the board links each notice's PDF and QR code and shows the latest
signed audit root."""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from store.models import Notice
from tests.api.conftest import Clock, World
from tests.api.pages.conftest import Pages, text_of
from workflow.demo import Driver

PDF = "application/pdf"


def _notice(world: World, pid: int) -> int:
    with world.db.uow(write=False) as uow:
        return int(uow.session.execute(select(Notice.id).where(Notice.project_id == pid)
                                       .order_by(Notice.id).limit(1)).scalar_one())


def test_the_project_page_links_every_document_of_the_project(pages: Pages, world: World, drv: Driver) -> None:
    pid = drv.new_project("settlement")
    c = drv.community_of(pid)
    item = drv.fire(pid, "add_payment_item", drv.a("finance"), {
        "kind": "invoice", "amount": "12000.00", "payee": "xx市照明工程有限公司", "invoice_no": "INV77"}).data[
        "payment_item_id"]
    drv.fire(pid, "sign_invoice", drv.a("secretary", c), {"payment_item_id": item})
    html = pages.get("secretary", f"/projects/{pid}").text
    page = text_of(html)
    assert "使用申请审批表 S01-2026-001 PDF" in page and "联席会议记录" in page and "项目公示" in page
    assert "综合验收记录" in page and "付款审批单(发票)12000.00 元" in page and "核验纸质文件" in page
    for href in (f"/api/v1/documents/application_form/{pid}", f"/api/v1/documents/payment_voucher/{item}"):
        assert f'href="{href}"' in html
    # the links open with the page's own session (the cookie), as a browser would follow them
    form = pages.get("secretary", f"/api/v1/documents/application_form/{pid}")
    assert form.status_code == 200 and form.headers["content-type"] == PDF and form.content.startswith(b"%PDF")
    notice = re.search(r'href="(/api/v1/documents/notice/\d+)"', html).group(1)  # type: ignore[union-attr]
    assert pages.get(None, notice).status_code == 200  # a notice is public
    # the archived records (minutes as recorded …) open from the page, for those who may read the project
    record = re.search(r'href="(/records/project/\d+/[0-9a-f]{64})"', html).group(1)  # type: ignore[union-attr]
    r = pages.get("supervisor", record)
    assert r.status_code == 200 and r.content
    for who in ("other_community", "other_area_wsec"):
        assert pages.get(who, record).status_code == 403
        assert pages.get(who, f"/api/v1/documents/application_form/{pid}").status_code == 403
    assert pages.get(None, record).status_code == 303  # to the login page
    assert pages.get("secretary", f"/records/project/{pid}/{'0' * 64}").status_code == 404


def test_the_fund_year_page_links_the_report_ledger_and_archive(pages: Pages, world: World, drv: Driver) -> None:
    drv.new_project("in_progress")
    html = pages.get("finance", f"/fund-years/{world.c0}/2026").text
    page = text_of(html)
    assert "2026 年度报告" in page and "科目明细账 Excel" in page and "年度档案:全部文件、记录与审计事件" in page
    base = f"/api/v1/fund-years/{world.c0}/2026"
    assert 'href="/api/v1/documents/annual_report/' in html
    assert f'href="{base}/ledger.xlsx"' in html and f'href="{base}/archive.zip"' in html
    report = re.search(r'href="(/api/v1/documents/annual_report/\d+)"', html).group(1)  # type: ignore[union-attr]
    r = pages.get("finance", report)
    assert r.status_code == 200 and r.content.startswith(b"%PDF")
    ledger = pages.get("finance", f"{base}/ledger.xlsx")
    assert ledger.status_code == 200 and ledger.content[:2] == b"PK"
    assert pages.get("other_community", f"{base}/ledger.xlsx").status_code == 403


def test_the_overview_links_the_area_summary_to_those_who_may_read_it(pages: Pages, world: World,
                                                                    drv: Driver) -> None:
    drv.new_project("in_progress")
    mine = f"/api/v1/areas/{world.city.area_id}/years/2026/summary.xlsx"
    other = f"/api/v1/areas/{world.other_area_id}/years/2026/summary.xlsx"
    wsec = pages.get("wsec", "/overview?year=2026").text
    assert f'href="{mine}"' in wsec and f'href="{other}"' not in wsec and "年度汇总" in text_of(wsec)
    admin = pages.get("admin", "/overview?year=2026").text
    assert f'href="{mine}"' in admin and f'href="{other}"' in admin
    r = pages.get("wsec", mine)
    assert r.status_code == 200 and r.content[:2] == b"PK"
    assert pages.get("other_area_wsec", mine).status_code == 403


def test_a_resident_checks_a_paper_notice_by_its_code(pages: Pages, world: World, drv: Driver,
                                                      clock_at: Clock) -> None:
    pid = drv.new_project("publicity", title="楼道照明改造")
    clock_at.set(drv.tick(1))
    nid = _notice(world, pid)
    printed = pages.get(None, f"/api/v1/documents/notice/{nid}")
    code = printed.headers["x-document-code"]
    # the short address printed on the paper leads to the page's answer
    short = pages.get(None, f"/v/{code}")
    assert short.status_code == 307 and short.headers["location"] == f"/gongshi/verify?code={code}"
    r = pages.get(None, short.headers["location"])
    assert r.status_code == 200
    page = text_of(r.text)
    assert "核验纸质文件" in page and "核验结果" in page and "真实有效,现行版本" in page
    assert "幸福社区" in page and "项目公示" in page and "公示期" in page
    assert f'href="/gongshi/notice/{nid}"' in r.text and f'href="/api/v1/documents/notice/{nid}"' in r.text
    # as a person types it: lower case, spaces for dashes
    typed = code.lower().replace("-", " ")
    assert "真实有效" in text_of(pages.get(None, f"/gongshi/verify?code={typed}").text)
    # the form alone, with its label and help
    form = text_of(pages.get(None, "/gongshi/verify").text)
    assert "核验码" in form and "12 位字母和数字" in form and "核验结果" not in form
    # an unknown code: a clear Chinese answer, the typed code kept in the box
    r = pages.get(None, "/gongshi/verify?code=ABCD-EFGH-JKMN")
    assert r.status_code == 404 and "不存在" in text_of(r.text) and 'value="ABCD-EFGH-JKMN"' in r.text
    r = pages.get(None, "/gongshi/verify?code=<script>")
    assert r.status_code == 404 and "<script>" not in r.text


def test_an_outdated_or_private_paper_says_so_without_personal_data(pages: Pages, world: World, drv: Driver) -> None:
    pid = drv.new_project("pending_approval", contractor_kind="individual", contractor="欧阳修远", is_aid=True,
                          title="困难家庭帮扶")
    printed = pages.get("secretary", f"/api/v1/documents/application_form/{pid}")
    code = printed.headers["x-document-code"]
    r = pages.get(None, f"/gongshi/verify?code={code}")
    assert r.status_code == 200
    page = text_of(r.text)
    assert "真实有效" in page and "使用申请审批表" in page and "该文件不公开" in page
    # a private paper's answer shows only the points to compare: no contractor, no proposer, no link to it
    assert "欧阳修远" not in r.text and "刘玉梅" not in r.text
    assert "/api/v1/documents/application_form" not in r.text
    assert not re.search(r"1[3-9]\d{9}", r.text)


def test_a_paper_printed_before_an_edit_is_shown_as_outdated(pages: Pages, world: World, drv: Driver) -> None:
    pid = drv.propose(title="活动室空调维修")
    old = pages.get("secretary", f"/api/v1/documents/application_form/{pid}").headers["x-document-code"]
    drv.fire(pid, "edit", drv.a("secretary"), {"description": "维修活动室两台空调,更换压缩机。"})
    r = pages.get(None, f"/gongshi/verify?code={old}")
    assert r.status_code == 200
    page = text_of(r.text)
    assert "已失效的旧版本" in page and "现行版本" in page and "真实有效" not in page
    current = re.search(r'href="/gongshi/verify\?code=([A-Z0-9-]+)"', r.text).group(1)  # type: ignore[union-attr]
    assert current != old and "真实有效" in text_of(pages.get(None, f"/gongshi/verify?code={current}").text)


def test_the_board_links_each_notice_paper_and_shows_the_latest_signed_root(
        pages: Pages, world: World, drv: Driver, clock_at: Clock, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pid = drv.new_project("publicity", title="楼道照明改造")
    clock_at.set(drv.tick(1))
    nid = _notice(world, pid)
    html = pages.get(None, "/gongshi").text
    assert f'href="/api/v1/documents/notice/{nid}"' in html and f'href="/gongshi/notice/{nid}/qr.svg"' in html
    page = text_of(html)
    assert "核验纸质文件" in page and "尚未发布签名根" in page
    from workflow.anchors import generate_key_file, sign_root

    generate_key_file(tmp_path / "audit-signing.key")
    monkeypatch.setenv("FUNDFLOW_AUDIT_KEY_FILE", str(tmp_path / "audit-signing.key"))
    signed: Any = sign_root(world.db)
    page = text_of(pages.get(None, "/gongshi").text)
    assert "最新签名根" in page and "尚未发布签名根" not in page
    root = pages.get(None, "/api/v1/public/audit/roots").json()["items"][0]
    assert root["state_root"] in page and f"覆盖 {root['chains']} 条审计链" in page
    assert signed is not None
    # the notice's own page checks its code on the residents' page, not the JSON
    notice = pages.get(None, f"/gongshi/notice/{nid}").text
    assert "/gongshi/verify?code=" in notice and "/api/v1/public/verify/" not in notice
