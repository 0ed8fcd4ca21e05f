"""What a guard, an effect or a payload model needs of the engine, without the engine itself.

``Context`` (everything a guard or effect may read for one firing), ``Outcome``, ``Actor``, the decorators
that register guards, effects, payload models, prechecks, constraints and state rules, and the reads they
share (the organisation tree, posts and the post that allows an action, policies, deadlines).
``workflow.engine`` fires events with them; ``workflow.guards``, ``workflow.effects``, ``workflow.payloads`` and
``workflow.inspection_events`` import this module, not the engine, and whatever else they call lives below the
engine too (``workflow.fund_years``, ``workflow.deadlines``, ``workflow.papers`` …), so that the engine can load
them without an import circle (``tests/test_layers.py``).
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, NamedTuple

from pydantic import BaseModel
from sqlalchemy import Table, bindparam, select
from sqlalchemy import event as sa_event
from sqlalchemy.orm import Session

from rules import org as r_org
from rules.policy import Policy
from rules.verdict import Verdict
from store.models import Deadline, FundYear, Organisation, Person, PolicyVersion, Post, Project
from workflow import clock
from workflow.machines import Workflow

ROLE_LEVEL = r_org.ROLE_LEVEL

ROLE_LABELS = {**r_org.ROLE_LABELS, "system": "系统定时", "public": "居民群众"}


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
# The tree is read from the database, never kept across transactions: a move or a closing committed by
# any process (the API runs several) holds for the next action everywhere. A firing reads its entity's
# chain in the statement that locks the row (``_lock_stmt``: no extra round trip); everything else reads
# it with one indexed statement, remembered for the rest of its own unit of work only (bench/org_tree.py).

_ORG: Table = Organisation.__table__  # type: ignore[assignment]
_PARENT, _GRANDPARENT = _ORG.alias("parent_org"), _ORG.alias("grandparent_org")
_CHAIN = (select(_ORG.c.level, _ORG.c.parent_id, _PARENT.c.level, _PARENT.c.parent_id, _GRANDPARENT.c.level)
          .select_from(_ORG.outerjoin(_PARENT, _PARENT.c.id == _ORG.c.parent_id)
                       .outerjoin(_GRANDPARENT, _GRANDPARENT.c.id == _PARENT.c.parent_id))
          .where(_ORG.c.id == bindparam("org_id")))
_CHAIN_MEMO = "fundflow_org_chain"


def org_chain(session: Session, org_id: int) -> dict[str, int]:
    """{'community': id, 'area': id, 'city': id} for an organisation and its ancestors (the tree has three
    levels). Raises ``NoResultFound`` when there is no such organisation."""
    memo: dict[int, dict[str, int]] = session.info.setdefault(_CHAIN_MEMO, {})
    found = memo.get(org_id)
    if found is None:
        found = memo[org_id] = chain_from(org_id, *session.execute(_CHAIN, {"org_id": org_id}).one())
    return dict(found)


def chain_from(org_id: int, level: Any, parent: Any, parent_level: Any, grandparent: Any,
               grandparent_level: Any) -> dict[str, int]:
    """The chain of ``org_id`` from the columns ``_CHAIN`` reads (its level, its parent's id and level, its
    grandparent's id and level), for a statement that reads them joined to something else."""
    found = {str(level): org_id}
    if parent is not None and parent_level is not None:
        found[str(parent_level)] = int(parent)
        if grandparent is not None and grandparent_level is not None:
            found[str(grandparent_level)] = int(grandparent)
    return found


def forget_org_chains(session: Session) -> None:
    """Drop what this unit of work remembered of the tree (after it changed the tree itself)."""
    session.info.pop(_CHAIN_MEMO, None)


@sa_event.listens_for(Session, "after_commit")
@sa_event.listens_for(Session, "after_soft_rollback")
def _forget_at_transaction_end(session: Session, *_args: Any) -> None:
    # a session that outlives its transaction reads the tree again in the next one
    session.info.pop(_CHAIN_MEMO, None)


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


def held_posts(session: Session, actor: Actor, day: dt.date) -> list[HeldPost]:
    """The posts the actor holds on ``day`` (a firing reads them with its row lock instead: ``lock_row``)."""
    if actor.person_id is None:
        return []
    return [HeldPost(*r) for r in session.execute(_HELD, {"person_id": actor.person_id, "day": day})]


def resolve_post(session: Session, actor: Actor, roles: list[str], orgs: dict[str, int], day: dt.date,
                 wanted_role: str | None = None, held: list[HeldPost] | None = None) -> tuple[HeldPost | None, str]:
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
    post: HeldPost | None
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
_GUARD_READS: dict[str, frozenset[str]] = {}
"""What a guard reads of a project beyond its row: ``facts`` (open concerns and objections, the step
deadline, the needs it answers) and ``line_items``. An event with such a guard reads them in the same
statement that locks the row."""
_EFFECTS: dict[tuple[str, str], Effect] = {}
_PAYLOADS: dict[tuple[str, str], type[BaseModel]] = {}
_PRECHECKS: dict[tuple[str, str], Callable[[Context], Outcome | None]] = {}
_STATE_RULES: dict[tuple[str, str], Callable[[str, str], Verdict]] = {}


def guard(name: str, *, reads: tuple[str, ...] = ()) -> Callable[[Guard], Guard]:
    assert set(reads) <= {"facts", "line_items"}, reads
    def deco(fn: Guard) -> Guard:
        _GUARDS[name] = fn
        if reads:
            _GUARD_READS[name] = frozenset(reads)
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


_CONSTRAINTS: dict[str, Guard] = {}


def constraint(index_name: str) -> Callable[[Guard], Guard]:
    """The refusal to give when the database's unique index ``index_name`` refuses an effect's write: the
    verdict of the rule the index holds, built from the context alone (the transaction is already failed)."""
    def deco(fn: Guard) -> Guard:
        _CONSTRAINTS[index_name] = fn
        return fn
    return deco


def state_rule(entity_type: str, trigger: str) -> Callable[[Callable[[str, str], Verdict]], Any]:
    """Why ``trigger`` is refused in a state that does not declare it, when the regulation says more than
    "not in this state" (e.g. the plan is frozen from preliminary consent on). Called with the state and
    its label; a refusal is returned instead of ``workflow.invalid_state``."""
    def deco(fn: Callable[[str, str], Verdict]) -> Callable[[str, str], Verdict]:
        _STATE_RULES[(entity_type, trigger)] = fn
        return fn
    return deco


@dataclass(frozen=True)
class HeldPost:
    """A post the actor holds on the day of the firing (what the post check and the audit event need)."""

    id: int
    role: str
    organisation_id: int


class LineItemRow(NamedTuple):
    description: str
    quantity: int
    unit_price_fen: int
    amount_fen: int
    catalog_item: str
    flagged_keywords: list[str]
    flag_decision: str
    id: int


@dataclass(frozen=True)
class ProjectFacts:
    """Read with the row lock for events whose guards need them (see ``_GUARD_READS``)."""

    open_concerns: int
    open_objections: int
    due_at: dt.datetime | None
    """The current step deadline (the timer of the state the project is in), open or fired."""
    need_ids: tuple[int, ...]


_FACTS_LOADER: list[Callable[[Session, int], ProjectFacts]] = []


def provide_facts_loader(load: Callable[[Session, int], ProjectFacts]) -> None:
    """The engine registers how the facts are read without the lock (it builds the statement)."""
    _FACTS_LOADER[:] = [load]


def load_project_facts(session: Session, project_id: int) -> ProjectFacts:
    """The facts without the lock (when a guard asks for them on an event not marked as reading them)."""
    return _FACTS_LOADER[0](session, project_id)


# -------------------------------------------------------------------------------------- deadlines


def compute_due(session: Session, start: dt.date, workdays: int) -> tuple[dt.datetime, bool]:
    from store.calendar import load_calendar
    from workflow.calendar import compute_due as _compute

    return _compute(load_calendar(session), start, workdays)


_DL: Table = Deadline.__table__  # type: ignore[assignment]
_OPEN_DEADLINE = (select(Deadline).where(Deadline.entity_type == bindparam("etype"),
                                         Deadline.entity_id == bindparam("eid"), Deadline.kind == bindparam("kind"),
                                         Deadline.status.in_(("open", "fired")))
                  .order_by(Deadline.id.desc()).limit(1))
_OPEN_DEADLINE_DUE = (select(_DL.c.id, _DL.c.due_at).where(
    _DL.c.entity_type == bindparam("etype"), _DL.c.entity_id == bindparam("eid"), _DL.c.kind == bindparam("kind"),
    _DL.c.status.in_(("open", "fired"))).order_by(_DL.c.id.desc()).limit(1))


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
