"""The regulation's "xx" values as one immutable, versioned piece of plain data.

A city publishes policy versions with effective dates; each project and fund year pins the version
it was opened under, so a later change of policy never rewrites an earlier decision.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

# Default words that flag a line item for a forbidden use (Art. 4). A flag must be answered
# before submission; it is not itself a refusal because the words also occur in honest items.
DEFAULT_FORBIDDEN_KEYWORDS: tuple[str, ...] = (
    "办公", "工资", "补贴", "津贴", "奖金", "物业费", "电脑", "打印机", "复印", "办公桌", "办公椅",
    "加班", "劳务费(社区工作者)", "招待", "公务用车",
)


@dataclass(frozen=True)
class Policy:
    #: Art. 5: each community's yearly allocation, in fen (20万元 by default).
    allocation_fen: int = 20_000_000
    #: Art. 7(2): small-group projects may take at most this share of the year's total.
    small_group_cap: Fraction = Fraction(1, 5)
    #: what the cap share is taken of: "allocation_plus_carry_in" or "allocation".
    cap_base: str = "allocation_plus_carry_in"
    #: a project whose direct beneficiaries are fewer than this is small-group.
    small_group_threshold: int = 50
    #: Art. 10: notice period in working days.
    publicity_workdays: int = 3
    #: Art. 11: the working committee decides within this many working days of receipt.
    approval_workdays: int = 5
    #: Art. 15: completion notice period in working days.
    completion_publicity_workdays: int = 3
    #: Art. 15: year-end disclosure period in working days.
    disclosure_workdays: int = 5
    #: Art. 13: post-payment notice of a no-invoice voucher, in working days.
    voucher_notice_workdays: int = 3
    #: Art. 12: follow-up inspections are due every this many working days.
    followup_interval_workdays: int = 20
    #: Art. 16: the annual report is due before this month-day ("MM-DD").
    report_due: str = "12-01"
    #: Art. 15: the year-end disclosure must start before this month-day.
    disclosure_due: str = "12-20"
    #: reminders before the report is due, in working days.
    report_reminder_workdays: int = 5
    #: Art. 10: a joint meeting passes when votes for / votes cast >= this.
    meeting_pass_ratio: Fraction = Fraction(2, 3)
    #: below this share of votes for, the proposal is voted down; between the two it is divided (搁置).
    meeting_reject_ratio: Fraction = Fraction(1, 3)
    #: Art. 10: at least this many resident representatives attend a joint meeting.
    meeting_min_resident_reps: int = 1
    #: Art. 4: line items containing these words are flagged.
    forbidden_keywords: tuple[str, ...] = field(default=DEFAULT_FORBIDDEN_KEYWORDS)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for f in dataclasses.fields(self):
            v = getattr(self, f.name)
            if isinstance(v, Fraction):
                v = f"{v.numerator}/{v.denominator}"
            elif isinstance(v, tuple):
                v = list(v)
            out[f.name] = v
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Policy:
        """Build from stored JSON; unknown keys are an error, missing keys take the defaults."""
        names = {f.name: f for f in dataclasses.fields(cls)}
        unknown = set(data) - set(names)
        if unknown:
            raise ValueError(f"未知的政策参数: {', '.join(sorted(unknown))}")
        kwargs: dict[str, Any] = {}
        defaults = cls()
        for k, v in data.items():
            default = getattr(defaults, k)
            if isinstance(default, Fraction):
                if isinstance(v, bool) or not isinstance(v, str | int):
                    raise ValueError(f"政策参数 {k} 须为分数字符串,如 \"1/5\"")
                try:
                    kwargs[k] = Fraction(str(v))
                except (ValueError, ZeroDivisionError) as exc:
                    raise ValueError(f"政策参数 {k} 不是有效的分数: {v!r}") from exc
            elif isinstance(default, tuple):
                if not isinstance(v, list | tuple) or not all(isinstance(x, str) for x in v):
                    raise ValueError(f"政策参数 {k} 须为字符串列表")
                kwargs[k] = tuple(v)
            elif isinstance(default, str):
                if not isinstance(v, str):
                    raise ValueError(f"政策参数 {k} 须为字符串")
                kwargs[k] = v
            else:
                if isinstance(v, bool) or not isinstance(v, int):
                    raise ValueError(f"政策参数 {k} 须为整数")
                kwargs[k] = v
        p = cls(**kwargs)
        p.validate()
        return p

    def validate(self) -> None:
        if not (0 < self.small_group_cap <= 1):
            raise ValueError("small_group_cap 须在 (0, 1] 之间")
        if self.cap_base not in ("allocation_plus_carry_in", "allocation"):
            raise ValueError("cap_base 须为 allocation_plus_carry_in 或 allocation")
        if not (0 <= self.meeting_reject_ratio <= self.meeting_pass_ratio <= 1):
            raise ValueError("会议表决比例须满足 0 ≤ 否决线 ≤ 通过线 ≤ 1")
        for name in ("publicity_workdays", "approval_workdays", "completion_publicity_workdays",
                     "disclosure_workdays", "voucher_notice_workdays", "followup_interval_workdays"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} 须至少为 1 个工作日")
        if self.allocation_fen < 0:
            raise ValueError("allocation_fen 不得为负")
        for md in (self.report_due, self.disclosure_due):
            parts = md.split("-")
            if len(parts) != 2 or not all(p.isdigit() for p in parts) or not (
                    1 <= int(parts[0]) <= 12 and 1 <= int(parts[1]) <= 31):
                raise ValueError(f"日期 {md} 格式应为 MM-DD")

    def cap_amount_fen(self, allocation_fen: int, carry_in_fen: int) -> int:
        """The small-group cap in fen, rounded down: the cap is a ceiling, never exceeded by rounding."""
        base = allocation_fen + (carry_in_fen if self.cap_base == "allocation_plus_carry_in" else 0)
        return (base * self.small_group_cap.numerator) // self.small_group_cap.denominator
