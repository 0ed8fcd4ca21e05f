"""The scheduler's jobs, each declaring its own timing next to it, and the deadlines they make.

``scheduler.py`` only wires these into APScheduler (in-memory job store, ``coalesce=True``,
``max_instances=1``, ``misfire_grace_time=None``); everything a job does is here or in
``workflow.sweep``, so it runs the same from the scheduler, from ``fundflow scheduler --once`` and
from the tests. No job holds state: every deadline is a row, and every job is idempotent.

Deadlines this module creates lazily (insert-if-absent on the unique key
``(entity_type, entity_id, kind, ref)``, so two runs, or two processes, make each once):

============================  =================  ================================================
kind                          entity / ref       falls due
============================  =================  ================================================
``report_reminder``           community / year   09:00 of the ``policy.report_reminder_workdays``-th
                                                 working day before ``policy.report_due``
``report_due``                community / year   ``policy.report_due`` 00:00 (report before 12-01)
``disclosure_start_due``      community / year   ``policy.disclosure_due`` 00:00 (start before 12-20)
``year_close``                community / year   01-01 00:00 of the next year (fires ``close_year``
                                                 once the disclosure has run and the working
                                                 committee's evaluation is recorded; until then
                                                 retried with backoff)
``needs_collection``          community / Y-Qn   09:00 on the first day of each quarter (Art. 6)
``followup_due``              project / source   ``policy.followup_interval_workdays`` working days
                                                 after entering ``in_progress``, after the latest
                                                 follow-up, or after the previous reminder
============================  =================  ================================================

The fund-year deadlines hang on the *community* (not the fund-year row) on purpose: they are
calendar dates, not working-day counts, so the calendar import's recomputation (which recomputes
project and fund-year deadlines by working days) must leave them alone; the reminder, which does
count working days, is recomputed here by :func:`ensure_year_deadlines`.
"""
from __future__ import annotations

import contextlib
import datetime as dt
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import and_, exists, select
from sqlalchemy.orm import Session

from rules.calendar import WorkCalendar
from rules.policy import Policy
from store.calendar import load_calendar
from store.db import Database
from store.models import Deadline, FundYear, Organisation, Project
from workflow import clock
from workflow.deadlines import ACTIVE, deadline_row, insert_deadlines, next_followup
from workflow.engine import policy_of
from workflow.notify import Settings, deliver_pending
from workflow.sweep import Busy, SweepResult, lock_or_busy, sweep_backlog

log = logging.getLogger("fundflow.jobs")

YEAR_KINDS = ("report_reminder", "report_due", "disclosure_start_due", "year_close")


# ---------------------------------------------------------------------------------- the job table


@dataclass(frozen=True)
class JobSpec:
    id: str
    func: Callable[[Database, Callable[[], bool]], Any]
    """``func(db, should_stop)``."""
    trigger: str
    """APScheduler trigger name: ``interval`` or ``cron`` (cron times are Asia/Shanghai)."""
    trigger_args: dict[str, Any]
    description: str


JOBS: dict[str, JobSpec] = {}


def job(job_id: str, trigger: str, description: str, **trigger_args: Any) -> Callable[[Any], Any]:
    """Declare a scheduler job and its timing where the job is written."""
    def deco(fn: Callable[[Database, Callable[[], bool]], Any]) -> Callable[[Database, Callable[[], bool]], Any]:
        JOBS[job_id] = JobSpec(job_id, fn, trigger, dict(trigger_args), description)
        return fn
    return deco


@job("sweep", "interval", "扫描到期期限并触发(每 30 秒)", seconds=30)
def sweep_job(db: Database, should_stop: Callable[[], bool]) -> SweepResult:
    result = sweep_backlog(db, should_stop=should_stop)
    if result.handled or result.refused or result.errors or result.flagged:
        log.info("sweep: fired %d, escalated %d, notified %d, moot %d, refused %d, busy %d, errors %d, flagged %d",
                 result.fired, result.escalated, result.notified, result.moot, result.refused, result.busy,
                 result.errors, result.flagged)
    return result


@job("ensure_year_deadlines", "cron", "建立经费年度与跟进检查期限(每日 00:05)", hour=0, minute=5)
def ensure_year_deadlines_job(db: Database, should_stop: Callable[[], bool]) -> int:
    now = clock.now()
    made = ensure_year_deadlines(db, now)
    if not should_stop():
        made += ensure_followups(db, now, should_stop=should_stop)
    return made


@job("open_needs_collection", "cron", "建立每季度需求征集期限(每日 00:01)", hour=0, minute=1)
def needs_collection_job(db: Database, should_stop: Callable[[], bool]) -> int:
    return ensure_needs_collection(db, clock.now())


@job("deliver_notifications", "interval", "重试发送失败的邮件与群机器人消息(每 60 秒)", seconds=60)
def deliver_job(db: Database, should_stop: Callable[[], bool]) -> int:
    settings = Settings.safe_from_env()
    if not settings.any:
        return 0
    return deliver_pending(db, settings, should_stop=should_stop).sent


@job("sign_audit_root", "cron", "签署审计链每日签名根(每日 23:50;漏签的由启动时的补做签署)", hour=23, minute=50)
def sign_audit_root_job(db: Database, should_stop: Callable[[], bool]) -> int:
    """The day's signed root of every audit chain (workflow.anchors); without a key it logs and skips."""
    from workflow import anchors

    signed = anchors.sign_if_due(db)
    return 0 if signed is None else signed.seq


@dataclass
class RunResult:
    created: int = 0
    sweep: SweepResult = field(default_factory=SweepResult)


def run_once(db: Database, now: dt.datetime | None = None,
             should_stop: Callable[[], bool] | None = None) -> RunResult:
    """Everything once, as of ``now``: make the lazy deadlines, then sweep (what a new leader does first)."""
    stop = should_stop or (lambda: False)
    with clock.frozen(now) if now is not None else contextlib.nullcontext():
        at = clock.now()
        created = ensure_needs_collection(db, at) + ensure_year_deadlines(db, at)
        created += ensure_followups(db, at, should_stop=stop)
        result = RunResult(created=created, sweep=sweep_backlog(db, now, should_stop=stop))
        _catch_up_signing(db, at)
        return result


def _catch_up_signing(db: Database, at: dt.datetime) -> None:
    """A daily audit root missed while no scheduler ran is signed now (issue 12; workflow.anchors)."""
    from workflow import anchors

    try:
        anchors.sign_if_due(db, at, catch_up=True)
    except Exception:  # noqa: BLE001 - the deadlines matter more; the next run or the cron job signs
        log.exception("audit root catch-up signing failed")


# -------------------------------------------------------------------------------------- helpers


def local_instant(day: dt.date, hour: int = 0) -> dt.datetime:
    """``hour``:00 Asia/Shanghai of ``day``, in UTC."""
    return dt.datetime(day.year, day.month, day.day, hour, tzinfo=clock.SHANGHAI).astimezone(dt.UTC)


def month_day(year: int, md: str) -> dt.date:
    month, day = md.split("-")
    return dt.date(year, int(month), int(day))


def workday_before(calendar: WorkCalendar, day: dt.date, n: int) -> dt.date:
    """The N-th working day before ``day`` (``day`` itself is not counted)."""
    d, counted = day, 0
    while counted < n:
        d -= dt.timedelta(days=1)
        if calendar.is_workday(d):
            counted += 1
    return d


def year_policy(session: Session, fy: FundYear) -> Policy:
    return policy_of(session, fy.policy_version_id)


def _reminder(calendar: WorkCalendar, policy: Policy, year: int) -> tuple[dt.date, dt.datetime, bool]:
    due_day = month_day(year, policy.report_due)
    day = workday_before(calendar, due_day, policy.report_reminder_workdays)
    provisional = any(not calendar.is_loaded(y) for y in range(day.year, due_day.year + 1))
    return day, local_instant(day, 9), provisional


def year_rows(calendar: WorkCalendar, policy: Policy, community_id: int, year: int,
              now: dt.datetime) -> list[dict[str, Any]]:
    """The fund-year deadlines of one community's year (see the module docstring)."""
    ref = str(year)
    report = month_day(year, policy.report_due)
    disclosure = month_day(year, policy.disclosure_due)
    closing = dt.date(year + 1, 1, 1)
    r_day, r_due, r_prov = _reminder(calendar, policy, year)
    one = dt.timedelta(days=1)
    return [
        deadline_row("community", community_id, "report_reminder", ref, r_day, 0, r_due, r_prov, now),
        deadline_row("community", community_id, "report_due", ref, report - one, 0, local_instant(report), False, now),
        deadline_row("community", community_id, "disclosure_start_due", ref, disclosure - one, 0, local_instant(disclosure),
             False, now),
        deadline_row("community", community_id, "year_close", ref, closing - one, 0, local_instant(closing), False, now),
    ]


# ------------------------------------------------------------------------------------ fund years


def ensure_year_deadlines(db: Database, now: dt.datetime) -> int:
    """Make the deadlines of every fund year not yet closed; re-derive open reminders (calendar changes)."""
    with db.uow() as uow:
        s = uow.session
        calendar = load_calendar(s)
        # a closed community's frozen fund year owes no year-end (workflow.org)
        years = s.execute(select(FundYear.community_id, FundYear.year, FundYear.policy_version_id)
                          .join(Organisation, Organisation.id == FundYear.community_id)
                          .where(FundYear.state != "closed", Organisation.closed_on.is_(None))).all()
        have = {(int(c), k, r) for c, k, r in s.execute(
            select(Deadline.entity_id, Deadline.kind, Deadline.ref).where(
                Deadline.entity_type == "community", Deadline.kind.in_(YEAR_KINDS),
                Deadline.ref.in_(sorted({str(y) for _c, y, _p in years}) or [""]))).all()}
        rows = []
        for community_id, year, pv_id in years:
            for r in year_rows(calendar, policy_of(s, pv_id), int(community_id), int(year), now):
                if (r["entity_id"], r["kind"], r["ref"]) not in have:
                    rows.append(r)
        made = insert_deadlines(s, rows)
        _refresh_reminders(s, calendar)
        uow.commit()
    return made


def _refresh_reminders(session: Session, calendar: WorkCalendar) -> None:
    """A reminder counted over a year that has since been imported (or corrected) moves with it."""
    stmt = select(Deadline).where(Deadline.entity_type == "community", Deadline.kind == "report_reminder",
                                  Deadline.status == "open")
    if session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update(skip_locked=True)
    for dl in session.execute(stmt).scalars():
        fy = session.execute(select(FundYear).where(FundYear.community_id == dl.entity_id,
                                                    FundYear.year == int(dl.ref))).scalar_one_or_none()
        if fy is None:
            continue
        day, due, provisional = _reminder(calendar, year_policy(session, fy), fy.year)
        if (day, due, provisional) != (dl.start_date, dl.due_at, dl.provisional):
            dl.start_date, dl.due_at, dl.provisional = day, due, provisional


# ------------------------------------------------------------------------------- needs collection


def quarter_start(day: dt.date) -> dt.date:
    return dt.date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)


def next_quarter(start: dt.date) -> dt.date:
    return dt.date(start.year + (start.month == 10), 1 if start.month == 10 else start.month + 3, 1)


def ensure_needs_collection(db: Database, now: dt.datetime) -> int:
    """Needs collection deadlines of every community for this quarter and the next (Art. 6)."""
    this = quarter_start(clock.local_date(now))
    quarters = [this, next_quarter(this)]
    with db.uow() as uow:
        s = uow.session
        communities = [int(c) for c in s.execute(select(Organisation.id).where(
            Organisation.level == "community", Organisation.closed_on.is_(None))).scalars()]
        refs = [f"{q.year}-Q{(q.month - 1) // 3 + 1}" for q in quarters]
        have = {(int(c), r) for c, r in s.execute(select(Deadline.entity_id, Deadline.ref).where(
            Deadline.entity_type == "community", Deadline.kind == "needs_collection", Deadline.ref.in_(refs))).all()}
        rows = [deadline_row("community", c, "needs_collection", ref, q, 0, local_instant(q, 9), False, now)
                for c in communities for q, ref in zip(quarters, refs, strict=True) if (c, ref) not in have]
        made = insert_deadlines(s, rows)
        uow.commit()
    return made


# ------------------------------------------------------------------------------------- follow-ups


def ensure_followups(db: Database, now: dt.datetime, chunk: int = 200,
                     should_stop: Callable[[], bool] | None = None) -> int:
    """A ``followup_due`` deadline for every project being carried out that has none open."""
    open_followup = exists().where(and_(Deadline.entity_type == "project", Deadline.entity_id == Project.id,
                                        Deadline.kind == "followup_due", Deadline.status == "open"))
    with db.uow(write=False) as uow:
        ids = [int(i) for i in uow.session.execute(
            select(Project.id).where(Project.state.in_(ACTIVE), ~open_followup).order_by(Project.id)).scalars()]
    made = 0
    for start in range(0, len(ids), chunk):
        if should_stop and should_stop():
            break
        made += _followups_for(db, ids[start:start + chunk], now)
    return made


def _followups_for(db: Database, ids: Iterable[int], now: dt.datetime) -> int:
    made = 0
    with db.uow() as uow:
        s = uow.session
        for pid in ids:
            try:
                project = lock_or_busy(s, Project, pid)
            except Busy:
                continue  # a user is acting on it; the next run makes it
            if project is not None:
                made += next_followup(s, project, now)
        uow.commit()
    return made
