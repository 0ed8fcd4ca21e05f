"""rules.cap: the 20% small-group cap (第七条第(二)项), the budget (第五条、第十三条), the approved amount."""
from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rules.cap import (
    FundFigures,
    available_fen,
    check_budget,
    check_paid_within_approved,
    check_small_group_cap,
    total_fen,
)
from rules.policy import Policy
from tests.rules.helpers import Case, assert_ok, assert_refused, assert_warned, run_case

POLICY = Policy()
CAP = "第七条第(二)项"

# 200,000 yuan + 50,000 carry-in: the cap is 20% of 250,000 = 50,000 yuan.
FIG = FundFigures(allocation_fen=20_000_000, carry_in_fen=5_000_000, committed_fen=6_000_000, paid_fen=4_000_000,
                  small_group_committed_fen=4_000_000)


def _over_cap_at(stage: str) -> Case:
    return Case(f"cap-{stage}", lambda: check_small_group_cap(FIG, POLICY, 1_000_001, stage), "cap.small_group", CAP)


REFUSALS: list[Case] = [_over_cap_at(stage) for stage in ("approval", "change", "payment")] + [
    Case("cap-payment-already-over", lambda: check_small_group_cap(
        FundFigures(20_000_000, 0, 0, 0, 4_000_001), POLICY, 0, "payment"), "cap.small_group", CAP),
    Case("budget", lambda: check_budget(FIG, 15_000_001), "budget.exceeded", "第五条、第十三条"),
    Case("paid-over-approved", lambda: check_paid_within_approved(1_000_000, 800_000, 200_001),
         "payment.exceeds_approved", "第十三条"),
]


@pytest.mark.parametrize("case", REFUSALS, ids=lambda c: c.id)
def test_refusals(case: Case) -> None:
    run_case(case)


def test_available_and_total() -> None:
    assert total_fen(FIG) == 25_000_000
    assert available_fen(FIG) == 15_000_000


@pytest.mark.parametrize("stage", ["proposal", "approval", "change", "payment"])
def test_cap_ok_up_to_the_cap(stage: str) -> None:
    assert_ok(check_small_group_cap(FIG, POLICY, 0, stage))
    assert_ok(check_small_group_cap(FIG, POLICY, 1_000_000, stage))  # exactly 50,000 yuan


def test_cap_warns_at_proposal() -> None:
    assert_warned(check_small_group_cap(FIG, POLICY, 1_000_001, "proposal"), "cap.small_group", CAP)


def test_cap_message_states_the_amounts_in_yuan() -> None:
    v = check_small_group_cap(FIG, POLICY, 2_000_000, "approval")
    for text in ("50000.00", "40000.00", "20000.00", "60000.00", "10000.00", "20%", "50000.00"):
        assert text in v.message, (text, v.message)


def test_cap_base_allocation_only() -> None:
    policy = Policy(cap_base="allocation")  # cap = 40,000 yuan
    assert_ok(check_small_group_cap(FIG, policy, 0, "approval"))
    v = check_small_group_cap(FIG, policy, 1, "approval")
    assert_refused(v, "cap.small_group", CAP)
    assert "40000.00" in v.message


def test_cap_share_from_policy() -> None:
    policy = Policy(small_group_cap=Fraction(1, 3))
    v = check_small_group_cap(FundFigures(30_000, 0, 0, 0, 10_000), policy, 1, "approval")
    assert_refused(v, "cap.small_group", CAP)
    assert "33.33%" in v.message


def test_cap_reduction_always_ok() -> None:
    over = FundFigures(20_000_000, 0, 0, 0, 9_000_000)
    assert_ok(check_small_group_cap(over, POLICY, -100, "change"))


def test_cap_unknown_stage() -> None:
    with pytest.raises(ValueError):
        check_small_group_cap(FIG, POLICY, 0, "whenever")


@given(
    allocation=st.integers(0, 10**10), carry_in=st.integers(0, 10**9), committed=st.integers(0, 10**10),
    small=st.integers(0, 10**10), extra=st.integers(0, 10**10),
    share=st.fractions(min_value=Fraction(1, 100), max_value=1, max_denominator=100),
    base=st.sampled_from(["allocation_plus_carry_in", "allocation"]),
    stage=st.sampled_from(["approval", "change", "payment"]),
)
def test_cap_never_ok_when_sum_exceeds_cap(allocation: int, carry_in: int, committed: int, small: int, extra: int,
                                           share: Fraction, base: str, stage: str) -> None:
    policy = Policy(small_group_cap=share, cap_base=base)
    f = FundFigures(allocation, carry_in, committed, 0, small)
    cap = policy.cap_amount_fen(allocation, carry_in)
    v = check_small_group_cap(f, policy, extra, stage)
    if small + extra > cap:
        assert_refused(v, "cap.small_group", CAP)
    else:
        assert_ok(v)
    proposal = check_small_group_cap(f, policy, extra, "proposal")
    assert proposal.ok
    assert proposal.warning is (small + extra > cap)


def test_budget_ok() -> None:
    assert_ok(check_budget(FIG, 15_000_000))  # exactly what is left
    assert_ok(check_budget(FIG, 0))
    assert_ok(check_budget(FundFigures(0, 0, 100, 0, 0), -50))


def test_budget_message() -> None:
    v = check_budget(FIG, 15_000_001)
    assert "250000.00" in v.message and "150000.00" in v.message and "150000.01" in v.message


def test_paid_within_approved_ok() -> None:
    assert_ok(check_paid_within_approved(1_000_000, 800_000, 200_000))
    assert_ok(check_paid_within_approved(1_000_000, 0, 0))


def test_paid_over_approved_message() -> None:
    v = check_paid_within_approved(1_000_000, 800_000, 200_001)
    assert "10000.00" in v.message and "10000.01" in v.message
