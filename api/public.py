"""The residents' side (no login): the notice board's reads, every project's execution timeline for residents,
residents' needs posted on the public form (居民点单) and the receipts that follow a need or an objection.

The JSON routes (``api.routes.public``) and the pages (``api.pages.public``) call the same functions here.
Everything returned is public: free text goes through ``rules.privacy.mask_text`` with the names that must
never be shown (an aid project's individual contractor and payees, residents who object or post a need), a
resident's own name shows its first character only, and contacts are never read at all.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from api import auth, queries
from api.errors import ApiError, NotFound
from api.reads import reading
from api.settings import Settings
from rules.money import format_yuan
from rules.privacy import mask_name
from rules.project import CATEGORIES
from store.db import Database
from store.models import (
    AuditEvent,
    FundYear,
    LineItem,
    Need,
    Notice,
    Objection,
    Organisation,
    Project,
    ProjectNeed,
)
from workflow import clock, receipts
from workflow.labels import choice_label
from workflow.machines import workflow_for
from workflow.public import private_names, public_name, public_text
from workflow.receipts import STATUS_LABELS as OBJECTION_STATUS
from workflow.receipts import status_of
from workflow.services import ServiceError

API = queries.API
NOTICE_KINDS = queries.NOTICE_KINDS
BOARD_PAGE = 20

# ------------------------------------------------------------------------------------- masking


def aid_names(session: Session, project_ids: Iterable[int | None]) -> list[str]:
    """Names private for the given projects: each aid project's individual contractor and payees."""
    return private_names(session, project_ids)


def public(text: str, names: Iterable[str] = ()) -> str:
    return public_text(text or "", list(names))


def resident(name: str) -> str:
    """A resident's own name as the board shows it: the first character (匿名 when none was given)."""
    return public_name(name) if name.strip() else "匿名"


def _state_label(state: str) -> str:
    return str(workflow_for("project").module.LABELS.get(state, state))


# ------------------------------------------------------------------------------------------ board


def communities_by_area(session: Session) -> list[dict[str, Any]]:
    """Every open community, grouped under its area (for the board's community choice)."""
    area = Organisation.__table__.alias("area")
    rows = session.execute(select(Organisation.id, Organisation.name, area.c.id, area.c.name)
                           .join(area, area.c.id == Organisation.parent_id)
                           .where(Organisation.level == "community", Organisation.closed_on.is_(None))
                           .order_by(area.c.id, Organisation.id)).all()
    out: list[dict[str, Any]] = []
    for cid, cname, aid, aname in rows:
        if not out or out[-1]["id"] != aid:
            out.append({"id": aid, "name": aname, "communities": []})
        out[-1]["communities"].append({"id": cid, "name": cname})
    return out


def _notice_rows(session: Session, cond: list[Any], limit: int, offset: int,
                 order: Any = None) -> tuple[int, list[dict[str, Any]]]:
    now = clock.now()
    total = int(session.execute(select(func.count()).select_from(Notice).where(*cond)).scalar_one())
    rows = session.execute(
        select(Notice.id, Notice.kind, Notice.title, Notice.starts_at, Notice.ends_at, Notice.provisional,
               Notice.project_id, Notice.community_id, Organisation.name, Project.code, Project.state)
        .join(Organisation, Organisation.id == Notice.community_id)
        .outerjoin(Project, Project.id == Notice.project_id)
        .where(*cond).order_by(*(order if order is not None else (Notice.starts_at.desc(), Notice.id.desc())))
        .limit(limit).offset(offset)).all()
    names = aid_names(session, [r.project_id for r in rows])
    counts: dict[int, int] = {}
    if rows:
        counts = {int(n): int(c) for n, c in session.execute(
            select(Objection.notice_id, func.count()).where(Objection.notice_id.in_([r.id for r in rows]))
            .group_by(Objection.notice_id))}
    items = []
    for r in rows:
        wanted = {"publicity": "publicity", "completion": "completion_publicity"}.get(r.kind)
        items.append({"id": r.id, "kind": r.kind, "kind_label": NOTICE_KINDS.get(r.kind, r.kind),
                      "title": public(r.title, names), "community_id": r.community_id, "community_name": r.name,
                      "project_code": r.code, "starts_at": r.starts_at, "ends_at": r.ends_at,
                      "provisional": r.provisional, "running": r.starts_at <= now < r.ends_at,
                      "accepts_objections": wanted is not None and r.state == wanted and r.starts_at <= now < r.ends_at,
                      "objections": counts.get(r.id, 0)})
    return total, items


def board(session: Session, community: int | None, offset: int = 0) -> dict[str, Any]:
    """The notice board: notices running now, past ones (paged), the annual disclosures; all communities or one."""
    now = clock.now()
    scope = [Notice.community_id == community] if community is not None else []
    cname = None
    if community is not None:
        cname = session.execute(select(Organisation.name).where(Organisation.id == community,
                                                                Organisation.level == "community")).scalar_one_or_none()
        if cname is None:
            raise NotFound(f"社区 #{community} 不存在", code="community.not_found")
    # all communities: the notices ending soonest (a city has hundreds running); one community: all of them
    running_total, running = _notice_rows(session, [*scope, Notice.starts_at <= now, Notice.ends_at > now],
                                          200 if community is not None else 30, 0, (Notice.ends_at, Notice.id))
    past_total, past = _notice_rows(session, [*scope, Notice.ends_at <= now], BOARD_PAGE, offset)
    years = (select(FundYear.community_id, FundYear.year, Organisation.name)
             .join(Organisation, Organisation.id == FundYear.community_id)
             .where(FundYear.state.in_(queries.DISCLOSED)))
    if community is not None:
        years = years.where(FundYear.community_id == community)
    disclosures = [{"community_id": c, "year": y, "community_name": n} for c, y, n in session.execute(
        years.order_by(FundYear.year.desc(), FundYear.community_id).limit(50))]
    projects: list[dict[str, Any]] = []
    if community is not None:
        rows = session.execute(select(Project.id, Project.code, Project.title, Project.state, Project.amount_fen)
                               .where(Project.community_id == community, Project.state != "draft")
                               .order_by(Project.id.desc()).limit(100)).all()
        names = aid_names(session, [r.id for r in rows])
        projects = [{"code": r.code, "title": public(r.title, names), "state_label": _state_label(r.state),
                     "amount": format_yuan(r.amount_fen)} for r in rows]
    return {"community_id": community, "community_name": cname, "running": running, "running_total": running_total,
            "past": past, "past_total": past_total, "offset": offset, "limit": BOARD_PAGE,
            "disclosures": disclosures, "projects": projects}


def notice(session: Session, notice_id: int) -> dict[str, Any]:
    """One notice as the board shows it: body, objections with their answers (masked, no contact)."""
    out = queries.public_notice(session, notice_id)
    names = aid_names(session, [session.execute(select(Notice.project_id).where(Notice.id == notice_id)).scalar()])
    authors = [a for a in session.execute(select(Objection.author_name).where(Objection.notice_id == notice_id))
               .scalars() if a]
    hidden = names + authors
    out["title"] = public(out["title"], hidden)
    out["body"] = public(out["body"], hidden)
    for o in out["objections"]:
        o["text"], o["answer"] = public(o["text"], hidden), public(o["answer"], hidden)
    out["starts_at"], out["ends_at"] = _instant(out["starts_at"]), _instant(out["ends_at"])
    return out


def _instant(value: Any) -> Any:
    return value if not isinstance(value, str) else dt.datetime.fromisoformat(value)


# ----------------------------------------------------------------------------- project timeline

PHASES: list[tuple[str, str, str]] = [
    ("proposal", "项目提议", "社区党委根据居民需求提出项目方案,报社区党工委初步同意(第九条、第十条)"),
    ("meeting", "联席会议", "社区“两委”和居民代表联席会议讨论表决(第十条)"),
    ("notice", "项目公示", "在社区公示栏公示 3 个工作日以上,居民可提出异议(第十条)"),
    ("approval", "审批", "社区党工委班子会议研究,党工委、建管委主要领导审批(第十一条)"),
    ("works", "实施", "承办方实施,社区党工委专人定期跟进(第十二条)"),
    ("acceptance", "综合验收", "对项目质量、群众满意度综合验收(第十二条)"),
    ("payment", "拨付款项", "发票三方签字或收款人签字后,由财务人员结算(第十三条)"),
    ("completion", "建成公示", "建成及经费使用情况公示 3 个工作日(第十五条)"),
]
_PHASE_OF_STATE = {"draft": 0, "preliminary_review": 0, "joint_meeting": 1, "shelved": 1, "publicity": 2,
                   "ready_to_submit": 3, "pending_approval": 3, "in_progress": 4, "change_review": 4, "acceptance": 5,
                   "settlement": 6, "completion_publicity": 7, "closed": 8}
_STOPPED = {"withdrawn": "项目已撤回", "rejected": "项目未获批准", "terminated": "项目已终止"}
_MEETING_OUTCOMES = {"passed": "会议通过", "divided": "意见分歧较大,暂时搁置", "voted_down": "会议未通过"}
_TIMELINE_EVENTS = ("create", "record_meeting", "publicity_elapsed", "approve", "reject", "record_followup",
                    "report_completion", "accept", "fail_acceptance", "pay", "close_settlement", "completion_elapsed",
                    "withdraw", "terminate", "resume", "return_for_revision", "submit", "approve_change",
                    "grant_preliminary")


def _stopped_phase(events: list[AuditEvent]) -> int:
    """The phase a withdrawn, rejected or terminated project had reached (from its last state before)."""
    for e in reversed(events):
        if e.to_state in _STOPPED and e.from_state in _PHASE_OF_STATE:
            return _PHASE_OF_STATE[e.from_state]
    return 0


def milestones(state: str, events: list[AuditEvent], notices: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The eight phases a resident follows, each done (with its date and what happened), current or to come."""
    stopped = state in _STOPPED
    current = _stopped_phase(events) if stopped else _PHASE_OF_STATE.get(state, 0)
    facts: dict[str, dict[str, Any]] = {key: {"at": None, "notes": []} for key, _l, _h in PHASES}

    def note(key: str, at: dt.datetime, text: str = "") -> None:
        facts[key]["at"] = at
        if text:
            facts[key]["notes"].append(text)

    followups, paid, payments = 0, 0, 0
    for e in events:
        p = e.payload or {}
        if e.event == "create":
            note("proposal", e.at, "社区党委提出项目方案")
        elif e.event == "grant_preliminary":
            note("proposal", e.at, "社区党工委初步同意")
        elif e.event == "record_meeting":
            inner = p.get("payload") or {}
            votes = (f"赞成 {inner.get('votes_for', 0)} 票、反对 {inner.get('votes_against', 0)} 票、"
                     f"弃权 {inner.get('votes_abstain', 0)} 票")
            note("meeting", e.at, f"{_MEETING_OUTCOMES.get(str(p.get('outcome')), '会议已召开')}({votes})")
        elif e.event == "resume":
            note("meeting", e.at, "统一意见后恢复商议")
        elif e.to_state == "publicity" and e.from_state != "publicity":
            note("notice", e.at, "公示开始")
        elif e.event == "publicity_elapsed":
            note("notice", e.at, "公示期满,无未解决的异议" if e.to_state == "ready_to_submit"
                 else "公示期满,有未解决的异议,回到联席会议")
        elif e.event == "submit":
            note("approval", e.at, "报社区党工委审批")
        elif e.to_state == "in_progress" and e.from_state == "pending_approval":
            note("approval", e.at, "两位主要领导审批同意")
        elif e.event == "reject":
            note("approval", e.at, "未获批准")
        elif e.event == "approve_change":
            note("works", e.at, "项目变更经社区党工委同意并备案")
        elif e.event == "record_followup":
            followups += 1
            facts["works"]["at"] = facts["works"]["at"] or e.at
        elif e.event == "report_completion":
            note("works", e.at, "承办方完工,社区党委报告完成")
        elif e.event == "accept":
            inner = p.get("payload") or {}
            note("acceptance", e.at, f"验收合格,群众满意度 {inner.get('satisfaction', '—')}%")
        elif e.event == "fail_acceptance":
            note("acceptance", e.at, "验收未通过,整改后重新验收")
        elif e.event == "pay":
            payments += 1
            paid += _fen(p.get("amount"))
            facts["payment"]["at"] = e.at
        elif e.event == "close_settlement":
            note("payment", e.at, "款项结算完毕")
        elif e.to_state == "completion_publicity" and e.from_state != "completion_publicity":
            note("completion", e.at, "建成公示开始")
        elif e.event == "completion_elapsed":
            note("completion", e.at, "公示期满,项目办结")
    if followups:
        facts["works"]["notes"].insert(0, f"党工委专人跟进检查 {followups} 次")
    if payments:
        facts["payment"]["notes"].insert(0, f"已支付 {payments} 笔,合计 {format_yuan(paid)} 元")
    by_kind = {"publicity": "notice", "completion": "completion"}
    links: dict[str, dict[str, Any]] = {}
    for n in notices:
        if n["kind"] in by_kind:
            links[by_kind[n["kind"]]] = n
    out = []
    for i, (key, label, help_) in enumerate(PHASES):
        if i < current:
            status = "done"
        elif i == current and stopped:
            status = "stopped"
        elif i == current:
            status = "current"
        else:
            status = "pending"
        out.append({"key": key, "label": label, "help": help_, "status": status,
                    "status_label": {"done": "已完成", "current": "进行中", "pending": "未开始",
                                     "stopped": _STOPPED.get(state, "")}[status],
                    "at": facts[key]["at"], "notes": facts[key]["notes"], "notice": links.get(key)})
    return out


def _fen(value: Any) -> int:
    try:
        whole, _, frac = str(value).partition(".")
        return int(whole) * 100 + int((frac or "0").ljust(2, "0")[:2])
    except ValueError:
        return 0


def project_timeline(session: Session, code: str) -> dict[str, Any]:
    """A project as residents follow it: its plan, the needs it answers and its execution timeline."""
    p = session.execute(select(Project).where(Project.code == code, Project.state != "draft")).scalar_one_or_none()
    if p is None:
        raise NotFound(f"项目 {code} 不存在或尚未提交", code="project.not_found")
    names = aid_names(session, [p.id])
    cname = session.execute(select(Organisation.name).where(Organisation.id == p.community_id)).scalar_one()
    events = list(session.execute(select(AuditEvent).where(
        AuditEvent.entity_type == "project", AuditEvent.entity_id == p.id,
        AuditEvent.event.in_(_TIMELINE_EVENTS)).order_by(AuditEvent.seq)).scalars())
    _total, notices = _notice_rows(session, [Notice.project_id == p.id], 50, 0, (Notice.starts_at, Notice.id))
    items = session.execute(select(LineItem.description, LineItem.quantity, LineItem.unit_price_fen, LineItem.amount_fen)
                            .where(LineItem.project_id == p.id).order_by(LineItem.id)).all()
    needs = session.execute(select(Need.id, Need.title, Need.channel, Need.created_at, Need.author_name)
                            .join(ProjectNeed, ProjectNeed.need_id == Need.id)
                            .where(ProjectNeed.project_id == p.id).order_by(Need.id)).all()
    hidden = names + [n.author_name for n in needs if n.author_name]
    contractor = (mask_name(p.contractor_name) if p.is_aid and p.contractor_kind == "individual"
                  else public(p.contractor_name, hidden))
    return {"code": p.code, "title": public(p.title, hidden), "community_id": p.community_id, "community_name": cname,
            "category": p.category, "category_label": CATEGORIES.get(p.category, p.category),
            "description": public(p.description, hidden), "amount": format_yuan(p.amount_fen),
            "paid": format_yuan(p.paid_fen), "beneficiaries_count": p.beneficiaries_count,
            "beneficiaries_desc": public(p.beneficiaries_desc, hidden), "contractor": contractor,
            "is_aid": p.is_aid, "state": p.state, "state_label": _state_label(p.state),
            "planned_start": p.planned_start, "planned_end": p.planned_end,
            "line_items": [{"description": public(d, hidden), "quantity": q, "unit_price": format_yuan(u),
                            "amount": format_yuan(a)} for d, q, u, a in items],
            "needs": [{"title": public(n.title, hidden), "channel_label": choice_label("channel", n.channel) or n.channel,
                       "created_at": n.created_at} for n in needs],
            "notices": notices, "milestones": milestones(p.state, events, notices)}


# ------------------------------------------------------------------------------- needs and receipts

NEED_STATUS = {"received": "已收到,待社区答复", "answered": "社区已答复", "project": "已形成服务项目"}
_RECEIPT_LIMIT = "查询或提交过于频繁,请 {minutes} 分钟后再试"
_NEED_LIMIT = "提交过于频繁,请 {minutes} 分钟后再试"


def _error(exc: ServiceError) -> ApiError:
    return ApiError.from_verdict(exc.verdict, exc.status)


def post_need(db: Database, settings: Settings, body: dict[str, Any], ip: str) -> dict[str, Any]:
    """A resident posts a need (居民点单): rate-limited per address like objections; returns the receipt."""
    from workflow.needs import post_need as record

    auth.count_hit(db, "need", ip or "-", settings.objection_max, settings.objection_window_seconds, _NEED_LIMIT)
    with db.uow() as uow:
        try:
            need = record(uow.session, int(body["community_id"]), body.get("title", ""), body.get("description", ""),
                          body.get("author_name", ""), body.get("contact", ""))
        except ServiceError as exc:
            raise _error(exc) from exc
        uow.commit()
        code, nid = str(need.receipt_code), need.id
    return {"need_id": nid, "receipt_code": code, "receipt_url": f"{API}/public/needs/receipt/{code}",
            "page_url": f"/gongshi/huizhi/{code}", "received_at": queries.local(clock.now()),
            "message": f"您的需求已收到,回执码 {code}(请妥善保存)。社区党委将答复您;凭回执码可查看处理情况。"}


def answer_need(db: Database, viewer: auth.Viewer, need_id: int, answer: str) -> dict[str, Any]:
    """The community committee answers a need (once)."""
    from workflow.needs import answer_need as record

    with db.uow() as uow:
        try:
            need = record(uow.session, viewer.actor, need_id, answer)
        except ServiceError as exc:
            if exc.status == 404:
                raise NotFound(exc.verdict.message, code=exc.verdict.code, article=exc.verdict.article) from exc
            raise _error(exc) from exc
        uow.commit()
        return queries.need_out(need)


def find_receipt(session: Session, code: str) -> tuple[str, Any] | None:
    """("need", Need) or ("objection", Objection) for a receipt code, or None."""
    code = receipts.normalise(code)
    if not receipts.well_formed(code):
        return None
    need = session.execute(select(Need).where(Need.receipt_code == code)).scalar_one_or_none()
    if need is not None:
        return "need", need
    column = getattr(Objection, "receipt_code", None)
    if column is not None:
        found = session.execute(select(Objection).where(column == code)).scalar_one_or_none()
        if found is not None:
            return "objection", found
    return None


def receipt(session: Session, code: str) -> dict[str, Any]:
    """Where a resident's need or objection stands, by its receipt code (404 when unknown)."""
    found = find_receipt(session, code)
    if found is None:
        raise NotFound("回执码不存在,请核对后重新输入(10 位字母和数字)", code="receipt.not_found", article="第九条")
    kind, row = found
    return need_receipt(session, row) if kind == "need" else objection_receipt(session, row)


def need_receipt(session: Session, need: Need) -> dict[str, Any]:
    cname = session.execute(select(Organisation.name).where(Organisation.id == need.community_id)).scalar_one()
    pids = [int(p) for p in session.execute(select(ProjectNeed.project_id).where(ProjectNeed.need_id == need.id)
                                            .order_by(ProjectNeed.project_id)).scalars()]
    codes = [str(c) for c in session.execute(select(Project.code).where(Project.id.in_(pids), Project.state != "draft")
                                             .order_by(Project.id)).scalars()] if pids else []
    hidden = aid_names(session, pids) + ([need.author_name] if need.author_name else [])
    projects = [project_timeline(session, c) for c in codes]
    status = "project" if projects else ("answered" if need.answer else "received")
    steps = [{"label": "需求已收到", "at": need.created_at, "done": True,
              "text": f"{cname}已收到您通过{choice_label('channel', need.channel) or need.channel}反映的需求"},
             {"label": "社区答复", "at": need.answered_at, "done": bool(need.answer),
              "text": public(need.answer, hidden) if need.answer else "社区党委将在收集需求后答复"},
             {"label": "形成服务项目", "at": None, "done": bool(projects),
              "text": "、".join(f"{p['code']} {p['title']}({p['state_label']})" for p in projects)
              or "经联席会议讨论通过的需求将形成服务项目(一事一议)"}]
    return {"kind": "need", "kind_label": "群众需求", "code": need.receipt_code, "community_id": need.community_id,
            "community_name": cname, "title": public(need.title, hidden), "text": public(need.description, hidden),
            "author": resident(need.author_name) if need.author_name or need.recorded_by is None else "社区工作人员代为登记",
            "channel_label": choice_label("channel", need.channel) or need.channel,
            "created_at": need.created_at, "status": status, "status_label": NEED_STATUS[status],
            "answer": public(need.answer, hidden), "answered_at": need.answered_at, "steps": steps,
            "projects": projects, "can_accept": False}




def objection_receipt(session: Session, o: Objection) -> dict[str, Any]:
    n = session.execute(select(Notice.id, Notice.title, Notice.kind, Notice.community_id, Notice.ends_at)
                        .where(Notice.id == o.notice_id)).one()
    cname = session.execute(select(Organisation.name).where(Organisation.id == n.community_id)).scalar_one()
    hidden = aid_names(session, [o.project_id]) + ([o.author_name] if o.author_name else [])
    status = status_of(o.answer, o.resolution)  # the same status as the objection routes (issue 11)
    code = session.execute(select(Project.code).where(Project.id == o.project_id)).scalar_one_or_none()
    projects = [project_timeline(session, code)] if code else []
    steps = [{"label": "异议已收到", "at": o.created_at, "done": True, "text": f"针对公示“{public(n.title, hidden)}”"},
             {"label": "社区党委答复", "at": o.answered_at, "done": bool(o.answer),
              "text": public(o.answer, hidden) if o.answer else "社区党委将在公示期内答复"},
             {"label": "确认解决", "at": getattr(o, "resolved_at", None), "done": status in ("confirmed", "accepted",
                                                                                             "resolved"),
              "text": OBJECTION_STATUS[status] if status != "received" else "答复后由议事监督委员会确认,或由您接受答复"}]
    return {"kind": "objection", "kind_label": "公示异议", "code": getattr(o, "receipt_code", ""),
            "community_id": n.community_id, "community_name": cname, "notice_id": n.id,
            "notice_title": public(n.title, hidden), "title": f"对“{public(n.title, hidden)}”的异议",
            "text": public(o.text, hidden), "author": resident(o.author_name), "channel_label": "公示栏",
            "created_at": o.created_at, "status": status, "status_label": OBJECTION_STATUS[status],
            "answer": public(o.answer, hidden), "answered_at": o.answered_at, "steps": steps, "projects": projects,
            "can_accept": status == "answered" and hasattr(Objection, "receipt_code")}


def lookup_receipt(db: Database, settings: Settings, code: str, ip: str) -> dict[str, Any]:
    """A receipt by its code; unknown codes count against the caller's rate limit (codes cannot be tried in bulk)."""
    with reading(db) as session:
        try:
            return receipt(session, code)
        except NotFound:
            pass
    auth.count_hit(db, "receipt", ip or "-", settings.objection_max, settings.objection_window_seconds, _RECEIPT_LIMIT)
    with reading(db) as session:
        return receipt(session, code)
