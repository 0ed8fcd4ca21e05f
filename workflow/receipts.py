"""Residents' receipts: a random code per objection and per need posted on the public form, the resident's
key to follow it (and to accept the committee's answer to an objection) without an account.

Ten characters from an alphabet without look-alikes (no 0/O, no 1/I/L): 31^10 ≈ 8×10^14 codes, so a
code cannot be guessed, and one read over the telephone is read right. Codes are unique across objections
and needs (database constraints, and :func:`new_code` checks both kinds), compared without regard to case,
spaces or dashes.
"""
from __future__ import annotations

import secrets
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from store.models import Need

ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
LENGTH = 10


def normalise(code: str) -> str:
    """The code as stored: upper case, without spaces or dashes (what a resident may type around it)."""
    return "".join(ch for ch in code.upper() if ch not in " -\t")


def well_formed(code: str) -> bool:
    return len(code) == LENGTH and all(ch in ALPHABET for ch in code)


def _columns() -> list[Any]:
    columns: list[Any] = [Need.receipt_code]
    from store import models

    objection = getattr(models.Objection, "receipt_code", None)
    if objection is not None:
        columns.append(objection)
    return columns


def new_code(session: Session) -> str:
    """A code no objection and no need has yet (the unique constraints are the last word; a clash is ~never
    drawn)."""
    while True:
        code = "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))
        if all(session.execute(select(column).where(column == code)).first() is None for column in _columns()):
            return code


def status_of(answer: str, resolution: str) -> str:
    """Where an objection stands (issue 11): ``received`` → ``answered`` → ``confirmed`` (by a supervisor) or
    ``accepted`` (by the resident); ``resolved`` for one settled before that rule, by the committee's answer
    alone."""
    if resolution in ("confirmed", "accepted"):
        return resolution
    if resolution == "legacy":
        return "resolved"
    return "answered" if answer else "received"


STATUS_LABELS = {"received": "已收到,待答复", "answered": "已答复,待监督委员会确认或您接受",
                 "confirmed": "答复已经议事监督委员会确认", "accepted": "您已接受答复", "resolved": "已处理"}
