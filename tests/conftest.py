"""Test harness: every database test runs on SQLite and on PostgreSQL.

Each backend gets one migrated database per session (calendar seeded once); every test starts from
empty tables (the calendar's official years kept). PostgreSQL comes from ``TEST_DATABASE_URL``
(default the local server); under ``CI=true`` an unreachable PostgreSQL fails the run instead of
skipping. The summary says how many tests ran against each database.
"""
from __future__ import annotations

import os
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import settings
from sqlalchemy import text
from sqlalchemy.engine import make_url

from store.db import Database
from store.models import Base

# Hypothesis' 200 ms per-example deadline is a timed test: on a loaded machine (CI, or this one at load 10+)
# a correct example overruns it and fails as "DeadlineExceeded"/"Flaky". Speed is shown by bench/, not here.
settings.register_profile("fundflow", deadline=None)
settings.load_profile("fundflow")

PG_URL = os.environ.get("TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
BACKENDS = ["sqlite", "postgresql"]
KEEP = {"calendar_days", "calendar_years", "alembic_version"}

_pg_error: str | None = None
_counts: dict[str, Counter[str]] = {b: Counter() for b in BACKENDS}


def _pg_admin_url() -> str:
    return str(make_url(PG_URL).set(drivername="postgresql"))


def pg_reachable() -> str | None:
    import psycopg

    try:
        psycopg.connect(_pg_admin_url(), connect_timeout=3).close()
    except Exception as exc:  # noqa: BLE001 - any failure means unreachable
        return str(exc).strip() or type(exc).__name__
    return None


def pytest_sessionstart(session: pytest.Session) -> None:
    global _pg_error
    _pg_error = pg_reachable()
    if _pg_error and IN_CI:
        pytest.exit(f"CI=true but PostgreSQL at {PG_URL} is unreachable: {_pg_error}", returncode=1)


def _fresh_pg_database(name: str) -> str:
    import psycopg

    with psycopg.connect(_pg_admin_url(), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    return str(make_url(PG_URL).set(drivername="postgresql+psycopg", database=name))


def drop_pg_database(url: str) -> None:
    import psycopg

    name = make_url(url).database
    with psycopg.connect(_pg_admin_url(), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def new_database_url(backend: str, tmp: Path) -> str:
    """A brand-new empty database of the backend (for tests that need their own, e.g. subprocesses)."""
    if backend == "sqlite":
        return f"sqlite:///{tmp / f'ff-{uuid.uuid4().hex[:8]}.db'}"
    if _pg_error:
        pytest.skip(f"PostgreSQL unreachable: {_pg_error}")
    return _fresh_pg_database(f"fundflow_t_{uuid.uuid4().hex[:10]}")


@pytest.fixture(scope="session")
def _databases(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Database]]:

    made: dict[str, Database] = {}
    yield made
    for backend, database in made.items():
        database.dispose()
        if backend == "postgresql":
            drop_pg_database(database.url)


def _database(backend: str, made: dict[str, Database], tmp: Path) -> Database:
    from store.bootstrap import prepare

    if backend not in made:
        if backend == "postgresql":
            if _pg_error:
                pytest.skip(f"PostgreSQL unreachable: {_pg_error}")
            url = _fresh_pg_database(f"fundflow_test_{os.getpid()}")
        else:
            url = f"sqlite:///{tmp / 'fundflow-test.db'}"
        database = Database(url)
        prepare(database)
        made[backend] = database
    return made[backend]


def reset(database: Database) -> None:
    """Empty every table but the seeded calendar; forget process caches keyed by ids."""
    from store import calendar as store_calendar
    from workflow import clock, engine

    tables = [t.name for t in reversed(Base.metadata.sorted_tables) if t.name not in KEEP]
    with database.engine.begin() as conn:
        # DELETE beats TRUNCATE on tables this small (TRUNCATE rewrites every file); ids keep counting
        for name in tables:
            conn.execute(text(f"DELETE FROM {name}"))
        # years imported by a test are not part of the seed
        conn.execute(text("DELETE FROM calendar_days WHERE day >= '2027-01-01'"))
        conn.execute(text("DELETE FROM calendar_years WHERE year >= 2027"))
    engine._POLICY_CACHE.clear()
    store_calendar.invalidate_cache()
    clock.reset_clock()


@pytest.fixture(autouse=True)
def _forget_apps() -> Iterator[None]:
    """After each test, FastAPI's caches of endpoint classifications (``functools.lru_cache`` of 4,096 entries,
    keyed by the endpoint functions, e.g. ``create_app``'s closures) let go of the apps the test built. Kept,
    the last dozen apps (about a million objects with their pydantic validators) made every full garbage
    collection take ~1 s, and the collections pytest runs at exit ~10 s per process."""
    yield
    import sys

    models = sys.modules.get("fastapi.dependencies.models")
    for value in list(vars(models).values()) if models is not None else []:
        if callable(getattr(value, "cache_clear", None)):
            value.cache_clear()


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def db(backend: str, _databases: dict[str, Database], tmp_path_factory: pytest.TempPathFactory) -> Iterator[Database]:
    database = _database(backend, _databases, tmp_path_factory.getbasetemp())
    reset(database)
    yield database
    from workflow import clock

    clock.reset_clock()


@pytest.fixture
def city(db: Database):  # type: ignore[no-untyped-def]
    from workflow.demo import create_city, open_years

    c = create_city(db, communities=2, password=None)
    open_years(db, c, [2026])
    return c


@pytest.fixture
def driver(db: Database, city):  # type: ignore[no-untyped-def]
    from workflow.demo import Driver

    return Driver(db, city)


# ------------------------------------------------------------------------ per-database counting


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]):  # type: ignore[no-untyped-def]
    outcome = yield
    report = outcome.get_result()
    params = getattr(getattr(item, "callspec", None), "params", {})
    chosen = next((v for v in params.values() if isinstance(v, str) and v in BACKENDS), None)
    if chosen is not None:
        report.user_properties.append(("backend", chosen))


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    backend = dict(report.user_properties).get("backend")
    if backend is None:
        return
    if report.when == "call":
        _counts[backend][report.outcome] += 1
    elif report.when == "setup" and report.outcome != "passed":
        _counts[backend]["skipped" if report.skipped else "error"] += 1


def pytest_terminal_summary(terminalreporter, exitstatus, config):  # type: ignore[no-untyped-def]
    names = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}
    terminalreporter.section("tests per database")
    for backend in BACKENDS:
        c = _counts[backend]
        ran = c["passed"] + c["failed"]
        terminalreporter.write_line(
            f"{names[backend]}: {ran} ran ({c['passed']} passed, {c['failed']} failed, "
            f"{c['skipped']} skipped, {c['error']} errors)")
