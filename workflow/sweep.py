"""The sweep: turns due deadline rows into timer events through the engine, exactly once.

Deadlines are rows, never in-memory timers. A sweep selects the due ones (PostgreSQL:
``FOR UPDATE SKIP LOCKED``, so two sweeps never take the same row) and handles each in its own
transaction: re-check it is still open, fire its timer event as the system (or, for an approval
that is overdue, escalate — silence is never consent), and mark it fired in the same commit.
A crash anywhere leaves the deadline open and the entity untouched, and the next sweep takes it.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from store.db import Database
from store.models import Deadline, Notification, Project
from workflow import clock
from workflow.engine import SYSTEM, fire, org_chain, people_with_role


@dataclass
class SweepResult:
    fired: int = 0
    escalated: int = 0
    refused: int = 0
    notes: list[str] = field(default_factory=list)


def due_ids(session: Session, now: dt.datetime, limit: int) -> list[int]:
    """Ids of open deadlines due at ``now``, earliest first (one indexed range scan)."""
    stmt = (select(Deadline.id).where(Deadline.status == "open", Deadline.due_at <= now)
            .order_by(Deadline.due_at, Deadline.id).limit(limit))
    return [r[0] for r in session.execute(stmt)]


def _take(session: Session, deadline_id: int) -> Deadline | None:
    stmt = select(Deadline).where(Deadline.id == deadline_id, Deadline.status == "open")
    if session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update(skip_locked=True)
    return session.execute(stmt.execution_options(populate_existing=True)).scalar_one_or_none()


def _escalate(session: Session, dl: Deadline, now: dt.datetime) -> int:
    """An overdue approval: notify both main leaders and the community's supervisors (Art. 11, 14)."""
    project = session.get(Project, dl.entity_id)
    if project is None or project.state != "pending_approval":
        return 0
    orgs = org_chain(session, project.community_id)
    day = clock.local_date(now)
    recipients: dict[int, None] = {}
    for role, org in (("working_secretary", "area"), ("construction_director", "area"), ("supervisor", "community")):
        for pid in people_with_role(session, orgs[org], role, day):
            recipients.setdefault(pid, None)
    local_due = dl.due_at.astimezone(clock.SHANGHAI)
    for pid in recipients:
        session.add(Notification(
            deadline_id=dl.id, recipient_id=pid, kind="approval_overdue",
            title=f"审批逾期:{project.code} {project.title}",
            body=(f"项目「{project.title}」的申请审批表已于 {project.received_at.astimezone(clock.SHANGHAI):%Y-%m-%d} 报送,"
                  f"按《细则》第十一条应在 5 个工作日内(截至 {local_due:%Y-%m-%d %H:%M})研究审批,现已逾期。"
                  "逾期不视为同意,请尽快召开班子会议研究。") if project.received_at else "审批已逾期",
            created_at=now))
    return len(recipients)


def sweep_one(db: Database, deadline_id: int, now: dt.datetime) -> str:
    """Handle one deadline in its own transaction; returns 'fired', 'escalated', 'refused' or 'skipped'."""
    with db.uow() as uow:
        s = uow.session
        dl = _take(s, deadline_id)
        if dl is None or dl.due_at > now:
            return "skipped"
        if dl.event:
            outcome = fire(s, dl.entity_type, dl.entity_id, dl.event, SYSTEM, {}, now=now)
            if not outcome.ok:
                # e.g. the completion notice ran but the write-off is not signed: the deadline stays
                # open and is tried again; nothing else is written
                uow.rollback()
                return "refused"
            result = "fired"
        else:
            _escalate(s, dl, now)
            result = "escalated"
        dl.status = "fired"
        dl.fired_at = now
        uow.commit()
        return result


def sweep(db: Database, now: dt.datetime | None = None, batch: int = 1000) -> SweepResult:
    """One sweep as of ``now``: every deadline due by then, earliest first."""
    now = now or clock.now()
    result = SweepResult()
    seen: set[int] = set()
    while True:
        with db.uow(write=False) as uow:
            ids = [i for i in due_ids(uow.session, now, batch + len(seen)) if i not in seen]
        if not ids:
            break
        for deadline_id in ids:
            seen.add(deadline_id)
            outcome = sweep_one(db, deadline_id, now)
            if outcome == "fired":
                result.fired += 1
            elif outcome == "escalated":
                result.escalated += 1
            elif outcome == "refused":
                result.refused += 1
        if len(ids) < batch:
            break
    return result
