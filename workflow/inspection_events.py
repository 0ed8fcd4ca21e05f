"""Guards, effects and payloads of the inspection and finding workflows (第十九条) and of finance's three steps
on a project (第十八条), registered with the engine's decorators like every other event's."""
from __future__ import annotations

from typing import Annotated, Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from rules import common as r_common
from rules import inspection as r_inspection
from rules.verdict import Verdict
from store.models import Deadline, FinanceCheck, Finding, Inspection, Project
from workflow import audit
from workflow.context import Context, compute_due, effect, guard, payload_model
from workflow.fields import Id, Length, LineText, MultilineText, Range, StrictInt
from workflow.payloads import Empty, LongText, Strict

RECTIFICATION_DUE = "rectification_due"
"""The deadline kind of a finding's rectification (``definitions/finding.py`` TIMERS)."""

Article = Annotated[LineText, Length(40)]
Workdays = Annotated[StrictInt, Range(1, r_inspection.MAX_RECTIFY_WORKDAYS)]

# ------------------------------------------------------------------------------------------ payloads

for _entity, _trigger in [("inspection", "start_inspection"), ("inspection", "cancel_inspection"),
                          ("finding", "verify_rectification"), ("finding", "reject_rectification")]:
    payload_model(_entity, _trigger)(Empty)


@payload_model("inspection", "record_finding")
class FindingIn(Strict):
    article: Article
    """The article of 细则 the finding is measured against, e.g. ``第十三条`` or ``第七条第(二)项``."""
    description: LongText
    requirement: LongText
    """The rectification required (整改要求)."""
    workdays: Workdays
    """Working days given to rectify."""
    project_id: Id | None = None


@payload_model("inspection", "complete_inspection")
class CompleteIn(Strict):
    summary: LongText


@payload_model("finding", "submit_rectification")
class RectificationIn(Strict):
    text: Annotated[MultilineText, Length(5000)]


@payload_model("project", "review_budget")
class BudgetReviewIn(Strict):
    outcome: Literal["passed", "failed"]
    note: LongText = ""


@payload_model("project", "record_finance_check")
class FinanceCheckIn(Strict):
    outcome: Literal["normal", "issues_found"]
    note: LongText = ""


@payload_model("project", "record_audit")
class AuditIn(Strict):
    outcome: Literal["compliant", "issues_found"]
    conclusion: LongText = ""


# -------------------------------------------------------------------------------------------- guards


@guard("finding_valid")
def finding_valid(ctx: Context) -> Verdict:
    p = ctx.payload
    verdict = r_inspection.check_finding(p.article, p.description, p.requirement, p.workdays)
    if verdict.ok and p.project_id is not None:
        community = ctx.session.execute(select(Project.community_id).where(Project.id == p.project_id)
                                        ).scalar_one_or_none()
        verdict = r_inspection.check_project_of_community(community == ctx.row.community_id)
    return verdict


@guard("summary_given")
def summary_given(ctx: Context) -> Verdict:
    return r_common.check_text_given(ctx.payload.summary, ctx.workflow.article(ctx.trigger))


@guard("not_finding_recorder")
def not_finding_recorder(ctx: Context) -> Verdict:
    return r_inspection.check_second_person(ctx.actor_id, ctx.row.recorded_by)


_FINANCE_TEXT = {"review_budget": ("note", "预算审核意见"), "record_finance_check": ("note", "跟踪检查情况"),
                 "record_audit": ("conclusion", "审计结论")}


@guard("finance_text_given")
def finance_text_given(ctx: Context) -> Verdict:
    name, what = _FINANCE_TEXT[ctx.trigger]
    return r_inspection.check_finance_text(getattr(ctx.payload, name), what)


def latest_budget_review(session: Session, project_id: int, approval_round: int) -> str | None:
    """The outcome of finance's latest budget review of this submission (None: not reviewed)."""
    return session.execute(select(FinanceCheck.outcome).where(
        FinanceCheck.project_id == project_id, FinanceCheck.kind == "budget_review",
        FinanceCheck.round == approval_round).order_by(FinanceCheck.id.desc()).limit(1)).scalar_one_or_none()


@guard("budget_reviewed")
def budget_reviewed(ctx: Context) -> Verdict:
    required = ctx.policy.budget_review_required
    latest = latest_budget_review(ctx.session, ctx.row.id, ctx.project.approval_round) if required else None
    return r_inspection.check_budget_reviewed(required, latest)


# ------------------------------------------------------------------------------------------- effects


@effect("inspection", "record_finding")
def record_finding(ctx: Context, from_state: str, to_state: str) -> None:
    """A finding starts its own workflow in ``rectifying``, with its own audit chain and deadline."""
    p, inspection = ctx.payload, ctx.row
    assert isinstance(inspection, Inspection)
    article = r_inspection.normalise_article(p.article) or p.article
    finding = Finding(inspection_id=inspection.id, community_id=inspection.community_id,
                      policy_version_id=inspection.policy_version_id, project_id=p.project_id, state="rectifying",
                      version=0, audit_head="", article=article, description=p.description,
                      requirement=p.requirement, workdays=p.workdays, recorded_by=ctx.actor_id, created_at=ctx.now,
                      rectification="", rejections=0)
    ctx.session.add(finding)
    ctx.session.flush()
    due, provisional = compute_due(ctx.session, ctx.today, p.workdays)
    ctx.session.add(Deadline(entity_type="finding", entity_id=finding.id, kind=RECTIFICATION_DUE, event="",
                             start_date=ctx.today, workdays=p.workdays, due_at=due, provisional=provisional,
                             status="open", created_at=ctx.now))
    audit.append(ctx.session, finding, entity_type="finding", entity_id=finding.id, event="record_finding",
                 at=ctx.now, actor_id=ctx.actor_id, actor_label=ctx.actor.label,
                 post_id=ctx.post.id if ctx.post else None, role=ctx.role, to_state="rectifying",
                 payload={"inspection_id": inspection.id, "article": article, "description": p.description,
                          "requirement": p.requirement, "workdays": p.workdays, "project_id": p.project_id,
                          "due_at": due.isoformat()})
    ctx.produced.update(finding_id=finding.id, article=article, due_at=due.isoformat(), provisional=provisional)


@effect("inspection", "complete_inspection")
def complete_inspection(ctx: Context, from_state: str, to_state: str) -> None:
    ctx.row.summary = ctx.payload.summary


@effect("finding", "submit_rectification")
def submit_rectification(ctx: Context, from_state: str, to_state: str) -> None:
    f = ctx.row
    f.rectification, f.submitted_by, f.submitted_at = ctx.payload.text, ctx.actor_id, ctx.now


@effect("finding", "verify_rectification")
def verify_rectification(ctx: Context, from_state: str, to_state: str) -> None:
    ctx.row.verified_by, ctx.row.verified_at = ctx.actor_id, ctx.now


@effect("finding", "reject_rectification")
def reject_rectification(ctx: Context, from_state: str, to_state: str) -> None:
    ctx.row.rejections += 1


_FINANCE_KIND = {"review_budget": "budget_review", "record_finance_check": "in_process", "record_audit": "audit"}


def _finance_check(ctx: Context, from_state: str, to_state: str) -> None:
    name, _what = _FINANCE_TEXT[ctx.trigger]
    row = FinanceCheck(project_id=ctx.row.id, kind=_FINANCE_KIND[ctx.trigger], outcome=ctx.payload.outcome,
                       note=getattr(ctx.payload, name), round=ctx.project.approval_round, person_id=ctx.actor_id,
                       created_at=ctx.now)
    ctx.session.add(row)
    ctx.session.flush()
    ctx.produced["finance_check_id"] = row.id


for _trigger in _FINANCE_KIND:
    effect("project", _trigger)(_finance_check)
