"""Documents generated from the records, never typed twice: the application form (Art. 10) and the
year-end disclosure figures (Art. 15). The PDF renderings live in ``documents/``."""
from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from rules import project as r_project
from rules.money import format_yuan
from store.models import FundYear, LineItem, Meeting, Organisation, Project
from workflow.definitions import project as project_def


def application_form(session: Session, p: Project) -> str:
    """《社区党组织服务群众专项经费使用申请审批表》 as text, drawn from the project's records."""
    from workflow.context import policy_of

    community = session.execute(select(Organisation.name).where(Organisation.id == p.community_id)).scalar_one()
    items = session.execute(select(LineItem).where(LineItem.project_id == p.id).order_by(LineItem.id)).scalars()
    catalog = policy_of(session, p.policy_version_id).catalog_names()
    meeting = session.execute(select(Meeting).where(Meeting.project_id == p.id, Meeting.kind == "joint",
                                                    Meeting.outcome == "passed")
                              .order_by(Meeting.id.desc()).limit(1)).scalar_one_or_none()
    lines = [
        "社区党组织服务群众专项经费使用申请审批表",
        f"申请单位: {community}党委",
        f"项目编号: {p.code}",
        f"项目名称: {p.title}",
        f"服务类别: {r_project.CATEGORIES.get(p.category, p.category)}",
        f"项目内容: {p.description}",
        f"申请金额: {format_yuan(p.amount_fen)} 元",
        f"直接受益: {p.beneficiaries_count} 人 {p.beneficiaries_desc}",
        f"承办方: {p.contractor_name}({'个人' if p.contractor_kind == 'individual' else '单位'})",
        f"计划时间: {p.planned_start or '—'} 至 {p.planned_end or '—'}",
        "经费明细:",
        *[f"  {i.description} × {i.quantity} @ {format_yuan(i.unit_price_fen)} = {format_yuan(i.amount_fen)}"
          f"(采购目录: {' '.join(filter(None, (i.catalog_item, catalog.get(i.catalog_item)))) or '—'})"
          for i in items],
    ]
    if meeting is not None:
        lines.append(f"联席会议: {meeting.held_on} 赞成 {meeting.votes_for} 反对 {meeting.votes_against} "
                     f"弃权 {meeting.votes_abstain}")
    return "\n".join(lines) + "\n"


def disclosure_values(session: Session, fy: FundYear) -> dict[str, Any]:
    from rules.privacy import mask_text
    from workflow.context import policy_of
    from workflow.public import private_names

    names = private_names(session, fund_year_id=fy.id)
    policy = policy_of(session, fy.policy_version_id)
    community = session.execute(select(Organisation.name).where(Organisation.id == fy.community_id)).scalar_one()
    projects = session.execute(select(Project).where(Project.fund_year_id == fy.id).order_by(Project.code)).scalars()
    total = fy.allocation_fen + fy.carry_in_fen
    return dict(
        community=community, year=fy.year, allocation=format_yuan(fy.allocation_fen),
        carry_in=format_yuan(fy.carry_in_fen), total=format_yuan(total), paid=format_yuan(fy.paid_fen),
        committed=format_yuan(fy.committed_fen), available=format_yuan(total - fy.committed_fen - fy.paid_fen),
        small_group=format_yuan(fy.small_group_committed_fen),
        cap=format_yuan(policy.cap_amount_fen(fy.allocation_fen, fy.carry_in_fen)),
        service_effect=mask_text((fy.report or {}).get("service_effect", "") or "—", names),
        projects=[{"code": p.code, "title": mask_text(p.title, names), "state": project_def.LABELS.get(p.state, p.state),
                   "amount": format_yuan(p.amount_fen), "paid": format_yuan(p.paid_fen)} for p in projects],
    )
