"""Deadline rows made outside the engine's state timers, and what the sweep hands its handlers: below the
engine, so that an effect (the evaluation nudging a waiting year close) and the sweep (a follow-up reminder
making the next one) reach them without importing ``workflow.sweep`` or ``workflow.jobs``. ``workflow.jobs``
makes the lazy deadlines with these; ``workflow.sweep`` fires them."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from store.calendar import load_calendar
from store.models import AuditEvent, Deadline, FollowUp, FundYear, Project
from workflow import clock
from workflow.calendar import compute_due
from workflow.context import policy_of
from workflow.notify import insert_ignoring_duplicates

ACTIVE = ("in_progress", "change_review")
"""Project states in which follow-up inspections are due (Art. 12)."""


@dataclass
class DueDeadline:
    """A deadline the sweep has locked, as plain data (not an ORM object: the engine's own deadline
    updates then have no loaded rows to synchronise); its own update is written at the batch's end."""

    id: int
    entity_type: str
    entity_id: int
    kind: str
    event: str
    ref: str
    start_date: dt.date
    workdays: int
    due_at: dt.datetime
    provisional: bool
    attempts: int
    changes: dict[str, Any] = field(default_factory=dict)


def deadline_row(entity_type: str, entity_id: int, kind: str, ref: str, start: dt.date, workdays: int, due: dt.datetime,
                 provisional: bool, now: dt.datetime) -> dict[str, Any]:
    """A new open deadline as the row :func:`insert_deadlines` takes."""
    return {"entity_type": entity_type, "entity_id": entity_id, "kind": kind, "event": "", "ref": ref,
            "start_date": start, "workdays": workdays, "due_at": due, "provisional": provisional, "status": "open",
            "attempts": 0, "last_error": "", "outcome": "", "created_at": now}


def insert_deadlines(session: Session, rows: list[dict[str, Any]], chunk: int = 1000) -> int:
    """Insert-if-absent (on ``ux_deadlines_ref``); returns how many were new."""
    made = 0
    for i in range(0, len(rows), chunk):
        made += len(insert_ignoring_duplicates(session, Deadline, rows[i:i + chunk], ("id",)))
    return made


def nudge_year_close(session: Session, fy: FundYear) -> None:
    """The disclosure has run, or the year's evaluation is recorded: a year close that was backing off is
    retried at the next sweep."""
    session.execute(update(Deadline).where(
        Deadline.entity_type == "community", Deadline.entity_id == fy.community_id, Deadline.kind == "year_close",
        Deadline.ref == str(fy.year), Deadline.status == "open").values(next_attempt_at=None)
        .execution_options(synchronize_session=False))


# ------------------------------------------------------------------------------------- follow-ups


def _open_followup(session: Session, project_id: int, exclude: int | None = None) -> bool:
    stmt = select(Deadline.id).where(Deadline.entity_type == "project", Deadline.entity_id == project_id,
                                     Deadline.kind == "followup_due", Deadline.status == "open")
    if exclude is not None:
        stmt = stmt.where(Deadline.id != exclude)
    return session.execute(stmt.limit(1)).first() is not None


def followup_start(session: Session, project_id: int,
                   fired: Deadline | DueDeadline | None = None) -> tuple[dt.date, str] | None:
    """Where the next follow-up period counts from, and the key that names it.

    The latest of: entering ``in_progress`` (approval, or a failed acceptance), the latest
    follow-up inspection, the previous reminder (its last day). On a tie the inspection wins.
    """
    candidates: list[tuple[dt.date, int, str]] = []
    entered = session.execute(select(AuditEvent.id, AuditEvent.at).where(
        AuditEvent.entity_type == "project", AuditEvent.entity_id == project_id,
        AuditEvent.to_state == "in_progress", AuditEvent.from_state.not_in(ACTIVE))
        .order_by(AuditEvent.seq.desc()).limit(1)).first()
    if entered is not None:
        candidates.append((clock.local_date(entered[1]), 1, f"entered:{entered[0]}"))
    visit = session.execute(select(FollowUp.id, FollowUp.visited_on).where(FollowUp.project_id == project_id)
                            .order_by(FollowUp.visited_on.desc(), FollowUp.id.desc()).limit(1)).first()
    if visit is not None:
        candidates.append((visit[1], 2, f"followup:{visit[0]}"))
    last = fired
    if last is None:
        last = session.execute(select(Deadline).where(
            Deadline.entity_type == "project", Deadline.entity_id == project_id, Deadline.kind == "followup_due",
            Deadline.status == "fired").order_by(Deadline.due_at.desc(), Deadline.id.desc()).limit(1)
        ).scalar_one_or_none()
    if last is not None:
        last_day = (last.due_at.astimezone(clock.SHANGHAI) - dt.timedelta(microseconds=1)).date()
        candidates.append((last_day, 0, f"deadline:{last.id}"))
    if not candidates:
        return None
    day, _prio, ref = max(candidates)
    return day, ref


def next_followup(session: Session, project: Project, now: dt.datetime,
                  fired: Deadline | DueDeadline | None = None) -> int:
    """Make the project's next ``followup_due`` deadline if it has none open; returns 1 if made.

    The caller holds the project's lock (the engine's ``record_followup`` clears the open one
    under the same lock, so the two never cross).
    """
    if project.state not in ACTIVE or _open_followup(session, project.id, exclude=fired.id if fired else None):
        return 0
    start = followup_start(session, project.id, fired)
    if start is None:
        return 0
    day, ref = start
    workdays = policy_of(session, project.policy_version_id).followup_interval_workdays
    due, provisional = compute_due(load_calendar(session), day, workdays)
    row = deadline_row("project", project.id, "followup_due", ref, day, workdays, due, provisional, now)
    return insert_deadlines(session, [row])
