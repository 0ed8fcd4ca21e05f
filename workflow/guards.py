"""Guards: the definitions' condition names, each loading plain data and asking a pure rule.

A guard never writes. Rules live in ``rules/``; this module only adapts rows to their inputs.
"""
from __future__ import annotations

from typing import Any

from sqlalchemy import bindparam, func, select

from rules import approval as r_approval
from rules import cap as r_cap
from rules import common as r_common
from rules import deadline as r_deadline
from rules import meeting as r_meeting
from rules import notice as r_notice
from rules import payment as r_payment
from rules import project as r_project
from rules import supervision as r_supervision
from rules import year as r_year
from rules.money import parse_yuan
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
    Notice,
    Objection,
    PaymentItem,
    Signature,
    SignOff,
    VoucherEvidence,
)
from workflow.engine import (
    Context,
    LineItemRow,
    ProjectFacts,
    guard,
    load_project_facts,
    open_deadline_due,
    posts_on,
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


@guard("objection_answerable")
def objection_answerable(ctx: Context) -> Verdict:
    obj = ctx.session.get(Objection, ctx.payload.objection_id)
    if obj is None or obj.project_id != ctx.row.id:
        return r_notice.check_objection_answerable(False, False)
    return r_notice.check_objection_answerable(True, bool(obj.resolved))


# ------------------------------------------------------------------------------------ supervision (Art. 14)


def _signed_stages(ctx: Context) -> list[str]:
    return [r[0] for r in ctx.session.execute(select(SignOff.stage).where(SignOff.project_id == ctx.row.id))]


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
    "write_off": ("close_settlement", "pay", "sign_invoice", "add_payment_item", "record_voucher_evidence"),
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
    return r_supervision.check_signed_off("acceptance", _signed_stages(ctx))


@guard("write_off_signed_off")
def write_off_signed_off(ctx: Context) -> Verdict:
    return r_supervision.check_signed_off("write_off", _signed_stages(ctx))


# -------------------------------------------------------------------------------------- approval (Art. 11)


def _round_approvals(ctx: Context) -> list[Approval]:
    approvals: list[Approval] = ctx.memo("approvals", lambda: list(ctx.session.execute(select(Approval).where(
        Approval.project_id == ctx.row.id, Approval.round == ctx.project.approval_round,
        Approval.decision == "approve")).scalars()))
    return approvals


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
    roles = {a.role for a in _round_approvals(ctx)} | {ctx.role}
    return OK if r_approval.both_leaders_approved(roles) else refuse("approval.pending_other", "尚待另一位主要领导审批", "第十一条")


@guard("other_leader_pending")
def other_leader_pending(ctx: Context) -> Verdict:
    roles = {a.role for a in _round_approvals(ctx)} | {ctx.role}
    return refuse("approval.complete", "两位主要领导均已审批", "第十一条") if r_approval.both_leaders_approved(roles) else OK


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
    rows = ctx.session.execute(select(Signature).where(Signature.payment_item_id == item_id).order_by(Signature.seq)).scalars()
    return [r_payment.SignatureData(seq=s.seq, role=s.role, person_id=s.person_id) for s in rows]


def _evidence(ctx: Context, item_id: int) -> list[str]:
    return [r[0] for r in ctx.session.execute(select(VoucherEvidence.kind).where(VoucherEvidence.payment_item_id == item_id))]


_NO_ITEM = r_payment.check_item_found(False)


@guard("payment_item_valid")
def payment_item_valid(ctx: Context) -> Verdict:
    p = ctx.payload
    v = r_payment.check_payment_item(p.kind, parse_yuan(p.amount), p.payee, p.invoice_no)
    if v.ok and p.kind == "voucher":
        v = r_payment.check_voucher_allowed(ctx.project.contractor_kind, ctx.project.is_aid)
    return v


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
