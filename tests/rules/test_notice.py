"""rules.notice: publicity notices and objections (第十条)."""
from __future__ import annotations

import datetime as dt

import pytest

from rules.notice import (
    check_answer_settleable,
    check_confirmer_not_answerer,
    check_no_open_objection,
    check_notice_open,
    check_objection_answerable,
    check_receipt_matches,
)
from tests.rules.helpers import Case, assert_ok, run_case

ART = "第十条"
START = dt.datetime(2026, 5, 1, 0, 0, tzinfo=dt.UTC)
END = dt.datetime(2026, 5, 8, 0, 0, tzinfo=dt.UTC)
DURING = dt.datetime(2026, 5, 4, 12, 0, tzinfo=dt.UTC)

REFUSALS: list[Case] = [
    Case("open-objection", lambda: check_no_open_objection(1), "notice.open_objection", ART),
    Case("open-objections", lambda: check_no_open_objection(3), "notice.open_objection", ART),
    Case("no-notice", lambda: check_notice_open(DURING, None, None), "notice.closed", ART),
    Case("before-start", lambda: check_notice_open(START - dt.timedelta(seconds=1), START, END), "notice.closed", ART),
    Case("at-end", lambda: check_notice_open(END, START, END), "notice.closed", ART),
    Case("after-end", lambda: check_notice_open(END + dt.timedelta(days=1), START, END), "notice.closed", ART),
    Case("objection-not-found", lambda: check_objection_answerable(False, False), "notice.objection_not_found", ART),
    Case("objection-resolved", lambda: check_objection_answerable(True, True), "notice.objection_resolved", ART),
    Case("settle-not-found", lambda: check_answer_settleable(False, False, False), "notice.objection_not_found", ART),
    Case("settle-unanswered", lambda: check_answer_settleable(True, False, False), "notice.objection_unanswered",
         ART),
    Case("settle-resolved", lambda: check_answer_settleable(True, True, True), "notice.objection_resolved", ART),
    Case("confirm-own-answer", lambda: check_confirmer_not_answerer(7, 7), "sod.confirmer_answered", "第十四条"),
    Case("receipt-wrong", lambda: check_receipt_matches(False), "notice.receipt_invalid", ART),
]


@pytest.mark.parametrize("case", REFUSALS, ids=lambda c: c.id)
def test_refusals(case: Case) -> None:
    run_case(case)


def test_open_objection_message_counts() -> None:
    assert check_no_open_objection(3).message == "公示期内有 3 条异议未解决,须回到联席会议"


def test_no_open_objection_ok() -> None:
    assert_ok(check_no_open_objection(0))


@pytest.mark.parametrize("now", [START, DURING, END - dt.timedelta(seconds=1)])
def test_notice_open_ok(now: dt.datetime) -> None:
    assert_ok(check_notice_open(now, START, END))


def test_objection_answerable_ok() -> None:
    assert_ok(check_objection_answerable(True, False))


def test_an_answer_is_settled_by_someone_else() -> None:
    assert_ok(check_answer_settleable(True, True, False))
    assert_ok(check_confirmer_not_answerer(7, 8))
    assert_ok(check_confirmer_not_answerer(7, None))
    assert_ok(check_receipt_matches(True))
