"""Race-free numbering and check-then-insert: named counters drawn with one upsert, named locks.

**Counters**: one row per named counter, drawn with a single upsert.

On PostgreSQL ``INSERT … ON CONFLICT DO UPDATE … RETURNING`` takes the counter's row lock, so a concurrent
transaction drawing from the same counter waits for this one to end and then draws the next number; on
SQLite the write transaction already serialises. The lock is held until the caller's transaction ends: draw
late, just before the row that uses the number is written.

**Named locks** (:func:`lock_name`): a check that a row does not exist yet, followed by its insert, is safe
against a concurrent request doing the same when both first take the same named lock (PostgreSQL: a
transaction advisory lock; SQLite: the write transaction is already exclusive).
"""
from __future__ import annotations

import hashlib
from typing import Any

from sqlalchemy import ColumnElement, func, literal, select
from sqlalchemy.orm import Session

from store.models import Counter


def next_value(session: Session, name: str, first: int | ColumnElement[Any] = 1) -> int:
    """The next number of counter ``name``: ``first`` when the counter is new (a value or a scalar subquery,
    e.g. how many rows were numbered before the counter existed, plus one), else the last number plus one."""
    from sqlalchemy.dialects import postgresql, sqlite

    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    start = literal(first) if isinstance(first, int) else first
    stmt = (dialect.insert(Counter).values(name=name, value=start)
            .on_conflict_do_update(index_elements=[Counter.name], set_={"value": Counter.value + 1})
            .returning(Counter.value))
    return int(session.execute(stmt).scalar_one())


def lock_name(session: Session, *names: str) -> None:
    """Hold the named locks until the session's transaction ends, taken in the order given (take several
    always in the same order); nothing to do on SQLite, whose write transactions are exclusive."""
    if session.get_bind().dialect.name != "postgresql":
        return
    for name in names:
        key = int.from_bytes(hashlib.sha256(name.encode("utf-8")).digest()[:8], "big", signed=True)
        session.execute(select(func.pg_advisory_xact_lock(key)))
