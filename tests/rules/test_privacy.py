"""rules.privacy: masking of names, ID, phone and bank numbers in public output (SPEC section 4)."""
from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from rules.privacy import find_leaks, fold, mask_bank, mask_id_number, mask_name, mask_phone, mask_text


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
    ("手机１３８１２３４５６７８", "手机138****5678"),
    ("ID110101199003074578", "ID110101********4578"),
])
def test_mask_text_forms(text: str, expected: str) -> None:
    assert mask_text(text) == expected
    assert find_leaks(text)
    assert find_leaks(expected) == []


@pytest.mark.parametrize("text", [
    "金额 12345.67 元", "合计 200000.00 元", "13812345678.00 元", "日期 2026-11-21",
    "2026年11月21日", "编号 2026112100001", "12位数字 123456789012",
    "计划 2026-03-01 2026-11-30", "2026.03.01-2026.11.30", "单价 1200.00 1300.00 1400.00 1500.00 元",
    "第13、14、15、16、17、18、19、20号楼", "09:00 至 24:00", "共 300 户 1200 人",
    "12345678901",  # 11 digits but not a mobile number
    "123456789012345678901",  # 21 digits: not an ID, phone or bank number
    # times with fractions of a second and a zone (the JSON answers' timestamps): "08.381491+08" is no landline
    "2026-11-23T20:37:08.381491+08:00", "更新于 2026-03-01 09:30:08.5-08:00", "20:37:08.381491+0800",
])
def test_mask_text_leaves_ordinary_numbers(text: str) -> None:
    assert mask_text(text) == text
    assert find_leaks(text) == []


def test_a_label_colon_is_not_a_time() -> None:
    # only "HH:MM:" starts a time's seconds; after a label's colon the digits are a number as usual
    assert mask_text("电话:13.812345678") == "电话:138****5678"
    assert mask_text("电话:0838149108") == "电话:0838**9108"
    assert mask_text("20:37:08.381491+08:00 13812345678") == "20:37:08.381491+08:00 138****5678"


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


# ------------------------------------------------------------------------ other spellings (issue 12, point 7)


@pytest.mark.parametrize(("text", "expected"), [
    ("电话+8613812345678", "电话+86138****5678"),
    ("电话 0086 138 1234 5678", "电话 0086138****5678"),
    ("电话138.1234.5678。", "电话138****5678。"),
    ("电话 1 3 8 1 2 3 4 5 6 7 8", "电话 138****5678"),
    ("电话138\u200b1234\u200b5678", "电话138****5678"),
    ("电话138\u00a01234\u00a05678", "电话138****5678"),
    ("电话138－1234－5678", "电话138****5678"),
    ("电话138—1234—5678", "电话138****5678"),
    ("电话１３８\u3000１２３４\u3000５６７８", "电话138****5678"),
    ("身份证 110101 19900307 4578", "身份证 110101********4578"),
    ("身份证 110101 1990-03-07 457x", "身份证 110101********457x"),
    ("卡号 6222-0212-3456-7890", "卡号 ************7890"),
    ("座机 010-62345678", "座机 010****5678"),
    ("座机 0431-88886666", "座机 0431****6666"),
    ("座机（010）6234 5678", "座机010****5678"),
    ("座机 +86 10 6234 5678", "座机 +8610****5678"),
    ("电话\u202e13812345678\u202c", "电话138****5678"),
])
def test_mask_text_other_spellings(text: str, expected: str) -> None:
    assert find_leaks(text)
    assert mask_text(text) == expected
    assert find_leaks(expected) == []


@pytest.mark.parametrize("written", ["张 三", "张\u200b三", "张\u00a0三", "张·三", "张・三", "張三", "張 三", "张\u3000三",
                                     "张\u2060三", "张\u202e三", "ｚｈａｎｇ"])
def test_names_in_other_spellings(written: str) -> None:
    text = f"帮扶对象{written}已签收。"
    masked = mask_text(text, ["张三", "zhang"])
    assert find_leaks(text, ["张三", "zhang"]) != []
    assert find_leaks(masked, ["张三", "zhang"]) == []
    assert masked.startswith("帮扶对象") and masked.endswith("已签收。")
    assert masked[4] in "张張ｚ" and set(masked[5:-4]) == {"*"}


def test_names_given_in_traditional_or_with_separators_match_simplified_text() -> None:
    assert mask_text("收款人刘秀英", ["劉秀英"]) == "收款人刘**"
    assert mask_text("阿依买买提领取补助", ["阿依·买买提"]) == "阿****领取补助"


def test_masking_keeps_the_honest_text_as_written() -> None:
    text = "（一）受益人：张三，电话 138-1234-5678；金额：１２,０００.００元。ＬＥＤ灯 2 盏。"
    assert mask_text(text, ["张三"]) == "（一）受益人：张*，电话 138****5678；金额：１２,０００.００元。ＬＥＤ灯 2 盏。"


def test_bidi_controls_never_leave_public_text() -> None:
    from rules.privacy import BIDI_CONTROLS, has_bidi, strip_bidi

    text = "公示\u202e期满\u2066无\u2069异议\u200f"
    assert has_bidi(text) and not has_bidi(strip_bidi(text))
    assert strip_bidi(text) == "公示期满无异议"
    assert mask_text(text) == "公示期满无异议"
    assert find_leaks(text) == ["\u202e", "\u2066", "\u2069", "\u200f"]
    assert all(c not in mask_text("".join(BIDI_CONTROLS) + "正文") for c in BIDI_CONTROLS)


# Disguised numbers and names, generated: whatever the spelling, the masked output holds no run of the
# number's digits (beyond the kept head and tail) and no listed name; the honest text around them stays.

_SEPARATORS = [" ", "-", ".", "\u00a0", "\u3000", "－", "—", "–", "·", "/", "_", "\u2002", "\t"]
_INVISIBLE = ["\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u00ad", "\u202e", "\u202d", "\u2066", "\u200f"]
_FULLWIDTH = {str(d): chr(0xFF10 + d) for d in range(10)}
_HONEST = st.text(st.sampled_from("居民反映楼道灯不亮请尽快维修谢谢电话联系人收款账号身份证号码:，。;（）"), max_size=8)


def _disguise(draw: st.DrawFn, digits: str) -> str:
    out = []
    for k, d in enumerate(digits):
        if k and draw(st.integers(0, 3)) == 0:
            out.append("".join(draw(st.lists(st.sampled_from(_SEPARATORS), min_size=1, max_size=2))))
        if draw(st.integers(0, 4)) == 0:
            out.append(draw(st.sampled_from(_INVISIBLE)))
        out.append(_FULLWIDTH[d] if d in _FULLWIDTH and draw(st.booleans()) else d)
    return "".join(out)


@st.composite
def _disguised_number(draw: st.DrawFn) -> tuple[str, str, str]:
    """(kind, digits, as written)."""
    kind = draw(st.sampled_from(["phone", "id", "bank", "landline", "intl_phone"]))
    if kind in ("phone", "intl_phone"):
        digits = "1" + draw(st.sampled_from("3456789")) + draw(st.text(_DIGIT, min_size=9, max_size=9))
    elif kind == "id":
        digits = draw(st.text(_DIGIT, min_size=17, max_size=17)) + draw(st.sampled_from("0123456789X"))
    elif kind == "bank":
        digits = "62" + draw(st.text(_DIGIT, min_size=14, max_size=17))
    else:
        area = draw(st.sampled_from(["010", "021", "0431", "0755"]))
        digits = area + draw(st.sampled_from("2345678")) + draw(st.text(_DIGIT, min_size=6, max_size=7))
        sep = draw(st.sampled_from(["-", " ", "－", "—", ")", "\u00a0"]))
        return kind, digits, ("(" if sep == ")" else "") + _disguise(draw, area) + sep + _disguise(draw, digits[len(area):])
    written = _disguise(draw, digits)
    if kind == "intl_phone":
        written = draw(st.sampled_from(["+86", "+86 ", "0086 ", "＋８６", "+86-"])) + written
    return kind, digits, written


def _visible_digits(text: str) -> str:
    """What a reader of the masked text sees of its digits: any digit → ASCII, '*' kept, all else dropped."""
    import unicodedata

    out = []
    for ch in unicodedata.normalize("NFKC", text):
        d = unicodedata.decimal(ch, None)
        out.append(str(d) if d is not None else "*" if ch == "*" else "")
    return "".join(out)


@given(number=_disguised_number(), before=_HONEST, after=_HONEST)
def test_disguised_numbers_are_masked(number: tuple[str, str, str], before: str, after: str) -> None:
    kind, digits, written = number
    # written exactly as an amount (1300000.00) it *is* an amount, by any reading
    assume(not _AMOUNTS.fullmatch(fold(written)))
    text = f"{before}{written}{after}"
    masked = mask_text(text)
    seen = _visible_digits(masked)
    assert digits[:-4].rstrip("X") not in seen and digits not in seen, (kind, text, masked)
    assert seen.count("*") >= 3, (kind, text, masked)
    assert find_leaks(masked) == []
    assert masked.startswith(strip(before)) and masked.endswith(strip(after)), (text, masked)


# one or more amounts (1300000.00) separated by separators only: a list of amounts by any reading
_AMOUNT = r"(?:0|[1-9][0-9]*)\.[0-9]{1,2}"
_AMOUNTS = re.compile(rf"{_AMOUNT}(?:[^0-9]{{1,3}}{_AMOUNT})*")


def strip(text: str) -> str:
    from rules.privacy import strip_bidi

    return strip_bidi(text)


_SURNAMES = "张王李刘陈杨黄赵吴周徐孙马朱胡郭何林罗郑梁谢宋唐许韩冯邓曹彭曾萧"
_GIVEN = "秀英桂兰丽华伟芳娜敏静强军磊洋勇艳杰涛明超霞平刚玲凤志红龙云飞鹏"
_NAME_GAPS = [" ", "\u00a0", "\u3000", "·", "・", "\u200b", "\u2060", "\ufeff", "-", ".", "\u202e", "\u200d"]


@lru_cache(maxsize=1)
def _traditional() -> dict[str, str]:
    from opencc import OpenCC

    s2t = OpenCC("s2t")
    return {c: s2t.convert(c) for c in _SURNAMES + _GIVEN}


@lru_cache(maxsize=1)
def _t2s() -> Any:
    from opencc import OpenCC

    return OpenCC("t2s")


@st.composite
def _disguised_name(draw: st.DrawFn) -> tuple[str, str]:
    """(the name as listed, as written in the text)."""
    name = draw(st.sampled_from(_SURNAMES)) + draw(st.text(st.sampled_from(_GIVEN), min_size=1, max_size=2))
    trad = _traditional()
    out = []
    for k, ch in enumerate(name):
        if k and draw(st.booleans()):
            out.append("".join(draw(st.lists(st.sampled_from(_NAME_GAPS), min_size=1, max_size=2))))
        out.append(trad[ch] if draw(st.booleans()) else ch)
    return name, "".join(out)


def _reader_view(text: str) -> str:
    """An independent reading of a text: NFKC, traditional → simplified (OpenCC), no gaps or invisibles."""
    import unicodedata

    kept = "".join(c for c in unicodedata.normalize("NFKC", text)
                   if unicodedata.category(c) not in ("Cf", "Zs", "Mn") and c not in "·・-.\t\n ")
    return str(_t2s().convert(kept))


@given(name=_disguised_name(), before=_HONEST, after=_HONEST, listed_traditional=st.booleans())
def test_disguised_names_are_masked(name: tuple[str, str], before: str, after: str, listed_traditional: bool) -> None:
    listed, written = name
    if listed_traditional:
        listed = "".join(_traditional()[c] for c in listed)
    text = f"{before}帮扶对象{written}{after}"
    masked = mask_text(text, [listed])
    assert _reader_view(name[0]) not in _reader_view(masked), (text, masked)
    assert find_leaks(masked, [listed]) == []
    assert masked.startswith(strip(before) + "帮扶对象") and masked.endswith(strip(after)), (text, masked)
