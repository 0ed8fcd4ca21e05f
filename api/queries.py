"""Read models: what the routes render, computed from the store in one read-only session.

Each function takes the session and the viewer, checks what the viewer may read, and returns plain
dicts shaped like the response models in :mod:`api.schemas`. Public outputs are masked here.
"""
from __future__ import annotations

import datetime as dt
from functools import lru_cache
from typing import Any

from sqlalchemy import Table, and_, bindparam, func, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import BindParameter, ColumnElement

from api.auth import PostHeld, Viewer, readable_communities, require_admin, require_read, require_read_chain
from api.errors import ApiError, Forbidden, NotFound
from api.reads import ReadCache
from rules import project as r_project
from rules.money import format_yuan
from rules.privacy import mask_text
from store.calendar import load_calendar
from store.models import (
    Approval,
    AuditEvent,
    Concern,
    Deadline,
    FundYear,
    LineItem,
    Need,
    Notice,
    Objection,
    Organisation,
    PaymentItem,
    Person,
    PolicyVersion,
    Post,
    Project,
    ProjectNeed,
    Signature,
    SignOff,
    VoucherEvidence,
)
from workflow import clock
from workflow.context import chain_from
from workflow.engine import ROLE_LABELS, ROLE_LEVEL, org_chain, policy_of
from workflow.machines import Workflow, workflow_for
from workflow.public import public_name

API = "/api/v1"
#: events no user fires through the project/fund-year routes: timers, and the residents' objection
#: (which has its own public route)
NOT_USER_EVENTS = frozenset({"publicity_elapsed", "completion_elapsed", "disclosure_elapsed", "object",
                             "accept_answer"})
NOTICE_KINDS = {"publicity": "项目公示", "completion": "建成公示", "voucher_payment": "无发票支出公示",
                "disclosure": "年度公示", "termination": "项目终止公示"}


def local(instant: dt.datetime | None) -> dt.datetime | None:
    return instant.astimezone(clock.SHANGHAI) if instant is not None else None


def org_ref(session: Session, org_id: int) -> dict[str, Any]:
    row = session.execute(select(Organisation.id, Organisation.code, Organisation.name, Organisation.level)
                          .where(Organisation.id == org_id)).one()
    return {"id": row[0], "code": row[1], "name": row[2], "level": row[3]}


def names(session: Session, ids: set[int | None]) -> dict[int, str]:
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    return {int(i): str(n) for i, n in session.execute(select(Person.id, Person.display_name)
                                                        .where(Person.id.in_(wanted)))}


def post_out(p: Any) -> dict[str, Any]:
    return {"id": p.id, "organisation": {"id": p.organisation_id, "code": p.org_code, "name": p.org_name,
                                         "level": p.org_level},
            "role": p.role, "role_label": ROLE_LABELS.get(p.role, p.role), "valid_from": p.valid_from,
            "valid_to": p.valid_to}


def me(viewer: Viewer) -> dict[str, Any]:
    return {"id": viewer.person_id, "username": viewer.username, "display_name": viewer.display_name,
            "today": clock.today(), "posts": [post_out(p) for p in viewer.posts], "session": viewer.session_kind,
            "session_expires_at": local(viewer.expires_at)}


# ------------------------------------------------------------------------------ shared parts


def allowed_events(wf: Workflow, state: str, viewer: Viewer, chain: dict[str, int]) -> list[dict[str, Any]]:
    """Events whose roles the viewer's posts allow from ``state`` (the rules are checked on firing)."""
    return [dict(e) for e in _allowed_events(wf, state, frozenset(viewer.roles_for(chain)))]


@lru_cache(maxsize=1024)
def _allowed_events(wf: Workflow, state: str, mine: frozenset[str]) -> tuple[dict[str, Any], ...]:
    # a function of the definition (fixed for the process), the state and the viewer's roles there
    out = []
    for trigger in wf.triggers():
        if trigger in NOT_USER_EVENTS:
            continue
        roles = [r for r in wf.roles_for(trigger, state) if r in mine]
        if roles:
            out.append({"event": trigger, "label": wf.module.EVENT_LABELS.get(trigger, trigger), "roles": roles,
                        "article": wf.article(trigger)})
    return tuple(out)


def _t(model: Any) -> Table:
    return model.__table__  # type: ignore[no-any-return]


_DL = _t(Deadline)
_DEADLINE_ROW = (_DL.c.kind, _DL.c.event, _DL.c.start_date, _DL.c.workdays, _DL.c.due_at, _DL.c.provisional)
_OPEN_DEADLINES = (select(*_DEADLINE_ROW).where(_DL.c.entity_type == bindparam("etype"),
                                                _DL.c.entity_id == bindparam("eid"), _DL.c.status == "open")
                   .order_by(_DL.c.due_at))


def deadlines(session: Session, entity_type: str, entity_id: int) -> list[dict[str, Any]]:
    rows = session.execute(_OPEN_DEADLINES, {"etype": entity_type, "eid": entity_id}).all()
    return deadline_views(session, [tuple(r) for r in rows])


def deadline_views(session: Session, rows: list[tuple[Any, ...]]) -> list[dict[str, Any]]:
    """Open deadlines as shown: due instant in Asia/Shanghai, working days left, overdue."""
    if not rows:
        return []
    calendar = load_calendar(session)
    now = clock.now()
    today = clock.local_date(now)
    out = []
    for kind, event, start, workdays, due_at, provisional in rows:
        last_day = clock.local_date(due_at) - dt.timedelta(days=1)
        # working days of the period not yet over: today counts when it is one of them (the start day never is)
        left = calendar.workdays_between(max(today - dt.timedelta(days=1), start), last_day) if due_at > now else 0
        out.append({"kind": kind, "event": event, "start_date": start, "workdays": workdays, "last_day": last_day,
                    "due_at": local(due_at), "workdays_left": left, "provisional": bool(provisional),
                    "overdue": due_at <= now})
    return out


def _outcome_verdict(v: Any) -> dict[str, Any]:
    return {"code": v.code, "message": v.message, "article": v.article, "warning": bool(v.warning)}


def outcome_out(o: Any, trigger: str) -> dict[str, Any]:
    return {"event": trigger, "from_state": o.from_state, "to_state": o.to_state, "version": o.version,
            "replayed": o.replayed, "data": o.data, "verdict": _outcome_verdict(o.verdict)}


# ------------------------------------------------------------------------------------ needs


def need_out(n: Need) -> dict[str, Any]:
    return {"id": n.id, "community_id": n.community_id, "title": n.title, "description": n.description,
            "channel": n.channel, "residents_count": n.residents_count, "recorded_by": n.recorded_by,
            "created_at": local(n.created_at), "answer": n.answer, "answered_at": local(n.answered_at)}


def list_needs(session: Session, viewer: Viewer, community: int | None, limit: int, offset: int) -> list[dict[str, Any]]:
    if community is not None:
        require_read(session, viewer, community)
        ids = [community]
    else:
        ids = readable_communities(session, viewer)
    rows = session.execute(select(Need).where(Need.community_id.in_(ids)).order_by(Need.id.desc())
                           .limit(limit).offset(offset)).scalars()
    return [need_out(n) for n in rows]


# --------------------------------------------------------------------------------- projects


def _summary(p: Any, year: int) -> dict[str, Any]:
    wf = workflow_for("project")
    return {"id": p.id, "code": p.code, "title": p.title, "community_id": p.community_id, "year": year,
            "state": p.state, "state_label": wf.module.LABELS.get(p.state, p.state), "version": p.version,
            "category": p.category, "amount": format_yuan(p.amount_fen), "is_small_group": p.is_small_group,
            "is_aid": p.is_aid, "links": {"self": f"{API}/projects/{p.id}"}}


def readable_scope(viewer: Viewer) -> Any:
    """:func:`api.auth.readable_communities` as a SELECT of the ids (a statement to put in ``IN (…)``, not a
    list: a city administrator reads hundreds of communities)."""
    def held(level: str) -> list[int]:
        return sorted({p.organisation_id for p in viewer.posts if ROLE_LEVEL.get(p.role) == level})

    city_areas = select(Organisation.id).where(Organisation.parent_id.in_(held("city")), Organisation.level == "area")
    return select(Organisation.id).where(Organisation.level == "community", or_(
        Organisation.id.in_(held("community")), Organisation.parent_id.in_(held("area")),
        Organisation.parent_id.in_(city_areas)))


def readable_names(session: Session, viewer: Viewer) -> list[tuple[int, str]]:
    """(id, name) of every community the viewer may read, in id order."""
    return [(int(i), str(n)) for i, n in session.execute(
        select(Organisation.id, Organisation.name).where(Organisation.id.in_(readable_scope(viewer)))
        .order_by(Organisation.id))]


def list_projects(session: Session, viewer: Viewer, community: int | None, state: str | None, year: int | None,
                  limit: int, offset: int) -> dict[str, Any]:
    if community is not None:
        require_read(session, viewer, community)
        cond: list[ColumnElement[bool]] = [Project.community_id == community]
    else:
        cond = [Project.community_id.in_(readable_scope(viewer))]
    if state is not None:
        cond.append(Project.state == state)
    if year is not None:
        cond.append(FundYear.year == year)
    base = select(Project, FundYear.year).join(FundYear, FundYear.id == Project.fund_year_id).where(*cond)
    total = session.execute(select(func.count()).select_from(base.subquery())).scalar_one()
    rows = session.execute(base.order_by(Project.id).limit(limit).offset(offset)).all()
    return {"items": [_summary(p, y) for p, y in rows], "total": total, "limit": limit, "offset": offset}


def load_project(session: Session, viewer: Viewer, pid: int) -> tuple[Project, dict[str, int]]:
    p = session.get(Project, pid)
    if p is None:
        raise NotFound(f"项目 #{pid} 不存在", code="project.not_found")
    return p, require_read(session, viewer, p.community_id)


# Statements of the project detail, built once with bound parameters on table columns (plain rows,
# no ORM objects): building a select and its cache key per call costs more than running it.
_PJ, _FY, _PE, _OR = _t(Project), _t(FundYear), _t(Person), _t(Organisation)
_LI, _PN, _PI, _SG, _VE = _t(LineItem), _t(ProjectNeed), _t(PaymentItem), _t(Signature), _t(VoucherEvidence)
_AP, _SO, _CO, _OB = _t(Approval), _t(SignOff), _t(Concern), _t(Objection)
_PID: BindParameter[int] = bindparam("pid")

# what every request reads: the version (the cache key), what decides who may read and which parts
# exist, and the open deadlines (the sweep may close one without an event), in one round trip
# (the community's chain too: read afresh, as ``workflow.context.org_chain`` would, without its own round trip)
_COMMUNITY, _AREA, _CITY = _OR.alias("community_org"), _OR.alias("parent_org"), _OR.alias("grandparent_org")
_HEAD = (select(_PJ.c.version, _PJ.c.community_id, _PJ.c.state, _PJ.c.approval_round,
                _COMMUNITY.c.level, _COMMUNITY.c.parent_id, _AREA.c.level, _AREA.c.parent_id, _CITY.c.level,
                *_DEADLINE_ROW)
         .outerjoin(_COMMUNITY, _COMMUNITY.c.id == _PJ.c.community_id)
         .outerjoin(_AREA, _AREA.c.id == _COMMUNITY.c.parent_id)
         .outerjoin(_CITY, _CITY.c.id == _AREA.c.parent_id)
         .outerjoin(_DL, and_(_DL.c.entity_type == "project", _DL.c.entity_id == _PJ.c.id, _DL.c.status == "open"))
         .where(_PJ.c.id == _PID).order_by(_DL.c.due_at))
_HEAD_DEADLINE = 9  # where the deadline's columns start in a row of _HEAD
_ROW = (select(_PJ, _FY.c.year, _PE.c.display_name.label("proposer_name"), _OR.c.code.label("org_code"),
               _OR.c.name.label("org_name"), _OR.c.level.label("org_level"))
        .join(_FY, _FY.c.id == _PJ.c.fund_year_id).join(_PE, _PE.c.id == _PJ.c.proposer_id)
        .join(_OR, _OR.c.id == _PJ.c.community_id).where(_PJ.c.id == _PID))
_NEED_IDS = select(_PN.c.need_id).where(_PN.c.project_id == _PID).order_by(_PN.c.need_id)
_LINE_ITEMS = (select(_LI.c.id, _LI.c.description, _LI.c.quantity, _LI.c.unit_price_fen, _LI.c.amount_fen,
                      _LI.c.catalog_item, _LI.c.flagged_keywords, _LI.c.flag_decision, _LI.c.flag_decided_by,
                      _LI.c.flag_decided_at, _LI.c.flag_note)
               .where(_LI.c.project_id == _PID).order_by(_LI.c.id))
_PAY_ITEMS = (select(_PI.c.id, _PI.c.kind, _PI.c.amount_fen, _PI.c.payee, _PI.c.payee_account, _PI.c.invoice_no,
                     _PI.c.status, _PI.c.issuer_tax_id, _PI.c.cancelled_at, _PI.c.cancel_reason)
              .where(_PI.c.project_id == _PID).order_by(_PI.c.id))
_SIGNATURES = (select(_SG.c.payment_item_id, _SG.c.seq, _SG.c.role, _SG.c.person_id, _PE.c.display_name, _SG.c.at,
                      _SG.c.lapsed_at)
               .join(_PI, _PI.c.id == _SG.c.payment_item_id).outerjoin(_PE, _PE.c.id == _SG.c.person_id)
               .where(_PI.c.project_id == _PID).order_by(_SG.c.payment_item_id, _SG.c.seq))
_EVIDENCE = (select(_VE.c.payment_item_id, _VE.c.kind).join(_PI, _PI.c.id == _VE.c.payment_item_id)
             .where(_PI.c.project_id == _PID).order_by(_VE.c.id))
_APPROVALS = (select(_AP.c.round, _AP.c.role, _AP.c.person_id, _PE.c.display_name, _AP.c.decision, _AP.c.at)
              .outerjoin(_PE, _PE.c.id == _AP.c.person_id)
              .where(_AP.c.project_id == _PID, _AP.c.round == bindparam("round")).order_by(_AP.c.id))
_SIGNOFFS = (select(_SO.c.stage, _SO.c.person_id, _PE.c.display_name, _SO.c.at, _SO.c.voided_at)
             .outerjoin(_PE, _PE.c.id == _SO.c.person_id).where(_SO.c.project_id == _PID).order_by(_SO.c.id))
_CONCERNS = (select(_CO.c.id, _CO.c.text, _CO.c.raised_by, _CO.c.created_at, _CO.c.resolved_at, _CO.c.resolution)
             .where(_CO.c.project_id == _PID).order_by(_CO.c.id))
_OBJECTIONS = (select(_OB.c.id, _OB.c.notice_id, _OB.c.author_name, _OB.c.contact, _OB.c.text, _OB.c.created_at,
                      _OB.c.answer, _OB.c.answered_by, _OB.c.answered_at, _OB.c.resolved, _OB.c.resolution,
                      _OB.c.resolved_by, _OB.c.resolved_at, _OB.c.resolution_comment)
               .where(_OB.c.project_id == _PID).order_by(_OB.c.id))


def project_detail(session: Session, viewer: Viewer, pid: int, cache: ReadCache | None = None) -> dict[str, Any]:
    for _attempt in range(3):
        head = session.execute(_HEAD, {"pid": pid}).all()
        if not head:
            raise NotFound(f"项目 #{pid} 不存在", code="project.not_found")
        version, community_id, state, approval_round = head[0][:4]
        level = head[0][4]
        chain = chain_from(community_id, *head[0][4:_HEAD_DEADLINE]) if level is not None else {}
        chain = require_read_chain(viewer, community_id, chain)
        cached = cache.get((pid, version)) if cache is not None else None
        if cached is not None:
            static = cached
            break
        before = cache.carried((pid, version)) if cache is not None else None
        static = _project_static(session, pid, state, approval_round, before)
        if static["version"] == version:
            if cache is not None:
                cache.put((pid, version), static)
            break
        # an event committed between the reads: read again, all of it
    wf = workflow_for("project")
    open_deadlines = [tuple(r[_HEAD_DEADLINE:]) for r in head if r[_HEAD_DEADLINE] is not None]
    return {**static, "deadlines": deadline_views(session, open_deadlines),
            "allowed_events": allowed_events(wf, static["state"], viewer, chain)}


PAYING_STATES = frozenset({"settlement", "completion_publicity", "closed", "terminated"})


def _project_static(session: Session, pid: int, state: str, approval_round: int,
                    before: dict[str, Any] | None = None) -> dict[str, Any]:
    """Everything of the detail but the deadlines and the caller's events.

    ``state`` and ``approval_round`` are the head's; the project row is read last, so that when its
    version is still the head's, no event committed while the parts were read (every change to a
    project advances its version) and the whole is the project at that version. ``before``: parts
    known to be unchanged since the previous version (:meth:`api.reads.ReadCache.carry`), with the
    state and approval round they were read with.
    """
    run = session.execute
    arg = {"pid": pid}
    # payment items are added in settlement (Art. 13): none before
    paying = state in PAYING_STATES
    parts = dict(before or {})
    read_state, read_round = parts.pop("state", None), parts.pop("approval_round", None)
    if read_round != approval_round:
        parts.pop("approvals", None)
    if (read_state in PAYING_STATES) != paying:
        parts.pop("payment_items", None)
    if "need_ids" not in parts:
        parts["need_ids"] = list(run(_NEED_IDS, arg).scalars())
    if "line_items" not in parts:
        parts["line_items"] = [
            {"id": i, "description": d, "quantity": q, "unit_price": format_yuan(u), "amount": format_yuan(a),
             "catalog_item": c, "flagged_keywords": list(k or []), "flag_decision": fd, "flag_decided_by": fby,
             "flag_decided_at": local(fat), "flag_note": fn}
            for i, d, q, u, a, c, k, fd, fby, fat, fn in run(_LINE_ITEMS, arg)]
    if "payment_items" not in parts:
        parts["payment_items"] = _payment_items(session, pid) if paying else []
    if "approvals" not in parts:
        parts["approvals"] = [
            {"round": r, "role": role, "person_id": who, "person_name": name or "", "decision": d, "at": local(at)}
            for r, role, who, name, d, at in (run(_APPROVALS, {"pid": pid, "round": approval_round})
                                              if approval_round else ())]
    if "signoffs" not in parts:
        parts["signoffs"] = [{"stage": stage, "person_id": who, "person_name": name or "", "at": local(at),
                              "voided_at": local(voided)} for stage, who, name, at, voided in run(_SIGNOFFS, arg)]
    if "concerns" not in parts:
        parts["concerns"] = [{"id": i, "text": text, "raised_by": by, "created_at": local(at),
                              "resolved": done is not None, "resolution": resolution}
                             for i, text, by, at, done, resolution in run(_CONCERNS, arg)]
    if "objections" not in parts:
        # the receipt code is the resident's alone: never in what the committee reads
        parts["objections"] = [{"id": o.id, "notice_id": o.notice_id, "author_name": o.author_name,
                                "contact": o.contact, "text": o.text, "created_at": local(o.created_at),
                                "answer": o.answer, "answered_by": o.answered_by, "answered_at": local(o.answered_at),
                                "resolved": o.resolved, "status": objection_status(o.answer, o.resolution)[0],
                                "resolved_by": o.resolved_by, "resolved_at": local(o.resolved_at),
                                "resolution_comment": o.resolution_comment} for o in run(_OBJECTIONS, arg)]
    p = run(_ROW, arg).one()
    wf = workflow_for("project")
    return {
        "id": p.id, "code": p.code, "title": p.title, "description": p.description,
        "community": {"id": p.community_id, "code": p.org_code, "name": p.org_name, "level": p.org_level},
        "year": p.year, "fund_year_id": p.fund_year_id,
        "state": p.state, "state_label": wf.module.LABELS.get(p.state, p.state), "version": p.version,
        "category": p.category, "category_label": r_project.CATEGORIES.get(p.category, p.category),
        "category_justification": p.category_justification, "amount": format_yuan(p.amount_fen),
        "committed": format_yuan(p.committed_fen), "paid": format_yuan(p.paid_fen),
        "released": format_yuan(p.released_fen), "beneficiaries_count": p.beneficiaries_count,
        "beneficiaries_desc": p.beneficiaries_desc, "is_small_group": p.is_small_group,
        "small_group_marked": p.small_group_marked, "is_aid": p.is_aid, "contractor_name": p.contractor_name,
        "contractor_kind": p.contractor_kind, "planned_start": p.planned_start, "planned_end": p.planned_end,
        "proposer_id": p.proposer_id, "proposer_name": p.proposer_name,
        "approval_round": p.approval_round, "received_at": local(p.received_at), "created_at": local(p.created_at),
        "need_ids": parts["need_ids"],
        "line_items": _with_catalog_names(session, p.policy_version_id, parts["line_items"]),
        "payment_items": parts["payment_items"],
        "approvals": parts["approvals"],
        "signoffs": parts["signoffs"],
        "concerns": parts["concerns"],
        "objections": parts["objections"],
        "links": {"self": f"{API}/projects/{p.id}", "history": f"{API}/projects/{p.id}/history",
                  "events": f"{API}/projects/{p.id}/events/{{event}}",
                  "fund_year": f"{API}/fund-years/{p.community_id}/{p.year}",
                  "notices": f"{API}/public/notices?community={p.community_id}",
                  # documents (issue 10): the index, and the application form every project has
                  "documents": f"{API}/projects/{p.id}/documents",
                  "application_form": f"{API}/documents/application_form/{p.id}"},
    }


def _with_catalog_names(session: Session, policy_version_id: int, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each line item with the name its procurement-catalogue code has in the project's policy (第十二条)."""
    names = policy_of(session, policy_version_id).catalog_names()
    return [{**i, "catalog_name": names.get(i["catalog_item"], "")} for i in items]


def _payment_items(session: Session, pid: int) -> list[dict[str, Any]]:
    arg = {"pid": pid}
    items = session.execute(_PAY_ITEMS, arg).all()
    if not items:
        return []
    sigs = session.execute(_SIGNATURES, arg).all()
    evidence = session.execute(_EVIDENCE, arg).all()
    return [{
        "id": i.id, "kind": i.kind, "amount": format_yuan(i.amount_fen), "payee": i.payee,
        "payee_account": i.payee_account, "invoice_no": i.invoice_no, "status": i.status,
        "issuer_tax_id": i.issuer_tax_id or "", "cancelled_at": local(i.cancelled_at),
        "cancel_reason": i.cancel_reason or "",
        "signatures": [{"seq": seq, "role": role, "role_label": ROLE_LABELS.get(role, role), "person_id": who,
                        "person_name": name or "", "at": local(at), "lapsed": lapsed is not None}
                       for item_id, seq, role, who, name, at, lapsed in sigs if item_id == i.id],
        "evidence": [k for item_id, k in evidence if item_id == i.id]} for i in items]


def history(session: Session, viewer: Viewer, entity_type: str, entity_id: int) -> dict[str, Any]:
    if entity_type == "project":
        p, _chain = load_project(session, viewer, entity_id)
        version = p.version
    else:
        fy = session.get(FundYear, entity_id)
        if fy is None:
            raise NotFound("经费年度不存在", code="fund_year.not_found")
        require_read(session, viewer, fy.community_id)
        version = fy.version
    wf = workflow_for(entity_type)
    events = list(session.execute(select(AuditEvent).where(AuditEvent.entity_type == entity_type,
                                                           AuditEvent.entity_id == entity_id)
                                  .order_by(AuditEvent.seq)).scalars())
    who = names(session, {e.actor_id for e in events})
    labels = {"create": "创建", "open": "开放年度", "carry_in": "上年结余转入", "deadline_recomputed": "期限重新计算"}
    return {"entity_type": entity_type, "entity_id": entity_id, "version": version, "events": [{
        "seq": e.seq, "event": e.event, "event_label": wf.module.EVENT_LABELS.get(e.event, labels.get(e.event, e.event)),
        "at": local(e.at), "actor_id": e.actor_id, "actor_label": e.actor_label,
        "actor_name": who.get(e.actor_id, "") if e.actor_id else ROLE_LABELS.get(e.actor_label, e.actor_label),
        "role": e.role, "role_label": ROLE_LABELS.get(e.role, e.role), "from_state": e.from_state,
        "to_state": e.to_state, "payload": e.payload or {}, "reason": e.reason, "hash": e.hash,
        "prev_hash": e.prev_hash} for e in events]}


# ------------------------------------------------------------------------------- fund years


def find_fund_year(session: Session, community: int, year: int) -> FundYear:
    fy = session.execute(select(FundYear).where(FundYear.community_id == community, FundYear.year == year)
                         ).scalar_one_or_none()
    if fy is None:
        raise NotFound(f"社区 #{community} 的 {year} 年度经费尚未开放", code="fund_year.not_found")
    return fy


def procurement_catalog(session: Session, viewer: Viewer, community: int, year: int | None) -> dict[str, Any]:
    """The procurement catalogue (第十二条) line items are checked against: the one of the policy version the
    community's fund year ``year`` pinned (its proposals keep it), or without a year the city's policy in
    force today."""
    chain = require_read(session, viewer, community)
    if year is not None:
        pv_id = find_fund_year(session, community, year).policy_version_id
    else:
        from workflow.services import ServiceError, current_policy

        try:
            pv_id = current_policy(session, chain["city"], clock.today()).id
        except ServiceError as exc:
            raise ApiError.from_verdict(exc.verdict, 404) from exc
    row = session.execute(select(PolicyVersion.version, PolicyVersion.effective_from)
                          .where(PolicyVersion.id == pv_id)).one()
    catalog = policy_of(session, pv_id).procurement_catalog
    return {"community_id": community, "year": year, "policy_version": row.version,
            "effective_from": row.effective_from, "items": [{"code": c, "name": n} for c, n in catalog]}


def fund_year_detail(session: Session, viewer: Viewer, community: int, year: int) -> dict[str, Any]:
    chain = require_read(session, viewer, community)
    fy = find_fund_year(session, community, year)
    wf = workflow_for("fund_year")
    policy = policy_of(session, fy.policy_version_id)
    pv = session.execute(select(PolicyVersion.version).where(PolicyVersion.id == fy.policy_version_id)).scalar_one()
    total = fy.allocation_fen + fy.carry_in_fen
    cap = policy.small_group_cap
    return {
        "id": fy.id, "community": org_ref(session, community), "year": fy.year, "state": fy.state,
        "state_label": wf.module.LABELS.get(fy.state, fy.state), "version": fy.version,
        "allocation": format_yuan(fy.allocation_fen), "carry_in": format_yuan(fy.carry_in_fen),
        "total": format_yuan(total), "committed": format_yuan(fy.committed_fen), "paid": format_yuan(fy.paid_fen),
        "available": format_yuan(total - fy.committed_fen - fy.paid_fen),
        "small_group_cap": format_yuan(policy.cap_amount_fen(fy.allocation_fen, fy.carry_in_fen)),
        "small_group_cap_ratio": f"{cap.numerator}/{cap.denominator}",
        "small_group_committed": format_yuan(fy.small_group_committed_fen),
        "carry_out": None if fy.carry_out_fen is None else format_yuan(fy.carry_out_fen), "policy_version": pv,
        "report": dict(fy.report or {}), "deadlines": deadlines(session, "fund_year", fy.id),
        "allowed_events": allowed_events(wf, fy.state, viewer, chain),
        "links": {"self": f"{API}/fund-years/{community}/{year}",
                  "events": f"{API}/fund-years/{community}/{year}/events/{{event}}",
                  "history": f"{API}/fund-years/{community}/{year}/history",
                  "projects": f"{API}/projects?community={community}&year={year}",
                  "disclosure": f"{API}/public/disclosures/{community}/{year}",
                  # documents (issue 10)
                  "documents": f"{API}/fund-years/{community}/{year}/documents",
                  "annual_report": f"{API}/documents/annual_report/{fy.id}",
                  "ledger": f"{API}/fund-years/{community}/{year}/ledger.xlsx",
                  "archive": f"{API}/fund-years/{community}/{year}/archive.zip"},
    }


def fund_year_history(session: Session, viewer: Viewer, community: int, year: int) -> dict[str, Any]:
    require_read(session, viewer, community)
    return history(session, viewer, "fund_year", find_fund_year(session, community, year).id)


def workday_after(session: Session, start: dt.date, n: int) -> dict[str, Any]:
    if not (dt.date(1900, 1, 1) <= start <= dt.date(2200, 12, 31)):
        from api.errors import Unprocessable

        raise Unprocessable("日期超出可计算的范围(1900–2200 年)", code="calendar.range")
    result = load_calendar(session).workday_after(start, n)
    return {"start": start, "workdays": n, "date": result.date,
            "due_at": local(clock.end_of_local_day(result.date)), "provisional": result.provisional}


# ----------------------------------------------------------------------------------- public


def communities(session: Session) -> list[dict[str, Any]]:
    rows = session.execute(select(Organisation.id, Organisation.code, Organisation.name, Organisation.parent_id)
                           .where(Organisation.level == "community").order_by(Organisation.id)).all()
    return [{"id": i, "code": c, "name": n, "area_id": a} for i, c, n, a in rows]


def aid_names(session: Session, project_id: int | None) -> list[str]:
    """Names that must never appear in public for an aid project: an individual contractor, the payees."""
    from workflow.public import private_names

    return private_names(session, [project_id])


def aid_names_by_project(session: Session, project_ids: list[int | None]) -> dict[int, list[str]]:
    """:func:`aid_names` of many projects in two statements: project id → its private names (sorted; a
    project that is no aid project has none)."""
    ids = sorted({int(i) for i in project_ids if i is not None})
    if not ids:
        return {}
    rows = session.execute(select(Project.id, Project.contractor_kind, Project.contractor_name)
                           .where(Project.id.in_(ids), Project.is_aid.is_(True))).all()
    names: dict[int, set[str]] = {i: ({n} if kind == "individual" and n else set()) for i, kind, n in rows}
    if names:
        for pid, payee in session.execute(select(PaymentItem.project_id, PaymentItem.payee)
                                          .where(PaymentItem.project_id.in_(list(names)))):
            if payee:
                names[pid].add(payee)
    return {i: sorted(n) for i, n in names.items()}


def _accepts(n: Notice, state: str | None, now: dt.datetime) -> bool:
    wanted = {"publicity": "publicity", "completion": "completion_publicity"}.get(n.kind)
    return wanted is not None and state == wanted and n.starts_at <= now < n.ends_at


def _notice_summary(n: Notice, community_name: str, code: str | None, state: str | None, now: dt.datetime,
                    masked_names: list[str]) -> dict[str, Any]:
    return {"id": n.id, "community_id": n.community_id, "community_name": community_name, "kind": n.kind,
            "kind_label": NOTICE_KINDS.get(n.kind, n.kind), "title": mask_text(n.title, masked_names),
            "project_code": code, "starts_at": local(n.starts_at), "ends_at": local(n.ends_at),
            "provisional": n.provisional, "running": n.starts_at <= now < n.ends_at,
            "accepts_objections": _accepts(n, state, now)}


def _notice_rows(session: Session) -> Any:
    return (select(Notice, Organisation.name, Project.code, Project.state)
            .join(Organisation, Organisation.id == Notice.community_id)
            .outerjoin(Project, Project.id == Notice.project_id))


def public_notices(session: Session, community: int | None, kind: str | None, running: bool | None, limit: int,
                   offset: int) -> dict[str, Any]:
    now = clock.now()
    cond: list[ColumnElement[bool]] = []
    if community is not None:
        cond.append(Notice.community_id == community)
    if kind is not None:
        cond.append(Notice.kind == kind)
    if running is True:
        cond += [Notice.starts_at <= now, Notice.ends_at > now]
    elif running is False:
        cond.append(Notice.ends_at <= now)
    total = session.execute(select(func.count()).select_from(Notice).where(*cond)).scalar_one()
    rows = session.execute(_notice_rows(session).where(*cond).order_by(Notice.starts_at.desc(), Notice.id.desc())
                           .limit(limit).offset(offset)).all()
    private = aid_names_by_project(session, [n.project_id for n, _c, _p, _s in rows])
    items = [_notice_summary(n, cname, code, state, now, private.get(n.project_id, []) if n.project_id else [])
             for n, cname, code, state in rows]
    return {"items": items, "total": total, "limit": limit, "offset": offset}


def public_notice(session: Session, notice_id: int) -> dict[str, Any]:
    row = session.execute(_notice_rows(session).where(Notice.id == notice_id)).one_or_none()
    if row is None:
        raise NotFound(f"公示 #{notice_id} 不存在", code="notice.not_found")
    n, cname, code, state = row
    now = clock.now()
    masked = aid_names(session, n.project_id)
    out = _notice_summary(n, cname, code, state, now, masked)
    objections = session.execute(select(Objection).where(Objection.notice_id == n.id).order_by(Objection.id)).scalars()
    out["body"] = mask_text(n.body, masked)
    out["objections"] = [{"id": o.id, "author": public_name(o.author_name) if o.author_name else "匿名",
                          "text": mask_text(o.text, masked + ([o.author_name] if o.author_name else [])),
                          "created_at": local(o.created_at), "answer": mask_text(o.answer, masked),
                          "answered_at": local(o.answered_at), "resolved": o.resolved,
                          "status": objection_status(o.answer, o.resolution)[0]} for o in objections]
    return out


def objection_status(answer: str, resolution: str) -> tuple[str, str]:
    from workflow.receipts import STATUS_LABELS, status_of

    status = status_of(answer, resolution)
    return status, STATUS_LABELS[status]


def find_receipt(session: Session, code: str) -> Objection | None:
    """The objection whose receipt code this is (any case, spaces or dashes), or None."""
    from workflow.receipts import normalise, well_formed

    code = normalise(code)
    if not well_formed(code):
        return None
    return session.execute(select(Objection).where(Objection.receipt_code == code)).scalar_one_or_none()


def objection_receipt(session: Session, code: str) -> dict[str, Any]:
    """What a resident sees with the receipt code: where the objection stands and the answer (masked)."""
    o = find_receipt(session, code)
    if o is None:
        raise NotFound("回执码不存在,请核对后重新输入", code="receipt.not_found", article="第十条")
    row = session.execute(select(Project.code, Project.title, Project.state).where(Project.id == o.project_id)).one()
    masked = aid_names(session, o.project_id)
    status, label = objection_status(o.answer, o.resolution)
    accepting = {"publicity", "completion_publicity", "joint_meeting"}
    return {"receipt_code": o.receipt_code, "status": status, "status_label": label, "notice_id": o.notice_id,
            "project_code": row[0], "project_title": mask_text(row[1], masked),
            "text": mask_text(o.text, masked + ([o.author_name] if o.author_name else [])),
            "created_at": local(o.created_at), "answer": mask_text(o.answer, masked),
            "answered_at": local(o.answered_at), "resolved_at": local(o.resolved_at),
            "can_accept": status == "answered" and row[2] in accepting,
            "links": {"self": f"{API}/public/objections/receipt/{o.receipt_code}",
                      "accept": f"{API}/public/objections/receipt/{o.receipt_code}/accept",
                      "notice": f"{API}/public/notices/{o.notice_id}"}}


def notice_project(session: Session, notice_id: int) -> int:
    row = session.execute(select(Notice.project_id, Notice.kind).where(Notice.id == notice_id)).one_or_none()
    if row is None:
        raise NotFound(f"公示 #{notice_id} 不存在", code="notice.not_found")
    if row[0] is None or row[1] not in ("publicity", "completion"):
        from api.errors import Conflict

        raise Conflict("该公示不接受异议(只有项目公示和建成公示期间可以提出异议)", code="notice.no_objections",
                       article="第十条")
    return int(row[0])


DISCLOSED = ("disclosing", "disclosed", "closed")


def disclosure(session: Session, community: int, year: int) -> dict[str, Any]:
    from workflow.forms import disclosure_values

    cname = session.execute(select(Organisation.name).where(Organisation.id == community,
                                                            Organisation.level == "community")).scalar_one_or_none()
    if cname is None:
        raise NotFound(f"社区 #{community} 不存在", code="community.not_found")
    fy = session.execute(select(FundYear).where(FundYear.community_id == community, FundYear.year == year)
                         ).scalar_one_or_none()
    if fy is None or fy.state not in DISCLOSED:
        raise NotFound(f"{cname}社区 {year} 年度经费使用情况尚未公示", code="disclosure.not_published")
    values = disclosure_values(session, fy)
    from workflow.public import private_names

    masked = private_names(session, fund_year_id=fy.id)
    notice_id = session.execute(select(Notice.id).where(Notice.fund_year_id == fy.id, Notice.kind == "disclosure")
                                .order_by(Notice.id.desc()).limit(1)).scalar_one_or_none()
    wf = workflow_for("fund_year")
    return {"community_id": community, "community_name": cname, "year": year, "state": fy.state,
            "state_label": wf.module.LABELS.get(fy.state, fy.state), "allocation": values["allocation"],
            "carry_in": values["carry_in"], "total": values["total"], "committed": values["committed"],
            "paid": values["paid"], "available": values["available"], "small_group": values["small_group"],
            "small_group_cap": values["cap"], "service_effect": mask_text(values["service_effect"], masked),
            "projects": [{"code": p["code"], "title": mask_text(p["title"], masked), "state": p["state"],
                          "amount": p["amount"], "paid": p["paid"]} for p in values["projects"]],
            "notice_id": notice_id}


# ---------------------------------------------------------------------------- administration


def city_of(session: Session, org_id: int) -> int:
    exists = session.execute(select(Organisation.id).where(Organisation.id == org_id)).scalar_one_or_none()
    if exists is None:
        raise NotFound(f"组织 #{org_id} 不存在", code="organisation.not_found")
    chain = org_chain(session, org_id)
    return chain["city"]


def require_admin_of(session: Session, viewer: Viewer, org_id: int) -> int:
    cities = require_admin(viewer)
    city = city_of(session, org_id)
    if city not in cities:
        raise Forbidden("该组织不属于您管理的市", code="auth.admin_other_city")
    return city


def user_out(session: Session, person: Person) -> dict[str, Any]:
    return {"id": person.id, "username": person.username, "display_name": person.display_name,
            "active": person.active, "posts": [post_out(p) for p in _all_posts(session, person.id)]}


def _all_posts(session: Session, person_id: int) -> list[Any]:
    # every post, also ended ones: an administrator sees the whole record
    rows = session.execute(select(Post.id, Post.organisation_id, Organisation.code, Organisation.name,
                                  Organisation.level, Post.role, Post.valid_from, Post.valid_to)
                           .join(Organisation, Organisation.id == Post.organisation_id)
                           .where(Post.person_id == person_id).order_by(Post.id)).all()
    return [PostHeld(*r) for r in rows]


def users(session: Session, viewer: Viewer) -> dict[str, Any]:
    cities = require_admin(viewer)
    people = list(session.execute(select(Person).order_by(Person.id)).scalars())
    out = []
    for person in people:
        posts = _all_posts(session, person.id)
        # an administrator sees the people of their cities (and people without any post yet)
        if posts and not any(org_chain(session, p.organisation_id).get("city") in cities for p in posts):
            continue
        out.append({"id": person.id, "username": person.username, "display_name": person.display_name,
                    "active": person.active, "posts": [post_out(p) for p in posts]})
    return {"items": out}


def policy_out(pv: PolicyVersion) -> dict[str, Any]:
    return {"id": pv.id, "city_id": pv.city_id, "version": pv.version, "effective_from": pv.effective_from,
            "note": pv.note, "data": pv.data, "created_at": local(pv.created_at)}


def policies(session: Session, viewer: Viewer) -> dict[str, Any]:
    cities = require_admin(viewer)
    rows = session.execute(select(PolicyVersion).where(PolicyVersion.city_id.in_(cities))
                           .order_by(PolicyVersion.city_id, PolicyVersion.version)).scalars()
    return {"items": [policy_out(pv) for pv in rows]}



# ------------------------------------------------------------------------- audit anchors (public)


def audit_roots(session: Session, since: dt.date | None, until: dt.date | None, limit: int,
                offset: int) -> dict[str, Any]:
    """The published roots (``workflow.anchors``) and the public keys this service is configured with."""
    from store.models import AuditRoot
    from workflow import anchors

    cond = [c for c in (AuditRoot.day >= since if since else None, AuditRoot.day <= until if until else None)
            if c is not None]
    total = session.execute(select(func.count()).select_from(AuditRoot).where(*cond)).scalar_one()
    keys = [{"key_id": k, "public_key": raw.hex()} for k, raw in sorted(anchors.trusted_keys().items())]
    return {"items": anchors.roots(session, since=since, until=until, limit=limit, offset=offset), "total": total,
            "limit": limit, "offset": offset, "algorithm": "Ed25519", "public_keys": keys}
