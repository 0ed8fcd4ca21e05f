"""The deadline sweep on PostgreSQL: 1,000,000 open deadlines, 10,000 of them due.

    .venv/bin/python bench/sweep.py [--open 1000000] [--due 10000] [--keep]

Builds the database ``fundflow_bench_sweep`` on the server of ``BENCH_PG_URL`` (default
``postgresql://postgres@127.0.0.1:5432/postgres``; dropped at the end unless ``--keep``), migrated and
seeded as every entry point does (``store.bootstrap.prepare``), with a city of 10 communities.

* The **due** deadlines are real: projects standing in ``publicity`` with their ``publicity``
  deadline, each with an audit chain start (``tests/workflow/test_scheduler_support.py``,
  ``bulk_publicity_projects``), due one hour before the sweep's ``now``. Firing one is the whole
  production path: lock, engine ``publicity_elapsed`` (guards, state, cleared deadline, audit event
  in the project's hash chain), inbox notification to the community secretary, deadline marked fired.
* The other open deadlines (``--open`` minus ``--due``) are background rows made with one
  ``INSERT … SELECT generate_series``: the same kinds, spread over the coming year, on entity ids
  that are never touched (the sweep never reads a row that is not due).

Measured:

1. **find the due set** — ``workflow.sweep.due_ids`` (the sweep's own query) for the whole due set
   and for one fetch (1,000 ids), best and median of 7 after a warm-up; ``EXPLAIN (ANALYZE)`` is
   printed and must show the partial index ``ix_deadlines_due_open`` (target < 100 ms);
2. **fire all of them** — ``workflow.sweep.sweep`` as one process (what the scheduler runs), then
   on a second identical due set, two sweep processes at once (``FOR UPDATE SKIP LOCKED``; what a
   backlog after downtime would get from ``fundflow sweep`` run twice) (target < 20 s). Afterwards
   every project has exactly one ``publicity_elapsed`` audit event and ``audit verify`` holds.
"""
from __future__ import annotations

import argparse
import datetime as dt
import multiprocessing as mp
import os
import platform
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
# run as a script, bench/ itself is sys.path[0]: keep its modules (e.g. bench/http.py) from
# shadowing the standard library's
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

PG_ADMIN_URL = os.environ.get("BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
DB_NAME = "fundflow_bench_sweep"
FIND_TARGET_MS = 100.0
FIRE_TARGET_S = 20.0
NOW = dt.datetime(2026, 3, 10, 9, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))


def machine_facts() -> dict[str, str]:
    from bench.machine_info import cpu_model

    cpu = cpu_model()
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg()) if hasattr(os, "getloadavg") else "?"
    return {"nproc": str(os.cpu_count()), "cpu": cpu or "?", "python": platform.python_version(),
            "load average (1, 5, 15 min) at start": load}


def _admin() -> Any:
    import psycopg

    return psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=5)


def fresh_database() -> str:
    from sqlalchemy.engine import make_url

    with _admin() as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{DB_NAME}"')
    return str(make_url(PG_ADMIN_URL).set(drivername="postgresql+psycopg", database=DB_NAME)
               .render_as_string(hide_password=False))


def drop_database() -> None:
    with _admin() as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)')


def load_due(db: Any, city: Any, n: int, prefix: str) -> list[int]:
    from tests.workflow.test_scheduler_support import bulk_publicity_projects

    ids: list[int] = []
    per = -(-n // len(city.communities))
    for i, c in enumerate(city.communities):
        k = min(per, n - len(ids))
        if k <= 0:
            break
        ids += bulk_publicity_projects(db, c.id, c.people["secretary"].person_id, k, NOW - dt.timedelta(hours=1),
                                       prefix=f"{prefix}{i:02d}")
    return ids


def load_background(db: Any, n: int) -> None:
    """``n`` open deadlines due over the coming year, never touched by the sweep."""
    from sqlalchemy import text

    with db.engine.begin() as conn:
        conn.execute(text("""
            INSERT INTO deadlines (entity_type, entity_id, kind, event, start_date, workdays, due_at, provisional,
                                   status, created_at, ref, attempts, last_error, outcome)
            SELECT 'project', 100000000 + g,
                   (ARRAY['publicity', 'approval_due', 'completion_publicity', 'followup_due'])[1 + g % 4],
                   (ARRAY['publicity_elapsed', '', 'completion_elapsed', ''])[1 + g % 4],
                   DATE '2026-03-10', 3,
                   :now + make_interval(secs => 3600 + (g % 31536000)),
                   false, 'open', :now, '', 0, '', ''
            FROM generate_series(1, :n) AS g"""), {"now": NOW, "n": n})
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE"))


def find_due(db: Any, limit: int, rounds: int = 7) -> tuple[list[float], int]:
    from workflow.sweep import due_ids

    times: list[float] = []
    found = 0
    with db.uow(write=False) as uow:
        due_ids(uow.session, NOW, limit)  # warm-up
        for _ in range(rounds):
            t0 = time.perf_counter()
            found = len(due_ids(uow.session, NOW, limit))
            times.append((time.perf_counter() - t0) * 1000)
    return times, found


def explain(db: Any, limit: int) -> str:
    from sqlalchemy import select
    from sqlalchemy.dialects import postgresql

    from store.models import Deadline as D
    from workflow.sweep import _OPEN, _retry_due

    # the same statement as workflow.sweep.due_ids
    stmt = (select(D.id).where(D.status == _OPEN, D.due_at <= NOW, _retry_due(NOW))
            .order_by(D.due_at, D.id).limit(limit))
    sql = str(stmt.compile(dialect=postgresql.dialect(), compile_kwargs={"literal_binds": True}))
    with db.engine.connect() as conn:
        rows = conn.exec_driver_sql(f"EXPLAIN (ANALYZE, BUFFERS) {sql}").all()
    return "\n".join(r[0] for r in rows)


def _sweep_process(url: str, start_at: float, out: Any) -> None:
    from store.db import Database
    from workflow.notify import Settings
    from workflow.sweep import sweep

    db = Database(url)
    db.engine.connect().close()
    while time.time() < start_at:
        time.sleep(0.005)
    t0 = time.perf_counter()
    result = sweep(db, NOW, settings=Settings())
    out.put((result.fired, time.perf_counter() - t0))
    db.dispose()


def fire_with(url: str, processes: int) -> tuple[float, list[int]]:
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    start_at = time.time() + 3.0
    procs = [ctx.Process(target=_sweep_process, args=(url, start_at, queue)) for _ in range(processes)]
    for p in procs:
        p.start()
    results = [queue.get(timeout=1800) for _ in procs]
    for p in procs:
        p.join()
    return max(r[1] for r in results), [r[0] for r in results]


def fire_backlog(url: str) -> tuple[float, int, int]:
    """What the scheduler runs (``sweep_backlog``): one call, helper processes on a large backlog."""
    from store.db import Database
    from workflow.notify import Settings
    from workflow.sweep import sweep_backlog, sweep_processes

    db = Database(url)
    db.engine.connect().close()
    procs = sweep_processes(db)
    t0 = time.perf_counter()
    result = sweep_backlog(db, NOW, settings=Settings())
    took = time.perf_counter() - t0
    db.dispose()
    return took, result.fired, procs


def check(db: Any, ids: list[int]) -> None:
    from sqlalchemy import func, select

    from store.models import AuditEvent
    from workflow.audit import verify

    with db.uow(write=False) as uow:
        s = uow.session
        counts = dict(s.execute(select(AuditEvent.entity_id, func.count()).where(
            AuditEvent.event == "publicity_elapsed", AuditEvent.entity_id.in_(ids))
            .group_by(AuditEvent.entity_id)).tuples().all())
        result = verify(s)
    assert len(counts) == len(ids) and set(counts.values()) == {1}, "not exactly once"
    assert result.ok, result.broken


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--open", type=int, default=1_000_000, help="open deadlines in total")
    ap.add_argument("--due", type=int, default=10_000, help="of which due")
    ap.add_argument("--keep", action="store_true", help=f"keep the database {DB_NAME}")
    args = ap.parse_args()

    from store.bootstrap import prepare
    from store.db import Database
    from workflow import clock
    from workflow.demo import create_city, open_years

    facts = machine_facts()
    print("== machine")
    for k, v in facts.items():
        print(f"  {k}: {v}")
    url = fresh_database()
    db = Database(url)
    try:
        with db.engine.connect() as conn:
            print(f"  PostgreSQL: {conn.exec_driver_sql('SELECT version()').scalar()}")
            for name in ("shared_buffers", "synchronous_commit", "work_mem"):
                print(f"  {name}: {conn.exec_driver_sql(f'SHOW {name}').scalar()}")
        t0 = time.perf_counter()
        prepare(db)
        with clock.frozen(NOW - dt.timedelta(days=10)):
            city = create_city(db, communities=10, password=None)
            open_years(db, city, [2026])
        ids = load_due(db, city, args.due, "A")
        load_background(db, args.open - args.due)
        print(f"== built {args.open:,} open deadlines ({args.due:,} due) in {time.perf_counter() - t0:.1f} s")

        full, found = find_due(db, args.due * 2)
        one, _ = find_due(db, 1000)
        assert found == args.due, (found, args.due)
        plan = explain(db, args.due * 2)
        print("== find the due set (workflow.sweep.due_ids)")
        print(f"  all {found:,} due ids: best {min(full):.1f} ms, median {statistics.median(full):.1f} ms"
              f"   (target < {FIND_TARGET_MS:.0f} ms)")
        print(f"  one fetch of 1,000:   best {min(one):.1f} ms, median {statistics.median(one):.1f} ms")
        print("  plan:\n    " + plan.replace("\n", "\n    "))
        uses_index = "ix_deadlines_due_open" in plan
        print(f"  partial index ix_deadlines_due_open used: {'yes' if uses_index else 'NO'}")

        print("== fire them (workflow.sweep.sweep: engine, audit, notification, deadline fired)")
        db.dispose()
        one_s, fired1 = fire_with(url, 1)
        check(db, ids)
        print(f"  one sweep process:   {sum(fired1):,} fired in {one_s:.1f} s ({sum(fired1) / one_s:.0f}/s)"
              f"   (target < {FIRE_TARGET_S:.0f} s)")
        ids2 = load_due(db, city, args.due, "B")
        db.dispose()
        two_s, fired2 = fire_with(url, 2)
        check(db, ids2)
        print(f"  two sweep processes: {sum(fired2):,} fired in {two_s:.1f} s ({sum(fired2) / two_s:.0f}/s),"
              f" split {' + '.join(f'{f:,}' for f in fired2)}; every project exactly once, audit chains verified")
        ids3 = load_due(db, city, args.due, "C")
        db.dispose()
        sched_s, fired3, procs = fire_backlog(url)
        check(db, ids3)
        print(f"  the scheduler's sweep (workflow.sweep.sweep_backlog, {procs} processes on a backlog): "
              f"{fired3:,} fired in {sched_s:.1f} s ({fired3 / sched_s:.0f}/s); every project exactly once")
        find_ok = min(full) < FIND_TARGET_MS and uses_index
        print(f"== find: {min(full):.1f} ms — target < {FIND_TARGET_MS:.0f} ms {'met' if find_ok else 'NOT met'}")
        for label, took in (("one sweep process", one_s), ("two sweep processes", two_s),
                            ("the scheduler's sweep", sched_s)):
            verdict = "met" if took < FIRE_TARGET_S else "NOT met"
            print(f"== fire, {label}: {took:.1f} s — target < {FIRE_TARGET_S:.0f} s {verdict}")
        print(f"  load average after: {', '.join(f'{x:.2f}' for x in os.getloadavg())}")
        return 0
    finally:
        db.dispose()
        if not args.keep:
            drop_database()


if __name__ == "__main__":
    sys.exit(main())
