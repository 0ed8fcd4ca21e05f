"""The sweep: turns due deadline rows into timer events through the engine, exactly once.

Deadlines are rows, never in-memory timers. A sweep lists the open deadlines due by ``now`` and
not backing off (earliest first: one range scan of the partial index ``ix_deadlines_due_open``)
and handles them in batches of 50, one transaction per batch:

1. lock the batch's deadline rows that are still open and due (PostgreSQL: ``FOR UPDATE SKIP
   LOCKED``, so two sweeps never take the same row; SQLite: the write transaction serialises);
2. for each, in deadline order, run its kind's handler: fire the timer event through the engine
   as the system, or escalate / remind with notifications. The engine locks the project or fund
   year first thing; on PostgreSQL the batch runs with a 200 ms ``lock_timeout``, so a row a user
   is changing right now is left for the next sweep (``busy``) instead of waited for, and a lock
   cycle with a user action always costs the sweep, never the user;
3. mark each deadline ``fired`` (or ``cleared`` when there was nothing left to do, ``moot``) in
   the same commit as what it caused.

A batch first runs fast: no SAVEPOINTs, the inbox rows and the deadlines' own updates written
once at its end. If anything in it fails (a lock timeout, an error) it is rolled back and redone
carefully, one SAVEPOINT per deadline, so one bad row costs only itself. A crash anywhere leaves
the deadline open and the entity untouched, and the next sweep takes it: nothing lost, nothing
doubled.

A timer the rules refuse (e.g. ``completion_elapsed`` before the supervisor's write-off sign-off,
``close_year`` before the disclosure has run) writes nothing (the engine's contract); the
deadline stays open with ``attempts`` + 1 and ``next_attempt_at`` pushed back (1 min, 2, 4 …
capped at 1 h): retried, never in a hot loop. Silence is never consent: an overdue approval is
escalated (audit event + notifications), never approved.

Each sweep also flags new provisional deadlines (a year whose official schedule is not loaded) to
the city's administrators, once per deadline, and sends the queued e-mail / webhook copies
(``workflow.notify``) after its transactions committed. The deadlines made lazily (fund year,
follow-up, needs collection) are created by ``workflow.jobs`` with ``workflow.deadlines`` (where a fired
follow-up reminder makes its successor, and the evaluation nudges a waiting year close); this module only
fires rows.
"""
from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, cast

from sqlalchemy import Table, bindparam, literal_column, or_, select, text, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from store.db import Database
from store.models import Deadline, Finding, FundYear, Organisation, Project
from workflow import audit, clock
from workflow.deadlines import DueDeadline, next_followup, nudge_year_close
from workflow.engine import SYSTEM, fire, org_chain, people_with_role, policy_of
from workflow.notify import Message, Settings, deliver_pending, notify_many

log = logging.getLogger("fundflow.sweep")

BATCH = 50
"""Deadlines per transaction."""
FETCH = 1000
"""Due ids listed per read."""
RETRY_BASE = dt.timedelta(minutes=1)
RETRY_CAP = dt.timedelta(hours=1)

KIND_LABELS = {
    "publicity": "项目公示期", "completion_publicity": "建成公示期", "disclosure": "年度公示期",
    "approval_due": "审批期限", "voucher_notice": "无发票支出公示期", "followup_due": "跟进检查期限",
    "report_reminder": "年度报告提醒", "report_due": "年度报告期限", "disclosure_start_due": "年度公示开始期限",
    "year_close": "年度结转", "needs_collection": "需求征集", "rectification_due": "整改期限",
}

_OPEN: ColumnElement[str] = literal_column("'open'")
"""Inline 'open' (not a bind parameter) so that the planner can always use the partial indexes."""


@dataclass
class SweepResult:
    fired: int = 0
    """Timer events that moved a project or fund year."""
    escalated: int = 0
    """Overdue steps escalated (approval, annual report, disclosure start)."""
    notified: int = 0
    """Reminders sent (follow-up, report reminder, needs collection, voucher notice end)."""
    moot: int = 0
    """Deadlines with nothing left to do (the entity had already moved on): cleared."""
    refused: int = 0
    """Timers the rules refused this time: retried later with backoff."""
    busy: int = 0
    """Deadlines whose entity a user was changing at that moment: left for the next sweep."""
    errors: int = 0
    flagged: int = 0
    """Provisional deadlines flagged to administrators."""
    delivered: int = 0
    """E-mail / webhook copies sent."""
    notes: list[str] = field(default_factory=list)

    def add(self, outcome: str) -> None:
        name = {"transitioned": "fired", "escalated": "escalated", "overdue": "escalated", "notified": "notified",
                "moot": "moot", "refused": "refused", "busy": "busy", "error": "errors"}.get(outcome)
        if name:
            setattr(self, name, getattr(self, name) + 1)

    @property
    def handled(self) -> int:
        return self.fired + self.escalated + self.notified + self.moot


class Busy(Exception):
    """The deadline's entity is locked by someone else right now."""


class Refused(Exception):
    """The rules refused the timer this time; the deadline is retried later."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


_DUE_COLUMNS = (Deadline.id, Deadline.entity_type, Deadline.entity_id, Deadline.kind, Deadline.event, Deadline.ref,
                Deadline.start_date, Deadline.workdays, Deadline.due_at, Deadline.provisional, Deadline.attempts)


# ------------------------------------------------------------------------------------------ queries


def _retry_due(now: dt.datetime) -> ColumnElement[bool]:
    return or_(Deadline.next_attempt_at.is_(None), Deadline.next_attempt_at <= now)


def due_ids(session: Session, now: dt.datetime, limit: int) -> list[int]:
    """Ids of open deadlines due at ``now`` (and not backing off), earliest first (one index range scan)."""
    stmt = (select(Deadline.id).where(Deadline.status == _OPEN, Deadline.due_at <= now, _retry_due(now))
            .order_by(Deadline.due_at, Deadline.id).limit(limit))
    return [r[0] for r in session.execute(stmt)]


def _pg(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


LOCK_TIMEOUT_MS = 200
"""How long a sweep waits for a row a user is changing before leaving its deadline for the next sweep
(shorter than PostgreSQL's deadlock_timeout, so a lock cycle with a user action always costs the
sweep, never the user)."""


@dataclass
class Run:
    """One sweep transaction's context: what every handler reads.

    In a fast batch (``careful`` False) the inbox rows and the deadlines' own updates are written
    once at the end of the batch; in a careful one each deadline runs under its own SAVEPOINT.
    """

    session: Session
    now: dt.datetime
    settings: Settings
    memo: dict[Any, Any] = field(default_factory=dict)
    careful: bool = False
    pending: list[Message] = field(default_factory=list)
    done: list[tuple[DueDeadline, str]] = field(default_factory=list)

    @property
    def day(self) -> dt.date:
        return clock.local_date(self.now)

    def people(self, *wanted: tuple[int | None, str]) -> list[int]:
        """Holders of (organisation, role) posts today, each once, in order (memoised per sweep)."""
        out: dict[int, None] = {}
        for org_id, role in wanted:
            if org_id is None:
                continue
            key = ("people", org_id, role, self.day)
            if key not in self.memo:
                self.memo[key] = people_with_role(self.session, org_id, role, self.day)
            for pid in self.memo[key]:
                out.setdefault(pid, None)
        return list(out)

    def prefetch_projects(self, ids: list[int]) -> None:
        """(community, code, title) of the batch's projects in one query, for the messages."""
        wanted = [i for i in ids if ("project", i) not in self.memo]
        if wanted:
            for pid, community_id, code, title in self.session.execute(select(
                    Project.id, Project.community_id, Project.code, Project.title).where(Project.id.in_(wanted))):
                self.memo[("project", int(pid))] = (int(community_id), str(code), str(title))

    def project_info(self, project_id: int) -> tuple[int, str, str]:
        if ("project", project_id) not in self.memo:
            self.prefetch_projects([project_id])
        info: tuple[int, str, str] = self.memo[("project", project_id)]
        return info

    def notify(self, dl: DueDeadline | Deadline, recipients: list[int], kind: str, title: str, body: str) -> None:
        message = Message(dl.id, tuple(recipients), kind, title, body)
        if self.careful:
            notify_many(self.session, [message], self.now, self.settings)
        else:
            self.pending.append(message)

    def flush(self) -> None:
        """Write what a fast batch deferred: the inbox rows (one statement) and the deadlines' outcomes."""
        if self.pending:
            notify_many(self.session, self.pending, self.now, self.settings)
            self.pending.clear()
        for dl, outcome in self.done:
            _finish(dl, outcome, self.now)
        self.done.clear()


def _is_lock_timeout(exc: BaseException) -> bool:
    orig = getattr(exc, "orig", None)
    return getattr(orig, "sqlstate", None) == "55P03" or getattr(orig, "pgcode", None) == "55P03"


def lock_or_busy(session: Session, model: Any, entity_id: int) -> Any:
    """The row locked for this transaction, None if it does not exist; raises Busy if another holds it
    (PostgreSQL: ``FOR UPDATE`` under the batch's short ``lock_timeout``)."""
    stmt = select(model).where(model.id == entity_id).execution_options(populate_existing=True)
    if not _pg(session):
        return session.execute(stmt).scalar_one_or_none()
    try:
        return session.execute(stmt.with_for_update()).scalar_one_or_none()
    except OperationalError as exc:
        if _is_lock_timeout(exc):
            raise Busy(f"{model.__tablename__} #{entity_id}") from exc
        raise


def _local(instant: dt.datetime) -> str:
    return f"{instant.astimezone(clock.SHANGHAI):%Y-%m-%d %H:%M}"


def _due_day(dl: DueDeadline | Deadline) -> str:
    """The last day of the period (the deadline is 24:00 of it)."""
    return (dl.due_at.astimezone(clock.SHANGHAI) - dt.timedelta(microseconds=1)).date().isoformat()


def _record(session: Session, row: Any, entity_type: str, event: str, now: dt.datetime, payload: dict[str, Any],
            reason: str = "") -> None:
    """A system audit event that keeps the state (escalations, notice ends): the caller holds the row lock."""
    audit.append(session, row, entity_type=entity_type, entity_id=row.id, event=event, at=now,
                 actor_label="system", role="system", from_state=row.state, to_state=row.state, payload=payload,
                 reason=reason)


# ----------------------------------------------------------------------------------------- handlers

Handler = Callable[[Run, DueDeadline], str]
_HANDLERS: dict[str, Handler] = {}


def handles(*kinds: str) -> Callable[[Handler], Handler]:
    def deco(fn: Handler) -> Handler:
        for k in kinds:
            _HANDLERS[k] = fn
        return fn
    return deco


_TIMER_MODELS: dict[str, Any] = {"project": Project, "fund_year": FundYear}


def fire_timer(run: Run, dl: DueDeadline) -> str:
    """The state timers of the definitions (``publicity_elapsed``, ``completion_elapsed``, ``disclosure_elapsed``)."""
    s = run.session
    model = _TIMER_MODELS.get(dl.entity_type)
    if model is None:
        raise Refused("sweep.unknown_entity", f"未知的期限对象类型 {dl.entity_type}")
    # the engine locks the row first thing (FOR UPDATE under the batch's lock_timeout → Busy)
    try:
        outcome = fire(s, dl.entity_type, dl.entity_id, dl.event, SYSTEM, {}, now=run.now)
    except OperationalError as exc:
        if _is_lock_timeout(exc):
            raise Busy(f"{dl.entity_type} #{dl.entity_id}") from exc
        raise
    if not outcome.ok:
        if outcome.verdict.code in ("workflow.invalid_state", "workflow.not_found"):
            return "moot"  # the entity left the state without clearing the deadline
        raise Refused(outcome.verdict.code, outcome.verdict.message)
    label = KIND_LABELS.get(dl.kind, dl.kind)
    if dl.entity_type == "project":
        community_id, code, title = run.project_info(dl.entity_id)
        orgs = org_chain(s, community_id)
        went = {"ready_to_submit": "公示期满且无未解决异议,可以报党工委审批。",
                "joint_meeting": "公示期满,仍有未解决的异议,项目已退回联席会议讨论。",
                "closed": "监督委员会已签字销号,项目已办结。"}.get(outcome.to_state, "")
        run.notify(dl, run.people((orgs.get("community"), "community_secretary")), dl.event,
                   f"{label}届满:{code} {title}",
                   f"项目「{title}」({code})的{label}已于 {_due_day(dl)} 24:00 届满。{went}")
    else:
        row = s.get(model, dl.entity_id)
        assert row is not None
        orgs = org_chain(s, row.community_id)
        nudge_year_close(s, row)
        recipients = [(orgs.get("community"), "community_secretary"), (orgs.get("area"), "finance_officer")]
        body = f"{row.year} 年度专项经费使用情况公示已于 {_due_day(dl)} 24:00 期满;"
        if (row.report or {}).get("evaluated_at"):
            body += "年度结束后系统自动办理结余结转。"
        else:
            # the evaluation runs alongside the disclosure (Art. 16) and is what the close still waits for
            recipients.append((orgs.get("area"), "working_secretary"))
            body += "社区党工委尚未对年度报告进行考核评议(《细则》第十六条),评议记录在案且年度结束后系统自动办理结余结转。"
        run.notify(dl, run.people(*recipients), dl.event, f"{row.year} 年度公示期满", body)
    return "transitioned"


@handles("approval_due")
def approval_overdue(run: Run, dl: DueDeadline) -> str:
    """Art. 11: no decision within the working days after receipt — escalate; never approve."""
    project = lock_or_busy(run.session, Project, dl.entity_id)
    if project is None or project.state != "pending_approval":
        return "moot"
    orgs = org_chain(run.session, project.community_id)
    recipients = run.people((orgs.get("area"), "working_secretary"), (orgs.get("area"), "construction_director"),
                            (orgs.get("community"), "supervisor"))
    received = _local(project.received_at) if project.received_at else "—"
    run.notify(dl, recipients, "approval_overdue", f"审批逾期:{project.code} {project.title}",
               f"项目「{project.title}」({project.code})的申请审批表已于 {received} 报送党工委,"
               f"按《细则》第十一条应在 {dl.workdays} 个工作日内(截至 {_due_day(dl)} 24:00)研究审批,现已逾期。"
               "逾期不视为同意,请尽快召开班子会议研究并由两位主要领导审批。")
    _record(run.session, project, "project", "approval_overdue", run.now,
            {"deadline_id": dl.id, "due_at": dl.due_at.isoformat(), "notified": len(recipients)},
            "审批期限已过,已向主要领导和监督委员会发出逾期提醒(逾期不视为同意)")
    return "escalated"


@handles("followup_due")
def followup_due(run: Run, dl: DueDeadline) -> str:
    """Art. 12: a follow-up inspection is due: remind the area's working-committee members."""
    project = lock_or_busy(run.session, Project, dl.entity_id)
    if project is None or project.state not in ("in_progress", "change_review"):
        return "moot"
    orgs = org_chain(run.session, project.community_id)
    run.notify(dl, run.people((orgs.get("area"), "working_member")), "followup_due",
               f"跟进检查到期:{project.code} {project.title}",
               f"项目「{project.title}」({project.code})实施中,自 {dl.start_date} 起已满 {dl.workdays} 个工作日"
               f"(截至 {_due_day(dl)})未登记跟进检查。请党工委委员到现场跟进检查并登记(《细则》第十二条)。")
    next_followup(run.session, project, run.now, fired=dl)
    return "notified"


@handles("voucher_notice")
def voucher_notice_elapsed(run: Run, dl: DueDeadline) -> str:
    """Art. 13: the public notice after a no-invoice payment has run its period."""
    project = lock_or_busy(run.session, Project, dl.entity_id)
    if project is None:
        return "moot"
    item_id = int(dl.ref.split(":", 1)[1]) if dl.ref.startswith("payment_item:") else None
    orgs = org_chain(run.session, project.community_id)
    run.notify(dl, run.people((orgs.get("community"), "community_secretary"), (orgs.get("area"), "finance_officer")),
               "voucher_notice_elapsed", f"无发票支出公示期满:{project.code} {project.title}",
               f"项目「{project.title}」({project.code})付款事项 #{item_id} 的无发票支出公示"
               f"已于 {_due_day(dl)} 24:00 期满({dl.workdays} 个工作日),请将公示记录归档(《细则》第十三条)。")
    _record(run.session, project, "project", "voucher_notice_elapsed", run.now,
            {"deadline_id": dl.id, "payment_item_id": item_id, "due_at": dl.due_at.isoformat()})
    return "notified"


def _fund_year(session: Session, dl: DueDeadline) -> FundYear | None:
    return session.execute(select(FundYear).where(FundYear.community_id == dl.entity_id,
                                                  FundYear.year == int(dl.ref))).scalar_one_or_none()


def _community_name(session: Session, community_id: int) -> str:
    return str(session.execute(select(Organisation.name).where(Organisation.id == community_id)).scalar_one())


@handles("report_reminder")
def report_reminder(run: Run, dl: DueDeadline) -> str:
    """Art. 16: the annual report falls due soon."""
    fy = _fund_year(run.session, dl)
    if fy is None or fy.state != "open":
        return "moot"
    policy = policy_of(run.session, fy.policy_version_id)
    run.notify(dl, run.people((fy.community_id, "community_secretary"), (fy.community_id, "community_staff")),
               "report_reminder", f"{fy.year} 年度报告即将到期",
               f"{_community_name(run.session, fy.community_id)} {fy.year} 年度专项经费使用情况报告须在 "
               f"{fy.year}-{policy.report_due} 前报送党工委(《细则》第十六条),"
               f"还有 {policy.report_reminder_workdays} 个工作日。")
    return "notified"


@handles("report_due", "disclosure_start_due")
def year_step_overdue(run: Run, dl: DueDeadline) -> str:
    """The annual report (Art. 16) or the start of the disclosure (Art. 15) is overdue: flag and escalate."""
    s = run.session
    pending = ("open",) if dl.kind == "report_due" else ("open", "reported")
    fy = _fund_year(s, dl)
    if fy is None or fy.state not in pending:
        return "moot"
    fy = lock_or_busy(s, FundYear, fy.id)
    if fy is None or fy.state not in pending:
        return "moot"
    policy = policy_of(s, fy.policy_version_id)
    orgs = org_chain(s, fy.community_id)
    name = _community_name(s, fy.community_id)
    if dl.kind == "report_due":
        event, what, article = "report_overdue", f"年度报告(应在 {fy.year}-{policy.report_due} 前报送)", "第十六条"
        roles = [(orgs.get("community"), "community_secretary"), (orgs.get("area"), "working_secretary")]
    else:
        event, what, article = ("disclosure_overdue", f"年度公示(应在 {fy.year}-{policy.disclosure_due} 前开始)",
                                "第十五条")
        roles = [(orgs.get("community"), "community_secretary"), (orgs.get("area"), "working_secretary"),
                 (orgs.get("community"), "supervisor")]
    recipients = run.people(*roles)
    run.notify(dl, recipients, event, f"{name} {fy.year} 年度{what}已逾期",
               f"{name} {fy.year} 年度{what}已逾期,请尽快办理(《细则》{article})。")
    _record(s, fy, "fund_year", event, run.now,
            {"deadline_id": dl.id, "due_at": dl.due_at.isoformat(), "notified": len(recipients)}, f"{what}已逾期")
    return "overdue"


@handles("year_close")
def year_close(run: Run, dl: DueDeadline) -> str:
    """Art. 13: after the disclosure has run, the report is evaluated (Art. 16) and the year has ended, carry
    the balance over (system). Until then the close is refused and retried with backoff."""
    s = run.session
    fy = _fund_year(s, dl)
    if fy is None or fy.state == "closed":
        return "moot"
    if lock_or_busy(s, FundYear, fy.id) is None:
        return "moot"
    outcome = fire(s, "fund_year", fy.id, "close_year", SYSTEM, {}, now=run.now)
    if not outcome.ok:
        if outcome.verdict.code == "workflow.invalid_state":
            raise Refused("year.disclosure_pending", f"{fy.year} 年度公示尚未完成,暂不能结转")
        raise Refused(outcome.verdict.code, outcome.verdict.message)
    orgs = org_chain(s, fy.community_id)
    run.notify(dl, run.people((orgs.get("area"), "finance_officer"), (orgs.get("community"), "community_secretary")),
               "year_closed", f"{fy.year} 年度已结转",
               f"{_community_name(s, fy.community_id)} {fy.year} 年度已结转,"
               f"结余 {outcome.data.get('carry_out', '')} 元转入下一年度(《细则》第十三条)。")
    return "transitioned"


@handles("needs_collection")
def needs_collection(run: Run, dl: DueDeadline) -> str:
    """Art. 6: needs collection opens at the start of each year and each quarter."""
    year, quarter = dl.ref.split("-Q")
    when = f"{year} 年初及第一季度" if quarter == "1" else f"{year} 年第{'一二三四'[int(quarter) - 1]}季度"
    run.notify(dl, run.people((dl.entity_id, "community_secretary"), (dl.entity_id, "community_staff")),
               "needs_collection", f"{when}群众需求征集开始",
               f"{_community_name(run.session, dl.entity_id)}:{when}群众需求征集现已开始(《细则》第六条)。"
               "请通过入户走访、便民服务大厅、桥梁平台等渠道收集群众需求并登记。")
    return "notified"


@handles("rectification_due")
def rectification_overdue(run: Run, dl: DueDeadline) -> str:
    """Art. 19: a finding not rectified within its working days. The community is reminded and the working
    committee (its secretary and the member who recorded the finding) is told; the finding stays open until
    a second member verifies the rectification."""
    s = run.session
    finding = lock_or_busy(s, Finding, dl.entity_id)
    if finding is None or finding.state != "rectifying":
        return "moot"
    orgs = org_chain(s, finding.community_id)
    name = _community_name(s, finding.community_id)
    what = f"检查发现 #{finding.id}({finding.article})"
    community = run.people((orgs.get("community"), "community_secretary"))
    area = [p for p in run.people((orgs.get("area"), "working_secretary")) + [finding.recorded_by]
            if p not in community]
    run.notify(dl, community, "rectification_overdue", f"整改逾期:{name} {what}",
               f"{name}:{what}要求的整改「{finding.requirement[:100]}」应在 {dl.workdays} 个工作日内"
               f"(截至 {_due_day(dl)} 24:00)完成并提交整改情况,现已逾期。请尽快整改并提交(《细则》第十九条)。")
    run.notify(dl, list(dict.fromkeys(area)), "rectification_escalated", f"整改逾期未完成:{name} {what}",
               f"{name}对{what}的整改已超过期限(截至 {_due_day(dl)} 24:00)仍未提交。"
               "请社区党工委督促整改,并依《细则》第十九条严肃追究责任。")
    _record(s, finding, "finding", "rectification_overdue", run.now,
            {"deadline_id": dl.id, "due_at": dl.due_at.isoformat(), "notified": len(community) + len(area)},
            "整改期限已过,已提醒社区党委并报告社区党工委(逾期不视为整改完成)")
    return "overdue"


# ------------------------------------------------------------------------------------------- firing


def retry_delay(attempts: int) -> dt.timedelta:
    """Backoff after ``attempts`` refusals: 1 min, 2 min, 4 min … at most 1 h."""
    delay: dt.timedelta = RETRY_BASE * (2 ** max(attempts - 1, 0))
    return min(delay, RETRY_CAP)


def _retry_later(dl: DueDeadline, now: dt.datetime, error: str) -> None:
    dl.attempts += 1
    dl.changes = {"attempts": dl.attempts, "next_attempt_at": now + retry_delay(dl.attempts),
                  "last_error": error[:2000]}


class _Redo(Exception):
    """A fast batch met an error: it is rolled back and redone carefully, one SAVEPOINT per deadline."""


def _finish(dl: DueDeadline, outcome: str, now: dt.datetime) -> None:
    dl.changes = {"status": "cleared" if outcome == "moot" else "fired", "fired_at": now, "outcome": outcome,
                  "last_error": ""}


def _write_changes(session: Session, taken: list[DueDeadline]) -> None:
    """The batch's own deadline updates: one executemany per shape (Core: no ORM objects involved)."""
    table = cast(Table, Deadline.__table__)
    shapes: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for dl in taken:
        if dl.changes:
            shapes.setdefault(tuple(sorted(dl.changes)), []).append({"dl_id": dl.id, **dl.changes})
    for columns, rows in shapes.items():
        stmt = update(table).where(table.c.id == bindparam("dl_id")).values({c: bindparam(c) for c in columns})
        session.connection().execute(stmt, rows)


def _wrote(session: Session) -> bool:
    """Whether the session holds unflushed changes (a refusal must have written nothing)."""
    return bool(session.new or session.dirty or session.deleted)


def handle(run: Run, dl: DueDeadline) -> str:
    """Handle one locked, due deadline; returns the outcome (see SweepResult).

    Fast (the common case): no SAVEPOINT; a refusal, which by the engine's contract writes
    nothing, only pushes the deadline back; any error (a lock timeout included) raises ``_Redo``.
    Careful: inside a SAVEPOINT, so that a refusal or an error undoes exactly this deadline's work.
    """
    handler = _HANDLERS.get(dl.kind) or (fire_timer if dl.event else None)
    if not run.careful:
        queued = len(run.pending)
        try:
            if handler is None:
                raise Refused("sweep.unknown_kind", f"没有处理「{dl.kind}」期限的程序")
            outcome = handler(run, dl)
        except Refused as exc:
            if _wrote(run.session):
                raise _Redo(str(exc)) from exc
            del run.pending[queued:]
            _retry_later(dl, run.now, str(exc))
            return "refused"
        except Exception as exc:  # noqa: BLE001 - redone carefully
            raise _Redo(f"{type(exc).__name__}: {exc}") from exc
        run.done.append((dl, outcome))
        return outcome
    savepoint = run.session.begin_nested()
    try:
        if handler is None:
            raise Refused("sweep.unknown_kind", f"没有处理「{dl.kind}」期限的程序")
        outcome = handler(run, dl)
    except Busy:
        savepoint.rollback()
        return "busy"
    except Refused as exc:
        savepoint.rollback()
        _retry_later(dl, run.now, str(exc))
        return "refused"
    except Exception as exc:  # noqa: BLE001 - one broken deadline must not stop the others
        savepoint.rollback()
        if _is_lock_timeout(exc):
            return "busy"
        log.exception("deadline %s (%s) failed", dl.id, dl.kind)
        _retry_later(dl, run.now, f"{type(exc).__name__}: {exc}")
        return "error"
    savepoint.commit()
    _finish(dl, outcome, run.now)
    return outcome


def run_batch(db: Database, ids: list[int], now: dt.datetime, settings: Settings,
              memo: dict[Any, Any] | None = None) -> dict[int, str]:
    """One transaction: take (lock) the still-due deadlines among ``ids`` and handle them in due order.

    Tried fast first; if anything goes wrong the transaction is rolled back and the batch redone
    carefully (so one bad deadline costs its batch a second pass, never the other deadlines).
    """
    memo = memo if memo is not None else {}
    try:
        return _run_batch(db, ids, now, settings, memo, careful=False)
    except _Redo as exc:
        log.info("sweep batch redone carefully: %s", exc)
        return _run_batch(db, ids, now, settings, memo, careful=True)


def _run_batch(db: Database, ids: list[int], now: dt.datetime, settings: Settings, memo: dict[Any, Any],
               careful: bool) -> dict[int, str]:
    outcomes: dict[int, str] = {}
    with db.uow() as uow:
        s = uow.session
        stmt = (select(*_DUE_COLUMNS).where(Deadline.id.in_(ids), Deadline.status == _OPEN, Deadline.due_at <= now,
                                            _retry_due(now))
                .order_by(Deadline.due_at, Deadline.id))
        if _pg(s):
            s.execute(text(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT_MS}ms'"))
            stmt = stmt.with_for_update(skip_locked=True)
        run = Run(s, now, settings, memo, careful=careful)
        taken = [DueDeadline(*row) for row in s.execute(stmt)]
        run.prefetch_projects([dl.entity_id for dl in taken if dl.entity_type == "project"])
        for dl in taken:
            outcomes[dl.id] = handle(run, dl)
        try:
            run.flush()
            _write_changes(s, taken)
            uow.commit()
        except Exception as exc:
            if careful:
                raise
            raise _Redo(f"{type(exc).__name__}: {exc}") from exc
    return outcomes


def sweep_one(db: Database, deadline_id: int, now: dt.datetime) -> str:
    """Handle one deadline in its own transaction: the outcome, or 'skipped' if not open and due."""
    return run_batch(db, [deadline_id], now, Settings.safe_from_env()).get(deadline_id, "skipped")


def sweep(db: Database, now: dt.datetime | None = None, batch: int = BATCH, *, limit: int | None = None,
          flag: bool = True, deliver: bool = True, settings: Settings | None = None,
          should_stop: Callable[[], bool] | None = None) -> SweepResult:
    """One sweep as of ``now``: every deadline due by then, earliest first; then flag and deliver.

    ``limit`` caps the deadlines handled (the rest wait for the next sweep); ``should_stop`` is
    asked between batches (a scheduler shutting down).
    """
    if now is not None:
        # a sweep "as of" a given time (operations, tests): everything it calls reads that time
        with clock.frozen(now):
            return _sweep(db, now, batch, limit, flag, deliver, settings, should_stop)
    return _sweep(db, clock.now(), batch, limit, flag, deliver, settings, should_stop)


def _sweep(db: Database, now: dt.datetime, batch: int, limit: int | None, flag: bool, deliver: bool,
           settings: Settings | None, should_stop: Callable[[], bool] | None) -> SweepResult:
    settings = settings if settings is not None else Settings.safe_from_env()
    result = SweepResult()
    stop = should_stop or (lambda: False)
    if flag:
        result.flagged = flag_provisional(db, now, settings)
    seen: set[int] = set()
    memo: dict[Any, Any] = {}
    taken = 0
    while not stop():
        with db.uow(write=False) as uow:
            ids = [i for i in due_ids(uow.session, now, FETCH + len(seen)) if i not in seen]
        if limit is not None:
            ids = ids[: max(limit - taken, 0)]
        if not ids:
            break
        for start in range(0, len(ids), batch):
            if stop():
                break
            chunk = ids[start:start + batch]
            seen.update(chunk)
            outcomes = run_batch(db, chunk, now, settings, memo)
            taken += len(outcomes)
            for outcome in outcomes.values():
                result.add(outcome)
    if deliver and settings.any and not stop():
        result.delivered = deliver_pending(db, settings, should_stop=should_stop).sent
    return result


# ------------------------------------------------------------------------------------ provisional


def _owner_org(session: Session, dl: Deadline) -> tuple[int | None, str]:
    """(community id, words for the message) of a deadline's entity."""
    if dl.entity_type == "project":
        row = session.execute(select(Project.community_id, Project.code, Project.title)
                              .where(Project.id == dl.entity_id)).first()
        return (int(row[0]), f"项目 {row[1]} {row[2]}") if row else (None, "")
    if dl.entity_type == "fund_year":
        fy = session.execute(select(FundYear.community_id, FundYear.year).where(FundYear.id == dl.entity_id)).first()
        return (int(fy[0]), f"{_community_name(session, int(fy[0]))} {fy[1]} 年度") if fy else (None, "")
    if dl.entity_type == "community":
        return dl.entity_id, _community_name(session, dl.entity_id)
    if dl.entity_type == "finding":
        found = session.execute(select(Finding.community_id).where(Finding.id == dl.entity_id)).scalar_one_or_none()
        return (int(found), f"检查发现 #{dl.entity_id}") if found is not None else (None, "")
    return None, ""


def flag_provisional(db: Database, now: dt.datetime, settings: Settings | None = None, limit: int = 500) -> int:
    """Notify the city's administrators, once per deadline, of each open provisional deadline."""
    settings = settings if settings is not None else Settings.safe_from_env()
    memo: dict[Any, Any] = {}
    total = 0
    while True:
        with db.uow() as uow:
            s = uow.session
            stmt = (select(Deadline).where(Deadline.provisional, Deadline.status == _OPEN,
                                           Deadline.flagged_at.is_(None))
                    .order_by(Deadline.id).limit(limit))
            if _pg(s):
                stmt = stmt.with_for_update(skip_locked=True)
            rows = list(s.execute(stmt).scalars())
            run = Run(s, now, settings, memo)
            for dl in rows:
                community_id, what = _owner_org(s, dl)
                city = org_chain(s, community_id).get("city") if community_id is not None else None
                label = KIND_LABELS.get(dl.kind, dl.kind)
                admins = run.people((city, "city_admin"))
                if not admins:
                    log.warning("provisional deadline %s (%s): no city administrator to tell", dl.id, dl.kind)
                run.notify(dl, admins, "deadline_provisional",
                           f"期限为临时计算:{what} {label}",
                           f"{what}的{label}暂定于 {_due_day(dl)} 24:00 届满。该期限跨入尚未载入官方节假日安排的年份"
                           f"(至 {dl.due_at.astimezone(clock.SHANGHAI).year} 年),暂按周一至周五工作日计算。"
                           "国务院办公厅公布安排后,请用 `fundflow calendar import 文件` 导入,系统将自动重新计算。")
                dl.flagged_at = now
            run.flush()
            uow.commit()
        total += len(rows)
        if len(rows) < limit:
            return total


# ------------------------------------------------------------------------------------- a backlog

#: due deadlines from which a PostgreSQL sweep lends part of the work to helper processes
BACKLOG = 2000


def sweep_processes(db: Database) -> int:
    """Processes one sweep may use on a backlog: ``FUNDFLOW_SWEEP_PROCESSES``, default the CPUs this
    process may run on; always 1 on SQLite (one writer at a time)."""
    import os

    if not db.is_postgres:
        return 1
    try:
        return max(1, int(os.environ.get("FUNDFLOW_SWEEP_PROCESSES") or len(os.sched_getaffinity(0))))
    except ValueError:
        return 1


def _helper(url: str, now_iso: str, out: Any) -> None:
    """A helper process of :func:`sweep_backlog`: sweeps as of the same instant, then reports."""
    db = Database(url)
    try:
        result = sweep(db, dt.datetime.fromisoformat(now_iso), flag=False, deliver=False)
        out.put({k: v for k, v in vars(result).items() if isinstance(v, int)})
    except Exception as exc:  # noqa: BLE001 - reported to the parent, which carries on with its own share
        out.put({"error": f"{type(exc).__name__}: {exc}"})
    finally:
        db.dispose()


def sweep_backlog(db: Database, now: dt.datetime | None = None, *, processes: int | None = None,
                  should_stop: Callable[[], bool] | None = None, settings: Settings | None = None) -> SweepResult:
    """The scheduler's sweep. On PostgreSQL, when a large backlog is due (after the service was down,
    say), helper processes sweep alongside this one: ``FOR UPDATE SKIP LOCKED`` gives every deadline to
    exactly one of them, each takes the earliest batches still free, and all fire as of the same instant.
    Otherwise (and always on SQLite) it is :func:`sweep` itself."""
    now = now or clock.now()
    n = processes if processes is not None else sweep_processes(db)
    if n <= 1 or not db.is_postgres:
        return sweep(db, now, should_stop=should_stop, settings=settings)
    with db.uow(write=False) as uow:
        backlog = len(due_ids(uow.session, now, BACKLOG))
    if backlog < BACKLOG:
        return sweep(db, now, should_stop=should_stop, settings=settings)
    import multiprocessing as mp

    ctx = mp.get_context("spawn")
    out = ctx.Queue()
    url = db.engine.url.render_as_string(hide_password=False)
    helpers = [ctx.Process(target=_helper, args=(url, now.isoformat(), out), daemon=True) for _ in range(n - 1)]
    for p in helpers:
        p.start()
    result = sweep(db, now, should_stop=should_stop, settings=settings)
    for _ in helpers:
        try:
            share = out.get(timeout=3600)
        except Exception:  # noqa: BLE001 - a helper that died left its deadlines open for the next sweep
            result.errors += 1
            continue
        if "error" in share:
            result.notes.append(str(share["error"]))
            result.errors += 1
            continue
        for key, value in share.items():
            setattr(result, key, getattr(result, key) + value)
    for p in helpers:
        p.join(60)
    log.info("sweep of a backlog of %d+ deadlines in %d processes: fired %d", backlog, n, result.fired)
    return result
