"""Opening a fund year with its allocation (Art. 5) and carrying its balance forward (Art. 13), with the two
reads every use case starts from (the open community, the policy in force). Below the engine: the
``close_year`` and settlement effects call :func:`carry_over` and :func:`carry_forward` inside a firing, so
this module imports ``workflow.context``, never ``workflow.engine`` or ``workflow.services`` (which
re-exports these names for its callers)."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from rules import org as r_org
from rules import workflow as r_workflow
from rules.money import format_yuan
from store.documents import archive_text
from store.models import FundYear, LedgerEntry, Organisation, PolicyVersion
from workflow import audit, clock
from workflow.context import Context, org_chain, policy_of
from workflow.errors import ServiceError
from workflow.records import render_record


def require_open_community(session: Session, community_id: int) -> Organisation:
    """The community, which must exist and not be closed (第二条). On PostgreSQL its row is read ``FOR SHARE``:
    a closing (``workflow.org.close``) waits for the proposal or fund year being made, and one made after
    the closing sees it closed."""
    stmt = select(Organisation).where(Organisation.id == community_id)
    if session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update(read=True)
    org = session.execute(stmt).scalar_one_or_none()
    if not (v := r_org.check_found(org is not None and org.level == "community", f"社区 #{community_id}")).ok:
        raise ServiceError(v, 404)
    assert org is not None
    if not (v := r_org.check_open(org.name, org.closed_on)).ok:
        raise ServiceError(v, 409)
    return org


def current_policy(session: Session, city_id: int, day: dt.date) -> PolicyVersion:
    row = session.execute(select(PolicyVersion).where(PolicyVersion.city_id == city_id,
                                                      PolicyVersion.effective_from <= day)
                          .order_by(PolicyVersion.effective_from.desc(), PolicyVersion.version.desc())
                          .limit(1)).scalar_one_or_none()
    if row is None:
        raise ServiceError(r_workflow.check_policy_published(False), 409)
    return row


def open_fund_year(session: Session, community_id: int, year: int, carry_in_fen: int = 0,
                   actor_label: str = "system", actor_id: int | None = None,
                   now: dt.datetime | None = None) -> FundYear:
    """Open a community's fund year with its allocation (Art. 5) and carry-in (Art. 13)."""
    now = now or clock.now()
    existing = session.execute(select(FundYear).where(FundYear.community_id == community_id,
                                                      FundYear.year == year)).scalar_one_or_none()
    if existing is not None:
        return existing
    require_open_community(session, community_id)
    city_id = org_chain(session, community_id)["city"]
    today = clock.local_date(now)
    pv = current_policy(session, city_id, max(dt.date(year, 1, 1), today))
    policy = policy_of(session, pv.id)
    fy = FundYear(community_id=community_id, year=year, state="open", version=0, audit_head="",
                  policy_version_id=pv.id, allocation_fen=policy.allocation_fen, carry_in_fen=carry_in_fen,
                  committed_fen=0, paid_fen=0, small_group_committed_fen=0)
    session.add(fy)
    session.flush()
    community = session.execute(select(Organisation.name).where(Organisation.id == community_id)).scalar_one()
    doc = archive_text(session, render_record(
        "allocation", community=community, year=year, allocation=format_yuan(policy.allocation_fen),
        policy_version=pv.version, carry_in=format_yuan(carry_in_fen),
        total=format_yuan(policy.allocation_fen + carry_in_fen), at=f"{now.astimezone(clock.SHANGHAI):%Y-%m-%d %H:%M}"),
        f"allocation-{community_id}-{year}.txt", now, "fund_year", fy.id, "allocation")
    session.add(LedgerEntry(fund_year_id=fy.id, kind="allocation", amount_fen=policy.allocation_fen,
                            memo=f"{year} 年度市财政拨付", document_sha256=doc, created_at=now))
    if carry_in_fen:
        session.add(LedgerEntry(fund_year_id=fy.id, kind="carry_in", amount_fen=carry_in_fen,
                                memo=f"{year - 1} 年度结余转入", document_sha256=doc, created_at=now))
    audit.append(session, fy, entity_type="fund_year", entity_id=fy.id, event="open", at=now, actor_id=actor_id,
                 actor_label=actor_label, to_state="open",
                 payload={"year": year, "allocation": format_yuan(policy.allocation_fen),
                          "carry_in": format_yuan(carry_in_fen), "policy_version": pv.version})
    return fy


def carry_over(ctx: Context) -> None:
    """Close year Y: its balance is carried out, and carried into Y+1 (opened if needed)."""
    fy: FundYear = ctx.row
    balance = fy.allocation_fen + fy.carry_in_fen - fy.committed_fen - fy.paid_fen
    fy.carry_out_fen = balance
    doc = _carry_over_record(ctx.session, fy, balance, ctx.now, "")
    ctx.session.add(LedgerEntry(fund_year_id=fy.id, kind="carry_out", amount_fen=balance,
                                memo=f"{fy.year} 年度结余转下年", document_sha256=doc, created_at=ctx.now))
    nxt = ctx.session.execute(select(FundYear).where(FundYear.community_id == fy.community_id,
                                                     FundYear.year == fy.year + 1)).scalar_one_or_none()
    if nxt is None:
        nxt = open_fund_year(ctx.session, fy.community_id, fy.year + 1, carry_in_fen=balance, now=ctx.now)
    else:
        nxt.carry_in_fen += balance
        ctx.session.add(LedgerEntry(fund_year_id=nxt.id, kind="carry_in", amount_fen=balance,
                                    memo=f"{fy.year} 年度结余转入", document_sha256=doc, created_at=ctx.now))
        audit.append(ctx.session, nxt, entity_type="fund_year", entity_id=nxt.id, event="carry_in", at=ctx.now,
                     actor_label="system", from_state=nxt.state, to_state=nxt.state,
                     payload={"from_year": fy.year, "amount": format_yuan(balance)})
    ctx.produced.update(carry_out=format_yuan(balance), next_fund_year_id=nxt.id)


def _carry_over_record(session: Session, fy: FundYear, amount: int, now: dt.datetime, memo: str) -> str:
    community = session.execute(select(Organisation.name).where(Organisation.id == fy.community_id)).scalar_one()
    return archive_text(session, render_record(
        "carry_over", community=community, year=fy.year, next_year=fy.year + 1, amount=format_yuan(amount), memo=memo,
        at=f"{now.astimezone(clock.SHANGHAI):%Y-%m-%d %H:%M}"),
        f"carry-over-{fy.community_id}-{fy.year}-{amount}.txt", now, "fund_year", fy.id, "carry_over")


def carry_forward(session: Session, fy: FundYear, amount: int, now: dt.datetime, memo: str) -> FundYear:
    """Money freed in a year that has already closed (a late settlement) follows its balance forward."""
    stmt = select(FundYear).where(FundYear.community_id == fy.community_id, FundYear.year == fy.year + 1)
    if session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update()
    nxt = session.execute(stmt.execution_options(populate_existing=True)).scalar_one_or_none()
    if nxt is None:
        nxt = open_fund_year(session, fy.community_id, fy.year + 1, now=now)
    fy.carry_out_fen = (fy.carry_out_fen or 0) + amount
    nxt.carry_in_fen += amount
    doc = _carry_over_record(session, fy, amount, now, memo)
    session.add(LedgerEntry(fund_year_id=fy.id, kind="carry_out", amount_fen=amount, memo=memo[:200],
                            document_sha256=doc, created_at=now))
    session.add(LedgerEntry(fund_year_id=nxt.id, kind="carry_in", amount_fen=amount,
                            memo=f"{fy.year} 年度结转后释放的结余", document_sha256=doc, created_at=now))
    audit.append(session, nxt, entity_type="fund_year", entity_id=nxt.id, event="carry_in", at=now,
                 actor_label="system", from_state=nxt.state, to_state=nxt.state,
                 payload={"from_year": fy.year, "amount": format_yuan(amount), "memo": memo})
    return nxt
