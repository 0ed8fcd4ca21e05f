"""Reconciliation of the fund's own account (Art. 17): entries, fund-year totals and project states.

Three independent views of the same money must agree for every fund year:

1. the running totals kept on the fund year row (what the rules read),
2. the ledger entries (allocation, carry-in, commitment, adjustment, release, payment, carry-out),
3. the projects: their states, approved amounts and the payments actually made.
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from rules.money import format_yuan
from store.models import FundYear, LedgerEntry, Payment, PaymentItem, Project

#: states in which a project's approved amount, less what was paid, is committed
COMMITTED_STATES = ("in_progress", "change_review", "acceptance", "settlement")
#: states after approval (their amount counts against the small-group cap; once settled or terminated, only
#: what was paid)
APPROVED_STATES = COMMITTED_STATES + ("completion_publicity", "closed", "terminated")


@dataclass(frozen=True)
class Difference:
    fund_year_id: int
    community_id: int
    year: int
    what: str
    expected: int
    found: int

    def __str__(self) -> str:
        return (f"社区 #{self.community_id} {self.year} 年度: {self.what} 应为 {format_yuan(self.expected)},"
                f"实为 {format_yuan(self.found)}")


@dataclass(frozen=True)
class Figures:
    allocation: int = 0
    carry_in: int = 0
    committed: int = 0
    paid: int = 0
    small_group: int = 0
    carry_out: int = 0


def _from_entries(session: Session, fy_id: int) -> Figures:
    rows = session.execute(select(LedgerEntry.kind, func.sum(LedgerEntry.amount_fen))
                           .where(LedgerEntry.fund_year_id == fy_id).group_by(LedgerEntry.kind)).all()
    s: dict[str, int] = {str(k): int(v or 0) for k, v in rows}
    committed = s.get("commitment", 0) + s.get("adjustment", 0) - s.get("release", 0) - s.get("payment", 0)
    return Figures(allocation=s.get("allocation", 0), carry_in=s.get("carry_in", 0), committed=committed,
                   paid=s.get("payment", 0), carry_out=s.get("carry_out", 0))


def _from_projects(session: Session, fy_id: int) -> Figures:
    committed = paid = small = 0
    paid_by_project: dict[int, int] = dict(session.execute(  # type: ignore[arg-type]
        select(PaymentItem.project_id, func.sum(Payment.amount_fen))
        .join(Payment, Payment.payment_item_id == PaymentItem.id)
        .join(Project, Project.id == PaymentItem.project_id)
        .where(Project.fund_year_id == fy_id).group_by(PaymentItem.project_id)).all())
    rows = session.execute(select(Project.id, Project.state, Project.amount_fen, Project.is_small_group)
                           .where(Project.fund_year_id == fy_id)).all()
    for pid, state, amount, is_small in rows:
        p_paid = int(paid_by_project.get(pid) or 0)
        p_committed = amount - p_paid if state in COMMITTED_STATES else 0
        committed += p_committed
        paid += p_paid
        if is_small and state in APPROVED_STATES:
            small += p_committed + p_paid
    return Figures(committed=committed, paid=paid, small_group=small)


def reconcile(session: Session, year: int | None = None) -> tuple[int, list[Difference]]:
    """Check every fund year (of ``year`` if given); returns (fund years checked, differences)."""
    stmt = select(FundYear).order_by(FundYear.community_id, FundYear.year)
    if year is not None:
        stmt = stmt.where(FundYear.year == year)
    years = list(session.execute(stmt).scalars())
    diffs: list[Difference] = []
    for fy in years:
        def check(what: str, expected: int, found: int, fy: FundYear = fy) -> None:
            if expected != found:
                diffs.append(Difference(fy.id, fy.community_id, fy.year, what, expected, found))

        entries = _from_entries(session, fy.id)
        projects = _from_projects(session, fy.id)
        check("拨付(分录)", fy.allocation_fen, entries.allocation)
        check("上年结转(分录)", fy.carry_in_fen, entries.carry_in)
        check("已承诺(分录)", fy.committed_fen, entries.committed)
        check("已承诺(项目)", fy.committed_fen, projects.committed)
        check("已支付(分录)", fy.paid_fen, entries.paid)
        check("已支付(项目付款)", fy.paid_fen, projects.paid)
        check("受益群体较小项目占用(项目)", fy.small_group_committed_fen, projects.small_group)
        available = fy.allocation_fen + fy.carry_in_fen - fy.committed_fen - fy.paid_fen - (fy.carry_out_fen or 0)
        if available < 0:
            diffs.append(Difference(fy.id, fy.community_id, fy.year, "可用余额不得为负", 0, available))
        if fy.state == "closed":
            check("结转下年(分录)", fy.carry_out_fen or 0, entries.carry_out)
            nxt = session.execute(select(FundYear).where(FundYear.community_id == fy.community_id,
                                                         FundYear.year == fy.year + 1)).scalar_one_or_none()
            if nxt is not None:
                check(f"{fy.year + 1} 年度上年结转", fy.carry_out_fen or 0, nxt.carry_in_fen)
        elif entries.carry_out:
            check("未结转年度不应有结转分录", 0, entries.carry_out)
    return len(years), diffs
