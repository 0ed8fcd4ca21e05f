"""Engines, sessions, the unit of work and migrations.

SQLite is the embedded default (``./var/fundflow.db``); PostgreSQL is the production path. A write
unit of work on SQLite starts with ``BEGIN IMMEDIATE`` so that two writers serialise at the start
instead of failing at commit; on PostgreSQL the engine locks the rows it changes (``FOR UPDATE``).
"""
from __future__ import annotations

import os
import threading
from pathlib import Path
from types import TracebackType
from typing import Any

from sqlalchemy import Engine, create_engine, event, inspect
from sqlalchemy.orm import Session, sessionmaker

DEFAULT_URL = "sqlite:///./var/fundflow.db"
_HERE = Path(__file__).resolve().parent


def database_url() -> str:
    return os.environ.get("DATABASE_URL") or DEFAULT_URL


def normalise_url(url: str) -> str:
    """Accept plain ``postgresql://`` URLs and drive them with psycopg 3."""
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        url = "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


def make_engine(url: str | None = None, **kwargs: Any) -> Engine:
    url = normalise_url(url or database_url())
    if url.startswith("sqlite"):
        path = url.split("///", 1)[1] if "///" in url else ""
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 60}, **kwargs)
        _configure_sqlite(engine)
        return engine
    kwargs.setdefault("pool_size", 10)
    kwargs.setdefault("max_overflow", 20)
    # No ping before every checkout (a round trip per action): a connection that died with a server
    # restart fails its action cleanly, the pool is invalidated, and the action is retried once
    # (workflow.services.fire_event).
    kwargs.setdefault("pool_pre_ping", False)
    kwargs.setdefault("pool_recycle", 1800)
    connect_args = dict(kwargs.pop("connect_args", {}))
    connect_args.setdefault("cursor_factory", _described_cursor())
    return create_engine(url, connect_args=connect_args, **kwargs)


_DESCRIPTIONS: dict[tuple[tuple[bytes | None, int, int, int], ...], list[Any]] = {}


def _described_cursor() -> type:
    """A psycopg cursor that reuses ``description`` for result shapes it has seen.

    SQLAlchemy reads ``cursor.description`` after every statement and psycopg builds a new ``Column``
    object per column each time: for the ~40 columns of a locked project that was ~10 % of the client
    CPU of a transition (bench/engine.py). A ``Column`` depends only on the field's name, type oid,
    modifier and size (and the connection's encoding and type registry, the same on every connection
    here), so the list is kept per distinct tuple of those.
    """
    import psycopg

    class DescribedCursor(psycopg.Cursor[Any]):
        __slots__ = ()

        @property
        def description(self) -> list[psycopg.Column] | None:
            res = self.pgresult
            if res is None or not res.nfields:
                return super().description
            key = tuple((res.fname(i), res.ftype(i), res.fmod(i), res.fsize(i)) for i in range(res.nfields))
            cols = _DESCRIPTIONS.get(key)
            if cols is None:
                cols = super().description or []
                if len(_DESCRIPTIONS) >= 4096:
                    _DESCRIPTIONS.clear()
                _DESCRIPTIONS[key] = cols
            return list(cols)

    return DescribedCursor


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _rec: Any) -> None:
        # Let SQLAlchemy's begin event issue BEGIN itself (pysqlite's own handling is broken).
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA busy_timeout=60000")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        if conn.get_execution_options().get("fundflow_write"):
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            conn.exec_driver_sql("BEGIN")


def violated_index(exc: Exception) -> str | None:
    """The name of the unique index (or constraint) an ``IntegrityError`` reports, on either database.

    PostgreSQL names it; SQLite names the columns ("UNIQUE constraint failed: t.a, t.b"), which are looked
    up among the indexes of ``store.models``."""
    orig = getattr(exc, "orig", None)
    diag = getattr(orig, "diag", None)
    name = getattr(diag, "constraint_name", None)
    if name:
        return str(name)
    text = str(orig or exc)
    marker = "UNIQUE constraint failed: "
    if marker not in text:
        return None
    cols = [c.strip() for c in text.split(marker, 1)[1].split(",")]
    from store.models import Base

    for table in Base.metadata.tables.values():
        for index in table.indexes:
            if index.unique and [f"{table.name}.{c.name}" for c in index.columns] == cols:
                return str(index.name)
    return None


def is_postgres(engine_or_session: Engine | Session) -> bool:
    bind = engine_or_session.get_bind() if isinstance(engine_or_session, Session) else engine_or_session
    return bind.dialect.name == "postgresql"


_SQLITE_WRITERS: dict[str, threading.Lock] = {}
_SQLITE_WRITERS_GUARD = threading.Lock()


def _writer_lock(url: str) -> threading.Lock:
    """One write lock per SQLite file in this process: threads queue here instead of polling SQLite's
    busy handler (which sleeps up to 100 ms between tries). Other processes still meet BEGIN IMMEDIATE."""
    with _SQLITE_WRITERS_GUARD:
        lock = _SQLITE_WRITERS.get(url)
        if lock is None:
            lock = _SQLITE_WRITERS[url] = threading.Lock()
        return lock


class UnitOfWork:
    """One action, one transaction: rolls back unless ``commit()`` was called.

    >>> with UnitOfWork(sm) as uow:
    ...     do_things(uow.session)
    ...     uow.commit()
    """

    def __init__(self, factory: sessionmaker[Session], write: bool = True) -> None:
        self._factory = factory
        self._write = write
        self._lock: threading.Lock | None = None
        self.session: Session

    def __enter__(self) -> UnitOfWork:
        self.session = self._factory()
        bind = self.session.get_bind()
        if self._write and bind.dialect.name == "sqlite":
            self._lock = _writer_lock(str(bind.engine.url))
            self._lock.acquire()
            try:
                # Procure the connection now so that SQLite takes the write lock first thing.
                self.session.connection(execution_options={"fundflow_write": True})
            except BaseException:
                self._lock.release()
                self._lock = None
                self.session.close()
                raise
        return self

    def commit(self) -> None:
        self.session.commit()

    def rollback(self) -> None:
        self.session.rollback()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        # close() rolls back whatever was not committed, and (unlike rollback()) leaves the objects
        # already loaded readable after the unit of work ends
        try:
            self.session.close()
        finally:
            if self._lock is not None:
                self._lock.release()
                self._lock = None


_ANALYSIS_LIMIT = 1000


class Database:
    """An engine and its session factory; what the CLI, API, scheduler and tests hold."""

    def __init__(self, url: str | None = None, **engine_kwargs: Any) -> None:
        self.url = normalise_url(url or database_url())
        self.engine = make_engine(self.url, **engine_kwargs)
        self.sessionmaker = sessionmaker(self.engine, expire_on_commit=False)

    def uow(self, write: bool = True) -> UnitOfWork:
        return UnitOfWork(self.sessionmaker, write=write)

    @property
    def is_postgres(self) -> bool:
        return self.engine.dialect.name == "postgresql"

    def upgrade(self) -> None:
        upgrade(self.engine)

    def refresh_statistics(self) -> None:
        """Keep the query planner's statistics current (run at start and after large loads).

        SQLite has none until ``ANALYZE`` runs, and ``PRAGMA optimize`` (before SQLite 3.46) only looks at
        tables the same connection has queried, so neither starting nor a bulk load updates them. A sampled
        ``ANALYZE`` (``analysis_limit``: ~1,000 rows per index) costs milliseconds at any size. The plans
        the engine depends on do not need it (every term of them is an equality on one index); the other
        readers get better plans. PostgreSQL's autovacuum analyses on its own.
        """
        if self.is_postgres:
            return
        with self.engine.begin() as conn:
            conn.exec_driver_sql(f"PRAGMA analysis_limit={_ANALYSIS_LIMIT}")
            conn.exec_driver_sql("ANALYZE")

    def dispose(self) -> None:
        self.engine.dispose()


def alembic_config(engine: Engine | None = None) -> Any:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(_HERE / "migrations"))
    if engine is not None:
        cfg.attributes["engine"] = engine
    return cfg


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Apply every Alembic migration (idempotent); run at start and by ``fundflow db upgrade``."""
    from alembic import command

    with engine.begin() as conn:
        cfg = alembic_config()
        cfg.attributes["connection"] = conn
        if engine.dialect.name == "postgresql":
            # Two processes starting at once must not both create the tables.
            conn.exec_driver_sql("SELECT pg_advisory_xact_lock(7234001)")
        command.upgrade(cfg, revision)


def has_schema(engine: Engine) -> bool:
    return inspect(engine).has_table("projects")
