"""rules.needs: residents' needs on the public form and the committee's answer (第九条)."""
from __future__ import annotations

import pytest

from rules.needs import check_contact, check_need_answerable, check_need_text
from tests.rules.helpers import Case, assert_ok, run_case

ART = "第九条"

REFUSALS: list[Case] = [
    Case("title-empty", lambda: check_need_text("   ", ""), "need.title_missing", ART),
    Case("title-short", lambda: check_need_text("路灯", "坏了"), "need.title_missing", ART),
    Case("title-long", lambda: check_need_text("灯" * 101, ""), "need.text_too_long", ART),
    Case("description-long", lambda: check_need_text("楼道灯不亮", "暗" * 1001), "need.text_too_long", ART),
    Case("control-chars", lambda: check_need_text("楼道灯不亮\x07", ""), "need.text_too_long", ART),
    Case("contact-letters", lambda: check_contact("王女士", "wx:abc123"), "need.contact_invalid", ART),
    Case("contact-short", lambda: check_contact("", "123"), "need.contact_invalid", ART),
    Case("name-long", lambda: check_contact("王" * 21, ""), "need.contact_invalid", ART),
    Case("need-missing", lambda: check_need_answerable(False, False, "已纳入计划"), "need.not_found", ART),
    Case("need-answered", lambda: check_need_answerable(True, True, "已纳入计划"), "need.already_answered", ART),
    Case("answer-short", lambda: check_need_answerable(True, False, "好的"), "need.answer_missing", ART),
    Case("answer-long", lambda: check_need_answerable(True, False, "答" * 1001), "need.answer_missing", ART),
]


@pytest.mark.parametrize("case", REFUSALS, ids=lambda c: c.id)
def test_refusals(case: Case) -> None:
    run_case(case)


def test_what_passes() -> None:
    assert_ok(check_need_text("3号楼楼道灯不亮", "晚上上下楼看不清"))
    assert_ok(check_need_text("楼道灯坏", "暗" * 1000))
    assert_ok(check_contact("", ""))
    assert_ok(check_contact("王女士", "139 1234 5678"))
    assert_ok(check_contact("", "0431-88886666"))
    assert_ok(check_contact("", "+86 13912345678"))
    assert_ok(check_need_answerable(True, False, "已纳入本季度项目计划"))
