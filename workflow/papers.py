"""The documents fundflow prints, assembled from the records: the plain data of :mod:`documents.model`
for each kind, who may read it, its verification code and what a code says about a paper copy.

Both the API's download routes and the CLI (the archive) come here. Public documents (notices, the
annual disclosure) are masked here, as the public API masks them. Dates come from the records only,
never from the clock, so that a document's code changes when, and only when, its data changes.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

import documents
from documents import model as m
from documents.codes import data_sha256, display, document_code, normalise
from documents.notices import kind_of
from documents.text import cn_date, cn_datetime, last_day, period_text
from rules import project as r_project
from rules.money import format_yuan
from store.calendar import load_calendar
from store.db import Database
from store.models import (
    Acceptance,
    Approval,
    AuditEvent,
    AuditRoot,
    ChangeRequest,
    Deadline,
    Document,
    DocumentCode,
    Finding,
    FollowUp,
    FundYear,
    Inspection,
    LedgerEntry,
    LineItem,
    Meeting,
    Need,
    Notice,
    Objection,
    Organisation,
    Payment,
    PaymentItem,
    Person,
    Project,
    ProjectNeed,
    Signature,
    SignOff,
    VoucherEvidence,
)
from workflow import clock
from workflow.context import ROLE_LABELS, policy_of
from workflow.definitions import finding as finding_def
from workflow.definitions import fund_year as fund_year_def
from workflow.definitions import inspection as inspection_def
from workflow.definitions import project as project_def
from workflow.public import private_names, public_text

API = "/api/v1"
CHANNELS = {"visit": "入户走访", "hall": "便民服务大厅", "platform": "桥梁平台"}
CAPACITIES = {"two_committees": "社区“两委”成员", "resident_rep": "居民代表", "working_committee": "社区党工委成员"}
OUTCOMES = {"passed": "通过", "divided": "意见分歧较大,暂时搁置", "voted_down": "未通过"}
EVIDENCE = {"meeting_decision": "事前会议集体讨论决定", "inprocess_proof": "事中签字证明",
            "payee_signature": "收款人签字", "post_notice": "事后公示"}
SIGNERS = ("community_secretary", "construction_director", "working_secretary")
LEADERS = ("working_secretary", "construction_director")
CHANGE_FIELDS = {"amount_fen": "金额(元)", "description": "项目内容", "contractor_name": "承办方",
                 "contractor_kind": "承办方类型", "planned_start": "计划开始", "planned_end": "计划结束",
                 "beneficiaries_count": "直接受益人数", "title": "项目名称"}
CHANGE_STATUS = {"pending": "待社区党工委审批", "approved": "已同意并备案", "rejected": "未同意"}
ITEM_STATUS = {"open": "待支付", "paid": "已支付", "cancelled": "已作废"}
RATINGS = {"excellent": "优秀", "good": "好", "fair": "一般", "poor": "差"}
#: project states whose amount is in use (committed or paid)
USED_STATES = frozenset({"in_progress", "change_review", "acceptance", "settlement", "completion_publicity", "closed"})
DISCLOSED = frozenset({"disclosing", "disclosed", "closed"})


class Unavailable(LookupError):
    """The document does not exist (yet): an unknown record, or a disclosure not yet started."""


def public_base_url() -> str:
    """Where the QR codes lead: ``FUNDFLOW_PUBLIC_URL`` (the service's public address)."""
    return os.environ.get("FUNDFLOW_PUBLIC_URL", "http://127.0.0.1:8000").rstrip("/")


def verify_url(code: str) -> str:
    """The short address printed (and in the QR code) on every document."""
    return f"{public_base_url()}/v/{code}"


# ---------------------------------------------------------------------------------------- helpers


def person_names(session: Session, ids: set[int | None]) -> dict[int, str]:
    """Display names of the people ``ids`` (``None`` ignored), in one statement."""
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    rows = session.execute(select(Person.id, Person.display_name).where(Person.id.in_(wanted)))
    return {int(i): str(n) for i, n in rows}


def _org_name(session: Session, org_id: int) -> str:
    return str(session.execute(select(Organisation.name).where(Organisation.id == org_id)).scalar_one())


def _area_name(session: Session, community_id: int) -> str:
    parent = session.execute(select(Organisation.parent_id).where(Organisation.id == community_id)).scalar_one()
    return _org_name(session, parent) if parent is not None else ""


def community_issuer(name: str) -> str:
    return f"{name}党委"


def area_issuer(name: str) -> str:
    return f"{name}党工委" if name else "社区党工委"


def _latest(*instants: dt.datetime | None) -> dt.datetime:
    found = [i for i in instants if i is not None]
    if not found:
        raise Unavailable("记录没有时间")
    return max(found)


def aid_names(session: Session, project_id: int | None) -> list[str]:
    """Names that must never appear in public for an aid project (``workflow.public``, the one list)."""
    return private_names(session, [project_id])


def _project(session: Session, project_id: int) -> Project:
    p = session.get(Project, project_id)
    if p is None:
        raise Unavailable(f"项目 #{project_id} 不存在")
    return p


def _period(session: Session, starts_at: dt.datetime, ends_at: dt.datetime, provisional: bool) -> m.Period:
    start = clock.local_date(starts_at)
    workdays = load_calendar(session).workdays_between(start, last_day(ends_at))
    return m.Period(starts_at, ends_at, workdays, provisional)


def _event(session: Session, entity_type: str, entity_id: int, event: str) -> AuditEvent | None:
    return session.execute(select(AuditEvent).where(AuditEvent.entity_type == entity_type,
                                                    AuditEvent.entity_id == entity_id, AuditEvent.event == event)
                           .order_by(AuditEvent.seq.desc()).limit(1)).scalar_one_or_none()


# ------------------------------------------------------------------------------ application form


def application_form(session: Session, project_id: int) -> m.ApplicationForm:
    p = _project(session, project_id)
    community = _org_name(session, p.community_id)
    items = session.execute(select(LineItem).where(LineItem.project_id == p.id).order_by(LineItem.id)).scalars().all()
    needs = session.execute(select(Need).join(ProjectNeed, ProjectNeed.need_id == Need.id)
                            .where(ProjectNeed.project_id == p.id).order_by(Need.id)).scalars().all()
    meeting = session.execute(select(Meeting).where(Meeting.project_id == p.id, Meeting.kind == "joint")
                              .order_by(Meeting.id.desc()).limit(1)).scalar_one_or_none()
    notice = session.execute(select(Notice).where(Notice.project_id == p.id, Notice.kind == "publicity")
                             .order_by(Notice.id.desc()).limit(1)).scalar_one_or_none()
    objections = session.execute(select(Objection).where(Objection.notice_id == notice.id).order_by(Objection.id)
                                 ).scalars().all() if notice is not None else []
    board = session.execute(select(Meeting).where(Meeting.project_id == p.id, Meeting.kind == "board")
                            .order_by(Meeting.id.desc()).limit(1)).scalar_one_or_none()
    signoff = session.execute(select(SignOff).where(SignOff.project_id == p.id, SignOff.stage == "declaration")
                              .order_by(SignOff.id.desc()).limit(1)).scalar_one_or_none()
    approvals = session.execute(select(Approval).where(Approval.project_id == p.id, Approval.round == p.approval_round)
                                .order_by(Approval.id)).scalars().all() if p.approval_round else []
    preliminary = _event(session, "project", p.id, "grant_preliminary")
    who = person_names(session, {p.proposer_id, signoff.person_id if signoff else None,
                           preliminary.actor_id if preliminary else None, *(a.person_id for a in approvals)})
    leaders = []
    for role in LEADERS:
        mine = [a for a in approvals if a.role == role]
        if mine:
            a = mine[-1]
            verdict = {"approve": "审批同意", "reject": "不予批准", "return": "退回修改"}.get(a.decision, a.decision)
            leaders.append(m.Person(who.get(a.person_id, ""), ROLE_LABELS[role], a.at,
                                    verdict + (f":{a.comment}" if a.comment else "")))
        else:
            leaders.append(m.Person("", ROLE_LABELS[role], None))
    meeting_result = None
    if meeting is not None:
        capacities = [a.get("capacity", "") for a in meeting.attendees]
        meeting_result = m.MeetingResult(meeting.held_on, capacities.count("two_committees"),
                                         capacities.count("resident_rep"), meeting.votes_for, meeting.votes_against,
                                         meeting.votes_abstain, OUTCOMES.get(meeting.outcome, meeting.outcome))
    declared = tuple(label for key, label in r_project.FORBIDDEN_USES.items()
                     if (p.forbidden_use_declaration or {}).get(key) is False)
    contractor = p.contractor_name
    issued = _latest(p.created_at, preliminary.at if preliminary else None, meeting.created_at if meeting else None,
                     notice.starts_at if notice else None, signoff.at if signoff else None, p.received_at,
                     board.created_at if board else None, *(a.at for a in approvals),
                     *(o.answered_at or o.created_at for o in objections))
    return m.ApplicationForm(
        community=community, issuer=community_issuer(community), project_code=p.code, title=p.title,
        category=r_project.CATEGORIES.get(p.category, p.category), category_justification=p.category_justification,
        description=p.description, amount_fen=p.amount_fen, beneficiaries_count=p.beneficiaries_count,
        beneficiaries_desc=p.beneficiaries_desc, small_group=p.is_small_group, aid=p.is_aid, contractor=contractor,
        contractor_kind=r_project.CONTRACTOR_KINDS.get(p.contractor_kind, p.contractor_kind),
        planned_start=p.planned_start, planned_end=p.planned_end,
        proposer=m.Person(who.get(p.proposer_id, ""), "社区党委书记", p.created_at),
        state=project_def.LABELS.get(p.state, p.state), forbidden_uses_declared=declared,
        line_items=tuple(m.LineItemRow(i.description, i.quantity, i.unit_price_fen, i.amount_fen, i.catalog_item)
                         for i in items),
        needs=tuple(m.NeedRow(n.title, CHANNELS.get(n.channel, n.channel), n.residents_count, n.created_at)
                    for n in needs),
        preliminary=(m.Person(who.get(preliminary.actor_id or 0, ""), ROLE_LABELS.get(preliminary.role, ""),
                              preliminary.at) if preliminary else None),
        meeting=meeting_result,
        notice=_period(session, notice.starts_at, notice.ends_at, notice.provisional) if notice else None,
        objections=tuple(m.ObjectionRow(o.created_at, public_text(o.text), public_text(o.answer), o.resolved)
                         for o in objections),
        declaration_signoff=(m.Person(who.get(signoff.person_id, ""), ROLE_LABELS["supervisor"], signoff.at)
                             if signoff else None),
        received_at=p.received_at, approval_round=p.approval_round,
        board_meeting=board.held_on if board else None, approvals=tuple(leaders), issued_at=issued)


# ------------------------------------------------------------------------------------------ notices


def notice(session: Session, notice_id: int) -> m.NoticeDoc:
    n = session.get(Notice, notice_id)
    if n is None:
        raise Unavailable(f"公示 #{notice_id} 不存在")
    community = _org_name(session, n.community_id)
    code = ""
    if n.project_id is not None:
        code = str(session.execute(select(Project.code).where(Project.id == n.project_id)).scalar_one())
    masked = aid_names(session, n.project_id)
    kind = kind_of(n.kind)
    return m.NoticeDoc(notice_id=n.id, notice_kind=n.kind, kind_label=kind.label, community=community,
                       issuer=community_issuer(community), title=public_text(n.title, masked),
                       body=public_text(n.body, masked), period=_period(session, n.starts_at, n.ends_at, n.provisional),
                       article=kind.article, project_code=code, issued_at=n.starts_at)


# ------------------------------------------------------------------------------------------ records


def meeting_record(session: Session, meeting_id: int) -> m.MeetingMinutes | m.BoardRecord:
    mt = session.get(Meeting, meeting_id)
    if mt is None or mt.project_id is None or mt.kind not in ("joint", "board"):
        raise Unavailable(f"会议记录 #{meeting_id} 不存在")
    p = _project(session, mt.project_id)
    community = _org_name(session, p.community_id)
    recorder = person_names(session, {mt.recorded_by}).get(mt.recorded_by, "")
    if mt.kind == "board":
        return m.BoardRecord(meeting_id=mt.id, community=community, issuer=area_issuer(_area_name(session, p.community_id)),
                             project_code=p.code, project_title=p.title, amount_fen=p.amount_fen,
                             received_at=p.received_at, held_on=mt.held_on,
                             attendees=tuple(str(a.get("name", "")) for a in mt.attendees), minutes=mt.minutes,
                             recorded_by=m.Person(recorder, "", mt.created_at), issued_at=mt.created_at)
    return m.MeetingMinutes(
        meeting_id=mt.id, community=community, issuer=community_issuer(community), project_code=p.code,
        project_title=p.title, amount_fen=p.amount_fen, held_on=mt.held_on,
        attendees=tuple(m.Attendee(str(a.get("name", "")), CAPACITIES.get(str(a.get("capacity", "")),
                                                                          str(a.get("capacity", ""))))
                        for a in mt.attendees),
        votes_for=mt.votes_for, votes_against=mt.votes_against, votes_abstain=mt.votes_abstain,
        outcome=OUTCOMES.get(mt.outcome, mt.outcome), minutes=mt.minutes,
        recorded_by=m.Person(recorder, "", mt.created_at), issued_at=mt.created_at)


def acceptance_record(session: Session, acceptance_id: int) -> m.AcceptanceRecord:
    a = session.get(Acceptance, acceptance_id)
    if a is None:
        raise Unavailable(f"验收记录 #{acceptance_id} 不存在")
    p = _project(session, a.project_id)
    community = _org_name(session, p.community_id)
    signoff = session.execute(select(SignOff).where(SignOff.project_id == p.id, SignOff.stage == "acceptance",
                                                    SignOff.at <= a.created_at)
                              .order_by(SignOff.id.desc()).limit(1)).scalar_one_or_none()
    visits = session.execute(select(FollowUp).where(FollowUp.project_id == p.id, FollowUp.created_at <= a.created_at)
                             .order_by(FollowUp.visited_on, FollowUp.id)).scalars().all()
    who = person_names(session, {a.recorded_by, signoff.person_id if signoff else None,
                           *(int(t["person_id"]) for t in a.team if t.get("person_id")),
                           *(v.person_id for v in visits)})
    team = tuple(m.Person(who.get(int(t.get("person_id") or 0), ""), ROLE_LABELS.get(str(t.get("role", "")), ""))
                 for t in a.team)
    return m.AcceptanceRecord(
        acceptance_id=a.id, community=community, issuer=area_issuer(_area_name(session, p.community_id)),
        project_code=p.code, project_title=p.title, amount_fen=p.amount_fen, passed=a.passed, quality=a.quality,
        satisfaction=a.satisfaction, team=team,
        supervisor_signoff=(m.Person(who.get(signoff.person_id, ""), ROLE_LABELS["supervisor"], signoff.at)
                            if signoff else None),
        followups=tuple(m.Visit(v.visited_on, who.get(v.person_id, ""), v.notes) for v in visits),
        recorded_by=m.Person(who.get(a.recorded_by, ""), "", a.created_at), issued_at=a.created_at)


def _change_value(key: str, value: Any) -> str:
    if value is None or value == "":
        return "—"
    if key == "amount_fen":
        return format_yuan(int(value))
    if key in ("planned_start", "planned_end"):
        return cn_date(dt.date.fromisoformat(str(value)))
    if key == "contractor_kind":
        return r_project.CONTRACTOR_KINDS.get(str(value), str(value))
    return str(value)


def change_filing(session: Session, change_id: int) -> m.ChangeFiling:
    c = session.get(ChangeRequest, change_id)
    if c is None:
        raise Unavailable(f"变更申请 #{change_id} 不存在")
    p = _project(session, c.project_id)
    community = _org_name(session, p.community_id)
    who = person_names(session, {c.requested_by, c.decided_by})
    keys = [k for k in CHANGE_FIELDS if k in c.after] + sorted(k for k in c.after if k not in CHANGE_FIELDS)
    changes = tuple(m.Change(CHANGE_FIELDS.get(k, k), _change_value(k, c.before.get(k)), _change_value(k, c.after.get(k)))
                    for k in keys)
    decided = (m.Person(who.get(c.decided_by, ""), "社区党工委", c.decided_at)
               if c.decided_by is not None and c.decided_at is not None else None)
    return m.ChangeFiling(change_id=c.id, community=community, issuer=area_issuer(_area_name(session, p.community_id)),
                          project_code=p.code, project_title=p.title, reason=c.reason, changes=changes,
                          requested_by=m.Person(who.get(c.requested_by, ""), "社区党委书记", c.created_at),
                          status=CHANGE_STATUS.get(c.status, c.status), decided_by=decided,
                          issued_at=_latest(c.created_at, c.decided_at))


def payment_voucher(session: Session, item_id: int) -> m.PaymentVoucher:
    item = session.get(PaymentItem, item_id)
    if item is None:
        raise Unavailable(f"付款事项 #{item_id} 不存在")
    p = _project(session, item.project_id)
    community = _org_name(session, p.community_id)
    sigs = session.execute(select(Signature).where(Signature.payment_item_id == item.id).order_by(Signature.seq)
                           ).scalars().all()
    evidence = session.execute(select(VoucherEvidence).where(VoucherEvidence.payment_item_id == item.id)
                               .order_by(VoucherEvidence.id)).scalars().all()
    payment = session.execute(select(Payment).where(Payment.payment_item_id == item.id)).scalar_one_or_none()
    who = person_names(session, {*(s.person_id for s in sigs), *(e.recorded_by for e in evidence),
                           payment.paid_by if payment else None})
    signatures = []
    if item.kind == "invoice":
        by_seq = {s.seq: s for s in sigs}
        for seq, role in enumerate(SIGNERS, 1):
            s = by_seq.get(seq)
            signatures.append(m.Person(who.get(s.person_id, "") if s else "", ROLE_LABELS[role], s.at if s else None))
    docs = {d: f for d, f in session.execute(select(Document.sha256, Document.filename).where(
        Document.sha256.in_([e.document_sha256 for e in evidence if e.document_sha256])))}
    rows = tuple(m.Evidence(EVIDENCE.get(e.kind, e.kind), who.get(e.recorded_by, ""), e.at,
                            f"{docs.get(e.document_sha256, '')} {e.document_sha256[:12]}".strip()
                            if e.document_sha256 else (f"公示 #{e.notice_id}" if e.notice_id else "—"))
                 for e in evidence)
    return m.PaymentVoucher(
        payment_item_id=item.id, community=community, issuer=area_issuer(_area_name(session, p.community_id)),
        project_code=p.code, project_title=p.title, contractor=p.contractor_name, approved_fen=p.amount_fen,
        invoice=item.kind == "invoice", amount_fen=item.amount_fen, payee=item.payee, payee_account=item.payee_account,
        invoice_no=item.invoice_no, status=ITEM_STATUS.get(item.status, item.status), signatures=tuple(signatures),
        evidence=rows, required_evidence=tuple(EVIDENCE.values()) if item.kind != "invoice" else (),
        paid_by=m.Person(who.get(payment.paid_by, ""), ROLE_LABELS["finance_officer"], payment.at) if payment else None,
        issued_at=_latest(item.created_at, *(s.at for s in sigs), *(e.at for e in evidence),
                          payment.at if payment else None))


# ------------------------------------------------------------------------------------------ the year


def _fund_year(session: Session, fund_year_id: int) -> FundYear:
    fy = session.get(FundYear, fund_year_id)
    if fy is None:
        raise Unavailable(f"经费年度 #{fund_year_id} 不存在")
    return fy


def annual(session: Session, fund_year_id: int, disclosure: bool = False) -> m.AnnualReport:
    """The annual report (internal) or, ``disclosure``, the annual disclosure (masked, once it started)."""
    fy = _fund_year(session, fund_year_id)
    community = _org_name(session, fy.community_id)
    notice_row = session.execute(select(Notice).where(Notice.fund_year_id == fy.id, Notice.kind == "disclosure")
                                 .order_by(Notice.id.desc()).limit(1)).scalar_one_or_none()
    if disclosure and (fy.state not in DISCLOSED or notice_row is None):
        raise Unavailable(f"{community} {fy.year} 年度经费使用情况尚未公示")
    policy = policy_of(session, fy.policy_version_id)
    projects = session.execute(select(Project).where(Project.fund_year_id == fy.id).order_by(Project.code)
                               ).scalars().all()
    masked = private_names(session, fund_year_id=fy.id) if disclosure else []

    def public(text: str) -> str:
        return public_text(text, masked) if disclosure else text

    cats = []
    for key, label in r_project.CATEGORIES.items():
        mine = [p for p in projects if p.category == key]
        if mine:
            cats.append(m.CategoryRow(label, len(mine), sum(p.committed_fen + p.paid_fen for p in mine),
                                      sum(p.paid_fen for p in mine)))
    report = dict(fy.report or {})
    evaluation = ""
    if report.get("rating") or report.get("evaluation"):
        evaluation = f"评议等次:{RATINGS.get(str(report.get('rating')), str(report.get('rating') or '—'))}。" \
                     f"{report.get('evaluation') or ''}"
    moved = session.execute(select(func.max(AuditEvent.at)).where(
        AuditEvent.entity_type == "project", AuditEvent.from_state != AuditEvent.to_state,
        AuditEvent.entity_id.in_(select(Project.id).where(Project.fund_year_id == fy.id)))).scalar_one_or_none()
    booked = session.execute(select(func.max(LedgerEntry.created_at)).where(LedgerEntry.fund_year_id == fy.id)
                             ).scalar_one_or_none()
    year_events = session.execute(select(func.max(AuditEvent.at)).where(AuditEvent.entity_type == "fund_year",
                                                                         AuditEvent.entity_id == fy.id)).scalar_one_or_none()
    cls = m.AnnualDisclosure if disclosure else m.AnnualReport
    cap = policy.small_group_cap
    issued = _latest(moved, booked, year_events, notice_row.starts_at if notice_row else None)
    return cls(
        fund_year_id=fy.id, community=community, issuer=community_issuer(community), year=fy.year,
        state=fund_year_def.LABELS.get(fy.state, fy.state), allocation_fen=fy.allocation_fen,
        carry_in_fen=fy.carry_in_fen, committed_fen=fy.committed_fen, paid_fen=fy.paid_fen,
        carry_out_fen=fy.carry_out_fen, small_group_fen=fy.small_group_committed_fen,
        cap_fen=policy.cap_amount_fen(fy.allocation_fen, fy.carry_in_fen), cap_ratio=(cap.numerator, cap.denominator),
        categories=tuple(cats),
        projects=tuple(m.ProjectRow(p.code, public(p.title), r_project.CATEGORIES.get(p.category, p.category),
                                    project_def.LABELS.get(p.state, p.state), p.amount_fen, p.paid_fen,
                                    p.is_small_group) for p in projects),
        summary="" if disclosure else str(report.get("summary") or ""),
        service_effect=public_text(str(report.get("service_effect") or ""), masked),
        evaluation="" if disclosure else evaluation,
        submitted_at=_instant(report.get("submitted_at")),
        issued_at=issued,
        period=(_period(session, notice_row.starts_at, notice_row.ends_at, notice_row.provisional)
                if disclosure and notice_row is not None else None),
        anchor=anchor_text(session, notice_row.starts_at if disclosure and notice_row is not None else issued))


def anchor_text(session: Session, before: dt.datetime) -> str:
    """The latest signed daily root of the audit chains signed by ``before`` (a recorded time, so that the
    document's data stays what it was), as a reader can compare it with the published roots."""
    root = session.execute(select(AuditRoot).where(AuditRoot.signed_at <= before)
                           .order_by(AuditRoot.seq.desc()).limit(1)).scalar_one_or_none()
    if root is None:
        return ""
    return (f"第 {root.seq} 号({cn_date(root.signed_at)} 签署,{root.chains} 条审计链、{root.events} 个事件):"
            f"状态根 {root.state_root},签名密钥 {root.key_id}")


def _instant(value: Any) -> dt.datetime | None:
    if not value:
        return None
    try:
        instant = dt.datetime.fromisoformat(str(value))
    except ValueError:
        return None
    return instant if instant.tzinfo is not None else instant.replace(tzinfo=dt.UTC)


def annual_report(session: Session, fund_year_id: int) -> m.AnnualReport:
    return annual(session, fund_year_id)


def annual_disclosure(session: Session, fund_year_id: int) -> m.AnnualReport:
    return annual(session, fund_year_id, disclosure=True)


def ledger_book(session: Session, fund_year_id: int) -> m.LedgerBook:
    fy = _fund_year(session, fund_year_id)
    community = _org_name(session, fy.community_id)
    rows = session.execute(
        select(LedgerEntry, Project.code, Project.title, Document.filename)
        .outerjoin(Project, Project.id == LedgerEntry.project_id)
        .outerjoin(Document, Document.sha256 == LedgerEntry.document_sha256)
        .where(LedgerEntry.fund_year_id == fy.id).order_by(LedgerEntry.id)).all()
    if not rows:
        raise Unavailable(f"{community} {fy.year} 年度尚无分录")
    return m.LedgerBook(community=community, issuer=area_issuer(_area_name(session, fy.community_id)), year=fy.year,
                        rows=tuple(m.LedgerRow(e.created_at, e.kind, code or "", title or "", e.memo, e.amount_fen,
                                               filename or "", e.document_sha256 or "")
                                   for e, code, title, filename in rows),
                        issued_at=max(e.created_at for e, *_ in rows))


def area_summary(session: Session, area_id: int, year: int) -> m.AreaSummary:
    area = session.execute(select(Organisation).where(Organisation.id == area_id, Organisation.level == "area")
                           ).scalar_one_or_none()
    if area is None:
        raise Unavailable(f"大社区 #{area_id} 不存在")
    years = session.execute(select(FundYear, Organisation.code, Organisation.name)
                            .join(Organisation, Organisation.id == FundYear.community_id)
                            .where(Organisation.parent_id == area.id, FundYear.year == year)
                            .order_by(Organisation.code)).all()
    if not years:
        raise Unavailable(f"{area.name} {year} 年度尚无经费年度")
    ids = [fy.id for fy, _c, _n in years]
    counts: dict[int, tuple[int, int, int]] = {}
    terminal = {s.value for s in project_def.TERMINAL}
    for fid, state, n in session.execute(select(Project.fund_year_id, Project.state, func.count())
                                         .where(Project.fund_year_id.in_(ids))
                                         .group_by(Project.fund_year_id, Project.state)):
        total, closed, open_ = counts.get(fid, (0, 0, 0))
        counts[fid] = (total + n, closed + (n if state == "closed" else 0), open_ + (0 if state in terminal else n))
    rows = []
    for fy, code, name in years:
        policy = policy_of(session, fy.policy_version_id)
        total, closed, open_ = counts.get(fy.id, (0, 0, 0))
        rows.append(m.CommunityYearRow(code, name, fund_year_def.LABELS.get(fy.state, fy.state), fy.allocation_fen,
                                       fy.carry_in_fen, fy.committed_fen, fy.paid_fen, fy.small_group_committed_fen,
                                       policy.cap_amount_fen(fy.allocation_fen, fy.carry_in_fen), fy.carry_out_fen,
                                       total, closed, open_))
    booked = session.execute(select(func.max(LedgerEntry.created_at)).where(LedgerEntry.fund_year_id.in_(ids))
                             ).scalar_one_or_none()
    moved = session.execute(select(func.max(AuditEvent.at)).where(
        AuditEvent.entity_type == "project", AuditEvent.from_state != AuditEvent.to_state,
        AuditEvent.entity_id.in_(select(Project.id).where(Project.fund_year_id.in_(ids))))).scalar_one_or_none()
    years_moved = session.execute(select(func.max(AuditEvent.at)).where(
        AuditEvent.entity_type == "fund_year", AuditEvent.entity_id.in_(ids))).scalar_one_or_none()
    return m.AreaSummary(area=area.name, issuer=area_issuer(area.name), year=year, rows=tuple(rows),
                         issued_at=_latest(booked, moved, years_moved))


# --------------------------------------------------------------------------------- the inspection pack


LEDGER_KINDS = {"allocation": "拨付", "carry_in": "结转转入", "commitment": "承诺", "adjustment": "调整",
                "release": "释放", "payment": "支付", "carry_out": "结余转出"}
DEADLINE_KINDS = {
    "publicity": "项目公示期", "completion_publicity": "建成公示期", "disclosure": "年度公示期",
    "approval_due": "审批期限", "voucher_notice": "无发票支出公示期", "followup_due": "跟进检查期限",
    "report_reminder": "年度报告提醒", "report_due": "年度报告期限", "disclosure_start_due": "年度公示开始期限",
    "year_close": "年度结转", "needs_collection": "需求征集", "termination": "终止公示期",
    "rectification_due": "整改期限",
}
EVENT_WORDS = {"create": "提议项目", "open": "开设经费年度", "approval_overdue": "审批逾期提醒",
               "voucher_notice_elapsed": "无发票支出公示期满"}


def _window(inspection: Inspection) -> tuple[dt.datetime, dt.datetime]:
    """The period as UTC instants: from 00:00 of its first day to 24:00 of its last (Asia/Shanghai)."""
    start = dt.datetime.combine(inspection.period_from, dt.time(), clock.SHANGHAI)
    end = dt.datetime.combine(inspection.period_to + dt.timedelta(days=1), dt.time(), clock.SHANGHAI)
    return start.astimezone(dt.UTC), end.astimezone(dt.UTC)


def _pack_flags(session: Session, inspection: Inspection) -> list[m.PackFlag]:
    """The red flags of the inspected community in the fund years the period touches, with their evidence
    (dismissed flags stay out, as on the flag list; their dismissal is in the audit trail)."""
    from workflow.redflags import area_flags

    out: list[m.PackFlag] = []
    for year in range(inspection.period_from.year, inspection.period_to.year + 1):
        for flag in area_flags(session, inspection.area_id, year, community_id=inspection.community_id):
            proof = "、".join(e.label or f"{e.kind} {e.ref}" for e in flag.evidence)
            out.append(m.PackFlag(code=flag.code, title=flag.title, article=flag.article,
                                  evidence=f"{flag.message}" + (f"(依据:{proof})" if proof else "")))
    return out


def _moved(event: AuditEvent) -> str:
    if not event.to_state or event.from_state == event.to_state:
        return ""
    labels = project_def.LABELS
    before = labels.get(event.from_state, event.from_state) if event.from_state else "—"
    return f"{before} → {labels.get(event.to_state, event.to_state)}"


def _projects(session: Session, inspection: Inspection, start: dt.datetime, end: dt.datetime) -> list[m.PackProject]:
    """Every project of the community with an audit event in the period, with the period's events."""
    active = (select(AuditEvent.entity_id).where(AuditEvent.entity_type == "project", AuditEvent.at >= start,
                                                 AuditEvent.at < end).distinct())
    projects = list(session.execute(select(Project).where(Project.community_id == inspection.community_id,
                                                          Project.id.in_(active)).order_by(Project.code)).scalars())
    if not projects:
        return []
    events = list(session.execute(select(AuditEvent).where(
        AuditEvent.entity_type == "project", AuditEvent.entity_id.in_([p.id for p in projects]),
        AuditEvent.at >= start, AuditEvent.at < end).order_by(AuditEvent.entity_id, AuditEvent.seq)).scalars())
    names = person_names(session, {e.actor_id for e in events if e.actor_id is not None})
    trails: dict[int, list[m.TrailEvent]] = {}
    for e in events:
        actor = names.get(e.actor_id, "") if e.actor_id is not None else ROLE_LABELS.get(e.actor_label, e.actor_label)
        trails.setdefault(e.entity_id, []).append(m.TrailEvent(
            at=e.at, event=project_def.EVENT_LABELS.get(e.event, EVENT_WORDS.get(e.event, e.event)), actor=actor,
            role=ROLE_LABELS.get(e.role, e.role) if e.actor_id is not None else "", moved=_moved(e), reason=e.reason))
    return [m.PackProject(project_id=p.id, code=p.code, title=p.title, state=project_def.LABELS.get(p.state, p.state),
                          amount_fen=p.amount_fen, paid_fen=p.paid_fen, trail=tuple(trails.get(p.id, ())))
            for p in projects]


def _ledger(session: Session, inspection: Inspection, start: dt.datetime, end: dt.datetime) -> list[m.PackLedgerRow]:
    rows = session.execute(
        select(LedgerEntry.created_at, LedgerEntry.kind, LedgerEntry.amount_fen, Project.code, LedgerEntry.memo)
        .join(FundYear, FundYear.id == LedgerEntry.fund_year_id)
        .outerjoin(Project, Project.id == LedgerEntry.project_id)
        .where(FundYear.community_id == inspection.community_id, LedgerEntry.created_at >= start,
               LedgerEntry.created_at < end)
        .order_by(LedgerEntry.created_at, LedgerEntry.id))
    return [m.PackLedgerRow(at=at, kind=LEDGER_KINDS.get(kind, kind), amount_fen=int(amount), project_code=code or "",
                            memo=memo or "") for at, kind, amount, code, memo in rows]


def _deadlines(session: Session, community_id: int) -> list[m.PackDeadline]:
    """Every open deadline of the community: its projects', fund years', findings' and its own."""
    projects = select(Project.id).where(Project.community_id == community_id)
    years = select(FundYear.id).where(FundYear.community_id == community_id)
    findings = select(Finding.id).where(Finding.community_id == community_id)
    owned = or_(and_(Deadline.entity_type == "project", Deadline.entity_id.in_(projects)),
                and_(Deadline.entity_type == "fund_year", Deadline.entity_id.in_(years)),
                and_(Deadline.entity_type == "finding", Deadline.entity_id.in_(findings)),
                and_(Deadline.entity_type == "community", Deadline.entity_id == community_id))
    rows = list(session.execute(select(Deadline).where(Deadline.status == "open", owned)
                                .order_by(Deadline.due_at, Deadline.id)).scalars())
    codes = dict(session.execute(select(Project.id, Project.code).where(
        Project.id.in_([d.entity_id for d in rows if d.entity_type == "project"]))).tuples().all())
    years_of = dict(session.execute(select(FundYear.id, FundYear.year).where(
        FundYear.id.in_([d.entity_id for d in rows if d.entity_type == "fund_year"]))).tuples().all())

    def what(d: Deadline) -> str:
        if d.entity_type == "project":
            return f"项目 {codes.get(d.entity_id, d.entity_id)}"
        if d.entity_type == "fund_year":
            return f"{years_of.get(d.entity_id, '')} 年度"
        if d.entity_type == "finding":
            return f"检查发现 #{d.entity_id}"
        return f"{d.ref} 社区事项" if d.ref else "社区事项"

    return [m.PackDeadline(what=what(d), kind=DEADLINE_KINDS.get(d.kind, d.kind), due_at=d.due_at,
                           provisional=d.provisional) for d in rows]


def _findings(session: Session, inspection_id: int) -> list[m.PackFinding]:
    rows = session.execute(select(Finding, Project.code).outerjoin(Project, Project.id == Finding.project_id)
                           .where(Finding.inspection_id == inspection_id).order_by(Finding.id)).all()
    dues = finding_dues(session, [f.id for f, _code in rows])
    return [m.PackFinding(finding_id=f.id, article=f.article, description=f.description, requirement=f.requirement,
                          state=finding_def.LABELS.get(f.state, f.state), project_code=code or "",
                          due_at=dues.get(f.id)) for f, code in rows]


def finding_dues(session: Session, finding_ids: list[int]) -> dict[int, dt.datetime]:
    """The current rectification deadline of each finding (the latest one set, open or fired)."""
    if not finding_ids:
        return {}
    out: dict[int, dt.datetime] = {}
    for fid, due in session.execute(select(Deadline.entity_id, Deadline.due_at).where(
            Deadline.entity_type == "finding", Deadline.entity_id.in_(finding_ids),
            Deadline.kind == "rectification_due").order_by(Deadline.id)):
        out[int(fid)] = due
    return out


def pack(session: Session, inspection_id: int) -> m.InspectionPack:
    """The inspection's pack as plain data (the PDF's and the JSON's one source)."""
    inspection = session.get(Inspection, inspection_id)
    if inspection is None:
        raise Unavailable(f"检查 #{inspection_id} 不存在")
    start, end = _window(inspection)
    projects = _projects(session, inspection, start, end)
    ledger = _ledger(session, inspection, start, end)
    findings = _findings(session, inspection.id)
    community = session.execute(select(Organisation.name).where(Organisation.id == inspection.community_id)
                                ).scalar_one()
    area_name = session.execute(select(Organisation.name).where(Organisation.id == inspection.area_id)).scalar_one()
    planner = session.execute(select(Person.display_name).where(Person.id == inspection.planned_by)).scalar_one()
    planned = session.execute(select(AuditEvent.role).where(
        AuditEvent.entity_type == "inspection", AuditEvent.entity_id == inspection.id, AuditEvent.seq == 1)
    ).scalar_one_or_none()
    last_event = session.execute(select(AuditEvent.at).where(
        AuditEvent.entity_type == "inspection", AuditEvent.entity_id == inspection.id)
        .order_by(AuditEvent.seq.desc()).limit(1)).scalar_one_or_none()
    instants = [inspection.created_at, last_event, *(e.at for p in projects for e in p.trail),
                *(r.at for r in ledger)]
    issued = max(i for i in instants if i is not None)
    return m.InspectionPack(
        inspection_id=inspection.id, community=str(community), issuer=area_issuer(str(area_name)),
        title=inspection.title, period_from=inspection.period_from, period_to=inspection.period_to,
        state=inspection_def.LABELS.get(inspection.state, inspection.state),
        planned_by=m.Person(str(planner), ROLE_LABELS.get(planned or "", ""), inspection.created_at),
        projects=tuple(projects), ledger=tuple(ledger), deadlines=tuple(_deadlines(session, inspection.community_id)),
        flags=tuple(_pack_flags(session, inspection)), findings=tuple(findings), issued_at=issued)


# ------------------------------------------------------------------------------------ the registry


@dataclass(frozen=True)
class Owner:
    """What a document belongs to: the audit chain of its record, its community, whether it is public."""

    entity_type: str
    entity_id: int
    community_id: int
    public: bool


@dataclass(frozen=True)
class Paper:
    """A kind of printed document: how to assemble it, whom it belongs to, what its file is called."""

    kind: str
    label: str
    assemble: Callable[[Session, int], Any]
    owner: Callable[[Session, int], Owner]
    filename: Callable[[Any], str]
    public: bool = False


def _project_owner(column: Any, model: Any, what: str) -> Callable[[Session, int], Owner]:
    def owner(session: Session, object_id: int) -> Owner:
        row = session.execute(select(Project.id, Project.community_id).join(model, column == Project.id)
                              .where(model.id == object_id)).one_or_none()
        if row is None:
            raise Unavailable(f"{what} #{object_id} 不存在")
        return Owner("project", int(row[0]), int(row[1]), False)

    return owner


def _project_self(session: Session, object_id: int) -> Owner:
    row = session.execute(select(Project.community_id).where(Project.id == object_id)).one_or_none()
    if row is None:
        raise Unavailable(f"项目 #{object_id} 不存在")
    return Owner("project", object_id, int(row[0]), False)


def _meeting_owner(kind: str) -> Callable[[Session, int], Owner]:
    def owner(session: Session, object_id: int) -> Owner:
        row = session.execute(select(Project.id, Project.community_id).join(Meeting, Meeting.project_id == Project.id)
                              .where(Meeting.id == object_id, Meeting.kind == kind)).one_or_none()
        if row is None:
            raise Unavailable(f"会议记录 #{object_id} 不存在")
        return Owner("project", int(row[0]), int(row[1]), False)

    return owner


def _notice_owner(session: Session, object_id: int) -> Owner:
    row = session.execute(select(Notice.project_id, Notice.fund_year_id, Notice.community_id)
                          .where(Notice.id == object_id)).one_or_none()
    if row is None:
        raise Unavailable(f"公示 #{object_id} 不存在")
    if row[0] is not None:
        return Owner("project", int(row[0]), int(row[2]), True)
    return Owner("fund_year", int(row[1] or 0), int(row[2]), True)


def _year_owner(public: bool) -> Callable[[Session, int], Owner]:
    def owner(session: Session, object_id: int) -> Owner:
        row = session.execute(select(FundYear.community_id).where(FundYear.id == object_id)).one_or_none()
        if row is None:
            raise Unavailable(f"经费年度 #{object_id} 不存在")
        return Owner("fund_year", object_id, int(row[0]), public)

    return owner


def _joint_minutes(session: Session, meeting_id: int) -> m.MeetingMinutes:
    doc = meeting_record(session, meeting_id)
    if not isinstance(doc, m.MeetingMinutes):
        raise Unavailable(f"联席会议记录 #{meeting_id} 不存在")
    return doc


def _board_record(session: Session, meeting_id: int) -> m.BoardRecord:
    doc = meeting_record(session, meeting_id)
    if not isinstance(doc, m.BoardRecord):
        raise Unavailable(f"班子会议记录 #{meeting_id} 不存在")
    return doc


def _inspection_owner(session: Session, object_id: int) -> Owner:
    row = session.execute(select(Inspection.community_id).where(Inspection.id == object_id)).one_or_none()
    if row is None:
        raise Unavailable(f"检查 #{object_id} 不存在")
    return Owner("inspection", object_id, int(row[0]), False)


PAPERS: dict[str, Paper] = {p.kind: p for p in (
    Paper("application_form", "使用申请审批表", application_form, _project_self,
          lambda d: f"使用申请审批表-{d.project_code}.pdf"),
    Paper("notice", "公示", notice, _notice_owner,
          lambda d: f"{d.kind_label}-{d.project_code or d.community}-{d.notice_id}.pdf", public=True),
    Paper("minutes", "联席会议记录", _joint_minutes, _meeting_owner("joint"),
          lambda d: f"联席会议记录-{d.project_code}-{d.meeting_id}.pdf"),
    Paper("board_record", "班子会议记录", _board_record, _meeting_owner("board"),
          lambda d: f"班子会议记录-{d.project_code}-{d.meeting_id}.pdf"),
    Paper("acceptance_record", "综合验收记录", acceptance_record,
          _project_owner(Acceptance.project_id, Acceptance, "验收记录"),
          lambda d: f"综合验收记录-{d.project_code}-{d.acceptance_id}.pdf"),
    Paper("change_filing", "变更备案表", change_filing,
          _project_owner(ChangeRequest.project_id, ChangeRequest, "变更申请"),
          lambda d: f"变更备案表-{d.project_code}-{d.change_id}.pdf"),
    Paper("payment_voucher", "付款审批单", payment_voucher,
          _project_owner(PaymentItem.project_id, PaymentItem, "付款事项"),
          lambda d: f"付款审批单-{d.project_code}-{d.payment_item_id}.pdf"),
    Paper("annual_report", "年度报告", annual_report, _year_owner(False),
          lambda d: f"{d.community}-{d.year}年度报告.pdf"),
    Paper("annual_disclosure", "年度公示", annual_disclosure, _year_owner(True),
          lambda d: f"{d.community}-{d.year}年度公示.pdf", public=True),
    Paper("inspection_pack", "定期检查材料", pack, _inspection_owner,
          lambda d: f"定期检查材料-{d.community}-{d.inspection_id}.pdf"),
)}
assert set(PAPERS) == set(documents.KINDS)


def paper(kind: str) -> Paper:
    found = PAPERS.get(kind)
    if found is None:
        raise Unavailable(f"没有“{kind}”这种文件")
    return found


def owner(session: Session, kind: str, object_id: int) -> Owner:
    return paper(kind).owner(session, object_id)


@dataclass(frozen=True)
class Printed:
    kind: str
    object_id: int
    content: bytes
    code: str
    filename: str
    doc: Any
    owner: Owner

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.content).hexdigest()


def render(session: Session, kind: str, object_id: int) -> Printed:
    """Assemble and draw one document (no writes: :func:`register` records its code)."""
    p = paper(kind)
    who = p.owner(session, object_id)
    doc = p.assemble(session, object_id)
    content, code = documents.pdf(doc, verify_url)
    return Printed(kind, object_id, content, code, p.filename(doc), doc, who)


def register(session: Session, kind: str, object_id: int, doc: Any, who: Owner, pdf_sha256: str | None = None) -> str:
    """Record a document's code (once) and mark the versions of the same document it replaces."""
    code = document_code(doc)
    subject = f"{kind}:{object_id}"
    row = session.get(DocumentCode, code)
    if row is None:
        try:
            with session.begin_nested():
                session.add(DocumentCode(
                    code=code, kind=kind, object_id=object_id, subject=subject, entity_type=who.entity_type,
                    entity_id=who.entity_id, community_id=who.community_id, title=_title(kind, doc)[:200],
                    public=who.public, data_sha256=data_sha256(doc), pdf_sha256=pdf_sha256, as_of=doc.issued_at,
                    issued_at=clock.now(), superseded_by=None, superseded_at=None))
        except IntegrityError:
            pass  # registered by a concurrent request: the same data, the same row
    elif pdf_sha256 and row.pdf_sha256 != pdf_sha256:
        row.pdf_sha256 = pdf_sha256
    session.execute(update(DocumentCode).where(DocumentCode.subject == subject, DocumentCode.code != code,
                                               DocumentCode.superseded_by.is_(None),
                                               DocumentCode.as_of <= doc.issued_at)
                    .values(superseded_by=code, superseded_at=doc.issued_at))
    return code


def _title(kind: str, doc: Any) -> str:
    label = documents.KINDS[kind].label
    if kind == "notice":
        return f"{doc.kind_label}:{doc.title}"
    if kind in ("annual_report", "annual_disclosure"):
        return f"{doc.community}{doc.year}年度{label}"
    if kind == "inspection_pack":
        return f"{label}:{doc.title}"
    return f"{label}:{doc.project_code} {doc.project_title if hasattr(doc, 'project_title') else doc.title}"


# ---------------------------------------------------------------------------------- verification


def facts(doc: Any) -> list[dict[str, str]]:
    """What a reader compares with the paper: the title, the record, the date, the key amount and period."""
    out: list[tuple[str, str]] = [("社区", doc.community)]
    if getattr(doc, "project_code", ""):
        out.append(("项目编号", doc.project_code))
    title = getattr(doc, "project_title", None) or getattr(doc, "title", None)
    if title:
        out.append(("名称", title))
    if hasattr(doc, "year"):
        out.append(("年度", f"{doc.year}"))
    for attr, label in (("amount_fen", "金额"), ("total_fen", "经费合计"), ("paid_fen", "已支付")):
        value = getattr(doc, attr, None)
        if isinstance(value, int):
            out.append((label, f"{format_yuan(value)} 元"))
    period = getattr(doc, "period", None) or getattr(doc, "notice", None)
    if isinstance(period, m.Period):
        out.append(("公示期", period_text(period.starts_at, period.ends_at, period.workdays, period.provisional)))
    out.append(("文件日期", cn_datetime(doc.issued_at)))
    return [{"label": k, "value": v} for k, v in out]


def _successor_notice(session: Session, n: Notice) -> int | None:
    """A later notice of the same kind about the same thing replaces an earlier one on the board."""
    return session.execute(select(Notice.id).where(
        Notice.kind == n.kind, Notice.id > n.id,
        Notice.project_id.is_(None) if n.project_id is None else Notice.project_id == n.project_id,
        Notice.fund_year_id.is_(None) if n.fund_year_id is None else Notice.fund_year_id == n.fund_year_id,
        Notice.payment_item_id.is_(None) if n.payment_item_id is None else Notice.payment_item_id == n.payment_item_id,
    ).order_by(Notice.id.desc()).limit(1)).scalar_one_or_none()


def verify(db: Database, text: str) -> dict[str, Any] | None:
    """What a code says about a paper copy: genuine or unknown (None), current or superseded (by which
    version, since when), and which record it belongs to. Brings the record's current version into the
    register when its data changed since the code was issued."""
    code = normalise(text)
    if code is None:
        return None
    with db.uow() as uow:
        s = uow.session
        row = s.get(DocumentCode, code)
        if row is None:
            return None
        current: Any = None
        if row.superseded_by is None:
            current_kind, current_id = row.kind, row.object_id
            if row.kind == "notice":
                n = s.get(Notice, row.object_id)
                nxt = _successor_notice(s, n) if n is not None else None
                if nxt is not None:
                    current_id = nxt
            try:
                p = paper(current_kind)
                current = p.assemble(s, current_id)
                newer = register(s, current_kind, current_id, current, p.owner(s, current_id))
                if newer != code and row.superseded_by is None:
                    row.superseded_by, row.superseded_at = newer, current.issued_at
            except Unavailable:
                current = None
        answer = _verdict(s, row, current if row.superseded_by is None else None)
        uow.commit()
    return answer


def _verdict(session: Session, row: DocumentCode, doc: Any) -> dict[str, Any]:
    community = _org_name(session, row.community_id)
    record: dict[str, Any] = {"entity_type": row.entity_type, "entity_id": row.entity_id}
    if row.entity_type == "project":
        code, title = session.execute(select(Project.code, Project.title).where(Project.id == row.entity_id)).one()
        record.update(project_code=code, title=public_text(title, aid_names(session, row.entity_id)))
    elif row.entity_type == "fund_year":
        year = session.execute(select(FundYear.year).where(FundYear.id == row.entity_id)).scalar_one_or_none()
        record.update(year=year)
    newer = session.get(DocumentCode, row.superseded_by) if row.superseded_by else None
    current = newer is None
    if current:
        message = (f"真实有效:这是 fundflow 出具的现行{documents.KINDS[row.kind].label},"
                   f"内容与系统记录一致(数据截至 {cn_datetime(row.as_of)})。请核对下列要点与纸面是否一致。")
    else:
        assert newer is not None
        message = (f"已失效:这是 fundflow 出具过的{documents.KINDS[row.kind].label},但记录已于 "
                   f"{cn_datetime(row.superseded_at)} 更新,现行版本的核验码为 {display(newer.code)}。")
    if current and isinstance(doc, m.NoticeDoc):
        ends = doc.period.ends_at
        message += (f"公示期已于 {cn_date(last_day(ends))} 24:00 结束。" if clock.now() >= ends
                    else f"公示期至 {cn_date(last_day(ends))} 24:00,正在进行。")
    links: dict[str, str] = {"self": f"{API}/public/verify/{row.code}"}
    if row.public:
        links["document"] = f"{API}/documents/{row.kind}/{row.object_id}"
        if row.kind == "notice":
            links["notice"] = f"{API}/public/notices/{row.object_id}"
    if newer is not None:
        links["current"] = f"{API}/public/verify/{newer.code}"
    doc_facts = facts(doc) if current and doc is not None else []
    if not row.public:
        doc_facts = [f for f in doc_facts if f["label"] in ("社区", "项目编号", "年度", "文件日期", "金额")]
    return {
        "code": display(row.code), "genuine": True, "current": current,
        "status": "current" if current else "superseded", "message": message,
        "kind": row.kind, "kind_label": documents.KINDS[row.kind].label, "title": row.title, "public": row.public,
        "community_id": row.community_id, "community_name": community, "record": record,
        "as_of": row.as_of.astimezone(clock.SHANGHAI),
        "issued_at": row.issued_at.astimezone(clock.SHANGHAI),
        "superseded_by": display(newer.code) if newer is not None else None,
        "superseded_at": row.superseded_at.astimezone(clock.SHANGHAI) if row.superseded_at else None,
        "pdf_sha256": row.pdf_sha256, "facts": doc_facts, "links": links,
    }


def register_notice(session: Session, notice_id: int) -> str:
    """Register a notice's code when it is posted (in the posting transaction), so that its online page can
    show the code before anyone prints it. Returns the code."""
    doc = notice(session, notice_id)
    return register(session, "notice", notice_id, doc, _notice_owner(session, notice_id))


def documents_of_notice(session: Session, notice_id: int) -> dict[str, Any]:
    """For the board's page of a notice: the download link of its PDF and its current verification code."""
    doc = notice(session, notice_id)
    code = document_code(doc)
    return {"notice_id": notice_id, "code": display(code), "verify_url": verify_url(code),
            "download": f"{API}/documents/notice/{notice_id}", "verify": f"{API}/public/verify/{code}"}


# ------------------------------------------------------------------------------------ the listings


def _ref(kind: str, object_id: int, title: str) -> dict[str, Any]:
    p = PAPERS[kind]
    return {"kind": kind, "kind_label": p.label, "object_id": object_id, "title": title, "public": p.public,
            "url": f"{API}/documents/{kind}/{object_id}"}


def project_documents(session: Session, project_id: int) -> list[dict[str, Any]]:
    """Every document of a project, in the order the steps happened."""
    p = _project(session, project_id)
    out = [_ref("application_form", p.id, f"使用申请审批表 {p.code}")]
    for mid, kind, held in session.execute(select(Meeting.id, Meeting.kind, Meeting.held_on)
                                           .where(Meeting.project_id == p.id, Meeting.kind.in_(("joint", "board")))
                                           .order_by(Meeting.id)):
        out.append(_ref("minutes" if kind == "joint" else "board_record", mid,
                        f"{'联席会议记录' if kind == 'joint' else '班子会议记录'} {cn_date(held)}"))
    for nid, kind, starts in session.execute(select(Notice.id, Notice.kind, Notice.starts_at)
                                             .where(Notice.project_id == p.id).order_by(Notice.id)):
        out.append(_ref("notice", nid, f"{kind_of(kind).label} {cn_date(starts)}"))
    for cid, created in session.execute(select(ChangeRequest.id, ChangeRequest.created_at)
                                        .where(ChangeRequest.project_id == p.id).order_by(ChangeRequest.id)):
        out.append(_ref("change_filing", cid, f"变更备案表 {cn_date(created)}"))
    for aid, created in session.execute(select(Acceptance.id, Acceptance.created_at)
                                        .where(Acceptance.project_id == p.id).order_by(Acceptance.id)):
        out.append(_ref("acceptance_record", aid, f"综合验收记录 {cn_date(created)}"))
    for iid, kind, amount in session.execute(select(PaymentItem.id, PaymentItem.kind, PaymentItem.amount_fen)
                                             .where(PaymentItem.project_id == p.id).order_by(PaymentItem.id)):
        out.append(_ref("payment_voucher", iid,
                        f"付款审批单({'发票' if kind == 'invoice' else '无发票'}){format_yuan(amount)} 元"))
    return out


def fund_year_documents(session: Session, fund_year_id: int) -> list[dict[str, Any]]:
    fy = _fund_year(session, fund_year_id)
    out = [_ref("annual_report", fy.id, f"{fy.year} 年度报告")]
    if fy.state in DISCLOSED:
        out.append(_ref("annual_disclosure", fy.id, f"{fy.year} 年度公示"))
    for nid, starts in session.execute(select(Notice.id, Notice.starts_at).where(Notice.fund_year_id == fy.id)
                                       .order_by(Notice.id)):
        out.append(_ref("notice", nid, f"年度公示(张贴稿){cn_date(starts)}"))
    return out

