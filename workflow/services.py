"""Use cases: each one is load → rules → transition → save inside one unit of work.

The API, the CLI, the scheduler and the demo all enter here; nothing else commits.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from rules import procurement as r_procurement
from rules import project as r_project
from rules import workflow as r_workflow
from rules import year as r_year
from rules.money import format_yuan, parse_yuan
from rules.policy import Policy
from rules.verdict import Verdict, first_refusal
from store.counters import next_value
from store.db import Database
from store.models import (
    FundYear,
    LineItem,
    Need,
    Organisation,
    PolicyVersion,
    Project,
    ProjectNeed,
)
from workflow import audit, clock
from workflow.engine import Actor, Outcome, fire, org_chain, policy_of, resolve_post

# Re-exported for this module's callers: the error, opening a fund year and the reads it starts from live below
# the engine (the effects carry a year's balance forward; tests/test_layers.py).
from workflow.errors import ServiceError as ServiceError
from workflow.fund_years import current_policy as current_policy
from workflow.fund_years import open_fund_year as open_fund_year
from workflow.fund_years import require_open_community as require_open_community


def fire_event(db: Database, entity_type: str, entity_id: int, trigger: str, actor: Actor,
               payload: dict[str, Any] | None = None, **kwargs: Any) -> Outcome:
    """One event, one transaction: committed when the engine agrees, rolled back otherwise.

    A connection found dead (e.g. after a database restart) fails the whole transaction, so the
    action is simply tried once more on a fresh connection.
    """
    from sqlalchemy.exc import DBAPIError

    for attempt in (1, 2):
        try:
            with db.uow() as uow:
                outcome = fire(uow.session, entity_type, entity_id, trigger, actor, payload, **kwargs)
                if outcome.ok and not outcome.replayed:
                    uow.commit()
                return outcome
        except DBAPIError as exc:
            if attempt == 2 or not exc.connection_invalidated:
                raise
    raise AssertionError("unreachable")


# ------------------------------------------------------------------------------------------ policy


def publish_policy(session: Session, city_id: int, policy: Policy, effective_from: dt.date, note: str,
                   actor_label: str = "city_admin", actor_id: int | None = None) -> PolicyVersion:
    policy.validate()
    head = audit.chain(session, "policy", city_id)
    version = int(session.execute(select(func.coalesce(func.max(PolicyVersion.version), 0))
                                  .where(PolicyVersion.city_id == city_id)).scalar_one()) + 1
    now = clock.now()
    row = PolicyVersion(city_id=city_id, version=version, effective_from=effective_from, data=policy.to_dict(),
                        note=note, created_at=now)
    session.add(row)
    session.flush()
    audit.append(session, head, entity_type="policy", entity_id=city_id, event="publish_policy", at=now,
                 actor_id=actor_id, actor_label=actor_label,
                 payload={"version": version, "effective_from": effective_from.isoformat(), "data": row.data},
                 reason=note)
    return row


# -------------------------------------------------------------------------------------------- needs


def record_need(session: Session, actor: Actor, community_id: int, title: str, description: str = "",
                channel: str = "visit", residents_count: int = 1) -> Need:
    _require_post(session, actor, community_id, ("community_secretary", "community_staff"), "record_need", "第九条")
    require_open_community(session, community_id)
    now = clock.now()
    from workflow.receipts import new_code  # the resident the need came from can follow it too (issue 9)

    need = Need(community_id=community_id, title=title.strip(), description=description.strip(), channel=channel,
                residents_count=residents_count, recorded_by=actor.person_id, created_at=now,
                receipt_code=new_code(session))
    session.add(need)
    session.flush()
    audit.record(session, "need", need.id, event="record_need", at=now, actor_id=actor.person_id,
                 actor_label=actor.label, payload={"title": need.title, "channel": channel})
    return need


def _require_post(session: Session, actor: Actor, community_id: int, roles: tuple[str, ...], what: str,
                  article: str) -> tuple[Any, str]:
    post, role = resolve_post(session, actor, list(roles), org_chain(session, community_id), clock.today())
    if not (v := r_workflow.check_post_in_community(role, article)).ok:
        raise ServiceError(v, 403)
    return post, role


# ------------------------------------------------------------------------------------------ projects


@dataclass
class LineItemIn:
    description: str
    quantity: int
    unit_price: str
    catalog_item: str = ""
    """The procurement-catalogue code (第十二条) of the policy the project is proposed under."""


@dataclass
class ProposalIn:
    community_id: int
    year: int
    title: str
    description: str
    category: str
    amount: str
    beneficiaries_count: int
    beneficiaries_desc: str = ""
    contractor_name: str = ""
    contractor_kind: str = "organisation"
    is_aid: bool = False
    small_group_marked: bool = False
    planned_start: dt.date | None = None
    planned_end: dt.date | None = None
    category_justification: str = ""
    forbidden_use_declaration: dict[str, bool] = field(default_factory=dict)
    keyword_flags_answer: str = ""
    need_ids: list[int] = field(default_factory=list)
    line_items: list[LineItemIn] = field(default_factory=list)


def propose_project(session: Session, actor: Actor, p: ProposalIn) -> tuple[Project, list[Verdict]]:
    """Create a project in ``draft`` (Art. 9): one project, one matter, linked to the needs it answers.

    Returns the project and any warnings (flagged line items, the small-group cap).
    """
    post, role = _require_post(session, actor, p.community_id, ("community_secretary", "community_staff"),
                               "propose", "第九条")
    require_open_community(session, p.community_id)
    fy = session.execute(select(FundYear).where(FundYear.community_id == p.community_id, FundYear.year == p.year)
                         ).scalar_one_or_none()
    if fy is None or fy.state != "open":
        raise ServiceError(r_year.check_year_open(p.year, fy.state if fy is not None else None), 409)
    for nid in p.need_ids:
        need = session.get(Need, nid)
        if not (v := r_workflow.check_need_of_community(nid, need.community_id if need is not None else None,
                                                        p.community_id)).ok:
            raise ServiceError(v, 422)
    policy = policy_of(session, fy.policy_version_id)
    now = clock.now()
    amount = parse_yuan(p.amount)
    items = []
    for li in p.line_items:
        unit = parse_yuan(li.unit_price)
        items.append(LineItem(description=li.description.strip(), quantity=li.quantity, unit_price_fen=unit,
                              amount_fen=unit * li.quantity, catalog_item=r_procurement.normalise_code(li.catalog_item),
                              flagged_keywords=r_project.screen_line_item(li.description, policy.forbidden_keywords)))
    proposal = r_project.Proposal(
        title=p.title.strip(), description=p.description.strip(), category=p.category,
        justification=p.category_justification, amount_fen=amount, beneficiaries_count=p.beneficiaries_count,
        beneficiaries_desc=p.beneficiaries_desc, contractor_name=p.contractor_name, contractor_kind=p.contractor_kind,
        is_aid=p.is_aid, planned_start=p.planned_start, planned_end=p.planned_end,
        line_items=tuple(r_project.LineItemData(description=i.description, quantity=i.quantity,
                                                unit_price_fen=i.unit_price_fen, amount_fen=i.amount_fen,
                                                catalog_item=i.catalog_item) for i in items),
        need_ids=tuple(p.need_ids))
    verdict = first_refusal(r_project.check_proposal(proposal), r_procurement.check_line_item_codes(
        [(i.description, i.catalog_item) for i in items], policy.catalog_names()))
    if not verdict.ok:
        raise ServiceError(verdict, 422)
    small = r_project.is_small_group(p.beneficiaries_count, policy.small_group_threshold, p.small_group_marked)
    # numbered by the fund year's counter, drawn in one statement (concurrent proposals wait for each other
    # here, never draw the same number); a year numbered before the counter existed continues its count
    seq = next_value(session, f"project:{fy.id}", first=select(func.count() + 1).select_from(Project)
                     .where(Project.fund_year_id == fy.id).scalar_subquery())
    community_code = session.execute(select(Organisation.code).where(Organisation.id == p.community_id)).scalar_one()
    project = Project(code=f"{community_code}-{p.year}-{seq:03d}", community_id=p.community_id, fund_year_id=fy.id,
                      policy_version_id=fy.policy_version_id, state="draft", version=0, audit_head="",
                      proposer_id=actor.person_id, title=proposal.title, description=proposal.description,
                      category=p.category, category_justification=p.category_justification.strip(),
                      amount_fen=amount, beneficiaries_count=p.beneficiaries_count,
                      beneficiaries_desc=p.beneficiaries_desc.strip(), small_group_marked=p.small_group_marked,
                      is_small_group=small, contractor_name=p.contractor_name.strip(),
                      contractor_kind=p.contractor_kind, is_aid=p.is_aid, planned_start=p.planned_start,
                      planned_end=p.planned_end, forbidden_use_declaration=dict(p.forbidden_use_declaration),
                      keyword_flags_answer=p.keyword_flags_answer.strip(), created_at=now)
    session.add(project)
    session.flush()
    for item in items:
        item.project_id = project.id
        session.add(item)
    for nid in dict.fromkeys(p.need_ids):
        session.add(ProjectNeed(project_id=project.id, need_id=nid))
    warnings: list[Verdict] = []
    flagged = [(i.description, i.flagged_keywords) for i in items if i.flagged_keywords]
    if (v := r_project.flags_warning(flagged, p.keyword_flags_answer)).warning:
        warnings.append(v)
    if small:
        from rules.cap import FundFigures, check_small_group_cap

        v = check_small_group_cap(FundFigures(fy.allocation_fen, fy.carry_in_fen, fy.committed_fen, fy.paid_fen,
                                              fy.small_group_committed_fen), policy, amount, "proposal")
        if v.warning:
            warnings.append(v)
    audit.append(session, project, entity_type="project", entity_id=project.id, event="create", at=now,
                 actor_id=actor.person_id, actor_label=actor.label, post_id=post.id if post else None, role=role,
                 to_state="draft",
                 payload={"code": project.code, "title": project.title, "amount": format_yuan(amount),
                          "small_group": small, "warnings": [w.as_dict() for w in warnings]})
    session.flush()
    return project, warnings
