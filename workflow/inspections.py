"""Regular inspections (定期检查, 第十九条): planning one, the pack it takes to the community, and the reads of
inspections and findings. The events of an inspection and of its findings go through the engine
(``workflow/definitions/inspection.py``, ``finding.py``; guards and effects in ``workflow.inspection_events``).
The pack is assembled with the other printed documents in ``workflow.papers`` (which the effects reach, so it
must not import this module) and re-exported here.
"""
from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from documents import model as m
from rules import inspection as r_inspection
from rules import workflow as r_workflow
from rules.money import format_yuan
from store.models import Finding, Inspection, Organisation, Project
from workflow import audit, clock
from workflow.definitions import finding as finding_def
from workflow.definitions import inspection as inspection_def
from workflow.engine import Actor, org_chain, resolve_post
from workflow.papers import finding_dues as finding_dues
from workflow.papers import pack as pack
from workflow.papers import person_names
from workflow.services import ServiceError, current_policy, require_open_community

INSPECTORS = ("working_member", "working_secretary")
"""The working committee's posts: they plan and carry out inspections and verify rectifications."""


# ------------------------------------------------------------------------------------------ planning


def plan_inspection(session: Session, actor: Actor, community_id: int, period_from: dt.date, period_to: dt.date,
                    title: str = "", now: dt.datetime | None = None) -> Inspection:
    """The working committee of the community's area plans an inspection of the community over a period."""
    now = now or clock.now()
    today = clock.local_date(now)
    chain = org_chain(session, community_id) if _is_community(session, community_id) else {}
    if not chain:
        raise ServiceError(r_workflow.check_found(False, r_inspection.ART_INSPECTION), 404)
    post, role = resolve_post(session, actor, list(INSPECTORS), chain, today)
    if not (v := r_workflow.check_post_in_community(role, r_inspection.ART_INSPECTION)).ok:
        raise ServiceError(v, 403)
    community = require_open_community(session, community_id)
    if not (v := r_inspection.check_period(period_from, period_to, today)).ok:
        raise ServiceError(v, 422)
    pv = current_policy(session, chain["city"], today)
    title = title.strip() or f"{community.name} {period_from.isoformat()} 至 {period_to.isoformat()} 专项经费使用情况定期检查"
    row = Inspection(area_id=chain["area"], community_id=community_id, policy_version_id=pv.id,
                     period_from=period_from, period_to=period_to, title=title[:200], state=inspection_def.INITIAL.value,
                     version=0, audit_head="", planned_by=actor.person_id, summary="", created_at=now)
    session.add(row)
    session.flush()
    audit.append(session, row, entity_type="inspection", entity_id=row.id, event="plan_inspection", at=now,
                 actor_id=actor.person_id, actor_label=actor.label, post_id=post.id if post else None, role=role,
                 to_state=row.state, payload={"community_id": community_id, "period_from": period_from.isoformat(),
                                              "period_to": period_to.isoformat(), "title": row.title})
    return row


def _is_community(session: Session, org_id: int) -> bool:
    level = session.execute(select(Organisation.level).where(Organisation.id == org_id)).scalar_one_or_none()
    return level == "community"


# ---------------------------------------------------------------------------------------- the pack


def _instant(value: dt.datetime) -> str:
    return value.astimezone(clock.SHANGHAI).isoformat()


def pack_json(p: m.InspectionPack) -> dict[str, Any]:
    """The pack at the API's edge: amounts as yuan strings, instants in Asia/Shanghai."""
    return {
        "inspection_id": p.inspection_id, "community": p.community, "issuer": p.issuer, "title": p.title,
        "period_from": p.period_from.isoformat(), "period_to": p.period_to.isoformat(), "state": p.state,
        "planned_by": {"name": p.planned_by.name, "role": p.planned_by.role},
        "projects": [{"project_id": pr.project_id, "code": pr.code, "title": pr.title, "state": pr.state,
                      "amount": format_yuan(pr.amount_fen), "paid": format_yuan(pr.paid_fen),
                      "trail": [{"at": _instant(e.at), "event": e.event, "actor": e.actor, "role": e.role,
                                 "moved": e.moved, "reason": e.reason} for e in pr.trail]} for pr in p.projects],
        "ledger": [{"at": _instant(r.at), "kind": r.kind, "amount": format_yuan(r.amount_fen),
                    "project_code": r.project_code, "memo": r.memo} for r in p.ledger],
        "deadlines": [{"what": d.what, "kind": d.kind, "due_at": _instant(d.due_at), "provisional": d.provisional}
                      for d in p.deadlines],
        "flags": [{"code": f.code, "title": f.title, "article": f.article, "evidence": f.evidence} for f in p.flags],
        "findings": [{"finding_id": f.finding_id, "article": f.article, "description": f.description,
                      "requirement": f.requirement, "state": f.state, "project_code": f.project_code,
                      "due_at": _instant(f.due_at) if f.due_at else None} for f in p.findings],
        "issued_at": _instant(p.issued_at),
    }


# ------------------------------------------------------------------------------------------- reads


def load_inspection(session: Session, inspection_id: int) -> Inspection | None:
    return session.get(Inspection, inspection_id)


def inspection_out(session: Session, row: Inspection) -> dict[str, Any]:
    names = person_names(session, {row.planned_by})
    community = session.execute(select(Organisation.name).where(Organisation.id == row.community_id)).scalar_one()
    count = len(session.execute(select(Finding.id).where(Finding.inspection_id == row.id)).all())
    return {"id": row.id, "area_id": row.area_id, "community_id": row.community_id, "community_name": community,
            "title": row.title, "period_from": row.period_from.isoformat(), "period_to": row.period_to.isoformat(),
            "state": row.state, "state_label": inspection_def.LABELS.get(row.state, row.state),
            "version": row.version, "planned_by": names.get(row.planned_by, ""), "summary": row.summary,
            "findings": count, "created_at": _instant(row.created_at)}


def finding_out(session: Session, row: Finding, due: dt.datetime | None = None) -> dict[str, Any]:
    names = person_names(session, {row.recorded_by, row.submitted_by, row.verified_by})
    code = (session.execute(select(Project.code).where(Project.id == row.project_id)).scalar_one_or_none()
            if row.project_id is not None else None)
    return {"id": row.id, "inspection_id": row.inspection_id, "community_id": row.community_id,
            "project_id": row.project_id, "project_code": code, "state": row.state,
            "state_label": finding_def.LABELS.get(row.state, row.state), "version": row.version,
            "article": row.article, "description": row.description, "requirement": row.requirement,
            "workdays": row.workdays, "due_at": _instant(due) if due else None,
            "recorded_by": names.get(row.recorded_by, ""), "rectification": row.rectification,
            "submitted_by": names.get(row.submitted_by, "") if row.submitted_by else "",
            "verified_by": names.get(row.verified_by, "") if row.verified_by else "",
            "rejections": row.rejections, "created_at": _instant(row.created_at)}


def list_inspections(session: Session, area_ids: list[int], community_id: int | None = None) -> list[Inspection]:
    stmt = select(Inspection).where(Inspection.area_id.in_(area_ids))
    if community_id is not None:
        stmt = stmt.where(Inspection.community_id == community_id)
    return list(session.execute(stmt.order_by(Inspection.id.desc()).limit(500)).scalars())


def findings_of(session: Session, *, community_id: int | None = None, inspection_id: int | None = None,
                states: tuple[str, ...] = ()) -> list[Finding]:
    stmt = select(Finding)
    if community_id is not None:
        stmt = stmt.where(Finding.community_id == community_id)
    if inspection_id is not None:
        stmt = stmt.where(Finding.inspection_id == inspection_id)
    if states:
        stmt = stmt.where(Finding.state.in_(states))
    return list(session.execute(stmt.order_by(Finding.id)).scalars())

