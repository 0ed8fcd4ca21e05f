"""Red flags of an area's year (第十八条、第十九条): load the facts in a few set-based queries, run the pure rules
of ``rules.redflags``, point each flag at the audit events and archived documents that show it, and mark the
flags the working committee dismissed.

A dismissal is an audit event (``dismiss_flag``) on the area's own ``flag`` chain, with the flag's stable key
and the reason; nothing else is stored, so a dismissal holds as long as the same records make the same flag.
"""
from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from sqlalchemy import DateTime, String, and_, select, type_coerce
from sqlalchemy.orm import Session

from rules import redflags as r
from rules.payment import VOUCHER_EVIDENCE_LABELS
from rules.redflags import AreaFacts, Dismissal, Evidence, FoundFlag
from store.models import (
    Acceptance,
    Approval,
    AuditEvent,
    Deadline,
    DocumentLink,
    FollowUp,
    FundYear,
    LineItem,
    Meeting,
    Objection,
    Organisation,
    Payment,
    PaymentItem,
    Person,
    Post,
    Project,
    Signature,
    VoucherEvidence,
)
from workflow import audit, clock
from workflow.context import Actor, policy_of, resolve_post
from workflow.errors import ServiceError

CHAIN = "flag"
"""The audit chain of an area's flag dismissals (entity id: the area)."""


_SHANGHAI_OFFSET = dt.timedelta(hours=8)  # Asia/Shanghai has kept UTC+8 without daylight saving since 1991


def _local(at: dt.datetime) -> dt.date:
    """The Asia/Shanghai day of an instant (``clock.local_date``, by arithmetic)."""
    return (at.astimezone(dt.UTC) + _SHANGHAI_OFFSET).date()


class _Raw:
    """Instants and days read without the per-row type processing of SQLAlchemy (the flags read some 10^5 of
    them for a big area): SQLite's text parsed by the standard library's C parser, PostgreSQL's values as the
    driver gives them."""

    def __init__(self, session: Session) -> None:
        self.sqlite = session.get_bind().dialect.name == "sqlite"

    def instant(self, column: Any) -> Any:
        return type_coerce(column, String() if self.sqlite else DateTime(timezone=True))

    def day(self, column: Any) -> Any:
        return type_coerce(column, String()) if self.sqlite else column

    def to_instant(self, value: Any) -> dt.datetime | None:
        if value is None:
            return None
        if self.sqlite:  # stored as naive UTC text
            return dt.datetime.fromisoformat(value).replace(tzinfo=dt.UTC)
        instant: dt.datetime = value.astimezone(dt.UTC)
        return instant

    def at(self, value: Any) -> dt.datetime:
        """A required instant."""
        instant = self.to_instant(value)
        assert instant is not None
        return instant

    def to_day(self, value: Any) -> dt.date:
        day: dt.date = dt.date.fromisoformat(value) if self.sqlite else value
        return day

    def local_day(self, value: Any) -> dt.date:
        if self.sqlite:
            return (dt.datetime.fromisoformat(value) + _SHANGHAI_OFFSET).date()
        return _local(value)


# ------------------------------------------------------------------------------------------ loading


def load_facts(session: Session, area_id: int, year: int, community_id: int | None = None) -> tuple[AreaFacts, Any]:
    """The area's year as plain facts (and the policy of the area's fund years)."""
    facts = AreaFacts(year=year, area_id=area_id)
    stmt = select(Organisation.id, Organisation.name).where(Organisation.parent_id == area_id,
                                                            Organisation.level == "community")
    if community_id is not None:
        stmt = stmt.where(Organisation.id == community_id)
    facts.communities = dict(session.execute(stmt).tuples().all())
    if not facts.communities:
        return facts, None
    ids = list(facts.communities)
    fys = session.execute(select(FundYear.id, FundYear.community_id, FundYear.allocation_fen, FundYear.carry_in_fen,
                                 FundYear.policy_version_id)
                          .where(FundYear.community_id.in_(ids), FundYear.year == year)).all()
    facts.years = [r.YearFact(c, a + ci) for _i, c, a, ci, _p in fys]
    policy_version = max((p for *_x, p in fys), default=None)
    # every query below joins the year's projects the same way
    in_year = and_(Project.fund_year_id == FundYear.id, FundYear.year == year, FundYear.community_id.in_(ids))

    def projects_join(stmt: Any, on: Any) -> Any:
        return stmt.join(Project, on).join(FundYear, in_year)

    raw = _Raw(session)
    facts.projects = [r.ProjectFact(pid, code, c, title, category, contractor, kind, amount, state, raw.at(made), proposer)
                      for pid, code, c, title, category, contractor, kind, amount, state, made, proposer
                      in session.connection().execute(
        select(Project.id, Project.code, Project.community_id, Project.title, Project.category, Project.contractor_name,
               Project.contractor_kind, Project.amount_fen, Project.state, raw.instant(Project.created_at),
               Project.proposer_id)
        .join(FundYear, in_year))]
    # payments: the paid items, who entered them (the add_payment_item event) and who signed their invoices
    signers: dict[int, list[int]] = defaultdict(list)
    for item_id, person in session.connection().execute(projects_join(
            select(Signature.payment_item_id, Signature.person_id)
            .join(PaymentItem, PaymentItem.id == Signature.payment_item_id)
            .where(Signature.lapsed_at.is_(None), PaymentItem.status == "paid"), Project.id == PaymentItem.project_id)
            .order_by(Signature.payment_item_id, Signature.seq)):
        signers[item_id].append(person)
    entered: dict[int, int] = {}
    if signers:
        item_id = AuditEvent.payload["payment_item_id"].as_integer()  # the id the effect produced
        for actor, item in session.connection().execute(projects_join(
                select(AuditEvent.actor_id, item_id)
                .where(AuditEvent.entity_type == "project", AuditEvent.event == "add_payment_item"),
                Project.id == AuditEvent.entity_id)):
            if item is not None and actor is not None:
                entered[int(item)] = actor
    facts.payments = [
        r.PaymentFact(item_id=i, project_id=p, community_id=c, kind=k, payee=payee, amount_fen=amount,
                      paid_on=raw.local_day(at), entered_by=entered.get(i), signer_ids=tuple(signers.get(i, ())))
        for i, p, c, k, payee, amount, at in session.connection().execute(projects_join(
            select(PaymentItem.id, PaymentItem.project_id, Project.community_id, PaymentItem.kind, PaymentItem.payee,
                   Payment.amount_fen, raw.instant(Payment.at))
            .join(Payment, Payment.payment_item_id == PaymentItem.id), Project.id == PaymentItem.project_id))]
    facts.line_items = [r.LineItemFact(*row) for row in session.connection().execute(projects_join(
        select(LineItem.id, LineItem.project_id, Project.community_id, LineItem.catalog_item, LineItem.description,
               LineItem.unit_price_fen, LineItem.quantity), Project.id == LineItem.project_id))]
    facts.objections = [
        r.ObjectionFact(oid, pid, c, raw.at(made), raw.to_instant(answered), raw.to_instant(resolved), how)
        for oid, pid, c, made, answered, resolved, how in session.connection().execute(projects_join(
            select(Objection.id, Objection.project_id, Project.community_id, raw.instant(Objection.created_at),
                   raw.instant(Objection.answered_at), raw.instant(Objection.resolved_at), Objection.resolution)
            .where(Objection.resolved_at.is_not(None)), Project.id == Objection.project_id))]
    _load_approvals(session, facts, projects_join, raw)
    _load_records(session, facts, projects_join, raw)
    _load_posts(session, facts, area_id, ids, year)
    return facts, policy_version


def _load_approvals(session: Session, facts: AreaFacts, projects_join: Any, raw: _Raw) -> None:
    periods: dict[int, list[tuple[dt.date, dt.date]]] = defaultdict(list)
    for pid, start, due in session.connection().execute(projects_join(
            select(Deadline.entity_id, raw.day(Deadline.start_date), raw.instant(Deadline.due_at))
            .where(Deadline.entity_type == "project", Deadline.kind == "approval_due"), Project.id == Deadline.entity_id)):
        # due at 24:00 of the last working day: the day before, in Asia/Shanghai
        periods[pid].append((raw.to_day(start), _local(raw.at(due) - dt.timedelta(seconds=1))))
    for spans in periods.values():
        spans.sort()
    for aid, pid, community, person, name, at in session.connection().execute(projects_join(
            select(Approval.id, Approval.project_id, Project.community_id, Approval.person_id, Person.display_name,
                   raw.instant(Approval.at))
            .join(Person, Person.id == Approval.person_id).where(Approval.decision == "approve"),
            Project.id == Approval.project_id)):
        on = raw.local_day(at)
        last = [end for start, end in periods.get(pid, []) if start <= on]
        facts.approvals.append(r.ApprovalFact(aid, pid, community, person, name, on, last[-1] if last else None))


def _load_records(session: Session, facts: AreaFacts, projects_join: Any, raw: _Raw) -> None:
    kinds = {"joint": "joint_meeting", "board": "board_meeting"}
    for mid, pid, community, kind, held_on, created in session.connection().execute(projects_join(
            select(Meeting.id, Meeting.project_id, Project.community_id, Meeting.kind, raw.day(Meeting.held_on),
                   raw.instant(Meeting.created_at)).where(Meeting.kind.in_(list(kinds))),
            Project.id == Meeting.project_id)):
        facts.stated_dates.append(r.StatedDateFact(kinds[kind], mid, pid, community, raw.to_day(held_on),
                                                   raw.local_day(created)))
    visits: dict[int, list[tuple[int, dt.date]]] = defaultdict(list)
    for fid, pid, community, visited, created in session.connection().execute(projects_join(
            select(FollowUp.id, FollowUp.project_id, Project.community_id, raw.day(FollowUp.visited_on),
                   raw.instant(FollowUp.created_at)), Project.id == FollowUp.project_id)):
        day = raw.to_day(visited)
        facts.stated_dates.append(r.StatedDateFact("followup", fid, pid, community, day, raw.local_day(created)))
        visits[pid].append((fid, day))
    approved: dict[int, dt.date] = {}
    for a in facts.approvals:
        approved[a.project_id] = max(a.on, approved.get(a.project_id, a.on))
    for acc_id, pid, community, satisfaction, created in session.connection().execute(projects_join(
            select(Acceptance.id, Acceptance.project_id, Project.community_id, Acceptance.satisfaction,
                   raw.instant(Acceptance.created_at)).where(Acceptance.passed.is_(True)),
            Project.id == Acceptance.project_id)):
        facts.acceptances.append(r.AcceptanceFact(acc_id, pid, community, satisfaction, raw.local_day(created),
                                                  approved.get(pid), tuple(sorted(visits.get(pid, []),
                                                                                  key=lambda v: v[1]))))


def _load_posts(session: Session, facts: AreaFacts, area_id: int, communities: list[int], year: int) -> None:
    facts.posts = [r.PostFact(*row) for row in session.connection().execute(
        select(Post.id, Post.person_id, Person.display_name, Post.organisation_id, Post.role, Post.valid_from,
               Post.valid_to).join(Person, Person.id == Post.person_id)
        .where(Post.organisation_id.in_([area_id, *communities])))]
    roles: dict[int, set[str]] = defaultdict(set)
    for post in facts.posts:
        roles[post.person_id].add(post.role)
    doubled = [p for p, held in roles.items() if any(a in held and b in held for a, b in r.SEPARATE_POSTS)]
    if not doubled:
        return
    start = dt.datetime(year, 1, 1, tzinfo=clock.SHANGHAI)
    end = dt.datetime(year + 1, 1, 1, tzinfo=clock.SHANGHAI)
    community_of = {p.id: p.community_id for p in facts.projects}
    for eid, person, post, at, etype, entity in session.connection().execute(
            select(AuditEvent.id, AuditEvent.actor_id, AuditEvent.post_id, AuditEvent.at, AuditEvent.entity_type,
                   AuditEvent.entity_id)
            .where(AuditEvent.actor_id.in_(doubled), AuditEvent.at >= start, AuditEvent.at < end)
            .order_by(AuditEvent.id)):
        if etype == "project" and entity not in community_of:
            continue
        facts.acts.append(r.ActFact(eid, person, post, _local(at), community_of.get(entity, 0)))


# ------------------------------------------------------------------------------------------ evidence

_EVENT_LABELS = {"create": "提议", "record_meeting": "联席会议记录", "record_board_meeting": "班子会议记录",
                 "record_followup": "跟进检查记录", "accept": "综合验收", "object": "居民异议",
                 "answer_objection": "答复异议", "confirm_answer": "确认答复", "add_payment_item": "添加付款事项",
                 "sign_invoice": "发票签字", "pay": "支付", "approve": "审批同意"}
_DOCUMENT_LABELS = {"minutes": "联席会议纪要", "board_minutes": "班子会议纪要", "application_form": "申请审批表",
                    "acceptance": "综合验收记录", "payment_voucher": "付款凭证", "approval_record": "审批记录"}
#: which produced id of an audit event names which kind of record
_PRODUCED = {"meeting_id": "meeting", "followup_id": "followup", "acceptance_id": "acceptance",
             "objection_id": "objection", "payment_item_id": "payment_item"}

def _record_index(facts: AreaFacts) -> dict[tuple[str, str], int]:
    """(evidence kind, ref) → the project the record belongs to."""
    index: dict[tuple[str, str], int] = {("project", str(p.id)): p.id for p in facts.projects}
    index.update({("payment_item", str(p.item_id)): p.project_id for p in facts.payments})
    index.update({("line_item", str(i.id)): i.project_id for i in facts.line_items})
    index.update({("objection", str(o.id)): o.project_id for o in facts.objections})
    index.update({("approval", str(a.id)): a.project_id for a in facts.approvals})
    index.update({("acceptance", str(a.id)): a.project_id for a in facts.acceptances})
    index.update({("meeting" if s.kind != "followup" else "followup", str(s.id)): s.project_id
                  for s in facts.stated_dates})
    return index


def attach_sources(session: Session, facts: AreaFacts, flags: list[FoundFlag]) -> None:
    """Point each flag's evidence at the audit events that recorded it and the archived documents that show it,
    with queries over the flagged projects only."""
    index = _record_index(facts)
    projects = {p for f in flags for ev in f.evidence if (p := index.get((ev.kind, ev.ref))) is not None}
    if not projects:
        return
    events: dict[tuple[str, str], list[tuple[int, str]]] = defaultdict(list)
    moments: dict[int, tuple[int, dt.datetime]] = {}
    """audit event id → (project, instant): the documents an event's effect archived share its instant."""
    approvals = {(a.project_id, a.person_id, a.on): str(a.id) for a in facts.approvals}
    for eid, pid, event, at, actor, payload in session.connection().execute(
            select(AuditEvent.id, AuditEvent.entity_id, AuditEvent.event, AuditEvent.at, AuditEvent.actor_id,
                   AuditEvent.payload)
            .where(AuditEvent.entity_type == "project", AuditEvent.entity_id.in_(sorted(projects)),
                   AuditEvent.event.in_(list(_EVENT_LABELS))).order_by(AuditEvent.id)):
        label = f"审计事件:{_EVENT_LABELS[event]}"
        moments[eid] = (pid, at)
        payload = payload or {}
        raw_inner = payload.get("payload")
        inner: dict[str, Any] = raw_inner if isinstance(raw_inner, dict) else {}
        if event == "create":
            events[("project", str(pid))].append((eid, label))
        if event == "approve" and (approval := approvals.get((pid, actor, _local(at)))):
            events[("approval", approval)].append((eid, label))
        for name, kind in _PRODUCED.items():
            value = payload.get(name, inner.get(name))
            if isinstance(value, int):
                events[(kind, str(value))].append((eid, label))
    archived: dict[tuple[int, dt.datetime], list[tuple[str, str]]] = defaultdict(list)
    documents: dict[tuple[str, str], list[tuple[str, str]]] = defaultdict(list)
    for sha, role, pid, at in session.connection().execute(
            select(DocumentLink.document_sha256, DocumentLink.role, DocumentLink.entity_id, DocumentLink.created_at)
            .where(DocumentLink.entity_type == "project", DocumentLink.entity_id.in_(sorted(projects)))
            .order_by(DocumentLink.id)):
        label = f"存档文件:{_DOCUMENT_LABELS.get(role, role)}"
        archived[(pid, at)].append((sha, label))
        if role == "application_form":
            documents[("project", str(pid))].append((sha, label))
    for key, found in events.items():
        for eid, _label in found:
            documents[key].extend(archived.get(moments[eid], []))
    items = [int(ev.ref) for f in flags for ev in f.evidence if ev.kind == "payment_item"]
    if items:
        for item, kind, sha in session.execute(select(VoucherEvidence.payment_item_id, VoucherEvidence.kind,
                                                      VoucherEvidence.document_sha256)
                                               .where(VoucherEvidence.payment_item_id.in_(sorted(set(items))))):
            if sha:
                documents[("payment_item", str(item))].append(
                    (sha, f"无发票凭证材料:{VOUCHER_EVIDENCE_LABELS.get(kind, kind)}"))
    for flag in flags:
        extra: list[Evidence] = []
        seen: set[tuple[str, str]] = {(ev.kind, ev.ref) for ev in flag.evidence}
        for ev in flag.evidence:
            for eid, label in events.get((ev.kind, ev.ref), []):
                if ("audit_event", str(eid)) not in seen:
                    seen.add(("audit_event", str(eid)))
                    extra.append(Evidence("audit_event", str(eid), label))
            for sha, label in documents.get((ev.kind, ev.ref), []):
                if ("document", sha) not in seen:
                    seen.add(("document", sha))
                    extra.append(Evidence("document", sha, label))
        flag.evidence.extend(extra)


# ------------------------------------------------------------------------------------------ dismissals


def dismissals(session: Session, area_id: int, year: int) -> dict[str, Dismissal]:
    """The area's dismissed flags of the year: key → who, when, why."""
    out: dict[str, Dismissal] = {}
    for eid, actor, name, at, payload, reason in session.execute(
            select(AuditEvent.id, AuditEvent.actor_id, Person.display_name, AuditEvent.at, AuditEvent.payload,
                   AuditEvent.reason)
            .outerjoin(Person, Person.id == AuditEvent.actor_id)
            .where(AuditEvent.entity_type == CHAIN, AuditEvent.entity_id == area_id,
                   AuditEvent.event == "dismiss_flag").order_by(AuditEvent.seq)):
        payload = payload or {}
        if payload.get("year") == year and isinstance(payload.get("key"), str):
            out[payload["key"]] = Dismissal(person_id=actor or 0, person_name=name or "", at=at, reason=reason,
                                            event_id=eid)
    return out


# ------------------------------------------------------------------------------------------ the use cases


def area_flags(session: Session, area_id: int, year: int, community_id: int | None = None,
               include_dismissed: bool = False) -> list[r.FoundFlag]:
    """The red flags of an area's year (of one of its communities with ``community_id``): dismissed ones only
    with ``include_dismissed`` (marked with their dismissal). A community's view holds its own flags only; a
    flag over several communities (a payee across the area) belongs to the area's view."""
    facts, policy_version = load_facts(session, area_id, year, community_id)
    if policy_version is None:
        return []
    flags = r.find_flags(facts, policy_of(session, policy_version))
    if community_id is not None:
        flags = [f for f in flags if f.community_id == community_id]
    done = dismissals(session, area_id, year)
    for f in flags:
        f.dismissal = done.get(f.key)
    if not include_dismissed:
        flags = [f for f in flags if f.dismissal is None]
    attach_sources(session, facts, flags)
    return flags


def dismiss_flag(session: Session, actor: Actor, area_id: int, year: int, key: str, reason: str) -> FoundFlag:
    """A working-committee member of the area dismisses a flag with a reason (第十九条): one audit event on the
    area's ``flag`` chain, in the caller's transaction. Refusals raise ``ServiceError``."""
    post, role = resolve_post(session, actor, list(r.DISMISSERS), {"area": area_id}, clock.today())
    if not (v := r.check_dismisser(role)).ok:
        raise ServiceError(v, 403)
    head = audit.chain(session, CHAIN, area_id)  # locked: two dismissals of one flag queue here
    flags = area_flags(session, area_id, year, include_dismissed=True)
    flag = next((f for f in flags if f.key == key), None)
    verdict = r.check_dismissal(reason, flag is not None, flag is not None and flag.dismissed)
    if not verdict.ok:
        status = {"flag.not_found": 404, "flag.already_dismissed": 409}.get(verdict.code, 422)
        raise ServiceError(verdict, status)
    assert flag is not None
    now = clock.now()
    ev = audit.append(session, head, entity_type=CHAIN, entity_id=area_id, event="dismiss_flag", at=now,
                      actor_id=actor.person_id, actor_label=actor.label, post_id=post.id if post else None, role=role,
                      payload={"key": key, "year": year, "code": flag.code, "community_id": flag.community_id,
                               "title": flag.title}, reason=reason.strip())
    session.flush()
    name = session.execute(select(Person.display_name).where(Person.id == actor.person_id)).scalar_one_or_none()
    flag.dismissal = Dismissal(person_id=actor.person_id or 0, person_name=name or "", at=now, reason=reason.strip(),
                               event_id=ev.id)
    return flag


def as_dict(flag: FoundFlag, communities: dict[int, tuple[str, str]] | None = None) -> dict[str, Any]:
    """A flag as plain JSON-able data (the API's and the CLI's shape); ``communities``: id → (code, name)."""
    code, name = (communities or {}).get(flag.community_id or 0, ("", ""))
    d = flag.dismissal
    return {"key": flag.key, "code": flag.code, "article": flag.article, "title": flag.title, "message": flag.message,
            "community_id": flag.community_id, "community_code": code, "community_name": name,
            "evidence": [{"kind": e.kind, "ref": e.ref, "label": e.label} for e in flag.evidence],
            "dismissed": d is not None,
            "dismissal": None if d is None else {"by": d.person_name, "by_id": d.person_id,
                                                 "at": d.at.astimezone(clock.SHANGHAI).isoformat(timespec="seconds"), "reason": d.reason,
                                                 "event_id": d.event_id}}


def community_names(session: Session, ids: Iterable[int]) -> dict[int, tuple[str, str]]:
    wanted = sorted({i for i in ids if i})
    if not wanted:
        return {}
    return {i: (c, n) for i, c, n in session.execute(select(Organisation.id, Organisation.code, Organisation.name)
                                                     .where(Organisation.id.in_(wanted)))}
