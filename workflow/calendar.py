"""The holiday calendar's effects on the workflow: importing a year's official schedule (audited) and
recomputing the deadlines that depend on it, each recomputation audited on its project's or fund year's
chain. ``store.calendar`` keeps the calendar's tables (seeding, loading, the cache) and imports nothing of
``workflow``.

``fundflow calendar import FILE`` → :func:`import_schedule` (file format: ``rules.calendar`` module
docstring). The import replaces the year's rows, records an audit event on the ``('calendar', year)``
chain, and recomputes every open provisional deadline (and, when a loaded year is corrected, every open
deadline whose window touches that year), each with a ``deadline_recomputed`` event.
"""
from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass

from sqlalchemy import delete, insert, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from rules.calendar import Schedule, WorkCalendar, parse_schedule
from store.calendar import _is_postgres, build_calendar, invalidate_cache
from store.models import CalendarDay, CalendarYear, Deadline, FundYear, Notice, Project
from workflow import audit, clock


def compute_due(calendar: WorkCalendar, start: dt.date, workdays: int) -> tuple[dt.datetime, bool]:
    """(due_at, provisional): 24:00 Asia/Shanghai of the N-th working day after ``start``, in UTC."""
    result = calendar.workday_after(start, workdays)
    return clock.end_of_local_day(result.date), result.provisional


# ------------------------------------------------------------------------------------ importing


@dataclass(frozen=True)
class ImportResult:
    year: int
    holidays: int
    makeups: int
    recomputed: int
    replaced: bool = False
    """The year was already loaded (its previous schedule was replaced)."""


def import_schedule(session: Session, text: str, source: str, actor_label: str = "city_admin",
                    now: dt.datetime | None = None) -> ImportResult:
    """Load one year's official schedule (raises rules.calendar.ScheduleError for a bad file).

    The caller commits. Every day of the year is rewritten; deadlines are recomputed.
    """
    schedule: Schedule = parse_schedule(text)
    now = now or clock.now()
    year = schedule.year
    first, last = dt.date(year, 1, 1), dt.date(year, 12, 31)
    previous = session.get(CalendarYear, year)
    replaced = previous is not None
    old_source = previous.source if previous is not None else ""
    session.execute(delete(CalendarDay).where(CalendarDay.day >= first, CalendarDay.day <= last))
    session.execute(insert(CalendarDay), [{"day": d, "is_workday": w, "kind": k, "name": n}
                                          for d, w, k, n in schedule.days()])
    if previous is None:
        session.add(CalendarYear(year=year, source=source[:200], loaded_at=now))
    else:
        previous.source = source[:200]
        previous.loaded_at = now
    holidays, makeups = schedule.holidays, schedule.makeups
    audit.record(session, "calendar", year, event="calendar_imported", at=now, actor_label=actor_label,
                 payload={"year": year, "source": source,
                          "previous_source": old_source,
                          "sha256": hashlib.sha256(text.encode("utf-8")).hexdigest(),
                          "holidays": [e.day.isoformat() for e in holidays],
                          "makeups": [e.day.isoformat() for e in makeups]})
    session.flush()
    invalidate_cache()
    calendar = build_calendar(session)
    recomputed = _recompute(session, now, calendar, touching_year=year if replaced else None)
    invalidate_cache()
    return ImportResult(year, len(holidays), len(makeups), recomputed, replaced)


# ---------------------------------------------------------------------------------- recomputing


def recompute_provisional_deadlines(session: Session, now: dt.datetime,
                                    calendar: WorkCalendar | None = None) -> int:
    """Recompute every open provisional deadline; returns how many changed (each audited)."""
    return _recompute(session, now, calendar or build_calendar(session))


def _recompute(session: Session, now: dt.datetime, calendar: WorkCalendar, touching_year: int | None = None) -> int:
    cond: ColumnElement[bool] = Deadline.provisional.is_(True)
    if touching_year is not None:
        # A corrected year: also open deadlines whose window (start_date, due] overlaps it.
        y_end = clock.end_of_local_day(dt.date(touching_year - 1, 12, 31))
        cond = or_(cond, (Deadline.start_date < dt.date(touching_year, 12, 31)) & (Deadline.due_at > y_end))
    candidates = session.execute(
        select(Deadline.entity_type, Deadline.entity_id, Deadline.id)
        # deadlines fixed to a calendar date (no working-day count) have nothing to recompute
        .where(Deadline.status == "open", Deadline.workdays >= 1, cond)
        .order_by(Deadline.entity_type, Deadline.entity_id, Deadline.id)).all()
    by_owner: dict[tuple[str, int], list[int]] = {}
    for etype, eid, did in candidates:
        by_owner.setdefault((etype, eid), []).append(did)
    pg = _is_postgres(session)
    changed = 0
    for (etype, eid), ids in by_owner.items():
        owner = _lock_owner(session, etype, eid, pg)
        if owner is None:
            continue
        dl_stmt = (select(Deadline).where(Deadline.id.in_(ids), Deadline.status == "open").order_by(Deadline.id)
                   .execution_options(populate_existing=True))
        if pg:
            dl_stmt = dl_stmt.with_for_update()
        for deadline in session.execute(dl_stmt).scalars():
            new_due, provisional = compute_due(calendar, deadline.start_date, deadline.workdays)
            old_due = deadline.due_at
            if new_due == old_due and provisional == deadline.provisional:
                continue
            notice_stmt = select(Notice).where(Notice.ends_at == old_due)
            notice_stmt = notice_stmt.where(
                Notice.project_id == eid if etype == "project" else Notice.fund_year_id == eid)
            for notice in session.execute(notice_stmt).scalars():
                notice.ends_at = new_due
                notice.provisional = provisional
            deadline.due_at = new_due
            deadline.provisional = provisional
            audit.append(session, owner, entity_type=etype, entity_id=eid, event="deadline_recomputed", at=now,
                         actor_label="system", from_state=owner.state, to_state=owner.state,
                         payload={"deadline_id": deadline.id, "kind": deadline.kind,
                                  "old_due_at": old_due.isoformat(), "new_due_at": new_due.isoformat(),
                                  "provisional": provisional})
            changed += 1
    session.flush()
    return changed


def _lock_owner(session: Session, etype: str, eid: int, pg: bool) -> Project | FundYear | None:
    """The deadline's project or fund year, locked (FOR UPDATE on PostgreSQL) for its audit chain."""
    if etype == "project":
        pstmt = select(Project).where(Project.id == eid).execution_options(populate_existing=True)
        return session.execute(pstmt.with_for_update() if pg else pstmt).scalar_one_or_none()
    if etype == "fund_year":
        fstmt = select(FundYear).where(FundYear.id == eid).execution_options(populate_existing=True)
        return session.execute(fstmt.with_for_update() if pg else fstmt).scalar_one_or_none()
    return None
