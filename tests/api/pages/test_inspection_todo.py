"""The to-do page (待办) of issue 13: findings to rectify (the community), rectifications to verify (the working
committee, not the member who recorded the finding) and budget reviews waiting (finance, when policy asks)."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import update

from store.models import PolicyVersion
from tests.api.conftest import Clock, World
from tests.api.pages.conftest import Pages, text_of
from workflow import engine
from workflow.demo import Driver, at
from workflow.inspections import plan_inspection
from workflow.services import fire_event


def test_findings_to_rectify_and_to_verify(pages: Pages, world: World, drv: Driver, clock_at: Clock) -> None:
    with at(drv.now), world.db.uow() as uow:
        iid = plan_inspection(uow.session, drv.a("working_member1"), world.c0, dt.date(2026, 3, 1),
                              dt.date(2026, 3, 2)).id
        uow.commit()
    clock_at.set(drv.now)
    assert fire_event(world.db, "inspection", iid, "start_inspection", drv.a("working_member1")).ok
    fid = fire_event(world.db, "inspection", iid, "record_finding", drv.a("working_member1"), {
        "article": "第十五条", "description": "建成公示未满 3 个工作日即撤下", "requirement": "重新公示并留存照片",
        "workdays": 5}).data["finding_id"]
    sec = text_of(pages.get("secretary", "/").text)
    assert "整改:重新公示并留存照片" in sec and f"检查发现 #{fid}(第十五条)" in sec and "期限:2026-03-09 24:00 前" in sec
    assert "整改:" not in text_of(pages.get("other_community", "/").text)
    assert fire_event(world.db, "finding", fid, "submit_rectification", drv.a("secretary"),
                      {"text": "已重新公示 3 个工作日,照片已归档"}).ok
    assert "整改:" not in text_of(pages.get("secretary", "/").text)
    assert "核验整改情况" in text_of(pages.get("member2", "/").text)
    assert "核验整改情况" in text_of(pages.get("wsec", "/").text)
    # the member who recorded it cannot verify it, so it is not on their list
    assert "核验整改情况" not in text_of(pages.get("member", "/").text)


def test_budget_reviews_wait_for_finance_only_when_policy_asks(pages: Pages, world: World, drv: Driver,
                                                               clock_at: Clock) -> None:
    pid = drv.new_project("pending_approval", title="待预算审核项目")
    clock_at.set(drv.now)
    assert "预算审核(事前预算)" not in text_of(pages.get("finance", "/").text)
    with world.db.uow() as uow:
        pv = uow.session.query(PolicyVersion).first()
        assert pv is not None
        uow.session.execute(update(PolicyVersion).where(PolicyVersion.id == pv.id).values(
            data={**pv.data, "budget_review_required": True}))
        uow.commit()
    engine._POLICY_CACHE.clear()
    fin = text_of(pages.get("finance", "/").text)
    assert "预算审核(事前预算)" in fin and "待预算审核项目" in fin
    assert fire_event(world.db, "project", pid, "review_budget", drv.a("finance"),
                      {"outcome": "passed", "note": "预算合理"}).ok
    assert "预算审核(事前预算)" not in text_of(pages.get("finance", "/").text)
