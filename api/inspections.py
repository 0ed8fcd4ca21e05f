"""The use cases of inspections and findings over HTTP (第十九条), each one unit of work, with the access
rules of the area: the working committee acts and reads, finance reads, the inspected community reads its
own findings and rectifies them, everyone else is refused (``rules.inspection``)."""
from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy.orm import Session

from api import auth
from api.auth import Viewer
from api.errors import ApiError, NotFound
from api.reads import reading
from rules import inspection as r_inspection
from rules.verdict import Verdict
from store.db import Database
from store.models import Finding, Inspection
from workflow import inspections, papers
from workflow.engine import Outcome
from workflow.services import ServiceError, fire_event

API = papers.API


def _refuse(verdict: Verdict, status: int) -> ApiError:
    return ApiError.from_verdict(verdict, status)


def _roles(session: Session, viewer: Viewer, community_id: int) -> set[str]:
    return set(viewer.roles_for(auth.community_chain(session, community_id)))


def require_inspection_reader(session: Session, viewer: Viewer, community_id: int) -> None:
    if not (v := r_inspection.check_may_read_inspection(_roles(session, viewer, community_id))).ok:
        raise _refuse(v, 403)


def require_finding_reader(session: Session, viewer: Viewer, community_id: int) -> None:
    if not (v := r_inspection.check_may_read_finding(_roles(session, viewer, community_id))).ok:
        raise _refuse(v, 403)


def load_inspection(session: Session, viewer: Viewer, inspection_id: int) -> Inspection:
    row = session.get(Inspection, inspection_id)
    if row is None:
        raise NotFound(f"检查 #{inspection_id} 不存在", code="inspection.not_found")
    require_inspection_reader(session, viewer, row.community_id)
    return row


def load_finding(session: Session, viewer: Viewer, finding_id: int) -> Finding:
    row = session.get(Finding, finding_id)
    if row is None:
        raise NotFound(f"检查发现 #{finding_id} 不存在", code="finding.not_found")
    require_finding_reader(session, viewer, row.community_id)
    return row


# -------------------------------------------------------------------------------------------- reads


def _links(iid: int) -> dict[str, str]:
    base = f"{API}/inspections/{iid}"
    return {"self": base, "pack": f"{base}/pack", "pack_pdf": f"{base}/pack.pdf"}


def inspection_detail(session: Session, viewer: Viewer, inspection_id: int) -> dict[str, Any]:
    row = load_inspection(session, viewer, inspection_id)
    found = inspections.findings_of(session, inspection_id=row.id)
    dues = inspections.finding_dues(session, [f.id for f in found])
    return {**inspections.inspection_out(session, row), "links": _links(row.id),
            "finding_list": [inspections.finding_out(session, f, dues.get(f.id)) for f in found]}


def list_inspections(session: Session, viewer: Viewer, community: int | None) -> dict[str, Any]:
    if community is not None:
        require_inspection_reader(session, viewer, community)
        chain = auth.community_chain(session, community)
        areas = [chain["area"]]
    else:
        areas = sorted({p.organisation_id for p in viewer.posts if p.role in r_inspection.READERS})
    rows = inspections.list_inspections(session, areas, community)
    return {"items": [{**inspections.inspection_out(session, r), "links": _links(r.id)} for r in rows]}


def pack(session: Session, viewer: Viewer, inspection_id: int) -> dict[str, Any]:
    load_inspection(session, viewer, inspection_id)
    return inspections.pack_json(inspections.pack(session, inspection_id))


def finding_detail(session: Session, viewer: Viewer, finding_id: int) -> dict[str, Any]:
    row = load_finding(session, viewer, finding_id)
    return inspections.finding_out(session, row, inspections.finding_dues(session, [row.id]).get(row.id))


def community_findings(session: Session, viewer: Viewer, community: int, state: str | None) -> dict[str, Any]:
    require_finding_reader(session, viewer, community)
    rows = inspections.findings_of(session, community_id=community, states=(state,) if state else ())
    dues = inspections.finding_dues(session, [f.id for f in rows])
    return {"items": [inspections.finding_out(session, f, dues.get(f.id)) for f in rows]}


# ------------------------------------------------------------------------------------------ actions


def plan(db: Database, viewer: Viewer, community_id: int, period_from: dt.date, period_to: dt.date,
         title: str) -> dict[str, Any]:
    try:
        with db.uow() as uow:
            auth.community_chain(uow.session, community_id)
            row = inspections.plan_inspection(uow.session, viewer.actor, community_id, period_from, period_to, title)
            uow.commit()
            iid = row.id
    except ServiceError as exc:
        raise _refuse(exc.verdict, exc.status) from exc
    with reading(db) as session:
        return inspection_detail(session, viewer, iid)


def fire(db: Database, viewer: Viewer, entity_type: str, entity_id: int, trigger: str, payload: dict[str, Any], *,
         reason: str = "", as_role: str | None = None, expected_version: int | None = None
         ) -> tuple[Outcome, dict[str, Any]]:
    """One event on an inspection or a finding; returns the outcome and the record as it now is."""
    outcome = fire_event(db, entity_type, entity_id, trigger, viewer.actor, payload, reason=reason, as_role=as_role,
                         expected_version=expected_version)
    if not outcome.ok:
        if outcome.status == 404:
            code = "inspection.not_found" if entity_type == "inspection" else "finding.not_found"
            raise NotFound(outcome.verdict.message, code=code, article=outcome.verdict.article)
        raise _refuse(outcome.verdict, outcome.status)
    with reading(db) as session:
        if entity_type == "inspection":
            row = session.get(Inspection, entity_id)
            assert row is not None
            return outcome, {**inspections.inspection_out(session, row), "links": _links(row.id)}
        return outcome, finding_detail(session, viewer, entity_id)


def pack_pdf(db: Database, viewer: Viewer, inspection_id: int) -> papers.Printed:
    """The pack printed, and its verification code recorded."""
    with reading(db) as session:
        load_inspection(session, viewer, inspection_id)
        printed = papers.render(session, "inspection_pack", inspection_id)
    with db.uow() as uow:
        papers.register(uow.session, "inspection_pack", inspection_id, printed.doc, printed.owner, printed.sha256)
        uow.commit()
    return printed
