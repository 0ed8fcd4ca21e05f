"""Inspections and findings over HTTP (第十九条), on both databases: who may plan, read the pack (JSON and PDF),
record findings, rectify and verify; every refusal a problem+json citing its article."""
from __future__ import annotations

from typing import Any

import pytest

from tests.api.conftest import ALL, Api, Clock, World, on
from tests.documents.helpers import flat
from workflow.demo import Driver

PROBLEM = "application/problem+json"
ACTORS = ["member", "wsec"]
READERS = ["member", "wsec", "finance"]
COMMUNITY = ["secretary", "staff", "supervisor"]


def _plan(api: Api, world: World, who: str = "member") -> dict[str, Any]:
    r = api.post(who, "/api/v1/inspections", {"community_id": world.c0, "period_from": "2026-03-01",
                                              "period_to": "2026-03-31"})
    assert r.status_code == 201, r.text
    return dict(r.json())


def _event(api: Api, who: str, path: str, trigger: str, body: dict[str, Any] | None = None,
           expect: int = 200) -> dict[str, Any]:
    r = api.post(who, f"/api/v1/{path}/events/{trigger}", body)
    assert r.status_code == expect, f"{trigger} by {who}: {r.status_code} {r.text}"
    if expect != 200:
        assert r.headers["content-type"].startswith(PROBLEM)
    return dict(r.json())


FINDING = {"article": "第十二条", "description": "项目跟进检查记录缺失", "requirement": "补充跟进检查记录", "workdays": 5}


@pytest.fixture
def started(api: Api, world: World, drv: Driver, clock_at: Clock) -> dict[str, Any]:
    drv.new_project("in_progress")
    clock_at.set(on("2026-04-01"))
    inspection = _plan(api, world)
    _event(api, "member", f"inspections/{inspection['id']}", "start_inspection")
    return inspection


@pytest.fixture
def finding(api: Api, started: dict[str, Any]) -> dict[str, Any]:
    out = _event(api, "member", f"inspections/{started['id']}", "record_finding", FINDING)
    return dict(api.get("member", f"/api/v1/findings/{out['outcome']['data']['finding_id']}").json())


@pytest.mark.parametrize("who", ALL)
def test_only_the_working_committee_plans(api: Api, world: World, clock_at: Clock, who: str) -> None:
    clock_at.set(on("2026-04-01"))
    r = api.post(who, "/api/v1/inspections", {"community_id": world.c0, "period_from": "2026-03-01",
                                              "period_to": "2026-03-31"})
    if who in ACTORS:
        assert r.status_code == 201, r.text
        body = r.json()
        assert body["state"] == "planned" and body["community_id"] == world.c0 and body["finding_list"] == []
        assert r.headers["location"] == f"/api/v1/inspections/{body['id']}"
    else:
        assert r.status_code == 403, r.text
        assert r.json()["article"] == "第十九条"


def test_planning_refusals_are_problems_with_the_article(api: Api, world: World, clock_at: Clock) -> None:
    clock_at.set(on("2026-04-01"))
    assert api.post(None, "/api/v1/inspections", {"community_id": world.c0, "period_from": "2026-03-01",
                                                  "period_to": "2026-03-31"}).status_code == 401
    r = api.post("member", "/api/v1/inspections", {"community_id": world.c0, "period_from": "2026-05-01",
                                                   "period_to": "2026-05-31"})
    assert r.status_code == 422 and r.json()["code"] == "inspection.period_invalid"
    assert r.json()["article"] == "第十九条"
    r = api.post("member", "/api/v1/inspections", {"community_id": 999999, "period_from": "2026-03-01",
                                                   "period_to": "2026-03-31"})
    assert r.status_code == 404 and r.json()["code"] == "community.not_found"


@pytest.mark.parametrize("who", ALL)
def test_inspection_and_pack_are_the_working_committees_and_finances(api: Api, world: World, started: dict[str, Any],
                                                                    who: str) -> None:
    iid = started["id"]
    for url in (f"/api/v1/inspections/{iid}", f"/api/v1/inspections/{iid}/pack",
                f"/api/v1/inspections/{iid}/pack.pdf", f"/api/v1/documents/inspection_pack/{iid}"):
        r = api.get(who, url)
        if who in READERS:
            assert r.status_code == 200, f"{url}: {r.text}"
        else:
            assert r.status_code == 403, f"{url} as {who}: {r.status_code}"
            assert r.json()["code"] in ("inspection.forbidden", "auth.not_in_community")
            assert r.json()["article"] in ("第十九条", "第十四条")
    listed = api.get(who, "/api/v1/inspections").json()["items"]
    assert [i["id"] for i in listed] == ([iid] if who in READERS else [])


def test_the_pack_over_http(api: Api, world: World, started: dict[str, Any], finding: dict[str, Any]) -> None:
    iid = started["id"]
    pack = api.get("finance", f"/api/v1/inspections/{iid}/pack").json()
    (project,) = pack["projects"]
    assert project["amount"] == "12000.00" and any(e["event"] == "审批同意" for e in project["trail"])
    assert any(item["kind"] == "承诺" for item in pack["ledger"])
    assert any(d["kind"] == "整改期限" for d in pack["deadlines"])
    assert pack["flags"] == [] and [f["finding_id"] for f in pack["findings"]] == [finding["id"]]
    r = api.get("member", f"/api/v1/inspections/{iid}/pack.pdf")
    assert r.headers["content-type"] == "application/pdf" and r.headers["x-document-code"]
    text = flat(r.content)
    assert project["code"] in text and "项目跟进检查记录缺失" in text
    v = api.get(None, f"/api/v1/public/verify/{r.headers['x-document-code']}")
    assert v.status_code == 200 and v.json()["kind"] == "inspection_pack" and v.json()["current"] is True


@pytest.mark.parametrize("who", ALL)
def test_findings_are_read_by_the_area_finance_and_the_community_itself(api: Api, world: World,
                                                                        finding: dict[str, Any], who: str) -> None:
    ok = who in READERS + COMMUNITY
    r = api.get(who, f"/api/v1/findings/{finding['id']}")
    assert r.status_code == (200 if ok else 403), r.text
    r = api.get(who, f"/api/v1/communities/{world.c0}/findings")
    assert r.status_code == (200 if ok else 403), r.text
    if ok:
        assert [f["id"] for f in r.json()["items"]] == [finding["id"]]
    else:
        assert r.json()["article"] == "第十九条"


def test_the_finding_path_over_http(api: Api, world: World, started: dict[str, Any], finding: dict[str, Any]) -> None:
    fid = finding["id"]
    assert finding["state"] == "rectifying" and finding["article"] == "第十二条" and finding["due_at"]
    path = f"findings/{fid}"
    body = _event(api, "other_community", path, "submit_rectification", {"text": "已整改"}, expect=403)
    assert body["code"] == "auth.no_post" and body["article"] == "第十九条"
    _event(api, "member", path, "submit_rectification", {"text": "已整改"}, expect=403)
    out = _event(api, "secretary", path, "submit_rectification", {"text": "已补充三次跟进检查记录"})
    assert out["state"] == "submitted" and out["outcome"]["to_state"] == "submitted"
    body = _event(api, "member", path, "verify_rectification", expect=409)
    assert (body["code"], body["article"]) == ("finding.same_person", "第十九条")
    _event(api, "secretary", path, "verify_rectification", expect=403)
    body = _event(api, "member2", path, "reject_rectification", {}, expect=409)
    assert body["code"] == "workflow.reason_missing"
    out = _event(api, "member2", path, "reject_rectification", {"reason": "记录未写明检查日期"})
    assert out["state"] == "rectifying" and out["rejections"] == 1
    _event(api, "staff", path, "submit_rectification", {"text": "已补写检查日期"})
    out = _event(api, "wsec", path, "verify_rectification")
    assert out["state"] == "closed" and out["verified_by"]
    # a finding citing no article of the regulation is refused, naming the rule
    body = _event(api, "member", f"inspections/{started['id']}", "record_finding", {**FINDING, "article": "第三十条"},
                  expect=409)
    assert (body["code"], body["article"]) == ("finding.article_unknown", "第十九条")
    out = _event(api, "wsec", f"inspections/{started['id']}", "complete_inspection", {"summary": "检查完毕,问题已整改"})
    assert out["state"] == "completed"
    assert api.get("member", f"/api/v1/inspections/{started['id']}").json()["finding_list"][0]["state"] == "closed"


def test_unknown_records_are_not_found(api: Api, world: World) -> None:
    for url in ("/api/v1/inspections/999999", "/api/v1/findings/999999", "/api/v1/inspections/999999/pack"):
        r = api.get("member", url)
        assert r.status_code == 404 and r.json()["article"] == "第十九条", url
    r = api.post("member", "/api/v1/findings/999999/events/verify_rectification", {})
    assert r.status_code == 404 and r.json()["code"] == "finding.not_found"


def test_finance_steps_over_http(api: Api, world: World, drv: Driver) -> None:
    pid = drv.new_project("pending_approval")
    out = api.event("finance", pid, "review_budget", {"outcome": "passed", "note": "预算依据充分"})
    assert out["outcome"]["data"]["finance_check_id"]
    body = api.event("wsec", pid, "review_budget", {"outcome": "passed", "note": "同意"}, expect=403)
    assert body["article"] == "第十八条"
    body = api.event("finance", pid, "review_budget", {"outcome": "passed", "note": ""}, expect=409)
    assert (body["code"], body["article"]) == ("finance.conclusion_missing", "第十八条")
