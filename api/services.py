"""The use cases the API runs, each one unit of work: the routes parse, call one of these, render.

Workflow events go through ``workflow.services.fire_event`` (one transaction per event); the rest
wrap the workflow services (proposals, needs, fund years, policy) or are the small administrative
use cases that belong to no workflow (users and posts, the calendar import). Refusals raise
:class:`api.errors.ApiError` with the verdict's code and article.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from api import auth, queries
from api.auth import Viewer
from api.errors import ApiError, Conflict, NotFound, Unprocessable
from api.reads import ReadCache, reading, tracking_writes
from api.settings import Settings
from rules.calendar import ScheduleError
from rules.money import parse_yuan
from rules.policy import Policy
from store.counters import lock_name
from store.db import Database
from store.models import Objection, Organisation, Person, Post
from workflow import audit, clock
from workflow.engine import PUBLIC, ROLE_LEVEL, Outcome
from workflow.services import (
    LineItemIn,
    ProposalIn,
    ServiceError,
    fire_event,
    open_fund_year,
    propose_project,
    publish_policy,
    record_need,
)


def _refused(outcome: Outcome) -> ApiError:
    return ApiError.from_verdict(outcome.verdict, outcome.status)


def _service_error(exc: ServiceError) -> ApiError:
    return ApiError.from_verdict(exc.verdict, exc.status)


# ---------------------------------------------------------------------------------- events


def fire_project_event(db: Database, viewer: Viewer, pid: int, trigger: str, payload: dict[str, Any], *,
                       reason: str = "", as_role: str | None = None, expected_version: int | None = None,
                       cache: ReadCache | None = None,
                       representation: bool = True) -> tuple[Outcome, dict[str, Any] | None]:
    """Fire one event on a project as the viewer; returns the outcome and the project as it now is (None
    when the caller asked for no representation: ``Prefer: return=minimal``).

    With a ``cache``, the parts of the detail the event did not write are not read again.
    """
    with tracking_writes(db) as written:
        outcome = fire_event(db, "project", pid, trigger, viewer.actor, payload, reason=reason, as_role=as_role,
                             expected_version=expected_version)
    if cache is not None and outcome.ok and not outcome.replayed:
        cache.carry(pid, outcome.version, written)
    with reading(db) as session:
        if not outcome.ok:
            if outcome.status != 404:
                # a caller with no post there learns nothing about the project (not its state, not its version)
                queries.load_project(session, viewer, pid)
            raise _refused(outcome)
        if not representation:
            return outcome, None
        return outcome, queries.project_detail(session, viewer, pid, cache)


def fire_fund_year_event(db: Database, viewer: Viewer, community: int, year: int, trigger: str,
                         payload: dict[str, Any], *, reason: str = "", as_role: str | None = None,
                         expected_version: int | None = None) -> tuple[Outcome, dict[str, Any]]:
    with reading(db) as session:
        auth.require_read(session, viewer, community)
        fy_id = queries.find_fund_year(session, community, year).id
    outcome = fire_event(db, "fund_year", fy_id, trigger, viewer.actor, payload, reason=reason, as_role=as_role,
                         expected_version=expected_version)
    if not outcome.ok:
        raise _refused(outcome)
    with reading(db) as session:
        detail = queries.fund_year_detail(session, viewer, community, year)
    return outcome, detail


def submit_objection(db: Database, settings: Settings, notice_id: int, payload: dict[str, Any],
                     ip: str) -> dict[str, Any]:
    """A resident's objection to a running notice (Art. 10), fired as the public; rate-limited per IP."""
    with reading(db) as session:
        pid = queries.notice_project(session, notice_id)
    auth.count_hit(db, "objection", ip or "-", settings.objection_max, settings.objection_window_seconds,
                   "提交异议过于频繁,请 {minutes} 分钟后再试")
    outcome = fire_event(db, "project", pid, "object", PUBLIC, payload)
    if not outcome.ok:
        raise _refused(outcome)
    oid = int(outcome.data["objection_id"])
    with reading(db) as session:
        code = session.execute(select(Objection.receipt_code).where(Objection.id == oid)).scalar_one()
    return {"objection_id": oid, "notice_id": notice_id, "received_at": queries.local(clock.now()),
            "receipt_code": code, "receipt_url": f"{queries.API}/public/objections/receipt/{code}",
            "message": (f"您的意见已收到,回执码 {code}(请妥善保存)。社区党委将作出答复并在公示栏公布;"
                        "凭回执码可查看处理情况,并可接受答复。")}


_RECEIPT_LIMIT = "查询或接受答复过于频繁,请 {minutes} 分钟后再试"


def objection_receipt(db: Database, settings: Settings, code: str, ip: str) -> dict[str, Any]:
    """Where a resident's objection stands, by its receipt code. Unknown codes count against the caller's
    rate limit, so that codes cannot be tried in bulk."""
    with reading(db) as session:
        try:
            return queries.objection_receipt(session, code)
        except NotFound:
            pass
    auth.count_hit(db, "receipt", ip or "-", settings.objection_max, settings.objection_window_seconds, _RECEIPT_LIMIT)
    with reading(db) as session:
        return queries.objection_receipt(session, code)


def accept_objection_answer(db: Database, settings: Settings, code: str, ip: str) -> dict[str, Any]:
    """The resident accepts the committee's answer (the public event ``accept_answer``, audited); this
    resolves the objection. Rate-limited per IP like objections."""
    auth.count_hit(db, "receipt", ip or "-", settings.objection_max, settings.objection_window_seconds, _RECEIPT_LIMIT)
    with reading(db) as session:
        found = queries.find_receipt(session, code)
        if found is None:
            raise NotFound("回执码不存在,请核对后重新输入", code="receipt.not_found", article="第十条")
        oid, pid, stored = found.id, found.project_id, found.receipt_code
    assert pid is not None
    outcome = fire_event(db, "project", pid, "accept_answer", PUBLIC, {"objection_id": oid, "receipt_code": stored})
    if not outcome.ok:
        raise _refused(outcome)
    with reading(db) as session:
        return queries.objection_receipt(session, stored)


# ---------------------------------------------------------------------- needs and proposals


def create_need(db: Database, viewer: Viewer, body: Any) -> dict[str, Any]:
    with db.uow() as uow:
        auth.community_chain(uow.session, body.community_id)
        try:
            need = record_need(uow.session, viewer.actor, body.community_id, body.title, body.description,
                               body.channel, body.residents_count)
        except ServiceError as exc:
            raise _service_error(exc) from exc
        uow.commit()
        return queries.need_out(need)


def create_project(db: Database, viewer: Viewer, body: Any) -> dict[str, Any]:
    data = body.model_dump()
    data["line_items"] = [LineItemIn(**li) for li in data["line_items"]]
    with db.uow() as uow:
        auth.community_chain(uow.session, body.community_id)
        try:
            project, warnings = propose_project(uow.session, viewer.actor, ProposalIn(**data))
        except ServiceError as exc:
            raise _service_error(exc) from exc
        uow.commit()
        pid = project.id
    with reading(db) as session:
        detail = queries.project_detail(session, viewer, pid)
    detail["warnings"] = [{"code": w.code, "message": w.message, "article": w.article, "warning": True}
                          for w in warnings]
    return detail


def open_year(db: Database, viewer: Viewer, community: int, year: int, carry_in: str) -> dict[str, Any]:
    def exists() -> Conflict:
        return Conflict(f"{year} 年度经费已经开放", code="fund_year.exists", article="第五条")

    try:
        with db.uow() as uow:
            s = uow.session
            auth.community_chain(s, community)
            queries.require_admin_of(s, viewer, community)
            lock_name(s, f"fund_year:{community}:{year}")  # two admins opening it at once: one check at a time
            try:
                queries.find_fund_year(s, community, year)
            except NotFound:
                pass
            else:
                raise exists()
            try:
                open_fund_year(s, community, year, carry_in_fen=parse_yuan(carry_in), actor_label=viewer.username,
                               actor_id=viewer.person_id)
            except ServiceError as exc:
                raise _service_error(exc) from exc
            uow.commit()
    except IntegrityError as exc:  # opened meanwhile by the carry-over of the year before: its unique key says so
        raise exists() from exc
    with reading(db) as session:
        return queries.fund_year_detail(session, viewer, community, year)


# --------------------------------------------------------------------------- administration


def create_user(db: Database, viewer: Viewer, body: Any) -> dict[str, Any]:
    cities = auth.require_admin(viewer)
    hashed = auth.hash_password(body.password)
    taken = Conflict(f"用户名 {body.username} 已被使用", code="user.exists")
    try:
        with db.uow() as uow:
            s = uow.session
            lock_name(s, f"username:{body.username.lower()}")
            if s.execute(select(Person.id).where(Person.username == body.username)).scalar_one_or_none() is not None:
                raise taken
            person = Person(username=body.username, display_name=body.display_name, password_hash=hashed,
                            phone=body.phone or None, active=True)
            s.add(person)
            s.flush()
            city = min(cities)
            audit.record(s, "org", city, event="create_user", at=clock.now(), actor_id=viewer.person_id,
                         actor_label=viewer.username,
                         payload={"person_id": person.id, "username": person.username,
                                  "display_name": person.display_name})
            uow.commit()
            return queries.user_out(s, person)
    except IntegrityError as exc:  # a concurrent request created the same username first
        raise taken from exc


def add_post(db: Database, viewer: Viewer, person_id: int, body: Any) -> dict[str, Any]:
    with db.uow() as uow:
        s = uow.session
        person = s.get(Person, person_id)
        if person is None:
            raise NotFound(f"用户 #{person_id} 不存在", code="user.not_found")
        queries.require_admin_of(s, viewer, body.organisation_id)
        level = s.execute(select(Organisation.level).where(Organisation.id == body.organisation_id)).scalar_one()
        if ROLE_LEVEL[body.role] != level:
            raise Unprocessable(f"岗位 {body.role} 只能设在{_LEVELS[ROLE_LEVEL[body.role]]}一级,不能设在{_LEVELS[level]}",
                                code="post.wrong_level")
        if body.valid_to is not None and body.valid_to < body.valid_from:
            raise Unprocessable("任期结束日不能早于开始日", code="post.dates")
        post = Post(person_id=person_id, organisation_id=body.organisation_id, role=body.role,
                    valid_from=body.valid_from, valid_to=body.valid_to)
        s.add(post)
        s.flush()
        audit.record(s, "org", body.organisation_id, event="add_post", at=clock.now(), actor_id=viewer.person_id,
                     actor_label=viewer.username,
                     payload={"post_id": post.id, "person_id": person_id, "role": body.role,
                              "valid_from": body.valid_from.isoformat(),
                              "valid_to": body.valid_to.isoformat() if body.valid_to else None})
        uow.commit()
        return queries.user_out(s, person)


_LEVELS = {"city": "市", "area": "大社区", "community": "社区"}


def end_post(db: Database, viewer: Viewer, post_id: int, valid_to: dt.date) -> dict[str, Any]:
    with db.uow() as uow:
        s = uow.session
        post = s.get(Post, post_id)
        if post is None:
            raise NotFound(f"岗位 #{post_id} 不存在", code="post.not_found")
        queries.require_admin_of(s, viewer, post.organisation_id)
        if valid_to < post.valid_from:
            raise Unprocessable("任期结束日不能早于开始日", code="post.dates")
        if post.valid_to is not None and post.valid_to < valid_to:
            raise Conflict(f"该岗位已于 {post.valid_to} 结束,不能延长", code="post.ended")
        post.valid_to = valid_to
        audit.record(s, "org", post.organisation_id, event="end_post", at=clock.now(), actor_id=viewer.person_id,
                     actor_label=viewer.username,
                     payload={"post_id": post.id, "person_id": post.person_id, "role": post.role,
                              "valid_to": valid_to.isoformat()})
        uow.commit()
        person = s.get(Person, post.person_id)
        assert person is not None
        return queries.user_out(s, person)


def import_calendar(db: Database, viewer: Viewer, text: str, source: str) -> dict[str, Any]:
    from workflow.calendar import import_schedule

    auth.require_admin(viewer)
    with db.uow() as uow:
        try:
            result = import_schedule(uow.session, text, source, actor_label=viewer.username)
        except ScheduleError as exc:
            raise Unprocessable(f"节假日安排文件有误: {exc.errors[0][1] if exc.errors else exc}",
                                code="calendar.invalid",
                                errors=[{"loc": f"body.line.{line}", "msg": msg} for line, msg in exc.errors[:50]]
                                ) from exc
        uow.commit()
    return dataclasses.asdict(result)


def publish(db: Database, viewer: Viewer, body: Any) -> dict[str, Any]:
    with db.uow() as uow:
        s = uow.session
        level = s.execute(select(Organisation.level).where(Organisation.id == body.city_id)).scalar_one_or_none()
        if level != "city":
            raise NotFound(f"市 #{body.city_id} 不存在", code="organisation.not_found")
        queries.require_admin_of(s, viewer, body.city_id)
        try:
            policy = Policy.from_dict(dict(body.data))
        except (ValueError, TypeError, ArithmeticError, AttributeError) as exc:
            raise Unprocessable(f"政策参数不正确: {exc}", code="policy.invalid") from exc
        row = publish_policy(s, body.city_id, policy, body.effective_from, body.note, actor_label=viewer.username,
                             actor_id=viewer.person_id)
        uow.commit()
        return queries.policy_out(row)


def verify_audit(db: Database, viewer: Viewer) -> dict[str, Any]:
    auth.require_admin(viewer)
    from workflow.anchors import verify_all

    with db.uow(write=False) as uow:  # a transaction: the check streams the events (a server-side cursor)
        result = verify_all(uow.session)
    return {"ok": result.ok, "checked": result.checked, "chains": result.chains, "broken": result.broken,
            "roots": result.roots, "anchored_events": result.anchored_events, "problems": list(result.problems)}



# ------------------------------------------------------------- organisations and roster (workflow.org)


def _org_action(db: Database, action: Any, *args: Any) -> Any:
    """One organisation use case in its own unit of work; a refusal becomes the API's error."""
    with db.uow() as uow:
        try:
            result = action(uow.session, *args)
        except ServiceError as exc:
            raise _service_error(exc) from exc
        uow.commit()
        return result


def _org_out(org: Organisation, session: Any = None) -> dict[str, Any]:
    from rules.org import level_label

    parent_code = ""
    if org.parent_id is not None and session is not None:
        parent_code = session.execute(select(Organisation.code).where(Organisation.id == org.parent_id)).scalar_one()
    return {"id": org.id, "code": org.code, "name": org.name, "level": org.level, "level_label": level_label(org.level),
            "parent_id": org.parent_id, "parent_code": parent_code, "closed_on": org.closed_on}


def org_tree(session: Any, viewer: Viewer) -> dict[str, Any]:
    from rules.org import check_admin
    from workflow import org

    if not (v := check_admin(bool(viewer.admin_city_ids))).ok:
        raise ApiError.from_verdict(v, 403)
    return {"items": [n.as_dict() for n in org.tree(session, viewer.admin_city_ids)]}


def create_org(db: Database, viewer: Viewer, body: Any) -> dict[str, Any]:
    from workflow import org

    def act(s: Any) -> dict[str, Any]:
        return _org_out(org.create(s, viewer.actor, body.level, body.code, body.name, body.parent_id), s)

    return dict(_org_action(db, act))


def rename_org(db: Database, viewer: Viewer, org_id: int, name: str) -> dict[str, Any]:
    from workflow import org

    return dict(_org_action(db, lambda s: _org_out(org.rename(s, viewer.actor, org_id, name), s)))


def move_org(db: Database, viewer: Viewer, org_id: int, area_id: int, reason: str) -> dict[str, Any]:
    from workflow import org

    return dict(_org_action(db, lambda s: _org_out(org.move(s, viewer.actor, org_id, area_id, reason=reason), s)))


def close_org(db: Database, viewer: Viewer, org_id: int, reason: str) -> dict[str, Any]:
    from workflow import org

    def act(s: Any) -> dict[str, Any]:
        closed = org.close(s, viewer.actor, org_id, reason)
        return {**_org_out(closed.org, s), "ended_posts": closed.ended_posts, "frozen_fund_years": closed.frozen_years}

    return dict(_org_action(db, act))


def import_roster(db: Database, viewer: Viewer, data: bytes, filename: str, dry_run: bool) -> dict[str, Any]:
    from rules.org import ART_ORG
    from workflow.roster import RosterError
    from workflow.roster import import_roster as run

    def act(s: Any) -> dict[str, Any]:
        try:
            return run(s, viewer.actor, data, filename, dry_run=dry_run).as_dict()
        except RosterError as exc:
            shown = exc.errors[:1000]
            raise Unprocessable(
                f"名单有 {len(exc.errors)} 处错误(涉及第 {'、'.join(str(r) for r in exc.rows[:20])}"
                f"{' 等' if len(exc.rows) > 20 else ''} 行),未导入任何数据。首个错误: {exc.errors[0]}",
                code="roster.invalid", article=ART_ORG,
                errors=[{"loc": f"row.{e.row}.{e.column}" if e.column else f"row.{e.row}", "msg": str(e)}
                        for e in shown]) from exc

    with db.uow() as uow:
        try:
            result = act(uow.session)
        except ServiceError as exc:
            raise _service_error(exc) from exc
        if not dry_run:
            uow.commit()
        return result


def issue_activation(db: Database, viewer: Viewer, person_id: int) -> dict[str, Any]:
    from rules.org import check_admin
    from workflow import accounts

    def act(s: Any) -> dict[str, Any]:
        if not (v := check_admin(bool(viewer.admin_city_ids))).ok:
            raise ApiError.from_verdict(v, 403)
        cities = viewer.admin_city_ids
        person = s.get(Person, person_id)
        if person is None:
            raise NotFound(f"用户 #{person_id} 不存在", code="user.not_found", article="第二条")
        posts = queries._all_posts(s, person_id)
        if posts and not any(queries.city_of(s, p.organisation_id) in cities for p in posts):
            raise ApiError("该用户不属于您管理的市", code="org.other_city", article="第二条", status=403)
        issued = accounts.issue_activation(s, viewer.actor, person)
        return {"username": issued.username, "code": issued.code, "expires_at": queries.local(issued.expires_at)}

    return dict(_org_action(db, act))


def activate_account(db: Database, settings: Settings, body: Any, ip: str) -> dict[str, Any]:
    from workflow import accounts

    auth.count_hit(db, "activate", ip or "-", settings.login_max_failures * 2, settings.login_window_seconds,
                   "激活尝试过于频繁,请 {minutes} 分钟后再试")
    hashed = auth.hash_password(body.password) if len(body.password) >= 10 else ""
    person = _org_action(db, lambda s: accounts.activate(s, body.username, body.code, body.password, hashed))
    return {"username": person.username, "message": "密码已设置,请用新密码登录"}
