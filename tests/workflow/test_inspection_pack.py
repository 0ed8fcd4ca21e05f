"""The inspection pack (第十九条): the projects active in the period with their trail, the period's ledger, the
open deadlines, the flags and the findings — as plain data and as a PDF with its verification code."""
from __future__ import annotations

import datetime as dt

from store.db import Database
from tests.documents.helpers import flat
from tests.workflow.test_inspections import finding_payload, fire, plan
from workflow import papers
from workflow.demo import City, Driver, at
from workflow.inspections import pack, pack_json


def test_the_pack_holds_the_period_and_nothing_outside_it(db: Database, city: City, driver: Driver) -> None:
    active = driver.new_project("in_progress", title="老旧小区路灯维修")  # March: approved, committed
    elsewhere = driver.new_project("in_progress", community=1, title="另一社区的项目")
    driver.now = dt.datetime(2026, 5, 4, 9, 0, tzinfo=dt.UTC)
    later = driver.propose(title="五月提议的健身器材")  # outside March
    member = driver.a("working_member1")
    iid = plan(db, driver, member, period=(dt.date(2026, 3, 1), dt.date(2026, 3, 31)))
    assert fire(db, driver, "inspection", iid, "start_inspection", member).ok
    fid = fire(db, driver, "inspection", iid, "record_finding", member,
               finding_payload(project_id=active)).data["finding_id"]
    with db.uow(write=False) as uow:
        p = pack(uow.session, iid)
    assert [x.project_id for x in p.projects] == [active]
    assert elsewhere not in [x.project_id for x in p.projects] and later not in [x.project_id for x in p.projects]
    (project,) = p.projects
    events = [e.event for e in project.trail]
    assert events[0] == "提议项目" and "审批同意" in events and "记录班子会议" in events
    approve = next(e for e in project.trail if e.event == "审批同意")
    assert approve.actor == city.areas[0].names["working_secretary"] and approve.role == "社区党工委书记"
    moves = [e.moved for e in project.trail if e.moved]
    assert moves[:2] == ["— → 拟提议", "拟提议 → 待党工委初步同意"]
    # the ledger of March: the commitment of the approved project
    assert any(r.kind == "承诺" and r.project_code == project.code and r.amount_fen == 1_200_000 for r in p.ledger)
    assert all(dt.date(2026, 3, 1) <= r.at.astimezone(dt.timezone(dt.timedelta(hours=8))).date()
               <= dt.date(2026, 3, 31) for r in p.ledger)
    # open deadlines: the finding's rectification and the project's follow-up at least; not the other community's
    kinds = {(d.what, d.kind) for d in p.deadlines}
    assert (f"检查发现 #{fid}", "整改期限") in kinds
    assert all("另一社区" not in d.what for d in p.deadlines)
    assert p.flags == ()
    assert [(f.finding_id, f.article, f.project_code) for f in p.findings] == [(fid, "第十三条", project.code)]
    data = pack_json(p)
    assert data["projects"][0]["amount"] == "12000.00"
    assert data["findings"][0]["due_at"].endswith("+08:00")


def test_the_pack_prints_with_a_verification_code_that_changes_with_its_data(db: Database, city: City,
                                                                             driver: Driver) -> None:
    pid = driver.new_project("in_progress")
    member = driver.a("working_member1")
    iid = plan(db, driver, member)
    assert fire(db, driver, "inspection", iid, "start_inspection", member).ok
    with db.uow(write=False) as uow:
        first = papers.render(uow.session, "inspection_pack", iid)
    text = flat(first.content)
    for words in ("社区党组织服务群众专项经费定期检查材料", "期间内的项目及其经办记录", "审批同意", "明细账分录",
                  "尚未办结的期限", "风险提示", "检查发现及整改"):
        assert words in text, words
    assert first.owner.entity_type == "inspection" and not first.owner.public
    fire(db, driver, "inspection", iid, "record_finding", member,
         finding_payload(project_id=pid, description="跟进检查记录过于简略"))
    with db.uow(write=False) as uow:
        second = papers.render(uow.session, "inspection_pack", iid)
    assert second.code != first.code
    assert "跟进检查记录过于简略" in flat(second.content)
    with at(driver.now), db.uow() as uow:
        papers.register(uow.session, "inspection_pack", iid, first.doc, first.owner, first.sha256)
        papers.register(uow.session, "inspection_pack", iid, second.doc, second.owner, second.sha256)
        uow.commit()
    answer = papers.verify(db, first.code)
    assert answer is not None and answer["current"] is False and answer["kind"] == "inspection_pack"
    answer = papers.verify(db, second.code)
    assert answer is not None and answer["current"] is True and answer["record"]["entity_type"] == "inspection"
