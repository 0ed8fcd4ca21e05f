"""The fund year's order (issue 11 point 8, 第十五条、第十六条): open → submit_report → reported →
start_disclosure → disclosing → disclosure_elapsed → disclosed → close_year → closed. The working
committee's evaluation runs alongside; it never holds the disclosure, which the community owes its
residents by 12-20 whatever the area's pace; only the year's close waits for it."""
from __future__ import annotations

from store.models import Notification
from tests.workflow.test_scheduler_support import (
    audit_events,
    deadline,
    end_of,
    fund_year_id,
    fund_year_state,
    notifications,
    sh,
)
from workflow.jobs import run_once
from workflow.sweep import sweep

REPORT = {"summary": "全年完成项目 3 个,经费专款专用。", "service_effect": "群众满意"}


def reported(db, city, driver, community: int) -> int:  # type: ignore[no-untyped-def]
    """The community's 2026 year with its deadlines made and its report submitted on 11-27."""
    c = city.community(community)
    fy = fund_year_id(db, c.id, 2026)
    run_once(db, sh(2026, 11, 1, 9))
    driver.now = sh(2026, 11, 27, 10)
    driver.fire(fy, "submit_report", c.people["secretary"], REPORT, entity_type="fund_year")
    return int(fy)


def test_a_community_whose_area_is_slow_still_discloses_by_12_20(db, city, driver):
    c0 = city.community(0)
    fy = reported(db, city, driver, 0)
    # the area has not evaluated the report: the community starts its disclosure anyway
    driver.now = sh(2026, 12, 10, 10)
    out = driver.fire(fy, "start_disclosure", c0.people["secretary"], entity_type="fund_year")
    assert (out.from_state, out.to_state) == ("reported", "disclosing")
    disclosure = deadline(db, "fund_year", fy, "disclosure")
    assert disclosure.due_at == end_of(2026, 12, 17)  # 5 working days after Thursday 12-10
    from api.queries import disclosure as public_disclosure

    with db.uow(write=False) as uow:
        shown = public_disclosure(uow.session, c0.id, 2026)
    assert shown["state"] == "disclosing" and shown["notice_id"]
    sweep(db, end_of(2026, 12, 17))
    assert fund_year_state(db, fy) == "disclosed"
    # the period ran out before 12-20: nothing is overdue for this community
    sweep(db, end_of(2026, 12, 19))
    assert deadline(db, "community", c0.id, "disclosure_start_due").outcome == "moot"
    assert audit_events(db, "fund_year", fy, "disclosure_overdue") == []
    # the end of the disclosure tells the working committee its evaluation is what the close waits for
    ended = notifications(db, "disclosure_elapsed")
    ws = driver.a("working_secretary").person_id
    assert any(n.recipient_id == ws and "考核评议" in n.body for n in ended)

    # the year ends; the close is refused (and retried, not looped) until the evaluation is recorded
    sweep(db, sh(2027, 1, 1))
    assert fund_year_state(db, fy) == "disclosed"
    held = deadline(db, "community", c0.id, "year_close")
    assert (held.status, held.attempts, held.last_error.split(":")[0]) == ("open", 1, "year.evaluation_missing")
    driver.now = sh(2027, 1, 2, 10)
    refused = driver.fire(fy, "close_year", driver.a("finance"), entity_type="fund_year", check=False)
    assert not refused.ok and (refused.verdict.code, refused.verdict.article) == ("year.evaluation_missing",
                                                                                  "第十六条")
    driver.now = sh(2027, 1, 5, 10)
    out = driver.fire(fy, "evaluate", driver.a("working_secretary"), {"rating": "good", "comment": "程序规范"},
                      entity_type="fund_year")
    assert out.to_state == "disclosed"
    # recording the evaluation wakes the waiting close: the next sweep carries the balance over
    assert deadline(db, "community", c0.id, "year_close").next_attempt_at is None
    sweep(db, sh(2027, 1, 5, 10, 1))
    assert fund_year_state(db, fy) == "closed"
    [closing] = audit_events(db, "fund_year", fy, "close_year")
    assert closing.actor_label == "system"


def test_the_evaluation_is_recorded_once_in_any_state_after_the_report(db, city, driver):
    c0 = city.community(0)
    fy = fund_year_id(db, c0.id, 2026)
    ws = driver.a("working_secretary")
    driver.now = sh(2026, 11, 20, 10)
    early = driver.fire(fy, "evaluate", ws, {"rating": "good"}, entity_type="fund_year", check=False)
    assert not early.ok and early.verdict.code == "workflow.invalid_state" and early.verdict.article == "第十六条"
    driver.fire(fy, "submit_report", c0.people["secretary"], REPORT, entity_type="fund_year")
    driver.fire(fy, "start_disclosure", c0.people["secretary"], entity_type="fund_year")
    out = driver.fire(fy, "evaluate", ws, {"rating": "excellent", "comment": "报告翔实"}, entity_type="fund_year")
    assert out.to_state == "disclosing"
    twice = driver.fire(fy, "evaluate", ws, {"rating": "poor"}, entity_type="fund_year", check=False)
    assert not twice.ok and (twice.verdict.code, twice.verdict.article) == ("year.already_evaluated", "第十六条")
    from sqlalchemy import select

    from store.models import FundYear

    with db.uow(write=False) as uow:
        report = uow.session.execute(select(FundYear.report).where(FundYear.id == fy)).scalar_one()
    assert report["rating"] == "excellent" and report["evaluated_in"] == "disclosing"
    assert report["evaluated_by"] == ws.person_id
    # only the working committee secretary evaluates
    other = driver.fire(fy, "evaluate", driver.a("working_member1"), {"rating": "good"}, entity_type="fund_year",
                        check=False)
    assert other.status == 403


def test_a_community_that_never_started_is_escalated_at_12_20(db, city, driver):
    """Reported but not disclosing by 12-20: the escalation covers the state the evaluation used to be."""
    c1 = city.community(1)
    fy = reported(db, city, driver, 1)
    driver.now = sh(2026, 12, 3, 10)
    driver.fire(fy, "evaluate", driver.a("working_secretary"), {"rating": "good"}, entity_type="fund_year")
    sweep(db, end_of(2026, 12, 19))
    assert deadline(db, "community", c1.id, "disclosure_start_due").outcome == "overdue"
    [flag] = audit_events(db, "fund_year", fy, "disclosure_overdue")
    assert flag.from_state == flag.to_state == "reported"
    with db.uow(write=False) as uow:
        assert uow.session.query(Notification).filter(Notification.kind == "disclosure_overdue").count() >= 1
