"""Editing a draft (issue 11 point 6, 第九条–第十条): the community edits its plan while it is a draft (new,
returned for revision, voted down) under the proposal rules of creation; each edit is audited with before
and after; from preliminary consent on the plan is frozen (refusals cite 第十条)."""
from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from store.db import Database
from store.models import AuditEvent, LineItem, Need, Project, ProjectNeed
from workflow.demo import Driver
from workflow.engine import Outcome
from workflow.services import record_need

ITEMS = [{"description": "LED 路灯", "quantity": 4, "unit_price": "3250.00", "catalog_item": "C23120000"}]


def project(db: Database, pid: int) -> Project:
    with db.uow(write=False) as uow:
        p = uow.session.get(Project, pid)
        assert p is not None
        uow.session.expunge(p)
        return p


def items(db: Database, pid: int) -> list[tuple[str, int, int, list[str]]]:
    with db.uow(write=False) as uow:
        return [(d, q, u, list(k)) for d, q, u, k in uow.session.execute(
            select(LineItem.description, LineItem.quantity, LineItem.unit_price_fen, LineItem.flagged_keywords)
            .where(LineItem.project_id == pid).order_by(LineItem.id))]


def needs(db: Database, pid: int) -> list[int]:
    with db.uow(write=False) as uow:
        return sorted(uow.session.execute(select(ProjectNeed.need_id).where(ProjectNeed.project_id == pid)).scalars())


def last_event(db: Database, pid: int) -> AuditEvent:
    with db.uow(write=False) as uow:
        ev = uow.session.execute(select(AuditEvent).where(AuditEvent.entity_type == "project",
                                                          AuditEvent.entity_id == pid)
                                 .order_by(AuditEvent.seq.desc()).limit(1)).scalar_one()
        uow.session.expunge(ev)
        return ev


def new_need(driver: Driver, community: int = 0, title: str = "路灯需求补充") -> int:
    c = driver.city.communities[community]
    with driver.db.uow() as uow:
        need = record_need(uow.session, c.people["staff"], c.id, title, "居民反映", "visit", 12)
        uow.commit()
        return need.id


def edit(driver: Driver, pid: int, who: str = "secretary", community: int = 0, **payload: Any) -> Outcome:
    return driver.fire(pid, "edit", driver.a(who, community), payload, check=False)


def test_a_draft_is_edited_and_every_change_is_audited_with_before_and_after(db, city, driver):
    pid = driver.propose(amount="12000.00")
    version = project(db, pid).version
    extra = new_need(driver)
    out = edit(driver, pid, title="老旧小区路灯更换", description="更换小区内损坏路灯 4 盏。", amount="13000.00",
               line_items=ITEMS, need_ids=[*needs(db, pid), extra], planned_end="2026-10-31")
    assert out.ok and out.to_state == "draft" and out.version == version + 1, out.verdict
    p = project(db, pid)
    assert (p.title, p.amount_fen, p.planned_end.isoformat()) == ("老旧小区路灯更换", 1_300_000, "2026-10-31")
    assert items(db, pid) == [("LED 路灯", 4, 325_000, [])]
    assert extra in needs(db, pid) and len(needs(db, pid)) == 2
    changes = last_event(db, pid).payload["changes"]
    assert changes["title"] == {"before": "老旧小区路灯维修", "after": "老旧小区路灯更换"}
    assert changes["amount"] == {"before": "12000.00", "after": "13000.00"}
    assert changes["planned_end"] == {"before": "2026-11-30", "after": "2026-10-31"}
    assert changes["line_items"]["after"] == [{"description": "LED 路灯", "quantity": 4, "unit_price": "3250.00",
                                               "amount": "13000.00", "catalog_item": "C23120000"}]
    assert changes["line_items"]["before"][0]["amount"] == "12000.00"
    assert len(changes["need_ids"]["after"]) == 2
    # fields left out are kept, and only what changed is recorded
    assert "category" not in changes and p.category == "property"


def test_community_staff_may_edit_and_derived_fields_are_recomputed(db, city, driver):
    pid = driver.propose(beneficiaries=300)
    assert not project(db, pid).is_small_group
    out = edit(driver, pid, who="staff", beneficiaries_count=20, keyword_flags_answer="活动室用椅,供居民活动使用",
               line_items=[{"description": "活动室办公椅", "quantity": 2, "unit_price": "6000.00", "catalog_item": "A06030000"}])
    assert out.ok, out.verdict
    p = project(db, pid)
    assert p.is_small_group and p.beneficiaries_count == 20
    assert items(db, pid)[0][3] == ["办公", "办公椅"]  # the keyword screen ran on the new line item
    changes = last_event(db, pid).payload["changes"]
    assert changes["is_small_group"] == {"before": False, "after": True}
    assert out.verdict.ok and not out.verdict.warning
    # an unanswered flag is a warning on the edit, as at creation; submission then refuses it
    warned = edit(driver, pid, keyword_flags_answer="")
    assert warned.ok and warned.verdict.warning and warned.verdict.code == "forbidden.flag_unanswered"
    refused = driver.fire(pid, "submit_preliminary", driver.a("secretary"), check=False)
    assert not refused.ok and refused.verdict.code == "forbidden.flag_unanswered"


def test_a_plan_returned_for_revision_or_voted_down_is_edited_again(db, city, driver):
    pid = driver.propose()
    driver.drive(pid, "preliminary_review")
    driver.fire(pid, "return_for_revision", driver.a("working_member1"), reason="预算明细不完整,请补充")
    assert edit(driver, pid, description="补充了预算明细。").ok
    driver.drive(pid, "joint_meeting")
    driver.fire(pid, "record_meeting", driver.a("secretary"), driver.meeting(passed=False))
    assert driver.state(pid) == "draft"
    assert edit(driver, pid, description="按联席会议意见调整了方案。").ok
    assert project(db, pid).description == "按联席会议意见调整了方案。"


REFUSED: list[tuple[str, dict[str, Any], str, str]] = [
    ("nothing", {}, "proposal.nothing_changed", "第九条"),
    ("same-values", {"title": "老旧小区路灯维修", "amount": "12000.00"}, "proposal.nothing_changed", "第九条"),
    ("sum-mismatch", {"amount": "13000.00"}, "proposal.line_items_mismatch", "第九条"),
    ("items-mismatch", {"line_items": ITEMS}, "proposal.line_items_mismatch", "第九条"),
    ("category", {"category": "travel"}, "category.invalid", "第八条"),
    ("other-unjustified", {"category": "other"}, "category.other_needs_justification", "第八条"),
    ("no-needs", {"need_ids": []}, "proposal.no_need", "第九条"),
    ("beneficiaries", {"beneficiaries_count": 0}, "proposal.beneficiaries_invalid", "第九条"),
    ("dates", {"planned_start": "2026-12-01"}, "proposal.dates_invalid", "第九条"),
    ("contractor-kind", {"contractor_kind": "company"}, "proposal.contractor_kind_invalid", "第九条"),
    ("blank-title", {"title": "  "}, "proposal.title_missing", "第九条"),
    ("null", {"title": None}, "payload.invalid", "第九条"),
    ("money-float", {"amount": 13000.5}, "payload.invalid", "第九条"),
    ("unknown-field", {"state": "closed"}, "payload.invalid", "第九条"),
]


@pytest.mark.parametrize(("name", "payload", "code", "article"), REFUSED, ids=[r[0] for r in REFUSED])
def test_an_edit_follows_the_proposal_rules(db, city, driver, name, payload, code, article):
    pid = driver.propose(amount="12000.00")
    before = (project(db, pid).version, items(db, pid), needs(db, pid))
    out = edit(driver, pid, **payload)
    assert not out.ok and (out.verdict.code, out.verdict.article) == (code, article), out.verdict
    assert out.status in (409, 422)
    assert (project(db, pid).version, items(db, pid), needs(db, pid)) == before


def test_a_need_of_another_community_is_refused(db, city, driver):
    pid = driver.propose()
    foreign = new_need(driver, community=1)
    out = edit(driver, pid, need_ids=[foreign])
    assert not out.ok and (out.verdict.code, out.verdict.article) == ("proposal.need_invalid", "第九条")
    with db.uow(write=False) as uow:
        assert uow.session.get(Need, foreign) is not None
    assert foreign not in needs(db, pid)


@pytest.mark.parametrize("who,community", [("supervisor1", 0), ("secretary", 1), ("working_member1", 0),
                                           ("working_secretary", 0)])
def test_only_the_projects_own_community_edits(db, city, driver, who, community):
    pid = driver.propose()
    out = edit(driver, pid, who=who, community=community, description="别人改的内容。")
    assert not out.ok and out.status == 403 and out.verdict.code == "auth.no_post"
    assert out.verdict.article == "第九条"


@pytest.mark.parametrize("target", ["preliminary_review", "joint_meeting", "publicity", "ready_to_submit",
                                    "pending_approval", "in_progress", "settlement", "closed", "withdrawn"])
def test_from_preliminary_consent_on_the_plan_is_frozen(db, city, driver, target):
    pid = driver.new_project(target)
    before = project(db, pid).version
    out = edit(driver, pid, description="想在这时改方案。")
    assert not out.ok and out.status == 409
    assert (out.verdict.code, out.verdict.article) == ("proposal.plan_frozen", "第十条"), out.verdict
    assert "「" in out.verdict.message
    assert project(db, pid).version == before and project(db, pid).description != "想在这时改方案。"


def test_a_publicity_notice_shows_the_plan_as_edited(db, city, driver):
    """The meeting, the notice and the approval see the edited plan, never an older one."""
    pid = driver.propose(amount="12000.00")
    assert edit(driver, pid, description="更换 4 盏路灯并加装感应开关。").ok
    driver.drive(pid, "publicity")
    from store.models import Notice

    with db.uow(write=False) as uow:
        body = uow.session.execute(select(Notice.body).where(Notice.project_id == pid)).scalar_one()
    assert "更换 4 盏路灯并加装感应开关。" in body
