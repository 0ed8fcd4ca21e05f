"""Exact money: integer fen inside, "12345.67" yuan strings at the edges. Never floats."""
from __future__ import annotations

import re

_AMOUNT = re.compile(r"^(0|[1-9][0-9]{0,11})(?:\.([0-9]{1,2}))?$")


class MoneyError(ValueError):
    """An amount that is not a plain non-negative decimal with at most two places."""


def parse_yuan(text: str) -> int:
    """ "12345.67" → 1234567 fen. Rejects floats, signs, exponents, separators, >2 decimals."""
    if not isinstance(text, str):
        raise MoneyError("金额必须是字符串形式的元数,如 \"12345.67\"")
    m = _AMOUNT.match(text.strip())
    if not m:
        raise MoneyError(f"金额格式不正确: {text!r}(应为非负数,最多两位小数,如 \"12345.67\")")
    whole, frac = m.group(1), (m.group(2) or "")
    return int(whole) * 100 + int(frac.ljust(2, "0") or "0")


def check_yuan(text: str) -> str:
    """Validate a yuan string and return it unchanged (a pydantic field validator: MoneyError is a ValueError)."""
    parse_yuan(text)
    return text


def format_yuan(fen: int) -> str:
    """1234567 → "12345.67"; negative amounts keep their sign."""
    sign = "-" if fen < 0 else ""
    fen = abs(fen)
    return f"{sign}{fen // 100}.{fen % 100:02d}"
