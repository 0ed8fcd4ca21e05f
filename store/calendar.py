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
* Later years are loaded by ``fundflow calendar import FILE`` → ``workflow.calendar.import_schedule``
  (file format: ``rules.calendar`` module docstring), which also audits the import and recomputes the
  deadlines: this module only reads and writes the calendar's own tables (it imports nothing of
  ``workflow``).
"""
from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterable
from typing import Any

from sqlalchemy import delete, func, insert, or_, select
from sqlalchemy.orm import Session

from rules.calendar import WorkCalendar
from store.models import CalendarDay, CalendarYear

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


def seed_from_chinesecalendar(session: Session, years: Iterable[int] = SEED_YEARS,
                              now: dt.datetime | None = None) -> int:
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
    at = now or dt.datetime.now(dt.UTC)
    session.execute(insert(CalendarYear), [{"year": y, "source": CHINESECALENDAR_SOURCE, "loaded_at": at}
                                           for y in todo])
    session.flush()
    invalidate_cache()
    return len(todo)


def ensure_seeded(session: Session, now: dt.datetime | None = None) -> int:
    """Seed 2004–2026 when no year is loaded yet (first start); returns the number of years seeded."""
    if _is_postgres(session):
        # Two processes starting at once must not both seed.
        session.execute(select(func.pg_advisory_xact_lock(_ADVISORY_SEED_LOCK)))
    if session.execute(select(func.count()).select_from(CalendarYear)).scalar_one():
        return 0
    return seed_from_chinesecalendar(session, now=now)


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
