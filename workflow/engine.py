"""The engine: the one place that changes a project's or fund year's state.

Firing an event is, inside the caller's unit of work: lock the row, check the version, find the
transitions of that trigger from the current state, check that the actor holds an allowed post
today, validate the payload, evaluate the guards through the shared machine, apply the effects,
move the state, set or clear deadlines, append the audit event. A refusal raises nothing and
writes nothing: it returns an ``Outcome`` carrying the verdict, and the caller rolls back.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from pydantic import BaseModel, ValidationError
from sqlalchemy import Table, bindparam, select
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from rules import workflow as r_workflow
from rules.policy import Policy
from rules.verdict import Verdict
from store.models import Deadline, FundYear, Organisation, Person, PolicyVersion, Post, Project
from workflow import audit, clock
from workflow.machines import Subject, Workflow, workflow_for

ROLE_LEVEL = {
    "community_secretary": "community", "community_staff": "community", "supervisor": "community",
    "working_member": "area", "working_secretary": "area", "construction_director": "area",
    "finance_officer": "area", "city_admin": "city",
}

ROLE_LABELS = {
    "community_secretary": "社区党委书记", "community_staff": "社区党委委员/社区工作者",
    "supervisor": "社区议事监督委员会成员", "working_member": "社区党工委委员",
    "working_secretary": "社区党工委书记", "construction_director": "社区建设管理委员会主任",
    "finance_officer": "党工委财务管理人员", "city_admin": "市委组织部/财政", "system": "系统定时",
    "public": "居民群众",
}


@dataclass(frozen=True)
class Actor:
    """Who fires an event: a person, the public (a resident, no login) or the system (timers)."""

    person_id: int | None
    label: str
    """username, ``public`` or ``system``."""

    @property
    def is_system(self) -> bool:
        return self.person_id is None and self.label == "system"

    @property
    def is_public(self) -> bool:
        return self.person_id is None and self.label == "public"


SYSTEM = Actor(None, "system")
PUBLIC = Actor(None, "public")


@dataclass
class Outcome:
    ok: bool
    verdict: Verdict
    status: int
    """HTTP-like status: 200 done, 403 no post, 404 unknown, 409 refused by a rule, 412 stale, 422 bad payload."""
    entity_type: str = ""
    entity_id: int = 0
    from_state: str = ""
    to_state: str = ""
    version: int = 0
    event_id: int | None = None
    data: dict[str, Any] = field(default_factory=dict)
    """What the effect produced (e.g. ids of created rows), also in the audit payload."""
    replayed: bool = False
    """An idempotent request that had already been carried out."""


def refused(verdict: Verdict, status: int = 409, **kw: Any) -> Outcome:
    return Outcome(ok=False, verdict=verdict, status=status, **kw)


# ---------------------------------------------------------------------------- organisation lookups

_ORG_CACHE: dict[int, tuple[str, int | None]] = {}


def org_chain(session: Session, org_id: int) -> dict[str, int]:
    """{'community': id, 'area': id, 'city': id} for an organisation and its ancestors."""
    out: dict[str, int] = {}
    current: int | None = org_id
    while current is not None:
        cached = _ORG_CACHE.get(current)
        if cached is None:
            row = session.execute(select(Organisation.level, Organisation.parent_id)
                                  .where(Organisation.id == current)).one()
            cached = (row[0], row[1])
            _ORG_CACHE[current] = cached
        out[cached[0]] = current
        current = cached[1]
    return out


# Hot statements are built once with bound parameters: building a select and its cache key on every
# call costs more CPU than executing it (bench/engine.py). Same SQL, same rows.
_POSTS_ON = select(Post).where(Post.person_id == bindparam("person_id"), Post.valid_from <= bindparam("day"),
                               (Post.valid_to.is_(None)) | (Post.valid_to >= bindparam("day")))


def posts_on(session: Session, person_id: int, day: dt.date) -> list[Post]:
    return list(session.execute(_POSTS_ON, {"person_id": person_id, "day": day}).scalars())


_POSTS: Table = Post.__table__  # type: ignore[assignment]
_HELD = select(_POSTS.c.id, _POSTS.c.role, _POSTS.c.organisation_id).where(
    _POSTS.c.person_id == bindparam("person_id"), _POSTS.c.valid_from <= bindparam("day"),
    (_POSTS.c.valid_to.is_(None)) | (_POSTS.c.valid_to >= bindparam("day")))


def held_posts(session: Session, actor: Actor, day: dt.date) -> list[Any]:
    """(id, role, organisation_id) of the posts the actor holds on ``day`` — one light query per firing."""
    if actor.person_id is None:
        return []
    return list(session.execute(_HELD, {"person_id": actor.person_id, "day": day}).all())


def people_with_role(session: Session, org_id: int, role: str, day: dt.date) -> list[int]:
    stmt = select(Post.person_id).where(Post.organisation_id == org_id, Post.role == role, Post.valid_from <= day,
                                        (Post.valid_to.is_(None)) | (Post.valid_to >= day))
    return [r[0] for r in session.execute(stmt)]


_POLICY_CACHE: dict[int, Policy] = {}


def policy_of(session: Session, policy_version_id: int) -> Policy:
    """Policy versions are immutable once written, so they are cached for the process."""
    p = _POLICY_CACHE.get(policy_version_id)
    if p is None:
        data = session.execute(select(PolicyVersion.data).where(PolicyVersion.id == policy_version_id)).scalar_one()
        p = Policy.from_dict(data)
        _POLICY_CACHE[policy_version_id] = p
    return p


# ---------------------------------------------------------------------------------------- context


@dataclass
class Context:
    """Everything a guard or an effect may read for one firing. Loaders are lazy and cached."""

    session: Session
    entity_type: str
    row: Any
    """The locked Project or FundYear."""
    trigger: str
    actor: Actor
    post: Post | None
    role: str
    payload: Any
    """The validated pydantic payload model."""
    raw_payload: dict[str, Any]
    reason: str
    now: dt.datetime
    workflow: Workflow
    from_state: str
    #: filled by effects: extra facts for the audit payload and the response
    produced: dict[str, Any] = field(default_factory=dict)
    _memo: dict[str, Any] = field(default_factory=dict)

    @property
    def today(self) -> dt.date:
        return clock.local_date(self.now)

    @cached_property
    def policy(self) -> Policy:
        return policy_of(self.session, self.row.policy_version_id)

    @cached_property
    def orgs(self) -> dict[str, int]:
        return org_chain(self.session, self.row.community_id)

    @property
    def project(self) -> Project:
        assert self.entity_type == "project"
        return self.row  # type: ignore[no-any-return]

    @cached_property
    def fund_year(self) -> FundYear:
        """The fund year, locked: every change to committed money serialises on it."""
        if self.entity_type == "fund_year":
            return self.row  # type: ignore[no-any-return]
        stmt = select(FundYear).where(FundYear.id == self.row.fund_year_id).execution_options(populate_existing=True)
        if self.session.get_bind().dialect.name == "postgresql":
            stmt = stmt.with_for_update()
        return self.session.execute(stmt).scalar_one()

    def memo(self, key: str, load: Callable[[], Any]) -> Any:
        if key not in self._memo:
            self._memo[key] = load()
        return self._memo[key]

    @property
    def actor_id(self) -> int:
        assert self.actor.person_id is not None
        return self.actor.person_id


Guard = Callable[[Context], Verdict]
Effect = Callable[[Context, str, str], None]

_GUARDS: dict[str, Guard] = {}
_EFFECTS: dict[tuple[str, str], Effect] = {}
_PAYLOADS: dict[tuple[str, str], type[BaseModel]] = {}
_PRECHECKS: dict[tuple[str, str], Callable[[Context], Outcome | None]] = {}


def guard(name: str) -> Callable[[Guard], Guard]:
    def deco(fn: Guard) -> Guard:
        _GUARDS[name] = fn
        return fn
    return deco


def effect(entity_type: str, trigger: str) -> Callable[[Effect], Effect]:
    def deco(fn: Effect) -> Effect:
        _EFFECTS[(entity_type, trigger)] = fn
        return fn
    return deco


def payload_model(entity_type: str, trigger: str) -> Callable[[type[BaseModel]], type[BaseModel]]:
    def deco(cls: type[BaseModel]) -> type[BaseModel]:
        _PAYLOADS[(entity_type, trigger)] = cls
        return cls
    return deco


def precheck(entity_type: str, trigger: str) -> Callable[[Callable[[Context], Outcome | None]], Any]:
    """A check before the guards that may answer the request itself (idempotent replays)."""
    def deco(fn: Callable[[Context], Outcome | None]) -> Callable[[Context], Outcome | None]:
        _PRECHECKS[(entity_type, trigger)] = fn
        return fn
    return deco


def registered_guards() -> dict[str, Guard]:
    _load_plugins()
    return _GUARDS


def payload_schema(entity_type: str, trigger: str) -> type[BaseModel] | None:
    _load_plugins()
    return _PAYLOADS.get((entity_type, trigger))


_loaded = False


def _load_plugins() -> None:
    global _loaded
    if not _loaded:
        # Importing registers the guards, effects and payload models with the decorators above.
        import workflow.effects  # noqa: F401
        import workflow.guards  # noqa: F401
        import workflow.payloads  # noqa: F401
        _loaded = True


MODELS: dict[str, type[Project] | type[FundYear]] = {"project": Project, "fund_year": FundYear}


_LOCK_STMTS: dict[tuple[str, bool], Any] = {}


def _lock_stmt(entity_type: str, for_update: bool) -> Any:
    stmt = _LOCK_STMTS.get((entity_type, for_update))
    if stmt is None:
        model = MODELS[entity_type]
        stmt = select(model).where(model.id == bindparam("entity_id")).execution_options(populate_existing=True)
        if for_update:
            stmt = stmt.with_for_update()
        _LOCK_STMTS[(entity_type, for_update)] = stmt
    return stmt


def lock_row(session: Session, entity_type: str, entity_id: int) -> Any:
    stmt = _lock_stmt(entity_type, session.get_bind().dialect.name == "postgresql")
    return session.execute(stmt, {"entity_id": entity_id}).scalar_one_or_none()


def _state_label(wf: Workflow, state: str) -> str:
    return str(wf.module.LABELS.get(state, state))


def _event_label(wf: Workflow, trigger: str) -> str:
    return str(wf.module.EVENT_LABELS.get(trigger, trigger))


def resolve_post(session: Session, actor: Actor, roles: list[str], orgs: dict[str, int], day: dt.date,
                 wanted_role: str | None = None, held: list[Any] | None = None) -> tuple[Any, str]:
    """The actor's post that allows one of ``roles`` on ``day`` for an entity under ``orgs``."""
    if actor.is_system:
        return (None, "system") if "system" in roles else (None, "")
    if actor.person_id is None:
        return (None, "public") if "public" in roles else (None, "")
    candidates = [r for r in roles if r not in ("system", "public")]
    if wanted_role:
        candidates = [r for r in candidates if r == wanted_role]
    if held is None:
        held = held_posts(session, actor, day)
    for role in candidates:
        org_id = orgs.get(ROLE_LEVEL.get(role, ""))
        for post in held:
            if post.role == role and post.organisation_id == org_id:
                return post, role
    if "public" in roles:
        return None, "public"
    return None, ""


def fire(session: Session, entity_type: str, entity_id: int, trigger: str, actor: Actor,
         payload: dict[str, Any] | None = None, *, reason: str = "", expected_version: int | None = None,
         as_role: str | None = None, now: dt.datetime | None = None) -> Outcome:
    """Fire ``trigger`` on one row inside the caller's transaction. See the module docstring."""
    _load_plugins()
    now = now or clock.now()
    raw = dict(payload or {})
    wf = workflow_for(entity_type)
    if not (v := r_workflow.check_event_known(trigger, wf.trigger_set, "")).ok:
        return refused(v, 404)
    row = lock_row(session, entity_type, entity_id)
    if row is None:
        return refused(r_workflow.check_found(False, ""), 404)
    base = {"entity_type": entity_type, "entity_id": entity_id, "from_state": row.state, "version": row.version}
    article = wf.article(trigger)
    orgs = org_chain(session, row.community_id)
    day = clock.local_date(now)
    # Whoever may never fire this event here learns nothing about the row's state or version.
    roles_any = wf.roles_any(trigger)
    held = held_posts(session, actor, day)
    _post, role_any = resolve_post(session, actor, roles_any, orgs, day, as_role, held)
    if not (v := r_workflow.check_post(role_any, _event_label(wf, trigger),
                                       [ROLE_LABELS.get(r, r) for r in roles_any], article)).ok:
        return refused(v, 403, **{**base, "from_state": "", "version": 0})
    if not (v := r_workflow.check_version(row.version, expected_version, article)).ok:
        return refused(v, 412, **base)
    candidates = wf.candidates(trigger, row.state)
    if not (v := r_workflow.check_state_allows(bool(candidates), _state_label(wf, row.state),
                                               _event_label(wf, trigger), article)).ok:
        return refused(v, 409, **base)
    roles = wf.roles_for(trigger, row.state)
    post, role = resolve_post(session, actor, roles, orgs, day, as_role, held)
    if not (v := r_workflow.check_post(role, _event_label(wf, trigger), [ROLE_LABELS.get(r, r) for r in roles],
                                       article)).ok:
        return refused(v, 403, **base)
    schema = _PAYLOADS.get((entity_type, trigger))
    parsed: Any = None
    if schema is not None:
        try:
            parsed = schema.model_validate(raw)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first.get("loc", ()))
            return refused(r_workflow.check_payload_valid([(where, str(first.get("msg", "")))], article), 422, **base)
    ctx = Context(session=session, entity_type=entity_type, row=row, trigger=trigger, actor=actor, post=post,
                  role=role, payload=parsed, raw_payload=raw, reason=reason.strip(), now=now, workflow=wf,
                  from_state=row.state)
    pre = _PRECHECKS.get((entity_type, trigger))
    if pre is not None:
        answered = pre(ctx)
        if answered is not None:
            return answered
    subject = Subject(state=row.state, ctx=ctx, guards=_GUARDS)
    moved = wf.machine.events[trigger].trigger(subject)
    if not moved:
        for name, verdict in subject.verdicts:
            if not verdict.ok and name not in wf.selectors:
                return refused(verdict, 409, **base)
        return refused(r_workflow.check_branch_found(bool(moved), _event_label(wf, trigger), article), 409, **base)
    from_state, to_state = row.state, subject.state
    eff = _EFFECTS.get((entity_type, trigger))
    if eff is not None:
        eff(ctx, from_state, to_state)
    warnings = [v.as_dict() for _n, v in subject.verdicts if v.ok and v.warning]
    if to_state != from_state:
        _move_deadlines(session, wf, entity_type, row, from_state, to_state, now)
    audit_payload = {"payload": raw, **ctx.produced}
    if warnings:
        audit_payload["warnings"] = warnings
    # Whatever the effects added or changed goes first; then the state, the version and the audit event
    # are written with two plain statements in this same transaction.
    if session.new or session.dirty or session.deleted:
        session.flush()
    seq = row.version + 1
    event_id, digest = audit.append_row(
        session, prev_hash=row.audit_head, seq=seq, entity_type=entity_type, entity_id=row.id, event=trigger,
        at=now, actor_id=actor.person_id, actor_label=actor.label, post_id=post.id if post else None, role=role,
        from_state=from_state, to_state=to_state, payload=audit_payload, reason=ctx.reason,
        holder_table=MODELS[entity_type].__table__)
    for key, value in (("state", to_state), ("version", seq), ("audit_head", digest)):
        set_committed_value(row, key, value)
    ok = Verdict(ok=True, code="ok", message="", article=article)
    if warnings:
        w = warnings[0]
        ok = Verdict(ok=True, code=str(w["code"]), message=str(w["message"]), article=str(w["article"]), warning=True)
    return Outcome(ok=True, verdict=ok, status=200, entity_type=entity_type, entity_id=row.id, from_state=from_state,
                   to_state=to_state, version=seq, event_id=event_id, data=dict(ctx.produced))


# -------------------------------------------------------------------------------------- deadlines


def compute_due(session: Session, start: dt.date, workdays: int) -> tuple[dt.datetime, bool]:
    from store.calendar import compute_due as _compute
    from store.calendar import load_calendar

    return _compute(load_calendar(session), start, workdays)


_DL: Table = Deadline.__table__  # type: ignore[assignment]
_CLEAR_DEADLINES = _DL.update().where(
    _DL.c.entity_type == bindparam("etype"), _DL.c.entity_id == bindparam("eid"), _DL.c.kind == bindparam("dl_kind"),
    _DL.c.status == "open").values(status="cleared")
_OPEN_DEADLINE = (select(Deadline).where(Deadline.entity_type == bindparam("etype"),
                                         Deadline.entity_id == bindparam("eid"), Deadline.kind == bindparam("kind"),
                                         Deadline.status.in_(("open", "fired")))
                  .order_by(Deadline.id.desc()).limit(1))
_OPEN_DEADLINE_DUE = (select(_DL.c.id, _DL.c.due_at).where(
    _DL.c.entity_type == bindparam("etype"), _DL.c.entity_id == bindparam("eid"), _DL.c.kind == bindparam("kind"),
    _DL.c.status.in_(("open", "fired"))).order_by(_DL.c.id.desc()).limit(1))


def _move_deadlines(session: Session, wf: Workflow, entity_type: str, row: Any, from_state: str, to_state: str,
                    now: dt.datetime) -> None:
    timers = getattr(wf.module, "TIMERS", {})
    if from_state in timers:
        # a plain UPDATE: no deadline of this kind is held as an object in the session here
        session.execute(_CLEAR_DEADLINES, {"etype": entity_type, "eid": row.id, "dl_kind": timers[from_state]["kind"]})
    spec = timers.get(to_state)
    if spec is None:
        return
    policy = policy_of(session, row.policy_version_id)
    workdays = int(getattr(policy, spec["workdays"]))
    start = clock.local_date(now)
    due, provisional = compute_due(session, start, workdays)
    session.add(Deadline(entity_type=entity_type, entity_id=row.id, kind=spec["kind"], event=spec["event"],
                         start_date=start, workdays=workdays, due_at=due, provisional=provisional, status="open",
                         created_at=now))


def open_deadline(session: Session, entity_type: str, entity_id: int, kind: str) -> Deadline | None:
    """The entity's current deadline of ``kind`` (open, or fired and not yet left), as an object."""
    return session.execute(_OPEN_DEADLINE, {"etype": entity_type, "eid": entity_id, "kind": kind}).scalar_one_or_none()


def open_deadline_due(session: Session, entity_type: str, entity_id: int, kind: str) -> dt.datetime | None:
    """When the entity's current deadline of ``kind`` falls due (a light read for guards)."""
    row = session.execute(_OPEN_DEADLINE_DUE, {"etype": entity_type, "eid": entity_id, "kind": kind}).first()
    return row[1] if row is not None else None


def person_name(session: Session, person_id: int | None) -> str:
    if person_id is None:
        return ""
    return session.execute(select(Person.display_name).where(Person.id == person_id)).scalar_one()
