"""Finance's three steps on a project (第十八条: 事前预算、事中监督、事后审计), and the approval that waits for the
budget review when the city's policy says so."""
from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import select

from rules.policy import Policy
from store.db import Database
from store.models import FinanceCheck
from workflow.demo import City, Driver, create_city, open_years
from workflow.engine import SYSTEM


def checks(db: Database, pid: int) -> list[tuple[str, str, int]]:
    with db.uow(write=False) as uow:
        return [tuple(r) for r in uow.session.execute(  # type: ignore[misc]
            select(FinanceCheck.kind, FinanceCheck.outcome, FinanceCheck.round)
            .where(FinanceCheck.project_id == pid).order_by(FinanceCheck.id))]


@pytest.fixture
def strict(db: Database) -> Iterator[Driver]:
    """A city whose policy makes approval wait for finance's budget review."""
    city = create_city(db, communities=1, password=None, policy=Policy(budget_review_required=True))
    open_years(db, city, [2026])
    yield Driver(db, city)


def board_then_approve(drv: Driver, pid: int, check: bool = True):  # type: ignore[no-untyped-def]
    drv.fire(pid, "record_board_meeting", drv.a("working_member1"), drv.board())
    return drv.fire(pid, "approve", drv.a("working_secretary"), check=check)


def test_the_budget_review_is_recorded_for_the_submission_and_needed_only_when_policy_says(
        db: Database, city: City, driver: Driver) -> None:
    pid = driver.new_project("pending_approval")
    out = driver.fire(pid, "review_budget", driver.a("finance"), {"outcome": "passed", "note": "预算依据充分,单价合理"})
    assert out.ok and out.to_state == "pending_approval"
    assert checks(db, pid) == [("budget_review", "passed", 1)]
    # the default policy does not make approval wait: a project without a review is approved as before
    other = driver.new_project("in_progress")
    assert driver.state(other) == "in_progress" and checks(db, other) == []


def test_approval_waits_for_a_passed_budget_review_when_the_policy_requires_it(db: Database,
                                                                               strict: Driver) -> None:
    drv = strict
    pid = drv.propose()
    drv.drive(pid, "pending_approval")
    out = board_then_approve(drv, pid, check=False)
    assert (out.status, out.verdict.code, out.verdict.article) == (409, "finance.budget_review_pending", "第十八条")
    assert drv.fire(pid, "review_budget", drv.a("finance"), {"outcome": "failed", "note": "缺少报价依据"}).ok
    out = drv.fire(pid, "approve", drv.a("working_secretary"), check=False)
    assert (out.status, out.verdict.code, out.verdict.article) == (409, "finance.budget_review_failed", "第十八条")
    assert drv.fire(pid, "review_budget", drv.a("finance"), {"outcome": "passed", "note": "已补充三家报价"}).ok
    drv.fire(pid, "approve", drv.a("working_secretary"))
    drv.fire(pid, "approve", drv.a("director"))
    assert drv.state(pid) == "in_progress"


def test_a_review_counts_for_its_submission_only(db: Database, strict: Driver) -> None:
    drv = strict
    pid = drv.propose()
    drv.drive(pid, "pending_approval")
    assert drv.fire(pid, "review_budget", drv.a("finance"), {"outcome": "passed", "note": "预算合理"}).ok
    drv.fire(pid, "return_for_revision", drv.a("working_secretary"), reason="请补充施工方案")
    while drv.state(pid) != "pending_approval":  # the second submission (the declaration stays signed off)
        if drv.state(pid) == "publicity":
            drv.after_days(12)
            drv.fire(pid, "publicity_elapsed", SYSTEM)
        else:
            drv.step(pid, "pending_approval")
    out = board_then_approve(drv, pid, check=False)
    assert out.verdict.code == "finance.budget_review_pending"


@pytest.mark.parametrize(("trigger", "payload"), [
    ("review_budget", {"outcome": "passed", "note": " "}),
    ("review_budget", {"outcome": "passed"}),
])
def test_a_budget_review_without_its_opinion_is_refused(db: Database, city: City, driver: Driver, trigger: str,
                                                        payload: dict[str, str]) -> None:
    pid = driver.new_project("pending_approval")
    out = driver.fire(pid, trigger, driver.a("finance"), payload, check=False)
    assert (out.status, out.verdict.code, out.verdict.article) == (409, "finance.conclusion_missing", "第十八条")
    assert checks(db, pid) == []


def test_finance_steps_refuse_other_posts_and_other_states(db: Database, city: City, driver: Driver) -> None:
    pid = driver.new_project("pending_approval")
    for who in ("working_secretary", "secretary", "supervisor1"):
        out = driver.fire(pid, "review_budget", driver.a(who), {"outcome": "passed", "note": "同意"}, check=False)
        assert (out.status, out.verdict.code) == (403, "auth.no_post")
    out = driver.fire(pid, "record_finance_check", driver.a("finance"), {"outcome": "normal", "note": "正常"},
                      check=False)
    assert (out.status, out.verdict.code, out.verdict.article) == (409, "workflow.invalid_state", "第十八条")
    out = driver.fire(pid, "record_audit", driver.a("finance"), {"outcome": "compliant", "conclusion": "无问题"},
                      check=False)
    assert (out.status, out.verdict.code) == (409, "workflow.invalid_state")
    out = driver.fire(pid, "review_budget", driver.a("finance"), {"outcome": "maybe", "note": "同意"}, check=False)
    assert (out.status, out.verdict.code) == (422, "payload.invalid")
    assert checks(db, pid) == []


def test_in_process_checks_repeat_and_the_audit_follows_settlement_with_its_conclusion(
        db: Database, city: City, driver: Driver) -> None:
    pid = driver.new_project("in_progress")
    finance = driver.a("finance")
    assert driver.fire(pid, "record_finance_check", finance, {"outcome": "normal", "note": "材料进场与清单一致"}).ok
    assert driver.fire(pid, "record_finance_check", finance,
                       {"outcome": "issues_found", "note": "第二批灯具发票抬头有误,已提醒更正"}).ok
    out = driver.fire(pid, "record_finance_check", finance, {"outcome": "normal", "note": ""}, check=False)
    assert out.verdict.code == "finance.conclusion_missing"
    out = driver.fire(pid, "record_finance_check", driver.a("working_member1"), {"outcome": "normal", "note": "正常"},
                      check=False)
    assert out.status == 403
    # not before settlement
    out = driver.fire(pid, "record_audit", finance, {"outcome": "compliant", "conclusion": "无问题"}, check=False)
    assert out.verdict.code == "workflow.invalid_state"
    driver.drive(pid, "closed")
    out = driver.fire(pid, "record_audit", finance, {"outcome": "compliant"}, check=False)
    assert (out.status, out.verdict.code, out.verdict.article) == (409, "finance.conclusion_missing", "第十八条")
    out = driver.fire(pid, "record_audit", finance,
                      {"outcome": "compliant", "conclusion": "资金按批准用途使用,票据齐全,账实相符"})
    assert out.ok and out.to_state == "closed"
    assert [(k, o) for k, o, _r in checks(db, pid)] == [
        ("in_process", "normal"), ("in_process", "issues_found"), ("audit", "compliant")]


def test_a_terminated_project_is_audited_too(db: Database, city: City, driver: Driver) -> None:
    pid = driver.new_project("terminated")
    assert driver.fire(pid, "record_audit", driver.a("finance"),
                       {"outcome": "issues_found", "conclusion": "终止前未支付,承诺已释放,无资金损失"}).ok
