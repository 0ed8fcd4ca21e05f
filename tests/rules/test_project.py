"""rules.project: categories (第八条), forbidden uses (第四条), small-group mark, proposal content (第九条)."""
from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from datetime import date
from typing import cast

import pytest

from rules.policy import DEFAULT_FORBIDDEN_KEYWORDS
from rules.project import (
    CATEGORIES,
    FORBIDDEN_USES,
    LineItemData,
    Proposal,
    check_category,
    check_edit_changes,
    check_flag_decision,
    check_flags_answered,
    check_flags_decided,
    check_forbidden_declaration,
    check_plan_editable,
    check_proposal,
    check_unmark,
    flags_warning,
    is_small_group,
    screen_line_item,
)
from tests.rules.helpers import Case, assert_ok, run_case

ALL_NO = {key: False for key in FORBIDDEN_USES}


def make_proposal(**changes: object) -> Proposal:
    base = Proposal(
        title="老旧小区楼道照明维修",
        description="为幸福小区 3 栋 6 个单元更换楼道感应灯",
        category="property",
        justification="",
        amount_fen=1_230_000,
        beneficiaries_count=180,
        beneficiaries_desc="幸福小区 3 栋居民",
        contractor_name="某某电气维修部",
        contractor_kind="organisation",
        is_aid=False,
        planned_start=date(2026, 3, 1),
        planned_end=date(2026, 3, 31),
        line_items=(
            LineItemData("LED 感应灯", 60, 15_000, 900_000, "照明设备"),
            LineItemData("安装人工", 1, 330_000, 330_000, "维修服务"),
        ),
        need_ids=(7,),
    )
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


REFUSALS: list[Case] = [
    Case("category-unknown", lambda: check_category("travel", ""), "category.invalid", "第八条"),
    Case("category-empty", lambda: check_category("", "说明说明说明说明说明说明"), "category.invalid", "第八条"),
    Case("other-no-justification", lambda: check_category("other", ""), "category.other_needs_justification",
         "第八条"),
    Case("other-short-justification", lambda: check_category("other", "  太短的理由九个字  "),
         "category.other_needs_justification", "第八条"),
    Case("forbidden-missing", lambda: check_forbidden_declaration({k: False for k in list(FORBIDDEN_USES)[1:]}),
         "forbidden.undeclared", "第四条"),
    Case("forbidden-empty", lambda: check_forbidden_declaration({}), "forbidden.undeclared", "第四条"),
    Case("forbidden-not-bool", lambda: check_forbidden_declaration(cast(Mapping[str, bool], {**ALL_NO, "office": 0})),
         "forbidden.undeclared", "第四条"),
    Case("forbidden-true", lambda: check_forbidden_declaration({**ALL_NO, "worker_pay": True}),
         "forbidden.declared_use", "第四条"),
    Case("flag-unanswered", lambda: check_flags_answered([("办公椅采购", ["办公", "办公椅"])], "  "),
         "forbidden.flag_unanswered", "第四条"),
    Case("flag-item-missing", lambda: check_flag_decision(False, [], "cleared", "已核实"),
         "forbidden.flag_item_not_found", "第四条"),
    Case("flag-not-flagged", lambda: check_flag_decision(True, [], "cleared", "已核实"),
         "forbidden.flag_not_flagged", "第四条"),
    Case("flag-decision-unknown", lambda: check_flag_decision(True, ["办公"], "maybe", "已核实"),
         "forbidden.flag_decision_invalid", "第四条"),
    Case("flag-no-note", lambda: check_flag_decision(True, ["办公"], "upheld", " "),
         "forbidden.flag_note_missing", "第四条"),
    Case("flag-undecided", lambda: check_flags_decided([("办公椅采购", ["办公椅"], ""), ("灯", [], "")]),
         "forbidden.flag_undecided", "第四条"),
    Case("flag-upheld", lambda: check_flags_decided([("办公椅采购", ["办公椅"], "upheld"),
                                                     ("加班餐", ["加班"], "")]), "forbidden.flag_upheld", "第四条"),
    Case("edit-nothing", lambda: check_edit_changes({}), "proposal.nothing_changed", "第九条"),
    Case("frozen-review", lambda: check_plan_editable("preliminary_review", "待党工委初步同意"),
         "proposal.plan_frozen", "第十条"),
    Case("frozen-approved", lambda: check_plan_editable("in_progress", "实施中"), "proposal.plan_frozen", "第十条"),
    Case("frozen-ended", lambda: check_plan_editable("terminated", "已终止"), "proposal.plan_frozen", "第十条"),
    Case("unmark-below-threshold", lambda: check_unmark(30, 50, True, False), "cap.cannot_unmark",
         "第七条第(二)项"),
    Case("no-need", lambda: check_proposal(make_proposal(need_ids=())), "proposal.no_need", "第九条"),
    Case("title-missing", lambda: check_proposal(make_proposal(title="  ")), "proposal.title_missing", "第九条"),
    Case("amount-zero", lambda: check_proposal(make_proposal(amount_fen=0)), "proposal.amount_not_positive",
         "第九条"),
    Case("amount-negative", lambda: check_proposal(make_proposal(amount_fen=-100)),
         "proposal.amount_not_positive", "第九条"),
    Case("sum-mismatch", lambda: check_proposal(make_proposal(amount_fen=1_230_001)),
         "proposal.line_items_mismatch", "第九条"),
    Case("item-mismatch", lambda: check_proposal(make_proposal(
        amount_fen=900_001, line_items=(LineItemData("LED 感应灯", 60, 15_000, 900_001),))),
        "proposal.line_items_mismatch", "第九条"),
    Case("no-items", lambda: check_proposal(make_proposal(line_items=())), "proposal.line_items_mismatch",
         "第九条"),
    Case("item-zero-quantity", lambda: check_proposal(make_proposal(
        amount_fen=1, line_items=(LineItemData("灯", 0, 15_000, 0), LineItemData("人工", 1, 1, 1)))),
        "proposal.line_item_invalid", "第九条"),
    Case("item-negative-price", lambda: check_proposal(make_proposal(
        amount_fen=100, line_items=(LineItemData("灯", -1, -100, 100),))), "proposal.line_item_invalid", "第九条"),
    Case("item-no-name", lambda: check_proposal(make_proposal(
        amount_fen=100, line_items=(LineItemData(" ", 1, 100, 100),))), "proposal.line_item_invalid", "第九条"),
    Case("beneficiaries-zero", lambda: check_proposal(make_proposal(beneficiaries_count=0)),
         "proposal.beneficiaries_invalid", "第九条"),
    Case("dates-reversed", lambda: check_proposal(make_proposal(planned_start=date(2026, 4, 1),
                                                                 planned_end=date(2026, 3, 1))),
         "proposal.dates_invalid", "第九条"),
    Case("contractor-kind", lambda: check_proposal(make_proposal(contractor_kind="company")),
         "proposal.contractor_kind_invalid", "第九条"),
    Case("proposal-category", lambda: check_proposal(make_proposal(category="other", justification="")),
         "category.other_needs_justification", "第八条"),
    Case("proposal-category-invalid", lambda: check_proposal(make_proposal(category="office")),
         "category.invalid", "第八条"),
]


@pytest.mark.parametrize("case", REFUSALS, ids=lambda c: c.id)
def test_refusals(case: Case) -> None:
    run_case(case)


# -- categories --------------------------------------------------------------------------------------

def test_six_categories_of_article_8() -> None:
    assert list(CATEGORIES) == ["hardship", "convenience", "employment", "property", "culture", "other"]
    assert CATEGORIES["hardship"] == "特困群体服务"
    assert CATEGORIES["other"] == "其他方面服务"


@pytest.mark.parametrize("category", ["hardship", "convenience", "employment", "property", "culture"])
def test_category_ok(category: str) -> None:
    assert_ok(check_category(category, ""))


def test_other_with_justification_ok() -> None:
    assert_ok(check_category("other", "表彰孝老爱亲先进典型,群众迫切需要"))
    assert_ok(check_category("other", "一二三四五六七八九十"))  # exactly ten characters


def test_category_invalid_message_lists_the_six() -> None:
    v = check_category("travel", "")
    assert "travel" in v.message and "特困群体服务" in v.message


# -- forbidden uses ----------------------------------------------------------------------------------

def test_forbidden_uses_of_article_4() -> None:
    assert set(FORBIDDEN_USES) == {"office", "worker_pay", "government_service", "city_funded", "property_company"}


def test_declaration_all_false_ok() -> None:
    assert_ok(check_forbidden_declaration(ALL_NO))
    assert_ok(check_forbidden_declaration({**ALL_NO, "unknown_extra": True}))


def test_declaration_names_the_missing_and_the_declared() -> None:
    missing = check_forbidden_declaration({k: False for k in FORBIDDEN_USES if k != "property_company"})
    assert "应由物业单位承担的费用" in missing.message
    declared = check_forbidden_declaration({**ALL_NO, "office": True})
    assert "社区办公开支" in declared.message
    # a declared forbidden use outweighs a missing declaration
    both = check_forbidden_declaration({"office": True})
    assert both.code == "forbidden.declared_use"


@pytest.mark.parametrize(("description", "keywords", "found"), [
    ("办公椅采购", ["办公", "办公椅", "工资"], ["办公", "办公椅"]),
    ("健身器材", ["办公", "工资"], []),
    ("志愿者劳务费（社区工作者）", ["劳务费(社区工作者)"], ["劳务费(社区工作者)"]),
    ("PRINTER 打印", ["printer"], ["printer"]),
    ("工资工资", ["工资", "工资"], ["工资"]),
    ("", ["办公"], []),
])
def test_screen_line_item(description: str, keywords: list[str], found: list[str]) -> None:
    assert screen_line_item(description, keywords) == found


def test_screen_with_policy_keywords() -> None:
    assert screen_line_item("社区工作者加班补贴", DEFAULT_FORBIDDEN_KEYWORDS) == ["补贴", "加班"]


def test_flags_answered_ok() -> None:
    assert_ok(check_flags_answered([], ""))
    assert_ok(check_flags_answered([("健身器材", [])], ""))
    assert_ok(check_flags_answered([("办公椅采购", ["办公"])], "为老年活动室购置座椅,非社区办公使用"))


def test_flag_message_lists_items_and_words() -> None:
    v = check_flags_answered([("办公椅采购", ["办公椅"]), ("健身器材", []), ("工资发放", ["工资"])], "")
    assert "办公椅采购" in v.message and "工资发放" in v.message and "健身器材" not in v.message


# -- small group ---------------------------------------------------------------------------------------

@pytest.mark.parametrize(("count", "threshold", "marked", "small"), [
    (49, 50, False, True), (50, 50, False, False), (500, 50, True, True), (1, 50, True, True),
])
def test_is_small_group(count: int, threshold: int, marked: bool, small: bool) -> None:
    assert is_small_group(count, threshold, marked) is small


@pytest.mark.parametrize(("count", "current", "wants"), [
    (50, True, False),   # at the threshold a manual mark may be removed
    (200, True, False),
    (30, True, True),    # keeping the mark is always fine
    (200, False, True),  # marking is always fine
])
def test_unmark_ok(count: int, current: bool, wants: bool) -> None:
    assert_ok(check_unmark(count, 50, current, wants))


def test_unmark_refused_names_counts() -> None:
    v = check_unmark(30, 50, True, False)
    assert "30" in v.message and "50" in v.message


# -- proposal ------------------------------------------------------------------------------------------

def test_valid_proposal_ok() -> None:
    assert_ok(check_proposal(make_proposal()))
    assert_ok(check_proposal(make_proposal(planned_start=None, planned_end=None)))
    assert_ok(check_proposal(make_proposal(planned_end=date(2026, 3, 1))))  # same day
    assert_ok(check_proposal(make_proposal(category="other", justification="社区群众迫切需要的孝老爱亲表彰活动")))
    assert_ok(check_proposal(make_proposal(contractor_kind="individual", is_aid=True)))


def test_proposal_mismatch_message_in_yuan() -> None:
    v = check_proposal(make_proposal(amount_fen=1_230_001))
    assert "12300.00" in v.message and "12300.01" in v.message


def test_proposal_first_refusal_wins() -> None:
    v = check_proposal(make_proposal(need_ids=(), title="", amount_fen=0))
    assert v.code == "proposal.no_need"


def test_flags_are_cleared_only_by_the_committee_decision() -> None:
    """The community's explanation answers a flag (submission); only the committee's decision clears it."""
    assert_ok(check_flags_decided([("办公椅采购", ["办公椅"], "cleared"), ("灯", [], "")]))
    assert_ok(check_flags_decided([]))
    assert_ok(check_flag_decision(True, ["办公"], "cleared", "活动室用椅,非办公"))
    undecided = check_flags_decided([("办公椅采购", ["办公椅"], ""), ("加班餐", ["加班"], "cleared")])
    assert "办公椅采购" in undecided.message and "加班餐" not in undecided.message
    # an upheld flag is named before any undecided one: the plan must change whatever else is decided
    assert check_flags_decided([("加班餐", ["加班"], ""), ("办公椅", ["办公椅"], "upheld")]).code == "forbidden.flag_upheld"


def test_an_unanswered_flag_warns_at_proposal_and_edit() -> None:
    v = flags_warning([("办公椅采购", ["办公椅"])], "")
    assert v.ok and v.warning and v.code == "forbidden.flag_unanswered" and v.article == "第四条"
    assert_ok(flags_warning([("办公椅采购", ["办公椅"])], "活动室用椅"))
    assert_ok(flags_warning([], ""))


def test_the_plan_is_editable_only_in_draft() -> None:
    assert_ok(check_plan_editable("draft", "拟提议"))
    assert_ok(check_edit_changes({"title": "新名称"}))
    assert "退回修改" in check_plan_editable("joint_meeting", "待联席会议讨论").message
    assert "申请变更" in check_plan_editable("settlement", "待结算").message
