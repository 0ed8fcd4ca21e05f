"""Privacy in public output (SPEC section 4): names of aid recipients, ID, phone and bank numbers are masked
in every notice, disclosure, public page and export meant for the notice board.

Matching happens on a *skeleton* of the text, so that other spellings cannot dodge it: every character is
put through NFKC (full-width digits and letters, NBSP and the ideographic space, compatibility ideographs),
any decimal digit becomes its ASCII digit, traditional characters become simplified (``t2s_chars.txt``),
and invisible characters are dropped (zero-width spaces and joiners, bidi controls, soft hyphens, variation
selectors, combining marks). Each skeleton character remembers the original character it came from, and a
match replaces exactly the original span it covers: the honest text around it is returned as it was.

Numbers (digit groups separated by up to three of: whitespace, hyphens and dashes, dots and middle dots,
slashes, underscores, brackets, ``+``; a concatenation of whole groups counts):
- an 18-character resident ID (17 digits + digit or X);
- a mainland mobile number 1[3-9] + 9 digits, also with the country code (+86, 0086);
- a landline with its area code: 10–12 digits from 0 (010-62345678), or +86 and 9–11 digits;
- a bank account number of 16–19 digits.
A number never starts or ends inside a date (2026-11-21, 2026.03.01) or an amount (12345.67), and never is
only dates and amounts, so ``2026-03-01 2026-11-30`` and ``1200.00 1300.00 元`` stay as they are; numbers
that start outside dates and amounts are found first. A digit run that continues without a separator is one
number (``2026112100001`` is not a phone number).
Listed names (two characters or more) are masked wherever they occur, also with spaces, zero-width
characters, middle dots or dashes between their characters, or in traditional characters.

Bidi controls (U+202A–U+202E, U+2066–U+2069, U+200E/U+200F, U+061C) are removed from every public text:
a right-to-left override could make a notice read differently from what was recorded.
"""
from __future__ import annotations

import re
import unicodedata
from collections.abc import Collection, Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

BIDI_CONTROLS = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
_STRIP_BIDI = {ord(c): None for c in BIDI_CONTROLS}
# Default-ignorable letters that render as nothing (Hangul fillers, Mongolian and Khmer invisible vowels).
_INVISIBLE_LETTERS = frozenset("\u115f\u1160\u17b4\u17b5\u3164\uffa0")


def strip_bidi(text: str) -> str:
    """The text without bidi control characters (they have no use in simplified Chinese and can spoof it)."""
    return text.translate(_STRIP_BIDI)


def has_bidi(text: str) -> bool:
    return any(c in BIDI_CONTROLS for c in text)


@lru_cache(maxsize=1)
def _t2s() -> dict[str, str]:
    table: dict[str, str] = {}
    path = Path(__file__).resolve().parent / "t2s_chars.txt"
    for line in path.read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            trad, simp = line.split("\t")
            table[trad] = simp
    return table


def _invisible(ch: str) -> bool:
    cat = unicodedata.category(ch)
    return cat in ("Cf", "Mn", "Me", "Cs", "Co", "Cn") or (cat == "Cc" and not ch.isspace()) \
        or ch in _INVISIBLE_LETTERS


@lru_cache(maxsize=65536)
def _fold_char(ch: str) -> str:
    """What one character becomes in the skeleton ('' when invisible; NFKC may give several)."""
    if _invisible(ch):
        return ""
    out = []
    for c in unicodedata.normalize("NFKC", ch):
        if _invisible(c):
            continue
        digit = unicodedata.decimal(c, None)
        if digit is not None:
            c = str(digit)
        elif c.isspace():
            c = " "
        else:
            c = _t2s().get(c, c)
            low = c.lower()
            c = low if len(low) == 1 else c
        out.append(c)
    return "".join(out)


def fold(text: str) -> str:
    """The skeleton of a text: what masking matches on (see the module docstring)."""
    return "".join(map(_fold_char, text))


def _skeleton(text: str) -> tuple[str, list[int]]:
    """(skeleton, origin): origin[k] is the index in ``text`` of the character skeleton[k] came from."""
    parts = list(map(_fold_char, text))
    skeleton = "".join(parts)
    if len(skeleton) == len(text) and all(len(p) == 1 for p in parts):
        return skeleton, list(range(len(text)))
    origin = [i for i, p in enumerate(parts) for _ in p]
    return skeleton, origin


# ------------------------------------------------------------------------------------------ numbers

_SEP_CHARS = " -‐‑‒–—―−~〜_.·・•‧∙⋅/\\()[]【】〔〕+|"
_CLOSER = {"(": ")", "（": "）", "[": "]", "【": "】", "〔": "〕"}
_GROUP = re.compile(r"[0-9]+(?:x(?![0-9a-z]))?")
_RUN = re.compile(rf"{_GROUP.pattern}(?:[{re.escape(_SEP_CHARS)}]{{1,3}}{_GROUP.pattern})*")
_GROUP_IN_RUN = re.compile(_GROUP.pattern)
_DATE_SEPS = frozenset("-./")
_ID = re.compile(r"[0-9]{17}[0-9x]")
_MOBILE = re.compile(r"(0086|86)?(1[3-9][0-9]{9})")
_BANK = re.compile(r"[0-9]{16,19}")
_LANDLINE = re.compile(r"0[1-9][0-9]{8,10}")
_COUNTRY = ("86", "0086")
_INTL_LANDLINE = re.compile(r"[1-9][0-9]{8,10}")
_MAX_DIGITS = 23


@dataclass(frozen=True)
class _Group:
    start: int
    end: int
    digits: str
    sep_before: str
    """The separator characters between the previous group of the run and this one ('' for the first)."""


@dataclass(frozen=True)
class _Found:
    start: int
    end: int
    """Skeleton span."""
    kind: str
    """``id`` | ``phone`` | ``landline`` | ``bank`` | ``name``."""
    value: str
    """The digits (or the folded name)."""


def _groups(run: re.Match[str]) -> list[_Group]:
    out: list[_Group] = []
    prev_end = run.start()
    for m in _GROUP_IN_RUN.finditer(run.string, run.start(), run.end()):
        out.append(_Group(m.start(), m.end(), m.group(0), run.string[prev_end:m.start()]))
        prev_end = m.end()
    return out


def _tokens(groups: list[_Group], after_colon: bool = False) -> list[int]:
    """For each group, the id of the date, time or amount token it belongs to (-1: none).

    ``after_colon``: the run follows a digit and a ':' — its first group is the seconds (or minutes) of a time, which may
    go on with a fraction and a zone offset (``08.381491+08`` of ``20:37:08.381491+08:00``)."""
    token = [-1] * len(groups)
    n = len(groups)
    if after_colon and n and len(groups[0].digits) <= 2 and groups[0].digits.isdigit():
        k = 1
        if k < n and groups[k].sep_before == "." and groups[k].digits.isdigit():
            k += 1
        if k < n and groups[k].sep_before in ("+", "-") and len(groups[k].digits) in (2, 4):
            k += 1
        token[:k] = [-2 - n] * k
    for k in range(n - 2):  # YYYY-MM-DD, YYYY.MM.DD, YYYY/MM/DD
        a, b, c = groups[k:k + 3]
        if token[k] == -1 and a.digits.isdigit() and len(a.digits) == 4 and 1900 <= int(a.digits) <= 2100 \
                and b.sep_before in _DATE_SEPS and c.sep_before == b.sep_before \
                and b.digits.isdigit() and len(b.digits) <= 2 and 1 <= int(b.digits) <= 12 \
                and c.digits.isdigit() and len(c.digits) <= 2 and 1 <= int(c.digits) <= 31:
            token[k] = token[k + 1] = token[k + 2] = k
    for k in range(n - 1):  # 12345.67, 0.5: one or two decimals, not part of a longer dotted number
        a, b = groups[k], groups[k + 1]
        if token[k] == -1 and token[k + 1] == -1 and b.sep_before == "." and len(b.digits) <= 2 \
                and (a.digits == "0" or not a.digits.startswith("0")) \
                and a.sep_before != "." and (k + 2 >= n or groups[k + 2].sep_before != "."):
            token[k] = token[k + 1] = n + k
    return token


def _classify(groups: list[_Group], i: int, j: int, digits: str) -> str | None:
    if "x" in digits:
        return "id" if _ID.fullmatch(digits) else None
    if _ID.fullmatch(digits):
        return "id"
    if _MOBILE.fullmatch(digits):
        return "phone"
    if _LANDLINE.fullmatch(digits):
        return "landline"
    first = groups[i].digits
    if i < j and first in _COUNTRY and _INTL_LANDLINE.fullmatch(digits[len(first):]):
        return "landline"
    if _BANK.fullmatch(digits):
        return "bank"
    return None


def _numbers(skeleton: str) -> Iterator[_Found]:
    for run in _RUN.finditer(skeleton):
        groups = _groups(run)
        # a time's seconds follow "HH:MM:" (a label's colon, as in "电话:13812345678", is not a time)
        at = run.start()
        token = _tokens(groups, at > 1 and skeleton[at - 1] == ":" and skeleton[at - 2].isdigit())
        n = len(groups)
        taken = [False] * n
        found: list[_Found] = []
        # First numbers that start outside dates and amounts (leftmost, longest); then numbers that start at
        # a date or an amount and go on past it (a phone number written as '1300000.00 00').
        starts = [i for i in range(n) if token[i] == -1]
        starts += [i for i in range(n) if token[i] != -1 and (i == 0 or token[i - 1] != token[i])]
        for i in starts:
            if taken[i]:
                continue
            best: tuple[int, str] | None = None
            digits = ""
            for j in range(i, n):
                if taken[j]:
                    break
                digits += groups[j].digits
                if len(digits) > _MAX_DIGITS:
                    break
                # a number never ends inside a date or an amount, nor is it only dates and amounts
                if token[j] != -1 and (token[i] != -1 or (j + 1 < n and token[j + 1] == token[j])):
                    continue
                kind = _classify(groups, i, j, digits)
                if kind is not None:
                    best = (j, kind)
            if best is not None:
                j, kind = best
                taken[i:j + 1] = [True] * (j + 1 - i)
                found.append(_Found(groups[i].start, groups[j].end, kind,
                                    "".join(g.digits for g in groups[i:j + 1])))
        yield from sorted(found, key=lambda f: f.start)


def _masked_digits(kind: str, digits: str) -> str:
    if kind == "id":
        return mask_id_number(digits)
    if kind == "bank":
        return mask_bank(digits)
    if kind == "landline":
        return mask_landline(digits)
    mobile = _MOBILE.fullmatch(digits)
    if mobile and mobile.group(1):
        return mobile.group(1) + mask_phone(mobile.group(2))
    return mask_phone(digits)


# ------------------------------------------------------------------------------------------- names

_GAP = r"[\s·・•‧∙⋅.\-‐‑‒–—―−_~〜/]{0,3}"
_GAP_CHARS = re.compile(_GAP.replace("{0,3}", "+"))


def _name_key(name: str) -> str:
    """A listed name as the skeleton spells it, without the separators a name may carry (阿依·买买提)."""
    return _GAP_CHARS.sub("", fold(name))


def _name_pattern(names: Collection[str]) -> re.Pattern[str] | None:
    keys = {_name_key(n) for n in names}
    usable = sorted((k for k in keys if len(k) >= 2 and "*" not in k), key=lambda k: (-len(k), k))
    if not usable:
        return None
    return re.compile("|".join(_GAP.join(re.escape(c) for c in k) for k in usable))


def _names(skeleton: str, pattern: re.Pattern[str]) -> Iterator[_Found]:
    for m in pattern.finditer(skeleton):
        yield _Found(m.start(), m.end(), "name", _GAP_CHARS.sub("", m.group(0)))


# ------------------------------------------------------------------------------------------ masking


def _digits(s: str) -> str:
    """The digits of a number as written (any digits → ASCII; a final X keeps its case)."""
    out = []
    for ch in s:
        f = _fold_char(ch)
        if f.isdigit():
            out.append(f)
        elif f == "x":
            out.append(ch if ch in "xX" else "X")
    return "".join(out)


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


def mask_landline(s: str) -> str:
    """'010-62345678' → '010****5678', '+86 10 62345678' → '8610****5678' (country and area code and the
    last four kept)."""
    d = _digits(s)
    # no area code starts 008, and a domestic number starts with 0: what else starts 0086 / 86 is international
    prefix = "0086" if d.startswith("0086") else "86" if d.startswith("86") else ""
    rest = d[len(prefix):]
    area = (2 if rest[:1] in ("1", "2") else 3) if prefix else (3 if rest[:2] in ("01", "02") else 4)
    if len(rest) <= area + 4:
        return prefix + "*" * len(rest)
    return prefix + rest[:area] + "*" * (len(rest) - area - 4) + rest[-4:]


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


def _find(text: str, pattern: re.Pattern[str] | None) -> tuple[str, list[int], list[_Found]]:
    skeleton, origin = _skeleton(text)
    found = list(_numbers(skeleton))
    if pattern is not None:
        taken = [(f.start, f.end) for f in found]
        found += [f for f in _names(skeleton, pattern) if all(f.end <= a or f.start >= b for a, b in taken)]
    found.sort(key=lambda f: f.start)
    return skeleton, origin, found


def _span(origin: list[int], f: _Found) -> tuple[int, int]:
    return origin[f.start], origin[f.end - 1] + 1


def _replacement(text: str, skeleton: str, origin: list[int], f: _Found) -> str:
    if f.kind != "name":
        masked = _masked_digits(f.kind, f.value)
        if masked.endswith("x"):  # an ID's final X as it was written
            last = text[origin[f.end - 1]]
            masked = masked[:-1] + (last if last in "xX" else "X")
        return masked
    first = text[origin[f.start]]
    # the original character, unless it is not exactly what matched (a ligature, a traditional character is fine)
    if _fold_char(first) != skeleton[f.start]:
        first = skeleton[f.start]
    return first + "*" * (len(f.value) - 1)


def _mask_once(text: str, pattern: re.Pattern[str] | None) -> str:
    skeleton, origin, found = _find(text, pattern)
    if not found:
        return text
    out, at = [], 0
    for f in found:
        start, end = _span(origin, f)
        if start < at:
            continue
        # '(010)6234 5678': the bracket opened before the number and closed inside it goes with it
        if start > at and text[start - 1] in _CLOSER and _CLOSER[text[start - 1]] in text[start:end]:
            start -= 1
        out.append(text[at:start])
        out.append(_replacement(text, skeleton, origin, f))
        at = end
    out.append(text[at:])
    return "".join(out)


def mask_text(text: str, names: Collection[str] = ()) -> str:
    """The one filter of public text: bidi controls removed, every ID, mobile, landline and bank number and
    every listed name (≥ 2 characters) masked, however it is spelled (see the module docstring).

    Masking is repeated until nothing is left to mask (a masked name next to digits could otherwise
    complete a number), so ``find_leaks(mask_text(t, names), names)`` is always empty.
    """
    text = strip_bidi(text)
    pattern = _name_pattern(names)
    # each pass that changes the text turns at least one digit or name character of the skeleton into '*'
    for _ in range(len(text) + 1):
        masked = _mask_once(text, pattern)
        if masked == text:
            return text
        text = masked
    return text


def find_leaks(text: str, names: Collection[str] = ()) -> list[str]:
    """Every unmasked ID, phone, landline, bank number or listed name (≥ 2 characters), as written in the
    text, in order; a bidi control character counts as a leak too."""
    _skel, origin, found = _find(text, _name_pattern(names))
    leaks = [(origin[f.start], text[slice(*_span(origin, f))]) for f in found]
    leaks += [(i, c) for i, c in enumerate(text) if c in BIDI_CONTROLS]
    return [s for _, s in sorted(leaks, key=lambda t: t[0])]
