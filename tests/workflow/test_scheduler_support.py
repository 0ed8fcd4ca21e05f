"""Load fixtures for the scheduler tests and ``bench/sweep.py`` (this module holds no tests).

``bulk_publicity_projects`` makes N projects standing in ``publicity`` with a due notice-period
deadline, in a few bulk statements instead of N × 8 engine events. What is written is exactly what
the sweep and the engine read for ``publicity_elapsed`` — the project row, its open ``publicity``
deadline — and each project has a proper audit chain start: one ``bulk_load`` event (seq 1, hashed
with ``workflow.audit.compute_hash``, the row's ``version``/``audit_head`` pointing at it), so
``audit verify`` holds and every later event extends a valid chain. The event says plainly that
the project was loaded as a fixture; no meeting or notice is faked.
"""
from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import bindparam, insert, select, update

from store.db import Database
from store.models import AuditEvent, Deadline, FundYear, Project
from workflow import audit, clock


def bulk_publicity_projects(db: Database, community_id: int, proposer_id: int, n: int, due_at: dt.datetime,
                            *, year: int = 2026, prefix: str = "LOAD", chunk: int = 5000,
                            at: dt.datetime | None = None) -> list[int]:
    """N projects in ``publicity`` whose notice period ends at ``due_at``; returns their ids."""
    at = at or (due_at - dt.timedelta(days=5))
    start = clock.local_date(at)
    ids: list[int] = []
    with db.uow() as uow:
        s = uow.session
        fy = s.execute(select(FundYear).where(FundYear.community_id == community_id, FundYear.year == year)).scalar_one()
        for lo in range(0, n, chunk):
            rows: list[dict[str, Any]] = [{
                "code": f"{prefix}-{i:07d}", "community_id": community_id, "fund_year_id": fy.id,
                "policy_version_id": fy.policy_version_id, "state": "publicity", "version": 1, "audit_head": "",
                "proposer_id": proposer_id, "title": f"压测项目 {i}", "description": "load-test fixture",
                "category": "property", "category_justification": "", "amount_fen": 100_000,
                "beneficiaries_count": 100, "beneficiaries_desc": "", "small_group_marked": False,
                "is_small_group": False, "contractor_name": "xx公司", "contractor_kind": "organisation",
                "is_aid": False, "forbidden_use_declaration": {}, "keyword_flags_answer": "", "committed_fen": 0,
                "paid_fen": 0, "released_fen": 0, "approval_round": 0, "created_at": at,
            } for i in range(lo, min(lo + chunk, n))]
            new_ids = [int(r[0]) for r in s.execute(insert(Project).returning(Project.id), rows)]
            ids.extend(new_ids)
            events, heads = [], []
            for pid in new_ids:
                payload = audit.normalise_payload({"fixture": "bulk_publicity_projects", "due_at": due_at.isoformat()})
                digest = audit.compute_hash(audit.GENESIS, entity_type="project", entity_id=pid, seq=1, actor_id=None,
                                            actor_label="system", post_id=None, role="system", event="bulk_load",
                                            from_state="", to_state="publicity", payload=payload,
                                            reason="load-test fixture", at=at)
                events.append({"entity_type": "project", "entity_id": pid, "seq": 1, "actor_id": None,
                               "actor_label": "system", "post_id": None, "role": "system", "event": "bulk_load",
                               "from_state": "", "to_state": "publicity", "payload": payload,
                               "reason": "load-test fixture", "at": at, "prev_hash": audit.GENESIS, "hash": digest})
                heads.append({"pid": pid, "head": digest})
            s.execute(insert(AuditEvent), events)
            s.connection().execute(update(Project.__table__).where(Project.__table__.c.id == bindparam("pid"))
                                   .values(audit_head=bindparam("head")), heads)
            s.execute(insert(Deadline), [{
                "entity_type": "project", "entity_id": pid, "kind": "publicity", "event": "publicity_elapsed",
                "start_date": start, "workdays": 3, "due_at": due_at, "provisional": False, "status": "open",
                "created_at": at} for pid in new_ids])
        uow.commit()
    return ids


# ------------------------------------------------------------------------------------------ lookups


def sh(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> dt.datetime:
    """An Asia/Shanghai instant."""
    return dt.datetime(year, month, day, hour, minute, second, tzinfo=clock.SHANGHAI)


def end_of(year: int, month: int, day: int) -> dt.datetime:
    """24:00 Asia/Shanghai of the day — when a period ending that day is over."""
    return sh(year, month, day) + dt.timedelta(days=1)


def deadlines(db: Database, entity_type: str, entity_id: int, kind: str) -> list[Deadline]:
    with db.uow(write=False) as uow:
        return list(uow.session.execute(select(Deadline).where(
            Deadline.entity_type == entity_type, Deadline.entity_id == entity_id, Deadline.kind == kind)
            .order_by(Deadline.id)).scalars())


def deadline(db: Database, entity_type: str, entity_id: int, kind: str) -> Deadline:
    rows = deadlines(db, entity_type, entity_id, kind)
    assert rows, f"no {kind} deadline for {entity_type} #{entity_id}"
    return rows[-1]


def audit_events(db: Database, entity_type: str, entity_id: int, event: str) -> list[AuditEvent]:
    with db.uow(write=False) as uow:
        return list(uow.session.execute(select(AuditEvent).where(
            AuditEvent.entity_type == entity_type, AuditEvent.entity_id == entity_id, AuditEvent.event == event)
            .order_by(AuditEvent.id)).scalars())


def notifications(db: Database, kind: str, deadline_id: int | None = None) -> list[Any]:
    from store.models import Notification

    with db.uow(write=False) as uow:
        stmt = select(Notification).where(Notification.kind == kind)
        if deadline_id is not None:
            stmt = stmt.where(Notification.deadline_id == deadline_id)
        return list(uow.session.execute(stmt.order_by(Notification.id)).scalars())


def fund_year_id(db: Database, community_id: int, year: int) -> int:
    with db.uow(write=False) as uow:
        return int(uow.session.execute(select(FundYear.id).where(
            FundYear.community_id == community_id, FundYear.year == year)).scalar_one())


def fund_year_state(db: Database, fy_id: int) -> str:
    with db.uow(write=False) as uow:
        return str(uow.session.execute(select(FundYear.state).where(FundYear.id == fy_id)).scalar_one())
