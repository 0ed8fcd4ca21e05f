"""Property test of the fund's money (issue 3, Acceptance), on SQLite and PostgreSQL.

Random sequences of approvals (small-group or not, random amounts), approved changes raising or
lowering amounts, partial payments, settlements releasing the unspent part, withdrawals,
rejections and year closes. After every step:

- available ≥ 0 in every fund year (for a closed year, after what was carried out);
- small-group committed ≤ the cap of allocation + carry-in;
- ``reconcile`` finds no difference (fund-year totals = ledger entries = project states);
- carry-out of year Y = carry-in of year Y+1, in the totals and in the ledger entries.

Every refusal met on the way is checked against the figures just before it: an approval or a change
is refused exactly when it would break the cap (``cap.small_group``) or the budget (``budget.exceeded``).

Approvals and raising changes are only tried in fund years that are not closed: the engine does not
yet stop them in a closed year (see test_year_close.py, the xfail test).
"""
from __future__ import annotations

from dataclasses import dataclass

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from rules.money import format_yuan
from rules.policy import Policy
from store.db import Database
from store.models import FundYear, LedgerEntry, Project
from tests.conftest import reset
from tests.workflow.test_money import Flow
from workflow.demo import Driver, create_city, open_years
from workflow.ledger import reconcile

POLICY = Policy()
SMALL, WIDE = 20, 300  # direct beneficiaries of a small-group project and of a wide one
MAX_CLOSES = 2
# amounts (fen) large enough against the cap (40000.00) and the budget (200000.00) that refusals are common;
# drawn from a grid (Hypothesis's integers lean to their lower bound), with a random number of fen
_FEN = st.sampled_from([0, 1, 50, 99])
SMALL_AMOUNTS = st.builds(lambda y, f: y * 100 + f, st.sampled_from(range(500, 45_001, 500)), _FEN)
WIDE_AMOUNTS = st.builds(lambda y, f: y * 100 + f, st.sampled_from(range(5_000, 210_001, 5_000)), _FEN)


@dataclass
class P:
    pid: int
    year: int
    small: bool
    amount: int
    state: str = "pending_approval"
    leader_approved: bool = False
    paid: int = 0


def figures(db: Database, community_id: int, year: int) -> FundYear:
    with db.uow(write=False) as uow:
        return uow.session.execute(select(FundYear).where(FundYear.community_id == community_id,
                                                          FundYear.year == year)).scalar_one()


def expected_refusal(fy: FundYear, small: bool, extra: int) -> str | None:
    """What the cap and the budget say to adding ``extra`` (guards run cap first, then budget)."""
    if extra <= 0:
        return None
    if small and fy.small_group_committed_fen + extra > POLICY.cap_amount_fen(fy.allocation_fen, fy.carry_in_fen):
        return "cap.small_group"
    if fy.committed_fen + fy.paid_fen + extra > fy.allocation_fen + fy.carry_in_fen:
        return "budget.exceeded"
    return None


def check_invariants(db: Database, model: dict[int, P]) -> None:
    with db.uow(write=False) as uow:
        s = uow.session
        years = {(fy.community_id, fy.year): fy for fy in s.execute(select(FundYear)).scalars()}
        ledger = {(fid, kind): int(total) for fid, kind, total in s.execute(
            select(LedgerEntry.fund_year_id, LedgerEntry.kind, func.sum(LedgerEntry.amount_fen))
            .group_by(LedgerEntry.fund_year_id, LedgerEntry.kind)).all()}
        states = dict(s.execute(select(Project.id, Project.state)).all())
        _checked, diffs = reconcile(s)
    assert diffs == [], "\n".join(str(d) for d in diffs)
    for (community, year), fy in years.items():
        total = fy.allocation_fen + fy.carry_in_fen
        available = total - fy.committed_fen - fy.paid_fen
        assert min(fy.committed_fen, fy.paid_fen, fy.small_group_committed_fen) >= 0
        assert available >= 0, f"{year}: available {format_yuan(available)}"
        assert fy.small_group_committed_fen <= POLICY.cap_amount_fen(fy.allocation_fen, fy.carry_in_fen)
        if fy.state == "closed":
            assert available - (fy.carry_out_fen or 0) >= 0, f"{year}: carried out more than its balance"
            nxt = years[(community, year + 1)]
            assert fy.carry_out_fen == nxt.carry_in_fen
            assert ledger.get((fy.id, "carry_out"), 0) == fy.carry_out_fen == ledger.get((nxt.id, "carry_in"), 0)
        else:
            assert fy.carry_out_fen is None and (fy.id, "carry_out") not in ledger
    assert {pid: states[pid] for pid in model} == {pid: p.state for pid, p in model.items()}


@settings(max_examples=20, deadline=None, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                 HealthCheck.data_too_large])
@given(data=st.data())
def test_money_invariants_hold_over_random_histories(db, data):
    reset(db)
    city = create_city(db, communities=1, password=None)
    open_years(db, city, [2026])
    flow = Flow(Driver(db, city))
    cid = city.communities[0].id
    model: dict[int, P] = {}
    year = {"current": 2026, "closes": 0}

    def year_closed(y: int) -> bool:
        return y < year["current"]

    def approve(p: P) -> None:
        expected = expected_refusal(figures(db, cid, p.year), p.small, p.amount)
        leaders = [flow.director] if p.leader_approved else [flow.ws, flow.director]
        for actor in leaders:
            out = flow.fire(p.pid, "approve", actor, check=False)
            if expected is not None:
                assert not out.ok and out.verdict.code == expected, (expected, out.verdict)
                event(f"approval refused: {expected}")
                return
            assert out.ok, out.verdict
            p.leader_approved = True
        p.state = "in_progress"

    def op_new() -> None:
        small = data.draw(st.booleans(), label="small-group")
        amount = data.draw(SMALL_AMOUNTS if small else WIDE_AMOUNTS, label="amount (fen)")
        pid = flow.propose(format_yuan(amount), SMALL if small else WIDE, year=year["current"])
        flow.to_pending([pid])
        p = model[pid] = P(pid, year["current"], small, amount)
        approve(p)

    def op_retry() -> None:
        approve(data.draw(st.sampled_from(pending_open()), label="retry approval"))

    def op_reject() -> None:
        p = data.draw(st.sampled_from([p for p in model.values() if p.state == "pending_approval"]), label="reject")
        flow.fire(p.pid, "reject", flow.director, reason="预算依据不足,不予批准")
        p.state = "rejected"

    def op_withdraw() -> None:
        pid = flow.propose(format_yuan(data.draw(st.integers(100_00, 50_000_00), label="withdrawn amount")),
                           year=year["current"])
        flow.fire(pid, "withdraw", flow.sec, reason="居民需求已由其他渠道解决")
        model[pid] = P(pid, year["current"], False, 0, state="withdrawn")

    def op_change() -> None:
        p = data.draw(st.sampled_from(changeable()), label="change")
        if year_closed(p.year):  # lowering only, once the year is closed
            new = data.draw(st.integers(1, p.amount - 1), label="new amount (fen)")
        else:  # anything from 0.01 to twice the amount, but the amount itself
            new = data.draw(st.integers(1, 2 * p.amount - 1).map(lambda v: v if v < p.amount else v + 1),
                            label="new amount (fen)")
        expected = expected_refusal(figures(db, cid, p.year), p.small, new - p.amount)
        flow.fire(p.pid, "request_change", flow.sec, {"changes": {"amount": format_yuan(new)}}, reason="调整工程量")
        out = flow.fire(p.pid, "approve_change", flow.ws, check=False)
        if expected is None:
            assert out.ok, out.verdict
            p.amount = new
        else:
            assert not out.ok and out.verdict.code == expected, (expected, out.verdict)
            event(f"change refused: {expected}")
            flow.fire(p.pid, "reject_change", flow.ws, reason="超出额度,不同意变更")

    def op_pay() -> None:
        p = data.draw(st.sampled_from([p for p in model.values()
                                       if p.state in ("in_progress", "settlement") and p.paid < p.amount]),
                      label="pay")
        if p.state == "in_progress":
            flow.to_settlement(p.pid)
            p.state = "settlement"
        amount = data.draw(st.integers(1, p.amount - p.paid), label="payment (fen)")
        out = flow.pay_amount(p.pid, format_yuan(amount))
        assert out.ok and not out.replayed
        p.paid += amount

    def op_settle() -> None:
        p = data.draw(st.sampled_from([p for p in model.values() if p.state == "settlement" and p.paid]),
                      label="close settlement")
        flow.fire(p.pid, "close_settlement", flow.finance)
        p.state = "completion_publicity"

    def op_close_year() -> None:
        out = flow.close_year(year["current"])
        assert out.ok, out.verdict
        year["current"] += 1
        year["closes"] += 1

    def changeable() -> list[P]:
        return [p for p in model.values() if p.state == "in_progress" and (p.amount > 1 or not year_closed(p.year))]

    def pending_open() -> list[P]:
        return [p for p in model.values() if p.state == "pending_approval" and not year_closed(p.year)]

    for _step in range(data.draw(st.integers(4, 10), label="steps")):
        ops = [op_new, op_new, op_new, op_withdraw]
        if pending_open():
            ops.append(op_retry)
        if any(p.state == "pending_approval" for p in model.values()):
            ops.append(op_reject)
        if changeable():
            ops += [op_change, op_change]
        if any(p.state in ("in_progress", "settlement") and p.paid < p.amount for p in model.values()):
            ops += [op_pay, op_pay]
        if any(p.state == "settlement" and p.paid for p in model.values()):
            ops.append(op_settle)
        if year["closes"] < MAX_CLOSES:
            ops.append(op_close_year)
        op = data.draw(st.sampled_from(ops), label="operation")
        event(op.__name__)
        op()
        check_invariants(db, model)
    event(f"{len(model)} projects")
