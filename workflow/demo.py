"""The demo city, and the driver that carries a project through its lifecycle by firing real events.

``build_demo`` is what ``fundflow demo`` and ``make run`` load into an empty database: one city,
one area, five communities, their people and posts, fund years, needs and about twenty projects
spread over every state. Every state is reached through the engine, never written directly. The
tests and the benchmarks use the same ``City`` and ``Driver``.
"""
from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select

from rules.money import format_yuan
from rules.policy import Policy
from rules.project import FORBIDDEN_USES
from store.db import Database
from store.models import LineItem, Organisation, Person, Post, Project
from workflow import clock, demo_data
from workflow.engine import PUBLIC, SYSTEM, Actor, Outcome
from workflow.services import (
    LineItemIn,
    ProposalIn,
    fire_event,
    open_fund_year,
    propose_project,
    publish_policy,
    record_need,
)

DEMO_PASSWORD = "fundflow-demo"
COMMUNITY_NAMES = demo_data.COMMUNITY_NAMES
TERM_START = dt.date(2021, 1, 1)
AREA_ROLES = {"working_secretary": "working_secretary", "working_member1": "working_member",
              "working_member2": "working_member", "director": "construction_director", "finance": "finance_officer"}
AREA_USERNAMES = {"working_secretary": "gw_shuji", "working_member1": "gw_weiyuan1", "working_member2": "gw_weiyuan2",
                  "director": "jg_zhuren", "finance": "caiwu"}
COMMUNITY_ROLES = {"secretary": ("community_secretary", "shuji"), "staff": ("community_staff", "gongzuo"),
                   "supervisor1": ("supervisor", "jiandu1"), "supervisor2": ("supervisor", "jiandu2")}


@dataclass
class Community:
    id: int
    code: str
    name: str
    people: dict[str, Actor] = field(default_factory=dict)
    """role key (secretary, staff, supervisor1, supervisor2) → actor."""
    area: int = 0
    """Index of its area in ``City.areas``."""
    names: dict[str, str] = field(default_factory=dict)
    """role key → the person's name."""


@dataclass
class Area:
    id: int
    code: str
    name: str
    people: dict[str, Actor] = field(default_factory=dict)
    """working_secretary, working_member1, working_member2, director, finance → actor."""
    names: dict[str, str] = field(default_factory=dict)


@dataclass
class City:
    city_id: int
    area_id: int
    communities: list[Community]
    area_people: dict[str, Actor] = field(default_factory=dict)
    """The first area's working_secretary, working_member1, working_member2, director, finance → actor."""
    admin: Actor | None = None
    accounts: list[dict[str, str]] = field(default_factory=list)
    areas: list[Area] = field(default_factory=list)

    def community(self, index: int = 0) -> Community:
        return self.communities[index]


def _hash(password: str | None) -> str | None:
    """One account's hash of the (public) demo password, with a salt of its own.

    Cheap argon2 costs (under a millisecond) keep loading the demo fast, even ``--scale``'s thousands of
    accounts; the first login re-hashes with the production costs (``api.auth.login``: ``check_needs_rehash``).
    """
    if password is None:
        return None
    from argon2 import PasswordHasher

    return PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1).hash(password)


def create_city(db: Database, communities: int = 5, password: str | None = DEMO_PASSWORD, prefix: str = "",
                policy: Policy | None = None, areas: int = 1) -> City:
    """Organisations, people and posts, and the city's first policy version, in one transaction.

    ``communities`` are spread evenly over ``areas`` areas (城东大社区 …), each area with its working
    committee, construction committee director and finance officer. The first area's people and the first
    five communities' people have the fixed names of ``workflow.demo_data``; a bigger city draws ordinary
    names from a deterministic sequence. Usernames: ``gw_shuji`` … for the first area (``a02_gw_shuji`` …
    for the others), ``s01_shuji``, ``s01_gongzuo``, ``s01_jiandu1``, ``s01_jiandu2`` … per community."""
    accounts: list[dict[str, str]] = []
    areas = max(1, min(areas, communities or 1))
    with db.uow() as uow:
        s = uow.session

        def org(code: str, name: str, level: str, parent: int | None) -> int:
            o = Organisation(code=prefix + code, name=name, level=level, parent_id=parent)
            s.add(o)
            s.flush()
            return o.id

        def person(username: str, name: str, org_id: int, role: str, org_code: str) -> Actor:
            p = Person(username=prefix + username, display_name=name, password_hash=_hash(password), active=True)
            s.add(p)
            s.flush()
            s.add(Post(person_id=p.id, organisation_id=org_id, role=role, valid_from=TERM_START, valid_to=None))
            accounts.append({"username": p.username, "password": password or "", "role": role,
                             "organisation": prefix + org_code, "name": name})
            return Actor(p.id, p.username)

        serial = iter(range(10**9))
        city_id = org("C01", demo_data.CITY_NAME, "city", None)
        city = City(city_id=city_id, area_id=0, communities=[])
        city.admin = person("admin", "市委组织部管理员", city_id, "city_admin", "C01")
        for k in range(areas):
            code = f"A{k + 1:02d}"
            area = Area(id=org(code, demo_data.area_name(k), "area", city_id), code=prefix + code,
                        name=demo_data.area_name(k))
            for key, role in AREA_ROLES.items():
                name = demo_data.AREA_PEOPLE[key] if k == 0 else demo_data.person_name(next(serial))
                user = AREA_USERNAMES[key] if k == 0 else f"a{k + 1:02d}_{AREA_USERNAMES[key]}"
                area.people[key] = person(user, name, area.id, role, code)
                area.names[key] = name
            city.areas.append(area)
        city.area_id, city.area_people = city.areas[0].id, city.areas[0].people
        for i in range(communities):
            code = f"S{i + 1:02d}"
            name = demo_data.community_name(i)
            k = i * areas // communities
            cid = org(code, name, "community", city.areas[k].id)
            c = Community(id=cid, code=prefix + code, name=name, area=k)
            for key, (role, suffix) in COMMUNITY_ROLES.items():
                pname = (demo_data.COMMUNITY_PEOPLE[i][key] if i < len(demo_data.COMMUNITY_PEOPLE)
                         else demo_data.person_name(next(serial)))
                c.people[key] = person(f"{code.lower()}_{suffix}", pname, cid, role, code)
                c.names[key] = pname
            city.communities.append(c)
        publish_policy(s, city_id, policy or Policy(), dt.date(2020, 1, 1), "初始政策(细则)")
        uow.commit()
    city.accounts = accounts
    return city


def open_years(db: Database, city: City, years: list[int]) -> None:
    with db.uow() as uow:
        for c in city.communities:
            for y in years:
                open_fund_year(uow.session, c.id, y)
        uow.commit()


class Refused(AssertionError):
    def __init__(self, outcome: Outcome, trigger: str) -> None:
        super().__init__(f"{trigger}: {outcome.status} {outcome.verdict.code} {outcome.verdict.message}")
        self.outcome = outcome


@contextmanager
def at(when: dt.datetime) -> Iterator[None]:
    with clock.frozen(when):
        yield


FOLLOWUP = "到现场查看项目实施情况,进度与方案一致。"
FOLLOWUP_NOTES = {
    "property": "到施工现场查看,材料规格与申请明细一致,施工进度正常,已提醒注意施工安全和文明施工。",
    "convenience": "到服务现场查看,服务按计划开展,居民反映良好。",
    "hardship": "入户走访了部分帮扶对象,帮扶按计划发放到位,对象签字齐全。",
    "employment": "旁听了一次培训课程,学员到课情况良好,教学内容与方案一致。",
    "culture": "到活动(安装)现场查看,器材和活动安排与申请一致。",
    "other": "查看了表彰材料和宣传展板的制作进度,与方案一致。",
}
COMPLETION = {
    "property": "工程已按批准的方案完工,现场已清理,具备验收条件。",
    "convenience": "服务已按计划全部开展,服务记录和居民签到齐全。",
    "hardship": "帮扶已全部发放到位,收款人签字和入户记录齐全。",
    "employment": "培训已全部结业,学员签到和结业名单齐全。",
    "culture": "活动已举办(器材已安装),具备验收条件。",
    "other": "表彰已完成,牌匾和展板已制作悬挂。",
}
ACCEPTANCE = {
    "property": "工程质量合格,材料规格与申请一致,现场已清理",
    "convenience": "服务按计划开展,服务记录齐全,居民满意",
    "hardship": "帮扶对象核实无误,资金发放到位,签字凭证齐全",
    "employment": "培训课时和人数与方案一致,结业率高",
    "culture": "活动组织有序(器材安装牢固),居民参与度高",
    "other": "表彰材料齐全,宣传到位",
}
VOUCHER_NOTES = {
    "meeting_decision": "社区两委会议集体讨论决定以收款人签字作为结算凭证(会议记录已存档)",
    "inprocess_proof": "社区党委书记和监督委员会成员签字证明服务已经提供",
    "payee_signature": "收款人已签字确认收到款项",
    "post_notice": "付款后已在社区公示栏公示",
}


class Driver:
    """Carries projects through the lifecycle with valid payloads, as the real users would."""

    PATH = ["draft", "preliminary_review", "joint_meeting", "publicity", "ready_to_submit", "pending_approval",
            "in_progress", "acceptance", "settlement", "completion_publicity", "closed"]

    def __init__(self, db: Database, city: City, start: dt.datetime | None = None) -> None:
        self.db = db
        self.city = city
        self.now = start or dt.datetime(2026, 3, 2, 9, 0, tzinfo=clock.SHANGHAI)

    # -- time
    def tick(self, hours: float = 1) -> dt.datetime:
        self.now = self.now + dt.timedelta(hours=hours)
        return self.now

    def after_days(self, days: int) -> dt.datetime:
        self.now = self.now + dt.timedelta(days=days)
        return self.now

    # -- firing
    def fire(self, pid: int, trigger: str, actor: Actor, payload: dict[str, Any] | None = None, reason: str = "",
             check: bool = True, entity_type: str = "project") -> Outcome:
        with at(self.tick(0.1)):
            outcome = fire_event(self.db, entity_type, pid, trigger, actor, payload, reason=reason)
        if check and not outcome.ok:
            raise Refused(outcome, trigger)
        return outcome

    def a(self, key: str, community: int = 0) -> Actor:
        """The actor of a role key: an area role of the community's area, or a role of the community."""
        if key in AREA_ROLES:
            if self.city.areas:
                return self.city.areas[self.city.communities[community].area].people[key]
            return self.city.area_people[key]
        return self.city.communities[community].people[key]

    def state(self, pid: int) -> str:
        with self.db.uow(write=False) as uow:
            return str(uow.session.execute(select(Project.state).where(Project.id == pid)).scalar_one())

    def community_of(self, pid: int) -> int:
        with self.db.uow(write=False) as uow:
            cid = uow.session.execute(select(Project.community_id).where(Project.id == pid)).scalar_one()
        return next(i for i, c in enumerate(self.city.communities) if c.id == cid)

    # -- steps
    def propose(self, community: int = 0, year: int = 2026, amount: str = "12000.00", beneficiaries: int = 300,
                title: str = "老旧小区路灯维修", category: str = "property", contractor_kind: str = "organisation",
                is_aid: bool = False, contractor: str = "xx市照明工程有限公司", marked: bool = False,
                description: str = "更换小区内损坏路灯,改善居民夜间出行安全。",
                plan: demo_data.Plan | None = None, need_ids: list[int] | None = None,
                catalog: str = demo_data.REPAIR) -> int:
        """A draft proposed by the community secretary. With a ``plan`` (``workflow.demo_data``) the project
        carries the plan's text, line items, contractor and beneficiaries, and answers ``need_ids`` (or the
        plan's needs, recorded first); without one, a one-line project of the given amount and a need for it,
        its line item under the procurement-catalogue code ``catalog`` (第十二条)."""
        c = self.city.communities[community]
        if plan is not None and need_ids is None:
            need_ids = self.record_needs(community, plan)
        with at(self.tick()), self.db.uow() as uow:
            if need_ids is None:
                need_ids = [record_need(uow.session, c.people["staff"], c.id, f"{title}的需求", "居民反映",
                                        "visit", 20).id]
            if plan is not None:
                title, description, category, amount = plan.title, plan.description, plan.category, plan.amount
                beneficiaries, contractor, contractor_kind = plan.beneficiaries, plan.contractor, plan.contractor_kind
                is_aid = plan.is_aid
                items = [LineItemIn(description=i.description, quantity=i.quantity, unit_price=i.unit_price,
                                    catalog_item=i.catalog) for i in plan.items]
            else:
                fen = int(amount.replace(".", ""))
                quantity = 2 if fen % 2 == 0 else 1
                items = [LineItemIn(description=f"{title}(物资与服务)", quantity=quantity,
                                    unit_price=format_yuan(fen // quantity), catalog_item=catalog)]
            justification = (plan.justification if plan is not None and plan.justification else
                             "社区群众迫切需要的其他服务事项,经联席会议确认。") if category == "other" else ""
            proposal = ProposalIn(
                community_id=c.id, year=year, title=title, description=description, category=category,
                amount=amount, beneficiaries_count=beneficiaries,
                beneficiaries_desc=plan.beneficiaries_desc if plan is not None else "小区居民",
                contractor_name=contractor, contractor_kind=contractor_kind, is_aid=is_aid,
                small_group_marked=marked, planned_start=dt.date(year, 3, 1), planned_end=dt.date(year, 11, 30),
                category_justification=justification,
                forbidden_use_declaration={k: False for k in FORBIDDEN_USES},
                need_ids=need_ids, line_items=items)
            project, _warnings = propose_project(uow.session, c.people["secretary"], proposal)
            uow.commit()
            return project.id

    def record_needs(self, community: int, plan: demo_data.Plan, resident: int = 0) -> list[int]:
        """The plan's needs as they came in: recorded by the community's staff (入户走访, 服务大厅), or posted
        by a resident on the public form (线上平台, with a name and a telephone that stay private). The first
        need gets the committee's answer when the plan has one."""
        from workflow.needs import answer_need, post_need

        c = self.city.communities[community]
        ids: list[int] = []
        for n, need in enumerate(plan.needs):
            with at(self.tick(2)), self.db.uow() as uow:
                if need.channel == "platform":
                    who = demo_data.RESIDENT_REPS[(community + n + resident) % len(demo_data.RESIDENT_REPS)]
                    row = post_need(uow.session, c.id, need.title, need.description, author_name=who,
                                    contact=f"139{(c.id * 7919 + n) % 10**8:08d}")
                else:
                    row = record_need(uow.session, c.people["staff"], c.id, need.title, need.description,
                                      need.channel, need.residents)
                uow.commit()
                ids.append(row.id)
        if plan.answer and ids:
            with at(self.tick(20)), self.db.uow() as uow:
                answer_need(uow.session, c.people["staff"], ids[0], plan.answer)
                uow.commit()
        return ids

    def meeting(self, passed: bool = True, divided: bool = False, community: int = 0) -> dict[str, Any]:
        """A joint meeting (两委 and resident representatives, Art. 10) and its vote."""
        votes = (9, 1, 1) if passed else ((5, 4, 2) if divided else (2, 8, 1))
        names = self.city.communities[community].names
        committee = [names.get("secretary", "两委委员1"), names.get("staff", "两委委员2"), "赵玉华", "钱志刚", "孙丽萍"]
        return {"held_on": self.now.date().isoformat(),
                "attendees": [{"name": n, "capacity": "two_committees"} for n in committee]
                + [{"name": n, "capacity": "resident_rep"} for n in demo_data.RESIDENT_REPS[:6]],
                "votes_for": votes[0], "votes_against": votes[1], "votes_abstain": votes[2],
                "minutes": "会议听取了项目方案说明,讨论了项目的必要性、预算明细和实施方式,并进行了表决。"}

    def step(self, pid: int, target: str) -> None:
        """One forward step from the current state along the main path (or to a side state)."""
        c = self.community_of(pid)
        state = self.state(pid)
        sec, sup1 = self.a("secretary", c), self.a("supervisor1", c)
        if state == "draft":
            self.fire(pid, "submit_preliminary", sec)
        elif state == "preliminary_review":
            self.decide_flags(pid)
            self.fire(pid, "grant_preliminary", self.a("working_member1", c))
        elif state == "joint_meeting" and target == "shelved":
            self.fire(pid, "record_meeting", sec, self.meeting(passed=False, divided=True, community=c))
        elif state == "joint_meeting":
            self.fire(pid, "record_meeting", sec, self.meeting(community=c))
        elif state == "publicity":
            self.fire(pid, "signoff", sup1, {"stage": "declaration"})
            self.after_days(12)
            self.fire(pid, "publicity_elapsed", SYSTEM)
        elif state == "ready_to_submit":
            self.fire(pid, "submit", sec)
        elif state == "pending_approval" and target == "rejected":
            self.fire(pid, "record_board_meeting", self.a("working_member1", c), self.board(c))
            self.fire(pid, "reject", self.a("working_secretary", c), reason="预算依据不足,不予批准")
        elif state == "pending_approval":
            self.fire(pid, "record_board_meeting", self.a("working_member1", c), self.board(c))
            self.fire(pid, "approve", self.a("working_secretary", c))
            self.fire(pid, "approve", self.a("director", c))
        elif state == "in_progress" and target == "change_review":
            self.fire(pid, "request_change", sec, {"changes": {"planned_end": f"{self.now.year}-12-20"}},
                      reason="材料到货延迟,申请延长工期")
        elif state == "in_progress":
            category = self.category_of(pid)
            self.fire(pid, "record_followup", self.a("working_member1", c),
                      {"visited_on": self.now.date().isoformat(), "notes": FOLLOWUP_NOTES.get(category, FOLLOWUP)})
            self.after_days(20)
            self.fire(pid, "report_completion", sec, {"summary": COMPLETION.get(category, "项目已按批准的方案完成")})
        elif state == "acceptance":
            self.fire(pid, "signoff", sup1, {"stage": "acceptance"})
            self.fire(pid, "accept", self.a("working_member1", c), self.acceptance(c, pid))
        elif state == "settlement":
            self.pay_all(pid, c)
            self.fire(pid, "close_settlement", self.a("finance", c))
        elif state == "completion_publicity":
            self.fire(pid, "signoff", self.a("supervisor2", c), {"stage": "write_off"})
            self.after_days(12)
            self.fire(pid, "completion_elapsed", SYSTEM)
        else:
            raise ValueError(f"no step from {state} towards {target}")

    def decide_flags(self, pid: int, decision: str = "cleared") -> list[int]:
        """The working committee's decision on every keyword-flagged line item not yet cleared (Art. 4)."""
        with self.db.uow(write=False) as uow:
            items = [i for i, words, done in uow.session.execute(
                select(LineItem.id, LineItem.flagged_keywords, LineItem.flag_decision)
                .where(LineItem.project_id == pid).order_by(LineItem.id)) if words and done != decision]
        member = self.a("working_member1", self.community_of(pid))
        for item in items:
            self.fire(pid, "decide_flag", member,
                      {"line_item_id": item, "decision": decision, "note": "已阅读社区的书面说明,经核实不属于禁止用途"})
        return items

    def edit(self, pid: int, reason: str = "", **changes: Any) -> Outcome:
        """The community edits its draft (any subset of the proposal's fields; see ``workflow.payloads.EditIn``)."""
        return self.fire(pid, "edit", self.a("secretary", self.community_of(pid)), changes, reason=reason)

    def terminate(self, pid: int, reason: str = "承办方无法继续履约,经研究决定终止项目") -> Outcome:
        """Both main leaders decide to terminate (the first vote keeps the state, the second ends the project)."""
        c = self.community_of(pid)
        self.fire(pid, "terminate", self.a("working_secretary", c), reason=reason)
        return self.fire(pid, "terminate", self.a("director", c), reason="同意终止")

    def board(self, community: int = 0) -> dict[str, Any]:
        """The working committee's board meeting (班子会议, Art. 11) of the community's area."""
        area = self.city.areas[self.city.communities[community].area] if self.city.areas else None
        names = ([area.names[k] for k in ("working_secretary", "working_member1", "working_member2", "director")]
                 if area is not None and area.names else ["王建国", "李红梅", "赵志强", "陈立新"])
        return {"held_on": self.now.date().isoformat(), "attendees": names,
                "minutes": "班子会议研究了该项目申请,认为项目符合专项经费使用范围,预算合理,同意报主要领导审批。"}

    def acceptance(self, c: int, pid: int | None = None) -> dict[str, Any]:
        category = self.category_of(pid) if pid is not None else ""
        return {"quality": ACCEPTANCE.get(category, "项目按批准的方案完成,质量合格,符合申请用途"), "satisfaction": 95,
                "team": [self.a("working_member1", c).person_id, self.a("supervisor1", c).person_id]}

    def category_of(self, pid: int) -> str:
        with self.db.uow(write=False) as uow:
            return str(uow.session.execute(select(Project.category).where(Project.id == pid)).scalar_one())

    def pay_all(self, pid: int, c: int, voucher: bool | None = None) -> None:
        with self.db.uow(write=False) as uow:
            p = uow.session.get(Project, pid)
            assert p is not None
            amount, kind = p.amount_fen - p.paid_fen, p.contractor_kind
            use_voucher = voucher if voucher is not None else (kind == "individual" or p.is_aid)
            payee = p.contractor_name
        if use_voucher:
            item = self.fire(pid, "add_payment_item", self.a("finance", c),
                             {"kind": "voucher", "amount": format_yuan(amount), "payee": payee}).data["payment_item_id"]
            for kind_ in ("meeting_decision", "inprocess_proof", "payee_signature"):
                self.fire(pid, "record_voucher_evidence", self.a("secretary", c),
                          {"payment_item_id": item, "kind": kind_, "note": VOUCHER_NOTES[kind_]})
            self.fire(pid, "pay", self.a("finance", c), {"payment_item_id": item, "idempotency_key": uuid.uuid4().hex})
            self.fire(pid, "record_voucher_evidence", self.a("secretary", c),
                      {"payment_item_id": item, "kind": "post_notice", "note": VOUCHER_NOTES["post_notice"]})
        else:
            item = self.fire(pid, "add_payment_item", self.a("finance", c),
                             {"kind": "invoice", "amount": format_yuan(amount), "payee": payee,
                              "invoice_no": f"INV{pid:06d}"}).data["payment_item_id"]
            for who in ("secretary", "director", "working_secretary"):
                actor = self.a(who, c)
                self.fire(pid, "sign_invoice", actor, {"payment_item_id": item})
            self.fire(pid, "pay", self.a("finance", c), {"payment_item_id": item, "idempotency_key": uuid.uuid4().hex})

    def drive(self, pid: int, target: str) -> None:
        """Fire events until the project is in ``target`` (any state of SPEC section 2)."""
        side = {"shelved": "joint_meeting", "rejected": "pending_approval", "change_review": "in_progress",
                "withdrawn": "draft", "terminated": "in_progress"}
        goal = side.get(target, target)
        guard = 0
        while self.state(pid) != goal:
            self.step(pid, goal)
            guard += 1
            if guard > 20:
                raise RuntimeError(f"cannot reach {target}")
        if target == "withdrawn":
            self.fire(pid, "withdraw", self.a("secretary", self.community_of(pid)), reason="居民需求已由其他渠道解决")
        elif target == "terminated":
            self.terminate(pid)
        elif target != goal:
            self.step(pid, target)

    def new_project(self, target: str, **kw: Any) -> int:
        pid = self.propose(**kw)
        self.drive(pid, target)
        return pid


# ----------------------------------------------------------------------------------------- the demo


DEMO_PROJECTS: list[tuple[int, str, str]] = [
    # (community of the area's five, target state, plan of workflow.demo_data)
    (0, "closed", "street_lamps"),
    (0, "closed", "meals"),
    (0, "in_progress", "fitness"),
    (0, "publicity", "stair_lights"),
    (1, "pending_approval", "skills_training"),
    (1, "draft", "haircut"),
    (1, "settlement", "greening"),
    (1, "shelved", "dance_audio"),
    (2, "joint_meeting", "agency_point"),
    (2, "preliminary_review", "double_ninth"),
    (2, "acceptance", "cleaning"),
    (2, "ready_to_submit", "volunteers"),
    (3, "completion_publicity", "door_access"),
    (3, "rejected", "notice_boards"),
    (3, "withdrawn", "spring_gala"),
    (3, "change_review", "medical_aid"),
    (3, "terminated", "tutoring"),
    (4, "in_progress", "cctv"),
    (4, "closed", "reading_corner"),
    (4, "draft", "snow_tools"),
    (4, "publicity", "smartphone"),
]
#: the year before: one project of the area's first community, closed, then the year reported, disclosed and closed
DEMO_LAST_YEAR: list[tuple[int, str, str]] = [(0, "closed", "double_ninth")]

#: needs no project answers yet: (community, need, the committee's answer or "")
DEMO_OPEN_NEEDS: list[tuple[int, demo_data.NeedPlan, str]] = [
    (0, demo_data.NeedPlan("小区停车难,希望规划停车位", "晚上车都停在消防通道上。", "platform", 1),
     "停车位规划属于物业和规划部门职责,社区已向街道反映,将协调物业划线。"),
    (0, demo_data.NeedPlan("希望增加社区老年活动室开放时间", "冬天老人没地方去,活动室下午四点就关门。", "hall", 15), ""),
    (1, demo_data.NeedPlan("楼顶漏水", "12号楼顶层三户漏水,物业已撤出无人管。", "visit", 3), ""),
    (2, demo_data.NeedPlan("孩子暑假没人看管", "双职工家庭希望社区办暑期托管班。", "platform", 1), ""),
    (3, demo_data.NeedPlan("小区门口路面坑洼", "雨天积水,老人容易摔倒。", "visit", 40), ""),
    (4, demo_data.NeedPlan("希望组织防诈骗讲座", "小区有老人被骗,大家都很担心。", "platform", 1), ""),
]

#: residents' objections to the running notices: (plan, author, contact, text, the committee's answer or "")
DEMO_OBJECTIONS: list[tuple[str, str, str, str, str]] = [
    ("stair_lights", "王先生", "13912345678", "建议先改造5号楼2单元,那里楼道最暗,老人摔过跤。", ""),
    ("smartphone", "刘阿姨", "13604316789", "培训能不能放在上午?下午要接孩子。",
     "感谢您的建议。6期培训中有3期安排在上午9点,欢迎参加。"),
]


def build_demo(db: Database, communities: int = 5, scale: int = 1) -> City:
    """The demo city of ``make run``: an area of five communities, their people, their residents' needs and
    twenty-one projects in every state (and one closed the year before, with that year disclosed and closed);
    ``scale`` N makes N such areas (N × the communities, people, needs and projects), every state still
    reached by firing real events."""
    scale = max(1, scale)
    with at(dt.datetime(2025, 8, 1, 9, 0, tzinfo=clock.SHANGHAI)):
        city = create_city(db, communities=communities * scale, areas=scale)
        firsts = [city.communities[k * communities] for k in range(scale)]
        with db.uow() as uow:
            for c in city.communities:
                for year in ([2025, 2026] if c in firsts else [2026]):
                    open_fund_year(uow.session, c.id, year)
            uow.commit()
    drv = Driver(db, city)
    # whole seconds: the demo's instants (notices, objections) are shown on public pages, and a fraction of a
    # second next to the +08:00 offset reads like a telephone number to the privacy scan (rules.privacy.find_leaks)
    real_now = clock.now().replace(microsecond=0)
    for k in range(scale):
        base = k * communities
        drv.now = dt.datetime(2025, 9, 1, 9, 0, tzinfo=clock.SHANGHAI)
        for community, target, key in DEMO_LAST_YEAR:
            drv.new_project(target, community=base + community, year=2025, plan=demo_data.PLANS[key])
        close_demo_year(drv, 2025, base)
        drv.now = dt.datetime(2026, 1, 5, 9, 0, tzinfo=clock.SHANGHAI)
        pids: dict[str, int] = {}
        for community, target, key in DEMO_PROJECTS:
            if community >= communities:
                continue
            # each project starts a little later, so that the open notices are still running today
            lead_days = {"publicity": 1, "joint_meeting": 2, "draft": 1, "preliminary_review": 2}.get(target)
            if lead_days is not None:
                drv.now = real_now - dt.timedelta(days=lead_days)
            else:
                drv.now = drv.now + dt.timedelta(days=3)
                if drv.now > real_now - dt.timedelta(days=90):
                    drv.now = real_now - dt.timedelta(days=90)
            plan, start = demo_data.PLANS[key], drv.now
            drv.now = start - dt.timedelta(days=8)  # the residents' needs came in before the proposal
            need_ids = drv.record_needs(base + community, plan)
            drv.now = start
            pids[key] = drv.new_project(target, community=base + community, plan=plan, need_ids=need_ids)
        _open_needs(drv, base, communities, real_now)
        _objections(drv, pids, real_now)
    db.refresh_statistics()
    return city


def _open_needs(drv: Driver, base: int, communities: int, real_now: dt.datetime) -> None:
    """Needs still waiting for a project, some already answered (what the needs list and the receipts show)."""
    from workflow.needs import answer_need

    drv.now = real_now - dt.timedelta(days=6)
    for community, need, answer in DEMO_OPEN_NEEDS:
        if community >= communities:
            continue
        plan = demo_data.Plan("open", need.title, "other", "", 1, "", "", (), (need,), answer="")
        nid = drv.record_needs(base + community, plan, resident=3)[0]
        if answer:
            with at(drv.tick(26)), drv.db.uow() as uow:
                answer_need(uow.session, drv.city.communities[base + community].people["staff"], nid, answer)
                uow.commit()


def _objections(drv: Driver, pids: dict[str, int], real_now: dt.datetime) -> None:
    """Residents' objections to the notices running now; one answered by the community secretary."""
    for key, author, contact, text, answer in DEMO_OBJECTIONS:
        pid = pids.get(key)
        if pid is None or drv.state(pid) != "publicity":
            continue
        drv.now = real_now - dt.timedelta(hours=3)
        out = drv.fire(pid, "object", PUBLIC, {"author_name": author, "contact": contact, "text": text})
        if answer:
            drv.now = real_now - dt.timedelta(hours=1)
            drv.fire(pid, "answer_objection", drv.a("secretary", drv.community_of(pid)),
                     {"objection_id": out.data["objection_id"], "answer": answer})


def close_demo_year(drv: Driver, year: int, community: int = 0) -> None:
    """One fund year from open to closed (Art. 13, 15, 16): report, disclosure with the working committee's
    evaluation alongside it, carry-over."""
    from store.models import FundYear

    c = drv.city.communities[community]
    with drv.db.uow(write=False) as uow:
        fy = uow.session.execute(select(FundYear.id).where(FundYear.community_id == c.id,
                                                           FundYear.year == year)).scalar_one()
    drv.now = dt.datetime(year, 11, 24, 9, 0, tzinfo=clock.SHANGHAI)
    drv.fire(fy, "submit_report", drv.a("secretary", community),
             {"summary": f"{year} 年度通过入户走访、服务大厅和线上平台收集群众需求,实施服务项目,经费专款专用,"
                         "每个项目均经联席会议讨论、公示和党工委审批。",
              "service_effect": "项目完成后经综合验收,群众满意度较高。"}, entity_type="fund_year")
    drv.now = dt.datetime(year, 12, 8, 9, 0, tzinfo=clock.SHANGHAI)
    drv.fire(fy, "start_disclosure", drv.a("secretary", community), {}, entity_type="fund_year")
    drv.now = dt.datetime(year, 12, 10, 9, 0, tzinfo=clock.SHANGHAI)
    drv.fire(fy, "evaluate", drv.a("working_secretary", community), {"rating": "good", "comment": "程序规范"},
             entity_type="fund_year")
    drv.now = dt.datetime(year, 12, 16, 9, 0, tzinfo=clock.SHANGHAI)
    drv.fire(fy, "disclosure_elapsed", SYSTEM, {}, entity_type="fund_year")
    drv.now = dt.datetime(year + 1, 1, 2, 9, 0, tzinfo=clock.SHANGHAI)
    drv.fire(fy, "close_year", SYSTEM, {}, entity_type="fund_year")


def demo_accounts(db: Database) -> list[dict[str, str]]:
    """Every account with its role and organisation (the demo password is the same for all)."""
    with db.uow(write=False) as uow:
        rows = uow.session.execute(
            select(Person.username, Person.display_name, Post.role, Organisation.code)
            .join(Post, Post.person_id == Person.id).join(Organisation, Organisation.id == Post.organisation_id)
            .order_by(Organisation.id, Person.id)).all()
    return [{"username": u, "password": DEMO_PASSWORD, "role": r, "organisation": o, "name": n} for u, n, r, o in rows]




# ----------------------------------------------------------------------------- synthetic rosters
# (a large roster file for the tests and bench/roster_import.py: see README "Roster import format")

ROSTER_HEADER = ["kind", "code", "name", "parent", "username", "phone", "email", "role", "valid_from", "valid_to"]
_SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗"
_GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华建国红梅志新"


def synthetic_roster(people: int = 5000, areas: int = 5, communities: int = 100, city: str = "C01",
                     prefix: str = "R") -> list[list[str]]:
    """Rows (header first) of a roster: ``areas`` areas and ``communities`` communities under ``city``, then
    ``people`` people, each with one post: every area gets its committee, every community a secretary, and
    the rest are staff and supervisors spread over the communities. Deterministic."""
    rows = [list(ROSTER_HEADER)]
    area_codes = [f"{prefix}A{i + 1:02d}" for i in range(areas)]
    community_codes = [f"{prefix}S{i + 1:03d}" for i in range(communities)]
    for i, code in enumerate(area_codes):
        rows.append(["area", code, f"第{i + 1}大社区({prefix})", city, "", "", "", "", "", ""])
    for i, code in enumerate(community_codes):
        rows.append(["community", code, f"{prefix}{i + 1:03d}社区", area_codes[i % areas], "", "", "", "", "", ""])
    posts: list[tuple[str, str]] = []
    for code in area_codes:
        posts += [(code, "working_secretary"), (code, "construction_director"), (code, "finance_officer"),
                  (code, "working_member"), (code, "working_member")]
    posts += [(code, "community_secretary") for code in community_codes]
    i = 0
    while len(posts) < people:
        posts.append((community_codes[i % communities], "supervisor" if i % 3 == 0 else "community_staff"))
        i += 1
    for n, (code, role) in enumerate(posts[:people]):
        name = _SURNAMES[n % len(_SURNAMES)] + _GIVEN[(n // len(_SURNAMES)) % len(_GIVEN)] + \
            _GIVEN[(n * 7) % len(_GIVEN)]
        rows.append(["person", code, name, "", f"{prefix.lower()}{n + 1:05d}", f"139{n + 1:08d}",
                     f"{prefix.lower()}{n + 1:05d}@example.cn" if n % 2 else "", role,
                     "2026-01-01", "2028-12-31" if n % 10 == 0 else ""])
    return rows


def roster_csv(rows: list[list[str]], bom: bool = True) -> bytes:
    import csv
    import io

    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    return (("\ufeff" if bom else "") + out.getvalue()).encode("utf-8")


def roster_xlsx(rows: list[list[str]]) -> bytes:
    """The rows as the first sheet of an .xlsx workbook (dates as real date cells, as Excel keeps them)."""
    import io
    import re

    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet("名单")
    for i, row in enumerate(rows):
        cells: list[Any] = list(row)
        if i:
            for j in (8, 9):
                if j < len(cells) and re.fullmatch(r"\d{4}-\d\d-\d\d", str(cells[j])):
                    cells[j] = dt.date.fromisoformat(cells[j])
        sheet.append(cells)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
