"""rules.common: a reason or a text that an event needs; the article is the event's own."""
from __future__ import annotations

import pytest

from rules.common import check_reason_given, check_text_given
from tests.rules.helpers import Case, assert_ok, run_case

REASON_ART = "第十一条"
TEXT_ART = "第十四条"

REFUSALS: list[Case] = [
    Case("reason-empty", lambda: check_reason_given("", REASON_ART), "workflow.reason_missing", REASON_ART),
    Case("reason-one-char", lambda: check_reason_given(" 否 ", REASON_ART), "workflow.reason_missing", REASON_ART),
    Case("text-empty", lambda: check_text_given("", TEXT_ART), "workflow.text_missing", TEXT_ART),
    Case("text-blank", lambda: check_text_given("   ", TEXT_ART), "workflow.text_missing", TEXT_ART),
]


@pytest.mark.parametrize("case", REFUSALS, ids=lambda c: c.id)
def test_refusals(case: Case) -> None:
    run_case(case)


def test_article_is_the_events() -> None:
    assert check_reason_given("", "第十条").article == "第十条"
    assert check_text_given("", "第十二条").article == "第十二条"


@pytest.mark.parametrize("text", ["同意", "预算不实,须重新测算", "  材料不全  "])
def test_given_ok(text: str) -> None:
    assert_ok(check_reason_given(text, REASON_ART))
    assert_ok(check_text_given(text, TEXT_ART))
