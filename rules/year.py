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


def check_not_yet_evaluated(evaluated_at: str | None) -> Verdict:
    """The working committee evaluates a year's report once (Art. 16); its record is kept as given."""
    if not evaluated_at:
        return OK
    return refuse("year.already_evaluated", f"该年度报告已于 {evaluated_at[:10]} 考核评议,不能重复评议", "第十六条")


def check_year_evaluated(year: int, evaluated_at: str | None) -> Verdict:
    """A year is closed only once the working committee's evaluation of its report is on record (Art. 16).

    The evaluation runs alongside the disclosure and never holds it; it holds only the year's close."""
    if evaluated_at:
        return OK
    return refuse("year.evaluation_missing",
                  f"{year} 年度报告尚未经社区党工委考核评议,评议记录在案后方可结转", "第十六条")
