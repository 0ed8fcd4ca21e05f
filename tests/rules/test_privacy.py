"""rules.privacy: masking of names, ID, phone and bank numbers in public output (SPEC section 4)."""
from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rules.privacy import find_leaks, mask_bank, mask_id_number, mask_name, mask_phone, mask_text


def test_mask_id_number() -> None:
    assert mask_id_number("110101199003074578") == "110101********4578"
    assert mask_id_number("11010119900307457X") == "110101********457X"


def test_mask_phone() -> None:
    assert mask_phone("13812345678") == "138****5678"
    assert mask_phone("138-1234-5678") == "138****5678"


def test_mask_bank() -> None:
    assert mask_bank("6222021234567890123") == "***************0123"
    assert mask_bank("6222 0212 3456 7890") == "************7890"


@pytest.mark.parametrize(("name", "masked"), [("张三", "张*"), ("欧阳娜娜", "欧***"), ("李小明", "李**"), ("王", "*"),
                                              ("", "")])
def test_mask_name(name: str, masked: str) -> None:
    assert mask_name(name) == masked


NOTICE = (
    "帮扶对象张三(身份证号110101199003074578,电话13812345678),"
    "收款账号6222021234567890123,补助金额 12345.67 元,公示期 2026-11-21 至 2026-11-25。"
)


def test_mask_text_notice() -> None:
    masked = mask_text(NOTICE, ["张三"])
    assert masked == (
        "帮扶对象张*(身份证号110101********4578,电话138****5678),"
        "收款账号***************0123,补助金额 12345.67 元,公示期 2026-11-21 至 2026-11-25。"
    )
    assert find_leaks(masked, ["张三"]) == []


@pytest.mark.parametrize(("text", "expected"), [
    ("身份证 11010119900307457X。", "身份证 110101********457X。"),
    ("身份证 11010119900307457x", "身份证 110101********457x"),
    ("电话:138 1234 5678", "电话:138****5678"),
    ("电话:138-1234-5678。", "电话:138****5678。"),
    ("卡号 6222 0212 3456 7890 123", "卡号 ***************0123"),
    ("卡号6222021234567890", "卡号************7890"),
    ("手机１３８１２３４５６７８", "手机１３８****５６７８"),
    ("ID110101199003074578", "ID110101********4578"),
])
def test_mask_text_forms(text: str, expected: str) -> None:
    assert mask_text(text) == expected
    assert find_leaks(text)
    assert find_leaks(expected) == []


@pytest.mark.parametrize("text", [
    "金额 12345.67 元", "合计 200000.00 元", "13812345678.00 元", "0.13812345678", "日期 2026-11-21",
    "2026年11月21日", "编号 2026112100001", "座机 0431-88886666", "12位数字 123456789012",
    "12345678901",  # 11 digits but not a mobile number
    "123456789012345678901",  # 21 digits: not an ID, phone or bank number
])
def test_mask_text_leaves_ordinary_numbers(text: str) -> None:
    assert mask_text(text) == text
    assert find_leaks(text) == []


def test_names_longest_first_and_every_occurrence() -> None:
    text = "张三丰与张三、欧阳娜娜一起领取,张三签字。"
    masked = mask_text(text, ["张三", "张三丰", "欧阳娜娜", " ", "王"])
    assert masked == "张**与张*、欧***一起领取,张*签字。"
    assert find_leaks(text, ["张三"]) == ["张三", "张三", "张三"]


def test_find_leaks_lists_in_order() -> None:
    assert find_leaks(NOTICE, ["张三"]) == ["张三", "110101199003074578", "13812345678", "6222021234567890123"]


_DIGIT = st.sampled_from("0123456789")
_ID = st.tuples(st.text(_DIGIT, min_size=17, max_size=17), st.sampled_from("0123456789Xx")).map("".join)
_PHONE = st.tuples(st.sampled_from("3456789"), st.text(_DIGIT, min_size=9, max_size=9)).map(lambda t: "1" + "".join(t))
_BANK = st.text(_DIGIT, min_size=16, max_size=19)
_NAME = st.text(st.sampled_from("张王李赵欧阳娜三丰小明"), min_size=2, max_size=4)
_FILLER = st.text(st.sampled_from("0123456789 .-,:X元年月日号的张三"), max_size=12)


@given(parts=st.lists(st.one_of(_ID, _PHONE, _BANK, _NAME, _FILLER), max_size=12),
       names=st.lists(_NAME, max_size=4))
def test_mask_text_leaves_no_leaks(parts: list[str], names: list[str]) -> None:
    text = "".join(parts)
    masked = mask_text(text, names)
    assert find_leaks(masked, names) == []
    assert len(masked) <= len(text)
    assert mask_text(masked, names) == masked


@given(text=st.text(max_size=60), names=st.lists(st.text(min_size=1, max_size=4), max_size=3))
def test_mask_text_leaves_no_leaks_any_text(text: str, names: list[str]) -> None:
    assert find_leaks(mask_text(text, names), names) == []
