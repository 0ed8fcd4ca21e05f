"""The append-only audit trail, one hash chain per entity.

Each project, fund year and other audited thing (calendar, policy, organisation) has its own
chain; the entity row keeps the chain's length (``version``) and head hash (``audit_head``) and is
updated in the same transaction as the event. A per-entity chain lets transitions on different
projects commit in parallel, while any edit, deletion or insertion of an audit row is detected:
the recomputed hash differs, a sequence number is missing, or the head no longer matches.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy import Table, bindparam, select
from sqlalchemy.orm import Session

from store.models import AuditChain, AuditEvent, Finding, FundYear, Inspection, Project

GENESIS = "0" * 64

#: the workflow rows that hold their own chain's head (every other chain's head is an ``AuditChain`` row)
CHAIN_HOLDERS: tuple[tuple[str, Any], ...] = (("project", Project), ("fund_year", FundYear),
                                              ("inspection", Inspection), ("finding", Finding))


class ChainHolder(Protocol):
    version: int
    audit_head: str


def normalise_payload(payload: dict[str, Any] | None) -> dict[str, Any]:
    """What survives a JSON round trip on every database (so the hash can be recomputed)."""
    normal: dict[str, Any] = json.loads(json.dumps(payload or {}, ensure_ascii=False, sort_keys=True, default=str))
    return normal


def _at_text(at: dt.datetime) -> str:
    return at.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def compute_hash(prev_hash: str, *, entity_type: str, entity_id: int, seq: int, actor_id: int | None,
                 actor_label: str, post_id: int | None, role: str, event: str, from_state: str,
                 to_state: str, payload: dict[str, Any], reason: str, at: dt.datetime) -> str:
    body = json.dumps(
        [prev_hash, entity_type, entity_id, seq, actor_id, actor_label, post_id, role, event,
         from_state, to_state, payload, reason, _at_text(at)],
        ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


def event_hash(ev: AuditEvent) -> str:
    return compute_hash(ev.prev_hash, entity_type=ev.entity_type, entity_id=ev.entity_id, seq=ev.seq,
                        actor_id=ev.actor_id, actor_label=ev.actor_label, post_id=ev.post_id, role=ev.role,
                        event=ev.event, from_state=ev.from_state, to_state=ev.to_state,
                        payload=normalise_payload(ev.payload), reason=ev.reason, at=ev.at)


def append(session: Session, holder: ChainHolder, *, entity_type: str, entity_id: int, event: str,
           at: dt.datetime, actor_id: int | None = None, actor_label: str = "", post_id: int | None = None,
           role: str = "", from_state: str = "", to_state: str = "", payload: dict[str, Any] | None = None,
           reason: str = "") -> AuditEvent:
    """Append one event to the entity's chain and advance the holder. The caller holds its lock."""
    payload = normalise_payload(payload)
    seq = holder.version + 1
    prev = holder.audit_head or GENESIS
    digest = compute_hash(prev, entity_type=entity_type, entity_id=entity_id, seq=seq, actor_id=actor_id,
                          actor_label=actor_label, post_id=post_id, role=role, event=event,
                          from_state=from_state, to_state=to_state, payload=payload, reason=reason, at=at)
    ev = AuditEvent(entity_type=entity_type, entity_id=entity_id, seq=seq, actor_id=actor_id,
                    actor_label=actor_label, post_id=post_id, role=role, event=event, from_state=from_state,
                    to_state=to_state, payload=payload, reason=reason, at=at, prev_hash=prev, hash=digest)
    session.add(ev)
    holder.version = seq
    holder.audit_head = digest
    return ev


_AUDIT_TABLE: Table = AuditEvent.__table__  # type: ignore[assignment]


def append_row(session: Session, *, prev_hash: str, seq: int, entity_type: str, entity_id: int, event: str,
               at: dt.datetime, actor_id: int | None, actor_label: str, post_id: int | None, role: str,
               from_state: str, to_state: str, payload: dict[str, Any] | None, reason: str,
               holder_table: Any = None) -> tuple[int, str]:
    """Insert one event with a plain INSERT … RETURNING (the engine's hot path; no ORM flush).

    With ``holder_table`` the holder row (a project or fund year) is advanced in the same statement on
    PostgreSQL (one round trip) or right after it elsewhere: state ``to_state``, version ``seq``, head hash.
    Returns (event id, hash).
    """
    payload = normalise_payload(payload)
    prev = prev_hash or GENESIS
    digest = compute_hash(prev, entity_type=entity_type, entity_id=entity_id, seq=seq,
                          actor_id=actor_id, actor_label=actor_label, post_id=post_id, role=role, event=event,
                          from_state=from_state, to_state=to_state, payload=payload, reason=reason, at=at)
    values = {"entity_type": entity_type, "entity_id": entity_id, "seq": seq, "actor_id": actor_id,
              "actor_label": actor_label, "post_id": post_id, "role": role, "event": event,
              "from_state": from_state, "to_state": to_state, "payload": payload, "reason": reason, "at": at,
              "prev_hash": prev, "hash": digest}
    if holder_table is None:
        return int(session.execute(_INSERT_EVENT, values).scalar_one()), digest
    advance = {"holder_id": entity_id, "new_state": to_state, "new_version": seq, "new_head": digest}
    if session.get_bind().dialect.name == "postgresql":
        stmt = _ADVANCE_PG.get(holder_table.name)
        if stmt is None:
            ins = (_AUDIT_TABLE.insert().values({k: bindparam(f"ev_{k}", type_=_AUDIT_TABLE.c[k].type)
                                                 for k in _EVENT_COLUMNS})
                   .returning(_AUDIT_TABLE.c.id).cte("ev"))
            stmt = (holder_table.update().where(holder_table.c.id == bindparam("holder_id"))
                    .values(state=bindparam("new_state"), version=bindparam("new_version"),
                            audit_head=bindparam("new_head"))
                    .returning(select(ins.c.id).scalar_subquery()))
            _ADVANCE_PG[holder_table.name] = stmt
        params = {f"ev_{k}": v for k, v in values.items()}
        return int(session.execute(stmt, {**params, **advance}).scalar_one()), digest
    event_id = int(session.execute(_INSERT_EVENT, values).scalar_one())
    stmt = _ADVANCE.get(holder_table.name)
    if stmt is None:
        stmt = (holder_table.update().where(holder_table.c.id == bindparam("holder_id"))
                .values(state=bindparam("new_state"), version=bindparam("new_version"), audit_head=bindparam("new_head")))
        _ADVANCE[holder_table.name] = stmt
    session.execute(stmt, advance)
    return event_id, digest


_INSERT_EVENT = _AUDIT_TABLE.insert().returning(_AUDIT_TABLE.c.id)
_EVENT_COLUMNS = ("entity_type", "entity_id", "seq", "actor_id", "actor_label", "post_id", "role", "event",
                  "from_state", "to_state", "payload", "reason", "at", "prev_hash", "hash")
_ADVANCE_PG: dict[str, Any] = {}
_ADVANCE: dict[str, Any] = {}


def chain(session: Session, entity_type: str, entity_id: int) -> AuditChain:
    """The locked chain head of an entity that is neither a project nor a fund year."""
    stmt = select(AuditChain).where(AuditChain.entity_type == entity_type, AuditChain.entity_id == entity_id)
    if session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update()
    head = session.execute(stmt).scalar_one_or_none()
    if head is None:
        head = AuditChain(entity_type=entity_type, entity_id=entity_id, version=0, audit_head="")
        session.add(head)
        session.flush()
    return head


def record(session: Session, entity_type: str, entity_id: int, **kwargs: Any) -> AuditEvent:
    """Append to a non-workflow entity's chain (calendar imports, policy versions, administration)."""
    return append(session, chain(session, entity_type, entity_id), entity_type=entity_type,
                  entity_id=entity_id, **kwargs)


@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    checked: int
    chains: int
    broken: str = ""
    """Where the first broken link is, in words (entity, sequence number, what is wrong)."""


def _heads(session: Session) -> Iterator[tuple[str, int, int, str]]:
    for kind, model in CHAIN_HOLDERS:
        for row_id, version, head in session.execute(select(model.id, model.version, model.audit_head)):
            yield kind, row_id, version, head
    for c in session.execute(select(AuditChain)).scalars():
        yield c.entity_type, c.entity_id, c.version, c.audit_head


def verify(session: Session) -> VerifyResult:
    """Walk every chain in order; report the first link whose hash, order or head does not hold."""
    expected = {(t, i): (v, h) for t, i, v, h in _heads(session)}
    checked = 0
    current: tuple[str, int] | None = None
    prev_hash, prev_seq = GENESIS, 0
    seen: set[tuple[str, int]] = set()

    def close(key: tuple[str, int] | None) -> str:
        if key is None:
            return ""
        want = expected.get(key)
        if want is None:
            return f"{key[0]} #{key[1]}: 审计链没有对应的记录"
        if want != (prev_seq, prev_hash):
            return f"{key[0]} #{key[1]}: 审计链末端(第 {prev_seq} 条)与记录的版本 {want[0]} 不符,可能有事件被删除"
        return ""

    stmt = (select(AuditEvent).order_by(AuditEvent.entity_type, AuditEvent.entity_id, AuditEvent.seq)
            .execution_options(yield_per=2000))
    for ev in session.execute(stmt).scalars():
        key = (ev.entity_type, ev.entity_id)
        if key != current:
            problem = close(current)
            if problem:
                return VerifyResult(False, checked, len(seen), problem)
            current, prev_hash, prev_seq = key, GENESIS, 0
            seen.add(key)
        where = f"{ev.entity_type} #{ev.entity_id} 第 {ev.seq} 条审计事件(id={ev.id})"
        if ev.seq != prev_seq + 1:
            return VerifyResult(False, checked, len(seen), f"{where}: 序号不连续,前一条是第 {prev_seq} 条")
        if ev.prev_hash != prev_hash:
            return VerifyResult(False, checked, len(seen), f"{where}: 前一哈希不符")
        if event_hash(ev) != ev.hash:
            return VerifyResult(False, checked, len(seen), f"{where}: 内容与哈希不符,已被篡改")
        prev_hash, prev_seq = ev.hash, ev.seq
        checked += 1
    problem = close(current)
    if problem:
        return VerifyResult(False, checked, len(seen), problem)
    for key, (version, _head) in expected.items():
        if key not in seen and version != 0:
            return VerifyResult(False, checked, len(seen), f"{key[0]} #{key[1]}: 版本为 {version} 但没有审计事件")
    return VerifyResult(True, checked, len(seen))
