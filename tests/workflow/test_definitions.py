"""The definitions are data, and that data is the contract of SPEC sections 2 and 3.

No database here: these tests read ``workflow/definitions/``, the shared machines, the guard
registry, the generated diagram in ``docs/workflow.md`` and the ``fundflow workflow show`` command.
"""
from __future__ import annotations

import ast
import json
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from workflow import engine
from workflow.definitions import DEFINITIONS, finding, fund_year, inspection, project
from workflow.machines import WORKFLOWS

ROOT = Path(__file__).resolve().parents[2]

# ------------------------------------------------------------------ SPEC section 2 (project lifecycle)

PROJECT_STATES = [
    "draft", "preliminary_review", "joint_meeting", "shelved", "publicity", "ready_to_submit", "pending_approval",
    "in_progress", "change_review", "acceptance", "settlement", "completion_publicity", "closed", "rejected",
    "withdrawn", "terminated",
]
PROJECT_TERMINAL = {"closed", "rejected", "withdrawn", "terminated"}

#: (source, trigger, dest) of every state-changing transition named in SPEC section 2's table.
PROJECT_MOVES = {
    ("draft", "submit_preliminary", "preliminary_review"),
    ("draft", "withdraw", "withdrawn"),
    ("preliminary_review", "grant_preliminary", "joint_meeting"),
    ("preliminary_review", "return_for_revision", "draft"),
    ("joint_meeting", "record_meeting", "publicity"),
    ("joint_meeting", "record_meeting", "shelved"),
    ("joint_meeting", "record_meeting", "draft"),
    ("shelved", "resume", "joint_meeting"),
    ("shelved", "withdraw", "withdrawn"),
    ("publicity", "publicity_elapsed", "ready_to_submit"),
    ("publicity", "publicity_elapsed", "joint_meeting"),
    ("ready_to_submit", "submit", "pending_approval"),
    ("pending_approval", "approve", "in_progress"),
    ("pending_approval", "reject", "rejected"),
    ("pending_approval", "return_for_revision", "draft"),
    ("in_progress", "request_change", "change_review"),
    ("in_progress", "report_completion", "acceptance"),
    ("change_review", "approve_change", "in_progress"),
    ("change_review", "reject_change", "in_progress"),
    ("acceptance", "accept", "settlement"),
    ("acceptance", "fail_acceptance", "in_progress"),
    ("settlement", "close_settlement", "completion_publicity"),
    ("completion_publicity", "completion_elapsed", "closed"),
    # issue 11: both main leaders stop a project that cannot go on
    ("in_progress", "terminate", "terminated"),
    ("change_review", "terminate", "terminated"),
    ("settlement", "terminate", "terminated"),
}

#: "Actions that keep the state" of SPEC section 2.
PROJECT_ACTIONS = [
    "object", "answer_objection", "signoff", "raise_concern", "resolve_concern", "record_board_meeting",
    "record_followup", "add_payment_item", "sign_invoice", "record_voucher_evidence", "pay", "cancel_payment_item",
    # issue 11
    "edit", "decide_flag", "confirm_answer", "accept_answer",
    # issue 13: finance's three steps (第十八条)
    "review_budget", "record_finance_check", "record_audit",
]
PROJECT_TRIGGERS = sorted({t for _s, t, _d in PROJECT_MOVES} | set(PROJECT_ACTIONS))

# ------------------------------------------------------------------------ SPEC section 3 (fund year)

FUND_YEAR_STATES = ["open", "reported", "disclosing", "disclosed", "closed"]
FUND_YEAR_MOVES = {
    ("open", "submit_report", "reported"),
    ("reported", "start_disclosure", "disclosing"),
    ("disclosing", "disclosure_elapsed", "disclosed"),
    ("disclosed", "close_year", "closed"),
}

KNOWN_ROLES = set(engine.ROLE_LEVEL) | {"system", "public"}


def _sources(t: dict) -> list[str]:
    return list(t["source"]) if isinstance(t["source"], list | tuple) else [t["source"]]


def _moves(module) -> set[tuple[str, str, str]]:  # type: ignore[no-untyped-def]
    return {(str(s), t["trigger"], str(t["dest"])) for t in module.TRANSITIONS if t["dest"] is not None
            for s in _sources(t)}


# ----------------------------------------------------------------------------------------- states


def test_project_states_are_exactly_spec_section_2() -> None:
    assert [s.value for s in project.State] == PROJECT_STATES
    assert project.INITIAL == "draft"
    assert {s.value for s in project.TERMINAL} == PROJECT_TERMINAL
    assert set(project.LABELS) == set(PROJECT_STATES)
    assert WORKFLOWS["project"].states == PROJECT_STATES


def test_fund_year_states_are_exactly_spec_section_3() -> None:
    assert [s.value for s in fund_year.State] == FUND_YEAR_STATES
    assert fund_year.INITIAL == "open"
    assert [s.value for s in fund_year.TERMINAL] == ["closed"]
    assert set(fund_year.LABELS) == set(FUND_YEAR_STATES)


def test_every_workflow_is_registered() -> None:
    assert set(DEFINITIONS) == {"project", "fund_year", "inspection", "finding"}
    assert set(WORKFLOWS) == {"project", "fund_year", "inspection", "finding"}


def test_inspection_and_finding_workflows_of_article_19() -> None:
    """Issue 13: an inspection is planned, carried out (findings recorded) and completed; a finding is rectified,
    submitted and closed only by a second member of the working committee, or sent back."""
    assert _moves(inspection) == {("planned", "start_inspection", "in_progress"),
                                  ("planned", "cancel_inspection", "cancelled"),
                                  ("in_progress", "complete_inspection", "completed")}
    assert _moves(finding) == {("rectifying", "submit_rectification", "submitted"),
                               ("submitted", "verify_rectification", "closed"),
                               ("submitted", "reject_rectification", "rectifying")}
    working = {"working_member", "working_secretary"}
    for t in inspection.TRANSITIONS:
        assert set(t["roles"]) == working, t
    roles = {t["trigger"]: set(t["roles"]) for t in finding.TRANSITIONS}
    assert roles == {"submit_rectification": {"community_secretary", "community_staff"},
                     "verify_rectification": working, "reject_rectification": working}
    for t in finding.TRANSITIONS:
        if t["trigger"] != "submit_rectification":
            assert "not_finding_recorder" in t["conditions"], t
    assert finding.TIMERS["rectifying"]["kind"] == "rectification_due"
    assert set(inspection.ARTICLES.values()) == set(finding.ARTICLES.values()) == {"第十九条"}


def test_finance_steps_are_finance_officers_and_approval_may_wait_for_the_budget_review() -> None:
    for trigger in ("review_budget", "record_finance_check", "record_audit"):
        specs = [t for t in project.TRANSITIONS if t["trigger"] == trigger]
        assert specs and all(t["roles"] == ["finance_officer"] and t["dest"] is None for t in specs)
        assert project.ARTICLES[trigger] == "第十八条"
    assert all("budget_reviewed" in t["conditions"] for t in project.TRANSITIONS if t["trigger"] == "approve")


# --------------------------------------------------------------------------------------- triggers


def test_project_triggers_are_exactly_spec_section_2() -> None:
    assert sorted(WORKFLOWS["project"].triggers()) == PROJECT_TRIGGERS
    # issue 11: edit, decide_flag, terminate, confirm_answer, accept_answer, cancel_payment_item; issue 13: finance
    assert len(PROJECT_TRIGGERS) == 38


@pytest.mark.parametrize("trigger", PROJECT_ACTIONS)
def test_state_keeping_action_exists_and_keeps_the_state(trigger: str) -> None:
    specs = [t for t in project.TRANSITIONS if t["trigger"] == trigger]
    assert specs, f"action {trigger} of SPEC section 2 is not declared"
    assert all(t["dest"] is None for t in specs), f"{trigger} must keep the state (dest None)"


def test_project_state_changes_are_exactly_spec_section_2() -> None:
    assert _moves(project) == PROJECT_MOVES


def test_the_first_approval_keeps_the_state_and_the_second_moves() -> None:
    approve = [t for t in project.TRANSITIONS if t["trigger"] == "approve"]
    assert {t["dest"] for t in approve} == {None, "in_progress"}
    assert all(set(t["roles"]) == {"working_secretary", "construction_director"} for t in approve)


def test_termination_needs_both_main_leaders_like_approval() -> None:
    terminate = [t for t in project.TRANSITIONS if t["trigger"] == "terminate"]
    assert {t["dest"] for t in terminate} == {None, "terminated"}
    assert all(set(t["roles"]) == {"working_secretary", "construction_director"} for t in terminate)
    assert all({"reason_given", "no_open_concern"} <= set(t["conditions"]) for t in terminate)
    assert project.LABELS["terminated"] == "已终止" and project.EVENT_LABELS["terminate"] == "终止项目"


def test_fund_year_transitions_are_exactly_spec_section_3() -> None:
    assert WORKFLOWS["fund_year"].triggers() == ["submit_report", "evaluate", "start_disclosure",
                                                 "disclosure_elapsed", "close_year"]
    assert _moves(fund_year) == FUND_YEAR_MOVES
    # the evaluation (Art. 16) runs alongside the disclosure: it keeps the state, and only the close waits for it
    (evaluate,) = [t for t in fund_year.TRANSITIONS if t["trigger"] == "evaluate"]
    assert evaluate["dest"] is None and set(_sources(evaluate)) == {"reported", "disclosing", "disclosed"}
    (close,) = [t for t in fund_year.TRANSITIONS if t["trigger"] == "close_year"]
    assert "year_evaluated" in close["conditions"]
    (start,) = [t for t in fund_year.TRANSITIONS if t["trigger"] == "start_disclosure"]
    assert start["source"] == "reported" and not start["conditions"]


def test_objections_only_during_notices_and_only_by_the_public() -> None:
    (obj,) = [t for t in project.TRANSITIONS if t["trigger"] == "object"]
    assert set(_sources(obj)) == {"publicity", "completion_publicity"}
    assert obj["roles"] == ["public"]


@pytest.mark.parametrize("module", [project, fund_year], ids=["project", "fund_year"])
def test_timers_are_fired_by_the_system_only(module) -> None:  # type: ignore[no-untyped-def]
    timer_events = {spec["event"] for spec in module.TIMERS.values() if spec["event"]}
    assert timer_events, "every workflow has at least one timer"
    for t in module.TRANSITIONS:
        if t["trigger"] in timer_events:
            assert t["roles"] == ["system"], t
            assert "deadline_reached" in t["conditions"], t
    for state, spec in module.TIMERS.items():
        assert state in [s.value for s in module.State]
        if spec["event"]:
            assert any(t["trigger"] == spec["event"] and state in _sources(t) for t in module.TRANSITIONS)


#: the main path of SPEC section 2 (draft … closed) plus the approved change: the forward transitions.
MAIN_PATH = ["draft", "preliminary_review", "joint_meeting", "publicity", "ready_to_submit", "pending_approval",
             "in_progress", "acceptance", "settlement", "completion_publicity", "closed"]
def test_an_open_concern_holds_every_forward_transition() -> None:
    forward = set(zip(MAIN_PATH, MAIN_PATH[1:], strict=False)) | {("change_review", "in_progress")}
    for t in project.TRANSITIONS:
        for src in _sources(t):
            if (src, t["dest"]) in forward and t["trigger"] != "reject_change":
                assert "no_open_concern" in t["conditions"], f"{t['trigger']} {src} → {t['dest']} ignores concerns"


def test_an_open_concern_holds_the_payment_side_but_not_a_cancellation() -> None:
    """Issue 11 point 1 (第十四条: 经费使用全程监督): money does not leave while a concern is open; withdrawing a
    wrong item (作废) is what a concern about it asks for, so that stays possible."""
    conditions = {t["trigger"]: t["conditions"] for t in project.TRANSITIONS}
    for trigger in ("add_payment_item", "sign_invoice", "pay", "close_settlement"):
        assert conditions[trigger][0] == "no_open_concern", trigger
    assert "no_open_concern" not in conditions["cancel_payment_item"]


#: who fires what, as SPEC section 1 ("does") and section 2 assign it.
SPEC_ROLES = {
    "submit_preliminary": {"community_secretary"},
    "record_meeting": {"community_secretary"},
    "submit": {"community_secretary"},
    "report_completion": {"community_secretary"},
    "grant_preliminary": {"working_member", "working_secretary"},
    "approve": {"working_secretary", "construction_director"},
    "reject": {"working_secretary", "construction_director"},
    "record_followup": {"working_member"},
    "signoff": {"supervisor"},
    "raise_concern": {"supervisor"},
    "resolve_concern": {"supervisor"},
    "sign_invoice": {"community_secretary", "construction_director", "working_secretary"},
    "pay": {"finance_officer"},
    "cancel_payment_item": {"community_secretary"},
    "close_settlement": {"finance_officer"},
    "object": {"public"},
    "publicity_elapsed": {"system"},
    "completion_elapsed": {"system"},
    "edit": {"community_secretary", "community_staff"},
    "decide_flag": {"working_member", "working_secretary"},
    "terminate": {"working_secretary", "construction_director"},
    "confirm_answer": {"supervisor"},
    "accept_answer": {"public"},
    "review_budget": {"finance_officer"},
    "record_finance_check": {"finance_officer"},
    "record_audit": {"finance_officer"},
}


@pytest.mark.parametrize("trigger", sorted(SPEC_ROLES))
def test_roles_follow_spec_section_1(trigger: str) -> None:
    for t in project.TRANSITIONS:
        if t["trigger"] == trigger:
            assert set(t["roles"]) == SPEC_ROLES[trigger], t


def test_fund_year_roles() -> None:
    roles = {t["trigger"]: set(t["roles"]) for t in fund_year.TRANSITIONS}
    assert roles["submit_report"] == {"community_secretary"}
    assert roles["evaluate"] == {"working_secretary"}
    assert roles["disclosure_elapsed"] == {"system"}


# ---------------------------------------------------------------------------- every name resolves


ALL = [project, fund_year, inspection, finding]
ALL_IDS = ["project", "fund_year", "inspection", "finding"]


@pytest.mark.parametrize("module", ALL, ids=ALL_IDS)
def test_every_name_in_the_definitions_resolves(module) -> None:  # type: ignore[no-untyped-def]
    guards = engine.registered_guards()
    states = {s.value for s in module.State}
    for t in module.TRANSITIONS:
        assert set(t) <= {"trigger", "source", "dest", "conditions", "when", "roles"}, t
        for name in list(t.get("conditions", [])) + list(t.get("when", [])):
            assert name in guards, f"guard {name!r} of {t['trigger']} is not registered"
        assert set(_sources(t)) <= states, t
        assert t["dest"] is None or t["dest"] in states, t
        assert t["roles"] and set(t["roles"]) <= KNOWN_ROLES, t
        assert t["trigger"] in module.EVENT_LABELS, f"{t['trigger']} has no Chinese label"
        assert module.ARTICLES.get(t["trigger"], "").startswith("第"), f"{t['trigger']} cites no article"
        if t["dest"] is None and t["trigger"] == "record_audit":
            continue  # 事后审计 (第十八条) is recorded after the project has closed; it never moves it
        for src in _sources(t):
            assert src not in [s.value for s in module.TERMINAL], f"{t['trigger']} leaves terminal state {src}"


@pytest.mark.parametrize("module", ALL, ids=ALL_IDS)
def test_every_non_terminal_state_can_be_left_and_reached(module) -> None:  # type: ignore[no-untyped-def]
    terminal = {s.value for s in module.TERMINAL}
    moves = _moves(module)
    reached = {module.INITIAL.value}
    frontier = [module.INITIAL.value]
    while frontier:
        s = frontier.pop()
        for src, _t, dest in moves:
            if src == s and dest not in reached:
                reached.add(dest)
                frontier.append(dest)
    assert reached == {s.value for s in module.State}
    for s in module.State:
        leaves = any(src == s.value for src, _t, _d in moves)
        assert leaves == (s.value not in terminal), s


def test_branches_of_one_trigger_are_told_apart_by_selectors() -> None:
    by_key: dict[tuple[str, str], list[dict]] = {}
    for t in project.TRANSITIONS:
        for s in _sources(t):
            by_key.setdefault((t["trigger"], s), []).append(t)
    for (trigger, state), specs in by_key.items():
        if len(specs) > 1:
            assert all(t.get("when") for t in specs), f"{trigger} from {state} has an unselected branch"


# ------------------------------------------------------------------------------ generated outputs


REGENERATE = "docs/workflow.md is stale: regenerate it with `fundflow workflow show > docs/workflow.md`"


def test_docs_workflow_md_is_generated_from_the_definitions() -> None:
    from workflow.describe import mermaid_markdown

    committed = (ROOT / "docs" / "workflow.md").read_text(encoding="utf-8")
    assert committed.rstrip("\n") == mermaid_markdown().rstrip("\n"), REGENERATE


def test_workflow_show_prints_what_docs_workflow_md_holds() -> None:
    from cli import main

    result = CliRunner().invoke(main, ["workflow", "show"])
    assert result.exit_code == 0, result.output
    committed = (ROOT / "docs" / "workflow.md").read_text(encoding="utf-8")
    assert result.output.rstrip("\n") == committed.rstrip("\n"), REGENERATE
    assert "```mermaid" in result.output and "stateDiagram-v2" in result.output


def test_workflow_show_json_prints_both_workflows() -> None:
    from cli import main

    result = CliRunner().invoke(main, ["workflow", "show", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert set(data) == {"project", "fund_year", "inspection", "finding"}
    assert [s["name"] for s in data["project"]["states"]] == PROJECT_STATES
    assert [s["name"] for s in data["fund_year"]["states"]] == FUND_YEAR_STATES
    assert data["project"]["initial"] == "draft" and data["fund_year"]["initial"] == "open"
    triggers = {t["trigger"] for t in data["project"]["transitions"]}
    assert sorted(triggers) == PROJECT_TRIGGERS
    moves = {(s, t["trigger"], t["dest"]) for t in data["project"]["transitions"] if t["dest"] for s in t["source"]}
    assert moves == PROJECT_MOVES
    for t in data["project"]["transitions"] + data["fund_year"]["transitions"]:
        assert {"trigger", "label", "source", "dest", "conditions", "when", "roles", "article"} <= set(t)
    assert {"publicity", "completion_publicity"} <= set(data["project"]["timers"])
    states = {s["name"]: s for s in data["project"]["states"]}
    assert states["terminated"] == {"name": "terminated", "label": "已终止", "terminal": True}
    (ends,) = [t for t in data["project"]["transitions"] if t["trigger"] == "terminate" and t["dest"]]
    assert ends["label"] == "终止项目" and ends["article"] == "第十一条"


# ---------------------------------------------------------------------------------- rules purity

FORBIDDEN_IMPORTS = {"sqlalchemy", "fastapi", "starlette", "jinja2", "store", "workflow", "api"}


def _top_level_imports(path: Path) -> set[str]:
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            out.update(a.name.split(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            out.add("rules" if node.level else (node.module or "").split(".")[0])
        elif isinstance(node, ast.Call) and getattr(node.func, "id", "") == "__import__" and node.args:
            arg = node.args[0]
            if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                out.add(arg.value.split(".")[0])
    return out


RULE_FILES = sorted((ROOT / "rules").rglob("*.py"))


@pytest.mark.parametrize("path", RULE_FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_rules_import_no_database_web_template_or_engine(path: Path) -> None:
    imported = _top_level_imports(path)
    bad = imported & FORBIDDEN_IMPORTS
    assert not bad, f"{path.relative_to(ROOT)} imports {sorted(bad)}: rules must stay pure"
    foreign = {m for m in imported if m and m != "rules" and m not in sys.stdlib_module_names}
    assert not foreign, f"{path.relative_to(ROOT)} imports third-party {sorted(foreign)}"


def test_rules_package_is_scanned() -> None:
    assert len(RULE_FILES) >= 5
