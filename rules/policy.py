"""The regulation's "xx" values as one immutable, versioned piece of plain data.

A city publishes policy versions with effective dates; each project and fund year pins the version
it was opened under, so a later change of policy never rewrites an earlier decision.
"""
from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

# Default words that flag a line item for a forbidden use (Art. 4). A flag must be answered
# before submission; it is not itself a refusal because the words also occur in honest items.
DEFAULT_FORBIDDEN_KEYWORDS: tuple[str, ...] = (
    "办公", "工资", "补贴", "津贴", "奖金", "物业费", "电脑", "打印机", "复印", "办公桌", "办公椅",
    "加班", "劳务费(社区工作者)", "招待", "公务用车",
)

# Art. 12: purchases fall within the government procurement catalogue (政府采购目录). A default for the
# goods, works and services a community fund buys, grouped as the catalogue is (A 货物, B 工程, C 服务);
# a city publishes its own from its 集中采购目录 as a policy version, and each project keeps the version
# it was proposed under. (code, Chinese name) in the form of the 政府采购品目分类目录 (letter + 8 digits).
DEFAULT_PROCUREMENT_CATALOG: tuple[tuple[str, str], ...] = (
    ("A02061900", "照明设备"),
    ("A02091100", "音频设备"),
    ("A02100000", "广告设备"),
    ("A02190000", "工具"),
    ("A02390000", "体育设备"),
    ("A05010000", "图书和档案"),
    ("A05040000", "日用杂品"),
    ("A06020000", "台、桌类"),
    ("A06030000", "椅凳类"),
    ("A06040000", "柜类"),
    ("A06050000", "架类"),
    ("C08140000", "印刷服务"),
    ("C16070000", "安全服务"),
    ("C20200000", "培训服务"),
    ("C21040000", "物业管理服务"),
    ("C21050000", "绿化服务"),
    ("C23070000", "会议和展览服务"),
    ("C23090000", "餐饮服务"),
    ("C23120000", "维修和保养服务"),
    ("C23140000", "居民服务"),
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
    #: Art. 11, 15: notice to residents of a terminated project, in working days.
    termination_publicity_workdays: int = 3
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
    #: Art. 12: the procurement catalogue, (code, name) pairs; stored as [{"code": …, "name": …}, …].
    procurement_catalog: tuple[tuple[str, str], ...] = field(default=DEFAULT_PROCUREMENT_CATALOG)
    # -- red flags (第十八条、第十九条; rules.redflags): where the working committee's inspection should look
    #: split projects: projects of one community, same category or contractor, proposed within this many days
    flag_split_window_days: int = 30
    #: split projects: each stays under this amount (a procurement threshold, in fen) while together they exceed it
    flag_split_threshold_fen: int = 5_000_000
    #: contractor concentration: one payee paid more than this share of a community's year (allocation + carry-in)
    flag_payee_share_community: Fraction = Fraction(3, 10)
    #: contractor concentration: one payee paid more than this share of the area's year (all its communities)
    flag_payee_share_area: Fraction = Fraction(1, 10)
    #: repeated individual payee: no-invoice vouchers to one payee in at least this many projects (or 2 communities)
    flag_voucher_payee_projects: int = 3
    #: prices out of line: a unit price above this multiple of the area's median for the same item
    flag_price_ratio: Fraction = Fraction(2)
    #: prices out of line: the median is taken only over at least this many line items
    flag_price_min_samples: int = 3
    #: rushed steps: an objection answered and settled within this many hours of being raised
    flag_rushed_objection_hours: int = 4
    #: rushed steps: approvals on the last day of their period, at least this many by one person …
    flag_last_day_min_count: int = 3
    #: … making at least this share of that person's approvals of the year
    flag_last_day_share: Fraction = Fraction(1, 2)
    #: rushed steps: a community-year paying more than this share of its payments in December …
    flag_december_share: Fraction = Fraction(1, 2)
    #: … with at least this many payments in December
    flag_december_min_payments: int = 3
    #: late records: a stated date (meeting held on, visited on) more than this many days before its entry
    flag_backdate_days: int = 7
    #: thin acceptance: a resident satisfaction (percent) under this line
    flag_satisfaction_line: int = 80
    #: Art. 18 (事前预算): approval waits for finance's budget review of the submission when true.
    budget_review_required: bool = False

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for f in dataclasses.fields(self):
            v = getattr(self, f.name)
            if isinstance(v, Fraction):
                v = f"{v.numerator}/{v.denominator}"
            elif f.name == "procurement_catalog":
                v = [{"code": code, "name": name} for code, name in v]
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
            if k == "procurement_catalog":
                kwargs[k] = _catalog_of(v)
            elif isinstance(default, bool):
                if not isinstance(v, bool):
                    raise ValueError(f"政策参数 {k} 须为 true 或 false")
                kwargs[k] = v
            elif isinstance(default, Fraction):
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
                     "disclosure_workdays", "voucher_notice_workdays", "followup_interval_workdays",
                     "termination_publicity_workdays"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} 须至少为 1 个工作日")
        if self.allocation_fen < 0:
            raise ValueError("allocation_fen 不得为负")
        if not self.procurement_catalog:
            raise ValueError("procurement_catalog(政府采购目录)至少须有一个品目")
        codes = [code for code, _name in self.procurement_catalog]
        for code, name in self.procurement_catalog:
            if not _CATALOG_CODE.fullmatch(code) or not name.strip():
                raise ValueError(f"政府采购目录品目 {code!r} 的编码须为大写字母和数字(如 C23120000),名称不能为空")
        if len(set(codes)) != len(codes):
            raise ValueError("政府采购目录的品目编码不能重复")
        self._validate_flags()
        for md in (self.report_due, self.disclosure_due):
            parts = md.split("-")
            if len(parts) != 2 or not all(p.isdigit() for p in parts) or not (
                    1 <= int(parts[0]) <= 12 and 1 <= int(parts[1]) <= 31):
                raise ValueError(f"日期 {md} 格式应为 MM-DD")
        self._validate_ranges()

    # bounds that keep every value inside what the database and the calendar arithmetic can hold
    _MAX_FEN = 10**14
    _MAX_WORKDAYS = 250
    _MAX_COUNT = 10_000_000
    _MAX_KEYWORDS, _MAX_KEYWORD = 500, 50

    def _validate_ranges(self) -> None:
        import calendar

        from rules.text import control_character

        if self.allocation_fen > self._MAX_FEN:
            raise ValueError(f"allocation_fen 不得超过 {self._MAX_FEN}")
        for name in ("publicity_workdays", "approval_workdays", "completion_publicity_workdays",
                     "disclosure_workdays", "voucher_notice_workdays", "followup_interval_workdays",
                     "report_reminder_workdays"):
            if not 0 <= getattr(self, name) <= self._MAX_WORKDAYS:
                raise ValueError(f"{name} 须在 0 至 {self._MAX_WORKDAYS} 个工作日之间")
        for name in ("small_group_threshold", "meeting_min_resident_reps"):
            if not 0 <= getattr(self, name) <= self._MAX_COUNT:
                raise ValueError(f"{name} 须在 0 至 {self._MAX_COUNT} 之间")
        for name in ("small_group_cap", "meeting_pass_ratio", "meeting_reject_ratio"):
            if getattr(self, name).denominator > 10_000:
                raise ValueError(f"{name} 的分母不得超过 10000")
        for md in (self.report_due, self.disclosure_due):
            month, day = (int(p) for p in md.split("-"))
            if day > calendar.monthrange(2023, month)[1]:  # not 02-29: the date must exist every year
                raise ValueError(f"日期 {md} 不存在")
        if len(self.forbidden_keywords) > self._MAX_KEYWORDS:
            raise ValueError(f"forbidden_keywords 至多 {self._MAX_KEYWORDS} 个")
        for word in self.forbidden_keywords:
            if not word.strip() or len(word) > self._MAX_KEYWORD or control_character(word):
                raise ValueError(f"forbidden_keywords 的每一项须为 1 至 {self._MAX_KEYWORD} 个字符的单行文本: {word[:60]!r}")

    def _validate_flags(self) -> None:
        for name in ("flag_split_window_days", "flag_backdate_days"):
            if not 1 <= getattr(self, name) <= 366:
                raise ValueError(f"{name} 须在 1 至 366 天之间")
        if not 0 < self.flag_split_threshold_fen <= self._MAX_FEN:
            raise ValueError(f"flag_split_threshold_fen 须大于 0 且不超过 {self._MAX_FEN}")
        for name in ("flag_payee_share_community", "flag_payee_share_area", "flag_last_day_share",
                     "flag_december_share"):
            if not 0 < getattr(self, name) <= 1 or getattr(self, name).denominator > 10_000:
                raise ValueError(f"{name} 须在 (0, 1] 之间,分母不超过 10000")
        if not 1 < self.flag_price_ratio <= 1000 or self.flag_price_ratio.denominator > 10_000:
            raise ValueError("flag_price_ratio 须大于 1 且不超过 1000")
        for name in ("flag_voucher_payee_projects", "flag_price_min_samples", "flag_last_day_min_count",
                     "flag_december_min_payments"):
            if not 2 <= getattr(self, name) <= 10_000:
                raise ValueError(f"{name} 须在 2 至 10000 之间")
        if not 1 <= self.flag_rushed_objection_hours <= 720:
            raise ValueError("flag_rushed_objection_hours 须在 1 至 720 小时之间")
        if not 0 < self.flag_satisfaction_line <= 100:
            raise ValueError("flag_satisfaction_line 须在 1 至 100 之间")

    def catalog_names(self) -> dict[str, str]:
        """The procurement catalogue as {code: name}."""
        return dict(self.procurement_catalog)

    def cap_amount_fen(self, allocation_fen: int, carry_in_fen: int) -> int:
        """The small-group cap in fen, rounded down: the cap is a ceiling, never exceeded by rounding."""
        base = allocation_fen + (carry_in_fen if self.cap_base == "allocation_plus_carry_in" else 0)
        return (base * self.small_group_cap.numerator) // self.small_group_cap.denominator


_CATALOG_CODE = re.compile(r"[A-Z][0-9A-Z]{1,15}")


def _catalog_of(value: Any) -> tuple[tuple[str, str], ...]:
    """The stored catalogue: a list of {"code", "name"} objects (or [code, name] pairs)."""
    if not isinstance(value, list | tuple):
        raise ValueError("政策参数 procurement_catalog 须为品目列表,如 [{\"code\": \"C23120000\", \"name\": \"维修和保养服务\"}]")
    items: list[tuple[str, str]] = []
    for entry in value:
        if isinstance(entry, dict) and set(entry) == {"code", "name"}:
            code, name = entry["code"], entry["name"]
        elif isinstance(entry, list | tuple) and len(entry) == 2:
            code, name = entry
        else:
            raise ValueError(f"政府采购目录品目须为 {{\"code\": …, \"name\": …}},而非 {entry!r}")
        if not isinstance(code, str) or not isinstance(name, str):
            raise ValueError(f"政府采购目录品目的编码和名称须为字符串: {entry!r}")
        items.append((code.strip(), name.strip()))
    return tuple(items)
