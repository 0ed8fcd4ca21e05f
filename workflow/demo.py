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
from store.models import Organisation, Person, Post, Project
from workflow import clock
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
COMMUNITY_NAMES = ["幸福", "和平", "光明", "长青", "新华", "东风", "团结", "胜利"]
TERM_START = dt.date(2021, 1, 1)


@dataclass
class Community:
    id: int
    code: str
    name: str
    people: dict[str, Actor] = field(default_factory=dict)
    """role key (secretary, staff, supervisor1, supervisor2) → actor."""


@dataclass
class City:
    city_id: int
    area_id: int
    communities: list[Community]
    area_people: dict[str, Actor] = field(default_factory=dict)
    """working_secretary, working_member1, working_member2, director, finance → actor."""
    admin: Actor | None = None
    accounts: list[dict[str, str]] = field(default_factory=list)

    def community(self, index: int = 0) -> Community:
        return self.communities[index]


def _hash(password: str | None) -> str | None:
    if password is None:
        return None
    from argon2 import PasswordHasher

    return PasswordHasher().hash(password)


def create_city(db: Database, communities: int = 5, password: str | None = DEMO_PASSWORD, prefix: str = "",
                policy: Policy | None = None) -> City:
    """Organisations, people and posts, and the city's first policy version, in one transaction."""
    hashed = _hash(password)
    accounts: list[dict[str, str]] = []
    with db.uow() as uow:
        s = uow.session

        def org(code: str, name: str, level: str, parent: int | None) -> int:
            o = Organisation(code=prefix + code, name=name, level=level, parent_id=parent)
            s.add(o)
            s.flush()
            return o.id

        def person(username: str, name: str, org_id: int, role: str, org_code: str) -> Actor:
            p = Person(username=prefix + username, display_name=name, password_hash=hashed, active=True)
            s.add(p)
            s.flush()
            s.add(Post(person_id=p.id, organisation_id=org_id, role=role, valid_from=TERM_START, valid_to=None))
            accounts.append({"username": p.username, "password": password or "", "role": role,
                             "organisation": prefix + org_code, "name": name})
            return Actor(p.id, p.username)

        city_id = org("C01", "xx市", "city", None)
        area_id = org("A01", "xx大社区", "area", city_id)
        city = City(city_id=city_id, area_id=area_id, communities=[])
        city.admin = person("admin", "市委组织部管理员", city_id, "city_admin", "C01")
        city.area_people = {
            "working_secretary": person("gw_shuji", "王建国", area_id, "working_secretary", "A01"),
            "working_member1": person("gw_weiyuan1", "李红梅", area_id, "working_member", "A01"),
            "working_member2": person("gw_weiyuan2", "赵志强", area_id, "working_member", "A01"),
            "director": person("jg_zhuren", "陈立新", area_id, "construction_director", "A01"),
            "finance": person("caiwu", "周敏", area_id, "finance_officer", "A01"),
        }
        for i in range(communities):
            code = f"S{i + 1:02d}"
            name = COMMUNITY_NAMES[i % len(COMMUNITY_NAMES)] + (str(i // len(COMMUNITY_NAMES)) if i >= 8 else "")
            cid = org(code, f"{name}社区", "community", area_id)
            lower = code.lower()
            c = Community(id=cid, code=prefix + code, name=f"{name}社区")
            c.people = {
                "secretary": person(f"{lower}_shuji", f"{name}书记", cid, "community_secretary", code),
                "staff": person(f"{lower}_gongzuo", f"{name}社工", cid, "community_staff", code),
                "supervisor1": person(f"{lower}_jiandu1", f"{name}监督员甲", cid, "supervisor", code),
                "supervisor2": person(f"{lower}_jiandu2", f"{name}监督员乙", cid, "supervisor", code),
            }
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
        if key in self.city.area_people:
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
                description: str = "更换小区内损坏路灯,改善居民夜间出行安全。") -> int:
        c = self.city.communities[community]
        with at(self.tick()), self.db.uow() as uow:
            need = record_need(uow.session, c.people["staff"], c.id, f"{title}的需求", "居民反映", "visit", 20)
            fen = int(amount.replace(".", ""))
            quantity = 2 if fen % 2 == 0 else 1
            unit = format_yuan(fen // quantity)
            proposal = ProposalIn(
                community_id=c.id, year=year, title=title, description=description, category=category,
                amount=amount, beneficiaries_count=beneficiaries, beneficiaries_desc="小区居民",
                contractor_name=contractor, contractor_kind=contractor_kind, is_aid=is_aid,
                small_group_marked=marked, planned_start=dt.date(year, 3, 1), planned_end=dt.date(year, 11, 30),
                category_justification="社区群众迫切需要的其他服务事项,经联席会议确认。" if category == "other" else "",
                forbidden_use_declaration={k: False for k in FORBIDDEN_USES},
                need_ids=[need.id],
                line_items=[LineItemIn(description=f"{title}(物资与服务)", quantity=quantity, unit_price=unit,
                                       catalog_item="C1902 维修和保养服务")])
            project, _warnings = propose_project(uow.session, c.people["secretary"], proposal)
            uow.commit()
            return project.id

    def meeting(self, passed: bool = True, divided: bool = False) -> dict[str, Any]:
        votes = (9, 1, 1) if passed else ((5, 4, 2) if divided else (2, 8, 1))
        return {"held_on": self.now.date().isoformat(),
                "attendees": [{"name": f"两委委员{i}", "capacity": "two_committees"} for i in range(1, 6)]
                + [{"name": f"居民代表{i}", "capacity": "resident_rep"} for i in range(1, 7)],
                "votes_for": votes[0], "votes_against": votes[1], "votes_abstain": votes[2],
                "minutes": "会议讨论了项目必要性、预算和实施方式。"}

    def step(self, pid: int, target: str) -> None:
        """One forward step from the current state along the main path (or to a side state)."""
        c = self.community_of(pid)
        state = self.state(pid)
        sec, sup1 = self.a("secretary", c), self.a("supervisor1", c)
        if state == "draft":
            self.fire(pid, "submit_preliminary", sec)
        elif state == "preliminary_review":
            self.fire(pid, "grant_preliminary", self.a("working_member1"))
        elif state == "joint_meeting" and target == "shelved":
            self.fire(pid, "record_meeting", sec, self.meeting(passed=False, divided=True))
        elif state == "joint_meeting":
            self.fire(pid, "record_meeting", sec, self.meeting())
        elif state == "publicity":
            self.fire(pid, "signoff", sup1, {"stage": "declaration"})
            self.after_days(12)
            self.fire(pid, "publicity_elapsed", SYSTEM)
        elif state == "ready_to_submit":
            self.fire(pid, "submit", sec)
        elif state == "pending_approval" and target == "rejected":
            self.fire(pid, "record_board_meeting", self.a("working_member1"), self.board())
            self.fire(pid, "reject", self.a("working_secretary"), reason="预算依据不足,不予批准")
        elif state == "pending_approval":
            self.fire(pid, "record_board_meeting", self.a("working_member1"), self.board())
            self.fire(pid, "approve", self.a("working_secretary"))
            self.fire(pid, "approve", self.a("director"))
        elif state == "in_progress" and target == "change_review":
            self.fire(pid, "request_change", sec, {"changes": {"planned_end": f"{self.now.year}-12-20"}},
                      reason="材料到货延迟,申请延长工期")
        elif state == "in_progress":
            self.fire(pid, "record_followup", self.a("working_member1"),
                      {"visited_on": self.now.date().isoformat(), "notes": "现场查看,施工进度正常。"})
            self.after_days(20)
            self.fire(pid, "report_completion", sec, {"summary": "项目已完工"})
        elif state == "acceptance":
            self.fire(pid, "signoff", sup1, {"stage": "acceptance"})
            self.fire(pid, "accept", self.a("working_member1"), self.acceptance(c))
        elif state == "settlement":
            self.pay_all(pid, c)
            self.fire(pid, "close_settlement", self.a("finance"))
        elif state == "completion_publicity":
            self.fire(pid, "signoff", self.a("supervisor2", c), {"stage": "write_off"})
            self.after_days(12)
            self.fire(pid, "completion_elapsed", SYSTEM)
        else:
            raise ValueError(f"no step from {state} towards {target}")

    def board(self) -> dict[str, Any]:
        return {"held_on": self.now.date().isoformat(), "attendees": ["王建国", "李红梅", "赵志强", "陈立新"],
                "minutes": "班子会议研究了该项目申请,同意报主要领导审批。"}

    def acceptance(self, c: int) -> dict[str, Any]:
        return {"quality": "工程质量合格,符合申请用途", "satisfaction": 95,
                "team": [self.a("working_member1").person_id, self.a("supervisor1", c).person_id]}

    def pay_all(self, pid: int, c: int, voucher: bool | None = None) -> None:
        with self.db.uow(write=False) as uow:
            p = uow.session.get(Project, pid)
            assert p is not None
            amount, kind = p.amount_fen - p.paid_fen, p.contractor_kind
            use_voucher = voucher if voucher is not None else (kind == "individual" or p.is_aid)
            payee = p.contractor_name
        if use_voucher:
            item = self.fire(pid, "add_payment_item", self.a("finance"),
                             {"kind": "voucher", "amount": format_yuan(amount), "payee": payee}).data["payment_item_id"]
            for kind_ in ("meeting_decision", "inprocess_proof", "payee_signature"):
                self.fire(pid, "record_voucher_evidence", self.a("secretary", c),
                          {"payment_item_id": item, "kind": kind_, "note": f"{kind_} 材料"})
            self.fire(pid, "pay", self.a("finance"), {"payment_item_id": item, "idempotency_key": uuid.uuid4().hex})
            self.fire(pid, "record_voucher_evidence", self.a("secretary", c),
                      {"payment_item_id": item, "kind": "post_notice", "note": "已在公示栏公示"})
        else:
            item = self.fire(pid, "add_payment_item", self.a("finance"),
                             {"kind": "invoice", "amount": format_yuan(amount), "payee": payee,
                              "invoice_no": f"INV{pid:06d}"}).data["payment_item_id"]
            for who in ("secretary", "director", "working_secretary"):
                actor = self.a(who, c) if who == "secretary" else self.a(who)
                self.fire(pid, "sign_invoice", actor, {"payment_item_id": item})
            self.fire(pid, "pay", self.a("finance"), {"payment_item_id": item, "idempotency_key": uuid.uuid4().hex})

    def drive(self, pid: int, target: str) -> None:
        """Fire events until the project is in ``target`` (any state of SPEC section 2)."""
        side = {"shelved": "joint_meeting", "rejected": "pending_approval", "change_review": "in_progress",
                "withdrawn": "draft"}
        goal = side.get(target, target)
        guard = 0
        while self.state(pid) != goal:
            self.step(pid, goal)
            guard += 1
            if guard > 20:
                raise RuntimeError(f"cannot reach {target}")
        if target == "withdrawn":
            self.fire(pid, "withdraw", self.a("secretary", self.community_of(pid)), reason="居民需求已由其他渠道解决")
        elif target != goal:
            self.step(pid, target)

    def new_project(self, target: str, **kw: Any) -> int:
        pid = self.propose(**kw)
        self.drive(pid, target)
        return pid


# ----------------------------------------------------------------------------------------- the demo


DEMO_PROJECTS: list[tuple[int, str, dict[str, Any]]] = [
    (0, "closed", {"title": "老旧小区路灯维修", "amount": "18600.00"}),
    (0, "closed", {"title": "困难老人助餐服务", "category": "hardship", "amount": "9000.00", "beneficiaries": 12,
                   "is_aid": True, "contractor": "张桂兰", "contractor_kind": "individual"}),
    (0, "in_progress", {"title": "小区健身器材更新", "category": "culture", "amount": "26000.00"}),
    (0, "publicity", {"title": "楼道照明改造", "amount": "8800.00"}),
    (1, "pending_approval", {"title": "失业人员技能培训", "category": "employment", "amount": "15000.00",
                             "beneficiaries": 40}),
    (1, "draft", {"title": "便民理发服务", "category": "convenience", "amount": "3600.00"}),
    (1, "settlement", {"title": "小区绿化补植", "amount": "21000.00"}),
    (1, "shelved", {"title": "广场舞音响购置", "category": "culture", "amount": "5200.00"}),
    (2, "joint_meeting", {"title": "居民代理代办服务点", "category": "convenience", "amount": "4800.00"}),
    (2, "preliminary_review", {"title": "重阳节敬老活动", "category": "culture", "amount": "6400.00"}),
    (2, "acceptance", {"title": "弃管小区卫生保洁", "amount": "30000.00"}),
    (2, "ready_to_submit", {"title": "社区志愿者表彰", "category": "other", "amount": "2400.00"}),
    (3, "completion_publicity", {"title": "单元门禁维修", "amount": "16800.00"}),
    (3, "rejected", {"title": "社区宣传栏更换", "category": "convenience", "amount": "12000.00"}),
    (3, "withdrawn", {"title": "春节联欢会", "category": "culture", "amount": "8000.00"}),
    (3, "change_review", {"title": "困难家庭就医帮扶", "category": "hardship", "amount": "10000.00",
                          "beneficiaries": 8, "is_aid": True, "contractor": "刘秀英", "contractor_kind": "individual"}),
    (4, "in_progress", {"title": "小区治安监控维护", "amount": "22000.00"}),
    (4, "closed", {"title": "社区读书角图书购置", "category": "culture", "amount": "7600.00"}),
    (4, "draft", {"title": "冬季清雪工具购置", "category": "property", "amount": "4400.00"}),
    (4, "publicity", {"title": "老年人智能手机培训", "category": "convenience", "amount": "3000.00",
                      "beneficiaries": 60}),
]


def build_demo(db: Database, communities: int = 5) -> City:
    """The demo city of ``make run``: five communities, their people, and twenty projects in every state."""
    with at(dt.datetime(2025, 11, 3, 9, 0, tzinfo=clock.SHANGHAI)):
        city = create_city(db, communities=communities)
        open_years(db, city, [2025, 2026])
    drv = Driver(db, city, start=dt.datetime(2025, 11, 20, 9, 0, tzinfo=clock.SHANGHAI))
    close_demo_year(drv, 2025)
    drv.now = dt.datetime(2026, 1, 5, 9, 0, tzinfo=clock.SHANGHAI)
    real_now = clock.now()
    for community, target, kw in DEMO_PROJECTS:
        # each project starts a little later, so that the open notices are still running today
        lead_days = {"publicity": 1, "joint_meeting": 2, "draft": 1, "preliminary_review": 2}.get(target)
        if lead_days is not None:
            drv.now = real_now - dt.timedelta(days=lead_days)
        else:
            drv.now = drv.now + dt.timedelta(days=3)
            if drv.now > real_now - dt.timedelta(days=90):
                drv.now = real_now - dt.timedelta(days=90)
        drv.new_project(target, community=community, **kw)
    # residents' objection on one open notice, so the public pages show one
    with db.uow(write=False) as uow:
        pid = uow.session.execute(select(Project.id).where(Project.state == "publicity").order_by(Project.id)).scalars().first()
    if pid is not None:
        drv.now = real_now - dt.timedelta(hours=2)
        drv.fire(pid, "object", PUBLIC, {"author_name": "王先生", "contact": "13912345678",
                                         "text": "建议先维修三号楼的灯,那里最暗。"})
    return city


def close_demo_year(drv: Driver, year: int, community: int = 0) -> None:
    """One fund year from open to closed (Art. 13, 15, 16): report, evaluation, disclosure, carry-over."""
    from store.models import FundYear

    c = drv.city.communities[community]
    with drv.db.uow(write=False) as uow:
        fy = uow.session.execute(select(FundYear.id).where(FundYear.community_id == c.id,
                                                           FundYear.year == year)).scalar_one()
    drv.now = dt.datetime(year, 11, 24, 9, 0, tzinfo=clock.SHANGHAI)
    drv.fire(fy, "submit_report", drv.a("secretary", community),
             {"summary": f"{year} 年度收集群众需求并开展服务项目,经费专款专用,按程序审批和公示。",
              "service_effect": "群众对便民服务和环境整治总体满意。"}, entity_type="fund_year")
    drv.now = dt.datetime(year, 11, 28, 9, 0, tzinfo=clock.SHANGHAI)
    drv.fire(fy, "evaluate", drv.a("working_secretary"), {"rating": "good", "comment": "程序规范"},
             entity_type="fund_year")
    drv.now = dt.datetime(year, 12, 8, 9, 0, tzinfo=clock.SHANGHAI)
    drv.fire(fy, "start_disclosure", drv.a("secretary", community), {}, entity_type="fund_year")
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


