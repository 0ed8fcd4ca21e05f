"""The to-do list (待办) of a person: for every post held today, what must be done, by when, and the
working days left. Plain data from the store, computed on each read.

Each kind of item comes from a *source*, a function of a :class:`TodoContext` registered with
:func:`todo_source`; a feature adds its own items by registering one more (nothing else changes).
Items are grouped by the post they fall to and sorted overdue first, then by due time.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from typing import Any

from sqlalchemy import false, func, select
from sqlalchemy.orm import Session

from api.auth import Viewer
from rules.calendar import WorkCalendar
from rules.money import format_yuan
from store.calendar import load_calendar
from store.models import (
    Approval,
    CalendarYear,
    Concern,
    Deadline,
    FundYear,
    Meeting,
    Objection,
    Organisation,
    PaymentItem,
    Project,
    Signature,
    SignOff,
    VoucherEvidence,
)
from workflow import clock
from workflow.engine import ROLE_LABELS, policy_of
from workflow.machines import workflow_for


@dataclass(frozen=True)
class TodoItem:
    kind: str
    """A stable code, e.g. ``project.record_meeting``, ``payment.sign``."""
    role: str
    """The post it falls to."""
    org_id: int
    what: str
    """What must be done, in Chinese."""
    subject: str
    """What it is about, e.g. the project's code and title."""
    link: str
    community: str = ""
    due_at: dt.datetime | None = None
    last_day: dt.date | None = None
    workdays_left: int | None = None
    overdue: bool = False
    provisional: bool = False
    note: str = ""


@dataclass
class TodoContext:
    session: Session
    viewer: Viewer
    now: dt.datetime
    today: dt.date
    _calendar: WorkCalendar | None = None
    _memo: dict[Any, Any] = field(default_factory=dict)

    @property
    def calendar(self) -> WorkCalendar:
        if self._calendar is None:
            self._calendar = load_calendar(self.session)
        return self._calendar

    def due(self, due_at: dt.datetime | None, provisional: bool = False) -> dict[str, Any]:
        """When something falls due as shown: the last day, the working days left, overdue."""
        if due_at is None:
            return {}
        last_day = clock.local_date(due_at) - dt.timedelta(days=1)
        overdue = due_at <= self.now
        left = 0 if overdue else self.calendar.workdays_between(self.today - dt.timedelta(days=1), last_day)
        return {"due_at": due_at, "last_day": last_day, "workdays_left": left, "overdue": overdue,
                "provisional": provisional}

    def posts(self, *roles: str) -> list[tuple[str, int]]:
        """(role, organisation id) of the viewer's posts with one of ``roles``."""
        return [(p.role, p.organisation_id) for p in self.viewer.posts if p.role in roles]

    def communities_of(self, org_id: int) -> list[int]:
        """The communities a post at ``org_id`` covers (itself, or the communities of an area or a city)."""
        key = ("communities", org_id)
        if key not in self._memo:
            level = self.session.execute(select(Organisation.level).where(Organisation.id == org_id)).scalar_one()
            if level == "community":
                found = [org_id]
            else:
                parents = (select(Organisation.id).where(Organisation.parent_id == org_id) if level == "city"
                           else select(Organisation.id).where(Organisation.id == org_id))
                found = list(self.session.execute(select(Organisation.id).where(
                    Organisation.parent_id.in_(parents), Organisation.level == "community")
                    .order_by(Organisation.id)).scalars())
            self._memo[key] = found
        return list(self._memo[key])

    def community_names(self, ids: Iterable[int]) -> dict[int, str]:
        wanted = set(ids) - set(self._memo.setdefault("names", {}))
        if wanted:
            found = self.session.execute(select(Organisation.id, Organisation.name)
                                         .where(Organisation.id.in_(wanted))).all()
            self._memo["names"].update({int(i): str(n) for i, n in found})
        return dict(self._memo["names"])


Source = Callable[[TodoContext], Iterable[TodoItem]]
SOURCES: list[Source] = []


def todo_source(fn: Source) -> Source:
    """Register a source of to-do items (a function of the context returning items)."""
    SOURCES.append(fn)
    return fn


def todo(session: Session, viewer: Viewer) -> dict[str, Any]:
    """The viewer's to-do list: one group per post held today, items as plain dicts."""
    now = clock.now()
    ctx = TodoContext(session=session, viewer=viewer, now=now, today=clock.local_date(now))
    items: list[TodoItem] = []
    for source in SOURCES:
        items.extend(source(ctx))
    far = dt.datetime.max.replace(tzinfo=dt.UTC)
    groups: list[dict[str, Any]] = []
    for post in viewer.posts:
        mine = [i for i in items if i.role == post.role and i.org_id == post.organisation_id]
        mine.sort(key=lambda i: (not i.overdue, i.due_at or far, i.subject))
        groups.append({"role": post.role, "role_label": ROLE_LABELS.get(post.role, post.role),
                       "org_name": post.org_name, "org_level": post.org_level,
                       "items": [asdict(i) for i in mine]})
    return {"groups": groups, "count": sum(len(g["items"]) for g in groups),
            "overdue": sum(1 for g in groups for i in g["items"] if i["overdue"])}


# ----------------------------------------------------------------------------------------- projects

#: (state, role) → what the post must do with a project in that state. A state of the definitions not
#: listed here falls back to the labels of the events the role may fire from it (see ``_generic``).
STEPS: dict[tuple[str, str], str] = {
    ("draft", "community_secretary"): "完善项目方案后报党工委初步同意",
    ("draft", "community_staff"): "完善项目方案(经费明细、受益对象、禁止用途声明)",
    ("preliminary_review", "working_member"): "审查方案:初步同意或退回修改",
    ("preliminary_review", "working_secretary"): "审查方案:初步同意或退回修改",
    ("joint_meeting", "community_secretary"): "召开两委和居民代表联席会议并记录结果",
    ("shelved", "community_secretary"): "统一意见后恢复商议,或撤回项目",
    ("publicity", "community_secretary"): "项目公示中:关注并答复群众意见",
    ("ready_to_submit", "community_secretary"): "连同申请审批表报党工委审批",
    ("pending_approval", "working_member"): "召开党工委班子会议研究并记录",
    ("pending_approval", "working_secretary"): "审批(党工委主要领导)",
    ("pending_approval", "construction_director"): "审批(社区建设管理委员会主要领导)",
    ("change_review", "working_secretary"): "审批变更申请",
    ("in_progress", "community_secretary"): "组织实施;完工后报告完工",
    ("in_progress", "working_member"): "定期跟进检查项目开展情况",
    ("acceptance", "working_member"): "组织综合验收(质量与群众满意度)",
    ("acceptance", "working_secretary"): "组织综合验收(质量与群众满意度)",
    ("settlement", "finance_officer"): "登记付款事项,支付并结算",
}

_PR, _DL = Project.__table__, Deadline.__table__


def _generic(state: str, role: str) -> str:
    wf = workflow_for("project")
    labels = [wf.module.EVENT_LABELS.get(t["trigger"], t["trigger"]) for t in wf.transitions
              if t["dest"] not in (None, state) and state in _sources(t) and role in t["roles"]]
    return "、".join(dict.fromkeys(labels))


def _sources(t: dict[str, Any]) -> list[str]:
    src = t["source"]
    return list(src) if isinstance(src, list | tuple) else [src]


def _projects(ctx: TodoContext, communities: list[int], states: Iterable[str]) -> list[Any]:
    key = ("projects", tuple(sorted(communities)), tuple(sorted(states)))
    if key not in ctx._memo:
        rows = ctx.session.execute(
            select(Project.id, Project.code, Project.title, Project.state, Project.community_id, Project.approval_round,
                   Project.amount_fen)
            .where(Project.community_id.in_(communities), Project.state.in_(list(states)))
            .order_by(Project.id)).all() if communities else []
        ctx._memo[key] = rows
    return list(ctx._memo[key])


def _open_deadlines(ctx: TodoContext, pids: list[int]) -> dict[int, tuple[dt.datetime, bool, str]]:
    """The earliest open deadline of each project: (due, provisional, kind)."""
    out: dict[int, tuple[dt.datetime, bool, str]] = {}
    if not pids:
        return out
    for pid, due, provisional, kind in ctx.session.execute(
            select(Deadline.entity_id, Deadline.due_at, Deadline.provisional, Deadline.kind)
            .where(Deadline.entity_type == "project", Deadline.entity_id.in_(pids), Deadline.status == "open")
            .order_by(Deadline.due_at)):
        out.setdefault(pid, (due, provisional, kind))
    return out


def _subject(row: Any) -> str:
    return f"{row.code} {row.title}"


@todo_source
def project_steps(ctx: TodoContext) -> Iterable[TodoItem]:
    wf = workflow_for("project")
    terminal = {s.value for s in wf.module.TERMINAL}
    states = [s for s in wf.states if s not in terminal]
    roles = {role for (_state, role) in STEPS} | {r for t in wf.transitions for r in t["roles"]} - {"system", "public"}
    out: list[TodoItem] = []
    for role, org in ctx.posts(*roles):
        wanted = [s for s in states if (s, role) in STEPS or _generic(s, role)]
        rows = _projects(ctx, ctx.communities_of(org), wanted)
        if not rows:
            continue
        deadlines = _open_deadlines(ctx, [r.id for r in rows])
        names = ctx.community_names(r.community_id for r in rows)
        pending = [r.id for r in rows if r.state == "pending_approval"]
        boards = set(ctx.session.execute(select(Meeting.project_id).where(
            Meeting.project_id.in_(pending), Meeting.kind == "board")).scalars()) if pending else set()
        mine = {(p, rnd) for p, rnd in ctx.session.execute(select(Approval.project_id, Approval.round).where(
            Approval.project_id.in_(pending), Approval.person_id == ctx.viewer.person_id))} if pending else set()
        for r in rows:
            what = STEPS.get((r.state, role)) or _generic(r.state, role)
            if r.state == "pending_approval":
                if role == "working_member" and r.id in boards:
                    continue
                if role in ("working_secretary", "construction_director") and (r.id, r.approval_round) in mine:
                    continue
            due = deadlines.get(r.id)
            note = ""
            if r.state == "pending_approval":
                note = "须在接到申请审批表后 5 个工作日内研究审批(第十一条)" + ("" if r.id in boards else ";尚未召开班子会议")
            out.append(TodoItem(kind=f"project.{r.state}", role=role, org_id=org, what=what, subject=_subject(r),
                                link=f"/projects/{r.id}", community=names.get(r.community_id, ""), note=note,
                                **ctx.due(due[0], due[1]) if due else {}))
    return out


@todo_source
def needs_to_propose(ctx: TodoContext) -> Iterable[TodoItem]:
    """Needs recorded and answered by no project yet (Art. 9): the community makes projects of them."""
    from store.models import Need, ProjectNeed

    out: list[TodoItem] = []
    for role, org in ctx.posts("community_secretary", "community_staff"):
        linked = select(ProjectNeed.need_id).where(ProjectNeed.need_id == Need.id).exists()
        count, oldest = ctx.session.execute(select(func.count(), func.min(Need.created_at))
                                            .where(Need.community_id == org, ~linked)).one()
        if count:
            out.append(TodoItem(kind="needs.open", role=role, org_id=org, what=f"{count} 条群众需求尚未形成项目",
                                subject="群众需求", link="/needs",
                                note=f"最早一条登记于 {clock.local_date(oldest)}" if oldest else ""))
    return out


@todo_source
def objections_to_answer(ctx: TodoContext) -> Iterable[TodoItem]:
    out: list[TodoItem] = []
    for role, org in ctx.posts("community_secretary", "community_staff"):
        rows = ctx.session.execute(
            select(Project.id, Project.code, Project.title, func.count())
            .join(Objection, Objection.project_id == Project.id)
            .where(Project.community_id == org, Objection.resolved.is_(false()), Objection.answer == "")
            .group_by(Project.id, Project.code, Project.title).order_by(Project.id)).all()
        dues = _open_deadlines(ctx, [r[0] for r in rows])
        for pid, code, title, n in rows:
            due = dues.get(pid)
            out.append(TodoItem(kind="objection.answer", role=role, org_id=org, what=f"答复群众意见({n} 条待答复)",
                                subject=f"{code} {title}", link=f"/projects/{pid}#act-answer_objection",
                                **ctx.due(due[0], due[1]) if due else {}))
    return out


# ------------------------------------------------------------------------------------- supervision

SIGNOFF_STAGES = {"publicity": "declaration", "ready_to_submit": "declaration", "acceptance": "acceptance",
                  "completion_publicity": "write_off"}
STAGE_LABELS = {"declaration": "申报", "acceptance": "验收", "write_off": "核销"}


@todo_source
def supervision(ctx: TodoContext) -> Iterable[TodoItem]:
    out: list[TodoItem] = []
    for role, org in ctx.posts("supervisor"):
        rows = _projects(ctx, [org], SIGNOFF_STAGES)
        signed = {(p, s) for p, s in ctx.session.execute(select(SignOff.project_id, SignOff.stage).where(
            SignOff.project_id.in_([r.id for r in rows])))} if rows else set()
        dues = _open_deadlines(ctx, [r.id for r in rows])
        for r in rows:
            stage = SIGNOFF_STAGES[r.state]
            if (r.id, stage) in signed:
                continue
            due = dues.get(r.id)
            out.append(TodoItem(kind=f"signoff.{stage}", role=role, org_id=org,
                                what=f"{STAGE_LABELS[stage]}环节监督签字", subject=_subject(r),
                                link=f"/projects/{r.id}#act-signoff", **ctx.due(due[0], due[1]) if due else {}))
        for cid, pid, code, title, text, at in ctx.session.execute(
                select(Concern.id, Project.id, Project.code, Project.title, Concern.text, Concern.created_at)
                .join(Project, Project.id == Concern.project_id)
                .where(Project.community_id == org, Concern.resolved_at.is_(None)).order_by(Concern.id)):
            out.append(TodoItem(kind="concern.open", role=role, org_id=org, what=f"跟踪监督意见 #{cid}:{text[:30]}",
                                subject=f"{code} {title}", link=f"/projects/{pid}#act-resolve_concern",
                                note=f"提出于 {clock.local_date(at)};未解决前项目不能进入下一步(第十四条)"))
    return out


# ----------------------------------------------------------------------------------------- payment

SIGNERS = {1: "community_secretary", 2: "construction_director", 3: "working_secretary"}
VOUCHER_BEFORE_PAY = ("meeting_decision", "inprocess_proof", "payee_signature")
EVIDENCE_LABELS = {"meeting_decision": "事前会议集体讨论决定", "inprocess_proof": "事中签字证明",
                   "payee_signature": "收款人签字", "post_notice": "事后公示"}


@todo_source
def payments(ctx: TodoContext) -> Iterable[TodoItem]:
    """Invoice signature chains (whose turn), no-invoice vouchers and their evidence, payments (Art. 13)."""
    roles = ("community_secretary", "construction_director", "working_secretary", "finance_officer",
             "community_staff")
    posts = ctx.posts(*roles)
    if not posts:
        return []
    communities = sorted({c for _r, org in posts for c in ctx.communities_of(org)})
    items = ctx.session.execute(
        select(PaymentItem.id, PaymentItem.kind, PaymentItem.amount_fen, PaymentItem.payee, PaymentItem.status,
               Project.id.label("pid"), Project.code, Project.title, Project.community_id)
        .join(Project, Project.id == PaymentItem.project_id)
        .where(Project.community_id.in_(communities), PaymentItem.status.in_(("open", "paid")),
               Project.state.in_(("settlement", "completion_publicity")))
        .order_by(PaymentItem.id)).all() if communities else []
    ids = [i.id for i in items]
    signed: dict[int, int] = {}
    evidence: dict[int, set[str]] = {}
    if ids:
        for item_id, n in ctx.session.execute(select(Signature.payment_item_id, func.count())
                                              .where(Signature.payment_item_id.in_(ids))
                                              .group_by(Signature.payment_item_id)):
            signed[item_id] = int(n)
        for item_id, kind in ctx.session.execute(select(VoucherEvidence.payment_item_id, VoucherEvidence.kind)
                                                 .where(VoucherEvidence.payment_item_id.in_(ids))):
            evidence.setdefault(item_id, set()).add(kind)
    out: list[TodoItem] = []
    for i in items:
        subject = f"{i.code} {i.title}"
        money = f"{format_yuan(i.amount_fen)} 元 · {i.payee}"
        link = f"/projects/{i.pid}"
        wanted: list[tuple[str, str, str]] = []  # (role, what, kind)
        if i.kind == "invoice" and i.status == "open":
            n = signed.get(i.id, 0)
            if n < 3:
                wanted.append((SIGNERS[n + 1], f"发票签字(第 {n + 1} 签,共 3 签):付款事项 #{i.id}", "payment.sign"))
            else:
                wanted.append(("finance_officer", f"支付发票款项:付款事项 #{i.id}(三人已依次签字)", "payment.pay"))
        elif i.kind == "voucher":
            have = evidence.get(i.id, set())
            if i.status == "open":
                missing = [k for k in VOUCHER_BEFORE_PAY if k not in have]
                if missing:
                    text = "、".join(EVIDENCE_LABELS[k] for k in missing)
                    for role in ("community_secretary", "community_staff", "finance_officer"):
                        wanted.append((role, f"登记无发票凭证材料:{text}", "voucher.evidence"))
                else:
                    wanted.append(("finance_officer", f"支付无发票款项:付款事项 #{i.id}(凭证材料已齐)", "payment.pay"))
            elif "post_notice" not in have:
                for role in ("community_secretary", "community_staff"):
                    wanted.append((role, f"支付后及时公示:付款事项 #{i.id}(第十三条)", "voucher.notice"))
        for role, what, kind in wanted:
            for held_role, org in posts:
                if held_role == role and i.community_id in ctx.communities_of(org):
                    out.append(TodoItem(kind=kind, role=role, org_id=org, what=what, subject=subject,
                                        link=link + "#payments", note=money))
    return out


# -------------------------------------------------------------------------------------- fund years

YEAR_STEPS = {
    ("open", "community_secretary"): ("提交年度经费使用情况报告", "report_due"),
    ("reported", "working_secretary"): ("考核评议年度报告", ""),
    ("reported", "community_secretary"): ("年度公示:12 月 20 日前开始", "disclosure_start_due"),
    ("evaluated", "community_secretary"): ("年度公示:12 月 20 日前开始", "disclosure_start_due"),
    ("disclosed", "finance_officer"): ("年度结转(结余转下年)", ""),
}


def _md(year: int, month_day: str) -> dt.datetime:
    month, day = (int(x) for x in month_day.split("-"))
    return dt.datetime(year, month, day, tzinfo=clock.SHANGHAI).astimezone(dt.UTC)


@todo_source
def fund_year_steps(ctx: TodoContext) -> Iterable[TodoItem]:
    """The annual report, the evaluation, the disclosure and the carry-over (Art. 13, 15, 16)."""
    wf = workflow_for("fund_year")
    roles = {r for (_s, r) in YEAR_STEPS}
    out: list[TodoItem] = []
    for role, org in ctx.posts(*roles):
        communities = ctx.communities_of(org)
        if not communities:
            continue
        rows = ctx.session.execute(select(FundYear.id, FundYear.community_id, FundYear.year, FundYear.state,
                                          FundYear.policy_version_id)
                                   .where(FundYear.community_id.in_(communities),
                                          FundYear.year <= ctx.today.year).order_by(FundYear.year)).all()
        names = ctx.community_names(communities)
        for fy in rows:
            step = YEAR_STEPS.get((fy.state, role))
            if step is None:
                continue
            what, due_kind = step
            # the trigger must still exist from that state (the definitions may change the order)
            if not any(fy.state in _sources(t) and role in t["roles"] for t in wf.transitions):
                continue
            if fy.state == "open" and fy.year == ctx.today.year and ctx.today.month < 10:
                continue  # the report is a year-end task: shown from October
            policy = policy_of(ctx.session, fy.policy_version_id)
            due_at = None
            if due_kind == "report_due":
                due_at = _md(fy.year, policy.report_due)
            elif due_kind == "disclosure_start_due":
                due_at = _md(fy.year, policy.disclosure_due)
            label = wf.module.LABELS.get(fy.state, fy.state)
            out.append(TodoItem(kind=f"fund_year.{fy.state}", role=role, org_id=org, what=what,
                                subject=f"{names.get(fy.community_id, '')} {fy.year} 年度经费({label})",
                                link=f"/fund-years/{fy.community_id}/{fy.year}",
                                community=names.get(fy.community_id, ""), **ctx.due(due_at)))
    return out


# ------------------------------------------------------------------------------------------- city


@todo_source
def calendar_import(ctx: TodoContext) -> Iterable[TodoItem]:
    """From November, the next year's holiday schedule should be imported (the State Council publishes it)."""
    posts = ctx.posts("city_admin")
    if not posts or ctx.today.month < 11:
        return []
    year = ctx.today.year + 1
    loaded = ctx.session.execute(select(CalendarYear.year).where(CalendarYear.year == year)).scalar_one_or_none()
    if loaded is not None:
        return []
    return [TodoItem(kind="calendar.import", role="city_admin", org_id=org, what=f"导入 {year} 年节假日安排",
                     subject="工作日历", link="/admin/calendar",
                     note=f"未导入前,{year} 年的期限按周末规则临时计算") for _r, org in posts]


@todo_source
def provisional_deadlines(ctx: TodoContext) -> Iterable[TodoItem]:
    posts = ctx.posts("city_admin")
    if not posts:
        return []
    n = ctx.session.execute(select(func.count()).select_from(Deadline)
                            .where(Deadline.status == "open", Deadline.provisional.is_(True))).scalar_one()
    if not n:
        return []
    return [TodoItem(kind="calendar.provisional", role="city_admin", org_id=org,
                     what=f"{n} 个期限按临时日历计算,待导入官方节假日安排", subject="工作日历",
                     link="/admin/calendar") for _r, org in posts]


# ------------------------------------------------------------------------- inspections and finance (issue 13)


@todo_source
def findings_to_rectify(ctx: TodoContext) -> Iterable[TodoItem]:
    """The inspected community rectifies each finding within its working days (第十九条)."""
    from store.models import Finding
    from workflow.inspections import finding_dues

    out: list[TodoItem] = []
    for role, org in ctx.posts("community_secretary", "community_staff"):
        rows = ctx.session.execute(select(Finding.id, Finding.article, Finding.requirement).where(
            Finding.community_id == org, Finding.state == "rectifying").order_by(Finding.id)).all()
        dues = finding_dues(ctx.session, [r.id for r in rows])
        for fid, article, requirement in rows:
            out.append(TodoItem(kind="finding.rectify", role=role, org_id=org, what=f"整改:{requirement[:40]}",
                                subject=f"检查发现 #{fid}({article})", link=f"/findings/{fid}",
                                note="整改完成后提交整改情况,由社区党工委另一名成员核验(第十九条)",
                                **ctx.due(dues.get(fid))))
    return out


@todo_source
def rectifications_to_verify(ctx: TodoContext) -> Iterable[TodoItem]:
    """A submitted rectification is verified by a member of the working committee other than its recorder."""
    from store.models import Finding

    out: list[TodoItem] = []
    for role, org in ctx.posts("working_member", "working_secretary"):
        communities = ctx.communities_of(org)
        rows = ctx.session.execute(select(Finding.id, Finding.community_id, Finding.article, Finding.submitted_at)
                                   .where(Finding.community_id.in_(communities), Finding.state == "submitted",
                                          Finding.recorded_by != ctx.viewer.person_id)
                                   .order_by(Finding.id)).all() if communities else []
        names = ctx.community_names(r.community_id for r in rows)
        for fid, community_id, article, submitted in rows:
            out.append(TodoItem(kind="finding.verify", role=role, org_id=org, what="核验整改情况",
                                subject=f"检查发现 #{fid}({article})", link=f"/findings/{fid}",
                                community=names.get(community_id, ""),
                                note=f"社区于 {clock.local_date(submitted)} 提交整改情况" if submitted else ""))
    return out


@todo_source
def budget_reviews(ctx: TodoContext) -> Iterable[TodoItem]:
    """Where the policy makes approval wait for it, finance reviews the budget of each submission (第十八条)."""
    from store.models import FinanceCheck

    out: list[TodoItem] = []
    for role, org in ctx.posts("finance_officer"):
        communities = ctx.communities_of(org)
        pending = ctx.session.execute(
            select(Project.id, Project.code, Project.title, Project.community_id, Project.approval_round,
                   Project.policy_version_id)
            .where(Project.community_id.in_(communities), Project.state == "pending_approval")
            .order_by(Project.id)).all() if communities else []
        rows = [r for r in pending if policy_of(ctx.session, r.policy_version_id).budget_review_required]
        if not rows:
            continue
        reviewed = {(p, rnd) for p, rnd in ctx.session.execute(select(FinanceCheck.project_id, FinanceCheck.round)
                    .where(FinanceCheck.project_id.in_([r.id for r in rows]), FinanceCheck.kind == "budget_review"))}
        dues = _open_deadlines(ctx, [r.id for r in rows])
        names = ctx.community_names(r.community_id for r in rows)
        for r in rows:
            if (r.id, r.approval_round) in reviewed:
                continue
            due = dues.get(r.id)
            out.append(TodoItem(kind="finance.review_budget", role=role, org_id=org, what="预算审核(事前预算)",
                                subject=_subject(r), link=f"/projects/{r.id}#act-review_budget",
                                community=names.get(r.community_id, ""), note="审批须等待财务预算审核(第十八条)",
                                **ctx.due(due[0], due[1]) if due else {}))
    return out


@todo_source
def inspections_to_carry_out(ctx: TodoContext) -> Iterable[TodoItem]:
    """The working committee carries out the inspections it planned: start, record findings, complete (第十九条)."""
    from store.models import Inspection

    out: list[TodoItem] = []
    for role, org in ctx.posts("working_member", "working_secretary"):
        rows = ctx.session.execute(
            select(Inspection.id, Inspection.title, Inspection.state, Inspection.community_id, Inspection.period_from,
                   Inspection.period_to)
            .where(Inspection.area_id == org, Inspection.state.in_(("planned", "in_progress")))
            .order_by(Inspection.period_from, Inspection.id)).all()
        names = ctx.community_names(r.community_id for r in rows)
        for r in rows:
            what = "开始检查" if r.state == "planned" else "记录检查发现并完成检查"
            out.append(TodoItem(kind=f"inspection.{r.state}", role=role, org_id=org, what=what,
                                subject=f"定期检查 #{r.id} {r.title}", link=f"/inspections/{r.id}",
                                community=names.get(r.community_id, ""),
                                note=f"检查期间 {r.period_from} 至 {r.period_to}(第十九条)"))
    return out


#: States after settlement in which finance records its audit (事后审计, 第十八条).
AUDIT_STATES = ("completion_publicity", "closed")


@todo_source
def audits_to_record(ctx: TodoContext) -> Iterable[TodoItem]:
    """Finance audits every project after its settlement (事后审计, 第十八条) until it has recorded one."""
    from store.models import FinanceCheck

    out: list[TodoItem] = []
    audited = select(FinanceCheck.project_id).where(FinanceCheck.kind == "audit")
    for role, org in ctx.posts("finance_officer"):
        communities = ctx.communities_of(org)
        rows = ctx.session.execute(
            select(Project.id, Project.code, Project.title, Project.community_id, Project.state)
            .where(Project.community_id.in_(communities), Project.state.in_(AUDIT_STATES),
                   Project.id.not_in(audited))
            .order_by(Project.id)).all() if communities else []
        names = ctx.community_names(r.community_id for r in rows)
        for r in rows:
            out.append(TodoItem(kind="finance.audit", role=role, org_id=org, what="事后审计并登记审计结论",
                                subject=_subject(r), link=f"/projects/{r.id}#act-record_audit",
                                community=names.get(r.community_id, ""),
                                note="项目已结算,须进行事后审计(第十八条)"))
    return out
