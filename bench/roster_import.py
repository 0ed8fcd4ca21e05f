"""How long ``fundflow org import`` takes for a large roster (issue 11: 5,000 people in under a minute).

Run: ``.venv/bin/python bench/roster_import.py [--people 5000] [--backends sqlite,postgresql]``. Prints
figures (with the load average beside them); asserts nothing.

For each backend: a fresh database with the city ``C01`` (``fundflow org create --level city``), the
synthetic roster of ``workflow.demo.synthetic_roster`` (5 areas, 100 communities, N people with one post
each) written as .csv and as .xlsx, and the real command ``fundflow org import FILE`` timed as a whole
process (start-up, migrations check, parsing, checks, writing, audit), piped (no progress bar). Then the
same file again (re-import: nothing changes) and the copy with three bad rows (refused, nothing written).

PostgreSQL: the database ``fundflow_bench_roster`` on ``BENCH_PG_URL`` (default the local server).
"""
from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

PG_ADMIN_URL = os.environ.get("BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
PG_DB = "fundflow_bench_roster"
FUNDFLOW = str(Path(sys.executable).parent / "fundflow")


def load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f} {five:.2f} {fifteen:.2f}"


def fresh(backend: str, tmp: Path) -> str:
    if backend == "sqlite":
        path = tmp / "roster-bench.db"
        path.unlink(missing_ok=True)
        return f"sqlite:///{path}"
    import psycopg
    from sqlalchemy.engine import make_url

    with psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=5) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{PG_DB}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{PG_DB}"')
    return str(make_url(PG_ADMIN_URL).set(drivername="postgresql", database=PG_DB).render_as_string(hide_password=False))


def drop(backend: str) -> None:
    if backend == "postgresql":
        import psycopg

        with psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=5) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{PG_DB}" WITH (FORCE)')


def fundflow(url: str, *args: str) -> tuple[float, subprocess.CompletedProcess[str]]:
    t0 = time.perf_counter()
    done = subprocess.run([FUNDFLOW, *args], env={**os.environ, "DATABASE_URL": url}, capture_output=True, text=True)
    return time.perf_counter() - t0, done


def main(argv: list[str] | None = None) -> int:
    from workflow.demo import roster_csv, roster_xlsx, synthetic_roster

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--people", type=int, default=5000)
    ap.add_argument("--backends", default="sqlite,postgresql")
    args = ap.parse_args(argv)
    print(f"bench/roster_import.py  {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC  {os.cpu_count()} CPUs  "
          f"Python {platform.python_version()}  {load()} at the start")
    rows = synthetic_roster(people=args.people, areas=5, communities=100)
    bad = [list(r) for r in rows]
    bad[50][7], bad[len(rows) // 2][8], bad[-5][1] = "village_head", "2026-02-30", "RS999"
    with tempfile.TemporaryDirectory() as tmpdir:
        tmp = Path(tmpdir)
        files = {"csv": tmp / "roster.csv", "xlsx": tmp / "roster.xlsx", "bad": tmp / "roster-bad.csv"}
        files["csv"].write_bytes(roster_csv(rows))
        files["xlsx"].write_bytes(roster_xlsx(rows))
        files["bad"].write_bytes(roster_csv(bad))
        print(f"roster: {len(rows) - 1} rows (5 areas, 100 communities, {args.people} people); "
              f".csv {files['csv'].stat().st_size // 1024} KB, .xlsx {files['xlsx'].stat().st_size // 1024} KB")
        for backend in args.backends.split(","):
            backend = backend.strip()
            for kind in ("csv", "xlsx"):
                try:
                    url = fresh(backend, tmp)
                except Exception as exc:  # noqa: BLE001 - a missing server skips its half
                    print(f"[{backend}] skipped: {type(exc).__name__}: {exc}")
                    break
                try:
                    fundflow(url, "org", "create", "--level", "city", "--code", "C01", "--name", "xx市")
                    before = load()
                    seconds, done = fundflow(url, "org", "import", str(files[kind]))
                    status = "ok" if done.returncode == 0 else f"exit {done.returncode}: {done.stderr[-300:]}"
                    print(f"[{backend}] import .{kind}: {seconds:6.2f} s  ({status})  {before}")
                    again, done2 = fundflow(url, "org", "import", str(files[kind]))
                    print(f"[{backend}] re-import .{kind}: {again:6.2f} s  "
                          f"({'nothing new' if '新建人员 0 人' in done2.stdout else done2.stdout[-200:]})")
                    if kind == "csv":
                        _u, _d = fundflow(url, "org", "list", "--json")
                        refused, done3 = fundflow(url, "org", "import", str(files["bad"]))
                        first = done3.stderr.splitlines()[0] if done3.stderr else done3.stdout[:200]
                        print(f"[{backend}] three bad rows: {refused:6.2f} s, exit {done3.returncode}: {first}")
                finally:
                    drop(backend)
    print(f"end: {load()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
