"""Reads only the web pages need (the JSON routes' reads are in ``api.queries``, which the pages use too):
needs with their projects, the documents archived for a record, the area and city overview, a
community's whole trail, people and posts. Plain data in, plain dicts out; each function checks what
the viewer may read, like ``api.queries``."""
from __future__ import annotations

import datetime as dt
from functools import cache, lru_cache
from typing import Any

from sqlalchemy import and_, bindparam, case, func, or_, select
from sqlalchemy.orm import Session

from api.auth import PostHeld, Viewer, require_admin, require_read
from api.errors import Forbidden
from api.queries import local, names, readable_scope
from rules.money import format_yuan
from store.models import (
    AuditEvent,
    Concern,
    Deadline,
    Document,
    DocumentLink,
    Finding,
    FundYear,
    LedgerEntry,
    Need,
    Objection,
    Organisation,
    Person,
    PolicyVersion,
    Post,
    Project,
    ProjectNeed,
)
from workflow import clock
from workflow.engine import ROLE_LABELS, ROLE_LEVEL
from workflow.labels import choice_label
from workflow.machines import workflow_for

# ------------------------------------------------------------------------------------------ people


def people_of(session: Session, community_id: int, roles: tuple[str, ...], day: dt.date) -> list[tuple[int, str, str]]:
    """(person id, name, role) of those holding ``roles`` on ``day`` in the community or its area."""
    area = session.execute(select(Organisation.parent_id).where(Organisation.id == community_id)).scalar_one_or_none()
    orgs = [community_id] + ([area] if area is not None else [])
    rows = session.execute(
        select(Person.id, Person.display_name, Post.role).join(Post, Post.person_id == Person.id)
        .where(Post.organisation_id.in_(orgs), Post.role.in_(roles), Post.valid_from <= day,
               or_(Post.valid_to.is_(None), Post.valid_to >= day), Person.active.is_(True))
        .order_by(Post.role, Person.id)).all()
    seen: dict[int, tuple[int, str, str]] = {}
    for pid, name, role in rows:
        seen.setdefault(pid, (pid, name, role))
    return list(seen.values())


def city_orgs(cities: frozenset[int]) -> Any:
    """The organisations of the given cities (the cities, their areas and their communities), as a SELECT
    of their ids (a city has hundreds: a statement, not a list of ids)."""
    areas = select(Organisation.id).where(Organisation.parent_id.in_(sorted(cities)))
    return select(Organisation.id).where(or_(Organisation.id.in_(sorted(cities)), Organisation.parent_id.in_(
        sorted(cities)), Organisation.parent_id.in_(areas)))


PEOPLE_PAGE = 50


def page_offset(offset: int, limit: int, total: int) -> int:
    """``offset`` snapped to the start of its page, and to the last page when it lies past the end."""
    offset = max(0, offset) // limit * limit
    return min(offset, max(0, (total - 1) // limit * limit))


def people(session: Session, viewer: Viewer, offset: int = 0, limit: int | None = None) -> dict[str, Any]:
    """The people of the administrator's cities, one page of them (in the order they were created) with every
    post (ended ones too); every one of them as a choice for the appointment form (id, name, username); the
    organisations."""
    cities = require_admin(viewer)
    limit = limit or PEOPLE_PAGE
    orgs = city_orgs(cities)
    today = clock.today()
    org_rows = session.execute(select(Organisation.id, Organisation.code, Organisation.name, Organisation.level,
                                      Organisation.parent_id).where(Organisation.id.in_(orgs))
                               .order_by(Organisation.level, Organisation.code)).all()
    org_by_id = {o.id: o for o in org_rows}
    in_cities = select(Post.id).where(Post.person_id == Person.id, Post.organisation_id.in_(orgs)).exists()
    # people with no post anywhere yet (just created) are shown too
    no_post = ~select(Post.id).where(Post.person_id == Person.id).exists()
    everyone = session.execute(select(Person.id, Person.username, Person.display_name, Person.active)
                               .where(or_(in_cities, no_post)).order_by(Person.id)).all()
    offset = page_offset(offset, limit, len(everyone))
    shown = everyone[offset:offset + limit]
    by_person: dict[int, list[dict[str, Any]]] = {}
    if shown:
        for pid, person, org, role, start, end in session.execute(
                select(Post.id, Post.person_id, Post.organisation_id, Post.role, Post.valid_from, Post.valid_to)
                .where(Post.person_id.in_([r.id for r in shown]), Post.organisation_id.in_(orgs))
                .order_by(Post.person_id, Post.id)):
            o = org_by_id[org]
            by_person.setdefault(person, []).append({
                "id": pid, "org_code": o.code, "org_name": o.name, "role": role,
                "role_label": ROLE_LABELS.get(role, role), "valid_from": start, "valid_to": end,
                "current": start <= today and (end is None or end >= today)})
    return {"people": [{"id": i, "username": u, "display_name": n, "active": a, "posts": by_person.get(i, [])}
                       for i, u, n, a in shown],
            "choices": [(i, n, u) for i, u, n, _a in everyone],
            "total": len(everyone), "offset": offset, "limit": limit,
            "organisations": [{"id": o.id, "code": o.code, "name": o.name, "level": o.level} for o in org_rows]}


def policies(session: Session, viewer: Viewer) -> list[dict[str, Any]]:
    cities = require_admin(viewer)
    rows = session.execute(select(PolicyVersion, Organisation.name).join(Organisation,
                                                                          Organisation.id == PolicyVersion.city_id)
                           .where(PolicyVersion.city_id.in_(cities))
                           .order_by(PolicyVersion.city_id, PolicyVersion.version.desc())).all()
    return [{"id": pv.id, "city": name, "version": pv.version, "effective_from": pv.effective_from, "note": pv.note,
             "data": pv.data, "created_at": local(pv.created_at)} for pv, name in rows]


# ------------------------------------------------------------------------------------------- needs


def _need_row(n: Need, community: str, projects: list[dict[str, Any]]) -> dict[str, Any]:
    return {"id": n.id, "community_id": n.community_id, "community_name": community, "title": n.title,
            "description": n.description, "channel": n.channel,
            "channel_label": choice_label("channel", n.channel) or n.channel, "residents_count": n.residents_count,
            "created_at": local(n.created_at), "projects": projects, "answered": bool(n.answer),
            "from_resident": n.recorded_by is None}


def needs_projects(session: Session, need_ids: list[int]) -> dict[int, list[dict[str, Any]]]:
    """need id → the projects answering it (code, title, state)."""
    if not need_ids:
        return {}
    links = session.execute(select(ProjectNeed.need_id, Project.id, Project.code, Project.title, Project.state)
                            .join(Project, Project.id == ProjectNeed.project_id)
                            .where(ProjectNeed.need_id.in_(need_ids))).all()
    labels = workflow_for("project").module.LABELS
    by_need: dict[int, list[dict[str, Any]]] = {}
    for nid, pid, code, title, state in links:
        by_need.setdefault(nid, []).append({"id": pid, "code": code, "title": title,
                                            "state_label": labels.get(state, state)})
    return by_need


def person_names(session: Session, ids: list[int | None]) -> dict[int, str]:
    wanted = sorted({i for i in ids if i})
    if not wanted:
        return {}
    return {int(i): str(n) for i, n in session.execute(select(Person.id, Person.display_name)
                                                       .where(Person.id.in_(wanted)))}


def needs(session: Session, viewer: Viewer, community: int | None, limit: int = 100,
          offset: int = 0) -> dict[str, Any]:
    """Needs of the readable communities (or one), newest first, each with the projects answering it."""
    if community is not None:
        require_read(session, viewer, community)
        scope = Need.community_id == community
    else:
        scope = Need.community_id.in_(readable_scope(viewer))
    total = session.execute(select(func.count()).select_from(Need).where(scope)).scalar_one()
    rows = session.execute(select(Need, Organisation.name).join(Organisation, Organisation.id == Need.community_id)
                           .where(scope).order_by(Need.id.desc()).limit(limit).offset(offset)).all()
    by_need = needs_projects(session, [n.id for n, _ in rows])
    return {"items": [_need_row(n, c, by_need.get(n.id, [])) for n, c in rows], "total": total, "limit": limit,
            "offset": offset}


def open_needs(session: Session, community_ids: list[int], include: list[int]) -> list[dict[str, Any]]:
    """Needs no project answers yet (and the ones named in ``include``), newest first."""
    if not community_ids:
        return []
    linked = select(ProjectNeed.need_id).where(ProjectNeed.need_id == Need.id).exists()
    rows = session.execute(select(Need, Organisation.name).join(Organisation, Organisation.id == Need.community_id)
                           .where(Need.community_id.in_(community_ids),
                                  or_(~linked, Need.id.in_(include or [0])))
                           .order_by(Need.id.desc()).limit(200)).all()
    return [_need_row(n, c, []) for n, c in rows]


def project_needs(session: Session, pid: int) -> list[dict[str, Any]]:
    rows = session.execute(select(Need, Organisation.name).join(ProjectNeed, ProjectNeed.need_id == Need.id)
                           .join(Organisation, Organisation.id == Need.community_id)
                           .where(ProjectNeed.project_id == pid).order_by(Need.id)).all()
    return [_need_row(n, c, []) for n, c in rows]


# --------------------------------------------------------------------------------------- documents

DOCUMENT_ROLES = {
    "application_form": "使用申请审批表", "minutes": "联席会议纪要", "board_minutes": "党工委班子会议纪要",
    "notice_publicity": "项目公示", "notice_completion": "建成公示", "notice_voucher_payment": "无发票支出公示",
    "notice_disclosure": "年度公示", "approval_record": "审批记录", "change_filing": "变更备案",
    "acceptance": "综合验收记录", "settlement": "结算记录", "payment_voucher": "付款凭证",
    "voucher_meeting_decision": "事前会议集体讨论决定", "voucher_inprocess_proof": "事中签字证明",
    "voucher_payee_signature": "收款人签字", "voucher_post_notice": "事后公示", "allocation": "拨付记录",
    "carry_over": "结余结转记录", "invoice": "发票", "report": "年度报告",
}


def documents(session: Session, entity_type: str, entity_id: int) -> list[dict[str, Any]]:
    """What is archived for a record (content-addressed, Art. 17), oldest first.

    ``url`` is where the document can be downloaded; None until a route serves it (the documents feature
    fills it in through :data:`DOCUMENT_URL`)."""
    rows = session.execute(select(DocumentLink.role, DocumentLink.created_at, Document.sha256, Document.filename,
                                  Document.content_type, Document.size)
                           .join(Document, Document.sha256 == DocumentLink.document_sha256)
                           .where(DocumentLink.entity_type == entity_type, DocumentLink.entity_id == entity_id)
                           .order_by(DocumentLink.id)).all()
    return [{"role": role, "role_label": DOCUMENT_ROLES.get(role, role), "created_at": local(at), "sha256": sha,
             "filename": filename, "content_type": ctype, "size": size,
             "url": DOCUMENT_URL(entity_type, entity_id, sha) if DOCUMENT_URL else None}
            for role, at, sha, filename, ctype, size in rows]


DOCUMENT_URL: Any = None
"""``(entity_type, entity_id, sha256) -> str | None``: the download address of an archived document, set
by whatever serves documents; the project and fund-year pages link each document to it."""


# --------------------------------------------------------------------------------------- fund years


def fund_year_projects(session: Session, fund_year_id: int) -> list[dict[str, Any]]:
    labels = workflow_for("project").module.LABELS
    rows = session.execute(select(Project.id, Project.code, Project.title, Project.state, Project.amount_fen,
                                  Project.committed_fen, Project.paid_fen, Project.is_small_group)
                           .where(Project.fund_year_id == fund_year_id).order_by(Project.code)).all()
    return [{"id": i, "code": c, "title": t, "state": s, "state_label": labels.get(s, s), "amount": format_yuan(a),
             "committed": format_yuan(cm), "paid": format_yuan(pd), "is_small_group": sg}
            for i, c, t, s, a, cm, pd, sg in rows]


LEDGER_KINDS = {"allocation": "市财政拨付", "carry_in": "上年结余转入", "commitment": "项目批准承诺",
                "adjustment": "变更调整", "release": "释放未用额度", "payment": "支付", "carry_out": "结余转下年"}


def ledger(session: Session, fund_year_id: int) -> list[dict[str, Any]]:
    """The fund's own account 党组织服务群众专项经费 for the year (Art. 17), oldest first."""
    rows = session.execute(select(LedgerEntry, Project.code).outerjoin(Project, Project.id == LedgerEntry.project_id)
                           .where(LedgerEntry.fund_year_id == fund_year_id).order_by(LedgerEntry.id)).all()
    return [{"id": e.id, "kind": e.kind, "kind_label": LEDGER_KINDS.get(e.kind, e.kind),
             "amount": format_yuan(e.amount_fen), "memo": e.memo, "project_id": e.project_id, "project_code": code,
             "created_at": local(e.created_at), "document": e.document_sha256} for e, code in rows]


FUND_YEAR_PAGE = 50


def fund_years(session: Session, viewer: Viewer, year: int | None, offset: int = 0,
               limit: int | None = None) -> dict[str, Any]:
    """The readable communities' fund years (of one year, or all), newest year first, one page of them; and
    the years there are."""
    limit = limit or FUND_YEAR_PAGE
    scope: list[Any] = [FundYear.community_id.in_(readable_scope(viewer))]
    years = [int(y) for y in session.execute(select(FundYear.year).where(*scope).distinct()
                                             .order_by(FundYear.year.desc())).scalars()]
    if year is not None:
        scope.append(FundYear.year == year)
    total = int(session.execute(select(func.count()).select_from(FundYear).where(*scope)).scalar_one())
    offset = page_offset(offset, limit, total)
    stmt = (select(FundYear.id, FundYear.community_id, Organisation.name, FundYear.year, FundYear.state,
                   FundYear.allocation_fen, FundYear.carry_in_fen, FundYear.committed_fen, FundYear.paid_fen)
            .join(Organisation, Organisation.id == FundYear.community_id).where(*scope)
            .order_by(FundYear.year.desc(), FundYear.community_id).limit(limit).offset(offset))
    labels = workflow_for("fund_year").module.LABELS
    rows = [{"id": i, "community_id": c, "community_name": n, "year": y, "state_label": labels.get(s, s),
             "total": format_yuan(a + ci), "committed": format_yuan(cm), "paid": format_yuan(pd),
             "available": format_yuan(a + ci - cm - pd)}
            for i, c, n, y, s, a, ci, cm, pd in session.execute(stmt)]
    return {"rows": rows, "years": years, "total": total, "offset": offset, "limit": limit}


# ---------------------------------------------------------------------------------------- overview

OVERVIEW_SORTS = {"community": "社区", "state": "年度状态", "allocation": "年度总额", "committed": "已承诺",
                  "paid": "已支付", "available": "可用余额", "projects": "项目数", "overdue": "逾期事项",
                  "objections": "未解决异议", "concerns": "未解决监督意见", "findings": "整改未销号"}


def overview_scope(viewer: Viewer) -> dict[str, list[int]]:
    """Who may see an overview, and the parameters of :func:`_scope`: the viewer's areas (working committee,
    finance) and cities."""
    roles = {p.role for p in viewer.posts}
    if not roles & {"working_member", "working_secretary", "construction_director", "finance_officer", "city_admin"}:
        raise Forbidden("总览仅供社区党工委、社区建设管理委员会、财务人员及市管理员查看", code="auth.overview")
    return {"areas": sorted({p.organisation_id for p in viewer.posts if ROLE_LEVEL.get(p.role) == "area"}),
            "cities": sorted({p.organisation_id for p in viewer.posts if ROLE_LEVEL.get(p.role) == "city"})}


def _scope() -> Any:
    """The communities of the areas ``:areas`` and of the cities ``:cities``, as a SELECT of their ids (a
    statement, not a list of ids: a city has hundreds of communities)."""
    city_areas = select(Organisation.id).where(Organisation.parent_id.in_(bindparam("cities", expanding=True)),
                                               Organisation.level == "area")
    return select(Organisation.id).where(Organisation.level == "community", or_(
        Organisation.parent_id.in_(bindparam("areas", expanding=True)), Organisation.parent_id.in_(city_areas)))


def _overview_table() -> Any:
    """One row per fund year of the year ``:year`` in :func:`_scope`, its figures and its counts (overdue at
    ``:now``) aggregated in SQL."""
    years = (select(FundYear.id).where(FundYear.year == bindparam("year"), FundYear.community_id.in_(_scope()))
             .cte("scope_years"))
    in_year = Project.fund_year_id.in_(select(years.c.id))
    now = bindparam("now", type_=Deadline.due_at.type)

    def per_year(stmt: Any, key: Any, name: str) -> Any:
        return stmt.group_by(key).subquery(name)

    projects = per_year(select(Project.fund_year_id.label("fy"), func.count().label("n")).where(in_year),
                        Project.fund_year_id, "n_projects")
    overdue_p = per_year(select(Project.fund_year_id.label("fy"), func.count().label("n")).join(
        Deadline, and_(Deadline.entity_type == "project", Deadline.entity_id == Project.id))
        .where(in_year, Deadline.status == "open", Deadline.due_at <= now), Project.fund_year_id, "n_overdue_p")
    overdue_y = per_year(select(Deadline.entity_id.label("fy"), func.count().label("n")).where(
        Deadline.entity_type == "fund_year", Deadline.entity_id.in_(select(years.c.id)), Deadline.status == "open",
        Deadline.due_at <= now), Deadline.entity_id, "n_overdue_y")
    objections = per_year(select(Project.fund_year_id.label("fy"), func.count().label("n"))
                          .join(Objection, Objection.project_id == Project.id)
                          .where(in_year, Objection.resolved.is_(False)), Project.fund_year_id, "n_objections")
    concerns = per_year(select(Project.fund_year_id.label("fy"), func.count().label("n"))
                        .join(Concern, Concern.project_id == Project.id)
                        .where(in_year, Concern.resolved_at.is_(None)), Project.fund_year_id, "n_concerns")
    # the community's findings of inspection not yet verified (第十九条), whatever year they were recorded
    findings = (select(Finding.community_id.label("community"), func.count().label("n"))
                .where(Finding.community_id.in_(_scope()), Finding.state != "closed")
                .group_by(Finding.community_id).subquery("n_findings"))
    area = Organisation.__table__.alias("area")
    labels = workflow_for("fund_year").module.LABELS
    total = FundYear.allocation_fen + FundYear.carry_in_fen

    def n(sub: Any) -> Any:
        return func.coalesce(sub.c.n, 0)

    stmt = (select(FundYear.id.label("fund_year_id"), FundYear.community_id, Organisation.code.label("community_code"),
                   Organisation.name.label("community_name"), func.coalesce(area.c.name, "").label("area_name"),
                   FundYear.state, case(labels, value=FundYear.state, else_=FundYear.state).label("state_label"),
                   total.label("allocation_fen"), FundYear.committed_fen, FundYear.paid_fen,
                   (total - FundYear.committed_fen - FundYear.paid_fen).label("available_fen"),
                   n(projects).label("projects"), (n(overdue_p) + n(overdue_y)).label("overdue"),
                   n(objections).label("objections"), n(concerns).label("concerns"),
                   n(findings).label("findings"))
            .join(Organisation, Organisation.id == FundYear.community_id)
            .outerjoin(area, area.c.id == Organisation.parent_id)
            .where(FundYear.id.in_(select(years.c.id))))
    for sub in (projects, overdue_p, overdue_y, objections, concerns):
        stmt = stmt.outerjoin(sub, sub.c.fy == FundYear.id)
    stmt = stmt.outerjoin(findings, findings.c.community == FundYear.community_id)
    return stmt.subquery("overview")


OVERVIEW_PAGE = 100
_TOTALS = ("allocation_fen", "committed_fen", "paid_fen", "available_fen", "projects", "overdue", "objections",
           "concerns", "findings")
_SORT_COLUMNS = {"community": "community_code", "state": "state_label", "allocation": "allocation_fen",
                 "committed": "committed_fen", "paid": "paid_fen", "available": "available_fen",
                 "projects": "projects", "overdue": "overdue", "objections": "objections", "concerns": "concerns",
                 "findings": "findings"}


@cache
def _overview_statements(sort: str, descending: bool) -> tuple[Any, Any, Any]:
    """(count, page, communities without a year) of the overview, built once per order (building and
    caching a statement this size costs more than running it)."""
    count = select(func.count()).select_from(FundYear).where(FundYear.year == bindparam("year"),
                                                            FundYear.community_id.in_(_scope()))
    table = _overview_table()
    key, code = table.c[_SORT_COLUMNS[sort]], table.c.community_code
    order = (key.desc(), code.desc()) if descending else (key.asc(), code.asc())
    # the totals of every row beside each row of the page (window sums are taken before LIMIT)
    sums = [func.sum(table.c[k]).over().label(f"total_{k}") for k in _TOTALS]
    page = select(table, *sums).order_by(*order).limit(bindparam("limit")).offset(bindparam("offset"))
    missing = (select(Organisation.id, Organisation.code, Organisation.name)
               .where(Organisation.id.in_(_scope()), Organisation.id.not_in(
                   select(FundYear.community_id).where(FundYear.year == bindparam("year"))))
               .order_by(Organisation.id))
    return count, page, missing


def overview(session: Session, viewer: Viewer, year: int, sort: str = "community", descending: bool = False,
             offset: int = 0, limit: int | None = None) -> dict[str, Any]:
    """Every community's fund year at a glance, sorted by ``sort`` and paged (``limit`` rows from ``offset``)
    in SQL; the totals are those of every row."""
    params: dict[str, Any] = {**overview_scope(viewer), "year": year, "now": clock.now()}
    limit = limit or OVERVIEW_PAGE
    sort = sort if sort in _SORT_COLUMNS else "community"
    count_q, page_q, missing_q = _overview_statements(sort, descending)
    count = int(session.execute(count_q, params).scalar_one())
    offset = page_offset(offset, limit, count)
    totals = dict.fromkeys(_TOTALS, 0)
    rows: list[dict[str, Any]] = []
    if count:
        rows = [dict(r) for r in session.execute(page_q, {**params, "limit": limit, "offset": offset}).mappings()]
        if rows:
            totals = {k: int(rows[0][f"total_{k}"]) for k in _TOTALS}
    missing = [{"id": i, "code": c, "name": nm} for i, c, nm in session.execute(missing_q, params)]
    return {"year": year, "sort": sort, "descending": descending, "rows": rows, "count": count, "offset": offset,
            "limit": limit, "totals": totals, "without_year": missing,
            "overdue_items": overdue_items(session, params)}


@lru_cache(maxsize=1)
def _overdue_statement() -> Any:
    return (select(Deadline.kind, Deadline.due_at, Project.id, Project.code, Project.title, Project.state,
                   Organisation.name)
            .join(Project, and_(Deadline.entity_type == "project", Deadline.entity_id == Project.id))
            .join(FundYear, FundYear.id == Project.fund_year_id)
            .join(Organisation, Organisation.id == Project.community_id)
            .where(Project.community_id.in_(_scope()), FundYear.year == bindparam("year"), Deadline.status == "open",
                   Deadline.due_at <= bindparam("now", type_=Deadline.due_at.type))
            .order_by(Deadline.due_at).limit(bindparam("limit")))


def overdue_items(session: Session, params: dict[str, Any], limit: int = 50) -> list[dict[str, Any]]:
    """Overdue steps of the projects of the overview's communities (``params`` of :func:`_scope`, ``year``,
    ``now``), the longest overdue first, each linking to its project."""
    labels = workflow_for("project").module.LABELS
    rows = session.execute(_overdue_statement(), {**params, "limit": limit}).all()
    return [{"kind": kind, "kind_label": DEADLINE_KINDS.get(kind, kind), "due_at": local(due), "project_id": pid,
             "code": code, "title": title, "state_label": labels.get(state, state), "community_name": cname}
            for kind, due, pid, code, title, state, cname in rows]


DEADLINE_KINDS = {"publicity": "项目公示期", "approval_due": "党工委审批时限(5个工作日)",
                  "completion_publicity": "建成公示期", "disclosure": "年度公示期", "followup": "跟进检查",
                  "voucher_notice": "无发票支出公示", "report_due": "年度报告"}


# ------------------------------------------------------------------------------------------- trail


def trail(session: Session, viewer: Viewer, community: int, before: int | None, limit: int = 50) -> dict[str, Any]:
    """Every audit event of a community — its projects, fund years and needs — newest first (Art. 14)."""
    require_read(session, viewer, community)
    cname = session.execute(select(Organisation.name).where(Organisation.id == community)).scalar_one()
    projects = select(Project.id).where(Project.community_id == community)
    years = select(FundYear.id).where(FundYear.community_id == community)
    needs_of = select(Need.id).where(Need.community_id == community)
    cond = or_(and_(AuditEvent.entity_type == "project", AuditEvent.entity_id.in_(projects)),
               and_(AuditEvent.entity_type == "fund_year", AuditEvent.entity_id.in_(years)),
               and_(AuditEvent.entity_type == "need", AuditEvent.entity_id.in_(needs_of)))
    stmt = select(AuditEvent).where(cond)
    if before is not None:
        stmt = stmt.where(AuditEvent.id < before)
    events = list(session.execute(stmt.order_by(AuditEvent.id.desc()).limit(limit + 1)).scalars())
    more = len(events) > limit
    events = events[:limit]
    pids = {e.entity_id for e in events if e.entity_type == "project"}
    codes: dict[int, str] = {int(i): str(c) for i, c in session.execute(
        select(Project.id, Project.code).where(Project.id.in_(pids)))} if pids else {}
    fys = {e.entity_id for e in events if e.entity_type == "fund_year"}
    fy_years: dict[int, int] = {int(i): int(y) for i, y in session.execute(
        select(FundYear.id, FundYear.year).where(FundYear.id.in_(fys)))} if fys else {}
    who = names(session, {e.actor_id for e in events})
    return {"community_id": community, "community_name": cname, "more": more,
            "next_before": events[-1].id if more and events else None,
            "events": [timeline_event(e, who, codes, fy_years) for e in events]}


def timeline_event(e: AuditEvent, who: dict[int, str], codes: dict[int, str] | None = None,
                   years: dict[int, int] | None = None) -> dict[str, Any]:
    wf = workflow_for(e.entity_type) if e.entity_type in ("project", "fund_year") else None
    labels = wf.module.EVENT_LABELS if wf else {}
    states = wf.module.LABELS if wf else {}
    extra = {"create": "提议项目", "open": "开放年度", "carry_in": "上年结余转入", "deadline_recomputed": "期限重新计算",
             "record_need": "登记群众需求"}
    subject = ""
    link = ""
    if e.entity_type == "project":
        subject = (codes or {}).get(e.entity_id, f"项目 #{e.entity_id}")
        link = f"/projects/{e.entity_id}"
    elif e.entity_type == "fund_year":
        subject = f"{(years or {}).get(e.entity_id, '')} 年度经费"
    elif e.entity_type == "need":
        subject = f"需求 #{e.entity_id}"
    return {"id": e.id, "seq": e.seq, "event": e.event, "label": labels.get(e.event, extra.get(e.event, e.event)),
            "at": local(e.at), "actor": who.get(e.actor_id, "") if e.actor_id else ROLE_LABELS.get(e.actor_label, e.actor_label),
            "role_label": ROLE_LABELS.get(e.role, e.role) if e.role else "", "from_label": states.get(e.from_state, ""),
            "to_label": states.get(e.to_state, ""), "moved": bool(e.to_state and e.from_state != e.to_state),
            "reason": e.reason, "subject": subject, "link": link, "details": event_details(e.payload or {})}


_DETAIL_KEYS = {"votes_for": "赞成", "votes_against": "反对", "votes_abstain": "弃权", "stage": "环节",
                "amount": "金额(元)", "payee": "收款方", "invoice_no": "发票号码", "answer": "答复", "text": "内容",
                "resolution": "解决情况", "quality": "质量评价", "satisfaction": "满意度", "comment": "意见",
                "summary": "摘要", "rating": "考核等次", "visited_on": "检查日期", "held_on": "会议日期",
                "title": "项目名称", "kind": "类别", "outcome": "会议结果"}


def event_details(payload: dict[str, Any]) -> list[tuple[str, str]]:
    """A few facts of an audit event worth showing in a timeline (never contact details)."""
    inner = dict(payload.get("payload") or {}) if isinstance(payload.get("payload"), dict) else {}
    facts = {**{k: v for k, v in payload.items() if k != "payload"}, **inner}
    out = []
    for key, label in _DETAIL_KEYS.items():
        value = facts.get(key)
        if value in (None, "", [], {}):
            continue
        text = choice_label(key, str(value)) or str(value) if isinstance(value, str) else str(value)
        out.append((label, text if len(text) <= 80 else text[:79] + "…"))
    return out


def posts_text(posts: tuple[PostHeld, ...]) -> list[str]:
    return [f"{p.org_name} · {ROLE_LABELS.get(p.role, p.role)}" for p in posts]
