"""Time travel: one project through both notice periods, an overdue approval and the follow-ups,
across the 2025 National Day and 2026 Spring Festival / Qingming / Labour Day holidays — every
deadline equal to the official calendar's (国务院办公厅 schedules: 2025 National Day 10-01..08 off,
Saturday 10-11 a make-up working day; 2026 Spring Festival 02-15..23 off, Saturday 02-14 and 02-28
working; Qingming 04-04..06 off; Labour Day 05-01..05 off, Saturday 05-09 working).

Then the year with no schedule loaded (2027): provisional deadlines, flagged once to the city's
administrators, recomputed by ``fundflow calendar import``.
"""
from __future__ import annotations

import datetime as dt
from pathlib import Path

from click.testing import CliRunner
from sqlalchemy import select

from store.models import Deadline, Notice
from tests.workflow.test_scheduler_support import (
    audit_events,
    deadline,
    deadlines,
    end_of,
    notifications,
    sh,
)
from workflow.demo import open_years
from workflow.jobs import run_once
from workflow.sweep import sweep

SECOND = dt.timedelta(seconds=1)
ROOT = Path(__file__).resolve().parents[2]


def _fire_at(driver, when, pid, trigger, actor, payload=None, reason=""):  # type: ignore[no-untyped-def]
    driver.now = when
    return driver.fire(pid, trigger, actor, payload, reason=reason)


def test_project_through_the_holidays(db, city, driver):
    open_years(db, city, [2025])
    sec, sup1, sup2 = driver.a("secretary"), driver.a("supervisor1"), driver.a("supervisor2")
    wm1, leader, director, finance = (driver.a("working_member1"), driver.a("working_secretary"),
                                      driver.a("director"), driver.a("finance"))
    driver.now = sh(2025, 9, 22, 9)
    pid = driver.propose(year=2025)
    driver.fire(pid, "submit_preliminary", sec)
    driver.fire(pid, "grant_preliminary", wm1)

    # -- notice period over the National Day: 3 working days after 09-30 end on Saturday 10-11 (调休)
    _fire_at(driver, sh(2025, 9, 30, 10), pid, "record_meeting", sec, driver.meeting())
    publicity = deadline(db, "project", pid, "publicity")
    assert publicity.due_at == end_of(2025, 10, 11)
    assert (publicity.start_date, publicity.workdays, publicity.provisional) == (dt.date(2025, 9, 30), 3, False)
    with db.uow(write=False) as uow:
        notice = uow.session.execute(select(Notice).where(Notice.project_id == pid)).scalar_one()
    assert notice.ends_at == publicity.due_at
    _fire_at(driver, sh(2025, 10, 9, 10), pid, "signoff", sup1, {"stage": "declaration"})
    run_once(db, end_of(2025, 10, 11) - SECOND)
    assert driver.state(pid) == "publicity"
    result = run_once(db, end_of(2025, 10, 11)).sweep
    assert result.fired == 1 and driver.state(pid) == "ready_to_submit"
    [elapsed] = audit_events(db, "project", pid, "publicity_elapsed")
    assert (elapsed.actor_label, elapsed.at) == ("system", end_of(2025, 10, 11))
    assert len(notifications(db, "publicity_elapsed")) == 1  # the community secretary

    # -- approval over the Spring Festival: received 02-12, 5 working days end 02-26 (02-14 调休 counts)
    _fire_at(driver, sh(2026, 2, 12, 10), pid, "submit", sec)
    approval = deadline(db, "project", pid, "approval_due")
    assert approval.due_at == end_of(2026, 2, 26)
    # (the sweeps below also handle the 2025 fund-year deadlines: report and disclosure overdue)
    sweep(db, end_of(2026, 2, 26) - SECOND)
    assert deadline(db, "project", pid, "approval_due").status == "open"
    sweep(db, end_of(2026, 2, 26))
    approval = deadline(db, "project", pid, "approval_due")
    assert (approval.status, approval.outcome, approval.fired_at) == ("fired", "escalated", end_of(2026, 2, 26))
    assert driver.state(pid) == "pending_approval"  # silence is never consent
    overdue = notifications(db, "approval_overdue")
    people = {n.recipient_id for n in overdue}
    assert people == {leader.person_id, director.person_id, sup1.person_id, sup2.person_id}
    [escalation] = audit_events(db, "project", pid, "approval_overdue")
    assert (escalation.from_state, escalation.to_state) == ("pending_approval", "pending_approval")
    sweep(db, end_of(2026, 2, 26) + dt.timedelta(days=3))
    assert len(notifications(db, "approval_overdue")) == 4
    assert len(audit_events(db, "project", pid, "approval_overdue")) == 1

    _fire_at(driver, sh(2026, 3, 2, 9), pid, "record_board_meeting", wm1, driver.board())
    driver.fire(pid, "approve", leader)
    driver.fire(pid, "approve", director)
    assert driver.state(pid) == "in_progress"
    assert deadline(db, "project", pid, "approval_due").status == "fired"

    # -- follow-ups every 20 working days: from 03-02 → 03-30; from a visit on 03-25 → 04-23 (Qingming)
    run_once(db, sh(2026, 3, 2, 12))
    first = deadline(db, "project", pid, "followup_due")
    assert (first.start_date, first.due_at) == (dt.date(2026, 3, 2), end_of(2026, 3, 30))
    _fire_at(driver, sh(2026, 3, 25, 15), pid, "record_followup", wm1,
             {"visited_on": "2026-03-25", "notes": "现场查看,施工进度正常。"})
    assert deadline(db, "project", pid, "followup_due").status == "cleared"
    run_once(db, sh(2026, 3, 26, 0, 5))
    second = deadline(db, "project", pid, "followup_due")
    assert (second.start_date, second.due_at, second.status) == (dt.date(2026, 3, 25), end_of(2026, 4, 23), "open")
    run_once(db, end_of(2026, 4, 23) - SECOND)
    assert deadline(db, "project", pid, "followup_due").status == "open"
    run_once(db, end_of(2026, 4, 23))
    assert deadlines(db, "project", pid, "followup_due")[1].outcome == "notified"
    reminded = notifications(db, "followup_due")
    assert {n.recipient_id for n in reminded} == {wm1.person_id, driver.a("working_member2").person_id}
    third = deadline(db, "project", pid, "followup_due")  # the next period counts on from the reminder
    assert (third.start_date, third.due_at) == (dt.date(2026, 4, 23), end_of(2026, 5, 25))

    # -- completion notice over Labour Day: 04-30 + 3 working days → 05-08; the write-off is missing
    _fire_at(driver, sh(2026, 4, 27, 9), pid, "report_completion", sec, {"summary": "项目已完工"})
    driver.fire(pid, "signoff", sup1, {"stage": "acceptance"})
    driver.fire(pid, "accept", wm1, driver.acceptance(0))
    driver.pay_all(pid, 0)
    _fire_at(driver, sh(2026, 4, 30, 10), pid, "close_settlement", finance)
    completion = deadline(db, "project", pid, "completion_publicity")
    assert completion.due_at == end_of(2026, 5, 8)
    sweep(db, end_of(2026, 5, 8) - SECOND)
    assert deadline(db, "project", pid, "completion_publicity").attempts == 0
    refused = sweep(db, end_of(2026, 5, 8))
    assert refused.refused >= 1 and driver.state(pid) == "completion_publicity"
    completion = deadline(db, "project", pid, "completion_publicity")
    assert completion.status == "open" and completion.attempts == 1
    assert completion.next_attempt_at == end_of(2026, 5, 8) + dt.timedelta(minutes=1)
    assert completion.last_error.startswith("supervision.")
    # backing off: the next sweeps leave it alone instead of retrying in a loop
    sweep(db, end_of(2026, 5, 8) + dt.timedelta(seconds=30))
    assert deadline(db, "project", pid, "completion_publicity").attempts == 1
    sweep(db, end_of(2026, 5, 8) + dt.timedelta(minutes=1))
    completion = deadline(db, "project", pid, "completion_publicity")
    assert completion.attempts == 2
    assert completion.next_attempt_at == end_of(2026, 5, 8) + dt.timedelta(minutes=3)
    _fire_at(driver, sh(2026, 5, 9, 9), pid, "signoff", sup2, {"stage": "write_off"})
    # the write-off wakes the backed-off deadline: the very next sweep tries it again
    assert deadline(db, "project", pid, "completion_publicity").next_attempt_at is None
    sweep(db, sh(2026, 5, 9, 10))
    assert driver.state(pid) == "closed"
    completion = deadline(db, "project", pid, "completion_publicity")
    assert (completion.status, completion.attempts, completion.outcome) == ("fired", 2, "transitioned")
    assert completion.fired_at == sh(2026, 5, 9, 10)
    assert len(audit_events(db, "project", pid, "completion_elapsed")) == 1

    # the open follow-up reminder of a project that has moved on is cleared, not sent
    sweep(db, end_of(2026, 5, 25))
    last = deadline(db, "project", pid, "followup_due")
    assert (last.status, last.outcome) == ("cleared", "moot")
    assert len(notifications(db, "followup_due")) == 2


def test_voucher_notice_over_spring_festival(db, city, driver):
    """A no-invoice payment's post-payment notice is a deadline: 02-13 + 3 working days → 02-25."""
    driver.now = sh(2026, 1, 5, 9)
    pid = driver.new_project("settlement", title="困难老人助餐服务", category="hardship", amount="9000.00",
                             beneficiaries=12, is_aid=True, contractor="张桂兰", contractor_kind="individual")
    driver.now = sh(2026, 2, 13, 10)
    driver.pay_all(pid, 0, voucher=True)
    [dl] = deadlines(db, "project", pid, "voucher_notice")
    assert (dl.start_date, dl.workdays, dl.due_at, dl.event) == (dt.date(2026, 2, 13), 3, end_of(2026, 2, 25), "")
    assert dl.ref.startswith("payment_item:")
    assert sweep(db, end_of(2026, 2, 25) - SECOND).notified == 0
    result = sweep(db, end_of(2026, 2, 25))
    assert result.notified == 1
    assert {n.recipient_id for n in notifications(db, "voucher_notice_elapsed")} == {
        driver.a("secretary").person_id, driver.a("finance").person_id}
    [event] = audit_events(db, "project", pid, "voucher_notice_elapsed")
    assert event.payload["payment_item_id"] == int(dl.ref.split(":")[1])
    assert sweep(db, end_of(2026, 2, 27)).notified == 0


def test_2027_without_a_schedule_is_provisional_flagged_once_then_recomputed(db, city, driver):
    open_years(db, city, [2027])
    sec = driver.a("secretary")
    driver.now = sh(2026, 12, 28, 9)
    pid = driver.propose()
    driver.fire(pid, "submit_preliminary", sec)
    driver.fire(pid, "grant_preliminary", driver.a("working_member1"))
    _fire_at(driver, sh(2026, 12, 30, 10), pid, "record_meeting", sec, driver.meeting())
    dl = deadline(db, "project", pid, "publicity")
    # weekday rule only: 12-31, (Fri) 01-01, (Mon) 01-04
    assert (dl.provisional, dl.due_at) == (True, end_of(2027, 1, 4))

    run_once(db, sh(2026, 12, 30, 11))
    flags = notifications(db, "deadline_provisional")
    admin = city.admin.person_id
    flagged = {n.deadline_id for n in flags}
    assert dl.id in flagged and {n.recipient_id for n in flags} == {admin}
    reminders = [d for c in city.communities for d in deadlines(db, "community", c.id, "report_reminder")
                 if d.ref == "2027"]
    assert reminders and all(r.provisional for r in reminders)
    assert {r.id for r in reminders} <= flagged  # the 2027 report reminders count working days too
    assert len(flags) == len(flagged)  # once per deadline
    again = run_once(db, sh(2026, 12, 30, 12))
    assert again.sweep.flagged == 0 and len(notifications(db, "deadline_provisional")) == len(flags)

    # the city imports the 2027 schedule (元旦 01-01..03 off): the period now ends 01-05
    result = CliRunner().invoke(__import__("cli").main, ["calendar", "import", str(ROOT / "docs/calendar-2027.example.txt")],
                                env={"DATABASE_URL": db.url})
    assert result.exit_code == 0, result.output
    dl = deadline(db, "project", pid, "publicity")
    assert (dl.provisional, dl.due_at) == (False, end_of(2027, 1, 5))
    with db.uow(write=False) as uow:
        notice = uow.session.execute(select(Notice).where(Notice.project_id == pid)).scalar_one()
    assert (notice.ends_at, notice.provisional) == (end_of(2027, 1, 5), False)
    assert len(audit_events(db, "project", pid, "deadline_recomputed")) == 1
    run_once(db, sh(2026, 12, 31, 0, 5))  # the daily job re-derives the reminders
    for r in reminders:
        with db.uow(write=False) as uow:
            fresh = uow.session.get(Deadline, r.id)
        assert fresh is not None and fresh.provisional is False

    driver.fire(pid, "signoff", driver.a("supervisor1"), {"stage": "declaration"})
    assert sweep(db, end_of(2027, 1, 5) - SECOND).fired == 0
    assert sweep(db, end_of(2027, 1, 5)).fired == 1
    assert driver.state(pid) == "ready_to_submit"
