"""Privacy in public output (SPEC section 4): names of aid recipients, ID, phone and bank numbers are masked
in every notice, disclosure, public page and export meant for the notice board.

What counts as a number to mask (ASCII or full-width digits):
- an 18-character resident ID (17 digits + digit or X), standing alone (not part of a longer digit run);
- a mainland mobile number 1[3-9]xxxxxxxxx, also written 138 1234 5678 or 138-1234-5678;
- a bank account number of 16–19 digits, also written in groups of four separated by single spaces.
A digit run that is part of a decimal number (12345.67) is never touched, nor are dates (2026-11-21).
Listed names (two characters or more) are masked wherever they occur.
"""
from __future__ import annotations

import re
from collections.abc import Collection

_D = "[0-9０-９]"
_X = "[0-9０-９XxＸｘ]"
# not preceded by a digit or by "digit." (the decimals of an amount); not followed by a digit or ".digit".
_START = rf"(?<!{_D})(?<!{_D}[.．])"
_END = rf"(?!{_D})(?![.．]{_D})"

_ID = rf"{_D}{{17}}{_X}(?![0-9０-９XxＸｘ])"
_BANK = rf"{_D}{{16,19}}"
_BANK_GROUPED = rf"{_D}{{4}}(?: {_D}{{4}}){{3}}(?: {_D}{{1,3}})?"
_PHONE = rf"[1１][3-9３-９]{_D}[ -]?{_D}{{4}}[ -]?{_D}{{4}}"

_NUMBER = re.compile(
    rf"{_START}(?:(?P<id>{_ID})|(?P<bank>(?:{_BANK}|{_BANK_GROUPED}){_END})|(?P<phone>{_PHONE}{_END}))"
)
_SEPARATORS = re.compile(r"[ \-]")


def _digits(s: str) -> str:
    return _SEPARATORS.sub("", s)


def mask_id_number(s: str) -> str:
    """'110101199003074578' → '110101********4578' (first six and last four kept)."""
    d = _digits(s)
    if len(d) <= 10:
        return "*" * len(d)
    return d[:6] + "*" * (len(d) - 10) + d[-4:]


def mask_phone(s: str) -> str:
    """'13812345678' → '138****5678' (first three and last four kept)."""
    d = _digits(s)
    if len(d) <= 7:
        return "*" * len(d)
    return d[:3] + "*" * (len(d) - 7) + d[-4:]


def mask_bank(s: str) -> str:
    """'6222021234567890123' → '***************0123' (last four kept)."""
    d = _digits(s)
    if len(d) <= 4:
        return "*" * len(d)
    return "*" * (len(d) - 4) + d[-4:]


def mask_name(name: str) -> str:
    """'张三' → '张*', '欧阳娜娜' → '欧***' (the first character kept; a single character is masked)."""
    n = name.strip()
    if len(n) <= 1:
        return "*" * len(n)
    return n[0] + "*" * (len(n) - 1)


def _name_pattern(names: Collection[str]) -> re.Pattern[str] | None:
    usable = sorted({n.strip() for n in names if len(n.strip()) >= 2 and "*" not in n}, key=lambda n: (-len(n), n))
    if not usable:
        return None
    return re.compile("|".join(re.escape(n) for n in usable))


def _mask_number(m: re.Match[str]) -> str:
    if m.group("id"):
        return mask_id_number(m.group("id"))
    if m.group("bank"):
        return mask_bank(m.group("bank"))
    return mask_phone(m.group("phone"))


def _mask_once(text: str, names: re.Pattern[str] | None) -> str:
    text = _NUMBER.sub(_mask_number, text)
    if names is not None:
        text = names.sub(lambda m: mask_name(m.group(0)), text)
    return text


def mask_text(text: str, names: Collection[str] = ()) -> str:
    """Mask every ID, mobile and bank number and every listed name (≥ 2 characters) in free text.

    Masking is repeated until nothing is left to mask (a masked name next to digits could otherwise
    complete a number), so ``find_leaks(mask_text(t, names), names)`` is always empty.
    """
    pattern = _name_pattern(names)
    # each pass that changes the text adds at least one '*' and never lengthens it, so this terminates.
    for _ in range(len(text) + 1):
        masked = _mask_once(text, pattern)
        if masked == text:
            return text
        text = masked
    return text


def find_leaks(text: str, names: Collection[str] = ()) -> list[str]:
    """Every unmasked ID, mobile, bank number or listed name (≥ 2 characters) in the text, in order."""
    found: list[tuple[int, str]] = [(m.start(), m.group(0)) for m in _NUMBER.finditer(text)]
    pattern = _name_pattern(names)
    if pattern is not None:
        found.extend((m.start(), m.group(0)) for m in pattern.finditer(text))
    return [s for _, s in sorted(found, key=lambda t: t[0])]
