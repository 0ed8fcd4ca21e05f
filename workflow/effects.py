"""Effects: what an event writes besides the state, run by the engine after the guards agreed.

Each effect runs inside the engine's transaction and records what it made in ``ctx.produced``,
which goes into the audit event and the response. No effect commits.
"""
from __future__ import annotations

import datetime as dt
from typing import Any, cast

from sqlalchemy import CursorResult, Table, bindparam, delete, select, update

from rules import payment as r_payment
from rules import project as r_project
from rules.money import format_yuan, parse_yuan
from rules.privacy import mask_text
from store.documents import archive
from store.models import (
    Acceptance,
    Approval,
    ChangeRequest,
    Concern,
    Deadline,
    FollowUp,
    LedgerEntry,
    LineItem,
    Meeting,
    Notice,
    Objection,
    Organisation,
    Payment,
    PaymentItem,
    ProjectNeed,
    Signature,
    SignOff,
    VoucherEvidence,
)
from workflow import clock
from workflow.context import Context, Outcome, effect, precheck
from workflow.guards import acceptance_team, change_after, current_notice, objection_of
from workflow.records import render_notice, render_record


def _community_name(ctx: Context) -> str:
    return str(ctx.session.execute(select(Organisation.name).where(Organisation.id == ctx.row.community_id)).scalar_one())


def _aid_names(ctx: Context) -> list[str]:
    """Full names that must never appear in public (workflow.public): of this project, or of the fund
    year's projects for a year's notice (its project list and service effect)."""
    from workflow.public import private_names

    if ctx.entity_type == "fund_year":
        return private_names(ctx.session, fund_year_id=ctx.row.id)
    return private_names(ctx.session, [ctx.row.id])


def _fmt_local(instant: dt.datetime) -> str:
    return f"{instant.astimezone(clock.SHANGHAI):%Y-%m-%d %H:%M}"


def _post_notice(ctx: Context, kind: str, title: str, template: str, values: dict[str, Any], ends_at: dt.datetime,
                 provisional: bool = False, payment_item_id: int | None = None) -> Notice:
    body = render_notice(template, starts=_fmt_local(ctx.now), ends=_fmt_local(ends_at), **values)
    names = _aid_names(ctx)
    body = mask_text(body, names)
    notice = Notice(community_id=ctx.row.community_id, kind=kind, title=mask_text(title, names), body=body,
                    starts_at=ctx.now, ends_at=ends_at, provisional=provisional,
                    project_id=ctx.row.id if ctx.entity_type == "project" else None,
                    fund_year_id=ctx.row.id if ctx.entity_type == "fund_year" else None,
                    payment_item_id=payment_item_id)
    ctx.session.add(notice)
    ctx.session.flush()
    archive(ctx.session, body.encode("utf-8"), "text/plain; charset=utf-8", f"notice-{notice.id}.txt", ctx.now,
            ctx.entity_type, ctx.row.id, f"notice_{kind}")
    ctx.produced["notice_id"] = notice.id
    # the printed notice's verification code, known from the moment it is posted (issue 10)
    from workflow.papers import register_notice

    register_notice(ctx.session, notice.id)
    return notice


def _deadline_for(ctx: Context, kind: str) -> Deadline:
    """The deadline the engine sets on entering the new state (computed here so the notice matches)."""
    from workflow.context import compute_due

    spec = {"publicity": "publicity_workdays", "completion_publicity": "completion_publicity_workdays",
            "disclosure": "disclosure_workdays", "termination": "termination_publicity_workdays"}[kind]
    workdays = int(getattr(ctx.policy, spec))
    due, provisional = compute_due(ctx.session, ctx.today, workdays)
    return Deadline(due_at=due, provisional=provisional, workdays=workdays)


# ---------------------------------------------------------------------------------------- ledger


def ledger(ctx: Context, kind: str, amount_fen: int, memo: str = "", document: str | None = None,
           project_id: int | None = None, fund_year_id: int | None = None) -> None:
    if amount_fen == 0:
        return
    ctx.session.add(LedgerEntry(fund_year_id=fund_year_id or ctx.fund_year.id, project_id=project_id,
                                kind=kind, amount_fen=amount_fen, memo=memo[:200], document_sha256=document,
                                created_at=ctx.now))


def _commit(ctx: Context, amount: int, small: bool) -> None:
    fy, p = ctx.fund_year, ctx.project
    fy.committed_fen += amount
    if small:
        fy.small_group_committed_fen += amount
    p.committed_fen += amount


def _release(ctx: Context, amount: int, memo: str, document: str | None = None) -> None:
    """The unpaid part of a project's commitment goes back to the fund year (settlement, termination);
    the ledger's release entry points at ``document`` (by default the settlement record)."""
    if amount <= 0:
        return
    fy, p = ctx.fund_year, ctx.project
    fy.committed_fen -= amount
    if p.is_small_group:
        fy.small_group_committed_fen -= amount
    p.committed_fen -= amount
    p.released_fen += amount
    carried = fy.state == "closed"
    doc = document or archive(ctx.session, render_record(
        "settlement", code=p.code, title=p.title, approved=format_yuan(p.amount_fen), paid=format_yuan(p.paid_fen),
        released=format_yuan(amount), carried=carried, at=_fmt_local(ctx.now)).encode("utf-8"),
        "text/plain; charset=utf-8", f"settlement-{p.code}.txt", ctx.now, "project", p.id, "settlement")
    ledger(ctx, "release", amount, memo, document=doc, project_id=p.id)
    if carried:
        # the year has already carried its balance forward: what a late settlement frees goes the same way
        from workflow.fund_years import carry_forward

        carry_forward(ctx.session, fy, amount, ctx.now, f"{p.code} 结余(年度结转后释放)")
        ctx.produced["carried_forward"] = format_yuan(amount)


# ---------------------------------------------------------------------------------------- project


@effect("project", "record_meeting")
def record_meeting(ctx: Context, from_state: str, to_state: str) -> None:
    m = ctx.payload
    outcome = {"publicity": "passed", "shelved": "divided", "draft": "voted_down"}[to_state]
    meeting = Meeting(project_id=ctx.row.id, kind="joint", held_on=m.held_on,
                      attendees=[a.model_dump() for a in m.attendees], votes_for=m.votes_for,
                      votes_against=m.votes_against, votes_abstain=m.votes_abstain, outcome=outcome,
                      minutes=m.minutes, recorded_by=ctx.actor_id, created_at=ctx.now)
    ctx.session.add(meeting)
    ctx.session.flush()
    ctx.produced.update(meeting_id=meeting.id, outcome=outcome)
    archive(ctx.session, m.minutes.encode("utf-8"), "text/plain; charset=utf-8", f"minutes-{meeting.id}.txt", ctx.now,
            "project", ctx.row.id, "minutes")
    if to_state != "publicity":
        return
    p = ctx.project
    dl = _deadline_for(ctx, "publicity")
    contractor = p.contractor_name if p.contractor_kind == "organisation" else "个人承办"
    values = dict(community=_community_name(ctx), code=p.code, title=p.title,
                  category=r_project.CATEGORIES.get(p.category, p.category), description=p.description,
                  amount=format_yuan(p.amount_fen), beneficiaries_count=p.beneficiaries_count,
                  beneficiaries_desc=p.beneficiaries_desc or "—", contractor=contractor or "—",
                  held_on=m.held_on.isoformat(), votes_for=m.votes_for, votes_against=m.votes_against,
                  votes_abstain=m.votes_abstain, workdays=dl.workdays, provisional=dl.provisional)
    _post_notice(ctx, "publicity", f"项目公示:{p.title}", "publicity", values, dl.due_at, dl.provisional)


@effect("project", "submit")
def submit(ctx: Context, from_state: str, to_state: str) -> None:
    p = ctx.project
    p.received_at = ctx.now
    p.approval_round += 1
    from workflow.forms import application_form

    digest = archive(ctx.session, application_form(ctx.session, p).encode("utf-8"), "text/plain; charset=utf-8",
                     f"application-{p.code}-r{p.approval_round}.txt", ctx.now, "project", p.id, "application_form")
    ctx.produced.update(approval_round=p.approval_round, application_form=digest)


def _approval(ctx: Context, decision: str) -> None:
    assert ctx.post is not None
    ctx.session.add(Approval(project_id=ctx.row.id, round=ctx.project.approval_round, person_id=ctx.actor_id,
                             post_id=ctx.post.id, role=ctx.role, decision=decision,
                             comment=getattr(ctx.payload, "comment", "") or ctx.reason, at=ctx.now))


@effect("project", "approve")
def approve(ctx: Context, from_state: str, to_state: str) -> None:
    _approval(ctx, "approve")
    if to_state == "in_progress":
        p = ctx.project
        _commit(ctx, p.amount_fen, p.is_small_group)
        ledger(ctx, "commitment", p.amount_fen, f"{p.code} 批准", document=_approval_record(ctx), project_id=p.id)
        ctx.produced["committed"] = format_yuan(p.amount_fen)


def _approval_record(ctx: Context) -> str:
    """The approval record (both main leaders, the board meeting) the commitment entry points at."""
    from workflow.context import ROLE_LABELS, person_name

    p = ctx.project
    ctx.session.flush()
    rows = ctx.session.execute(select(Approval).where(Approval.project_id == p.id, Approval.round == p.approval_round,
                                                      Approval.decision == "approve").order_by(Approval.id)).scalars()
    board = ctx.session.execute(select(Meeting).where(Meeting.project_id == p.id, Meeting.kind == "board")
                                .order_by(Meeting.id.desc()).limit(1)).scalar_one_or_none()
    text = render_record(
        "approval", code=p.code, title=p.title, amount=format_yuan(p.amount_fen), small_group=p.is_small_group,
        round=p.approval_round, received=_fmt_local(p.received_at) if p.received_at else "—",
        board=f"{board.held_on} 召开,{len(board.attendees)} 人参加" if board else "—",
        approvals=[{"role": ROLE_LABELS.get(a.role, a.role), "name": person_name(ctx.session, a.person_id),
                    "at": _fmt_local(a.at), "comment": a.comment} for a in rows])
    return archive(ctx.session, text.encode("utf-8"), "text/plain; charset=utf-8",
                   f"approval-{p.code}-r{p.approval_round}.txt", ctx.now, "project", p.id, "approval_record")


@effect("project", "reject")
def reject(ctx: Context, from_state: str, to_state: str) -> None:
    _approval(ctx, "reject")


@effect("project", "return_for_revision")
def return_for_revision(ctx: Context, from_state: str, to_state: str) -> None:
    if from_state == "pending_approval":
        _approval(ctx, "return")


# ------------------------------------------------------------------ issue 11: edits, flags, termination


@effect("project", "edit")
def edit(ctx: Context, from_state: str, to_state: str) -> None:
    """Write the edit worked out by the guards; the audit event holds before and after of each change."""
    from workflow.guards import edit_plan

    plan = edit_plan(ctx)
    p = ctx.project
    for name, value in plan.values.items():
        setattr(p, name, value)
    p.is_small_group = plan.small_group
    if plan.line_items is not None:
        ctx.session.execute(delete(LineItem).where(LineItem.project_id == p.id))
        for i in plan.line_items:
            ctx.session.add(LineItem(project_id=p.id, description=i.description, quantity=i.quantity,
                                     unit_price_fen=i.unit_price_fen, amount_fen=i.amount_fen,
                                     catalog_item=i.catalog_item, flagged_keywords=i.flagged_keywords))
    if plan.need_ids is not None:
        ctx.session.execute(delete(ProjectNeed).where(ProjectNeed.project_id == p.id))
        for nid in plan.need_ids:
            ctx.session.add(ProjectNeed(project_id=p.id, need_id=nid))
    ctx.produced["changes"] = {k: {"before": plan.before[k], "after": plan.after[k]} for k in plan.after}


@effect("project", "decide_flag")
def decide_flag(ctx: Context, from_state: str, to_state: str) -> None:
    item = ctx.session.get(LineItem, ctx.payload.line_item_id)
    assert item is not None
    ctx.produced.update(line_item_id=item.id, description=item.description, keywords=list(item.flagged_keywords),
                        decision=ctx.payload.decision, previous_decision=item.flag_decision)
    item.flag_decision, item.flag_note = ctx.payload.decision, ctx.payload.note
    item.flag_decided_by, item.flag_decided_at = ctx.actor_id, ctx.now


def _updated(ctx: Context, stmt: Any) -> int:
    """Run a plain UPDATE (no object of it is held in the session); how many rows it changed."""
    result = ctx.session.execute(stmt.execution_options(synchronize_session=False))
    return int(cast(CursorResult[Any], result).rowcount)


@effect("project", "report_completion")
def report_completion(ctx: Context, from_state: str, to_state: str) -> None:
    # a leader's vote to terminate the unfinished project does not carry over to the completed one
    # (guards.termination_votes counts votes after the last completion report); the event says so
    from workflow.guards import termination_votes

    if lapsed := len(termination_votes(ctx)):
        ctx.produced["termination_votes_lapsed"] = lapsed


@effect("project", "terminate")
def terminate(ctx: Context, from_state: str, to_state: str) -> None:
    """A main leader's decision to terminate (Art. 11); the second one ends the project: what was paid stays
    paid, unpaid payment items are cancelled, the rest of the commitment returns to the fund year, the
    project's open deadlines are cleared, and residents are told on the notice board."""
    assert ctx.post is not None
    from workflow.guards import termination_votes

    p = ctx.project
    vote = Approval(project_id=p.id, round=p.approval_round, person_id=ctx.actor_id, post_id=ctx.post.id,
                    role=ctx.role, decision="terminate", comment=ctx.reason, at=ctx.now)
    ctx.session.add(vote)
    if to_state != "terminated":
        ctx.produced["termination"] = "pending_other_leader"
        return
    from workflow.context import ROLE_LABELS, person_name

    votes = [*termination_votes(ctx), vote]  # the other leader's vote (read by the guards), then this one
    reason = votes[0].comment
    cancelled = list(ctx.session.execute(select(PaymentItem).where(PaymentItem.project_id == p.id,
                                                                   PaymentItem.status == "open")).scalars())
    for item in cancelled:  # they lapse with the project, by the leader whose vote ended it
        item.status, item.cancelled_at, item.cancelled_by, item.cancel_reason = "cancelled", ctx.now, ctx.actor_id, reason
    lapsed = None
    if from_state == "change_review":
        cr = _pending_change(ctx)
        cr.status, cr.decided_by, cr.decided_at = "lapsed", ctx.actor_id, ctx.now
        lapsed = cr.id
    # the project's own periods end with it; a no-invoice payment's notice already posted runs its course
    cleared = _updated(ctx, update(Deadline).where(
        Deadline.entity_type == "project", Deadline.entity_id == p.id, Deadline.status == "open",
        Deadline.kind != "voucher_notice").values(status="cleared"))
    released = p.committed_fen
    deciders = [{"role": ROLE_LABELS.get(v.role, v.role), "name": person_name(ctx.session, v.person_id),
                 "at": _fmt_local(v.at), "comment": v.comment} for v in votes]
    record = archive(ctx.session, render_record(
        "termination", code=p.code, title=p.title, state=ctx.workflow.module.LABELS.get(from_state, from_state), approved=format_yuan(p.amount_fen),
        paid=format_yuan(p.paid_fen), released=format_yuan(released), reason=reason, deciders=deciders,
        carried=ctx.fund_year.state == "closed",
        cancelled=[{"id": i.id, "payee": i.payee, "amount": format_yuan(i.amount_fen)} for i in cancelled],
        at=_fmt_local(ctx.now)).encode("utf-8"),
        "text/plain; charset=utf-8", f"termination-{p.code}.txt", ctx.now, "project", p.id, "termination_record")
    _release(ctx, released, f"{p.code} 项目终止,未支付部分释放", document=record)
    dl = _deadline_for(ctx, "termination")
    values = dict(community=_community_name(ctx), code=p.code, title=p.title, approved=format_yuan(p.amount_fen),
                  paid=format_yuan(p.paid_fen), released=format_yuan(released), reason=reason,
                  workdays=dl.workdays, provisional=dl.provisional)
    _post_notice(ctx, "termination", f"项目终止公示:{p.title}", "termination", values, dl.due_at, dl.provisional)
    ctx.produced.update(released=format_yuan(released), paid=format_yuan(p.paid_fen), termination_record=record,
                        cancelled_payment_items=[i.id for i in cancelled], deadlines_cleared=cleared)
    if lapsed is not None:
        ctx.produced["change_request_lapsed"] = lapsed


@effect("project", "request_change")
def request_change(ctx: Context, from_state: str, to_state: str) -> None:
    before, after = change_after(ctx)
    cr = ChangeRequest(project_id=ctx.row.id, before=_jsonable(before), after=_jsonable(after), reason=ctx.reason,
                       status="pending", requested_by=ctx.actor_id, created_at=ctx.now)
    ctx.session.add(cr)
    ctx.session.flush()
    ctx.produced.update(change_request_id=cr.id, before=cr.before, after=cr.after)


def _jsonable(values: dict[str, Any]) -> dict[str, Any]:
    return {k: (v.isoformat() if isinstance(v, dt.date) else v) for k, v in values.items()}


def _pending_change(ctx: Context) -> ChangeRequest:
    return ctx.session.execute(select(ChangeRequest).where(ChangeRequest.project_id == ctx.row.id,
                                                           ChangeRequest.status == "pending")
                               .order_by(ChangeRequest.id.desc()).limit(1)).scalar_one()


@effect("project", "approve_change")
def approve_change(ctx: Context, from_state: str, to_state: str) -> None:
    cr = _pending_change(ctx)
    p = ctx.project
    was_small, old_amount = p.is_small_group, p.amount_fen
    for key, value in cr.after.items():
        if key in ("planned_start", "planned_end") and value is not None:
            value = dt.date.fromisoformat(value)
        setattr(p, key, value)
    p.is_small_group = r_project.is_small_group(p.beneficiaries_count, ctx.policy.small_group_threshold,
                                                p.small_group_marked)
    fy = ctx.fund_year
    # move the open commitment to the new amount and the new small-group standing
    open_before = p.committed_fen
    open_after = max(p.amount_fen - p.paid_fen, 0)
    fy.committed_fen += open_after - open_before
    p.committed_fen = open_after
    if was_small:
        fy.small_group_committed_fen -= open_before + p.paid_fen
    if p.is_small_group:
        fy.small_group_committed_fen += open_after + p.paid_fen
    cr.status, cr.decided_by, cr.decided_at = "approved", ctx.actor_id, ctx.now
    from workflow.context import person_name

    labels = {"amount_fen": "金额(元)", "description": "项目内容", "contractor_name": "承办方",
              "contractor_kind": "承办方类型", "planned_start": "计划开始", "planned_end": "计划结束",
              "beneficiaries_count": "直接受益人数", "title": "项目名称"}
    filing = archive(ctx.session, render_record(
        "change_filing", code=p.code, title=p.title, request_id=cr.id, reason=cr.reason,
        changes=[(labels.get(k, k), (format_yuan(cr.before[k]), format_yuan(v)) if k == "amount_fen"
                  else (cr.before.get(k), v)) for k, v in cr.after.items()],
        decided_by=person_name(ctx.session, ctx.actor_id), decided_at=_fmt_local(ctx.now)).encode("utf-8"),
        "text/plain; charset=utf-8", f"change-{p.code}-{cr.id}.txt", ctx.now, "project", p.id, "change_filing")
    ledger(ctx, "adjustment", p.amount_fen - old_amount, f"{p.code} 变更 #{cr.id}", document=filing, project_id=p.id)
    ctx.produced.update(change_request_id=cr.id, before=cr.before, after=cr.after)


@effect("project", "reject_change")
def reject_change(ctx: Context, from_state: str, to_state: str) -> None:
    cr = _pending_change(ctx)
    cr.status, cr.decided_by, cr.decided_at = "rejected", ctx.actor_id, ctx.now
    ctx.produced.update(change_request_id=cr.id)


def _acceptance(ctx: Context, passed: bool) -> None:
    a = ctx.payload
    rec = Acceptance(project_id=ctx.row.id, passed=passed, quality=a.quality, satisfaction=a.satisfaction,
                     team=acceptance_team(ctx), recorded_by=ctx.actor_id, created_at=ctx.now)
    ctx.session.add(rec)
    ctx.session.flush()
    body = f"综合验收{'通过' if passed else '不通过'}\n质量: {a.quality}\n群众满意度: {a.satisfaction}%\n"
    archive(ctx.session, body.encode("utf-8"), "text/plain; charset=utf-8", f"acceptance-{rec.id}.txt", ctx.now,
            "project", ctx.row.id, "acceptance")
    ctx.produced.update(acceptance_id=rec.id)


@effect("project", "accept")
def accept(ctx: Context, from_state: str, to_state: str) -> None:
    _acceptance(ctx, True)


@effect("project", "fail_acceptance")
def fail_acceptance(ctx: Context, from_state: str, to_state: str) -> None:
    _acceptance(ctx, False)
    # the supervisors signed off this round's acceptance; the next round needs a fresh sign-off (Art. 14)
    voided = list(ctx.session.execute(select(SignOff).where(SignOff.project_id == ctx.row.id,
                                                            SignOff.stage == "acceptance",
                                                            SignOff.voided_at.is_(None))).scalars())
    for s in voided:
        s.voided_at = ctx.now
    ctx.produced["voided_signoffs"] = [s.id for s in voided]


@effect("project", "close_settlement")
def close_settlement(ctx: Context, from_state: str, to_state: str) -> None:
    p = ctx.project
    _release(ctx, p.committed_fen, f"{p.code} 结算结余释放")
    last = ctx.session.execute(select(Acceptance).where(Acceptance.project_id == p.id, Acceptance.passed.is_(True))
                               .order_by(Acceptance.id.desc()).limit(1)).scalar_one()
    items = ctx.session.execute(select(PaymentItem).where(PaymentItem.project_id == p.id,
                                                          PaymentItem.status == "paid")).scalars()
    dl = _deadline_for(ctx, "completion_publicity")
    values = dict(community=_community_name(ctx), code=p.code, title=p.title, approved=format_yuan(p.amount_fen),
                  paid=format_yuan(p.paid_fen), released=format_yuan(p.released_fen), quality=last.quality,
                  satisfaction=last.satisfaction, workdays=dl.workdays,
                  items=[{"kind": "发票" if i.kind == "invoice" else "无发票凭证", "payee": i.payee,
                          "amount": format_yuan(i.amount_fen)} for i in items])
    _post_notice(ctx, "completion", f"建成公示:{p.title}", "completion", values, dl.due_at, dl.provisional)


@effect("project", "object")
def object_(ctx: Context, from_state: str, to_state: str) -> None:
    notice = current_notice(ctx)
    assert notice is not None
    o = ctx.payload
    from workflow.receipts import new_code

    # the receipt code is the resident's alone: it is not in the audit payload (ctx.produced), which the
    # committee reads; the public route hands it to the resident
    obj = Objection(notice_id=notice.id, project_id=ctx.row.id, author_name=o.author_name, contact=o.contact,
                    text=o.text, created_at=ctx.now, receipt_code=new_code(ctx.session))
    ctx.session.add(obj)
    ctx.session.flush()
    ctx.produced["objection_id"] = obj.id


@effect("project", "answer_objection")
def answer_objection(ctx: Context, from_state: str, to_state: str) -> None:
    obj = objection_of(ctx)
    assert obj is not None
    if obj.answer:
        ctx.produced["previous_answer"] = obj.answer
    obj.answer, obj.answered_by, obj.answered_at = ctx.payload.answer, ctx.actor_id, ctx.now
    ctx.produced.update(objection_id=obj.id, resolved=False)


def _settle(ctx: Context, resolution: str, comment: str = "") -> None:
    obj = objection_of(ctx)
    assert obj is not None
    obj.resolved, obj.resolution, obj.resolved_at = True, resolution, ctx.now
    obj.resolved_by = ctx.actor.person_id
    obj.resolution_comment = comment
    ctx.produced.update(objection_id=obj.id, resolution=resolution)
    _wake_deadlines(ctx)


@effect("project", "confirm_answer")
def confirm_answer(ctx: Context, from_state: str, to_state: str) -> None:
    _settle(ctx, "confirmed", ctx.payload.comment)


@effect("project", "accept_answer")
def accept_answer(ctx: Context, from_state: str, to_state: str) -> None:
    _settle(ctx, "accepted")


def _wake_deadlines(ctx: Context) -> None:
    """A timer refused earlier (e.g. no write-off yet, an open concern) is retried at the next sweep,
    not after its back-off, once something that could unblock it has happened."""
    ctx.session.execute(update(Deadline).where(Deadline.entity_type == ctx.entity_type,
                                               Deadline.entity_id == ctx.row.id, Deadline.status == "open",
                                               Deadline.next_attempt_at.is_not(None))
                        .values(next_attempt_at=None))


@effect("project", "signoff")
def signoff(ctx: Context, from_state: str, to_state: str) -> None:
    assert ctx.post is not None
    ctx.session.add(SignOff(project_id=ctx.row.id, stage=ctx.payload.stage, person_id=ctx.actor_id, post_id=ctx.post.id,
                            comment=ctx.payload.comment, at=ctx.now))
    ctx.produced["stage"] = ctx.payload.stage
    _wake_deadlines(ctx)


@effect("project", "raise_concern")
def raise_concern(ctx: Context, from_state: str, to_state: str) -> None:
    c = Concern(project_id=ctx.row.id, raised_by=ctx.actor_id, text=ctx.payload.text, created_at=ctx.now)
    ctx.session.add(c)
    ctx.session.flush()
    ctx.produced["concern_id"] = c.id


@effect("project", "resolve_concern")
def resolve_concern(ctx: Context, from_state: str, to_state: str) -> None:
    c = ctx.session.get(Concern, ctx.payload.concern_id)
    assert c is not None
    c.resolution, c.resolved_by, c.resolved_at = ctx.payload.resolution, ctx.actor_id, ctx.now
    ctx.produced["concern_id"] = c.id
    _wake_deadlines(ctx)


@effect("project", "record_board_meeting")
def record_board_meeting(ctx: Context, from_state: str, to_state: str) -> None:
    b = ctx.payload
    m = Meeting(project_id=ctx.row.id, kind="board", held_on=b.held_on,
                attendees=[{"name": n, "capacity": "working_committee"} for n in b.attendees], minutes=b.minutes,
                recorded_by=ctx.actor_id, created_at=ctx.now)
    ctx.session.add(m)
    ctx.session.flush()
    archive(ctx.session, b.minutes.encode("utf-8"), "text/plain; charset=utf-8", f"board-{m.id}.txt", ctx.now,
            "project", ctx.row.id, "board_minutes")
    ctx.produced["meeting_id"] = m.id


_FU: Table = FollowUp.__table__  # type: ignore[assignment]
_DLT: Table = Deadline.__table__  # type: ignore[assignment]
# A follow-up is the most frequent write of an implementing project: two plain statements, no ORM flush.
_INSERT_FOLLOWUP = _FU.insert().returning(_FU.c.id)
# the project's current follow-up deadline (as engine.open_deadline picks it) is met, if it is still open
_CLEAR_FOLLOWUP_DUE = _DLT.update().where(
    _DLT.c.id == select(_DLT.c.id).where(
        _DLT.c.entity_type == "project", _DLT.c.entity_id == bindparam("pid"), _DLT.c.kind == "followup_due",
        _DLT.c.status.in_(("open", "fired"))).order_by(_DLT.c.id.desc()).limit(1).scalar_subquery(),
    _DLT.c.status == "open").values(status="cleared")


@effect("project", "record_followup")
def record_followup(ctx: Context, from_state: str, to_state: str) -> None:
    ctx.produced["followup_id"] = ctx.session.execute(_INSERT_FOLLOWUP, {
        "project_id": ctx.row.id, "person_id": ctx.actor_id, "visited_on": ctx.payload.visited_on,
        "notes": ctx.payload.notes, "created_at": ctx.now}).scalar_one()
    ctx.session.execute(_CLEAR_FOLLOWUP_DUE, {"pid": ctx.row.id})


@effect("project", "add_payment_item")
def add_payment_item(ctx: Context, from_state: str, to_state: str) -> None:
    i = ctx.payload
    invoice = i.kind == "invoice"
    item = PaymentItem(project_id=ctx.row.id, kind=i.kind, amount_fen=parse_yuan(i.amount), payee=i.payee,
                       payee_account=i.payee_account, invoice_no=i.invoice_no, status="open", created_at=ctx.now,
                       invoice_no_norm=r_payment.normalise_invoice_no(i.invoice_no) if invoice else None,
                       issuer_tax_id=r_payment.normalise_tax_id(i.issuer_tax_id) if invoice else "")
    ctx.session.add(item)
    ctx.session.flush()  # the unique index on the invoice may refuse here (engine: constraint_verdict)
    ctx.produced["payment_item_id"] = item.id


@effect("project", "cancel_payment_item")
def cancel_payment_item(ctx: Context, from_state: str, to_state: str) -> None:
    """作废: the item is never paid; its signatures lapse (kept, marked); the audit event keeps the reason."""
    from sqlalchemy import update

    item = ctx.session.get(PaymentItem, ctx.payload.payment_item_id)
    assert item is not None
    item.status, item.cancelled_at, item.cancelled_by, item.cancel_reason = "cancelled", ctx.now, ctx.actor_id, ctx.reason
    lapsed = len(ctx.session.execute(update(Signature).where(
        Signature.payment_item_id == item.id, Signature.lapsed_at.is_(None)).values(lapsed_at=ctx.now)
        .returning(Signature.id)).all())
    from workflow.context import person_name

    record = render_record("payment_cancelled", code=ctx.project.code, title=ctx.project.title, item_id=item.id,
                           kind="发票" if item.kind == "invoice" else "无发票凭证", invoice_no=item.invoice_no,
                           payee=item.payee, amount=format_yuan(item.amount_fen), reason=ctx.reason,
                           lapsed=lapsed, by=person_name(ctx.session, ctx.actor_id),
                           at=_fmt_local(ctx.now))
    digest = archive(ctx.session, record.encode("utf-8"), "text/plain; charset=utf-8",
                     f"payment-cancel-{item.id}.txt", ctx.now, "project", ctx.row.id, "payment_cancellation")
    ctx.produced.update(payment_item_id=item.id, amount=format_yuan(item.amount_fen),
                        lapsed_signatures=lapsed, document=digest)


@effect("project", "sign_invoice")
def sign_invoice(ctx: Context, from_state: str, to_state: str) -> None:
    assert ctx.post is not None
    item_id = ctx.payload.payment_item_id
    seq = 1 + len(list(ctx.session.execute(select(Signature.id).where(Signature.payment_item_id == item_id))))
    ctx.session.add(Signature(payment_item_id=item_id, seq=seq, role=ctx.role, person_id=ctx.actor_id,
                              post_id=ctx.post.id, at=ctx.now))
    ctx.produced.update(payment_item_id=item_id, seq=seq)


@effect("project", "record_voucher_evidence")
def record_voucher_evidence(ctx: Context, from_state: str, to_state: str) -> None:
    e = ctx.payload
    digest = archive(ctx.session, e.note.encode("utf-8"), "text/plain; charset=utf-8",
                     f"voucher-{e.payment_item_id}-{e.kind}.txt", ctx.now, "project", ctx.row.id, f"voucher_{e.kind}")
    notice_id = None
    if e.kind == "post_notice":
        item = ctx.session.get(PaymentItem, e.payment_item_id)
        assert item is not None
        p = ctx.project
        from workflow.context import compute_due

        due, provisional = compute_due(ctx.session, ctx.today, ctx.policy.voucher_notice_workdays)
        values = dict(community=_community_name(ctx), code=p.code, title=p.title, payee=item.payee,
                      amount=format_yuan(item.amount_fen), paid_on=ctx.today.isoformat(), is_aid=p.is_aid)
        notice = _post_notice(ctx, "voucher_payment", f"无发票支出公示:{p.title}", "voucher_payment", values, due,
                              provisional, payment_item_id=item.id)
        notice_id = notice.id
        # the notice period is a deadline row too: the sweep records its end (workflow.sweep)
        ctx.session.add(Deadline(entity_type="project", entity_id=p.id, kind="voucher_notice", event="",
                                 ref=f"payment_item:{item.id}", start_date=ctx.today,
                                 workdays=ctx.policy.voucher_notice_workdays, due_at=due, provisional=provisional,
                                 status="open", created_at=ctx.now))
    ctx.session.add(VoucherEvidence(payment_item_id=e.payment_item_id, kind=e.kind, document_sha256=digest,
                                    notice_id=notice_id, recorded_by=ctx.actor_id, at=ctx.now))
    ctx.produced.update(payment_item_id=e.payment_item_id, kind=e.kind, document=digest)


@precheck("project", "pay")
def pay_replay(ctx: Context) -> Outcome | None:
    """A repeated payment request (same key) answers with the first one's result and pays nothing."""
    from rules.verdict import Verdict

    existing = ctx.session.execute(select(Payment).where(Payment.idempotency_key == ctx.payload.idempotency_key)
                                   ).scalar_one_or_none()
    if existing is None:
        return None
    base = dict(entity_type="project", entity_id=ctx.row.id, from_state=ctx.from_state, to_state=ctx.from_state,
                version=ctx.row.version)
    if not (v := r_payment.check_idempotency_key(existing.payment_item_id, ctx.payload.payment_item_id)).ok:
        return Outcome(ok=False, status=409, verdict=v,
                       **base)
    return Outcome(ok=True, status=200, verdict=Verdict(ok=True, code="payment.replayed", message="此笔付款已完成,未重复支付",
                                                        article="第十三条"),
                   data={"payment_id": existing.id, "amount": format_yuan(existing.amount_fen)}, replayed=True, **base)


@effect("project", "pay")
def pay(ctx: Context, from_state: str, to_state: str) -> None:
    item = ctx.session.get(PaymentItem, ctx.payload.payment_item_id)
    assert item is not None
    p, fy = ctx.project, ctx.fund_year
    payment = Payment(payment_item_id=item.id, idempotency_key=ctx.payload.idempotency_key, amount_fen=item.amount_fen,
                      paid_by=ctx.actor_id, at=ctx.now)
    ctx.session.add(payment)
    item.status = "paid"
    from_commitment = min(item.amount_fen, p.committed_fen)
    p.committed_fen -= from_commitment
    fy.committed_fen -= from_commitment
    p.paid_fen += item.amount_fen
    fy.paid_fen += item.amount_fen
    if p.is_small_group:
        # small-group usage counts committed + paid; only the part beyond the commitment is new
        fy.small_group_committed_fen += item.amount_fen - from_commitment
    ctx.session.flush()
    ledger(ctx, "payment", item.amount_fen, f"{p.code} 付款 #{payment.id} {item.kind}",
           document=_payment_voucher(ctx, item, payment), project_id=p.id)
    ctx.produced.update(payment_id=payment.id, amount=format_yuan(item.amount_fen))


def _payment_voucher(ctx: Context, item: PaymentItem, payment: Payment) -> str:
    """The accounting voucher of a payment: the invoice and its three signatures, or the no-invoice
    evidence (Art. 13). Internal (finance archive), so names and accounts stay as they are."""
    from workflow.context import ROLE_LABELS, person_name

    p = ctx.project
    sigs = ctx.session.execute(select(Signature).where(Signature.payment_item_id == item.id)
                               .order_by(Signature.seq)).scalars()
    evidence = ctx.session.execute(select(VoucherEvidence).where(VoucherEvidence.payment_item_id == item.id)
                                   .order_by(VoucherEvidence.id)).scalars()
    kinds = {"meeting_decision": "事前会议集体讨论决定", "inprocess_proof": "事中签字证明",
             "payee_signature": "收款人签字", "post_notice": "事后公示"}
    text = render_record(
        "payment", code=p.code, title=p.title, item_id=item.id,
        kind="发票" if item.kind == "invoice" else "无发票凭证(收款人签字)", invoice_no=item.invoice_no,
        payee=item.payee, account=item.payee_account, amount=format_yuan(item.amount_fen),
        signatures=[{"seq": s.seq, "role": ROLE_LABELS.get(s.role, s.role), "name": person_name(ctx.session, s.person_id),
                     "at": _fmt_local(s.at)} for s in sigs],
        evidence=[f"{kinds.get(e.kind, e.kind)}:材料 {e.document_sha256[:12] if e.document_sha256 else '—'}"
                  for e in evidence],
        payer=person_name(ctx.session, ctx.actor_id), at=_fmt_local(ctx.now), key=payment.idempotency_key)
    return archive(ctx.session, text.encode("utf-8"), "text/plain; charset=utf-8", f"payment-{payment.id}.txt", ctx.now,
                   "project", p.id, "payment_voucher")


# -------------------------------------------------------------------------------------- fund year


@effect("fund_year", "submit_report")
def submit_report(ctx: Context, from_state: str, to_state: str) -> None:
    report = dict(ctx.row.report or {})
    report.update(summary=ctx.payload.summary, service_effect=ctx.payload.service_effect,
                  submitted_at=ctx.now.isoformat())
    ctx.row.report = report


@effect("fund_year", "evaluate")
def evaluate(ctx: Context, from_state: str, to_state: str) -> None:
    report = dict(ctx.row.report or {})
    report.update(rating=ctx.payload.rating, evaluation=ctx.payload.comment, evaluated_at=ctx.now.isoformat(),
                  evaluated_by=ctx.actor_id, evaluated_in=from_state)
    ctx.row.report = report
    from workflow.deadlines import nudge_year_close

    nudge_year_close(ctx.session, ctx.row)  # the close may have been waiting only for this


@effect("fund_year", "start_disclosure")
def start_disclosure(ctx: Context, from_state: str, to_state: str) -> None:
    from workflow.forms import disclosure_values

    fy = ctx.row
    dl = _deadline_for(ctx, "disclosure")
    values = disclosure_values(ctx.session, fy)
    values["workdays"] = dl.workdays
    _post_notice(ctx, "disclosure", f"{fy.year} 年度专项经费使用情况公示", "disclosure", values, dl.due_at,
                 dl.provisional)


@effect("fund_year", "close_year")
def close_year(ctx: Context, from_state: str, to_state: str) -> None:
    from workflow.fund_years import carry_over

    carry_over(ctx)


