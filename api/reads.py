"""How the API reads: read-only sessions, the cache of project details, and what a write touched.

The cache rests on one rule of the store: every change to a project appends an audit event, which
advances the project's version. So what was read at (project, version) stays true at that version,
and after this process's own event took a project from version v to v + 1, the parts read at v from
tables that event did not write are still true at v + 1 (:meth:`ReadCache.carry`).
"""
from __future__ import annotations

import re
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar
from weakref import WeakKeyDictionary, WeakSet

from sqlalchemy import CompoundSelect, Engine, Select, event
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.sql.dml import Delete, UpdateBase

from store.db import Database

T = TypeVar("T")
_READERS: WeakKeyDictionary[Database, sessionmaker[Session]] = WeakKeyDictionary()


@contextmanager
def reading(db: Database) -> Iterator[Session]:
    """A read-only session (one per request or use case).

    On PostgreSQL it runs in autocommit: each statement sees what was committed when it started, exactly
    as inside the READ COMMITTED transaction it replaces, without the BEGIN and ROLLBACK round trips; and
    closing it does no I/O (the event loop may close it). Not for streamed results (``yield_per``): a
    server-side cursor needs a transaction. Elsewhere it is the store's read unit of work.
    """
    if not db.is_postgres:
        with db.uow(write=False) as uow:
            yield uow.session
        return
    factory = _READERS.get(db)
    if factory is None:
        factory = _READERS[db] = sessionmaker(db.engine.execution_options(isolation_level="AUTOCOMMIT"),
                                              expire_on_commit=False)
    with factory() as session:
        yield session


def read_retrying(db: Database, read: Callable[..., T], *args: Any) -> T:
    """``read(session, *args)`` in a read session, and once more on a new connection when the pooled one was
    found dead (a database restart, a killed backend: SQLAlchemy then renews the whole pool). Reads only:
    doing them twice changes nothing."""
    for attempt in (1, 2):
        try:
            with reading(db) as session:
                return read(session, *args)
        except DBAPIError as exc:
            if attempt == 2 or not exc.connection_invalidated:
                raise
    raise AssertionError("unreachable")


# ------------------------------------------------------------------------------- the cache

#: the parts of a project's detail read from other tables than ``projects``, and those tables; what
#: comes from ``projects`` (always written by an event) is read again after every event
PART_TABLES: dict[str, frozenset[str]] = {
    "need_ids": frozenset({"project_needs"}),
    "line_items": frozenset({"line_items"}),
    "payment_items": frozenset({"payment_items", "signatures", "voucher_evidence", "people"}),
    "approvals": frozenset({"approvals", "people"}),
    "signoffs": frozenset({"signoffs", "people"}),
    "concerns": frozenset({"concerns"}),
    "objections": frozenset({"objections"}),
}


class ReadCache:
    """Per-process cache of project details: the parts that change only with the version.

    Entries are keyed by (project id, version), so none is ever stale. Deadlines (the sweep may close
    one without an event) and the caller's allowed events are not cached.
    """

    def __init__(self, size: int = 4096) -> None:
        self._size = size
        self._data: OrderedDict[tuple[int, int], dict[str, Any]] = OrderedDict()
        self._carried: OrderedDict[tuple[int, int], dict[str, Any]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple[int, int]) -> dict[str, Any] | None:
        with self._lock:
            value = self._data.get(key)
            if value is not None:
                self._data.move_to_end(key)
            return value

    def put(self, key: tuple[int, int], value: dict[str, Any]) -> None:
        self._put(self._data, key, value)

    def carry(self, pid: int, version: int, written: set[str]) -> None:
        """This process's event took ``pid`` to ``version`` and wrote the tables ``written``: keep the
        parts cached at ``version - 1`` that the event did not touch, for the first read at ``version``."""
        before = self.get((pid, version - 1))
        if before is None or "*" in written:
            return
        kept = {part: before[part] for part, tables in PART_TABLES.items() if not tables & written}
        # what the kept parts were read with (see api.queries._project_static)
        kept["state"], kept["approval_round"] = before["state"], before["approval_round"]
        self._put(self._carried, (pid, version), kept)

    def carried(self, key: tuple[int, int]) -> dict[str, Any] | None:
        with self._lock:
            return self._carried.pop(key, None)

    def _put(self, data: OrderedDict[tuple[int, int], dict[str, Any]], key: tuple[int, int],
             value: dict[str, Any]) -> None:
        with self._lock:
            data[key] = value
            data.move_to_end(key)
            while len(data) > self._size:
                data.popitem(last=False)


# ------------------------------------------------------------------- what a write touched

_WRITES = threading.local()
_TRACKED: WeakSet[Engine] = WeakSet()
_TRACKED_LOCK = threading.Lock()
# SQL text that writes no table of this database
_NOT_WRITING = re.compile(r"\s*(SELECT|BEGIN|COMMIT|ROLLBACK|SAVEPOINT|RELEASE)\b", re.IGNORECASE)


@contextmanager
def tracking_writes(db: Database) -> Iterator[set[str]]:
    """The names of the tables written by the statements this thread runs inside the block.

    ``"*"`` stands for unknown: a DELETE (its cascades), or SQL text other than a SELECT or transaction
    control. Every INSERT and UPDATE, also inside a CTE, names its table.
    """
    engine = db.engine
    if engine not in _TRACKED:
        with _TRACKED_LOCK:
            if engine not in _TRACKED:
                event.listen(engine, "before_cursor_execute", _record_write)
                _TRACKED.add(engine)
    written: set[str] = set()
    _WRITES.tables = written
    try:
        yield written
    finally:
        _WRITES.tables = None


def _record_write(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool) -> None:
    written: set[str] | None = getattr(_WRITES, "tables", None)
    if written is None:
        return
    compiled = getattr(context, "compiled", None)
    stmt = getattr(compiled, "statement", None)
    if not isinstance(stmt, Select | CompoundSelect | UpdateBase):  # text(), TextualSelect, DDL, …
        if not _NOT_WRITING.match(statement):
            written.add("*")
        return
    for target in (stmt, *(cte.element for cte in (getattr(compiled, "ctes", None) or ()))):
        if isinstance(target, Delete):
            written.add("*")
        elif isinstance(target, UpdateBase):
            name = getattr(target.table, "name", None)
            written.add(name if isinstance(name, str) else "*")
