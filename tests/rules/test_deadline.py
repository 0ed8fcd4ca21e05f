"""rules.deadline: a timed stage moves on only once its deadline is due (shown in Beijing time)."""
from __future__ import annotations

import datetime as dt

import pytest

from rules.deadline import check_deadline_reached
from tests.rules.helpers import Case, assert_ok, run_case

ART = "第十条"
DUE = dt.datetime(2026, 5, 11, 16, 0, tzinfo=dt.UTC)  # 2026-05-12 00:00 in Beijing

REFUSALS: list[Case] = [
    Case("missing", lambda: check_deadline_reached(DUE, None, ART), "deadline.missing", ART),
    Case("not-reached", lambda: check_deadline_reached(DUE - dt.timedelta(seconds=1), DUE, ART),
         "deadline.not_reached", ART),
    Case("a-day-early", lambda: check_deadline_reached(DUE - dt.timedelta(days=1), DUE, ART),
         "deadline.not_reached", ART),
]


@pytest.mark.parametrize("case", REFUSALS, ids=lambda c: c.id)
def test_refusals(case: Case) -> None:
    run_case(case)


def test_message_in_beijing_time() -> None:
    v = check_deadline_reached(DUE - dt.timedelta(hours=1), DUE, ART)
    assert v.message == "期限未满: 须到 2026-05-12 00:00(北京时间)后方可进行"


@pytest.mark.parametrize("after", [dt.timedelta(0), dt.timedelta(seconds=1), dt.timedelta(days=30)])
def test_reached_ok(after: dt.timedelta) -> None:
    assert_ok(check_deadline_reached(DUE + after, DUE, ART))
