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

from api import auth, queries
from api.auth import Viewer
from api.errors import ApiError, Conflict, NotFound, Unprocessable
from api.reads import ReadCache, reading, tracking_writes
from api.settings import Settings
from rules.calendar import ScheduleError
from rules.money import parse_yuan
from rules.policy import Policy
from store.db import Database
from store.models import Organisation, Person, Post
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
                       cache: ReadCache | None = None) -> tuple[Outcome, dict[str, Any]]:
    """Fire one event on a project as the viewer; returns the outcome and the project as it now is.

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
    return {"objection_id": int(outcome.data["objection_id"]), "notice_id": notice_id,
            "received_at": queries.local(clock.now()), "message": "您的意见已收到,社区党委将作出答复并在公示栏公布。"}


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
    with db.uow() as uow:
        s = uow.session
        auth.community_chain(s, community)
        queries.require_admin_of(s, viewer, community)
        try:
            queries.find_fund_year(s, community, year)
        except NotFound:
            pass
        else:
            raise Conflict(f"{year} 年度经费已经开放", code="fund_year.exists", article="第五条")
        try:
            open_fund_year(s, community, year, carry_in_fen=parse_yuan(carry_in), actor_label=viewer.username,
                           actor_id=viewer.person_id)
        except ServiceError as exc:
            raise _service_error(exc) from exc
        uow.commit()
    with reading(db) as session:
        return queries.fund_year_detail(session, viewer, community, year)


# --------------------------------------------------------------------------- administration


def create_user(db: Database, viewer: Viewer, body: Any) -> dict[str, Any]:
    cities = auth.require_admin(viewer)
    hashed = auth.hash_password(body.password)
    with db.uow() as uow:
        s = uow.session
        if s.execute(select(Person.id).where(Person.username == body.username)).scalar_one_or_none() is not None:
            raise Conflict(f"用户名 {body.username} 已被使用", code="user.exists")
        person = Person(username=body.username, display_name=body.display_name, password_hash=hashed,
                        phone=body.phone or None, active=True)
        s.add(person)
        s.flush()
        city = min(cities)
        audit.record(s, "org", city, event="create_user", at=clock.now(), actor_id=viewer.person_id,
                     actor_label=viewer.username,
                     payload={"person_id": person.id, "username": person.username, "display_name": person.display_name})
        uow.commit()
        return queries.user_out(s, person)


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
    from store.calendar import import_schedule

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
    with db.uow(write=False) as uow:  # a transaction: the check streams the events (a server-side cursor)
        result = audit.verify(uow.session)
    return {"ok": result.ok, "checked": result.checked, "chains": result.chains, "broken": result.broken}

