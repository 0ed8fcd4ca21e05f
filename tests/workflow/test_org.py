"""The city administrator's organisation tree (workflow.org): create, rename, move, close — each one
transaction with an audit event on the organisation's chain — and what a move and a closing mean for
rights, posts, projects and fund years. Every refusal leaves everything as it was."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest
from sqlalchemy import func, select

from store.models import AuditEvent, Deadline, FundYear, Organisation, Person, Post, Project
from workflow import audit, org
from workflow.demo import TERM_START, Driver
from workflow.engine import Actor
from workflow.services import ServiceError, open_fund_year, record_need


@dataclass
class Area2:
    id: int
    people: dict[str, Actor]


def add_area(db, city, code: str = "A02", name: str = "第二大社区") -> Area2:  # type: ignore[no-untyped-def]
    """A second area of the city with its own committee (as the administrator would set it up)."""
    people: dict[str, Actor] = {}
    with db.uow() as uow:
        s = uow.session
        area = org.create(s, city.admin, "area", code, name, city.city_id)
        for key, role in (("working_secretary", "working_secretary"), ("working_member1", "working_member"),
                          ("director", "construction_director"), ("finance", "finance_officer")):
            p = Person(username=f"{code.lower()}_{key}", display_name=f"{name}{key}", active=True)
            s.add(p)
            s.flush()
            s.add(Post(person_id=p.id, organisation_id=area.id, role=role, valid_from=TERM_START, valid_to=None))
            people[key] = Actor(p.id, p.username)
        uow.commit()
        return Area2(area.id, people)


def refused(db, fn, code: str, status: int = 409):  # type: ignore[no-untyped-def]
    """``fn(session)`` is refused with ``code`` and writes nothing (the audit trail and the tree stay)."""
    before = snapshot(db)
    with db.uow() as uow, pytest.raises(ServiceError) as info:
        fn(uow.session)
    assert info.value.verdict.code == code, info.value.verdict
    assert info.value.status == status
    assert info.value.verdict.article.startswith("第")
    assert snapshot(db) == before
    return info.value.verdict


def snapshot(db):  # type: ignore[no-untyped-def]
    with db.uow(write=False) as uow:
        s = uow.session
        orgs = s.execute(select(Organisation.id, Organisation.code, Organisation.name, Organisation.parent_id,
                                Organisation.closed_on).order_by(Organisation.id)).all()
        posts = s.execute(select(Post.id, Post.valid_to).order_by(Post.id)).all()
        events = s.execute(select(func.count()).select_from(AuditEvent)).scalar_one()
    return orgs, posts, events


def org_events(db, org_id: int) -> list[AuditEvent]:  # type: ignore[no-untyped-def]
    with db.uow(write=False) as uow:
        return list(uow.session.execute(select(AuditEvent).where(
            AuditEvent.entity_type == "org", AuditEvent.entity_id == org_id).order_by(AuditEvent.seq)).scalars())


def verify(db) -> None:  # type: ignore[no-untyped-def]
    with db.uow(write=False) as uow:
        result = audit.verify(uow.session)
    assert result.ok, result.broken


# ------------------------------------------------------------------------------------ create


def test_admin_creates_area_and_community_each_with_an_audit_event(db, city):
    with db.uow() as uow:
        area = org.create(uow.session, city.admin, "area", "A07", " 新区大社区 ", city.city_id)
        community = org.create(uow.session, city.admin, "community", "S70", "新苑社区", area.id)
        uow.commit()
        area_id, community_id = area.id, community.id
    names = {n.code: (n.name, n.parent_code, n.level) for n in _tree(db)}
    assert names["A07"] == ("新区大社区", "C01", "area")
    assert names["S70"] == ("新苑社区", "A07", "community")
    [ev] = org_events(db, community_id)
    assert ev.event == "create_org" and ev.actor_id == city.admin.person_id and ev.role == "city_admin"
    assert ev.payload["before"] is None and ev.payload["after"]["parent_code"] == "A07"
    assert org_events(db, area_id)[0].payload["after"]["name"] == "新区大社区"
    verify(db)


def _tree(db):  # type: ignore[no-untyped-def]
    with db.uow(write=False) as uow:
        return org.tree(uow.session)


def test_create_refusals(db, city):
    sec = city.communities[0].people["secretary"]
    area = city.area_id
    refused(db, lambda s: org.create(s, sec, "community", "S70", "新苑社区", area), "org.admin_only", 403)
    refused(db, lambda s: org.create(s, city.admin, "community", "S 70", "新苑社区", area), "org.code_invalid", 422)
    refused(db, lambda s: org.create(s, city.admin, "community", "S70", "  ", area), "org.name_invalid", 422)
    refused(db, lambda s: org.create(s, city.admin, "community", "S70", "社" * 101, area), "org.name_invalid", 422)
    refused(db, lambda s: org.create(s, city.admin, "community", "S01", "新苑社区", area), "org.code_taken")
    refused(db, lambda s: org.create(s, city.admin, "community", "S70", "幸福社区", area), "org.name_taken")
    refused(db, lambda s: org.create(s, city.admin, "community", "S70", "新苑社区", city.city_id),
            "org.parent_invalid", 422)
    refused(db, lambda s: org.create(s, city.admin, "area", "A70", "新区", area), "org.parent_invalid", 422)
    refused(db, lambda s: org.create(s, city.admin, "city", "C70", "新市", None), "org.level_invalid", 422)
    refused(db, lambda s: org.create(s, city.admin, "community", "S70", "新苑社区", 10**9), "org.not_found", 404)


def test_an_administrator_of_another_city_is_refused(db, city):
    with db.uow() as uow:
        other = org.create(uow.session, org.CLI, "city", "C02", "yy市", None)
        p = Person(username="admin2", display_name="另一市管理员", active=True)
        uow.session.add(p)
        uow.session.flush()
        uow.session.add(Post(person_id=p.id, organisation_id=other.id, role="city_admin", valid_from=TERM_START))
        uow.commit()
        admin2 = Actor(p.id, "admin2")
    refused(db, lambda s: org.create(s, admin2, "community", "S70", "新苑社区", city.area_id), "org.other_city", 403)
    refused(db, lambda s: org.rename(s, admin2, city.communities[0].id, "改名社区"), "org.other_city", 403)


def test_a_new_city_from_the_command_gets_the_default_policy(db):
    with db.uow() as uow:
        c = org.create(uow.session, org.CLI, "city", "C09", "zz市", None)
        area = org.create(uow.session, org.CLI, "area", "A91", "一区", c.id)
        s = org.create(uow.session, org.CLI, "community", "S91", "一社区", area.id)
        fy = open_fund_year(uow.session, s.id, 2026)
        uow.commit()
        assert fy.allocation_fen > 0


# ------------------------------------------------------------------------------------ rename


def test_rename_records_before_and_after(db, city):
    cid = city.communities[0].id
    with db.uow() as uow:
        org.rename(uow.session, city.admin, cid, "幸福家园社区")
        uow.commit()
    ev = org_events(db, cid)[-1]
    assert ev.event == "rename_org"
    assert (ev.payload["before"]["name"], ev.payload["after"]["name"]) == ("幸福社区", "幸福家园社区")
    refused(db, lambda s: org.rename(s, city.admin, cid, "幸福家园社区"), "org.rename_unchanged")
    refused(db, lambda s: org.rename(s, city.admin, cid, "和平社区"), "org.name_taken")
    refused(db, lambda s: org.rename(s, city.admin, cid, ""), "org.name_invalid", 422)
    refused(db, lambda s: org.rename(s, city.communities[0].people["secretary"], cid, "别名"), "org.admin_only", 403)
    refused(db, lambda s: org.rename(s, city.admin, 10**9, "别名"), "org.not_found", 404)


# -------------------------------------------------------------------------------------- move


def test_move_hands_the_community_to_the_new_area_at_once(db, city):
    drv = Driver(db, city)
    a2 = add_area(db, city)
    cid = city.communities[0].id
    pid = drv.new_project("preliminary_review")
    with db.uow() as uow:
        org.move(uow.session, city.admin, cid, a2.id, reason="区划调整")
        uow.commit()
    # the old area's committee member no longer holds a post over this community's projects
    out = drv.fire(pid, "grant_preliminary", drv.a("working_member1"), check=False)
    assert not out.ok and out.status == 403 and out.verdict.code == "auth.no_post"
    drv.fire(pid, "grant_preliminary", a2.people["working_member1"])
    assert drv.state(pid) == "joint_meeting"
    ev = org_events(db, cid)[-1]
    assert ev.event == "move_org" and ev.reason == "区划调整"
    assert ev.payload["before"]["parent_code"] == "A01" and ev.payload["after"]["parent_code"] == "A02"
    assert ev.payload["running_projects"] == 1
    # the community's own posts went with it
    drv.fire(pid, "record_meeting", drv.a("secretary"), drv.meeting())
    verify(db)


def test_move_refusals(db, city):
    drv = Driver(db, city)
    a2 = add_area(db, city)
    cid = city.communities[0].id
    refused(db, lambda s: org.move(s, city.admin, cid, city.area_id), "org.move_same_area")
    refused(db, lambda s: org.move(s, city.admin, city.area_id, a2.id), "org.move_not_community", 422)
    refused(db, lambda s: org.move(s, city.admin, cid, city.communities[1].id), "org.parent_invalid", 422)
    refused(db, lambda s: org.move(s, drv.a("working_secretary"), cid, a2.id), "org.admin_only", 403)
    refused(db, lambda s: org.move(s, city.admin, cid, 10**9), "org.not_found", 404)
    with db.uow() as uow:
        c2 = org.create(uow.session, org.CLI, "city", "C02", "yy市", None)
        far = org.create(uow.session, org.CLI, "area", "B01", "外市大社区", c2.id)
        uow.commit()
        far_id = far.id
    refused(db, lambda s: org.move(s, org.CLI, cid, far_id), "org.move_other_city")
    # an approval being decided by the old area
    pid = drv.new_project("pending_approval")
    refused(db, lambda s: org.move(s, city.admin, cid, a2.id), "org.move_decision_pending")
    drv.step(pid, "in_progress")
    drv.fire(pid, "record_followup", drv.a("working_member1"),
             {"visited_on": drv.now.date().isoformat(), "notes": "现场查看,施工进度正常。"})
    drv.after_days(20)
    drv.fire(pid, "report_completion", drv.a("secretary"), {"summary": "项目已完工"})
    drv.step(pid, "settlement")
    item = drv.fire(pid, "add_payment_item", drv.a("finance"), {"kind": "invoice", "amount": "12000.00",
                                                                 "payee": "xx市照明工程有限公司",
                                                                 "invoice_no": "INV-MOVE-1"}).data["payment_item_id"]
    drv.fire(pid, "sign_invoice", drv.a("secretary"), {"payment_item_id": item})
    with db.uow() as uow:  # the community's own signature alone does not hold a move; check and roll back
        org.move(uow.session, city.admin, cid, a2.id)
    drv.fire(pid, "sign_invoice", drv.a("director"), {"payment_item_id": item})
    v = refused(db, lambda s: org.move(s, city.admin, cid, a2.id), "org.move_signatures_pending")
    assert "INV-MOVE-1" in v.message


def test_move_refused_during_year_end_and_into_a_closed_area(db, city):
    a2 = add_area(db, city)
    a3 = add_area(db, city, "A03", "第三大社区")
    cid = city.communities[1].id
    with db.uow() as uow:
        org.close(uow.session, city.admin, a3.id, "撤并")
        uow.commit()
    refused(db, lambda s: org.move(s, city.admin, cid, a3.id), "org.closed")
    drv = Driver(db, city)
    fy = _fund_year(db, cid, 2026)
    drv.fire(fy, "submit_report", drv.a("secretary", 1), {"summary": "全年经费使用情况良好,群众满意。"},
             entity_type="fund_year")
    refused(db, lambda s: org.move(s, city.admin, cid, a2.id), "org.year_end_under_way")


def _fund_year(db, cid: int, year: int) -> int:  # type: ignore[no-untyped-def]
    with db.uow(write=False) as uow:
        return int(uow.session.execute(select(FundYear.id).where(FundYear.community_id == cid,
                                                                FundYear.year == year)).scalar_one())


# ------------------------------------------------------------------------------------- close


def test_close_a_community_without_projects(db, city):
    drv = Driver(db, city)
    cid = city.communities[1].id
    with db.uow() as uow:
        s = uow.session
        s.add(Deadline(entity_type="community", entity_id=cid, kind="needs_collection", event="", ref="2026-Q2",
                       start_date=dt.date(2026, 4, 1), workdays=0, due_at=drv.now, created_at=drv.now))
        uow.commit()
    with db.uow() as uow:
        closed = org.close(uow.session, city.admin, cid, "行政区划调整,并入幸福社区")
        uow.commit()
    assert closed.ended_posts == 4
    assert [y["year"] for y in closed.frozen_years] == [2026]
    with db.uow(write=False) as uow:
        s = uow.session
        today = closed.org.closed_on
        assert s.execute(select(func.count()).select_from(Post).where(
            Post.organisation_id == cid, (Post.valid_to.is_(None)) | (Post.valid_to > today))).scalar_one() == 0
        assert s.execute(select(Deadline.status).where(Deadline.entity_id == cid,
                                                       Deadline.entity_type == "community")).scalar_one() == "cleared"
    ev = org_events(db, cid)[-1]
    assert (ev.event, ev.from_state, ev.to_state) == ("close_org", "open", "closed")
    assert ev.reason == "行政区划调整,并入幸福社区" and len(ev.payload["ended_posts"]) == 4
    assert ev.payload["frozen_fund_years"][0]["allocation"] == "200000.00"
    # nothing new happens in a closed community
    staff = city.communities[1].people["staff"]
    with db.uow() as uow, pytest.raises(ServiceError) as info:
        record_need(uow.session, staff, cid, "楼道灯不亮")
    assert info.value.verdict.code in ("auth.no_post", "org.closed")
    with db.uow() as uow, pytest.raises(ServiceError) as info:
        open_fund_year(uow.session, cid, 2027)
    assert info.value.verdict.code == "org.closed" and info.value.verdict.article == "第二条"
    refused(db, lambda s: org.rename(s, city.admin, cid, "另一个名字"), "org.closed")
    refused(db, lambda s: org.close(s, city.admin, cid, "再撤销一次"), "org.closed")
    verify(db)


def test_closed_community_takes_no_event_and_no_proposal(db, city):
    drv = Driver(db, city)
    cid = city.communities[1].id
    fy = _fund_year(db, cid, 2026)
    with db.uow() as uow:
        c = uow.session.get(Organisation, cid)
        c.closed_on = dt.date(2026, 3, 1)  # closed while a post was still running: the engine still refuses
        uow.commit()
    out = drv.fire(fy, "submit_report", drv.a("secretary", 1), {"summary": "全年经费使用情况良好,群众满意。"},
                   entity_type="fund_year", check=False)
    assert not out.ok and out.verdict.code == "org.closed" and out.verdict.article == "第二条"
    assert "2026-03-01" in out.verdict.message
    with pytest.raises(Exception) as info:
        drv.propose(community=1)
    assert info.value.verdict.code == "org.closed"


def test_close_refusals(db, city):
    drv = Driver(db, city)
    cid = city.communities[0].id
    refused(db, lambda s: org.close(s, city.admin, cid, ""), "org.reason_missing", 422)
    refused(db, lambda s: org.close(s, city.admin, city.city_id, "撤销全市"), "org.level_invalid", 422)
    refused(db, lambda s: org.close(s, drv.a("secretary"), cid, "撤并"), "org.admin_only", 403)
    refused(db, lambda s: org.close(s, city.admin, city.area_id, "撤并"), "org.close_has_communities")
    pid = drv.propose()
    refused(db, lambda s: org.close(s, city.admin, cid, "撤并"), "org.close_projects_open")
    drv.fire(pid, "withdraw", drv.a("secretary"), reason="居民需求已由其他渠道解决")
    # the year had a project: its report and disclosure are owed first
    refused(db, lambda s: org.close(s, city.admin, cid, "撤并"), "org.close_year_open")
    drv.fire(_fund_year(db, cid, 2026), "submit_report", drv.a("secretary"),
             {"summary": "全年经费使用情况良好,群众满意。"}, entity_type="fund_year")
    refused(db, lambda s: org.close(s, city.admin, cid, "撤并"), "org.year_end_under_way")


def test_close_an_area_after_its_communities_and_posts_that_had_not_started(db, city):
    a2 = add_area(db, city)
    with db.uow() as uow:
        s = uow.session
        future = Person(username="future_member", display_name="将任委员", active=True)
        s.add(future)
        s.flush()
        s.add(Post(person_id=future.id, organisation_id=a2.id, role="working_member",
                   valid_from=dt.date(2099, 1, 1), valid_to=None))
        uow.commit()
    with db.uow() as uow:
        closed = org.close(uow.session, city.admin, a2.id, "大社区撤并")
        uow.commit()
    assert closed.ended_posts == 5
    with db.uow(write=False) as uow:
        ends = dict(uow.session.execute(select(Post.valid_from, Post.valid_to).where(Post.organisation_id == a2.id)
                                        .where(Post.valid_from == dt.date(2099, 1, 1))).all())
    assert ends[dt.date(2099, 1, 1)] == dt.date(2098, 12, 31)  # never held
    refused(db, lambda s: org.create(s, city.admin, "community", "S80", "新社区", a2.id), "org.closed")


def test_the_tree_lists_cities_areas_and_communities_in_order(db, city):
    codes = [(n.code, n.level) for n in _tree(db)]
    assert codes == [("C01", "city"), ("A01", "area"), ("S01", "community"), ("S02", "community")]
    with db.uow(write=False) as uow:
        assert org.tree(uow.session, {10**9}) == []


def test_project_counts_are_untouched_by_a_move(db, city):
    """A move changes no project and no money: it is the same community's record under another area."""
    drv = Driver(db, city)
    a2 = add_area(db, city)
    pid = drv.new_project("in_progress")
    with db.uow(write=False) as uow:
        before = uow.session.execute(select(Project.state, Project.version, Project.committed_fen)
                                     .where(Project.id == pid)).one()
    with db.uow() as uow:
        org.move(uow.session, city.admin, city.communities[0].id, a2.id)
        uow.commit()
    with db.uow(write=False) as uow:
        after = uow.session.execute(select(Project.state, Project.version, Project.committed_fen)
                                    .where(Project.id == pid)).one()
    assert before == after
    drv.fire(pid, "record_followup", a2.people["working_member1"],
             {"visited_on": drv.now.date().isoformat(), "notes": "新大社区跟进检查。"})
