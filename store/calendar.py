"""The holiday calendar in the database: seeding, importing a year's schedule, loading, recomputing.

* ``calendar_days`` holds one row per day of every *loaded* year; ``calendar_years`` lists the
  loaded years and where their schedule came from. Years not listed follow the weekday rule and
  every deadline over them is provisional (``rules.calendar``).
* At first start ``ensure_seeded`` loads 2004–2026 from the ``chinesecalendar`` package.
  Kinds of the seeded rows: ``holiday`` for every day off that chinesecalendar names as part of a
  public-holiday break, whether it falls on a weekday or a weekend (e.g. Saturday 2025-10-04 of
  the National Day break); ``weekend`` for other Saturdays and Sundays off; ``makeup`` for a
  Saturday or Sunday that is a working day (调休); ``workday`` otherwise. Names are Chinese
  (元旦, 春节, 清明节, 劳动节, 端午节, 中秋节, 国庆节; 2015's 抗战胜利纪念日); a make-up day is
  named after its holiday plus 调休 (e.g. 国庆节调休), or just 调休 when unnamed.
* Later years are loaded by ``fundflow calendar import FILE`` → :func:`import_schedule` (file
  format: ``rules.calendar`` module docstring). The import replaces the year's rows, records an
  audit event on the ``('calendar', year)`` chain, and recomputes every open provisional deadline
  (and, when a loaded year is corrected, every open deadline whose window touches that year),
  each with a ``deadline_recomputed`` event on its project's or fund year's chain.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, func, insert, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from rules.calendar import Schedule, WorkCalendar, parse_schedule
from store.models import CalendarDay, CalendarYear, Deadline, FundYear, Notice, Project
from workflow import audit, clock

CHINESECALENDAR_SOURCE = "chinesecalendar 1.11.0"
SEED_YEARS = range(2004, 2027)

HOLIDAY_NAMES_ZH = {
    "New Year's Day": "元旦",
    "Spring Festival": "春节",
    "Tomb-sweeping Day": "清明节",
    "Labour Day": "劳动节",
    "Dragon Boat Festival": "端午节",
    "Mid-autumn Festival": "中秋节",
    "National Day": "国庆节",
    "Anti-Fascist 70th Day": "抗战胜利纪念日",
}
_ADVISORY_SEED_LOCK = 7234002


def _is_postgres(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


# ------------------------------------------------------------------------------------- seeding


def chinesecalendar_rows(year: int) -> list[dict[str, Any]]:
    """Every day of ``year`` as calendar_days rows, from the chinesecalendar package."""
    import chinese_calendar as cc

    # The package's own dicts, read directly (its per-day functions are ~10x slower):
    # ``workdays`` = make-up working days, ``holidays`` = days off of a holiday break; both → name.
    makeup_days: dict[dt.date, str] = cc.workdays
    holiday_days: dict[dt.date, str] = cc.holidays
    rows: list[dict[str, Any]] = []
    day = dt.date(year, 1, 1)
    one = dt.timedelta(days=1)
    while day.year == year:
        weekend = day.weekday() >= 5
        english = makeup_days.get(day)
        if english is not None:
            is_workday = True
        else:
            english = holiday_days.get(day)
            is_workday = english is None and not weekend
        zh = HOLIDAY_NAMES_ZH.get(str(english), str(english)) if english else ""
        if is_workday:
            kind, name = ("makeup", f"{zh}调休" if zh else "调休") if weekend else ("workday", "")
        elif english is not None or not weekend:
            kind, name = "holiday", zh or "节假日"
        else:
            kind, name = "weekend", ""
        rows.append({"day": day, "is_workday": is_workday, "kind": kind, "name": name[:32]})
        day += one
    return rows


def seed_from_chinesecalendar(session: Session, years: Iterable[int] = SEED_YEARS) -> int:
    """Load the given years from chinesecalendar (bulk insert); years already loaded are left
    alone (an imported official schedule wins). Returns the number of years written."""
    wanted = sorted(set(years))
    present = set(session.execute(select(CalendarYear.year).where(CalendarYear.year.in_(wanted))).scalars())
    todo = [y for y in wanted if y not in present]
    if not todo:
        return 0
    rows: list[dict[str, Any]] = []
    for y in todo:
        rows.extend(chinesecalendar_rows(y))
    # Stale day rows of a year that is not listed as loaded would block the insert; clear them.
    session.execute(delete(CalendarDay).where(
        or_(*[CalendarDay.day.between(dt.date(y, 1, 1), dt.date(y, 12, 31)) for y in todo])))
    session.execute(insert(CalendarDay), rows)
    at = clock.now()
    session.execute(insert(CalendarYear), [{"year": y, "source": CHINESECALENDAR_SOURCE, "loaded_at": at}
                                           for y in todo])
    session.flush()
    invalidate_cache()
    return len(todo)


def ensure_seeded(session: Session) -> int:
    """Seed 2004–2026 when no year is loaded yet (first start); returns the number of years seeded."""
    if _is_postgres(session):
        # Two processes starting at once must not both seed.
        session.execute(select(func.pg_advisory_xact_lock(_ADVISORY_SEED_LOCK)))
    if session.execute(select(func.count()).select_from(CalendarYear)).scalar_one():
        return 0
    return seed_from_chinesecalendar(session)


# ------------------------------------------------------------------------------------- loading

_cache_lock = threading.Lock()
_cache: dict[tuple[Any, ...], WorkCalendar] = {}
"""fingerprint → calendar; one entry per database the process reads (one in production; a benchmark or a
test run that serves SQLite and PostgreSQL side by side would otherwise rebuild it on every switch)."""


def invalidate_cache() -> None:
    with _cache_lock:
        _cache.clear()


def _fingerprint(session: Session) -> tuple[Any, ...]:
    count, latest = session.execute(
        select(func.count(), func.max(CalendarYear.loaded_at)).select_from(CalendarYear)).one()
    return (session.get_bind().engine.url.render_as_string(hide_password=True), int(count), latest)


def build_calendar(session: Session) -> WorkCalendar:
    """A fresh WorkCalendar from the rows visible to ``session`` (no cache)."""
    loaded = set(session.execute(select(CalendarYear.year)).scalars())
    days = {d: bool(w) for d, w in session.execute(select(CalendarDay.day, CalendarDay.is_workday))
            if d.year in loaded}
    return WorkCalendar(days, loaded)


def load_calendar(session: Session) -> WorkCalendar:
    """The WorkCalendar, cached in-process; one cheap query per call notices another process's import."""
    fp = _fingerprint(session)
    cached = _cache.get(fp)
    if cached is not None:
        return cached
    calendar = build_calendar(session)
    with _cache_lock:
        stale = [k for k in _cache if k[0] == fp[0]]  # this database's older calendars
        for key in stale if len(_cache) < 8 else list(_cache):
            del _cache[key]
        _cache[fp] = calendar
    return calendar


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
