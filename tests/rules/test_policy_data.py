"""Policy versions as data: round trip, defaults, and every way a stored policy can be malformed."""
from __future__ import annotations

from fractions import Fraction

import pytest

from rules.policy import Policy


def test_round_trip_and_defaults():
    p = Policy()
    assert Policy.from_dict(p.to_dict()) == p
    assert Policy.from_dict({}) == p
    assert Policy.from_dict({"small_group_cap": "3/20"}).small_group_cap == Fraction(3, 20)


def test_cap_is_rounded_down():
    assert Policy().cap_amount_fen(20_000_001, 0) == 4_000_000
    assert Policy(cap_base="allocation").cap_amount_fen(20_000_000, 5_000_000) == 4_000_000
    assert Policy().cap_amount_fen(20_000_000, 5_000_000) == 5_000_000


@pytest.mark.parametrize("data, words", [
    ({"publicity_days": 3}, "未知的政策参数"),
    ({"publicity_workdays": "3"}, "须为整数"),
    ({"publicity_workdays": True}, "须为整数"),
    ({"publicity_workdays": 0}, "至少为 1"),
    ({"report_due": 1201}, "须为字符串"),
    ({"report_due": "13-01"}, "MM-DD"),
    ({"report_due": "12/01"}, "MM-DD"),
    ({"small_group_cap": 0.2}, "分数字符串"),
    ({"small_group_cap": "abc"}, "不是有效的分数"),
    ({"small_group_cap": "3/2"}, "small_group_cap"),
    ({"cap_base": "everything"}, "cap_base"),
    ({"forbidden_keywords": "办公"}, "字符串列表"),
    ({"meeting_pass_ratio": "1/4", "meeting_reject_ratio": "1/2"}, "会议表决比例"),
    ({"allocation_fen": -1}, "不得为负"),
])
def test_malformed_policy_is_refused_in_chinese(data, words):
    with pytest.raises(ValueError, match=words):
        Policy.from_dict(data)


def test_check_yuan_returns_a_valid_amount_and_refuses_the_rest():
    from rules.money import MoneyError, check_yuan

    assert check_yuan("12345.67") == "12345.67"
    for bad in ("1.234", "-1.00", "1e3", "12,345.00", ""):
        with pytest.raises(MoneyError):
            check_yuan(bad)
    assert issubclass(MoneyError, ValueError)  # so pydantic reports it as a validation error
