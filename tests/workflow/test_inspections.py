"""Regular inspections and their findings (第十九条): planning, every transition and refusal of the two workflows,
the second-person rule, and the rectification deadline swept by the scheduler."""
from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import func, select

from store.db import Database
from store.models import AuditEvent, Deadline, Finding, Inspection, Notification
from workflow import audit, clock
from workflow.demo import City, Driver, at
from workflow.engine import Actor, Outcome
from workflow.inspections import plan_inspection
from workflow.services import ServiceError, fire_event
from workflow.sweep import sweep

PERIOD = (dt.date(2026, 3, 1), dt.date(2026, 3, 31))


def plan(db: Database, driver: Driver, actor: Actor, community: int = 0,
         period: tuple[dt.date, dt.date] = PERIOD) -> int:
    with at(driver.tick(0.1)), db.uow() as uow:
        row = plan_inspection(uow.session, actor, driver.city.community(community).id, *period)
        uow.commit()
        return row.id


def fire(db: Database, driver: Driver, entity: str, eid: int, trigger: str, actor: Actor,
         payload: dict[str, Any] | None = None, reason: str = "") -> Outcome:
    with at(driver.tick(0.1)):
        return fire_event(db, entity, eid, trigger, actor, payload, reason=reason)


def finding_payload(**kw: Any) -> dict[str, Any]:
    return {"article": "第十三条", "description": "无发票支出未在付款后公示", "requirement": "补办公示并归档公示记录",
            "workdays": 5, **kw}


def state(db: Database, model: Any, eid: int) -> str:
    with db.uow(write=False) as uow:
        return str(uow.session.execute(select(model.state).where(model.id == eid)).scalar_one())


def started(db: Database, driver: Driver, community: int = 0) -> int:
    iid = plan(db, driver, driver.a("working_member1", community), community)
    assert fire(db, driver, "inspection", iid, "start_inspection", driver.a("working_member1", community)).ok
    return iid


def recorded(db: Database, driver: Driver, **kw: Any) -> tuple[int, int]:
    iid = started(db, driver)
    out = fire(db, driver, "inspection", iid, "record_finding", driver.a("working_member1"), finding_payload(**kw))
    assert out.ok, out.verdict
    return iid, int(out.data["finding_id"])


# ---------------------------------------------------------------------------------------- planning


def test_the_working_committee_plans_an_inspection_audited_in_its_own_chain(db: Database, city: City,
                                                                           driver: Driver) -> None:
    iid = plan(db, driver, driver.a("working_secretary"))
    with db.uow(write=False) as uow:
        row = uow.session.get(Inspection, iid)
        assert row is not None and row.state == "planned" and row.version == 1
        assert row.area_id == city.area_id and row.community_id == city.community(0).id
        ev = uow.session.execute(select(AuditEvent).where(AuditEvent.entity_type == "inspection",
                                                          AuditEvent.entity_id == iid)).scalar_one()
        assert (ev.event, ev.to_state, ev.role) == ("plan_inspection", "planned", "working_secretary")
        assert audit.verify(uow.session).ok


@pytest.mark.parametrize("who", ["secretary", "supervisor1", "finance", "director"])
def test_only_the_working_committee_plans(db: Database, city: City, driver: Driver, who: str) -> None:
    with pytest.raises(ServiceError) as refused:
        plan(db, driver, driver.a(who))
    assert refused.value.status == 403 and refused.value.verdict.article == "第十九条"


def test_a_period_that_is_reversed_or_not_begun_is_refused(db: Database, city: City, driver: Driver) -> None:
    member = driver.a("working_member1")
    for period in [(dt.date(2026, 3, 31), dt.date(2026, 3, 1)), (dt.date(2026, 6, 1), dt.date(2026, 6, 30))]:
        with pytest.raises(ServiceError) as refused:
            plan(db, driver, member, period=period)
        assert refused.value.verdict.code == "inspection.period_invalid"
        assert refused.value.verdict.article == "第十九条"
    with db.uow(write=False) as uow:
        assert uow.session.execute(select(func.count()).select_from(Inspection)).scalar_one() == 0


def test_an_unknown_community_is_not_found(db: Database, city: City, driver: Driver) -> None:
    with pytest.raises(ServiceError) as refused, at(driver.now), db.uow() as uow:
        plan_inspection(uow.session, driver.a("working_member1"), city.area_id, *PERIOD)
    assert refused.value.status == 404


# ----------------------------------------------------------------------------- inspection transitions


def test_inspection_transitions_and_refusals(db: Database, city: City, driver: Driver) -> None:
    member = driver.a("working_member1")
    iid = plan(db, driver, member)
    # a finding is recorded only while the inspection is under way
    out = fire(db, driver, "inspection", iid, "record_finding", member, finding_payload())
    assert (out.status, out.verdict.code) == (409, "workflow.invalid_state")
    # cancelling needs a reason
    out = fire(db, driver, "inspection", iid, "cancel_inspection", member)
    assert (out.status, out.verdict.code, out.verdict.article) == (409, "workflow.reason_missing", "第十九条")
    # finance reads inspections but does not carry them out
    out = fire(db, driver, "inspection", iid, "start_inspection", driver.a("finance"))
    assert (out.status, out.verdict.code) == (403, "auth.no_post")
    assert fire(db, driver, "inspection", iid, "start_inspection", member).to_state == "in_progress"
    # completing needs the summary
    out = fire(db, driver, "inspection", iid, "complete_inspection", member, {"summary": ""})
    assert (out.status, out.verdict.code) == (409, "workflow.text_missing")
    out = fire(db, driver, "inspection", iid, "complete_inspection", driver.a("working_secretary"),
               {"summary": "抽查项目 3 个,发现问题 1 项,已要求整改"})
    assert out.ok and out.to_state == "completed"
    out = fire(db, driver, "inspection", iid, "record_finding", member, finding_payload())
    assert (out.status, out.verdict.code) == (409, "workflow.invalid_state")
    other = plan(db, driver, member)
    assert fire(db, driver, "inspection", other, "cancel_inspection", member, reason="与上级巡查时间冲突,改期").ok
    assert state(db, Inspection, other) == "cancelled"


def test_the_working_committee_of_another_area_has_no_post_here(db: Database) -> None:
    from workflow.demo import create_city, open_years

    city = create_city(db, communities=2, password=None, areas=2)
    open_years(db, city, [2026])
    driver = Driver(db, city)
    iid = plan(db, driver, driver.a("working_member1", 0), 0)
    out = fire(db, driver, "inspection", iid, "start_inspection", driver.a("working_member1", 1))
    assert (out.status, out.verdict.code) == (403, "auth.no_post")


@pytest.mark.parametrize(("change", "code"), [
    ({"article": "第二十五条"}, "finding.article_unknown"),
    ({"article": "第七条第(五)项"}, "finding.article_unknown"),
    ({"article": "没有条款"}, "finding.article_unknown"),
    ({"requirement": " "}, "finding.requirement_missing"),
    ({"description": ""}, "finding.description_missing"),
])
def test_a_finding_cites_a_known_article_and_states_its_rectification(db: Database, city: City, driver: Driver,
                                                                      change: dict[str, Any], code: str) -> None:
    iid = started(db, driver)
    out = fire(db, driver, "inspection", iid, "record_finding", driver.a("working_member1"), finding_payload(**change))
    assert (out.status, out.verdict.code, out.verdict.article) == (409, code, "第十九条")
    with db.uow(write=False) as uow:
        assert uow.session.execute(select(func.count()).select_from(Finding)).scalar_one() == 0


def test_bad_workdays_are_refused_as_bad_input(db: Database, city: City, driver: Driver) -> None:
    iid = started(db, driver)
    for days in (0, 251, "5"):
        out = fire(db, driver, "inspection", iid, "record_finding", driver.a("working_member1"),
                   finding_payload(workdays=days))
        assert (out.status, out.verdict.code) == (422, "payload.invalid")


def test_a_finding_about_a_project_names_one_of_the_inspected_community(db: Database, city: City,
                                                                        driver: Driver) -> None:
    elsewhere = driver.propose(community=1)
    mine = driver.propose(community=0)
    iid = started(db, driver)
    out = fire(db, driver, "inspection", iid, "record_finding", driver.a("working_member1"),
               finding_payload(project_id=elsewhere))
    assert (out.status, out.verdict.code) == (409, "finding.project_invalid")
    out = fire(db, driver, "inspection", iid, "record_finding", driver.a("working_member1"),
               finding_payload(project_id=mine, article="第七条第(2)项"))
    assert out.ok and out.data["article"] == "第七条第(二)项"


# -------------------------------------------------------------------------------- the finding's path


def test_recorded_rectified_rejected_and_verified_by_a_second_person(db: Database, city: City,
                                                                     driver: Driver) -> None:
    iid, fid = recorded(db, driver)
    recorder, second = driver.a("working_member1"), driver.a("working_member2")
    secretary = driver.a("secretary")
    with db.uow(write=False) as uow:
        f = uow.session.get(Finding, fid)
        assert f is not None and f.state == "rectifying" and f.version == 1 and f.inspection_id == iid
        dl = uow.session.execute(select(Deadline).where(Deadline.entity_type == "finding",
                                                        Deadline.entity_id == fid)).scalar_one()
        assert (dl.kind, dl.status, dl.workdays) == ("rectification_due", "open", 5)
        # recorded on Monday 2026-03-02 (driver clock): five working days end on Monday 03-09 at 24:00
        assert dl.due_at == dt.datetime(2026, 3, 10, tzinfo=clock.SHANGHAI)
    # the working committee does not rectify for the community; the community does not verify itself
    out = fire(db, driver, "finding", fid, "submit_rectification", recorder, {"text": "已整改"})
    assert (out.status, out.verdict.code) == (403, "auth.no_post")
    out = fire(db, driver, "finding", fid, "submit_rectification", secretary, {"text": ""})
    assert (out.status, out.verdict.code) == (409, "workflow.text_missing")
    out = fire(db, driver, "finding", fid, "verify_rectification", second)
    assert (out.status, out.verdict.code) == (409, "workflow.invalid_state")
    assert fire(db, driver, "finding", fid, "submit_rectification", secretary,
                {"text": "已于 3 月 5 日补办公示,公示记录已归档"}).to_state == "submitted"
    with db.uow(write=False) as uow:
        assert uow.session.execute(select(Deadline.status).where(
            Deadline.entity_type == "finding", Deadline.entity_id == fid)).scalar_one() == "cleared"
    out = fire(db, driver, "finding", fid, "verify_rectification", secretary)
    assert (out.status, out.verdict.code) == (403, "auth.no_post")
    # the member who recorded the finding may not judge its rectification
    for trigger in ("verify_rectification", "reject_rectification"):
        out = fire(db, driver, "finding", fid, trigger, recorder, reason="公示照片不清晰")
        assert (out.status, out.verdict.code, out.verdict.article) == (409, "finding.same_person", "第十九条")
    out = fire(db, driver, "finding", fid, "reject_rectification", second)
    assert (out.status, out.verdict.code) == (409, "workflow.reason_missing")
    out = fire(db, driver, "finding", fid, "reject_rectification", second, reason="公示记录缺少公示期满后的照片")
    assert out.ok and out.to_state == "rectifying"
    with db.uow(write=False) as uow:
        deadlines = uow.session.execute(select(Deadline.status).where(
            Deadline.entity_type == "finding", Deadline.entity_id == fid).order_by(Deadline.id)).scalars().all()
        assert deadlines == ["cleared", "open"]  # a new period from the rejection
    assert fire(db, driver, "finding", fid, "submit_rectification", driver.a("staff"),
                {"text": "已补充公示期满照片"}).ok
    out = fire(db, driver, "finding", fid, "verify_rectification", driver.a("working_secretary"))
    assert out.ok and out.to_state == "closed"
    with db.uow(write=False) as uow:
        f = uow.session.get(Finding, fid)
        assert f is not None and f.rejections == 1 and f.verified_by == driver.a("working_secretary").person_id
        trail = uow.session.execute(select(AuditEvent.event, AuditEvent.to_state).where(
            AuditEvent.entity_type == "finding", AuditEvent.entity_id == fid).order_by(AuditEvent.seq)).all()
        assert [tuple(t) for t in trail] == [
            ("record_finding", "rectifying"), ("submit_rectification", "submitted"),
            ("reject_rectification", "rectifying"), ("submit_rectification", "submitted"),
            ("verify_rectification", "closed")]
        assert audit.verify(uow.session).ok


def test_another_community_cannot_answer_the_finding(db: Database, city: City, driver: Driver) -> None:
    _iid, fid = recorded(db, driver)
    out = fire(db, driver, "finding", fid, "submit_rectification", driver.a("secretary", 1), {"text": "已整改"})
    assert (out.status, out.verdict.code) == (403, "auth.no_post")
    assert state(db, Finding, fid) == "rectifying"


# ------------------------------------------------------------------------------------------ the sweep


def test_an_overdue_rectification_is_reminded_and_escalated_once_never_closed(db: Database, city: City,
                                                                             driver: Driver) -> None:
    _iid, fid = recorded(db, driver)
    with db.uow(write=False) as uow:
        due = uow.session.execute(select(Deadline.due_at).where(Deadline.entity_type == "finding",
                                                                Deadline.entity_id == fid)).scalar_one()
    assert sweep(db, due - dt.timedelta(minutes=1)).escalated == 0
    result = sweep(db, due)
    assert result.escalated == 1
    assert state(db, Finding, fid) == "rectifying"
    with db.uow(write=False) as uow:
        s = uow.session
        got = {(r, k) for r, k in s.execute(select(Notification.recipient_id, Notification.kind))}
        assert got == {(driver.a("secretary").person_id, "rectification_overdue"),
                       (driver.a("working_secretary").person_id, "rectification_escalated"),
                       (driver.a("working_member1").person_id, "rectification_escalated")}
        ev = s.execute(select(AuditEvent).where(AuditEvent.entity_type == "finding", AuditEvent.entity_id == fid,
                                                AuditEvent.event == "rectification_overdue")).scalar_one()
        assert ev.actor_label == "system" and ev.to_state == "rectifying"
        assert audit.verify(s).ok
    assert sweep(db, due + dt.timedelta(days=2)).escalated == 0
    # late, the rectification is still submitted and verified by a second person
    driver.now = due + dt.timedelta(days=1)
    assert fire(db, driver, "finding", fid, "submit_rectification", driver.a("secretary"), {"text": "已整改"}).ok
    assert fire(db, driver, "finding", fid, "verify_rectification", driver.a("working_member2")).to_state == "closed"


def test_a_rectification_submitted_in_time_is_not_escalated(db: Database, city: City, driver: Driver) -> None:
    _iid, fid = recorded(db, driver)
    assert fire(db, driver, "finding", fid, "submit_rectification", driver.a("secretary"), {"text": "已整改完毕"}).ok
    result = sweep(db, driver.now + dt.timedelta(days=30))
    assert result.escalated == 0
    with db.uow(write=False) as uow:
        assert uow.session.execute(select(func.count()).select_from(Notification)).scalar_one() == 0
