"""Chinese statutory working days, and the text format of a year's official holiday schedule.

Pure: plain data in, plain data out (stdlib only). ``store.calendar`` loads the rows and builds a
:class:`WorkCalendar`; the engine asks it when a period of N working days ends (SPEC section 6).

Working days: Monday–Friday, except public holidays; plus make-up working days (调休, e.g.
Saturday 2025-10-11). A period of N working days from date D does not count D; it ends at 24:00
Asia/Shanghai of the N-th working day after D. For a year whose official schedule is not loaded
the weekday rule alone is used and the answer is flagged ``provisional``.

Schedule file format (UTF-8 text, one item per line; see ``docs/calendar-2027.example.txt``)::

    # 2027年部分节假日安排(国务院办公厅)      <- '#' starts a comment (whole line or line end)
    year 2027                                  <- exactly once, before any date line
    2027-01-01 holiday 元旦                    <- one day off
    2027-02-06..2027-02-13 holiday 春节        <- an inclusive range of days off
    2027-02-14 makeup 春节调休                 <- a make-up working day (must be a Sat or Sun)

* ``kind`` is ``holiday`` (a day off; may fall on a weekend, it is then simply part of the break)
  or ``makeup`` (调休: a Saturday or Sunday that is a working day).
* ``name`` (required) is the rest of the line, at most 32 characters, e.g. 春节 or 春节调休.
* Every day of the year not listed follows the weekday rule (Mon–Fri work, Sat/Sun off).
* Errors (all reported at once, with line numbers): missing or repeated ``year`` line, a date
  line before the ``year`` line, malformed dates or ranges, dates outside the year, unknown kind,
  missing name, a make-up day on a weekday, a day listed twice (also: holiday on a make-up day),
  and a file without any holiday.
"""
from __future__ import annotations

import datetime as dt
import re
from bisect import bisect_right
from collections.abc import Collection, Mapping
from dataclasses import dataclass

_ONE_DAY = dt.timedelta(days=1)

HOLIDAY = "holiday"
MAKEUP = "makeup"
KINDS = (HOLIDAY, MAKEUP)
NAME_MAX = 32


def weekday_rule(day: dt.date) -> bool:
    """The provisional rule for years without an official schedule: Monday–Friday work."""
    return day.weekday() < 5


@dataclass(frozen=True, slots=True)
class WorkdayResult:
    date: dt.date
    """The N-th working day after the start; the period ends at 24:00 Asia/Shanghai of it."""
    provisional: bool
    """True when a day counted over lies in a year whose official schedule is not loaded."""


class WorkCalendar:
    """Working days from explicit per-day data for loaded years, the weekday rule elsewhere.

    Immutable after construction. Per-year sorted lists of working-day ordinals are built lazily
    and memoised, so ``workday_after`` and ``workdays_between`` are a few bisects per call.
    """

    __slots__ = ("_days", "_loaded", "_years")

    def __init__(self, days: Mapping[dt.date, bool], loaded_years: Collection[int]) -> None:
        self._loaded: frozenset[int] = frozenset(loaded_years)
        self._days: dict[dt.date, bool] = {d: bool(w) for d, w in days.items() if d.year in self._loaded}
        self._years: dict[int, list[int]] = {}

    # -------------------------------------------------------------------------------- queries

    @property
    def loaded_years(self) -> frozenset[int]:
        return self._loaded

    def is_loaded(self, year: int) -> bool:
        return year in self._loaded

    def is_workday(self, day: dt.date) -> bool:
        if day.year in self._loaded:
            explicit = self._days.get(day)
            if explicit is not None:
                return explicit
        return weekday_rule(day)

    def workday_after(self, start: dt.date, n: int) -> WorkdayResult:
        """The N-th working day after ``start`` (``start`` itself is not counted)."""
        _check_n(n)
        cursor = start.toordinal()  # count working days with ordinal > cursor
        year = (start + _ONE_DAY).year
        remaining = n
        provisional = False
        while True:
            if year not in self._loaded:
                provisional = True
            ordinals = self._year_workdays(year)
            i = bisect_right(ordinals, cursor)
            available = len(ordinals) - i
            if available >= remaining:
                return WorkdayResult(dt.date.fromordinal(ordinals[i + remaining - 1]), provisional)
            remaining -= available
            year += 1
            if year > dt.MAXYEAR:
                raise ValueError("工作日数过大,超出可计算的日期范围")

    def workdays_between(self, start: dt.date, end: dt.date) -> int:
        """Working days in (start, end] — e.g. the working days left until a deadline; 0 if end <= start."""
        if end <= start:
            return 0
        lo, hi = start.toordinal(), end.toordinal()
        total = 0
        for year in range(start.year, end.year + 1):
            ordinals = self._year_workdays(year)
            total += bisect_right(ordinals, hi) - bisect_right(ordinals, lo)
        return total

    def provisional_between(self, start: dt.date, end: dt.date) -> bool:
        """Whether any day in (start, end] lies in a year whose schedule is not loaded."""
        if end <= start:
            return False
        return any(y not in self._loaded for y in range((start + _ONE_DAY).year, end.year + 1))

    # ------------------------------------------------------------------------------- internals

    def _year_workdays(self, year: int) -> list[int]:
        cached = self._years.get(year)
        if cached is not None:
            return cached
        day = dt.date(year, 1, 1)
        out: list[int] = []
        is_workday = self.is_workday
        while day.year == year:
            if is_workday(day):
                out.append(day.toordinal())
            if day.month == 12 and day.day == 31:
                break
            day += _ONE_DAY
        self._years[year] = out
        return out


def _check_n(n: int) -> None:
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"工作日数必须是不小于 1 的整数,收到 {n!r}")


# ------------------------------------------------------------------------------- schedule file


@dataclass(frozen=True, slots=True)
class ScheduleEntry:
    day: dt.date
    kind: str
    """``holiday`` | ``makeup``."""
    name: str
    line: int


@dataclass(frozen=True, slots=True)
class Schedule:
    year: int
    entries: tuple[ScheduleEntry, ...]
    """One entry per listed day (ranges expanded), in date order."""

    @property
    def holidays(self) -> tuple[ScheduleEntry, ...]:
        return tuple(e for e in self.entries if e.kind == HOLIDAY)

    @property
    def makeups(self) -> tuple[ScheduleEntry, ...]:
        return tuple(e for e in self.entries if e.kind == MAKEUP)

    def days(self) -> list[tuple[dt.date, bool, str, str]]:
        """Every day of the year as (day, is_workday, kind, name); kind workday|weekend|holiday|makeup."""
        listed = {e.day: e for e in self.entries}
        out: list[tuple[dt.date, bool, str, str]] = []
        day = dt.date(self.year, 1, 1)
        while day.year == self.year:
            e = listed.get(day)
            if e is not None:
                out.append((day, e.kind == MAKEUP, e.kind, e.name))
            elif weekday_rule(day):
                out.append((day, True, "workday", ""))
            else:
                out.append((day, False, "weekend", ""))
            if day.month == 12 and day.day == 31:
                break
            day += _ONE_DAY
        return out


class ScheduleError(ValueError):
    """A schedule file that cannot be imported; ``errors`` holds (line number, message) pairs."""

    def __init__(self, errors: list[tuple[int, str]]) -> None:
        self.errors = errors
        super().__init__("\n".join(f"第 {line} 行: {msg}" if line else msg for line, msg in errors))


_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_WEEKDAYS_ZH = "一二三四五六日"


def _parse_date(text: str) -> dt.date | None:
    if not _DATE_RE.match(text):
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        return None


def parse_schedule(text: str) -> Schedule:
    """Parse and validate a schedule file (format in the module docstring); raise ScheduleError."""
    errors: list[tuple[int, str]] = []
    year: int | None = None
    year_line = 0
    seen: dict[dt.date, ScheduleEntry] = {}
    if text.startswith("\ufeff"):
        text = text[1:]
    for lineno, raw in enumerate(text.splitlines(), start=1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        parts = line.split(None, 2)
        head = parts[0]
        if head.lower() == "year":
            if year is not None:
                errors.append((lineno, f"year 行重复(第 {year_line} 行已声明 {year} 年)"))
                continue
            if len(parts) != 2 or not re.fullmatch(r"\d{4}", parts[1]) or not 2000 <= int(parts[1]) <= 2100:
                errors.append((lineno, "year 行格式应为 “year YYYY”,年份在 2000–2100 之间"))
                year_line = lineno
                year = -1  # remember that a (bad) year line was there
                continue
            year, year_line = int(parts[1]), lineno
            continue
        if year is None:
            errors.append((lineno, "日期行出现在 year 行之前;文件须先以 “year YYYY” 声明年份"))
            continue
        if ".." in head:
            a_text, _, b_text = head.partition("..")
            first, last = _parse_date(a_text), _parse_date(b_text)
        else:
            a_text = b_text = head
            first = last = _parse_date(head)
        if first is None or last is None:
            bad = a_text if first is None else b_text
            errors.append((lineno, f"日期 “{bad}” 无效,应为 YYYY-MM-DD 或 YYYY-MM-DD..YYYY-MM-DD"))
            continue
        if last < first:
            errors.append((lineno, f"日期范围 {first}..{last} 的结束日早于开始日"))
            continue
        if len(parts) < 2:
            errors.append((lineno, "缺少类型(holiday 或 makeup)和名称"))
            continue
        kind = parts[1].lower()
        if kind not in KINDS:
            errors.append((lineno, f"未知类型 “{parts[1]}”,只能是 holiday(放假)或 makeup(调休上班)"))
            continue
        name = parts[2].strip() if len(parts) > 2 else ""
        if not name:
            errors.append((lineno, "缺少名称(如 春节、国庆节调休)"))
            continue
        if len(name) > NAME_MAX:
            errors.append((lineno, f"名称过长(最多 {NAME_MAX} 个字符)"))
            continue
        if year > 0 and (first.year != year or last.year != year):
            errors.append((lineno, f"日期 {head} 不在 {year} 年内"))
            continue
        day = first
        while day <= last:
            if kind == MAKEUP and weekday_rule(day):
                errors.append((lineno, f"{day} 是星期{_WEEKDAYS_ZH[day.weekday()]},本来就是工作日,不能列为调休上班日"))
            elif day in seen:
                prev = seen[day]
                if prev.kind == kind:
                    errors.append((lineno, f"{day} 重复列出(第 {prev.line} 行已列出)"))
                else:
                    errors.append((lineno, f"{day} 既被列为放假又被列为调休上班日(另见第 {prev.line} 行)"))
            else:
                seen[day] = ScheduleEntry(day, kind, name, lineno)
            day += _ONE_DAY
    if year is None:
        errors.append((0, "缺少 year 行(例如 “year 2027”)"))
    elif year > 0 and not errors and not any(e.kind == HOLIDAY for e in seen.values()):
        errors.append((0, f"文件中没有任何 {year} 年的放假日期"))
    if errors or year is None or year < 0:
        raise ScheduleError(sorted(errors, key=lambda e: (e[0] == 0, e[0])))
    return Schedule(year, tuple(sorted(seen.values(), key=lambda e: e.day)))
