"""workflow.redflags: a year with planted misuse, reached by real events, raises exactly those flags, each
pointing at the audit events and archived documents that show it; the clean demo city raises none; a flag is
dismissed by the working committee with a reason, audited, and hidden afterwards."""
from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import select

from store.db import Database
from store.models import AuditEvent, Document, Organisation
from workflow import audit
from workflow.demo import Driver, build_demo
from workflow.redflags import area_flags, dismiss_flag
from workflow.services import ServiceError


def flags_of(db: Database, area: int, year: int = 2026, **kw: Any) -> list[Any]:
    with db.uow(write=False) as uow:
        return area_flags(uow.session, area, year, **kw)


def refs(flag: Any, kind: str) -> list[str]:
    return [e.ref for e in flag.evidence if e.kind == kind]


@pytest.fixture
def planted(driver: Driver) -> dict[str, Any]:
    """A year of the area's two communities with four kinds of misuse planted among honest projects."""
    d = driver
    out: dict[str, Any] = {}
    # a split: two lighting projects of one contractor, each under the 50000 procurement line, 55000 together
    out["split"] = [d.propose(0, amount="30000.00", title="三号楼庭院灯更换", contractor="恒亮照明工程有限公司"),
                    d.propose(0, amount="25000.00", title="五号楼庭院灯更换", contractor="恒亮照明工程有限公司")]
    for pid in out["split"]:
        d.drive(pid, "closed")
    # a concentrated contractor: one payee takes 65000 of the community's 200000
    out["concentrated"] = d.new_project("closed", community=1, amount="65000.00", title="单元门禁系统改造",
                                        contractor="安居智能门禁工程有限公司")
    # a repeated individual payee: the same person paid on no-invoice vouchers in three projects, two communities
    out["vouchers"] = [d.new_project("closed", community=c, amount="5000.00", title=f"困难老人助餐服务{n}",
                                     category="hardship", contractor="张桂兰", contractor_kind="individual",
                                     is_aid=True) for n, c in enumerate((0, 0, 1))]
    # a backdated meeting: the joint meeting recorded 20 days after the day it says it was held
    pid = d.propose(1, amount="8000.00", title="社区宣传栏更换", contractor="华彩广告制作有限公司",
                    category="convenience")
    d.drive(pid, "joint_meeting")
    meeting = d.meeting(community=1)
    meeting["held_on"] = (d.now - dt.timedelta(days=20)).date().isoformat()
    out["meeting_event"] = d.fire(pid, "record_meeting", d.a("secretary", 1), meeting).event_id
    d.drive(pid, "in_progress")
    out["backdated"] = pid
    # honest work beside it: a project in progress and one closed, in each community
    d.new_project("in_progress", community=0, amount="12000.00", title="小区健身器材更新",
                  contractor="康体健身器材有限公司", category="culture")
    d.new_project("closed", community=1, amount="9000.00", title="老年人智能手机培训", contractor="银龄数字服务中心",
                  category="convenience")
    return out


def test_a_year_with_planted_misuse_raises_exactly_those_flags(db: Database, city: Any, planted: dict[str, Any]) -> None:
    c0, c1 = city.communities[0].id, city.communities[1].id
    flags = flags_of(db, city.area_id)
    assert sorted((f.code, f.community_id or 0) for f in flags) == sorted([
        ("flag.split_project", c0), ("flag.contractor_concentration", c1), ("flag.repeated_voucher_payee", 0),
        ("flag.backdated_record", c1)])
    by = {f.code: f for f in flags}
    with db.uow(write=False) as uow:
        s = uow.session
        events = {eid: (etype, entity, event) for eid, etype, entity, event in s.execute(
            select(AuditEvent.id, AuditEvent.entity_type, AuditEvent.entity_id, AuditEvent.event))}
        stored = set(s.execute(select(Document.sha256)).scalars())

    def shown_by(flag: Any) -> tuple[set[tuple[int, str]], list[str]]:
        """The (project, event) of the audit events a flag points to, and the labels of its documents."""
        evs = {(events[int(e)][1], events[int(e)][2]) for e in refs(flag, "audit_event")}
        assert set(refs(flag, "document")) <= stored
        docs = [e.label for e in flag.evidence if e.kind == "document"]
        assert evs and docs, flag
        return evs, docs

    split = by["flag.split_project"]
    assert sorted(int(p) for p in refs(split, "project")) == sorted(planted["split"])
    evs, docs = shown_by(split)
    assert evs == {(pid, "create") for pid in planted["split"]}
    assert docs == ["存档文件:申请审批表"] * 2
    assert "55000.00" in split.message

    concentrated = by["flag.contractor_concentration"]
    evs, docs = shown_by(concentrated)
    assert {pid for pid, _e in evs} == {planted["concentrated"]}
    assert {e for _p, e in evs} >= {"add_payment_item", "sign_invoice", "pay"}
    assert "存档文件:付款凭证" in docs
    assert "安居智能门禁工程有限公司" in concentrated.message and "32.5%" in concentrated.message

    vouchers = by["flag.repeated_voucher_payee"]
    evs, docs = shown_by(vouchers)
    assert {pid for pid, e in evs if e == "pay"} == set(planted["vouchers"])
    assert len(refs(vouchers, "payment_item")) == 3 and "张桂兰" in vouchers.message
    assert docs.count("存档文件:付款凭证") == 3 and "无发票凭证材料:收款人签字" in docs

    backdated = by["flag.backdated_record"]
    assert str(planted["meeting_event"]) in refs(backdated, "audit_event")
    evs, docs = shown_by(backdated)
    assert evs == {(planted["backdated"], "record_meeting"), (planted["backdated"], "create")}
    assert "存档文件:联席会议纪要" in docs and "相隔 20 天" in backdated.message


def test_a_community_view_holds_its_own_flags(db: Database, city: Any, planted: dict[str, Any]) -> None:
    c1 = city.communities[1].id
    codes = sorted(f.code for f in flags_of(db, city.area_id, community_id=c1))
    assert codes == ["flag.backdated_record", "flag.contractor_concentration"]
    assert flags_of(db, city.area_id, year=2025) == []


def test_dismissal_needs_a_reason_is_audited_and_hides_the_flag(db: Database, city: Any, driver: Driver,
                                                                planted: dict[str, Any]) -> None:
    area = city.area_id
    split = next(f for f in flags_of(db, area) if f.code == "flag.split_project")
    member, finance = driver.a("working_member1"), driver.a("finance")

    def dismiss(actor: Any, key: str, reason: str) -> Any:
        with db.uow() as uow:
            flag = dismiss_flag(uow.session, actor, area, 2026, key, reason)
            uow.commit()
            return flag

    def refused(actor: Any, key: str, reason: str) -> tuple[int, str]:
        with pytest.raises(ServiceError) as info:
            dismiss(actor, key, reason)
        return info.value.status, info.value.verdict.code

    assert refused(member, split.key, "   ") == (422, "flag.reason_required")
    assert refused(finance, split.key, "已核实") == (403, "flag.dismiss_not_allowed")
    assert refused(driver.a("secretary"), split.key, "已核实") == (403, "flag.dismiss_not_allowed")
    assert refused(member, "split_project-0000000000000000", "已核实") == (404, "flag.not_found")
    with db.uow(write=False) as uow:
        assert uow.session.execute(select(AuditEvent).where(AuditEvent.entity_type == "flag")).first() is None

    reason = "经核实,两栋楼的路灯改造是居民分别提出的需求,分别经联席会议讨论通过"
    done = dismiss(member, split.key, reason)
    assert done.dismissal is not None and done.dismissal.reason == reason
    assert split.key not in [f.key for f in flags_of(db, area)]
    listed = {f.key: f for f in flags_of(db, area, include_dismissed=True)}
    assert listed[split.key].dismissal.person_name == city.areas[0].names["working_member1"]
    assert len(listed) == 4
    with db.uow(write=False) as uow:
        ev = uow.session.execute(select(AuditEvent).where(AuditEvent.entity_type == "flag")).scalar_one()
        assert (ev.entity_id, ev.event, ev.reason, ev.actor_id) == (area, "dismiss_flag", reason, member.person_id)
        assert ev.payload["key"] == split.key and ev.role == "working_member"
        assert audit.verify(uow.session).ok
    assert refused(member, split.key, "再排除一次") == (409, "flag.already_dismissed")
    # the same flag recomputed (the projects move on) stays dismissed
    assert split.key not in [f.key for f in flags_of(db, area)]


def test_the_clean_demo_city_raises_no_flags(db: Database) -> None:
    city = build_demo(db)
    with db.uow(write=False) as uow:
        areas = list(uow.session.execute(select(Organisation.id).where(Organisation.level == "area")).scalars())
    assert areas == [city.area_id]
    for year in (2025, 2026):
        assert [(f.code, f.message) for f in flags_of(db, city.area_id, year)] == []


def test_the_other_flags_from_real_events(db: Database, city: Any, driver: Driver) -> None:
    """Approvals on the last day as a habit, a payment entered and signed by one person, an objection settled
    within the hour, and an acceptance under the satisfaction line — each found in what the engine wrote."""
    from store.models import Deadline
    from workflow.engine import PUBLIC

    d = driver
    kinds = [("property", "甲公司"), ("culture", "乙公司"), ("convenience", "丙公司")]
    late = []
    for n, (category, contractor) in enumerate(kinds):
        pid = d.propose(0, amount="6000.00", title=f"项目{n}", category=category, contractor=contractor)
        d.drive(pid, "pending_approval")
        with db.uow(write=False) as uow:
            due = uow.session.execute(select(Deadline.due_at).where(
                Deadline.entity_type == "project", Deadline.entity_id == pid,
                Deadline.kind == "approval_due")).scalar_one()
        d.now = due.astimezone(d.now.tzinfo) - dt.timedelta(hours=3)  # 21:00 of the period's last working day
        d.fire(pid, "record_board_meeting", d.a("working_member1"), d.board())
        d.fire(pid, "approve", d.a("working_secretary"))
        d.fire(pid, "approve", d.a("director"))
        late.append(pid)
    # an objection answered and confirmed within the hour
    pid = d.propose(1, amount="5000.00", title="楼道照明改造", contractor="丁公司", category="employment")
    d.drive(pid, "publicity")
    objection = d.fire(pid, "object", PUBLIC, {"author_name": "王先生", "text": "建议先修五号楼。"}).data["objection_id"]
    d.fire(pid, "answer_objection", d.a("secretary", 1), {"objection_id": objection, "answer": "已纳入。"})
    d.fire(pid, "confirm_answer", d.a("supervisor1", 1), {"objection_id": objection})
    # an acceptance at 70% satisfaction, and a payment item the community secretary entered and signed
    d.drive(pid, "acceptance")
    d.fire(pid, "signoff", d.a("supervisor1", 1), {"stage": "acceptance"})
    d.fire(pid, "accept", d.a("working_member1", 1), {**d.acceptance(1, pid), "satisfaction": 70})
    item = d.fire(pid, "add_payment_item", d.a("secretary", 1),
                  {"kind": "invoice", "amount": "5000.00", "payee": "丁公司", "invoice_no": "INV-RF-1"}
                  ).data["payment_item_id"]
    for who in ("secretary", "director", "working_secretary"):
        d.fire(pid, "sign_invoice", d.a(who, 1), {"payment_item_id": item})
    d.fire(pid, "pay", d.a("finance", 1), {"payment_item_id": item, "idempotency_key": "rf-pay-0001"})

    flags = flags_of(db, city.area_id)
    assert sorted(f.code for f in flags) == sorted([
        "flag.last_day_approval", "flag.last_day_approval", "flag.entered_and_signed", "flag.rushed_objection",
        "flag.low_satisfaction"])
    names = city.areas[0].names
    habits = sorted(f.message.split("本年度")[0] for f in flags if f.code == "flag.last_day_approval")
    assert habits == sorted([names["working_secretary"], names["director"]])
    for f in flags:
        if f.code == "flag.last_day_approval":
            assert {int(p) for p in refs(f, "approval")} and "4 次审批中有 3 次" in f.message  # the fourth on time
            assert len(refs(f, "audit_event")) == 3  # the three approve events
    by = {f.code: f for f in flags}
    assert refs(by["flag.entered_and_signed"], "payment_item") == [str(item)]
    assert refs(by["flag.rushed_objection"], "objection") == [str(objection)]
    assert "70%" in by["flag.low_satisfaction"].message
    assert all(f.community_id == city.communities[1].id for f in flags if f.code != "flag.last_day_approval")


def test_an_inspection_pack_carries_the_communitys_flags_with_their_evidence(db: Database, city: Any, driver: Driver,
                                                                            planted: dict[str, Any]) -> None:
    """第十九条: the working committee's pack for community 1 over the year lists the flags of that community
    (not the other's), each with its article, message and the records that show it."""
    from tests.workflow.test_inspections import plan
    from workflow.inspections import pack, pack_json

    iid = plan(db, driver, driver.a("working_member1"), community=1,
               period=(dt.date(2026, 1, 1), dt.date(2026, 12, 31)))
    with db.uow(write=False) as uow:
        p = pack(uow.session, iid)
    assert sorted(f.code for f in p.flags) == ["flag.backdated_record", "flag.contractor_concentration"]
    backdated = next(f for f in p.flags if f.code == "flag.backdated_record")
    assert "第十九条" in backdated.article and "相隔 20 天" in backdated.evidence and "联席会议纪要" in backdated.evidence
    assert all("恒亮照明" not in f.evidence for f in p.flags)  # community 0's split stays in its own pack
    assert {f["code"] for f in pack_json(p)["flags"]} == {"flag.backdated_record", "flag.contractor_concentration"}
