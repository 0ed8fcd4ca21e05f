"""The field types every request body and event payload is built from: what a caller may send as text,
an id, a count, a date or an amount, defined once.

* **Text** refuses control characters (NUL, ESC, DEL, the C1 range) and lone surrogates wherever it comes
  from; single-line text also refuses tab and line breaks, multi-line text keeps tab and line breaks and
  stores them as ``\\n``. The OpenAPI schema says the same with a ``pattern``. Bidi controls (U+202E …,
  issue 12 point 8) are stripped from free text and names (the invisible override carries nothing, and
  refusing a resident's objection for it would be hostile) and refused in codes that must match exactly
  (``CodeText``: an invoice number, a bank account, an idempotency key), so that no two differently spelled
  copies of one number can exist.
* **Integers** are bounded (ids by 2^53, within every database's 64-bit range); a JSON number with no
  fraction (``3.0``) is the integer it equals, as JSON Schema defines it; ``true`` and ``"3"`` are refused.
* **Dates** are ISO strings ``YYYY-MM-DD`` between 2000 and 2100 (or ``datetime.date`` from Python), never
  numbers.
* **Amounts** are yuan strings (``rules.money``), with the pattern in the schema.
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BeforeValidator,
    Field,
    GetCoreSchemaHandler,
    GetJsonSchemaHandler,
    StringConstraints,
)
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema, PydanticCustomError, core_schema

from rules.money import check_yuan
from rules.privacy import has_bidi, strip_bidi
from rules.text import LINE_PATTERN, MULTILINE_PATTERN, refuse_controls

# ------------------------------------------------------------------------------------------ text


def _line(value: Any) -> Any:
    return refuse_controls(value) if isinstance(value, str) else value


def _multiline(value: Any) -> Any:
    return refuse_controls(value, multiline=True) if isinstance(value, str) else value


def _newlines(value: str) -> str:
    return value.replace("\r\n", "\n").replace("\r", "\n")


def _strip_bidi(value: Any) -> Any:
    return strip_bidi(value) if isinstance(value, str) else value


def _refuse_bidi(value: str) -> str:
    if has_bidi(value):
        raise ValueError("不得包含双向文字控制字符(如 U+202E),请按所见重新输入")
    return value


Clean = BeforeValidator(_strip_bidi)
"""Strips bidi controls from free text and names (before the length and whitespace checks)."""
Exact = AfterValidator(_refuse_bidi)
"""Refuses bidi controls in codes that must match exactly."""


@dataclass(frozen=True)
class _SchemaPattern:
    """Adds ``pattern`` to a string's JSON schema (unless the field has a stricter one of its own)."""

    pattern: str

    def __get_pydantic_json_schema__(self, core_schema: CoreSchema, handler: GetJsonSchemaHandler) -> JsonSchemaValue:
        schema = handler(core_schema)
        schema.setdefault("pattern", self.pattern)
        return schema


@dataclass(frozen=True)
class Length:
    """Bounds of a text: at most ``max`` characters as sent (what the schema's ``maxLength`` says), and at
    least ``min`` once the surrounding blanks are stripped (``"  "`` is not a title)."""

    max: int
    min: int = 0

    def __get_pydantic_core_schema__(self, source: Any, handler: GetCoreSchemaHandler) -> CoreSchema:
        return core_schema.no_info_after_validator_function(
            self._after, core_schema.no_info_before_validator_function(self._before, handler(source)))

    def __get_pydantic_json_schema__(self, schema: CoreSchema, handler: GetJsonSchemaHandler) -> JsonSchemaValue:
        out = handler(schema)
        out["maxLength"] = self.max
        if self.min:
            out["minLength"] = self.min
        return out

    def _before(self, value: Any) -> Any:
        if isinstance(value, str) and len(value) > self.max:
            raise PydanticCustomError("string_too_long", "String should have at most {max_length} characters",
                                      {"max_length": self.max})
        return value

    def _after(self, value: Any) -> Any:
        if isinstance(value, str) and len(value) < self.min:
            raise PydanticCustomError("string_too_short", "String should have at least {min_length} characters",
                                      {"min_length": self.min})
        return value


LineText = Annotated[str, StringConstraints(strict=True, strip_whitespace=True), BeforeValidator(_line), Clean,
                     _SchemaPattern(LINE_PATTERN)]
"""Single-line text: no control characters at all (not even tab or a line break); bound it with
``Annotated[LineText, Length(max, min)]``."""
MultilineText = Annotated[str, StringConstraints(strict=True, strip_whitespace=True), AfterValidator(_newlines),
                          BeforeValidator(_multiline), Clean, _SchemaPattern(MULTILINE_PATTERN)]
"""Multi-line text: tab and line breaks allowed (``\\r\\n`` and ``\\r`` stored as ``\\n``), no other control."""
CodeText = Annotated[str, StringConstraints(strict=True, strip_whitespace=True), Exact, BeforeValidator(_line),
                     _SchemaPattern(LINE_PATTERN)]
"""A code that must match exactly (invoice number, bank account, idempotency key): single-line, and bidi
controls refused rather than stripped."""
SecretText = Annotated[str, StringConstraints(strict=True), BeforeValidator(_line), _SchemaPattern(LINE_PATTERN)]
"""A password: single-line, kept exactly as typed (not stripped)."""


# -------------------------------------------------------------------------------------- integers

MAX_ID = 2**53
"""Ids are bounded by 2^53: exact in every JSON client, far inside the databases' 64-bit keys."""


def _integral(value: Any) -> Any:
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


@dataclass(frozen=True)
class Range:
    """Bounds of an integer, inclusive (``minimum`` / ``maximum`` in the schema)."""

    ge: int
    le: int

    def __get_pydantic_core_schema__(self, source: Any, handler: GetCoreSchemaHandler) -> CoreSchema:
        return core_schema.no_info_after_validator_function(self._check, handler(source))

    def __get_pydantic_json_schema__(self, schema: CoreSchema, handler: GetJsonSchemaHandler) -> JsonSchemaValue:
        out = handler(schema)
        out.update(minimum=self.ge, maximum=self.le)
        return out

    def _check(self, value: int) -> int:
        if value < self.ge:
            raise PydanticCustomError("greater_than_equal", "Input should be greater than or equal to {ge}",
                                      {"ge": self.ge})
        if value > self.le:
            raise PydanticCustomError("less_than_equal", "Input should be less than or equal to {le}",
                                      {"le": self.le})
        return value


StrictInt = Annotated[int, Field(strict=True), BeforeValidator(_integral)]
"""An integer: ``3`` and ``3.0`` (JSON Schema's integer), not ``3.5``, ``true`` or ``"3"``; bound it with
``Annotated[StrictInt, Range(ge, le)]``."""
Id = Annotated[StrictInt, Range(1, MAX_ID)]
Year = Annotated[StrictInt, Range(2000, 2100)]


# ----------------------------------------------------------------------------------------- dates

MIN_DATE, MAX_DATE = dt.date(2000, 1, 1), dt.date(2100, 12, 31)
DATE_PATTERN = r"^(20[0-9]{2}|2100)-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$"
_DATE = re.compile(DATE_PATTERN)


def _iso_date(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        raise ValueError("须为日期 YYYY-MM-DD,不带时刻")
    if isinstance(value, dt.date):
        day = value
    elif isinstance(value, str) and _DATE.fullmatch(value):
        try:
            day = dt.date.fromisoformat(value)
        except ValueError:
            raise ValueError(f"{value} 不是日历上的日期") from None
    else:
        raise ValueError("须为日期字符串 YYYY-MM-DD(2000 至 2100 年)")
    if not MIN_DATE <= day <= MAX_DATE:
        raise ValueError("日期须在 2000-01-01 至 2100-12-31 之间")
    return day


Date = Annotated[dt.date, BeforeValidator(_iso_date), _SchemaPattern(DATE_PATTERN)]
"""A calendar date as an ISO string (``"2026-03-01"``), 2000–2100; numbers are refused."""

# ---------------------------------------------------------------------------------------- money

YUAN_PATTERN = r"^(0|[1-9][0-9]{0,11})(\.[0-9]{1,2})?$"
Yuan = Annotated[str, StringConstraints(strict=True, max_length=16, pattern=YUAN_PATTERN),
                 AfterValidator(check_yuan),
                 Field(description="金额(元),字符串,最多两位小数", examples=["12000.00"])]
