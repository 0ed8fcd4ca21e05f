"""rules.year: proposing in an open year (第五条), the annual report (第十六条), carrying over (第十三条)."""
from __future__ import annotations

import datetime as dt

import pytest

from rules.year import (
    check_not_yet_evaluated,
    check_report,
    check_year_ended,
    check_year_evaluated,
    check_year_open,
)
from tests.rules.helpers import Case, assert_ok, run_case

REFUSALS: list[Case] = [
    Case("no-year", lambda: check_year_open(2027, None), "year.not_open", "第五条"),
    Case("year-reported", lambda: check_year_open(2026, "reported"), "year.not_open", "第五条"),
    Case("year-closed", lambda: check_year_open(2025, "closed"), "year.not_open", "第五条"),
    Case("report-empty", lambda: check_report(""), "year.report_incomplete", "第十六条"),
    Case("report-short", lambda: check_report("全年经费已使用"), "year.report_incomplete", "第十六条"),
    Case("year-running", lambda: check_year_ended(2026, dt.date(2026, 12, 31)), "year.not_ended", "第十三条"),
    Case("year-early", lambda: check_year_ended(2026, dt.date(2026, 1, 1)), "year.not_ended", "第十三条"),
    Case("evaluated-twice", lambda: check_not_yet_evaluated("2026-12-05T02:00:00+00:00"), "year.already_evaluated",
         "第十六条"),
    Case("not-evaluated", lambda: check_year_evaluated(2026, None), "year.evaluation_missing", "第十六条"),
    Case("evaluation-empty", lambda: check_year_evaluated(2026, ""), "year.evaluation_missing", "第十六条"),
]


@pytest.mark.parametrize("case", REFUSALS, ids=lambda c: c.id)
def test_refusals(case: Case) -> None:
    run_case(case)


def test_messages_name_the_year() -> None:
    assert check_year_open(2027, None).message == "2027 年度经费未开放,不能提议项目"
    assert check_year_ended(2026, dt.date(2026, 6, 1)).message == "2026 年度尚未结束,不能结转"


def test_year_open_ok() -> None:
    assert_ok(check_year_open(2026, "open"))


def test_report_ok() -> None:
    assert_ok(check_report("全年共实施项目五个,使用经费十八万元,结余两万元"))


@pytest.mark.parametrize("today", [dt.date(2027, 1, 1), dt.date(2028, 6, 30)])
def test_year_ended_ok(today: dt.date) -> None:
    assert_ok(check_year_ended(2026, today))


def test_the_evaluation_is_once_and_holds_only_the_close() -> None:
    assert_ok(check_not_yet_evaluated(None))
    assert_ok(check_year_evaluated(2026, "2026-12-05T02:00:00+00:00"))
    assert "2026-12-05" in check_not_yet_evaluated("2026-12-05T02:00:00+00:00").message
    assert check_year_evaluated(2026, None).message.startswith("2026 年度报告尚未经社区党工委考核评议")
