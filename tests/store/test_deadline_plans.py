"""The engine's deadline statements use the entity index whatever the planner's statistics say.

With a million open deadlines, SQLite without ``ANALYZE`` once cleared a step's deadline by walking every
open row through the ``(status, due_at)`` index: ~160 ms per transition, a sweep of 10,000 at 5 per second.
"""
from __future__ import annotations

import sqlite3
from typing import Any

import pytest
from sqlalchemy import Select, text

from store.db import Database
from workflow import context, engine

OPEN_ROWS = 20_000


def _load_open_deadlines(db: Database, n: int) -> None:
    rows = ("WITH RECURSIVE g(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM g WHERE x < :n) SELECT x FROM g"
            if not db.is_postgres else "SELECT generate_series(1, :n) AS x")
    with db.engine.begin() as conn:
        conn.execute(text(f"""
            INSERT INTO deadlines (entity_type, entity_id, kind, event, start_date, workdays, due_at, provisional,
                                   status, created_at, ref, attempts, last_error, outcome)
            SELECT 'project', 100000000 + x, 'publicity', 'publicity_elapsed', '2026-03-10', 3,
                   '2026-04-01 00:00:00+00', false, 'open', '2026-03-10 00:00:00+00', '', 0, '', ''
            FROM ({rows}) AS g"""), {"n": n})


def _plan(db: Database, stmt: Any, params: dict[str, Any]) -> str:
    with db.engine.connect() as conn:
        if isinstance(stmt, Select):  # its IN list is expanded into the text
            compiled = stmt.params(params).compile(dialect=conn.dialect, compile_kwargs={"render_postcompile": True})
            values = compiled.construct_params()
        else:
            compiled = stmt.compile(dialect=conn.dialect)
            values = compiled.construct_params(params)
        if db.is_postgres:
            # no ANALYZE has run on the rows just loaded (autovacuum has not had time to)
            return "\n".join(r[0] for r in conn.exec_driver_sql("EXPLAIN " + str(compiled), values))
        conn.exec_driver_sql("DROP TABLE IF EXISTS sqlite_stat1")
        conn.commit()
    # a connection that never saw statistics, as on a database where ANALYZE never ran
    raw = sqlite3.connect(str(db.engine.url.database))
    try:
        rows = raw.execute("EXPLAIN QUERY PLAN " + str(compiled),
                           tuple(values[name] for name in compiled.positiontup or ())).fetchall()
    finally:
        raw.close()
    return "\n".join(str(r[-1]) for r in rows)


@pytest.mark.parametrize("statement, params", [
    ("_CLEAR_DEADLINES", {"etype": "project", "eid": 100000005, "dl_kind": "publicity"}),
    ("_OPEN_DEADLINE_DUE", {"etype": "project", "eid": 100000005, "kind": "publicity"}),
])
def test_deadline_statements_use_the_entity_index_without_statistics(db: Database, statement: str,
                                                                      params: dict[str, Any]) -> None:
    _load_open_deadlines(db, OPEN_ROWS)
    try:
        plan = _plan(db, getattr(engine if hasattr(engine, statement) else context, statement), params)
    finally:
        db.refresh_statistics()
    assert "ix_deadlines_entity" in plan, plan
    assert "ix_deadlines_open_due" not in plan and "ix_deadlines_due_open" not in plan, plan


def test_clearing_a_step_deadline_touches_only_that_entity(db: Database) -> None:
    _load_open_deadlines(db, 50)
    with db.engine.begin() as conn:
        conn.execute(engine._CLEAR_DEADLINES, {"etype": "project", "eid": 100000007, "dl_kind": "publicity"})
        left = dict(conn.execute(text("SELECT status, count(*) FROM deadlines GROUP BY status")).all())
    assert left == {"open": 49, "cleared": 1}


def test_start_and_large_loads_refresh_sqlite_statistics(tmp_path: Any) -> None:
    from store.bootstrap import prepare

    db = Database(f"sqlite:///{tmp_path / 'stats.db'}")
    try:
        prepare(db)  # the seeded calendar gets statistics at start
        with db.engine.connect() as conn:
            assert "calendar_days" in {r[0] for r in conn.exec_driver_sql("SELECT tbl FROM sqlite_stat1")}
        _load_open_deadlines(db, 500)
        db.refresh_statistics()
        with db.engine.connect() as conn:
            stats = dict(conn.exec_driver_sql("SELECT idx, stat FROM sqlite_stat1 WHERE tbl = 'deadlines'").all())
        assert stats["ix_deadlines_entity"].startswith("500 "), stats
    finally:
        db.dispose()
