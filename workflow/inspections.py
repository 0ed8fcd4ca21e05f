"""Regular inspections (定期检查, 第十九条): planning one, the pack it takes to the community, and the reads of
inspections and findings. The events of an inspection and of its findings go through the engine
(``workflow/definitions/inspection.py``, ``finding.py``; guards and effects in ``workflow.inspection_events``).
"""
from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from documents import model as m
from rules import inspection as r_inspection
from rules import workflow as r_workflow
from rules.money import format_yuan
from store.models import (
    AuditEvent,
    Deadline,
    Finding,
    FundYear,
    Inspection,
    LedgerEntry,
    Organisation,
    Person,
    Project,
)
from workflow import audit, clock
from workflow.definitions import finding as finding_def
from workflow.definitions import inspection as inspection_def
from workflow.definitions import project as project_def
from workflow.engine import ROLE_LABELS, Actor, org_chain, resolve_post
from workflow.services import ServiceError, current_policy, require_open_community

INSPECTORS = ("working_member", "working_secretary")
"""The working committee's posts: they plan and carry out inspections and verify rectifications."""
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


def _window(inspection: Inspection) -> tuple[dt.datetime, dt.datetime]:
    """The period as UTC instants: from 00:00 of its first day to 24:00 of its last (Asia/Shanghai)."""
    start = dt.datetime.combine(inspection.period_from, dt.time(), clock.SHANGHAI)
    end = dt.datetime.combine(inspection.period_to + dt.timedelta(days=1), dt.time(), clock.SHANGHAI)
    return start.astimezone(dt.UTC), end.astimezone(dt.UTC)


def _names(session: Session, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    return {int(i): str(n) for i, n in session.execute(select(Person.id, Person.display_name)
                                                       .where(Person.id.in_(ids)))}


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
    names = _names(session, {e.actor_id for e in events if e.actor_id is not None})
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


def load_inspection(session: Session, inspection_id: int) -> Inspection | None:
    return session.get(Inspection, inspection_id)


def pack(session: Session, inspection_id: int) -> m.InspectionPack:
    """The inspection's pack as plain data (the PDF's and the JSON's one source)."""
    from workflow.papers import Unavailable, area_issuer

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


def inspection_out(session: Session, row: Inspection) -> dict[str, Any]:
    names = _names(session, {row.planned_by})
    community = session.execute(select(Organisation.name).where(Organisation.id == row.community_id)).scalar_one()
    count = len(session.execute(select(Finding.id).where(Finding.inspection_id == row.id)).all())
    return {"id": row.id, "area_id": row.area_id, "community_id": row.community_id, "community_name": community,
            "title": row.title, "period_from": row.period_from.isoformat(), "period_to": row.period_to.isoformat(),
            "state": row.state, "state_label": inspection_def.LABELS.get(row.state, row.state),
            "version": row.version, "planned_by": names.get(row.planned_by, ""), "summary": row.summary,
            "findings": count, "created_at": _instant(row.created_at)}


def finding_out(session: Session, row: Finding, due: dt.datetime | None = None) -> dict[str, Any]:
    names = _names(session, {i for i in (row.recorded_by, row.submitted_by, row.verified_by) if i is not None})
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

