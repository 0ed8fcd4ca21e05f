"""Money limits of a fund year: the 20% small-group cap (第七条第(二)项), the budget (第五条、第十三条) and
the approved amount of a project (第十三条). All amounts are integer fen.
"""
from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from rules.money import format_yuan
from rules.policy import Policy
from rules.verdict import OK, Verdict, refuse, warn

ART_SMALL_GROUP = "第七条第(二)项"
ART_BUDGET = "第五条、第十三条"
ART_PAYMENT = "第十三条"

#: where the cap is checked; only "proposal" merely warns.
CAP_STAGES: tuple[str, ...] = ("proposal", "approval", "change", "payment")


@dataclass(frozen=True, slots=True)
class FundFigures:
    """A community's fund year, in fen."""

    allocation_fen: int
    carry_in_fen: int
    #: approved and not yet paid (what is still owed to approved projects).
    committed_fen: int
    #: paid so far.
    paid_fen: int
    #: committed + paid of the small-group projects.
    small_group_committed_fen: int
    #: what a closed year has carried into the next one (Art. 13); it is no longer this year's to spend.
    carry_out_fen: int = 0


def total_fen(f: FundFigures) -> int:
    """The year's total: allocation + carry-in."""
    return f.allocation_fen + f.carry_in_fen


def available_fen(f: FundFigures) -> int:
    """What is still free: allocation + carry-in − committed − paid − carried out."""
    return f.allocation_fen + f.carry_in_fen - f.committed_fen - f.paid_fen - f.carry_out_fen


def _percent(share: Fraction) -> str:
    pct = share * 100
    if pct.denominator == 1:
        return f"{pct.numerator}%"
    hundredths = (pct * 100).numerator // (pct * 100).denominator
    return f"{hundredths // 100}.{hundredths % 100:02d}%"


def _cap_base_text(f: FundFigures, policy: Policy) -> str:
    if policy.cap_base == "allocation_plus_carry_in":
        return (f"年度总额 {format_yuan(total_fen(f))} 元(年度经费 {format_yuan(f.allocation_fen)} 元"
                f" + 上年结余 {format_yuan(f.carry_in_fen)} 元)")
    return f"年度经费 {format_yuan(f.allocation_fen)} 元"


def check_small_group_cap(f: FundFigures, policy: Policy, extra_fen: int, stage: str) -> Verdict:
    """Small-group projects together take at most ``policy.small_group_cap`` of the year's total.

    ``extra_fen`` is what is being added: the project's amount at proposal/approval, the increase at a
    change, 0 at payment. A reduction (negative ``extra_fen``) can never break the cap and is always ok.
    Over the cap: a warning at stage "proposal", a refusal at "approval", "change" and "payment".
    """
    if stage not in CAP_STAGES:
        raise ValueError(f"unknown cap stage {stage!r}; expected one of {CAP_STAGES}")
    if extra_fen < 0:
        return OK
    cap = policy.cap_amount_fen(f.allocation_fen, f.carry_in_fen)
    total = f.small_group_committed_fen + extra_fen
    if total <= cap:
        return OK
    detail = (f"受益群体较小的项目使用额度最多为 {format_yuan(cap)} 元"
              f"({_cap_base_text(f, policy)}的 {_percent(policy.small_group_cap)}),"
              f"已占用 {format_yuan(f.small_group_committed_fen)} 元,本次 {format_yuan(extra_fen)} 元,"
              f"合计 {format_yuan(total)} 元,超出 {format_yuan(total - cap)} 元")
    if stage == "proposal":
        return warn("cap.small_group", f"提示:{detail}。审批时将不予通过,请调整金额或受益范围。",
                    ART_SMALL_GROUP)
    return refuse("cap.small_group", f"{detail}。", ART_SMALL_GROUP)


def check_budget(f: FundFigures, extra_fen: int) -> Verdict:
    """Committed + paid + what is added never exceeds allocation + carry-in (Art. 5, 13).

    A reduction (negative ``extra_fen``) is always ok.
    """
    if extra_fen <= 0:
        return OK
    used = f.committed_fen + f.paid_fen + f.carry_out_fen
    if used + extra_fen > total_fen(f):
        carried = f"、已结转下年 {format_yuan(f.carry_out_fen)} 元" if f.carry_out_fen else ""
        return refuse("budget.exceeded",
                      f"本年度专项经费总额 {format_yuan(total_fen(f))} 元,已承诺 {format_yuan(f.committed_fen)} 元、"
                      f"已支付 {format_yuan(f.paid_fen)} 元{carried},尚余 {format_yuan(available_fen(f))} 元,"
                      f"不足本次 {format_yuan(extra_fen)} 元。", ART_BUDGET)
    return OK


def check_paid_within_approved(approved_fen: int, paid_fen: int, extra_fen: int) -> Verdict:
    """What is paid for a project never exceeds its approved amount (Art. 13)."""
    if paid_fen + extra_fen > approved_fen:
        return refuse("payment.exceeds_approved",
                      f"项目批准金额 {format_yuan(approved_fen)} 元,已支付 {format_yuan(paid_fen)} 元,"
                      f"本次 {format_yuan(extra_fen)} 元将使支付合计 {format_yuan(paid_fen + extra_fen)} 元"
                      f"超出批准金额。", ART_PAYMENT)
    return OK
