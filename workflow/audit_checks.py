"""The audit chains against the business tables (``fundflow audit verify``, docs/audit.md).

Only the engine writes a state, an approval, a payment, a sign-off, an invoice signature or a payment item's
cancellation, always in the same transaction as the audit event that records it. So each such row has exactly one event, and each
such event its row; and each project's and fund year's state is the state its last event moved it to.
A row inserted, deleted or edited by hand (an approval nobody gave, a payment with no event, an event
appended to a chain with nothing behind it) shows up here as a break, named.
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from store.models import Approval, AuditEvent, FundYear, Payment, PaymentItem, Project, Signature, SignOff


@dataclass(frozen=True)
class Link:
    """One kind of business row and the project events that write it, compared by a common key."""

    label: str
    """What the row is, in Chinese (named in a break)."""
    rows: Callable[[Session], Iterable[tuple[Any, ...]]]
    """Each row's key; its first element is the project id."""
    events: tuple[str, ...]
    event_key: Callable[[AuditEvent], tuple[Any, ...] | list[tuple[Any, ...]] | None]
    """The key an event of ``events`` should find among the rows (None: this event writes no such row; a list:
    it writes several, e.g. a termination cancelling every open payment item)."""


def _payload(ev: AuditEvent) -> dict[str, Any]:
    return ev.payload if isinstance(ev.payload, dict) else {}


_DECISION = {"approve": "approve", "reject": "reject", "return_for_revision": "return", "terminate": "terminate"}


def _cancel_keys(ev: AuditEvent) -> tuple[Any, ...] | list[tuple[Any, ...]] | None:
    if ev.event == "terminate":  # the second leader's vote cancels the open items, listed in its payload
        return [(ev.entity_id, i) for i in _payload(ev).get("cancelled_payment_items") or ()]
    return (ev.entity_id, _payload(ev).get("payment_item_id"))


def _approval_key(ev: AuditEvent) -> tuple[Any, ...] | None:
    if ev.event == "return_for_revision" and ev.from_state != "pending_approval":
        return None  # a return from preliminary review records no approval
    return (ev.entity_id, ev.actor_id, ev.at, _DECISION[ev.event])


LINKS: tuple[Link, ...] = (
    Link("审批记录", lambda s: s.execute(select(Approval.project_id, Approval.person_id, Approval.at,
                                                Approval.decision)).tuples(),
         ("approve", "reject", "return_for_revision", "terminate"), _approval_key),
    Link("付款记录", lambda s: s.execute(select(PaymentItem.project_id, Payment.id)
                                          .join(PaymentItem, PaymentItem.id == Payment.payment_item_id)).tuples(),
         ("pay",), lambda ev: (ev.entity_id, _payload(ev).get("payment_id"))),
    Link("监督签核", lambda s: s.execute(select(SignOff.project_id, SignOff.person_id, SignOff.at,
                                                SignOff.stage)).tuples(),
         ("signoff",), lambda ev: (ev.entity_id, ev.actor_id, ev.at, _payload(ev).get("stage"))),
    Link("发票签字", lambda s: s.execute(select(PaymentItem.project_id, Signature.payment_item_id, Signature.seq)
                                          .join(PaymentItem, PaymentItem.id == Signature.payment_item_id)).tuples(),
         ("sign_invoice",), lambda ev: (ev.entity_id, _payload(ev).get("payment_item_id"), _payload(ev).get("seq"))),
    Link("付款事项作废", lambda s: s.execute(select(PaymentItem.project_id, PaymentItem.id)
                                              .where(PaymentItem.status == "cancelled")).tuples(),
         ("cancel_payment_item", "terminate"), _cancel_keys),
)


def _normal(key: Iterable[Any]) -> tuple[Hashable, ...]:
    """Keys compared across the two sides: ints as ints, instants to the microsecond in UTC."""
    out: list[Hashable] = []
    for value in key:
        if hasattr(value, "isoformat") and hasattr(value, "tzinfo"):
            out.append(value.isoformat())
        elif isinstance(value, bool) or value is None:
            out.append(value)
        elif isinstance(value, int | str):
            out.append(int(value) if isinstance(value, str) and value.isdigit() else value)
        else:
            out.append(str(value))
    return tuple(out)


def _link_breaks(session: Session, link: Link, limit: int) -> list[str]:
    rows = Counter(_normal(k) for k in link.rows(session))
    events: Counter[tuple[Hashable, ...]] = Counter()
    where: dict[tuple[Hashable, ...], AuditEvent] = {}
    stmt = (select(AuditEvent).where(AuditEvent.entity_type == "project", AuditEvent.event.in_(link.events))
            .order_by(AuditEvent.entity_id, AuditEvent.seq).execution_options(yield_per=2000))
    for ev in session.execute(stmt).scalars():
        key = link.event_key(ev)
        for one in (key if isinstance(key, list) else [] if key is None else [key]):
            k = _normal(one)
            events[k] += 1
            where.setdefault(k, ev)
    out: list[str] = []
    for k in sorted((rows - events).keys(), key=repr):
        out.append(f"project #{k[0]}: {link.label} {k[1:]} 没有对应的审计事件(记录被另行写入)")
    for k in sorted((events - rows).keys(), key=repr):
        ev = where[k]
        out.append(f"project #{ev.entity_id} 第 {ev.seq} 条审计事件({ev.event},id={ev.id})没有对应的{link.label}"
                   "(记录被删除,或事件是伪造的)")
    return out[:limit]


def _state_breaks(session: Session, limit: int) -> list[str]:
    out: list[str] = []
    for kind, model in (("project", Project), ("fund_year", FundYear)):
        ev = AuditEvent
        stmt = (select(model.id, model.state, model.version, ev.to_state, ev.id)
                .outerjoin(ev, and_(ev.entity_type == kind, ev.entity_id == model.id, ev.seq == model.version))
                .where(or_(ev.id.is_(None), ev.to_state != model.state)).order_by(model.id).limit(limit))
        for row_id, state, version, to_state, event_id in session.execute(stmt).all():
            if event_id is None:
                if version:
                    out.append(f"{kind} #{row_id}: 版本 {version} 的审计事件不存在")
                else:
                    out.append(f"{kind} #{row_id}: 状态为 {state},却没有任何审计事件")
            else:
                out.append(f"{kind} #{row_id}: 状态为 {state},而最后一条审计事件(第 {version} 条)把它改为 {to_state}"
                           "(状态被另行改写)")
    return out[:limit]


def business_breaks(session: Session, limit: int = 20) -> list[str]:
    """Every mismatch between the business tables and the audit events (at most ``limit`` of each kind)."""
    out = _state_breaks(session, limit)
    for link in LINKS:
        out += _link_breaks(session, link, limit)
    return out
