"""rules.supervision: sign-offs and concerns (第十四条), follow-up and acceptance (第十二条)."""
from __future__ import annotations

import pytest

from rules.supervision import (
    SIGNOFF_STAGES,
    check_acceptance,
    check_acceptance_team,
    check_catalog_items,
    check_concern_resolvable,
    check_followup_recorded,
    check_no_open_concern,
    check_signed_off,
    check_signoff_stage,
    check_supervisor_not_performer,
)
from tests.rules.helpers import Case, assert_ok, run_case

SUP = "第十四条"
ACC = "第十二条"

REFUSALS: list[Case] = [
    Case("unknown-stage", lambda: check_signoff_stage("payment", "settlement", ()), "supervision.stage_invalid", SUP),
    Case("declaration-too-late", lambda: check_signoff_stage("declaration", "pending_approval", ()),
         "supervision.stage_invalid", SUP),
    Case("declaration-in-draft", lambda: check_signoff_stage("declaration", "draft", ()),
         "supervision.stage_invalid", SUP),
    Case("acceptance-early", lambda: check_signoff_stage("acceptance", "in_progress", ()),
         "supervision.stage_invalid", SUP),
    Case("write-off-early", lambda: check_signoff_stage("write_off", "settlement", ()),
         "supervision.stage_invalid", SUP),
    Case("signed-twice", lambda: check_signoff_stage("acceptance", "acceptance", {"declaration", "acceptance"}),
         "supervision.already_signed", SUP),
    Case("performer", lambda: check_supervisor_not_performer(9, {3, 9}), "sod.supervisor_performed", SUP),
    Case("open-concern", lambda: check_no_open_concern(2), "supervision.open_concern", SUP),
    Case("declaration-missing", lambda: check_signed_off("declaration", set()), "supervision.signoff_missing", SUP),
    Case("acceptance-missing", lambda: check_signed_off("acceptance", {"declaration"}),
         "supervision.signoff_missing", SUP),
    Case("write-off-missing", lambda: check_signed_off("write_off", {"declaration", "acceptance"}),
         "supervision.signoff_missing", SUP),
    Case("acceptance-voided", lambda: check_signed_off("acceptance", {"declaration"}, {"acceptance"}),
         "supervision.signoff_voided", SUP),
    Case("team-empty", lambda: check_acceptance_team(set()), "acceptance.team_incomplete", ACC),
    Case("team-no-supervisor", lambda: check_acceptance_team({"working_member"}), "acceptance.team_incomplete", ACC),
    Case("team-no-working", lambda: check_acceptance_team({"supervisor", "community_secretary"}),
         "acceptance.team_incomplete", ACC),
    Case("no-quality", lambda: check_acceptance("  ", 90), "acceptance.record_incomplete", ACC),
    Case("satisfaction-high", lambda: check_acceptance("质量良好", 101), "acceptance.record_incomplete", ACC),
    Case("satisfaction-negative", lambda: check_acceptance("质量良好", -1), "acceptance.record_incomplete", ACC),
    Case("catalog-missing", lambda: check_catalog_items([("乒乓球台", ""), ("球拍", "体育用品")]),
         "acceptance.catalog_missing", ACC),
    Case("no-followup", lambda: check_followup_recorded(0), "followup.missing", ACC),
]


@pytest.mark.parametrize("case", REFUSALS, ids=lambda c: c.id)
def test_refusals(case: Case) -> None:
    run_case(case)


@pytest.mark.parametrize(("stage", "state"), [
    ("declaration", "preliminary_review"), ("declaration", "joint_meeting"), ("declaration", "publicity"),
    ("declaration", "ready_to_submit"), ("acceptance", "acceptance"), ("write_off", "completion_publicity"),
])
def test_signoff_stage_ok(stage: str, state: str) -> None:
    assert stage in SIGNOFF_STAGES
    assert_ok(check_signoff_stage(stage, state, set()))


def test_signoff_later_stage_after_earlier_ok() -> None:
    assert_ok(check_signoff_stage("write_off", "completion_publicity", {"declaration", "acceptance"}))


def test_supervisor_not_performer_ok() -> None:
    assert_ok(check_supervisor_not_performer(9, {3, 4}))
    assert_ok(check_supervisor_not_performer(9, []))


def test_no_open_concern_ok() -> None:
    assert_ok(check_no_open_concern(0))


@pytest.mark.parametrize(("stage", "label"), [("declaration", "申报"), ("acceptance", "验收"), ("write_off", "核销")])
def test_signed_off(stage: str, label: str) -> None:
    assert_ok(check_signed_off(stage, {stage}))
    assert label in check_signed_off(stage, set()).message


def test_signed_off_unknown_stage() -> None:
    with pytest.raises(ValueError):
        check_signed_off("payment", set())


@pytest.mark.parametrize("roles", [
    {"working_member", "supervisor"}, {"working_secretary", "supervisor"},
    ["working_member", "working_member", "supervisor", "community_secretary"],
])
def test_acceptance_team_ok(roles: set[str]) -> None:
    assert_ok(check_acceptance_team(roles))


@pytest.mark.parametrize("satisfaction", [0, 85, 100])
def test_acceptance_ok(satisfaction: int) -> None:
    assert_ok(check_acceptance("灯具全部更换到位,运行正常", satisfaction))


def test_catalog_items_ok_and_message() -> None:
    assert_ok(check_catalog_items([("乒乓球台", "体育用品"), ("球拍", "体育用品")]))
    assert_ok(check_catalog_items([]))
    assert "乒乓球台" in check_catalog_items([("乒乓球台", " ")]).message


def test_followup_ok() -> None:
    assert_ok(check_followup_recorded(1))
    assert_ok(check_followup_recorded(4))


CONCERN_REFUSALS: list[Case] = [
    Case("concern-not-found", lambda: check_concern_resolvable(False, False), "supervision.concern_not_found", SUP),
    Case("concern-resolved", lambda: check_concern_resolvable(True, True), "supervision.concern_resolved", SUP),
]


@pytest.mark.parametrize("case", CONCERN_REFUSALS, ids=lambda c: c.id)
def test_concern_refusals(case: Case) -> None:
    run_case(case)


def test_concern_resolvable_ok() -> None:
    assert_ok(check_concern_resolvable(True, False))


def test_a_fresh_signoff_stands_beside_a_voided_one() -> None:
    """A failed acceptance voids that round's sign-off; the next round's fresh one is what counts."""
    assert_ok(check_signed_off("acceptance", {"declaration", "acceptance"}, {"acceptance"}))
    assert "重新签字" in check_signed_off("acceptance", set(), {"acceptance"}).message
