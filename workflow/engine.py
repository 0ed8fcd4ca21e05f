"""The engine: the one place that changes a project's or fund year's state.

Firing an event is, inside the caller's unit of work: lock the row, check the version, find the
transitions of that trigger from the current state, check that the actor holds an allowed post
today, validate the payload, evaluate the guards through the shared machine, apply the effects,
move the state, set or clear deadlines, append the audit event. A refusal raises nothing and
writes nothing: it returns an ``Outcome`` carrying the verdict, and the caller rolls back.
"""
from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ValidationError
from sqlalchemy import String, Table, bindparam, case, cast, false, func, literal_column, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from rules import org as r_org
from rules import workflow as r_workflow
from rules.articles import field_article
from rules.verdict import Verdict
from store.db import violated_index
from store.models import Deadline, Finding, FundYear, Inspection, Project
from workflow import audit, clock
from workflow.context import (
    _CONSTRAINTS,
    _EFFECTS,
    _GUARD_READS,
    _GUARDS,
    _ORG,
    _PAYLOADS,
    _POLICY_CACHE,
    _POSTS,
    _PRECHECKS,
    _STATE_RULES,
    PUBLIC,
    ROLE_LABELS,
    ROLE_LEVEL,
    SYSTEM,
    Actor,
    Context,
    Effect,
    Guard,
    HeldPost,
    LineItemRow,
    Outcome,
    ProjectFacts,
    compute_due,
    constraint,
    effect,
    forget_org_chains,
    guard,
    held_posts,
    open_deadline,
    open_deadline_due,
    org_chain,
    payload_model,
    people_with_role,
    person_name,
    policy_of,
    posts_on,
    precheck,
    provide_facts_loader,
    refused,
    resolve_post,
    state_rule,
)
from workflow.machines import Subject, Workflow, workflow_for

# Re-exported: callers outside the guards, effects and payloads keep importing these from the engine.
__all__ = ["PUBLIC", "ROLE_LABELS", "ROLE_LEVEL", "SYSTEM", "_POLICY_CACHE", "Actor", "Context", "Effect", "Guard",
           "HeldPost", "LineItemRow", "Outcome", "ProjectFacts", "compute_due", "constraint", "effect", "fire",
           "forget_org_chains", "guard", "held_posts", "load_project_facts", "lock_row", "open_deadline",
           "open_deadline_due", "org_chain", "payload_model", "payload_schema", "people_with_role", "person_name",
           "policy_of", "posts_on", "precheck", "refused", "registered_guards", "resolve_post", "state_rule"]


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
        # Importing registers the guards, effects and payload models with the decorators of workflow.context.
        import workflow.effects  # noqa: F401
        import workflow.guards  # noqa: F401
        import workflow.inspection_events  # noqa: F401
        import workflow.payloads  # noqa: F401
        _loaded = True


MODELS: dict[str, type[Project] | type[FundYear] | type[Inspection] | type[Finding]] = {
    "project": Project, "fund_year": FundYear, "inspection": Inspection, "finding": Finding}


def _const(value: str) -> Any:
    """A constant of our own code as an SQL literal, not a bound parameter: every bound parameter is
    processed again on every execution, and the lock statement runs on every firing."""
    assert re.fullmatch(r"[a-z_:,]*", value), value
    return literal_column(f"'{value}'", String)


def _agg_strings(expr: Any, dialect: str) -> Any:
    """Comma-joined strings: ``string_agg`` on PostgreSQL, ``group_concat`` on SQLite."""
    if dialect == "postgresql":
        return func.string_agg(expr, _const(","))
    return func.group_concat(expr, _const(","))


def _held_posts_column(dialect: str) -> Any:
    """The actor's posts on ``day`` as one string, ``id:role:organisation_id`` joined by commas."""
    p = _POSTS.c
    text = cast(p.id, String) + _const(":") + p.role + _const(":") + cast(p.organisation_id, String)
    return (select(_agg_strings(text, dialect))
            .where(p.person_id == bindparam("person_id"), p.valid_from <= bindparam("day"),
                   (p.valid_to.is_(None)) | (p.valid_to >= bindparam("day")))
            .scalar_subquery().label("held_posts"))


def _project_fact_columns(wf: Workflow, dialect: str) -> list[Any]:
    from store.models import Concern, Objection, ProjectNeed

    pr: Table = Project.__table__  # type: ignore[assignment]
    co: Table = Concern.__table__  # type: ignore[assignment]
    ob: Table = Objection.__table__  # type: ignore[assignment]
    pn: Table = ProjectNeed.__table__  # type: ignore[assignment]
    step_kind = case(*[(pr.c.state == _const(state), _const(spec["kind"]))
                       for state, spec in getattr(wf.module, "TIMERS", {}).items()], else_=_const(""))
    concerns = (select(func.count()).select_from(co)
                .where(co.c.project_id == pr.c.id, co.c.resolved_at.is_(None)).scalar_subquery())
    objections = (select(func.count()).select_from(ob)
                  .where(ob.c.project_id == pr.c.id, ob.c.resolved.is_(false())).scalar_subquery())
    due = (select(_DL.c.due_at).where(_DL.c.entity_type == _const("project"), _DL.c.entity_id == pr.c.id,
                                      _DL.c.kind == step_kind,
                                      _DL.c.status.in_([_const("open"), _const("fired")]))
           .order_by(_DL.c.id.desc()).limit(1).scalar_subquery())
    needs = (select(_agg_strings(cast(pn.c.need_id, String), dialect))
             .where(pn.c.project_id == pr.c.id).scalar_subquery())
    return [concerns.label("open_concerns"), objections.label("open_objections"), due.label("due_at"),
            needs.label("need_ids")]


# flagged_keywords (JSON) last: SQLite's json_array takes it through json()
_ITEM_COLUMNS = ("id", "description", "quantity", "unit_price_fen", "amount_fen", "catalog_item", "flag_decision",
                 "flagged_keywords")


def _line_items_column(dialect: str) -> Any:
    """The project's line items as one JSON array of arrays (``_ITEM_COLUMNS``)."""
    from store.models import LineItem

    pr: Table = Project.__table__  # type: ignore[assignment]
    li: Table = LineItem.__table__  # type: ignore[assignment]
    cols = [li.c[name] for name in _ITEM_COLUMNS]
    if dialect == "postgresql":
        agg = func.json_agg(func.json_build_array(*cols))
    else:
        agg = func.json_group_array(func.json_array(*cols[:-1], func.json(cols[-1])))
    return select(agg).where(li.c.project_id == pr.c.id).scalar_subquery().label("line_items")


def _items_of(value: Any) -> tuple[LineItemRow, ...]:
    if value is None:
        return ()
    rows = json.loads(value) if isinstance(value, str) else value
    return tuple(LineItemRow(str(r[1]), int(r[2]), int(r[3]), int(r[4]), str(r[5] or ""), list(r[7] or []),
                             str(r[6] or ""), int(r[0]))
                 for r in sorted(rows, key=lambda r: int(r[0])))


_LOCK_STMTS: dict[tuple[str, str, frozenset[str], bool], Any] = {}


def _org_column(model: Any) -> Any:
    """The entity's community's area and city and the day the community closed, as one string
    ``area_id:city_id:closed_on`` (``closed_on`` '' while it exists): read with the lock, so rights follow
    the tree as it is now, in whichever process the tree was changed."""
    community, area = _ORG.alias("lock_community"), _ORG.alias("lock_area")
    closed = func.coalesce(cast(community.c.closed_on, String), _const(""))
    text = cast(community.c.parent_id, String) + _const(":") + cast(area.c.parent_id, String) + _const(":") + closed
    return (select(text).select_from(community.join(area, area.c.id == community.c.parent_id))
            .where(community.c.id == model.community_id).scalar_subquery().label("org_chain"))


def _lock_stmt(entity_type: str, dialect: str, reads: frozenset[str], with_org: bool = True) -> Any:
    """``SELECT row, the actor's posts today, the organisation chain[, what the guards read] … [FOR UPDATE]``:
    one statement where a firing used to spend up to five round trips (bench/engine.py). Only the row is
    locked. (``with_org=False`` is the statement as it was before the chain was read here, for
    bench/org_tree.py.)"""
    key = (entity_type, dialect, reads, with_org)
    stmt = _LOCK_STMTS.get(key)
    if stmt is None:
        model = MODELS[entity_type]
        columns = [model, _held_posts_column(dialect)]
        if with_org:
            columns.append(_org_column(model))
        if "facts" in reads:
            columns += _project_fact_columns(workflow_for(entity_type), dialect)
        if "line_items" in reads:
            columns.append(_line_items_column(dialect))
        if dialect == "postgresql" and (reads or with_org):
            # Whether the row this statement's snapshot saw is the row it locked. Under READ COMMITTED, a
            # FOR UPDATE that waited for another writer returns that writer's new row version, but its
            # subqueries still read the snapshot taken before the wait — without what that writer added (a
            # concern, an objection) or changed elsewhere in its transaction (a move of the community to
            # another area, which rewrites the rows of the community's running projects and fund years:
            # workflow.org). A different row version (xmin) says so, and the statement is run again under
            # the lock we now hold.
            mine: Table = model.__table__  # type: ignore[assignment]
            seen = mine.alias("seen")
            snapshot = (select(literal_column("seen.xmin::text")).select_from(seen).where(seen.c.id == mine.c.id)
                        .scalar_subquery())
            columns.append((snapshot == literal_column(f"{mine.name}.xmin::text")).label("snapshot_fresh"))
        stmt = select(*columns).where(model.id == bindparam("entity_id")).execution_options(populate_existing=True)
        if dialect == "postgresql":
            stmt = stmt.with_for_update(of=model)
        _LOCK_STMTS[key] = stmt
    return stmt


_FACTS_STMTS: dict[str, Any] = {}


def load_project_facts(session: Session, project_id: int) -> ProjectFacts:
    """The facts without the lock (when a guard asks for them on an event not marked as reading them)."""
    dialect = session.get_bind().dialect.name
    stmt = _FACTS_STMTS.get(dialect)
    if stmt is None:
        pr: Table = Project.__table__  # type: ignore[assignment]
        stmt = _FACTS_STMTS[dialect] = select(*_project_fact_columns(workflow_for("project"), dialect)).where(
            pr.c.id == bindparam("entity_id"))
    return _facts_of(session.execute(stmt, {"entity_id": project_id}).one())


provide_facts_loader(load_project_facts)


def _facts_of(found: Any) -> ProjectFacts:
    return ProjectFacts(open_concerns=int(found.open_concerns or 0), open_objections=int(found.open_objections or 0),
                        due_at=found.due_at,
                        need_ids=tuple(sorted(int(n) for n in (found.need_ids or "").split(",") if n)))


def _parse_held(text: str | None) -> list[HeldPost]:
    out = []
    for item in (text or "").split(","):
        if item:
            pid, role, org = item.split(":")
            out.append(HeldPost(int(pid), role, int(org)))
    return out


_READS: dict[tuple[str, str], frozenset[str]] = {}
_NO_READS: frozenset[str] = frozenset()


def event_reads(wf: Workflow, entity_type: str, trigger: str) -> frozenset[str]:
    """What the guards of ``trigger`` read beyond the row (projects only)."""
    key = (entity_type, trigger)
    if key not in _READS:
        _load_plugins()  # the guards register what they read
        reads: set[str] = set()
        if entity_type == "project":
            for t in wf.transitions:
                if t["trigger"] == trigger:
                    for name in (*t.get("conditions", ()), *t.get("when", ())):
                        reads |= _GUARD_READS.get(name, _NO_READS)
        _READS[key] = frozenset(reads)
    return _READS[key]


@dataclass
class Locked:
    row: Any
    held: list[HeldPost]
    facts: ProjectFacts | None = None
    line_items: tuple[LineItemRow, ...] | None = None
    orgs: dict[str, int] = field(default_factory=dict)
    """{'community', 'area', 'city'} of the row's community, read with the lock."""
    community_closed_on: dt.date | None = None


def _parse_org(community_id: int, text: str | None) -> tuple[dict[str, int], dt.date | None]:
    area, city, closed = (text or "::").split(":")
    orgs = {"community": community_id}
    if area:
        orgs["area"] = int(area)
    if city:
        orgs["city"] = int(city)
    return orgs, dt.date.fromisoformat(closed[:10]) if closed else None


def lock_row(session: Session, entity_type: str, entity_id: int, actor: Actor | None = None,
             day: dt.date | None = None, reads: frozenset[str] = _NO_READS) -> Locked | None:
    """Lock the row and read, in the same statement, the posts ``actor`` holds on ``day`` and (for
    projects) what the event's guards read. ``None`` when there is no such row."""
    stmt = _lock_stmt(entity_type, session.get_bind().dialect.name, reads)
    person_id = actor.person_id if actor is not None else None
    params = {"entity_id": entity_id, "person_id": person_id, "day": day or clock.local_date(clock.now())}
    found = session.execute(stmt, params).one_or_none()
    if found is None:
        return None
    if "snapshot_fresh" in found._fields and not found.snapshot_fresh:
        found = session.execute(stmt, params).one()  # we hold the lock: a new snapshot sees every commit
    orgs, closed = _parse_org(found[0].community_id, found.org_chain)
    return Locked(row=found[0], held=_parse_held(found.held_posts),
                  facts=_facts_of(found) if "facts" in reads else None,
                  line_items=_items_of(found.line_items) if "line_items" in reads else None,
                  orgs=orgs, community_closed_on=closed)


def _state_label(wf: Workflow, state: str) -> str:
    return str(wf.module.LABELS.get(state, state))


def _event_label(wf: Workflow, trigger: str) -> str:
    return str(wf.module.EVENT_LABELS.get(trigger, trigger))


def fire(session: Session, entity_type: str, entity_id: int, trigger: str, actor: Actor,
         payload: dict[str, Any] | None = None, *, reason: str = "", expected_version: int | None = None,
         as_role: str | None = None, now: dt.datetime | None = None) -> Outcome:
    """Fire ``trigger`` on one row inside the caller's transaction. See the module docstring."""
    _load_plugins()
    now = now or clock.now()
    raw = dict(payload or {})
    wf = workflow_for(entity_type)
    if not (v := r_workflow.check_event_known(trigger, wf.trigger_set)).ok:
        return refused(v, 404)
    day = clock.local_date(now)
    locked = lock_row(session, entity_type, entity_id, actor, day, event_reads(wf, entity_type, trigger))
    if locked is None:
        return refused(r_workflow.check_found(False), 404)
    row, held = locked.row, locked.held
    base = {"entity_type": entity_type, "entity_id": entity_id, "from_state": row.state, "version": row.version}
    article = wf.article(trigger)
    orgs = locked.orgs
    # Whoever may never fire this event here learns nothing about the row's state or version.
    roles_any = wf.roles_any(trigger)
    _post, role_any = resolve_post(session, actor, roles_any, orgs, day, as_role, held)
    if not (v := r_workflow.check_post(role_any, _event_label(wf, trigger),
                                       [ROLE_LABELS.get(r, r) for r in roles_any], article)).ok:
        return refused(v, 403, **{**base, "from_state": "", "version": 0})
    if not (v := r_workflow.check_version(row.version, expected_version, article)).ok:
        return refused(v, 412, **base)
    if locked.community_closed_on is not None and not actor.is_system:
        # a closed community takes no new action (its timers, if any, still run out)
        return refused(r_org.check_open("该社区", locked.community_closed_on), 409, **base)
    candidates = wf.candidates(trigger, row.state)
    state_rule = None if candidates else _STATE_RULES.get((entity_type, trigger))
    if state_rule is not None and not (v := state_rule(row.state, _state_label(wf, row.state))).ok:
        return refused(v, 409, **base)
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
            # a field a rule governs cites that rule's article (rules.articles), any other the event's
            field_art = field_article(first.get("loc", ()), article, trigger)
            return refused(r_workflow.check_payload_valid([(where, str(first.get("msg", "")))], field_art), 422,
                           **base)
    ctx = Context(session=session, entity_type=entity_type, row=row, trigger=trigger, actor=actor, post=post,
                  role=role, payload=parsed, raw_payload=raw, reason=reason.strip(), now=now, workflow=wf,
                  from_state=row.state)
    ctx.__dict__["orgs"] = orgs  # the cached_property, as read with the lock
    if locked.facts is not None:
        ctx._memo["facts"] = locked.facts
    if locked.line_items is not None:
        ctx._memo["line_items"] = locked.line_items
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
    try:
        if eff is not None:
            eff(ctx, from_state, to_state)
        if to_state != from_state:
            _move_deadlines(session, wf, entity_type, row, from_state, to_state, now)
        # Whatever the effects added or changed goes first; then the state, the version and the audit event
        # are written with two plain statements in this same transaction.
        if session.new or session.dirty or session.deleted:
            session.flush()
    except IntegrityError as exc:
        # A unique index that holds a rule (e.g. one invoice, paid once) refused what a concurrent request
        # slipped past the guard: the rule's refusal, never a server error. The caller rolls back.
        verdict_of = _CONSTRAINTS.get(violated_index(exc) or "")
        if verdict_of is None:
            raise
        return refused(verdict_of(ctx), 409, **base)
    warnings = [v.as_dict() for _n, v in subject.verdicts if v.ok and v.warning]
    audit_payload = {"payload": raw, **ctx.produced}
    if warnings:
        audit_payload["warnings"] = warnings
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


_DL: Table = Deadline.__table__  # type: ignore[assignment]
_CLEAR_DEADLINES = _DL.update().where(
    _DL.c.entity_type == bindparam("etype"), _DL.c.entity_id == bindparam("eid"), _DL.c.kind == bindparam("dl_kind"),
    _DL.c.status == "open").values(status="cleared")

def _move_deadlines(session: Session, wf: Workflow, entity_type: str, row: Any, from_state: str, to_state: str,
                    now: dt.datetime) -> None:
    timers = getattr(wf.module, "TIMERS", {})
    if from_state in timers:
        # a plain UPDATE: no deadline of this kind is held as an object in the session here
        session.execute(_CLEAR_DEADLINES, {"etype": entity_type, "eid": row.id, "dl_kind": timers[from_state]["kind"]})
    spec = timers.get(to_state)
    if spec is None:
        return
    # the length is the policy's, or the row's own (a finding's rectification period: ``"of": "row"``)
    source = row if spec.get("of") == "row" else policy_of(session, row.policy_version_id)
    workdays = int(getattr(source, spec["workdays"]))
    start = clock.local_date(now)
    due, provisional = compute_due(session, start, workdays)
    session.add(Deadline(entity_type=entity_type, entity_id=row.id, kind=spec["kind"], event=spec["event"],
                         start_date=start, workdays=workdays, due_at=due, provisional=provisional, status="open",
                         created_at=now))
