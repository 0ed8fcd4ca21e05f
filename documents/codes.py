"""Verification codes: a short code derived from the sha256 of a document's canonical data.

A document cannot contain its own hash, so the code is computed from the data it is drawn from
(its kind, the layout version and every field, in a canonical JSON form), not from the PDF: the
same data always gives the same code, any change to the data gives another one. 60 bits of the
digest in Crockford's base32 (no I, L, O, U), printed in three groups: ``K7QF-2M9C-XR4D``.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
from typing import Any

#: part of every code: a new layout of the same data is a new document
LAYOUT_VERSION = 1
ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
CODE_CHARS = 12
_READ_AS = {"I": "1", "L": "1", "O": "0", "U": "V"}


def _plain(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            raise ValueError("documents take timezone-aware instants")
        return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    return value


def canonical(doc: Any) -> bytes:
    """The document's data as canonical JSON (sorted keys, UTC instants), with its kind and layout."""
    body = {"kind": doc.kind, "layout": LAYOUT_VERSION, "data": _plain(doc)}
    return json.dumps(body, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode("utf-8")


def data_sha256(doc: Any) -> str:
    return hashlib.sha256(canonical(doc)).hexdigest()


def code_of_digest(digest: str) -> str:
    """The first 60 bits of a hex sha256 as 12 base32 characters (no dashes)."""
    bits = int(digest[:15], 16)
    return "".join(ALPHABET[(bits >> shift) & 31] for shift in range(55, -1, -5))


def document_code(doc: Any) -> str:
    return code_of_digest(data_sha256(doc))


def display(code: str) -> str:
    """'K7QF2M9CXR4D' → 'K7QF-2M9C-XR4D'."""
    return "-".join(code[i:i + 4] for i in range(0, len(code), 4))


def normalise(text: str) -> str | None:
    """A code as a person types it (lower case, dashes, spaces, O for 0, I or L for 1) → the stored
    form, or None when it cannot be a code."""
    cleaned = "".join(ch for ch in text.upper() if ch not in "- \u3000")
    cleaned = "".join(_READ_AS.get(ch, ch) for ch in cleaned)
    if len(cleaned) != CODE_CHARS or any(ch not in ALPHABET for ch in cleaned):
        return None
    return cleaned
