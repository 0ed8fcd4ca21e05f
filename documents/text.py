"""How documents write dates and money: Chinese dates in Asia/Shanghai, yuan with two decimals and in
capital figures (人民币大写), as on official paper."""
from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from rules.money import format_yuan

SHANGHAI = ZoneInfo("Asia/Shanghai")


def local(instant: dt.datetime) -> dt.datetime:
    if instant.tzinfo is None:
        raise ValueError("documents take timezone-aware instants")
    return instant.astimezone(SHANGHAI)


def cn_date(day: dt.date | dt.datetime | None, blank: str = "    年  月  日") -> str:
    """2026-11-23 → '2026年11月23日' (an instant is shown in Asia/Shanghai); None → a blank to fill in."""
    if day is None:
        return blank
    if isinstance(day, dt.datetime):
        day = local(day).date()
    return f"{day.year}年{day.month}月{day.day}日"


def cn_datetime(instant: dt.datetime | None) -> str:
    """'2026年11月23日 09:30' in Asia/Shanghai; '' for None."""
    if instant is None:
        return ""
    t = local(instant)
    return f"{cn_date(t)} {t:%H:%M}"


def yuan(fen: int) -> str:
    """1234567 → '12345.67 元' (two decimals, as the API writes amounts)."""
    return f"{format_yuan(fen)} 元"


_DIGITS = "零壹贰叁肆伍陆柒捌玖"
_SMALL = ["", "拾", "佰", "仟"]
_GROUPS = ["", "万", "亿", "万亿"]


def yuan_in_words(fen: int) -> str:
    """Capital figures (人民币大写) as on a voucher: 1234567 → '壹万贰仟叁佰肆拾伍元陆角柒分'; 100 → '壹元整'."""
    if fen < 0:
        return "负" + yuan_in_words(-fen)
    whole, jiao, fen_ = fen // 100, (fen // 10) % 10, fen % 10
    out = _integer_words(whole) + "元" if whole else ""
    if jiao == 0 and fen_ == 0:
        return (out or "零元") + "整"
    if jiao:
        out += _DIGITS[jiao] + "角"
    elif whole:
        out += "零"
    if fen_:
        out += _DIGITS[fen_] + "分"
    else:
        out += "整"
    return out


def _integer_words(n: int) -> str:
    groups: list[int] = []
    while n:
        groups.append(n % 10000)
        n //= 10000
    out = ""
    zero_pending = False
    for index in range(len(groups) - 1, -1, -1):
        g = groups[index]
        if g == 0:
            zero_pending = bool(out)
            continue
        if out and (zero_pending or g < 1000):
            out += "零"
        zero_pending = False
        out += _group_words(g) + _GROUPS[index]
    return out


def _group_words(g: int) -> str:
    out = ""
    zero = False
    for pos in range(3, -1, -1):
        d = (g // 10 ** pos) % 10
        if d == 0:
            zero = bool(out)
            continue
        if zero:
            out += "零"
            zero = False
        out += _DIGITS[d] + _SMALL[pos]
    return out


def last_day(ends_at: dt.datetime) -> dt.date:
    """The last day of a period that ends at 24:00 (Asia/Shanghai), stored as 00:00 of the day after."""
    end = local(ends_at)
    if end.time() == dt.time(0, 0):
        return end.date() - dt.timedelta(days=1)
    return end.date()


def period_text(starts_at: dt.datetime, ends_at: dt.datetime, workdays: int, provisional: bool = False) -> str:
    """'2026年3月5日 起至 2026年3月10日 24:00 止(3 个工作日)'."""
    note = ";该年度官方节假日安排尚未载入,期限为临时计算" if provisional else ""
    return f"{cn_date(starts_at)} 起至 {cn_date(last_day(ends_at))} 24:00 止({workdays} 个工作日{note})"
