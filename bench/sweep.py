"""The deadline sweep on SQLite and PostgreSQL: 1,000,000 open deadlines, 10,000 of them due.

    .venv/bin/python bench/sweep.py [--open 1000000] [--due 10000] [--backends sqlite,postgresql] [--keep]
    .venv/bin/python bench/sweep.py --profile [--backends postgresql]   # cProfile of one sweep process

Builds the database ``fundflow_bench_sweep`` on the server of ``BENCH_PG_URL`` (default
``postgresql://postgres@127.0.0.1:5432/postgres``; dropped at the end unless ``--keep``) and a SQLite file
in a temporary directory, migrated and seeded as every entry point does (``store.bootstrap.prepare``), with
a city of 10 communities. On SQLite the planner's statistics are removed before the sweeps (a database
where ``ANALYZE`` never ran after the deadlines came in: the case where the engine's deadline-clearing
UPDATE once walked every open deadline), and the sweep runs as one process (SQLite has one writer).

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
   the plan of the engine's deadline-clearing UPDATE must show the entity index;
2. **fire all of them** — ``workflow.sweep.sweep`` as one process (what the scheduler runs), then
   on a second identical due set, two sweep processes at once (``FOR UPDATE SKIP LOCKED``; what a
   backlog after downtime would get from ``fundflow sweep`` run twice) (target < 20 s), PostgreSQL
   only. Afterwards every project has exactly one ``publicity_elapsed`` audit event and ``audit verify``
   holds.
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


def fresh_database(backend: str, tmp: Path) -> str:
    from sqlalchemy.engine import make_url

    if backend == "sqlite":
        return f"sqlite:///{tmp / 'sweep.db'}"

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

    kinds = "publicity", "approval_due", "completion_publicity", "followup_due"
    events = "publicity_elapsed", "", "completion_elapsed", ""
    with db.engine.begin() as conn:
        if db.is_postgres:
            conn.execute(text(f"""
                INSERT INTO deadlines (entity_type, entity_id, kind, event, start_date, workdays, due_at, provisional,
                                       status, created_at, ref, attempts, last_error, outcome)
                SELECT 'project', 100000000 + g, (ARRAY{list(kinds)})[1 + g % 4], (ARRAY{list(events)})[1 + g % 4],
                       DATE '2026-03-10', 3, :now + make_interval(secs => 3600 + (g % 31536000)),
                       false, 'open', :now, '', 0, '', ''
                FROM generate_series(1, :n) AS g"""), {"now": NOW, "n": n})
        else:
            # the stored form of store.models.UTCDateTime on SQLite: naive UTC text with microseconds
            now = NOW.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S")
            pick = "CASE g % 4 " + " ".join(f"WHEN {i} THEN '{{}}'" for i in range(4)) + " END"
            conn.execute(text(f"""
                WITH RECURSIVE s(g) AS (SELECT 1 UNION ALL SELECT g + 1 FROM s WHERE g < :n)
                INSERT INTO deadlines (entity_type, entity_id, kind, event, start_date, workdays, due_at, provisional,
                                       status, created_at, ref, attempts, last_error, outcome)
                SELECT 'project', 100000000 + g, {pick.format(*kinds)}, {pick.format(*events)}, '2026-03-10', 3,
                       datetime(:now, '+' || (3600 + g % 31536000) || ' seconds') || '.000000',
                       0, 'open', :now || '.000000', '', 0, '', ''
                FROM s"""), {"now": now, "n": n})
    if db.is_postgres:
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE"))


def forget_statistics(db: Any) -> None:
    """SQLite as an embedded database that never ran ``ANALYZE`` after its deadlines came in."""
    with db.engine.begin() as conn:
        conn.exec_driver_sql("DROP TABLE IF EXISTS sqlite_stat1")
    db.dispose()


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


def _explain(db: Any, stmt: Any) -> str:
    sql = str(stmt.compile(dialect=db.engine.dialect, compile_kwargs={"literal_binds": True}))
    with db.engine.connect() as conn:
        if db.is_postgres:
            return "\n".join(r[0] for r in conn.exec_driver_sql(f"EXPLAIN (ANALYZE, BUFFERS) {sql}").all())
        return "\n".join(str(r[-1]) for r in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}").all())


def explain_due(db: Any, limit: int) -> str:
    from sqlalchemy import select

    from store.models import Deadline as D
    from workflow.sweep import _OPEN, _retry_due

    # the same statement as workflow.sweep.due_ids
    return _explain(db, select(D.id).where(D.status == _OPEN, D.due_at <= NOW, _retry_due(NOW))
                    .order_by(D.due_at, D.id).limit(limit))


def explain_clear(db: Any, entity_id: int) -> str:
    """The plan of the engine's deadline-clearing UPDATE (run by every firing that leaves a timed step)."""
    from sqlalchemy import literal

    from store.models import Deadline as D

    stmt = (D.__table__.update().where(D.entity_type == "project", D.entity_id == literal(entity_id),
                                       D.kind == "publicity", D.status == "open").values(status="cleared"))
    if db.is_postgres:  # EXPLAIN ANALYZE would run it
        sql = str(stmt.compile(dialect=db.engine.dialect, compile_kwargs={"literal_binds": True}))
        with db.engine.connect() as conn:
            return "\n".join(r[0] for r in conn.exec_driver_sql(f"EXPLAIN {sql}").all())
    return _explain(db, stmt)


def _sweep_process(url: str, start_at: float, out: Any, profile: bool = False) -> None:
    from store.db import Database
    from workflow.notify import Settings
    from workflow.sweep import sweep

    db = Database(url)
    db.engine.connect().close()
    while time.time() < start_at:
        time.sleep(0.005)
    prof = None
    if profile:
        import cProfile

        prof = cProfile.Profile(time.process_time)
        prof.enable()
    t0 = time.perf_counter()
    c0 = time.process_time()
    result = sweep(db, NOW, settings=Settings())
    took, cpu = time.perf_counter() - t0, time.process_time() - c0
    if prof is not None:
        prof.disable()
        from bench.layers import print_layers

        print_layers(prof, f"one sweep process, {result.fired:,} fired, {cpu:.1f} s of CPU", top=int(os.environ.get("BENCH_PROFILE_TOP", "0")))
    out.put((result.fired, took, cpu))
    db.dispose()


class ServerMeter:
    """CPU of the PostgreSQL backends serving the benchmark database while it runs: their pids are polled
    (the sweep process opens its connections after it starts) and each one's latest CPU time kept."""

    def __init__(self, active: bool) -> None:
        import threading

        self.active = active
        self.cpu: dict[int, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, daemon=True)

    def _poll(self) -> None:
        from bench.engine import process_cpu

        with _admin() as conn:
            while not self._stop.is_set():
                for (pid,) in conn.execute("SELECT pid FROM pg_stat_activity WHERE datname = %s", (DB_NAME,)):
                    used = process_cpu([int(pid)])
                    if used:
                        self.cpu[int(pid)] = used
                self._stop.wait(0.2)

    def __enter__(self) -> ServerMeter:
        if self.active:
            self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.active:
            self._stop.set()
            self._thread.join()

    @property
    def seconds(self) -> float:
        return sum(self.cpu.values())


def fire_with(url: str, processes: int, profile: bool = False) -> tuple[float, list[int], float, float]:
    """(wall seconds, fired per process, client CPU seconds, server CPU seconds)."""
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    start_at = time.time() + 3.0
    procs = [ctx.Process(target=_sweep_process, args=(url, start_at, queue, profile)) for _ in range(processes)]
    with ServerMeter(url.startswith("postgresql")) as meter:
        for p in procs:
            p.start()
        results = [queue.get(timeout=1800) for _ in procs]
    for p in procs:
        p.join()
    return max(r[1] for r in results), [r[0] for r in results], sum(r[2] for r in results), meter.seconds


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
    if result.errors or result.notes:
        print(f"    the scheduler's sweep reported {result.errors} error(s): {'; '.join(result.notes)[:500]}")
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


def _load() -> float:
    return os.getloadavg()[0]


def run_backend(backend: str, args: argparse.Namespace, tmp: Path, results: Any) -> None:
    from store.bootstrap import prepare
    from store.db import Database
    from workflow import clock
    from workflow.demo import create_city, open_years

    name = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}[backend]
    url = fresh_database(backend, tmp)
    db = Database(url)
    try:
        print(f"== {name}")
        with db.engine.connect() as conn:
            if db.is_postgres:
                print(f"  {conn.exec_driver_sql('SELECT version()').scalar()}")
                for setting in ("shared_buffers", "synchronous_commit", "work_mem"):
                    print(f"  {setting}: {conn.exec_driver_sql(f'SHOW {setting}').scalar()}")
            else:
                print(f"  SQLite {conn.exec_driver_sql('SELECT sqlite_version()').scalar()}, WAL, synchronous=NORMAL")
        t0 = time.perf_counter()
        prepare(db)
        with clock.frozen(NOW - dt.timedelta(days=10)):
            city = create_city(db, communities=10, password=None)
            open_years(db, city, [2026])
        ids = load_due(db, city, args.due, "A")
        load_background(db, args.open - args.due)
        if not db.is_postgres:
            forget_statistics(db)
        print(f"  built {args.open:,} open deadlines ({args.due:,} due) in {time.perf_counter() - t0:.1f} s"
              + ("; no planner statistics (sqlite_stat1 dropped)" if not db.is_postgres else ""))

        full, found = find_due(db, args.due * 2)
        one, _ = find_due(db, 1000)
        assert found == args.due, (found, args.due)
        plan = explain_due(db, args.due * 2)
        load = _load()
        print("  find the due set (workflow.sweep.due_ids)")
        print(f"    all {found:,} due ids: best {min(full):.1f} ms, median {statistics.median(full):.1f} ms"
              f"   (target < {FIND_TARGET_MS:.0f} ms; load {load:.2f})")
        print(f"    one fetch of 1,000:   best {min(one):.1f} ms, median {statistics.median(one):.1f} ms")
        print("    plan:\n      " + plan.replace("\n", "\n      "))
        # SQLite may take the (status, due_at) index instead of the partial one: the same range of open rows
        uses_index = "ix_deadlines_due_open" in plan or "ix_deadlines_open_due (status=? AND due_at<?)" in plan
        print(f"    an index on the open rows' due_at used: {'yes' if uses_index else 'NO'}")
        results.add(f"{name}: find {args.due:,} due among {args.open:,} open < {FIND_TARGET_MS:.0f} ms, "
                    "index on open rows", f"{min(full):.1f} ms{'' if uses_index else ', index NOT used'}",
                    min(full) < FIND_TARGET_MS and uses_index, load=load)
        clear_plan = explain_clear(db, ids[0])
        entity = "ix_deadlines_entity" in clear_plan
        print("    the engine's deadline-clearing UPDATE:\n      " + clear_plan.replace("\n", "\n      "))
        results.add(f"{name}: the engine's deadline-clearing UPDATE uses the entity index",
                    "yes" if entity else "NO: " + clear_plan.replace("\n", " "), entity)

        print("  fire them (workflow.sweep.sweep: engine, audit, notification, deadline fired)")
        db.dispose()
        load = _load()
        one_s, fired1, cpu1, pg1 = fire_with(url, 1, profile=args.profile)
        check(db, ids)
        n1 = sum(fired1)
        server = f", server CPU {pg1 * 1000 / n1:.2f} ms" if db.is_postgres else ""
        print(f"    one sweep process:   {n1:,} fired in {one_s:.1f} s ({n1 / one_s:.0f}/s; client CPU "
              f"{cpu1 * 1000 / n1:.2f} ms per deadline{server}; load {load:.2f} at start, {_load():.2f} at end)"
              f"   (target < {FIRE_TARGET_S:.0f} s)")
        results.add(f"{name}: one sweep process fires {args.due:,} due deadlines < {FIRE_TARGET_S:.0f} s",
                    f"{one_s:.1f} s ({cpu1 * 1000 / n1:.2f} ms client CPU{server.replace(', server CPU', ' +')} "
                    "per deadline)", one_s < FIRE_TARGET_S, load=load)
        if not db.is_postgres or args.profile:
            return
        ids2 = load_due(db, city, args.due, "B")
        db.dispose()
        load = _load()
        two_s, fired2, _, _ = fire_with(url, 2)
        check(db, ids2)
        print(f"    two sweep processes: {sum(fired2):,} fired in {two_s:.1f} s ({sum(fired2) / two_s:.0f}/s),"
              f" split {' + '.join(f'{f:,}' for f in fired2)}; every project exactly once, audit chains verified"
              f" (load {load:.2f})")
        results.add(f"{name}: two sweep processes fire {args.due:,} < {FIRE_TARGET_S:.0f} s", f"{two_s:.1f} s",
                    two_s < FIRE_TARGET_S, load=load)
        ids3 = load_due(db, city, args.due, "C")
        db.dispose()
        load = _load()
        sched_s, fired3, procs = fire_backlog(url)
        check(db, ids3)
        print(f"    the scheduler's sweep (workflow.sweep.sweep_backlog, {procs} processes on a backlog): "
              f"{fired3:,} fired in {sched_s:.1f} s ({fired3 / sched_s:.0f}/s); every project exactly once"
              f" (load {load:.2f})")
        results.add(f"{name}: the scheduler's sweep ({procs} processes) fires {args.due:,} < {FIRE_TARGET_S:.0f} s",
                    f"{sched_s:.1f} s", sched_s < FIRE_TARGET_S, load=load)
    finally:
        db.dispose()
        if db.is_postgres and not args.keep:
            drop_database()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--open", type=int, default=1_000_000, help="open deadlines in total")
    ap.add_argument("--due", type=int, default=10_000, help="of which due")
    ap.add_argument("--backends", default="sqlite,postgresql")
    ap.add_argument("--profile", action="store_true",
                    help="cProfile (CPU time) the one-process sweep, grouped by layer; skips the other sweeps")
    ap.add_argument("--keep", action="store_true", help=f"keep the database {DB_NAME}")
    args = ap.parse_args()

    import tempfile

    from bench.summary import Results

    facts = machine_facts()
    print("== machine")
    for k, v in facts.items():
        print(f"  {k}: {v}")
    results = Results("sweep")
    with tempfile.TemporaryDirectory(prefix="fundflow-sweep-") as tmp:
        for backend in [b.strip() for b in args.backends.split(",") if b.strip()]:
            run_backend(backend, args, Path(tmp), results)
    print("== targets")
    for t in results.targets:
        print(f"  {t.target}: {t.measured} — {'met' if t.met else 'NOT met'} (load {t.load:.2f})")
    print(f"  load average after: {', '.join(f'{x:.2f}' for x in os.getloadavg())}")
    if not args.profile:
        results.save()
    return 0


if __name__ == "__main__":
    sys.exit(main())
