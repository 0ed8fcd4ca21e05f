"""What reading the organisation tree afresh costs per firing (issue 11 point 5: a move holds at once in
every API worker, so no process keeps the tree).

Run: ``.venv/bin/python bench/org_tree.py [--n 3000] [--seconds 5] [--backends sqlite,postgresql]``.
Prints figures (with the load average beside them); asserts nothing.

Measured on one draft project of a one-community city, on one connection, in one open transaction:

- **lock statement**: the engine's ``SELECT … FOR UPDATE`` that locks the row and reads the actor's posts,
  as it was before (``with_org=False``; the chain then came from a per-process cache) and as it is now
  (the community's area, city and closing day read in the same statement, and on PostgreSQL the row-version
  check that makes a firing that waited for a move read again). Both for an event whose guards read nothing
  more (``return_for_revision``) and one whose guards read the project's facts and line items
  (``submit_preliminary``). Wall and client CPU per execution.
- **org_chain()** for the readers outside the engine (API visibility, the sweep's notifications): one
  indexed statement per unit of work now, against a dictionary walk of the old process cache.
- **firings/s**: ``submit_preliminary`` ⇄ ``return_for_revision`` through ``workflow.services.fire_event``
  (one transaction each), one client, with the code as it is now.

PostgreSQL: the database ``fundflow_bench_org`` on ``BENCH_PG_URL`` (default the local server), made and
dropped by the script. SQLite: a file in a temporary directory.
"""
from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

PG_ADMIN_URL = os.environ.get("BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
PG_DB = "fundflow_bench_org"
REASON = "预算说明不够详细,请补充材料后重新提交"
ROUNDS = 6


def load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f} {five:.2f} {fifteen:.2f}"


def database_url(backend: str, tmp: Path) -> str:
    if backend == "sqlite":
        return f"sqlite:///{tmp / 'org-bench.db'}"
    import psycopg
    from sqlalchemy.engine import make_url

    with psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=5) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{PG_DB}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{PG_DB}"')
    return str(make_url(PG_ADMIN_URL).set(drivername="postgresql+psycopg", database=PG_DB)
               .render_as_string(hide_password=False))


def drop(backend: str) -> None:
    if backend == "postgresql":
        import psycopg

        with psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=5) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{PG_DB}" WITH (FORCE)')


def per_call(fn: Any, n: int) -> tuple[float, float]:
    """(wall µs, CPU µs) per call of ``fn`` over ``n`` calls, after 100 warm-up calls."""
    for _ in range(100):
        fn()
    wall, cpu = time.perf_counter(), time.process_time()
    for _ in range(n):
        fn()
    return (time.perf_counter() - wall) * 1e6 / n, (time.process_time() - cpu) * 1e6 / n


def run(backend: str, n: int, seconds: float, tmp: Path) -> list[str]:
    from store.bootstrap import prepare
    from store.db import Database
    from workflow import clock, engine
    from workflow.demo import Driver, create_city, open_years
    from workflow.engine import _lock_stmt, event_reads, org_chain
    from workflow.machines import workflow_for
    from workflow.services import fire_event

    url = database_url(backend, tmp)
    db = Database(url)
    out: list[str] = []
    try:
        prepare(db)
        city = create_city(db, communities=1, password=None)
        open_years(db, city, [2026])
        drv = Driver(db, city)
        pid = drv.propose()
        secretary, member = drv.a("secretary"), drv.a("working_member1")
        cid = city.communities[0].id
        wf = workflow_for("project")
        dialect = db.engine.dialect.name
        day = dt.date(2026, 3, 2)
        out.append(f"[{backend}] {load()}")
        for trigger in ("return_for_revision", "submit_preliminary"):
            reads = event_reads(wf, "project", trigger)
            # the two statements alternate in rounds; the quickest round of each counts (the machine is shared)
            best: dict[bool, tuple[float, float]] = {}
            params = {"entity_id": pid, "person_id": secretary.person_id, "day": day}
            for _round in range(ROUNDS):
                for with_org in (False, True):
                    stmt = _lock_stmt("project", dialect, reads, with_org)
                    with db.uow() as uow:
                        s = uow.session
                        wall, cpu = per_call(lambda s=s, stmt=stmt, params=params: s.execute(stmt, params).one(),
                                             n // ROUNDS)
                    old = best.get(with_org)
                    best[with_org] = (min(wall, old[0]), min(cpu, old[1])) if old else (wall, cpu)
            (w0, c0), (w1, c1) = best[False], best[True]
            out.append(f"  lock statement, {trigger:<20} before {w0:7.1f} µs wall {c0:6.1f} µs CPU   "
                       f"now {w1:7.1f} µs wall {c1:6.1f} µs CPU   difference {w1 - w0:+6.1f} / {c1 - c0:+5.1f} µs")
        # the old process cache, warm: a dictionary walk community → area → city
        cache = {cid: ("community", city.area_id), city.area_id: ("area", city.city_id), city.city_id: ("city", None)}

        def cached() -> dict[str, int]:
            found: dict[str, int] = {}
            current: int | None = cid
            while current is not None:
                level, parent = cache[current]
                found[level] = current
                current = parent
            return found

        w_cache, c_cache = per_call(cached, n)

        def fresh_chain() -> dict[str, int]:
            with db.uow(write=False) as uow:
                return org_chain(uow.session, cid)

        def empty_uow() -> None:
            with db.uow(write=False) as uow:
                uow.session.connection()

        w_fresh = c_fresh = w_empty = c_empty = float("inf")
        for _round in range(ROUNDS):
            w, c = per_call(fresh_chain, n // ROUNDS)
            w_fresh, c_fresh = min(w, w_fresh), min(c, c_fresh)
            w, c = per_call(empty_uow, n // ROUNDS)
            w_empty, c_empty = min(w, w_empty), min(c, c_empty)
        out.append(f"  org_chain() outside the engine: process cache {w_cache:.2f} µs;  read per unit of work "
                   f"{w_fresh - w_empty:.1f} µs wall {c_fresh - c_empty:.1f} µs CPU (a read unit of work alone: "
                   f"{w_empty:.1f} µs)")
        # whole firings, as the API fires them
        fired = 0
        t_end = time.perf_counter() + seconds
        cpu0 = time.process_time()
        t0 = time.perf_counter()
        with clock.frozen(dt.datetime(2026, 3, 2, 10, 0, tzinfo=clock.SHANGHAI)):
            while time.perf_counter() < t_end:
                a = fire_event(db, "project", pid, "submit_preliminary", secretary)
                b = fire_event(db, "project", pid, "return_for_revision", member, reason=REASON)
                assert a.ok and b.ok, (a.verdict, b.verdict)
                fired += 2
        elapsed = time.perf_counter() - t0
        out.append(f"  firings through fire_event, 1 client: {fired / elapsed:,.0f}/s, "
                   f"{(time.process_time() - cpu0) * 1e6 / fired:,.0f} µs client CPU per firing;  {load()}")
        assert engine  # the module whose statement is measured
    finally:
        db.dispose()
        drop(backend)
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=3000, help="executions per measured statement")
    ap.add_argument("--seconds", type=float, default=5.0, help="seconds of whole firings per backend")
    ap.add_argument("--backends", default="sqlite,postgresql")
    args = ap.parse_args(argv)
    print(f"bench/org_tree.py  {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC  {os.cpu_count()} CPUs  "
          f"Python {platform.python_version()}  {load()} at the start")
    with tempfile.TemporaryDirectory() as tmp:
        for backend in args.backends.split(","):
            try:
                for line in run(backend.strip(), args.n, args.seconds, Path(tmp)):
                    print(line, flush=True)
            except Exception as exc:  # noqa: BLE001 - a missing server skips its half
                print(f"[{backend}] skipped: {type(exc).__name__}: {exc}")
    print(f"end: {load()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
