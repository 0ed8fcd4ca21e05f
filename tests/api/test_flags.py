"""GET /api/v1/areas/{code}/flags and POST …/flags/{key}/dismiss: who reads an area's red flags, who dismisses
one and how (a reason, audited, hidden afterwards), and every refusal with its article."""
from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import select

from store.models import AuditEvent
from tests.api.conftest import Api, World
from workflow.demo import Driver

URL = "/api/v1/areas/A01/flags"
READERS = ["member", "member2", "wsec", "finance", "admin"]
REFUSED = ["secretary", "staff", "supervisor", "director", "other_community", "other_area_community",
           "other_area_wsec"]


@pytest.fixture
def backdated(drv: Driver) -> int:
    """A project of S01 whose joint meeting was recorded 15 days after the day it states."""
    pid = drv.propose(0, amount="8000.00", title="社区宣传栏更换")
    drv.drive(pid, "joint_meeting")
    meeting = drv.meeting()
    meeting["held_on"] = (drv.now - dt.timedelta(days=15)).date().isoformat()
    drv.fire(pid, "record_meeting", drv.a("secretary"), meeting)
    return pid


def problem(r: Any, status: int, code: str, article: str) -> None:
    assert r.status_code == status, r.text
    body = r.json()
    assert (body["code"], body["article"]) == (code, article), body
    assert r.headers["content-type"].startswith("application/problem+json")


@pytest.mark.parametrize("who", READERS)
def test_the_working_committee_finance_and_the_city_read_the_flags(api: Api, backdated: int, who: str) -> None:
    r = api.get(who, URL, params={"year": 2026})
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["area"], body["year"], body["community"]) == ("A01", 2026, None)
    (flag,) = body["flags"]
    assert (flag["code"], flag["community_code"], flag["community_name"]) == ("flag.backdated_record", "S01", "幸福社区")
    assert flag["article"] == "第十条、第十九条" and "相隔 15 天" in flag["message"]
    kinds = {e["kind"] for e in flag["evidence"]}
    assert {"project", "meeting", "audit_event", "document"} <= kinds
    assert str(backdated) in [e["ref"] for e in flag["evidence"] if e["kind"] == "project"]
    assert flag["dismissed"] is False and flag["dismissal"] is None


@pytest.mark.parametrize("who", REFUSED)
def test_communities_the_director_and_other_areas_are_refused(api: Api, backdated: int, who: str) -> None:
    problem(api.get(who, URL, params={"year": 2026}), 403, "auth.flags", "第十八条、第十九条")


def test_anonymous_unknown_area_and_community(api: Api, backdated: int) -> None:
    assert api.get(None, URL, params={"year": 2026}).status_code == 401
    problem(api.get("member", "/api/v1/areas/A77/flags", params={"year": 2026}), 404, "area.not_found", "第二条")
    problem(api.get("member", URL, params={"year": 2026, "community": "S09"}), 404, "community.not_found", "第二条")
    assert api.get("member", URL).status_code == 422  # the year is required


def test_one_community_and_another_year(api: Api, backdated: int) -> None:
    assert len(api.get("member", URL, params={"year": 2026, "community": "S01"}).json()["flags"]) == 1
    assert api.get("member", URL, params={"year": 2026, "community": "S02"}).json()["flags"] == []
    assert api.get("member", URL, params={"year": 2025}).json()["flags"] == []


def test_dismissal_with_a_reason_is_audited_and_hides_the_flag(api: Api, world: World, backdated: int) -> None:
    key = api.get("member", URL, params={"year": 2026}).json()["flags"][0]["key"]
    dismiss = f"{URL}/{key}/dismiss"
    problem(api.post("member", dismiss, {"year": 2026, "reason": " "}), 422, "flag.reason_required", "第十九条")
    problem(api.post("member", dismiss, {"year": 2026}), 422, "flag.reason_required", "第十九条")
    for who in ("finance", "admin", "secretary", "director", "other_area_wsec"):
        problem(api.post(who, dismiss, {"year": 2026, "reason": "已核实"}), 403, "flag.dismiss_not_allowed", "第十九条")
    problem(api.post("member", f"{URL}/split_project-0123456789abcdef/dismiss", {"year": 2026, "reason": "已核实"}),
            404, "flag.not_found", "第十九条")
    problem(api.post("member", dismiss, {"year": 2025, "reason": "已核实"}), 404, "flag.not_found", "第十九条")
    assert api.post("member", f"{URL}/not-a-key/dismiss", {"year": 2026, "reason": "已核实"}).status_code == 422
    with world.db.uow(write=False) as uow:
        assert uow.session.execute(select(AuditEvent.id).where(AuditEvent.entity_type == "flag")).first() is None

    reason = "会议当天已召开,因系统培训延后录入,经查看签到表核实"
    r = api.post("member", dismiss, {"year": 2026, "reason": reason})
    assert r.status_code == 200, r.text
    done = r.json()
    assert done["key"] == key and done["dismissed"] is True
    assert (done["dismissal"]["by"], done["dismissal"]["reason"]) == ("李红梅", reason)
    assert done["dismissal"]["at"].endswith("+08:00")
    assert api.get("wsec", URL, params={"year": 2026}).json()["flags"] == []
    listed = api.get("finance", URL, params={"year": 2026, "include_dismissed": "true"}).json()["flags"]
    assert [(f["key"], f["dismissed"], f["dismissal"]["event_id"]) for f in listed] == \
        [(key, True, done["dismissal"]["event_id"])]
    with world.db.uow(write=False) as uow:
        ev = uow.session.get(AuditEvent, done["dismissal"]["event_id"])
        assert ev is not None and (ev.entity_type, ev.event, ev.reason, ev.actor_id) == \
            ("flag", "dismiss_flag", reason, world.ids["member"])
    problem(api.post("member2", dismiss, {"year": 2026, "reason": "再次排除"}), 409, "flag.already_dismissed", "第十九条")
