"""The fund year's deadlines (Art. 5, 6, 13, 15, 16) and the lazy jobs that make them once."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select

from store.models import Deadline, FundYear, LedgerEntry
from tests.workflow.test_scheduler_support import (
    audit_events,
    deadline,
    deadlines,
    end_of,
    fund_year_id,
    fund_year_state,
    notifications,
    sh,
)
from workflow.jobs import ensure_needs_collection, ensure_year_deadlines, run_once
from workflow.sweep import sweep


def _count(db, kind: str) -> int:  # type: ignore[no-untyped-def]
    with db.uow(write=False) as uow:
        return int(uow.session.execute(select(func.count()).select_from(Deadline)
                                       .where(Deadline.kind == kind)).scalar_one())


def test_year_deadlines_are_made_once_with_policy_dates(db, city):
    now = sh(2026, 11, 1, 9)
    made = ensure_year_deadlines(db, now)
    assert made == 4 * len(city.communities)
    assert ensure_year_deadlines(db, now) == 0
    c = city.community(0).id
    reminder = deadline(db, "community", c, "report_reminder")
    # 5 working days before 12-01 (Tue): 11-30, 27, 26, 25, 24 → reminder on Tuesday 11-24, 09:00
    assert (reminder.ref, reminder.start_date, reminder.due_at) == ("2026", dt.date(2026, 11, 24), sh(2026, 11, 24, 9))
    assert deadline(db, "community", c, "report_due").due_at == end_of(2026, 11, 30)
    assert deadline(db, "community", c, "disclosure_start_due").due_at == end_of(2026, 12, 19)
    assert deadline(db, "community", c, "year_close").due_at == sh(2027, 1, 1)
    assert all(not d.provisional for k in ("report_reminder", "report_due", "year_close")
               for d in deadlines(db, "community", c, k))


def test_fund_year_from_reminder_to_carry_over(db, city, driver):
    c0, c1 = city.community(0), city.community(1)
    fy0, fy1 = fund_year_id(db, c0.id, 2026), fund_year_id(db, c1.id, 2026)
    run_once(db, sh(2026, 11, 1, 9))

    sweep(db, sh(2026, 11, 24, 9) - dt.timedelta(seconds=1))
    assert notifications(db, "report_reminder") == []
    sweep(db, sh(2026, 11, 24, 9))
    reminded = notifications(db, "report_reminder")
    assert {n.recipient_id for n in reminded} == {c.people[k].person_id for c in (c0, c1)
                                                  for k in ("secretary", "staff")}

    # community 0 reports in time, community 1 does not
    driver.now = sh(2026, 11, 26, 10)
    driver.fire(fy0, "submit_report", c0.people["secretary"], {"summary": "全年完成项目 3 个。"},
                entity_type="fund_year")
    sweep(db, end_of(2026, 11, 30))
    assert deadline(db, "community", c0.id, "report_due").outcome == "moot"
    assert deadline(db, "community", c1.id, "report_due").outcome == "overdue"
    [flag] = audit_events(db, "fund_year", fy1, "report_overdue")  # the overdue flag, in the audit trail
    assert flag.from_state == flag.to_state == "open"
    assert audit_events(db, "fund_year", fy0, "report_overdue") == []
    assert {n.recipient_id for n in notifications(db, "report_overdue")} == {
        c1.people["secretary"].person_id, driver.a("working_secretary").person_id}

    driver.now = sh(2026, 12, 2, 10)
    driver.fire(fy0, "evaluate", driver.a("working_secretary"), {"rating": "good"}, entity_type="fund_year")
    driver.fire(fy0, "start_disclosure", c0.people["secretary"], entity_type="fund_year")
    disclosure = deadline(db, "fund_year", fy0, "disclosure")
    assert disclosure.due_at == end_of(2026, 12, 9)  # 5 working days after Wednesday 12-02
    sweep(db, end_of(2026, 12, 9))
    assert fund_year_state(db, fy0) == "disclosed"

    sweep(db, end_of(2026, 12, 19))
    assert deadline(db, "community", c0.id, "disclosure_start_due").outcome == "moot"
    assert deadline(db, "community", c1.id, "disclosure_start_due").outcome == "overdue"
    assert len(audit_events(db, "fund_year", fy1, "disclosure_overdue")) == 1

    # the year ends: community 0 is carried over by the system; community 1 waits (backoff, no loop)
    sweep(db, sh(2027, 1, 1) - dt.timedelta(seconds=1))
    assert fund_year_state(db, fy0) == "disclosed"
    sweep(db, sh(2027, 1, 1))
    assert fund_year_state(db, fy0) == "closed"
    [closing] = audit_events(db, "fund_year", fy0, "close_year")
    assert closing.actor_label == "system"
    with db.uow(write=False) as uow:
        s = uow.session
        nxt = s.execute(select(FundYear).where(FundYear.community_id == c0.id, FundYear.year == 2027)).scalar_one()
        carry_out = s.execute(select(LedgerEntry.amount_fen).where(LedgerEntry.fund_year_id == fy0,
                                                                   LedgerEntry.kind == "carry_out")).scalar_one()
    assert nxt.carry_in_fen == carry_out > 0
    [opened] = audit_events(db, "fund_year", nxt.id, "open")
    assert opened.at == sh(2027, 1, 1)  # the sweep's time, through the one clock
    held = deadline(db, "community", c1.id, "year_close")
    assert (held.status, held.attempts, held.last_error.split(":")[0]) == ("open", 1, "year.disclosure_pending")
    assert held.next_attempt_at == sh(2027, 1, 1) + dt.timedelta(minutes=1)
    sweep(db, sh(2027, 1, 1, 0, 0, 30))
    assert deadline(db, "community", c1.id, "year_close").attempts == 1
    for hours in (1, 2, 3, 4):  # capped backoff: at most one attempt an hour from now on
        sweep(db, sh(2027, 1, 1) + dt.timedelta(hours=hours, minutes=5))
    held = deadline(db, "community", c1.id, "year_close")
    assert held.attempts <= 8 and held.next_attempt_at - sh(2027, 1, 1, 4, 5) <= dt.timedelta(hours=1)
    assert fund_year_state(db, fy1) == "open"

    # the new year's deadlines appear with the daily job; 2027 has no schedule: the reminder is provisional
    run_once(db, sh(2027, 1, 1, 0, 5))
    reminder = [d for d in deadlines(db, "community", c0.id, "report_reminder") if d.ref == "2027"]
    assert len(reminder) == 1 and reminder[0].provisional


def test_needs_collection_opens_each_quarter_once(db, city):
    assert ensure_needs_collection(db, sh(2026, 3, 31, 23)) == 2 * len(city.communities)  # Q1 and Q2
    assert ensure_needs_collection(db, sh(2026, 3, 31, 23, 30)) == 0
    q2 = deadline(db, "community", city.community(0).id, "needs_collection")
    assert (q2.ref, q2.due_at) == ("2026-Q2", sh(2026, 4, 1, 9))
    sweep(db, sh(2026, 3, 31, 23))  # Q1 opened on 01-01: caught up now
    q1 = notifications(db, "needs_collection")
    assert len(q1) == 2 * len(city.communities) and all("第一季度" in n.title for n in q1)
    sweep(db, sh(2026, 4, 1, 9))
    sent = notifications(db, "needs_collection")
    assert len(sent) == 4 * len(city.communities)
    assert {n.recipient_id for n in sent[len(q1):]} == {
        c.people[k].person_id for c in city.communities for k in ("secretary", "staff")}
    assert "第二季度" in sent[-1].title
    before = _count(db, "needs_collection")
    run_once(db, sh(2026, 4, 1, 10))  # Q3 is made ahead, nothing repeats
    assert _count(db, "needs_collection") == before + len(city.communities)
    assert len(notifications(db, "needs_collection")) == 4 * len(city.communities)
