"""Guards: the definitions' condition names, each loading plain data and asking a pure rule.

A guard never writes. Rules live in ``rules/``; this module only adapts rows to their inputs.
"""
from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Table, bindparam, func, select

from rules import approval as r_approval
from rules import cap as r_cap
from rules import common as r_common
from rules import deadline as r_deadline
from rules import meeting as r_meeting
from rules import notice as r_notice
from rules import payment as r_payment
from rules import procurement as r_procurement
from rules import project as r_project
from rules import supervision as r_supervision
from rules import workflow as r_workflow
from rules import year as r_year
from rules.money import format_yuan, parse_yuan
from rules.verdict import OK, Verdict, refuse
from store.models import (
    Acceptance,
    Approval,
    AuditEvent,
    ChangeRequest,
    Concern,
    FollowUp,
    LineItem,
    Meeting,
    Need,
    Notice,
    Objection,
    PaymentItem,
    Project,
    Signature,
    SignOff,
    VoucherEvidence,
)
from workflow.context import (
    Context,
    LineItemRow,
    ProjectFacts,
    constraint,
    guard,
    load_project_facts,
    open_deadline_due,
    posts_on,
    state_rule,
)

# ------------------------------------------------------------------------------------- shared


def _figures(ctx: Context) -> r_cap.FundFigures:
    fy = ctx.fund_year
    return r_cap.FundFigures(allocation_fen=fy.allocation_fen, carry_in_fen=fy.carry_in_fen,
                             committed_fen=fy.committed_fen, paid_fen=fy.paid_fen,
                             small_group_committed_fen=fy.small_group_committed_fen,
                             carry_out_fen=fy.carry_out_fen or 0)


@guard("reason_given")
def reason_given(ctx: Context) -> Verdict:
    return r_common.check_reason_given(ctx.reason, ctx.workflow.article(ctx.trigger))


@guard("text_given")
def text_given(ctx: Context) -> Verdict:
    text = getattr(ctx.payload, "text", None) or getattr(ctx.payload, "notes", None) or ""
    return r_common.check_text_given(text, ctx.workflow.article(ctx.trigger))


@guard("deadline_reached", reads=("facts",))
def deadline_reached(ctx: Context) -> Verdict:
    timers = getattr(ctx.workflow.module, "TIMERS", {})
    spec = timers.get(ctx.from_state)
    if ctx.entity_type == "project":
        due = project_facts(ctx).due_at if spec else None
    else:
        due = ctx.memo("deadline_due", lambda: open_deadline_due(ctx.session, ctx.entity_type, ctx.row.id,
                                                                  spec["kind"]) if spec else None)
    return r_deadline.check_deadline_reached(ctx.now, due, ctx.workflow.article(ctx.trigger))


# ------------------------------------------------------------------------------ proposal (Art. 4, 8, 9)


# Statements on the hot path (every forward transition, every proposal check) are built once with bound
# parameters: building a select and its cache key on each call costs more CPU than running it.
# They select from the tables (plain rows, not ORM objects): guards only read.
_LI = LineItem.__table__
_LINE_ITEMS = select(*(_LI.c[name] for name in LineItemRow._fields)).where(
    _LI.c.project_id == bindparam("project_id")).order_by(_LI.c.id)
def project_facts(ctx: Context) -> ProjectFacts:
    """Open concerns, open objections, the current step deadline and the needs of a project: read with
    the row lock when the event has a guard marked ``reads=("facts",)`` (engine.lock_row), else once here."""
    facts: ProjectFacts = ctx.memo("facts", lambda: load_project_facts(ctx.session, ctx.row.id))
    return facts


def _line_items(ctx: Context) -> tuple[LineItemRow, ...]:
    """Read with the row lock when the event has a guard marked ``reads=("line_items",)``."""
    items: tuple[LineItemRow, ...] = ctx.memo("line_items", lambda: tuple(
        LineItemRow(*r) for r in ctx.session.execute(_LINE_ITEMS, {"project_id": ctx.row.id})))
    return items


def proposal_of(ctx: Context) -> r_project.Proposal:
    p = ctx.project
    needs = project_facts(ctx).need_ids
    items = tuple(r_project.LineItemData(description=i.description, quantity=i.quantity,
                                         unit_price_fen=i.unit_price_fen, amount_fen=i.amount_fen,
                                         catalog_item=i.catalog_item) for i in _line_items(ctx))
    return r_project.Proposal(
        title=p.title, description=p.description, category=p.category, justification=p.category_justification,
        amount_fen=p.amount_fen, beneficiaries_count=p.beneficiaries_count, beneficiaries_desc=p.beneficiaries_desc,
        contractor_name=p.contractor_name, contractor_kind=p.contractor_kind, is_aid=p.is_aid,
        planned_start=p.planned_start, planned_end=p.planned_end, line_items=items, need_ids=needs)


@guard("proposal_valid", reads=("facts", "line_items"))
def proposal_valid(ctx: Context) -> Verdict:
    return r_project.check_proposal(proposal_of(ctx))


@guard("catalog_items_valid", reads=("line_items",))
def catalog_items_valid(ctx: Context) -> Verdict:
    """Art. 12: each line item names an item of the procurement catalogue of the project's policy, by code."""
    return r_procurement.check_line_item_codes([(i.description, i.catalog_item) for i in _line_items(ctx)],
                                               ctx.policy.catalog_names())


@guard("forbidden_use_declared")
def forbidden_use_declared(ctx: Context) -> Verdict:
    return r_project.check_forbidden_declaration(ctx.project.forbidden_use_declaration or {})


@guard("keyword_flags_answered", reads=("line_items",))
def keyword_flags_answered(ctx: Context) -> Verdict:
    flagged = [(i.description, list(i.flagged_keywords or [])) for i in _line_items(ctx) if i.flagged_keywords]
    return r_project.check_flags_answered(flagged, ctx.project.keyword_flags_answer)


@guard("small_group_cap_warning")
def small_group_cap_warning(ctx: Context) -> Verdict:
    if not ctx.project.is_small_group:
        return OK
    return r_cap.check_small_group_cap(_figures(ctx), ctx.policy, ctx.project.amount_fen, "proposal")


@guard("small_group_cap")
def small_group_cap(ctx: Context) -> Verdict:
    if not ctx.project.is_small_group:
        return OK
    return r_cap.check_small_group_cap(_figures(ctx), ctx.policy, ctx.project.amount_fen, "approval")


@guard("budget_available")
def budget_available(ctx: Context) -> Verdict:
    return r_cap.check_budget(_figures(ctx), ctx.project.amount_fen)


# ------------------------------------------------------------------------------------ joint meeting


def _outcome(ctx: Context) -> str:
    m = ctx.payload
    return r_meeting.meeting_outcome(m.votes_for, m.votes_against, m.votes_abstain, ctx.policy)


@guard("meeting_valid")
def meeting_valid(ctx: Context) -> Verdict:
    m = ctx.payload
    attendees = [r_meeting.Attendee(name=a.name, capacity=a.capacity) for a in m.attendees]
    return r_meeting.check_joint_meeting(attendees, m.votes_for, m.votes_against, m.votes_abstain, m.minutes,
                                         ctx.policy)


@guard("meeting_passed")
def meeting_passed(ctx: Context) -> Verdict:
    return OK if _outcome(ctx) == "passed" else refuse("meeting.not_passed", "联席会议未通过", "第十条")


@guard("meeting_divided")
def meeting_divided(ctx: Context) -> Verdict:
    return OK if _outcome(ctx) == "divided" else refuse("meeting.not_divided", "联席会议无较大分歧", "第十条")


@guard("meeting_voted_down")
def meeting_voted_down(ctx: Context) -> Verdict:
    return OK if _outcome(ctx) == "voted_down" else refuse("meeting.not_voted_down", "联席会议未否决", "第十条")


# ------------------------------------------------------------------------------------ notice, objections


def current_notice(ctx: Context) -> Notice | None:
    kind = {"publicity": "publicity", "completion_publicity": "completion"}.get(ctx.from_state)
    if kind is None:
        return None
    return ctx.session.execute(select(Notice).where(Notice.project_id == ctx.row.id, Notice.kind == kind)
                               .order_by(Notice.id.desc()).limit(1)).scalar_one_or_none()




def _open_objections(ctx: Context) -> int:
    return int(project_facts(ctx).open_objections)


@guard("no_open_objection", reads=("facts",))
def no_open_objection(ctx: Context) -> Verdict:
    return r_notice.check_no_open_objection(_open_objections(ctx))


@guard("open_objection", reads=("facts",))
def open_objection(ctx: Context) -> Verdict:
    return OK if _open_objections(ctx) else refuse("notice.no_objection", "没有未解决的异议", "第十条")


@guard("notice_open")
def notice_open(ctx: Context) -> Verdict:
    notice = current_notice(ctx)
    if notice is None:
        return r_notice.check_notice_open(ctx.now, None, None)
    return r_notice.check_notice_open(ctx.now, notice.starts_at, notice.ends_at)


def objection_of(ctx: Context) -> Objection | None:
    """The objection the payload names, if it is one of this project's."""
    obj = ctx.session.get(Objection, ctx.payload.objection_id)
    return obj if obj is not None and obj.project_id == ctx.row.id else None


@guard("objection_answerable")
def objection_answerable(ctx: Context) -> Verdict:
    obj = objection_of(ctx)
    return r_notice.check_objection_answerable(obj is not None, bool(obj is not None and obj.resolved))


def _settleable(obj: Objection | None) -> Verdict:
    if obj is None:
        return r_notice.check_answer_settleable(False, False, False)
    return r_notice.check_answer_settleable(True, bool(obj.answer), bool(obj.resolved))


@guard("answer_confirmable")
def answer_confirmable(ctx: Context) -> Verdict:
    obj = objection_of(ctx)
    v = _settleable(obj)
    if not v.ok or obj is None:
        return v
    return r_notice.check_confirmer_not_answerer(ctx.actor_id, obj.answered_by)


@guard("answer_acceptable")
def answer_acceptable(ctx: Context) -> Verdict:
    import hmac

    from workflow.receipts import normalise

    obj = objection_of(ctx)
    matches = obj is not None and hmac.compare_digest(obj.receipt_code.encode(),
                                                      normalise(ctx.payload.receipt_code).encode())
    if not matches:
        return r_notice.check_receipt_matches(False)
    return _settleable(obj)


# ------------------------------------------------------------------------------------ supervision (Art. 14)


def _signed_stages(ctx: Context) -> list[str]:
    """The stages signed off and in force (a failed acceptance voids that round's acceptance sign-off)."""
    return [r[0] for r in ctx.session.execute(select(SignOff.stage).where(SignOff.project_id == ctx.row.id,
                                                                          SignOff.voided_at.is_(None)))]


def _voided_stages(ctx: Context) -> list[str]:
    return [r[0] for r in ctx.session.execute(select(SignOff.stage).where(SignOff.project_id == ctx.row.id,
                                                                          SignOff.voided_at.is_not(None)))]


@guard("no_open_concern", reads=("facts",))
def no_open_concern(ctx: Context) -> Verdict:
    if ctx.entity_type != "project":
        return OK
    return r_supervision.check_no_open_concern(int(project_facts(ctx).open_concerns))


@guard("signoff_stage_valid")
def signoff_stage_valid(ctx: Context) -> Verdict:
    return r_supervision.check_signoff_stage(ctx.payload.stage, ctx.from_state, _signed_stages(ctx))


STAGE_EVENTS = {
    "declaration": ("create", "submit_preliminary", "record_meeting", "answer_objection", "submit"),
    "acceptance": ("accept", "fail_acceptance", "report_completion"),
    "write_off": ("close_settlement", "pay", "sign_invoice", "add_payment_item", "record_voucher_evidence",
                  "cancel_payment_item"),
}


@guard("supervisor_not_performer")
def supervisor_not_performer(ctx: Context) -> Verdict:
    events = STAGE_EVENTS.get(ctx.payload.stage, ())
    performers = {r[0] for r in ctx.session.execute(select(AuditEvent.actor_id).where(
        AuditEvent.entity_type == "project", AuditEvent.entity_id == ctx.row.id, AuditEvent.event.in_(events),
        AuditEvent.actor_id.is_not(None)))}
    if ctx.payload.stage == "acceptance":
        for team in ctx.session.execute(select(Acceptance.team).where(Acceptance.project_id == ctx.row.id)).scalars():
            performers.update(int(m["person_id"]) for m in team if m.get("role") != "supervisor")
    return r_supervision.check_supervisor_not_performer(ctx.actor_id, performers)


@guard("concern_resolvable")
def concern_resolvable(ctx: Context) -> Verdict:
    c = ctx.session.get(Concern, ctx.payload.concern_id)
    if c is None or c.project_id != ctx.row.id:
        return r_supervision.check_concern_resolvable(False, False)
    return r_supervision.check_concern_resolvable(True, c.resolved_at is not None)


@guard("declaration_signed_off")
def declaration_signed_off(ctx: Context) -> Verdict:
    return r_supervision.check_signed_off("declaration", _signed_stages(ctx))


@guard("acceptance_signed_off")
def acceptance_signed_off(ctx: Context) -> Verdict:
    return r_supervision.check_signed_off("acceptance", _signed_stages(ctx), _voided_stages(ctx))


@guard("write_off_signed_off")
def write_off_signed_off(ctx: Context) -> Verdict:
    return r_supervision.check_signed_off("write_off", _signed_stages(ctx))


# -------------------------------------------------------------------------------------- approval (Art. 11)


def _round_approvals(ctx: Context, decision: str = "approve") -> list[Approval]:
    """The main leaders' decisions of this approval round: approvals, or votes to terminate (issue 11).

    A vote to terminate counts only until the project is reported complete: it was about the unfinished
    project (the rows stay as they were written; the audit checks compare them with their events)."""
    def load() -> list[Approval]:
        stmt = select(Approval).where(Approval.project_id == ctx.row.id, Approval.round == ctx.project.approval_round,
                                      Approval.decision == decision)
        if decision == "terminate" and (since := last_completion_report(ctx)) is not None:
            stmt = stmt.where(Approval.at > since)
        return list(ctx.session.execute(stmt.order_by(Approval.id)).scalars())
    approvals: list[Approval] = ctx.memo(f"approvals:{decision}", load)
    return approvals


def termination_votes(ctx: Context) -> list[Approval]:
    """The main leaders' votes to terminate that still count (see ``_round_approvals``)."""
    return _round_approvals(ctx, "terminate")


def last_completion_report(ctx: Context) -> Any:
    """When the project was last reported complete (None: never)."""
    return ctx.session.execute(select(func.max(AuditEvent.at)).where(
        AuditEvent.entity_type == "project", AuditEvent.entity_id == ctx.row.id,
        AuditEvent.event == "report_completion")).scalar_one()


def _both_leaders_with_me(ctx: Context, decision: str) -> bool:
    return r_approval.both_leaders_approved({a.role for a in _round_approvals(ctx, decision)} | {ctx.role})


@guard("board_meeting_recorded")
def board_meeting_recorded(ctx: Context) -> Verdict:
    recorded = ctx.session.execute(select(func.count()).select_from(Meeting).where(
        Meeting.project_id == ctx.row.id, Meeting.kind == "board",
        Meeting.created_at >= (ctx.project.received_at or ctx.now))).scalar_one()
    return r_approval.check_board_meeting_recorded(bool(recorded))


@guard("board_meeting_valid")
def board_meeting_valid(ctx: Context) -> Verdict:
    return r_meeting.check_board_meeting(len(ctx.payload.attendees), ctx.payload.minutes)


@guard("not_proposer")
def not_proposer(ctx: Context) -> Verdict:
    return r_approval.check_not_proposer(ctx.actor_id, ctx.project.proposer_id)


@guard("not_yet_approved_by_me")
def not_yet_approved_by_me(ctx: Context) -> Verdict:
    approvals = _round_approvals(ctx)
    return r_approval.check_not_already_decided(ctx.role, [a.role for a in approvals], ctx.actor_id,
                                                [a.person_id for a in approvals])


@guard("other_leader_approved")
def other_leader_approved(ctx: Context) -> Verdict:
    return OK if _both_leaders_with_me(ctx, "approve") else refuse("approval.pending_other", "尚待另一位主要领导审批",
                                                                   "第十一条")


@guard("other_leader_pending")
def other_leader_pending(ctx: Context) -> Verdict:
    return refuse("approval.complete", "两位主要领导均已审批", "第十一条") if _both_leaders_with_me(ctx, "approve") else OK


# ---------------------------------------------------------------------------------------- change


CHANGE_FIELDS = ("description", "contractor_name", "contractor_kind", "planned_start", "planned_end",
                 "beneficiaries_count")


def change_after(ctx: Context) -> tuple[dict[str, Any], dict[str, Any]]:
    p = ctx.project
    wanted = ctx.payload.changes.model_dump(exclude_none=True)
    before: dict[str, Any] = {}
    after: dict[str, Any] = {}
    if "amount" in wanted:
        before["amount_fen"], after["amount_fen"] = p.amount_fen, parse_yuan(wanted.pop("amount"))
    for key, value in wanted.items():
        before[key] = getattr(p, key)
        after[key] = value
    return before, after


@guard("change_valid")
def change_valid(ctx: Context) -> Verdict:
    before, after = change_after(ctx)
    return r_approval.check_change(before, after, ctx.reason)


def _pending_change(ctx: Context) -> ChangeRequest | None:
    return ctx.session.execute(select(ChangeRequest).where(
        ChangeRequest.project_id == ctx.row.id, ChangeRequest.status == "pending")
        .order_by(ChangeRequest.id.desc()).limit(1)).scalar_one_or_none()


def _change_increase(ctx: Context) -> tuple[int, bool]:
    """(amount increase in fen, whether the project is small-group after the change)."""
    cr = _pending_change(ctx)
    p = ctx.project
    if cr is None:
        return 0, p.is_small_group
    increase = int(cr.after.get("amount_fen", p.amount_fen)) - p.amount_fen
    beneficiaries = int(cr.after.get("beneficiaries_count", p.beneficiaries_count))
    small = r_project.is_small_group(beneficiaries, ctx.policy.small_group_threshold, p.small_group_marked)
    return increase, small


@guard("change_within_cap")
def change_within_cap(ctx: Context) -> Verdict:
    increase, small = _change_increase(ctx)
    if not small:
        return OK
    # a project that becomes small-group by the change brings its whole amount under the cap
    extra = increase if ctx.project.is_small_group else ctx.project.amount_fen + increase
    return r_cap.check_small_group_cap(_figures(ctx), ctx.policy, max(extra, 0), "change")


@guard("change_within_budget")
def change_within_budget(ctx: Context) -> Verdict:
    increase, _ = _change_increase(ctx)
    return r_cap.check_budget(_figures(ctx), max(increase, 0))


# ------------------------------------------------------------------------------- follow-up and acceptance


@guard("followup_recorded")
def followup_recorded(ctx: Context) -> Verdict:
    n = ctx.session.execute(select(func.count()).select_from(FollowUp).where(FollowUp.project_id == ctx.row.id)).scalar_one()
    return r_supervision.check_followup_recorded(int(n))


def acceptance_team(ctx: Context) -> list[dict[str, Any]]:
    """The team as [{"person_id", "role"}], each member's role taken from the posts held today."""
    def load() -> list[dict[str, Any]]:
        members = []
        area, community = ctx.orgs.get("area"), ctx.orgs.get("community")
        for pid in dict.fromkeys(ctx.payload.team):
            roles = [p.role for p in posts_on(ctx.session, pid, ctx.today)
                     if (p.organisation_id == area and p.role in ("working_member", "working_secretary"))
                     or (p.organisation_id == community and p.role == "supervisor")]
            members.append({"person_id": pid, "role": roles[0] if roles else ""})
        return members
    return ctx.memo("team", load)  # type: ignore[no-any-return]


@guard("acceptance_team_valid")
def acceptance_team_valid(ctx: Context) -> Verdict:
    return r_supervision.check_acceptance_team([m["role"] for m in acceptance_team(ctx)])


@guard("acceptance_valid")
def acceptance_valid(ctx: Context) -> Verdict:
    team = acceptance_team_valid(ctx)
    if not team.ok:
        return team
    return r_supervision.check_acceptance(ctx.payload.quality, ctx.payload.satisfaction)


@guard("catalog_items_named", reads=("line_items",))
def catalog_items_named(ctx: Context) -> Verdict:
    return r_supervision.check_catalog_items([(i.description, i.catalog_item) for i in _line_items(ctx)])


# ------------------------------------------------------------------------------------- payment (Art. 13)


def _item(ctx: Context) -> PaymentItem | None:
    item = ctx.session.get(PaymentItem, ctx.payload.payment_item_id)
    return item if item is not None and item.project_id == ctx.row.id else None


def _signatures(ctx: Context, item_id: int) -> list[r_payment.SignatureData]:
    rows = ctx.session.execute(select(Signature).where(Signature.payment_item_id == item_id,
                                                      Signature.lapsed_at.is_(None)).order_by(Signature.seq)).scalars()
    return [r_payment.SignatureData(seq=s.seq, role=s.role, person_id=s.person_id) for s in rows]


def _evidence(ctx: Context, item_id: int) -> list[str]:
    return [r[0] for r in ctx.session.execute(select(VoucherEvidence.kind).where(VoucherEvidence.payment_item_id == item_id))]


_NO_ITEM = r_payment.check_item_found(False)


@guard("payment_item_valid")
def payment_item_valid(ctx: Context) -> Verdict:
    p = ctx.payload
    v = r_payment.check_payment_item(p.kind, parse_yuan(p.amount), p.payee, p.invoice_no, p.issuer_tax_id)
    if v.ok and p.kind == "voucher":
        v = r_payment.check_voucher_allowed(ctx.project.contractor_kind, ctx.project.is_aid)
    return v


@guard("payee_is_contractor")
def payee_is_contractor(ctx: Context) -> Verdict:
    """The project row holds the contractor as approved, or as changed by an approved change request."""
    p = ctx.project
    return r_payment.check_payee(ctx.payload.kind, ctx.payload.payee, p.contractor_name, p.contractor_kind, p.is_aid)


_PI: Table = PaymentItem.__table__  # type: ignore[assignment]
_PR: Table = Project.__table__  # type: ignore[assignment]
_SAME_INVOICE = (select(_PI.c.issuer_tax_id, _PR.c.code, _PI.c.status).join(_PR, _PR.c.id == _PI.c.project_id)
                 .where(_PI.c.invoice_no_norm == bindparam("number"), _PI.c.status != "cancelled")
                 .order_by(_PI.c.id))


def invoice_lock_key(number: str) -> int:
    """The PostgreSQL advisory lock of one normalised invoice number (a signed 64-bit key)."""
    digest = hashlib.sha256(f"fundflow:invoice:{number}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


@guard("invoice_unique")
def invoice_unique(ctx: Context) -> Verdict:
    """One invoice is paid once in the whole city. On PostgreSQL the number is locked for the rest of the
    transaction first, so that two requests with the same invoice — on any projects — are decided one after
    the other, the second seeing the first; the unique index ``uq_payment_items_invoice`` holds it as well."""
    p = ctx.payload
    if p.kind != "invoice":
        return OK
    number = r_payment.normalise_invoice_no(p.invoice_no)
    if ctx.session.get_bind().dialect.name == "postgresql":
        ctx.session.execute(select(func.pg_advisory_xact_lock(invoice_lock_key(number))))
    registered = [r_payment.RegisteredInvoice(issuer_tax_id=issuer or "", project_code=code, paid=status == "paid")
                  for issuer, code, status in ctx.session.execute(_SAME_INVOICE, {"number": number})]
    return r_payment.check_invoice_unique(p.invoice_no, p.issuer_tax_id, registered)


@constraint("uq_payment_items_invoice")
def invoice_taken(ctx: Context) -> Verdict:
    """What the unique index refused: the same invoice registered by a request the guard did not see."""
    p = ctx.payload
    taken = r_payment.RegisteredInvoice(issuer_tax_id=r_payment.normalise_tax_id(p.issuer_tax_id), project_code="",
                                        paid=None)
    return r_payment.check_invoice_unique(p.invoice_no, p.issuer_tax_id, [taken])


@guard("payment_item_cancellable")
def payment_item_cancellable(ctx: Context) -> Verdict:
    item = _item(ctx)
    if item is None:
        return _NO_ITEM
    return r_payment.check_item_cancellable(item.status)


def _open_items_total(ctx: Context) -> int:
    return int(ctx.session.execute(select(func.coalesce(func.sum(PaymentItem.amount_fen), 0)).where(
        PaymentItem.project_id == ctx.row.id, PaymentItem.status == "open")).scalar_one())


@guard("payment_within_approved")
def payment_within_approved(ctx: Context) -> Verdict:
    p = ctx.project
    if ctx.trigger == "add_payment_item":
        # items already listed count against the approved amount, so that no set of items can overpay
        return r_cap.check_paid_within_approved(p.amount_fen, p.paid_fen + _open_items_total(ctx),
                                                parse_yuan(ctx.payload.amount))
    item = _item(ctx)
    if item is None:
        return _NO_ITEM
    return r_cap.check_paid_within_approved(p.amount_fen, p.paid_fen, item.amount_fen)


@guard("invoice_signature_valid")
def invoice_signature_valid(ctx: Context) -> Verdict:
    item = _item(ctx)
    if item is None:
        return _NO_ITEM
    signable = r_payment.check_item_signable(item.kind, item.status)
    if not signable.ok:
        return signable
    return r_payment.check_invoice_signature(_signatures(ctx, item.id), ctx.role, ctx.actor_id, ctx.post is not None)


@guard("voucher_evidence_valid")
def voucher_evidence_valid(ctx: Context) -> Verdict:
    item = _item(ctx)
    if item is None:
        return _NO_ITEM
    have = _evidence(ctx, item.id) if item.kind == "voucher" else []
    return r_payment.check_voucher_evidence(item.kind, item.status, ctx.payload.kind, have)


@guard("payment_ready")
def payment_ready(ctx: Context) -> Verdict:
    item = _item(ctx)
    if item is None:
        return _NO_ITEM
    unpaid = r_payment.check_item_unpaid(item.status)
    if not unpaid.ok:
        return unpaid
    if item.kind == "invoice":
        return r_payment.check_invoice_ready_for_payment(_signatures(ctx, item.id))
    v = r_payment.check_voucher_allowed(ctx.project.contractor_kind, ctx.project.is_aid)
    return v if not v.ok else r_payment.check_voucher_ready_for_payment(_evidence(ctx, item.id))


@guard("payer_not_signer")
def payer_not_signer(ctx: Context) -> Verdict:
    item = _item(ctx)
    if item is None:
        return _NO_ITEM
    return r_payment.check_payer_not_signer(ctx.actor_id, [s.person_id for s in _signatures(ctx, item.id)])


@guard("small_group_cap_at_payment")
def small_group_cap_at_payment(ctx: Context) -> Verdict:
    if not ctx.project.is_small_group:
        return OK
    return r_cap.check_small_group_cap(_figures(ctx), ctx.policy, 0, "payment")


@guard("all_items_paid")
def all_items_paid(ctx: Context) -> Verdict:
    items = list(ctx.session.execute(select(PaymentItem).where(PaymentItem.project_id == ctx.row.id,
                                                               PaymentItem.status != "cancelled")).scalars())
    v = r_payment.check_all_items_paid([i.status for i in items])
    if not v.ok:
        return v
    for i in items:
        if i.kind == "voucher":
            v = r_payment.check_voucher_complete(_evidence(ctx, i.id))
            if not v.ok:
                return v
    return OK


# ---------------------------------------------------------------------------------------- fund year


@guard("report_valid")
def report_valid(ctx: Context) -> Verdict:
    return r_year.check_report(ctx.payload.summary)


@guard("year_ended")
def year_ended(ctx: Context) -> Verdict:
    return r_year.check_year_ended(ctx.row.year, ctx.today)


def _evaluated_at(ctx: Context) -> str | None:
    value = (ctx.row.report or {}).get("evaluated_at")
    return str(value) if value else None


@guard("not_yet_evaluated")
def not_yet_evaluated(ctx: Context) -> Verdict:
    return r_year.check_not_yet_evaluated(_evaluated_at(ctx))


@guard("year_evaluated")
def year_evaluated(ctx: Context) -> Verdict:
    return r_year.check_year_evaluated(ctx.row.year, _evaluated_at(ctx))



# ------------------------------------------------------------------ editing a draft (Art. 9–10, issue 11)

#: what an edit may change, as project attributes (amount, line items and needs are handled apart)
EDIT_FIELDS = ("title", "description", "category", "category_justification", "beneficiaries_count",
               "beneficiaries_desc", "small_group_marked", "contractor_name", "contractor_kind", "is_aid",
               "planned_start", "planned_end", "forbidden_use_declaration", "keyword_flags_answer")


@dataclass(frozen=True)
class NewLineItem:
    description: str
    quantity: int
    unit_price_fen: int
    catalog_item: str
    flagged_keywords: list[str]

    @property
    def amount_fen(self) -> int:
        return self.quantity * self.unit_price_fen


@dataclass(frozen=True)
class EditPlan:
    """An edit worked out against the project as locked: what changes (before/after, as the audit shows
    them), the values to write, and the proposal as it would be after the edit."""

    before: dict[str, Any]
    after: dict[str, Any]
    values: dict[str, Any]
    """Project attribute → new value, for the changed fields (including ``amount_fen``)."""
    line_items: tuple[NewLineItem, ...] | None
    """The replacement line items (keyword flags recomputed), or None when they are kept."""
    need_ids: tuple[int, ...] | None
    proposal: r_project.Proposal
    small_group: bool
    flagged: list[tuple[str, list[str]]]
    flags_answer: str


def _shown(value: Any) -> Any:
    return value.isoformat() if isinstance(value, dt.date) else value


def _items_shown(items: Any) -> list[dict[str, Any]]:
    return [{"description": i.description, "quantity": i.quantity, "unit_price": format_yuan(i.unit_price_fen),
             "amount": format_yuan(i.amount_fen), "catalog_item": i.catalog_item} for i in items]


def edit_plan(ctx: Context) -> EditPlan:
    def work() -> EditPlan:
        p, given = ctx.project, ctx.payload.model_dump(exclude_unset=True)
        before: dict[str, Any] = {}
        after: dict[str, Any] = {}
        values: dict[str, Any] = {}
        for name in EDIT_FIELDS:
            if name in given and given[name] != getattr(p, name):
                before[name], after[name] = _shown(getattr(p, name)), _shown(given[name])
                values[name] = given[name]
        if "amount" in given and parse_yuan(given["amount"]) != p.amount_fen:
            values["amount_fen"] = parse_yuan(given["amount"])
            before["amount"], after["amount"] = format_yuan(p.amount_fen), format_yuan(values["amount_fen"])
        current = _line_items(ctx)
        items: tuple[NewLineItem, ...] | None = None
        if "line_items" in given:
            words = ctx.policy.forbidden_keywords
            wanted = tuple(NewLineItem(i.description, i.quantity, parse_yuan(i.unit_price), i.catalog_item,
                                       r_project.screen_line_item(i.description, words))
                           for i in ctx.payload.line_items)
            if _items_shown(wanted) != _items_shown(current):
                items = wanted
                before["line_items"], after["line_items"] = _items_shown(current), _items_shown(wanted)
        needs: tuple[int, ...] | None = None
        now_needs = project_facts(ctx).need_ids
        if "need_ids" in given and tuple(sorted(set(given["need_ids"]))) != now_needs:
            needs = tuple(sorted(set(given["need_ids"])))
            before["need_ids"], after["need_ids"] = list(now_needs), list(needs)
        merged = {**{name: getattr(p, name) for name in EDIT_FIELDS}, "amount_fen": p.amount_fen, **values}
        shown_items = items if items is not None else current
        proposal = r_project.Proposal(
            title=merged["title"], description=merged["description"], category=merged["category"],
            justification=merged["category_justification"], amount_fen=merged["amount_fen"],
            beneficiaries_count=merged["beneficiaries_count"], beneficiaries_desc=merged["beneficiaries_desc"],
            contractor_name=merged["contractor_name"], contractor_kind=merged["contractor_kind"],
            is_aid=merged["is_aid"], planned_start=merged["planned_start"], planned_end=merged["planned_end"],
            line_items=tuple(r_project.LineItemData(description=i.description, quantity=i.quantity,
                                                    unit_price_fen=i.unit_price_fen, amount_fen=i.amount_fen,
                                                    catalog_item=i.catalog_item) for i in shown_items),
            need_ids=needs if needs is not None else now_needs)
        small = r_project.is_small_group(merged["beneficiaries_count"], ctx.policy.small_group_threshold,
                                         merged["small_group_marked"])
        if small != p.is_small_group:
            before["is_small_group"], after["is_small_group"] = p.is_small_group, small
        flagged = [(i.description, list(i.flagged_keywords)) for i in shown_items if i.flagged_keywords]
        return EditPlan(before=before, after=after, values=values, line_items=items, need_ids=needs,
                        proposal=proposal, small_group=small, flagged=flagged,
                        flags_answer=merged["keyword_flags_answer"])
    plan: EditPlan = ctx.memo("edit_plan", work)
    return plan


@guard("edit_valid", reads=("facts", "line_items"))
def edit_valid(ctx: Context) -> Verdict:
    plan = edit_plan(ctx)
    if not (v := r_project.check_edit_changes(plan.after)).ok:
        return v
    for nid in plan.need_ids or ():
        need = ctx.session.get(Need, nid)
        if not (v := r_workflow.check_need_of_community(nid, need.community_id if need is not None else None,
                                                        ctx.row.community_id)).ok:
            return v
    if not (v := r_project.check_proposal(plan.proposal)).ok:
        return v
    # as at creation: an unanswered keyword flag is a warning here, a refusal at submission
    return r_project.flags_warning(plan.flagged, plan.flags_answer)


@guard("edit_cap_warning")
def edit_cap_warning(ctx: Context) -> Verdict:
    plan = edit_plan(ctx)
    if not plan.small_group:
        return OK
    return r_cap.check_small_group_cap(_figures(ctx), ctx.policy, plan.proposal.amount_fen, "proposal")


@state_rule("project", "edit")
def plan_frozen(state: str, state_label: str) -> Verdict:
    return r_project.check_plan_editable(state, state_label)


# ------------------------------------------------------------------ keyword flags (Art. 4, issue 11)


@guard("flag_decidable")
def flag_decidable(ctx: Context) -> Verdict:
    item = ctx.session.get(LineItem, ctx.payload.line_item_id)
    found = item is not None and item.project_id == ctx.row.id
    words = list(item.flagged_keywords or []) if item is not None and found else []
    return r_project.check_flag_decision(found, words, ctx.payload.decision, ctx.payload.note)


@guard("keyword_flags_decided", reads=("line_items",))
def keyword_flags_decided(ctx: Context) -> Verdict:
    return r_project.check_flags_decided([(i.description, list(i.flagged_keywords or []), i.flag_decision)
                                          for i in _line_items(ctx)])


# ------------------------------------------------------------------ termination (Art. 11, issue 11)


@guard("not_yet_terminated_by_me")
def not_yet_terminated_by_me(ctx: Context) -> Verdict:
    votes = termination_votes(ctx)
    return r_approval.check_termination_vote(ctx.role, [v.role for v in votes], ctx.actor_id,
                                             [v.person_id for v in votes])


@guard("other_leader_terminated")
def other_leader_terminated(ctx: Context) -> Verdict:
    return OK if _both_leaders_with_me(ctx, "terminate") else refuse(
        "termination.pending_other", "尚待另一位主要领导决定", "第十一条")


@guard("other_leader_termination_pending")
def other_leader_termination_pending(ctx: Context) -> Verdict:
    return refuse("termination.complete", "两位主要领导均已同意终止", "第十一条") if _both_leaders_with_me(
        ctx, "terminate") else OK


@guard("paid_vouchers_noticed")
def paid_vouchers_noticed(ctx: Context) -> Verdict:
    """A no-invoice payment already made keeps its duty of a public notice after payment (Art. 13): it is
    recorded before the project ends."""
    paid = ctx.session.execute(select(PaymentItem.id).where(PaymentItem.project_id == ctx.row.id,
                                                            PaymentItem.kind == "voucher",
                                                            PaymentItem.status == "paid")).scalars()
    for item_id in paid:
        if not (v := r_payment.check_voucher_complete(_evidence(ctx, item_id))).ok:
            return v
    return OK
