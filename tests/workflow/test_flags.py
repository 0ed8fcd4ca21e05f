"""Keyword flags (issue 11 point 11, 第四条): the community's written explanation is needed before submission,
but clears nothing; the working committee decides each flagged line item (cleared / upheld, with a note)
in preliminary review, and grants its consent only when every flag is cleared."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from store.models import AuditEvent, LineItem
from workflow.demo import Driver
from workflow.engine import Outcome

EXPLANATION = "活动室座椅供居民活动使用,不属于社区办公开支"
ITEMS = [{"description": "活动室办公椅", "quantity": 2, "unit_price": "3000.00", "catalog_item": "A06030000"},
         {"description": "加班误餐补助", "quantity": 1, "unit_price": "600.00", "catalog_item": "C23090000"},
         {"description": "LED 灯", "quantity": 2, "unit_price": "1200.00", "catalog_item": "A02061900"}]


def flagged_project(driver: Driver) -> tuple[int, list[int]]:
    """A project with two flagged line items (of three), explained and submitted for preliminary consent."""
    pid = driver.propose(amount="9000.00")
    driver.edit(pid, line_items=ITEMS, keyword_flags_answer=EXPLANATION)
    driver.fire(pid, "submit_preliminary", driver.a("secretary"))
    with driver.db.uow(write=False) as uow:
        ids = list(uow.session.execute(select(LineItem.id).where(LineItem.project_id == pid)
                                       .order_by(LineItem.id)).scalars())
    return pid, ids


def decide(driver: Driver, pid: int, item: int, decision: str = "cleared", note: str = "已阅读社区说明,经核实不属于禁止用途",
           who: str = "working_member1") -> Outcome:
    return driver.fire(pid, "decide_flag", driver.a(who), {"line_item_id": item, "decision": decision, "note": note},
                       check=False)


def grant(driver: Driver, pid: int) -> Outcome:
    return driver.fire(pid, "grant_preliminary", driver.a("working_member2"), check=False)


def test_the_explanation_is_required_before_submission_but_clears_nothing(db, city, driver):
    pid = driver.propose(amount="9000.00")
    driver.edit(pid, line_items=ITEMS)
    out = driver.fire(pid, "submit_preliminary", driver.a("secretary"), check=False)
    assert not out.ok and (out.verdict.code, out.verdict.article) == ("forbidden.flag_unanswered", "第四条")
    driver.edit(pid, keyword_flags_answer=EXPLANATION)
    driver.fire(pid, "submit_preliminary", driver.a("secretary"))
    out = grant(driver, pid)
    assert not out.ok and (out.verdict.code, out.verdict.article) == ("forbidden.flag_undecided", "第四条")
    assert "活动室办公椅" in out.verdict.message and "加班误餐补助" in out.verdict.message
    assert "LED 灯" not in out.verdict.message
    assert driver.state(pid) == "preliminary_review"


def test_every_flag_cleared_then_consent_is_given(db, city, driver):
    pid, (chair, meal, _lamp) = flagged_project(driver)
    out = decide(driver, pid, chair)
    assert out.ok and out.data["decision"] == "cleared" and out.data["keywords"] == ["办公", "办公椅"]
    refused = grant(driver, pid)
    assert not refused.ok and "加班误餐补助" in refused.verdict.message and "活动室办公椅" not in refused.verdict.message
    decide(driver, pid, meal, who="working_secretary", note="为居民志愿者误餐,非社区工作者补贴")
    out = grant(driver, pid)
    assert out.ok and out.to_state == "joint_meeting", out.verdict
    with db.uow(write=False) as uow:
        rows = uow.session.execute(select(LineItem.id, LineItem.flag_decision, LineItem.flag_decided_by,
                                          LineItem.flag_decided_at, LineItem.flag_note)
                                   .where(LineItem.project_id == pid).order_by(LineItem.id)).all()
        decided = [e.payload for e in uow.session.execute(select(AuditEvent).where(
            AuditEvent.entity_id == pid, AuditEvent.event == "decide_flag").order_by(AuditEvent.seq)).scalars()]
    assert [r[1] for r in rows] == ["cleared", "cleared", ""]
    assert rows[1][2] == driver.a("working_secretary").person_id and rows[1][3] is not None
    assert rows[1][4] == "为居民志愿者误餐,非社区工作者补贴"
    assert [d["line_item_id"] for d in decided] == [chair, meal]


def test_an_upheld_flag_holds_consent_until_the_plan_is_revised(db, city, driver):
    pid, (chair, meal, _lamp) = flagged_project(driver)
    decide(driver, pid, chair, "upheld", "办公椅属于社区办公开支,不得使用本经费")
    decide(driver, pid, meal)
    out = grant(driver, pid)
    assert not out.ok and (out.verdict.code, out.verdict.article) == ("forbidden.flag_upheld", "第四条")
    assert "活动室办公椅" in out.verdict.message
    driver.fire(pid, "return_for_revision", driver.a("working_member1"), reason="办公椅不得使用本经费,请修改")
    driver.edit(pid, amount="3000.00", line_items=[ITEMS[1], ITEMS[2]])  # new items: decided afresh
    driver.fire(pid, "submit_preliminary", driver.a("secretary"))
    out = grant(driver, pid)
    assert not out.ok and out.verdict.code == "forbidden.flag_undecided"
    driver.decide_flags(pid)
    assert grant(driver, pid).ok


def test_a_decision_may_be_revised_before_consent(db, city, driver):
    pid, (chair, meal, _lamp) = flagged_project(driver)
    decide(driver, pid, chair, "upheld", "疑似办公用品")
    out = decide(driver, pid, chair, "cleared", "补充材料显示为活动室用椅")
    assert out.ok and out.data["previous_decision"] == "upheld"
    decide(driver, pid, meal)
    assert grant(driver, pid).ok


@pytest.mark.parametrize(("name", "item", "payload", "code"), [
    ("unflagged", 2, {"decision": "cleared", "note": "经核实"}, "forbidden.flag_not_flagged"),
    ("no-note", 0, {"decision": "upheld", "note": " "}, "forbidden.flag_note_missing"),
    ("unknown-item", None, {"decision": "cleared", "note": "经核实"}, "forbidden.flag_item_not_found"),
    ("bad-decision", 0, {"decision": "maybe", "note": "经核实"}, "payload.invalid"),
])
def test_decision_refusals_cite_article_4(db, city, driver, name, item, payload, code):
    pid, ids = flagged_project(driver)
    if item is None:
        other = driver.propose(title="另一个项目")
        with db.uow(write=False) as uow:
            target = uow.session.execute(select(LineItem.id).where(LineItem.project_id == other)).scalar_one()
    else:
        target = ids[item]
    out = driver.fire(pid, "decide_flag", driver.a("working_member1"), {"line_item_id": target, **payload},
                      check=False)
    assert not out.ok and (out.verdict.code, out.verdict.article) == (code, "第四条"), out.verdict
    with db.uow(write=False) as uow:
        assert set(uow.session.execute(select(LineItem.flag_decision).where(LineItem.project_id == pid))
                   .scalars()) == {""}


@pytest.mark.parametrize("who", ["secretary", "supervisor1", "director", "finance"])
def test_only_the_working_committee_decides(db, city, driver, who):
    pid, ids = flagged_project(driver)
    out = decide(driver, pid, ids[0], who=who)
    assert not out.ok and out.status == 403 and out.verdict.code == "auth.no_post"


def test_flags_are_decided_only_in_preliminary_review(db, city, driver):
    pid = driver.propose(amount="9000.00")
    driver.edit(pid, line_items=ITEMS, keyword_flags_answer=EXPLANATION)
    with db.uow(write=False) as uow:
        item = uow.session.execute(select(LineItem.id).where(LineItem.project_id == pid)
                                   .order_by(LineItem.id)).scalars().first()
    out = decide(driver, pid, int(item or 0))
    assert not out.ok and out.verdict.code == "workflow.invalid_state" and out.verdict.article == "第四条"
