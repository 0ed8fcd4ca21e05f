"""rules.approval: approval by both main leaders and changes during execution (第十一条)."""
from __future__ import annotations

from datetime import date

import pytest

from rules.approval import (
    CHANGE_FIELDS,
    both_leaders_approved,
    changed_fields,
    check_board_meeting_recorded,
    check_change,
    check_not_already_decided,
    check_not_proposer,
    check_termination_vote,
)
from tests.rules.helpers import Case, assert_ok, run_case

ART = "第十一条"
BEFORE: dict[str, object] = {
    "amount_fen": 1_000_000, "title": "楼道照明维修", "description": "更换 60 盏感应灯",
    "contractor_name": "某某电气", "contractor_kind": "organisation", "planned_start": date(2026, 3, 1),
    "planned_end": date(2026, 3, 31), "beneficiaries_count": 180,
}
REASON = "灯具型号停产,改用同价位替代型号并增加数量"

REFUSALS: list[Case] = [
    Case("no-board-meeting", lambda: check_board_meeting_recorded(False), "approval.no_board_meeting", ART),
    Case("proposer", lambda: check_not_proposer(7, 7), "sod.proposer_cannot_approve", ART),
    Case("not-a-leader", lambda: check_not_already_decided("working_member", set(), 3, set()),
         "approval.role_invalid", ART),
    Case("same-role-twice", lambda: check_not_already_decided("working_secretary", {"working_secretary"}, 4, {3}),
         "approval.already_approved", ART),
    Case("same-person-both-roles", lambda: check_not_already_decided("construction_director",
                                                                     {"working_secretary"}, 3, {3}),
         "approval.already_approved", ART),
    Case("terminate-not-a-leader", lambda: check_termination_vote("working_member", set(), 3, set()),
         "approval.role_invalid", ART),
    Case("terminate-twice", lambda: check_termination_vote("construction_director", {"construction_director"}, 4, {3}),
         "termination.already_decided", ART),
    Case("terminate-same-person", lambda: check_termination_vote("working_secretary", {"construction_director"}, 3,
                                                                  {3}), "termination.already_decided", ART),
    Case("field-not-changeable", lambda: check_change(BEFORE, {"category": "culture"}, REASON),
         "change.field_invalid", ART),
    Case("nothing-changed", lambda: check_change(BEFORE, {"amount_fen": 1_000_000}, REASON),
         "change.nothing_changed", ART),
    Case("empty-change", lambda: check_change(BEFORE, {}, REASON), "change.nothing_changed", ART),
    Case("no-reason", lambda: check_change(BEFORE, {"amount_fen": 1_200_000}, "   "), "change.reason_missing", ART),
    Case("amount-zero", lambda: check_change(BEFORE, {"amount_fen": 0}, REASON), "change.value_invalid", ART),
    Case("amount-bool", lambda: check_change(BEFORE, {"amount_fen": True}, REASON), "change.value_invalid", ART),
    Case("kind-invalid", lambda: check_change(BEFORE, {"contractor_kind": "company"}, REASON),
         "change.value_invalid", ART),
    Case("contractor-blank", lambda: check_change(BEFORE, {"contractor_name": ""}, REASON),
         "change.value_invalid", ART),
    Case("beneficiaries-zero", lambda: check_change(BEFORE, {"beneficiaries_count": 0}, REASON),
         "change.value_invalid", ART),
    Case("date-not-date", lambda: check_change(BEFORE, {"planned_end": "2026-04-30"}, REASON),
         "change.value_invalid", ART),
    Case("dates-reversed", lambda: check_change(BEFORE, {"planned_end": date(2026, 2, 1)}, REASON),
         "change.value_invalid", ART),
]


@pytest.mark.parametrize("case", REFUSALS, ids=lambda c: c.id)
def test_refusals(case: Case) -> None:
    run_case(case)


def test_board_meeting_recorded_ok() -> None:
    assert_ok(check_board_meeting_recorded(True))


def test_not_proposer_ok() -> None:
    assert_ok(check_not_proposer(8, 7))


@pytest.mark.parametrize(("role", "done", "actor", "approvers"), [
    ("working_secretary", set(), 3, set()),
    ("construction_director", {"working_secretary"}, 4, {3}),
    ("working_secretary", {"construction_director"}, 3, {4}),
])
def test_not_already_decided_ok(role: str, done: set[str], actor: int, approvers: set[int]) -> None:
    assert_ok(check_not_already_decided(role, done, actor, approvers))


@pytest.mark.parametrize(("roles", "both"), [
    (set(), False), ({"working_secretary"}, False), ({"construction_director"}, False),
    ({"working_secretary", "construction_director"}, True), (["construction_director", "working_secretary"], True),
])
def test_both_leaders_approved(roles: set[str], both: bool) -> None:
    assert both_leaders_approved(roles) is both


@pytest.mark.parametrize("after", [
    {"amount_fen": 1_200_000},
    {"title": "楼道照明及门禁维修", "description": "更换感应灯并维修门禁"},
    {"contractor_name": "张三", "contractor_kind": "individual"},
    {"planned_start": date(2026, 3, 15), "planned_end": date(2026, 4, 30)},
    {"planned_end": None},
    {"beneficiaries_count": 240},
    {"amount_fen": 1_000_000, "beneficiaries_count": 200},  # unchanged fields may be repeated
])
def test_change_ok(after: dict[str, object]) -> None:
    assert_ok(check_change(BEFORE, after, REASON))


def test_change_fields_cover_spec() -> None:
    assert set(CHANGE_FIELDS) == {"amount_fen", "title", "description", "contractor_name", "contractor_kind",
                                  "planned_start", "planned_end", "beneficiaries_count"}


def test_changed_fields_for_filing() -> None:
    after = {"amount_fen": 1_200_000, "beneficiaries_count": 180}
    assert changed_fields(BEFORE, after) == {"amount_fen": (1_000_000, 1_200_000)}


def test_reason_missing_message_shows_before_after_in_yuan() -> None:
    v = check_change(BEFORE, {"amount_fen": 1_200_000}, "")
    assert "10000.00" in v.message and "12000.00" in v.message


@pytest.mark.parametrize("role", ["working_secretary", "construction_director"])
def test_each_leader_votes_to_terminate_once(role: str) -> None:
    assert_ok(check_termination_vote(role, set(), 3, set()))
    other = "construction_director" if role == "working_secretary" else "working_secretary"
    assert_ok(check_termination_vote(role, {other}, 3, {4}))
    assert "终止" in check_termination_vote("working_member", set(), 3, set()).message
