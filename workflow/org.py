"""The city's organisation tree, kept by the city administrator (第二条): create, rename, move, close.

Each use case runs inside the caller's unit of work (one transaction per action) and appends one audit
event, with before and after, to the chain of the organisation it changed (``entity_type`` ``org``).
A refusal raises :class:`workflow.services.ServiceError` carrying the rule's verdict; nothing is written.

Who may act: a person holding the ``city_admin`` post of the organisation's city on the day of the action
(the API), or the ``fundflow`` command on the server (an operator: ``Actor(None, "cli")``).

**Moving** a community to another area of the same city changes who governs it from that moment on, in
every process (the engine reads the tree with its row lock: ``workflow.engine._lock_stmt``):

- the community's own posts (secretary, staff, supervisors) go with it; the old area's committee loses
  every right over the community's projects and fund years, the new area's committee gains them;
- what the old area decided stays decided (a preliminary consent, a completed approval, follow-ups,
  acceptance, invoices it signed and paid); the fund years and their money stay with the community
  (same city, same policy);
- it is refused while the old area is still deciding something that must be one area's act: a project
  in ``pending_approval`` or ``change_review`` (Art. 11), an unpaid invoice already signed by an area
  leader (Art. 13), a fund year between its report and its carry-over (Art. 15, 16).

**Closing** an organisation (撤销) keeps every record and stops everything new, from the closing day on:

- an area closes only when none of its communities is open any more;
- a community closes only when none of its projects is running (drafts included: withdraw them) and
  every fund year in which projects were proposed has been reported, disclosed and carried over. A fund
  year still ``open`` without any project (e.g. the one the last carry-over opened) is *frozen*: it keeps
  its booked allocation and carry-in (listed in the audit event), and nothing can be proposed in it;
- every post in the organisation still running on the closing day ends that day (a post that had not
  started yet ends before it starts); the community's open reminders (needs collection, year-end) are
  cleared, and the scheduler makes no new ones for it;
- afterwards nobody fires an event on the closed community's projects or fund years (the engine refuses
  with 第二条), and nobody proposes a project, opens a fund year or records a need there; it cannot be
  renamed, moved, nor receive new posts or communities. Reopening is not offered: set up a new community.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Table, func, select, update
from sqlalchemy.orm import Session

from rules import org as r_org
from rules.policy import Policy
from rules.verdict import Verdict
from store.models import Deadline, FundYear, Organisation, PaymentItem, Person, Post, Project, Signature
from workflow import audit, clock
from workflow.engine import Actor, HeldPost, forget_org_chains, held_posts, org_chain
from workflow.machines import workflow_for
from workflow.services import ServiceError, publish_policy

CLI = Actor(None, "cli")
"""The ``fundflow org`` command on the server (an operator with access to the database)."""

_ORG_T: Table = Organisation.__table__  # type: ignore[assignment]


def _refuse(verdict: Verdict, status: int = 409) -> None:
    if not verdict.ok:
        raise ServiceError(verdict, status)


def _is_postgres(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


# ----------------------------------------------------------------------------------- reading


@dataclass(frozen=True)
class OrgNode:
    id: int
    code: str
    name: str
    level: str
    parent_id: int | None
    parent_code: str
    closed_on: dt.date | None

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "code": self.code, "name": self.name, "level": self.level,
                "level_label": r_org.level_label(self.level), "parent_id": self.parent_id,
                "parent_code": self.parent_code, "closed_on": self.closed_on}


def tree(session: Session, city_ids: set[int] | frozenset[int] | None = None) -> list[OrgNode]:
    """Every organisation (of ``city_ids`` only, when given), city first, then each area and its communities."""
    parent = _ORG_T.alias("parent")
    rows = session.execute(select(_ORG_T.c.id, _ORG_T.c.code, _ORG_T.c.name, _ORG_T.c.level, _ORG_T.c.parent_id,
                                  func.coalesce(parent.c.code, ""), _ORG_T.c.closed_on)
                           .select_from(_ORG_T.outerjoin(parent, parent.c.id == _ORG_T.c.parent_id))).all()
    nodes = [OrgNode(int(r[0]), r[1], r[2], r[3], r[4], r[5], r[6]) for r in rows]
    children: dict[int | None, list[OrgNode]] = {}
    for n in nodes:
        children.setdefault(n.parent_id, []).append(n)
    out: list[OrgNode] = []

    def walk(node: OrgNode) -> None:
        out.append(node)
        for child in sorted(children.get(node.id, []), key=lambda c: c.code):
            walk(child)

    for root in sorted(children.get(None, []), key=lambda c: c.code):
        if city_ids is None or root.id in city_ids:
            walk(root)
    return out


def by_code(session: Session, code: str) -> Organisation:
    org = session.execute(select(Organisation).where(Organisation.code == code.strip())).scalar_one_or_none()
    if org is None:
        raise ServiceError(r_org.check_found(False, f"代码为 {code.strip()} 的组织"), 404)
    return org


def _locked(session: Session, org_id: int) -> Organisation:
    """The organisation, locked on PostgreSQL (concurrent changes of one organisation serialise)."""
    stmt = select(Organisation).where(Organisation.id == org_id).execution_options(populate_existing=True)
    if _is_postgres(session):
        stmt = stmt.with_for_update()
    org = session.execute(stmt).scalar_one_or_none()
    if org is None:
        raise ServiceError(r_org.check_found(False, f"组织 #{org_id}"), 404)
    return org


# ------------------------------------------------------------------------------ who may act


def admin_posts(session: Session, actor: Actor, day: dt.date) -> list[HeldPost] | None:
    """The actor's ``city_admin`` posts on ``day`` (None for the operator's command); refuses (403) anyone
    who holds none — before anything about the organisation is looked up."""
    if actor == CLI:
        return None
    held = [p for p in held_posts(session, actor, day) if p.role == "city_admin"]
    _refuse(r_org.check_admin(bool(held)), 403)
    return held


def admin_post(session: Session, actor: Actor, city_id: int | None, day: dt.date,
               held: list[HeldPost] | None = None) -> HeldPost | None:
    """The actor's ``city_admin`` post of ``city_id`` on ``day``; None for the operator's command. Refuses
    (403) anyone else, including the administrators of another city."""
    if actor == CLI:
        return None
    posts = held if held is not None else admin_posts(session, actor, day) or []
    for post in posts:
        if post.organisation_id == city_id:
            return post
    _refuse(r_org.check_same_city("该组织", city_id, {p.organisation_id for p in posts}), 403)
    raise AssertionError("unreachable")


def _admin_of(session: Session, actor: Actor, org_id: int, day: dt.date) -> tuple[Organisation, HeldPost | None]:
    """Check the actor is an administrator at all, then lock the organisation, then check it is theirs."""
    held = admin_posts(session, actor, day)
    org = _locked(session, org_id)
    return org, admin_post(session, actor, org_chain(session, org.id).get("city"), day, held)


def _record(session: Session, org_id: int, event: str, actor: Actor, post: HeldPost | None, now: dt.datetime,
            payload: dict[str, Any], reason: str = "", from_state: str = "", to_state: str = "") -> None:
    audit.record(session, "org", org_id, event=event, at=now, actor_id=actor.person_id, actor_label=actor.label,
                 post_id=post.id if post else None, role=post.role if post else "", payload=payload,
                 reason=reason, from_state=from_state, to_state=to_state)


def snapshot(org: Organisation, parent: Organisation | None = None) -> dict[str, Any]:
    """What an audit event records of an organisation (before / after)."""
    out: dict[str, Any] = {"code": org.code, "name": org.name, "level": org.level, "parent_id": org.parent_id}
    if parent is not None:
        out.update(parent_code=parent.code, parent_name=parent.name)
    if org.closed_on is not None:
        out["closed_on"] = org.closed_on.isoformat()
    return out


# ---------------------------------------------------------------------------------- create


def _check_name_free(session: Session, name: str, parent: Organisation | None, exclude: int | None = None) -> None:
    stmt = select(Organisation.id).where(Organisation.name == name.strip(),
                                         Organisation.parent_id == (parent.id if parent else None))
    if parent is None:
        stmt = select(Organisation.id).where(Organisation.name == name.strip(), Organisation.parent_id.is_(None))
    if exclude is not None:
        stmt = stmt.where(Organisation.id != exclude)
    taken = session.execute(stmt.limit(1)).first() is not None
    _refuse(r_org.check_name_free(name.strip(), parent.name if parent else "本系统", taken))


def create(session: Session, actor: Actor, level: str, code: str, name: str, parent_id: int | None,
           now: dt.datetime | None = None) -> Organisation:
    """Create an area (under a city) or a community (under an area). A city is made only by the operator's
    command (``fundflow org create --level city``), with the regulation's default policy as its first version."""
    now = now or clock.now()
    day = clock.local_date(now)
    code, name = code.strip(), name.strip()
    held = admin_posts(session, actor, day)
    _refuse(r_org.check_level(level, ("city", "area", "community") if actor == CLI else ("area", "community")), 422)
    parent: Organisation | None = None
    if parent_id is not None:
        parent = session.execute(select(Organisation).where(Organisation.id == parent_id)).scalar_one_or_none()
        if parent is None:
            raise ServiceError(r_org.check_found(False, f"上级组织 #{parent_id}"), 404)
    post = admin_post(session, actor, org_chain(session, parent.id).get("city") if parent else None, day, held)
    _refuse(r_org.check_parent(level, parent.level if parent else None, parent.code if parent else ""), 422)
    if parent is not None:
        parent = _locked(session, parent.id)  # a closing of the parent waits, or is seen
        _refuse(r_org.check_open(parent.name, parent.closed_on))
    _refuse(r_org.check_code(code), 422)
    _refuse(r_org.check_name(name), 422)
    holder = session.execute(select(Organisation.name).where(Organisation.code == code)).scalar_one_or_none()
    _refuse(r_org.check_code_free(code, holder))
    _check_name_free(session, name, parent)
    org = Organisation(code=code, name=name, level=level, parent_id=parent.id if parent else None)
    session.add(org)
    session.flush()
    _record(session, org.id, "create_org", actor, post, now, {"before": None, "after": snapshot(org, parent)},
            to_state="open")
    if level == "city":
        publish_policy(session, org.id, Policy(), dt.date(day.year, 1, 1), "初始政策(细则默认值)",
                       actor_label=actor.label, actor_id=actor.person_id)
    forget_org_chains(session)
    return org


# ---------------------------------------------------------------------------------- rename


def rename(session: Session, actor: Actor, org_id: int, name: str, now: dt.datetime | None = None) -> Organisation:
    now = now or clock.now()
    org, post = _admin_of(session, actor, org_id, clock.local_date(now))
    _refuse(r_org.check_open(org.name, org.closed_on))
    _refuse(r_org.check_name(name), 422)
    _refuse(r_org.check_rename(org.name, name))
    parent = session.get(Organisation, org.parent_id) if org.parent_id is not None else None
    _check_name_free(session, name, parent, exclude=org.id)
    before = snapshot(org, parent)
    org.name = name.strip()
    session.flush()
    _record(session, org.id, "rename_org", actor, post, now, {"before": before, "after": snapshot(org, parent)})
    return org


# ------------------------------------------------------------------------------------ move


def _terminal_projects() -> list[str]:
    return [str(s) for s in workflow_for("project").module.TERMINAL]


def _hold_community_rows(session: Session, community_id: int) -> None:
    """Wait for every firing under way on the community's running projects and fund years, and make the ones
    that start meanwhile read the tree again once they get their lock (PostgreSQL).

    An ``UPDATE … SET version = version`` takes the rows' locks (waiting for whoever holds them) and writes
    new row versions: a firing that waited for this transaction then sees a row version different from its
    statement's snapshot and reads again, with the tree as this transaction leaves it (engine ``_lock_stmt``).
    On SQLite the unit of work already holds the only write lock.
    """
    if not _is_postgres(session):
        return
    pr: Table = Project.__table__  # type: ignore[assignment]
    fy: Table = FundYear.__table__  # type: ignore[assignment]
    session.execute(update(pr).where(pr.c.community_id == community_id, pr.c.state.not_in(_terminal_projects()))
                    .values(version=pr.c.version))
    session.execute(update(fy).where(fy.c.community_id == community_id, fy.c.state != "closed")
                    .values(version=fy.c.version))


def _year_end_under_way(session: Session, community_id: int) -> list[int]:
    return [int(y) for y in session.execute(
        select(FundYear.year).where(FundYear.community_id == community_id, FundYear.state.not_in(("open", "closed")))
        .order_by(FundYear.year)).scalars()]


def move(session: Session, actor: Actor, community_id: int, area_id: int, now: dt.datetime | None = None,
         reason: str = "") -> Organisation:
    """Move a community to another area of the same city (see the module docstring for what follows)."""
    now = now or clock.now()
    org, post = _admin_of(session, actor, community_id, clock.local_date(now))
    chain = org_chain(session, org.id)
    _refuse(r_org.check_movable(org.level), 422)
    _refuse(r_org.check_open(org.name, org.closed_on))
    target = session.execute(select(Organisation).where(Organisation.id == area_id)).scalar_one_or_none()
    if target is None:
        raise ServiceError(r_org.check_found(False, f"大社区 #{area_id}"), 404)
    _refuse(r_org.check_parent("community", target.level, target.code), 422)
    target_city = org_chain(session, target.id).get("city")
    _refuse(r_org.check_move_target(int(org.parent_id or 0), target.id, int(chain["city"]), target_city, target.name))
    target = _locked(session, target.id)
    _refuse(r_org.check_open(target.name, target.closed_on))
    _hold_community_rows(session, org.id)
    pending = list(session.execute(select(Project.code).where(
        Project.community_id == org.id, Project.state.in_(("pending_approval", "change_review")))
        .order_by(Project.code)).scalars())
    _refuse(r_org.check_no_pending_decision(pending))
    signed = list(session.execute(
        select(Project.code + "/" + func.coalesce(func.nullif(PaymentItem.invoice_no, ""), "#")).distinct()
        .select_from(PaymentItem).join(Project, Project.id == PaymentItem.project_id)
        .join(Signature, Signature.payment_item_id == PaymentItem.id)
        .where(Project.community_id == org.id, PaymentItem.status == "open", Signature.seq >= 2)).scalars())
    _refuse(r_org.check_no_partial_signatures(sorted(signed)))
    _refuse(r_org.check_no_year_end_under_way(_year_end_under_way(session, org.id), "调整所属大社区"))
    old_area = session.get(Organisation, org.parent_id) if org.parent_id is not None else None
    before = snapshot(org, old_area)
    org.parent_id = target.id
    session.flush()
    running = int(session.execute(select(func.count()).select_from(Project).where(
        Project.community_id == org.id, Project.state.not_in(_terminal_projects()))).scalar_one())
    _record(session, org.id, "move_org", actor, post, now,
            {"before": before, "after": snapshot(org, target), "running_projects": running}, reason=reason.strip())
    forget_org_chains(session)
    return org


# ----------------------------------------------------------------------------------- close


@dataclass(frozen=True)
class Closed:
    org: Organisation
    ended_posts: int
    frozen_years: list[dict[str, Any]]


def close(session: Session, actor: Actor, org_id: int, reason: str, now: dt.datetime | None = None) -> Closed:
    """Close an area or a community from today on (see the module docstring for what it takes and means)."""
    now = now or clock.now()
    day = clock.local_date(now)
    org, post = _admin_of(session, actor, org_id, day)
    _refuse(r_org.check_level(org.level), 422)
    _refuse(r_org.check_open(org.name, org.closed_on))
    _refuse(r_org.check_reason(reason), 422)
    frozen: list[dict[str, Any]] = []
    if org.level == "area":
        open_children = list(session.execute(select(Organisation.name).where(
            Organisation.parent_id == org.id, Organisation.closed_on.is_(None)).order_by(Organisation.code)).scalars())
        _refuse(r_org.check_no_open_children(open_children))
    else:
        _hold_community_rows(session, org.id)
        running = list(session.execute(select(Project.code).where(
            Project.community_id == org.id, Project.state.not_in(_terminal_projects())).order_by(Project.code)).scalars())
        _refuse(r_org.check_no_open_projects(running))
        _refuse(r_org.check_no_year_end_under_way(_year_end_under_way(session, org.id), "撤销"))
        open_years = session.execute(
            select(FundYear.id, FundYear.year, FundYear.allocation_fen, FundYear.carry_in_fen,
                   select(func.count()).select_from(Project).where(Project.fund_year_id == FundYear.id)
                   .scalar_subquery())
            .where(FundYear.community_id == org.id, FundYear.state == "open").order_by(FundYear.year)).all()
        _refuse(r_org.check_year_has_no_projects([int(y) for _i, y, _a, _c, n in open_years if n]))
        from rules.money import format_yuan

        frozen = [{"fund_year_id": int(i), "year": int(y), "allocation": format_yuan(a), "carry_in": format_yuan(c)}
                  for i, y, a, c, _n in open_years]
        session.execute(update(Deadline).where(Deadline.entity_type == "community", Deadline.entity_id == org.id,
                                               Deadline.status == "open").values(status="cleared"))
    ended = _end_posts(session, org.id, day)
    before = snapshot(org)
    org.closed_on = day
    session.flush()
    _record(session, org.id, "close_org", actor, post, now,
            {"before": before, "after": snapshot(org), "ended_posts": ended, "frozen_fund_years": frozen},
            reason=reason.strip(), from_state="open", to_state="closed")
    forget_org_chains(session)
    return Closed(org=org, ended_posts=len(ended), frozen_years=frozen)


def _end_posts(session: Session, org_id: int, day: dt.date) -> list[dict[str, Any]]:
    """End every post of the organisation still running on ``day`` (last day ``day``); one not yet started
    ends the day before it would have started (it was never held)."""
    rows = session.execute(select(Post.id, Post.person_id, Person.username, Post.role, Post.valid_from, Post.valid_to)
                           .join(Person, Person.id == Post.person_id)
                           .where(Post.organisation_id == org_id, (Post.valid_to.is_(None)) | (Post.valid_to > day))
                           .order_by(Post.id)).all()
    ended = []
    for pid, _person, username, role, valid_from, valid_to in rows:
        new_to = day if valid_from <= day else valid_from - dt.timedelta(days=1)
        session.execute(update(Post).where(Post.id == pid).values(valid_to=new_to))
        ended.append({"post_id": int(pid), "username": username, "role": role,
                      "valid_to_before": valid_to.isoformat() if valid_to else None, "valid_to_after": new_to.isoformat()})
    return ended
