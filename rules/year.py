"""The fund year (第五条、第十三条、第十六条): projects are proposed in an open year, the year reports on its
use of the fund, and its balance carries over only once the year has ended.
"""
from __future__ import annotations

import datetime as dt

from rules.verdict import OK, Verdict, refuse

#: the fewest characters of an annual report's summary.
MIN_REPORT = 10


def check_year_open(year: int, state: str | None) -> Verdict:
    """A project is proposed only in a fund year that exists and is open (``state`` None: no such year)."""
    if state == "open":
        return OK
    return refuse("year.not_open", f"{year} 年度经费未开放,不能提议项目", "第五条")


def check_report(summary: str) -> Verdict:
    """The annual report describes the whole year's use of the fund (at least ten characters)."""
    if len(summary) >= MIN_REPORT:
        return OK
    return refuse("year.report_incomplete", f"年度报告须说明全年经费使用情况(至少 {MIN_REPORT} 个字)", "第十六条")


def check_year_ended(year: int, today: dt.date) -> Verdict:
    """A year is closed and its balance carried over only after the year has ended (local date)."""
    if today.year > year:
        return OK
    return refuse("year.not_ended", f"{year} 年度尚未结束,不能结转", "第十三条")
