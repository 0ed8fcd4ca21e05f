"""rules.calendar: working-day arithmetic and the schedule file parser (pure, no database)."""
from __future__ import annotations

import datetime as dt

import chinese_calendar as cc
import pytest

from rules.calendar import ScheduleError, WorkCalendar, parse_schedule

D = dt.date.fromisoformat


def _year_days(year: int) -> dict[dt.date, bool]:
    day, out = dt.date(year, 1, 1), {}
    while day.year == year:
        out[day] = bool(cc.is_workday(day))
        day += dt.timedelta(days=1)
    return out


@pytest.fixture(scope="module")
def cal() -> WorkCalendar:
    days: dict[dt.date, bool] = {}
    for y in (2024, 2025, 2026):
        days.update(_year_days(y))
    return WorkCalendar(days, [2024, 2025, 2026])


# ----------------------------------------------------------------------------- known answers


def test_three_working_days_after_national_day_eve(cal: WorkCalendar) -> None:
    r = cal.workday_after(D("2025-09-30"), 3)
    assert r.date == D("2025-10-11")
    assert r.provisional is False


def test_five_working_days_after_2026_02_12(cal: WorkCalendar) -> None:
    r = cal.workday_after(D("2026-02-12"), 5)
    assert r.date == D("2026-02-26")
    assert r.provisional is False


def test_makeup_saturday_is_counted(cal: WorkCalendar) -> None:
    assert cal.is_workday(D("2025-10-11"))  # Saturday, 调休
    # 10-09 Thu, 10-10 Fri, 10-11 Sat (makeup): the makeup day is the third.
    assert cal.workday_after(D("2025-10-08"), 3).date == D("2025-10-11")
    assert cal.workday_after(D("2025-10-10"), 1).date == D("2025-10-11")


def test_holidays_are_skipped(cal: WorkCalendar) -> None:
    assert not cal.is_workday(D("2025-10-01"))  # Wednesday, 国庆节
    assert cal.workday_after(D("2025-09-30"), 1).date == D("2025-10-09")
    assert cal.workday_after(D("2024-12-31"), 1).date == D("2025-01-02")  # 元旦 skipped


def test_start_day_not_counted(cal: WorkCalendar) -> None:
    # Monday start: 1 working day later is Tuesday even though Monday is a working day.
    assert cal.workday_after(D("2025-06-09"), 1).date == D("2025-06-10")


def test_ordinary_weekend_skipped(cal: WorkCalendar) -> None:
    assert cal.workday_after(D("2025-06-13"), 1).date == D("2025-06-16")  # Fri → Mon


# ------------------------------------------------------------------------------- provisional


def test_unloaded_year_uses_weekday_rule_and_is_provisional(cal: WorkCalendar) -> None:
    assert not cal.is_loaded(2027)
    assert cal.is_workday(D("2027-01-01"))  # Friday; 元旦 unknown without a schedule
    r = cal.workday_after(D("2027-03-05"), 1)
    assert r == type(r)(D("2027-03-08"), True)


def test_crossing_into_unloaded_year_is_provisional(cal: WorkCalendar) -> None:
    r = cal.workday_after(D("2026-12-28"), 5)
    assert r.date == D("2027-01-04") and r.provisional is True
    # Staying inside 2026 is not provisional, even right before the boundary.
    r = cal.workday_after(D("2026-12-28"), 3)
    assert r.date == D("2026-12-31") and r.provisional is False


def test_start_on_last_day_of_loaded_year(cal: WorkCalendar) -> None:
    # The start day itself is not scanned: 2026-12-31 → 2027 only.
    assert cal.workday_after(D("2026-12-31"), 1).provisional is True
    # Start in an unloaded year, scan only a loaded one: not provisional.
    assert cal.workday_after(D("2023-12-31"), 1) == type(cal.workday_after(D("2024-01-01"), 1))(
        D("2024-01-02"), False)


def test_no_loaded_year_at_all() -> None:
    empty = WorkCalendar({}, [])
    r = empty.workday_after(D("2025-09-30"), 3)
    assert r.date == D("2025-10-03") and r.provisional is True


def test_days_of_unloaded_years_are_ignored() -> None:
    c = WorkCalendar({D("2027-01-01"): False}, [])
    assert c.is_workday(D("2027-01-01"))


def test_long_period_spanning_years(cal: WorkCalendar) -> None:
    r = cal.workday_after(D("2024-01-01"), 600)
    assert r.date.year == 2026 and r.provisional is False
    assert cal.workdays_between(D("2024-01-01"), r.date) == 600


# -------------------------------------------------------------------------- workdays_between


def test_workdays_between(cal: WorkCalendar) -> None:
    assert cal.workdays_between(D("2025-09-30"), D("2025-10-11")) == 3
    assert cal.workdays_between(D("2025-09-30"), D("2025-10-08")) == 0
    assert cal.workdays_between(D("2026-02-12"), D("2026-02-26")) == 5
    assert cal.workdays_between(D("2025-10-11"), D("2025-10-11")) == 0
    assert cal.workdays_between(D("2025-10-12"), D("2025-10-01")) == 0
    assert cal.workdays_between(D("2025-12-31"), D("2026-01-05")) == 2  # 01-01..03 off, 01-04 Sun makeup
    assert cal.is_workday(D("2026-01-04")) and cal.workdays_between(D("2026-01-03"), D("2026-01-05")) == 2


@pytest.mark.parametrize("n", [0, -1])
def test_n_must_be_positive(cal: WorkCalendar, n: int) -> None:
    with pytest.raises(ValueError, match="工作日数"):
        cal.workday_after(D("2025-01-01"), n)


def test_n_must_be_int(cal: WorkCalendar) -> None:
    with pytest.raises(ValueError, match="工作日数"):
        cal.workday_after(D("2025-01-01"), 2.0)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="工作日数"):
        cal.workday_after(D("2025-01-01"), True)


def test_matches_chinesecalendar_everywhere(cal: WorkCalendar) -> None:
    day = D("2024-01-01")
    while day < D("2026-11-30"):
        for n in (1, 3, 5, 10):
            expected, count = day, 0
            while count < n:
                expected += dt.timedelta(days=1)
                count += cc.is_workday(expected)
            assert cal.workday_after(day, n).date == expected, (day, n)
        day += dt.timedelta(days=1)


# --------------------------------------------------------------------------------- schedule

GOOD = """\ufeff# 示例
year 2027   # 年份
2027-01-01 holiday 元旦
2027-02-06..2027-02-13 holiday 春节
2027-02-14 makeup 春节调休

2027-10-01..2027-10-07 HOLIDAY 国庆节
2027-10-09 makeup 国庆节调休
"""


def test_parse_good_file() -> None:
    s = parse_schedule(GOOD)
    assert s.year == 2027
    assert len(s.holidays) == 1 + 8 + 7
    assert [e.day for e in s.makeups] == [D("2027-02-14"), D("2027-10-09")]
    assert s.makeups[0].name == "春节调休" and s.makeups[0].line == 5
    days = {d: (w, k, n) for d, w, k, n in s.days()}
    assert len(days) == 365
    assert days[D("2027-02-08")] == (False, "holiday", "春节")
    assert days[D("2027-02-14")] == (True, "makeup", "春节调休")
    assert days[D("2027-03-06")] == (False, "weekend", "")
    assert days[D("2027-03-08")] == (True, "workday", "")


def test_parsed_schedule_drives_calendar() -> None:
    s = parse_schedule(GOOD)
    c = WorkCalendar({d: w for d, w, _, _ in s.days()}, [s.year])
    r = c.workday_after(D("2027-09-30"), 2)
    assert r.date == D("2027-10-09") and r.provisional is False  # 10-08 Fri, 10-09 Sat makeup


def test_example_file_in_docs_parses() -> None:
    from pathlib import Path

    text = (Path(__file__).resolve().parents[2] / "docs" / "calendar-2027.example.txt").read_text("utf-8")
    s = parse_schedule(text)
    assert s.year == 2027 and s.holidays and s.makeups


def _error(text: str) -> ScheduleError:
    with pytest.raises(ScheduleError) as info:
        parse_schedule(text)
    return info.value


def test_error_missing_year_line() -> None:
    e = _error("2027-01-01 holiday 元旦\n")
    assert any("year 行" in msg for _, msg in e.errors)
    assert "缺少 year 行" in str(e)


def test_error_no_year_line_at_all() -> None:
    assert "缺少 year 行" in str(_error("# 空文件\n"))


def test_error_duplicate_year_line() -> None:
    e = _error("year 2027\nyear 2028\n2027-01-01 holiday 元旦\n")
    assert e.errors[0][0] == 2 and "year 行重复" in e.errors[0][1]


def test_error_bad_year() -> None:
    e = _error("year 27\n")
    assert e.errors[0][0] == 1 and "YYYY" in e.errors[0][1]


def test_error_date_outside_year() -> None:
    e = _error("year 2027\n2027-01-01 holiday 元旦\n2026-12-31..2027-01-02 holiday 元旦\n")
    assert e.errors == [(3, "日期 2026-12-31..2027-01-02 不在 2027 年内")]
    assert "第 3 行" in str(e)


def test_error_makeup_on_weekday() -> None:
    e = _error("year 2027\n2027-01-01 holiday 元旦\n2027-02-15 makeup 春节调休\n")
    assert e.errors[0][0] == 3 and "星期一" in e.errors[0][1] and "调休" in e.errors[0][1]


def test_error_holiday_on_makeup_day() -> None:
    e = _error("year 2027\n2027-02-14 makeup 春节调休\n2027-02-13..2027-02-14 holiday 春节\n")
    assert e.errors == [(3, "2027-02-14 既被列为放假又被列为调休上班日(另见第 2 行)")]


def test_error_duplicate_day() -> None:
    e = _error("year 2027\n2027-01-01 holiday 元旦\n2027-01-01 holiday 元旦\n")
    assert e.errors == [(3, "2027-01-01 重复列出(第 2 行已列出)")]


def test_error_unknown_kind() -> None:
    e = _error("year 2027\n2027-01-01 vacation 元旦\n")
    assert e.errors[0][0] == 2 and "未知类型" in e.errors[0][1]


def test_error_bad_date() -> None:
    e = _error("year 2027\n2027-02-30 holiday 元旦\n2027/01/01 holiday 元旦\n")
    assert [line for line, _ in e.errors] == [2, 3]
    assert all("无效" in msg for _, msg in e.errors)


def test_error_reversed_range() -> None:
    e = _error("year 2027\n2027-02-13..2027-02-06 holiday 春节\n")
    assert e.errors[0][0] == 2 and "早于" in e.errors[0][1]


def test_error_missing_name() -> None:
    e = _error("year 2027\n2027-01-01 holiday\n")
    assert e.errors[0][0] == 2 and "缺少名称" in e.errors[0][1]


def test_error_date_before_year_line() -> None:
    e = _error("2027-01-01 holiday 元旦\nyear 2027\n2027-01-02 holiday 元旦\n")
    assert e.errors[0][0] == 1 and "之前" in e.errors[0][1]


def test_error_no_holidays() -> None:
    assert "没有任何" in str(_error("year 2027\n2027-02-14 makeup 调休\n"))


def test_all_errors_reported_at_once() -> None:
    e = _error("year 2027\n2027-01-01 holday 元旦\n2027-02-15 makeup 调休\n2028-01-01 holiday 元旦\n")
    assert [line for line, _ in e.errors] == [2, 3, 4]
    assert isinstance(e, ValueError)
