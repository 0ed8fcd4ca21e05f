"""Engine throughput against the database's own floor, on SQLite and PostgreSQL, in one run.

    .venv/bin/python bench/engine.py [--seconds N] [--backends sqlite,postgresql] [--clients 1,8]
    .venv/bin/python bench/engine.py --profile [--backends postgresql]   # cProfile of one client

For each backend the benchmark makes a fresh database (SQLite: a file in a temporary directory;
PostgreSQL: the database ``fundflow_bench`` on the server of ``BENCH_PG_URL``, default
``postgresql://postgres@127.0.0.1:5432/postgres``, dropped at the end), migrates and seeds it as
every entry point does (``store.bootstrap.prepare``), builds a city with one community per client and
a few draft projects per client, all through the real services.

It then measures, with 1 and with 8 concurrent clients, each working only on its own projects (and
its own raw row), for a fixed window after a warm-up. On PostgreSQL it does so three ways
(``--pg-clients`` picks): *workers*, one OS process per CPU with the clients spread over them as threads
(how the API is deployed: a uvicorn worker per CPU, each running requests on a thread pool); *threads*,
all clients as threads of one process (one API worker); *processes*, one OS process per client
(``spawn``; eight workers on two CPUs, over-subscribed). On SQLite they are
threads of one process, as in the embedded deployment (SPEC section 7: one process, SQLite file) —
``--sqlite-clients processes`` measures separate processes instead:

* **engine**: ``workflow.services.fire_event`` — one unit of work per event, as the API runs it — on
  the pair ``submit_preliminary`` (draft → preliminary_review; community secretary; guards
  no_open_concern, proposal_valid, forbidden_use_declared, keyword_flags_answered,
  small_group_cap_warning) and ``return_for_revision`` (preliminary_review → draft; working-committee
  member; guard reason_given, with a reason). Each is a real state change: row lock, post check,
  guards, state, audit event with its hash chain, version bump, commit.
* **raw**: ``UPDATE bench_raw SET n = n + 1 WHERE id = :own_row`` then ``COMMIT`` on one held
  SQLAlchemy Core connection of the same engine configuration (``store.db.make_engine``: psycopg 3 on
  PostgreSQL; pysqlite with WAL, synchronous=NORMAL and ``BEGIN IMMEDIATE`` on SQLite) — the cheapest
  durable write transaction the same driver and settings can do.

Server settings are left as they are (PostgreSQL ``synchronous_commit`` on): both columns pay them.
Rates are committed transactions completed inside the window divided by the window's length;
latencies are per transaction (p50/p99 over every client). At the end the audit chains are verified.
"""
from __future__ import annotations

import argparse
import datetime as dt
import multiprocessing as mp
import os
import platform
import sqlite3
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
# run as a script, bench/ itself is sys.path[0]: keep its modules (e.g. bench/http.py) from
# shadowing the standard library's
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

PG_ADMIN_URL = os.environ.get("BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
PG_BENCH_DB = "fundflow_bench"
REASON = "预算说明不够详细,请补充材料后重新提交"
EVENTS = "submit_preliminary (draft→preliminary_review) ⇄ return_for_revision (preliminary_review→draft)"
TARGET_SHAPE_RATIO = 0.7
TARGET_RATE = 1000.0
LOAD_AT_START = os.getloadavg()[0]
SPEED_AT_START = (0.0, 0.0)


# ------------------------------------------------------------------------------------------ databases


def _pg_admin() -> Any:
    import psycopg

    return psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=5)


def fresh_database(backend: str, tmp: Path) -> str:
    if backend == "sqlite":
        return f"sqlite:///{tmp / 'bench.db'}"
    from sqlalchemy.engine import make_url

    with _pg_admin() as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{PG_BENCH_DB}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{PG_BENCH_DB}"')
    return str(make_url(PG_ADMIN_URL).set(drivername="postgresql+psycopg", database=PG_BENCH_DB)
               .render_as_string(hide_password=False))


def drop_database(backend: str) -> None:
    if backend == "postgresql":
        with _pg_admin() as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{PG_BENCH_DB}" WITH (FORCE)')


@dataclass
class Fixture:
    url: str
    clients: list[dict[str, Any]]
    """Per client: project ids, and the person ids/labels of its secretary and working member."""
    server: dict[str, str] = field(default_factory=dict)


def build(backend: str, url: str, max_clients: int, projects_per_client: int) -> Fixture:
    """Migrate, seed, build the city and the projects (all through the services), add ``bench_raw``."""
    from sqlalchemy import text

    from store.bootstrap import prepare
    from store.db import Database
    from workflow.demo import Driver, create_city, open_years

    db = Database(url)
    try:
        prepare(db)
        city = create_city(db, communities=max_clients, password=None)
        open_years(db, city, [2026])
        driver = Driver(db, city)
        clients = []
        wm = city.area_people["working_member1"]
        for i in range(max_clients):
            pids = [driver.propose(community=i, title=f"老旧小区路灯维修{j + 1}号楼") for j in range(projects_per_client)]
            # the hand-written transaction's own projects (ShapeClient)
            shape = [driver.propose(community=i, title=f"楼道照明改造{j + 1}号楼") for j in range(projects_per_client)]
            sec = city.communities[i].people["secretary"]
            clients.append({"index": i, "projects": pids, "shape_projects": shape,
                            "secretary": (sec.person_id, sec.label), "member": (wm.person_id, wm.label)})
        with db.engine.begin() as conn:
            conn.execute(text("CREATE TABLE bench_raw (id INTEGER PRIMARY KEY, n INTEGER NOT NULL)"))
            for i in range(max_clients):
                conn.execute(text("INSERT INTO bench_raw (id, n) VALUES (:id, 0)"), {"id": i + 1})
        server: dict[str, str] = {}
        with db.engine.connect() as conn:
            if db.is_postgres:
                for name in ("server_version", "synchronous_commit", "fsync", "wal_sync_method", "shared_buffers"):
                    server[name] = str(conn.exec_driver_sql(f"SHOW {name}").scalar())
            else:
                server["sqlite_version"] = str(conn.exec_driver_sql("SELECT sqlite_version()").scalar())
                server["journal_mode"] = str(conn.exec_driver_sql("PRAGMA journal_mode").scalar())
                level = int(conn.exec_driver_sql("PRAGMA synchronous").scalar() or 0)
                server["synchronous"] = {0: "OFF", 1: "NORMAL", 2: "FULL", 3: "EXTRA"}.get(level, str(level))
        return Fixture(url=url, clients=clients, server=server)
    finally:
        db.dispose()


# --------------------------------------------------------------------------------------------- client


class EngineClient:
    """Alternates the two events over this client's own projects, one unit of work each."""

    def __init__(self, url: str, spec: dict[str, Any]) -> None:
        from store.db import Database
        from workflow.engine import Actor

        self.db = Database(url)
        self.secretary = Actor(*spec["secretary"])
        self.member = Actor(*spec["member"])
        self.projects = list(spec["projects"])
        self.state = self._states()
        self.i = 0

    def _states(self) -> dict[int, str]:
        from sqlalchemy import select

        from store.models import Project

        with self.db.uow(write=False) as uow:
            rows = uow.session.execute(select(Project.id, Project.state).where(Project.id.in_(self.projects)))
            return {pid: state for pid, state in rows}

    def __call__(self) -> None:
        from workflow.services import fire_event

        pid = self.projects[self.i % len(self.projects)]
        self.i += 1
        if self.state[pid] == "draft":
            out = fire_event(self.db, "project", pid, "submit_preliminary", self.secretary)
        else:
            out = fire_event(self.db, "project", pid, "return_for_revision", self.member, reason=REASON)
        if not out.ok:
            raise RuntimeError(f"project {pid}: {out.status} {out.verdict.code} {out.verdict.message}")
        self.state[pid] = out.to_state

    def close(self) -> None:
        self.db.dispose()


class RawClient:
    """``UPDATE bench_raw SET n = n + 1 WHERE id = :own_row; COMMIT`` on one held Core connection."""

    def __init__(self, url: str, spec: dict[str, Any]) -> None:
        from sqlalchemy import text

        from store.db import make_engine

        self.engine = make_engine(url)
        # same BEGIN as a write unit of work (BEGIN IMMEDIATE on SQLite; a plain BEGIN on PostgreSQL)
        self.conn = self.engine.connect().execution_options(fundflow_write=True)
        self.stmt = text("UPDATE bench_raw SET n = n + 1 WHERE id = :id")
        self.params = {"id": spec["index"] + 1}
        # the same in-process writer queue a unit of work uses on SQLite (store.db), so that both
        # columns wait for the database the same way
        from store.db import _writer_lock

        self.lock = _writer_lock(str(self.engine.url)) if self.engine.dialect.name == "sqlite" else None

    def __call__(self) -> None:
        if self.lock is None:
            self.conn.execute(self.stmt, self.params)
            self.conn.commit()
            return
        with self.lock:
            self.conn.execute(self.stmt, self.params)
            self.conn.commit()

    def close(self) -> None:
        self.conn.close()
        self.engine.dispose()


_SHAPE_POSTS = """(SELECT {agg}(CAST(po.id AS TEXT) || ':' || po.role || ':' || CAST(po.organisation_id AS TEXT), ',')
       FROM posts po WHERE po.person_id = {p} AND po.valid_from <= {p} AND (po.valid_to IS NULL OR po.valid_to >= {p}))"""
_AUDIT_COLUMNS = ("entity_type, entity_id, seq, actor_id, actor_label, post_id, role, event, from_state, to_state, "
                  "payload, reason, at, prev_hash, hash")


class ShapeClient:
    """The same shape as an audited transition, written by hand on the driver (psycopg / sqlite3, no
    SQLAlchemy): lock the project row and read the actor's posts in one statement, insert the audit event
    whose hash chains on the row's head, update the row's state, version and head, commit. It alternates
    the same two state changes on this client's own extra projects (its events verify with the engine's)."""

    def __init__(self, url: str, spec: dict[str, Any]) -> None:
        from sqlalchemy.engine import make_url

        from workflow import audit

        self.audit = audit
        self.projects = list(spec["shape_projects"])
        self.actors = {"draft": (*spec["secretary"], "community_secretary", "submit_preliminary",
                                 "preliminary_review", ""),
                       "preliminary_review": (*spec["member"], "working_member", "return_for_revision", "draft",
                                              REASON)}
        self.i = 0
        u = make_url(url)
        self.pg = u.get_backend_name() == "postgresql"
        self.lock: Any = None
        if self.pg:
            import psycopg

            self.conn: Any = psycopg.connect(u.set(drivername="postgresql").render_as_string(hide_password=False))
            self.lock_sql = ("SELECT p.state, p.version, p.audit_head, " + _SHAPE_POSTS.format(agg="string_agg", p="%s")
                             + " FROM projects p WHERE p.id = %s FOR UPDATE")
            self.write_sql = (f"WITH ev AS (INSERT INTO audit_events ({_AUDIT_COLUMNS}) VALUES "
                              f"({', '.join(['%s'] * 15)}) RETURNING id) "
                              "UPDATE projects SET state = %s, version = %s, audit_head = %s WHERE id = %s "
                              "RETURNING (SELECT id FROM ev)")
        else:
            from store.db import _writer_lock, make_engine

            self.conn = sqlite3.connect(str(u.database), check_same_thread=False, timeout=60, isolation_level=None)
            for pragma in ("foreign_keys=ON", "journal_mode=WAL", "synchronous=NORMAL", "busy_timeout=60000"):
                self.conn.execute(f"PRAGMA {pragma}")
            self.lock_sql = ("SELECT p.state, p.version, p.audit_head, " + _SHAPE_POSTS.format(agg="group_concat", p="?")
                             + " FROM projects p WHERE p.id = ?")
            self.insert_sql = f"INSERT INTO audit_events ({_AUDIT_COLUMNS}) VALUES ({', '.join(['?'] * 15)})"
            self.update_sql = "UPDATE projects SET state = ?, version = ?, audit_head = ? WHERE id = ?"
            # the same in-process writer queue a unit of work uses (store.db)
            engine = make_engine(url)
            self.lock = _writer_lock(str(engine.url))
            engine.dispose()
        placeholders = ", ".join(["%s" if self.pg else "?"] * len(self.projects))
        cur = self.conn.execute(f"SELECT id, state FROM projects WHERE id IN ({placeholders})", self.projects)
        self.state: dict[int, str] = dict(cur.fetchall())
        if self.pg:
            self.conn.commit()

    def __call__(self) -> None:
        if self.lock is None:
            self._transition()
            return
        with self.lock:
            self._transition()

    def _transition(self) -> None:
        import json

        audit = self.audit
        pid = self.projects[self.i % len(self.projects)]
        self.i += 1
        now = dt.datetime.now(dt.UTC)
        day = now.date() if self.pg else now.date().isoformat()
        expected = self.state[pid]
        person_id, label, role, event, to_state, reason = self.actors[expected]
        cur = self.conn.cursor()
        if not self.pg:
            cur.execute("BEGIN IMMEDIATE")
        cur.execute(self.lock_sql, (person_id, day, day, pid))
        state, version, head, posts = cur.fetchone()
        if state != expected:
            raise RuntimeError(f"project {pid} is {state}, not {expected}")
        post_id = next((int(p.split(":")[0]) for p in (posts or "").split(",") if p.split(":")[1:2] == [role]),
                       None)
        if post_id is None:
            raise RuntimeError(f"{label} holds no {role} post: {posts}")
        seq, prev = version + 1, head or audit.GENESIS
        payload = audit.normalise_payload({"payload": {}})
        digest = audit.compute_hash(prev, entity_type="project", entity_id=pid, seq=seq, actor_id=person_id,
                                    actor_label=label, post_id=post_id, role=role, event=event, from_state=state,
                                    to_state=to_state, payload=payload, reason=reason, at=now)
        row = ("project", pid, seq, person_id, label, post_id, role, event, state, to_state,
               json.dumps(payload, ensure_ascii=False), reason,
               now if self.pg else now.strftime("%Y-%m-%d %H:%M:%S.%f"), prev, digest)
        if self.pg:
            cur.execute(self.write_sql, (*row, to_state, seq, digest, pid))
            self.conn.commit()
        else:
            cur.execute(self.insert_sql, row)
            cur.execute(self.update_sql, (to_state, seq, digest, pid))
            cur.execute("COMMIT")
        self.state[pid] = to_state

    def close(self) -> None:
        self.conn.close()


def run_window(op: Any, go: float, warmup: float, seconds: float) -> tuple[int, list[float], float]:
    """Run ``op`` from ``go`` until the window ends; count and time the ones completed inside it.

    Also returns this client's (thread's) CPU seconds spent inside the window.
    """
    start, end = go + warmup, go + warmup + seconds
    while time.time() < go:
        time.sleep(0.001)
    count, lat = 0, []
    cpu0: float | None = None
    while True:
        if cpu0 is None and time.time() >= start:
            cpu0 = time.thread_time()
        t0 = time.perf_counter()
        op()
        t1 = time.perf_counter()
        now = time.time()
        if now >= end:
            break
        if now >= start and now - (t1 - t0) >= start:
            count += 1
            lat.append(t1 - t0)
    return count, lat, time.thread_time() - (cpu0 if cpu0 is not None else time.thread_time())


def worker(url: str, spec: dict[str, Any], commands: Any, results: Any) -> None:
    ops: dict[str, Any] = {}
    try:
        ops = {"engine": EngineClient(url, spec), "shape": ShapeClient(url, spec), "raw": RawClient(url, spec)}
        results.put(("ready", spec["index"], None))
        while True:
            cmd = commands.get()
            if cmd is None:
                break
            kind, go, warmup, seconds = cmd
            results.put(("done", spec["index"], run_window(ops[kind], go, warmup, seconds)))
    except BaseException as exc:  # noqa: BLE001 - reported by the parent
        import traceback

        results.put(("error", spec["index"], f"{type(exc).__name__}: {exc}\n{traceback.format_exc()}"))
    finally:
        for op in ops.values():
            op.close()


def threaded_workers(url: str, clients: list[tuple[dict[str, Any], Any]], results: Any) -> None:
    """One process running several clients, each in a thread of its own (``--pg-clients workers``)."""
    import threading

    threads = [threading.Thread(target=worker, args=(url, spec, commands, results)) for spec, commands in clients]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


# ---------------------------------------------------------------------------------------------- runs


@dataclass
class Cell:
    rate: float
    lat: list[float]
    client_cpu_ms: float
    """Client processes' CPU per transaction (ms)."""
    machine_busy: float
    """Whole machine's busy CPUs during the window (0..nproc), everything included."""
    machine_cpu_ms: float
    """Whole machine's CPU per transaction (ms): clients, database server and anything else running."""
    server_cpu_ms: float = 0.0
    """PostgreSQL: CPU of the server backends of the benchmark database per transaction (ms)."""
    load: float = 0.0
    """1-minute load average at the end of the window."""

    def ceiling(self, ncpu: int, single_writer: bool) -> float:
        """Transactions/s if client and server CPU per transaction were the only limit (an idle machine).

        SQLite has one writer at a time and a write unit of work holds the lock from ``BEGIN IMMEDIATE`` to
        ``COMMIT``, so there the transactions cannot overlap whatever the number of CPUs.
        """
        per_tx = self.client_cpu_ms + self.server_cpu_ms
        return 1e3 * (1 if single_writer else ncpu) / per_tx if per_tx else float("nan")


@dataclass
class Row:
    backend: str
    clients: int
    engine: Cell
    raw: Cell
    shape: Cell
    mode: str = "processes"
    """How the clients run: ``threads`` of one process or separate ``processes``."""

    @property
    def label(self) -> str:
        return f"{self.backend} ({self.mode})"

    @property
    def ratio(self) -> float:
        """engine ÷ ``UPDATE; COMMIT``"""
        return self.engine.rate / self.raw.rate if self.raw.rate else 0.0

    @property
    def shape_ratio(self) -> float:
        """engine ÷ the same transaction written by hand"""
        return self.engine.rate / self.shape.rate if self.shape.rate else 0.0


def backend_pids(backend: str) -> list[int]:
    """The PostgreSQL server processes serving the benchmark database (same machine)."""
    if backend != "postgresql":
        return []
    with _pg_admin() as conn:
        return [int(r[0]) for r in conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()", (PG_BENCH_DB,))]


def process_cpu(pids: list[int]) -> float:
    """CPU seconds (user + system) used so far by these processes; those that are gone count 0."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
        except (OSError, IndexError, ValueError):
            pass
    return total / os.sysconf("SC_CLK_TCK")


def cpu_ticks() -> tuple[int, int]:
    """(busy, total) jiffies of the whole machine, from /proc/stat."""
    try:
        fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    except (OSError, ValueError):
        return 0, 0
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)
    return sum(fields[:8]) - idle, sum(fields[:8])


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))]


def run_backend(backend: str, args: argparse.Namespace, tmp: Path, mode: str) -> tuple[list[Row], dict[str, str], int]:
    counts = sorted({int(c) for c in args.clients.split(",")})
    max_clients = max(counts)
    url = fresh_database(backend, tmp)
    try:
        t = time.time()
        fx = build(backend, url, max_clients, args.projects)
        print(f"  [{backend}] database built in {time.time() - t:.1f}s: {max_clients} communities, "
              f"{max_clients * args.projects} draft projects", flush=True)
        if mode == "threads":
            # The embedded deployment is one process (SPEC section 7): its concurrent clients are threads.
            import queue
            import threading

            results = queue.Queue()
            queues = [queue.Queue() for _ in range(max_clients)]
            procs = [threading.Thread(target=worker, args=(fx.url, fx.clients[i], queues[i], results), daemon=True)
                     for i in range(max_clients)]
        elif mode == "workers":
            # As the API is deployed: one worker process per CPU, each serving its clients from threads.
            # Client i runs in process i % nproc, so 1 client is 1 process and 8 clients are 2 × 4 threads.
            ctx = mp.get_context("spawn")
            results = ctx.Queue()
            queues = [ctx.Queue() for _ in range(max_clients)]
            nproc = min(len(os.sched_getaffinity(0)), max_clients)
            procs = [ctx.Process(target=threaded_workers, daemon=True,
                                 args=(fx.url, [(fx.clients[i], queues[i]) for i in range(k, max_clients, nproc)],
                                       results))
                     for k in range(nproc)]
        else:
            ctx = mp.get_context("spawn")
            results = ctx.Queue()
            queues = [ctx.Queue() for _ in range(max_clients)]
            procs = [ctx.Process(target=worker, args=(fx.url, fx.clients[i], queues[i], results), daemon=True)
                     for i in range(max_clients)]
        for p in procs:
            p.start()
        try:
            for _ in range(max_clients):
                _expect(results, "ready", 120)
            rows = []
            for n in counts:
                sums: dict[str, list[Cell]] = {"engine": [], "shape": [], "raw": []}
                for _round in range(args.rounds):
                    for kind in ("engine", "shape", "raw"):
                        cell = measure(backend, kind, n, queues, results, args)
                        sums[kind].append(cell)
                        server = f", server {cell.server_cpu_ms:.2f}" if backend == "postgresql" else ""
                        print(f"  [{backend}, {mode}] {n} client(s) {kind:6s}: {cell.rate:8.0f} tx/s  "
                              f"(CPU ms/tx: client {cell.client_cpu_ms:.2f}{server}; "
                              f"machine {cell.machine_busy:.2f}/{len(os.sched_getaffinity(0))} CPUs busy; "
                              f"load {cell.load:.2f})", flush=True)
                cells = {kind: merge(v) for kind, v in sums.items()}
                rows.append(Row(backend, n, cells["engine"], cells["raw"], cells["shape"], mode))
        finally:
            for q in queues:
                q.put(None)
            for p in procs:
                p.join(30)
                if p.is_alive() and hasattr(p, "kill"):
                    p.kill()
        events = verify_audit(fx.url)
        return rows, fx.server, events
    finally:
        drop_database(backend)


def measure(backend: str, kind: str, n: int, queues: list[Any], results: Any, args: argparse.Namespace) -> Cell:
    """One window of ``kind`` with the first ``n`` clients."""
    go = time.time() + 0.3
    for q in queues[:n]:
        q.put((kind, go, args.warmup, args.seconds))
    time.sleep(max(0.0, go + args.warmup - time.time() - 0.2))
    pids = backend_pids(backend)
    time.sleep(max(0.0, go + args.warmup - time.time()))
    busy0, total0 = cpu_ticks()
    server0 = process_cpu(pids)
    time.sleep(max(0.0, go + args.warmup + args.seconds - time.time()))
    busy1, total1 = cpu_ticks()
    server1 = process_cpu(pids)
    total, lat, cpu = 0, [], 0.0
    for _ in range(n):
        c, lt, cp = _expect(results, "done", args.warmup + args.seconds + 120)
        total += c
        lat.extend(lt)
        cpu += cp
    ncpu = len(os.sched_getaffinity(0))
    busy = ncpu * (busy1 - busy0) / (total1 - total0) if total1 > total0 else float("nan")
    return Cell(rate=total / args.seconds, lat=lat, client_cpu_ms=1e3 * cpu / max(total, 1),
                machine_busy=busy, machine_cpu_ms=1e3 * busy * args.seconds / max(total, 1),
                server_cpu_ms=1e3 * (server1 - server0) / max(total, 1), load=os.getloadavg()[0])


def merge(cells: list[Cell]) -> Cell:
    """The rounds of one kind as one cell: mean rate, all latencies, mean CPU and load."""
    k = len(cells)
    return Cell(rate=sum(c.rate for c in cells) / k, lat=[x for c in cells for x in c.lat],
                client_cpu_ms=sum(c.client_cpu_ms for c in cells) / k,
                machine_busy=sum(c.machine_busy for c in cells) / k,
                machine_cpu_ms=sum(c.machine_cpu_ms for c in cells) / k,
                server_cpu_ms=sum(c.server_cpu_ms for c in cells) / k, load=sum(c.load for c in cells) / k)


def _expect(results: Any, what: str, timeout: float) -> Any:
    kind, index, payload = results.get(timeout=timeout)
    if kind == "error":
        raise SystemExit(f"client {index} failed: {payload}")
    assert kind == what, (kind, what)
    return payload


def verify_audit(url: str) -> int:
    from store.db import Database
    from workflow.audit import verify

    db = Database(url)
    try:
        with db.uow(write=False) as uow:
            result = verify(uow.session)
    finally:
        db.dispose()
    if not result.ok:
        raise SystemExit(f"audit chain broken after the run: {result.broken}")
    return result.checked


# ------------------------------------------------------------------------------------------- profile


def profile(backend: str, args: argparse.Namespace, tmp: Path) -> None:
    """One client in this process under cProfile for ``--seconds``; prints the top functions."""
    import cProfile
    import pstats

    url = fresh_database(backend, tmp)
    try:
        fx = build(backend, url, 1, args.projects)
        client = EngineClient(fx.url, fx.clients[0])
        run_window(client, time.time(), 0, args.warmup)  # warm caches outside the profile
        prof = cProfile.Profile(time.process_time) if args.profile_clock == "cpu" else cProfile.Profile()
        prof.enable()
        count, _, _ = run_window(client, time.time(), 0, args.seconds)
        prof.disable()
        client.close()
        print(f"\n[{backend}] cProfile ({args.profile_clock} time), 1 client, {count} transitions in "
              f"{args.seconds:g}s (profiling overhead included):")
        from bench.layers import print_layers

        print_layers(prof, f"{backend}, 1 client, {count} transitions, {args.profile_clock} time")
        if args.top:
            stats = pstats.Stats(prof).strip_dirs()
            stats.sort_stats("cumulative").print_stats(args.top)
            stats.sort_stats("tottime").print_stats(args.top)
    finally:
        drop_database(backend)


# -------------------------------------------------------------------------------------------- report


def machine() -> list[str]:
    from bench.machine_info import cpu_model, memory_gib

    model = cpu_model() or "?"
    gib = memory_gib()
    mem = f"{gib:.0f} GiB" if gib is not None else "?"
    import psycopg
    import sqlalchemy

    return [f"date      {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M:%S} UTC",
            f"machine   {os.cpu_count()} CPUs (nproc {len(os.sched_getaffinity(0))}), {model}, {mem} RAM, "
            f"{platform.system()} {platform.release()}",
            f"python    {platform.python_version()} ({platform.python_implementation()}), "
            f"SQLAlchemy {sqlalchemy.__version__}, psycopg {psycopg.__version__}, "
            f"SQLite library {sqlite3.sqlite_version}",
            f"load      1-min load average {LOAD_AT_START:.2f} before the run started (other work on the machine "
            f"shares the CPUs)",
            f"speed     before / after the run: fixed pure-Python loop {SPEED_AT_START[0]:.0f} / {speed_probe():.0f} ms CPU; "
            f"socketpair round trip between two threads {SPEED_AT_START[1]:.1f} / {round_trip_probe():.1f} µs",
            "          (a shared VM's speed varies from hour to hour, round trips most: compare runs by these)"]


def speed_probe() -> float:
    """CPU milliseconds for a fixed pure-Python workload: a yardstick for this VM's speed at the time."""
    t = time.process_time()
    total = 0
    for i in range(2_000_000):
        total += i % 7
    return (time.process_time() - t) * 1e3


def round_trip_probe(n: int = 20_000) -> float:
    """Microseconds per one-byte round trip between two threads over a socketpair: the system calls and
    wake-ups every database round trip pays."""
    import socket
    import threading

    a, b = socket.socketpair()

    def echo() -> None:
        for _ in range(n):
            b.sendall(b.recv(1))

    t = threading.Thread(target=echo)
    t.start()
    start = time.perf_counter()
    for _ in range(n):
        a.sendall(b"x")
        a.recv(1)
    elapsed = time.perf_counter() - start
    t.join()
    a.close()
    b.close()
    return elapsed / n * 1e6


def report(rows: list[Row], servers: dict[str, dict[str, str]], events: dict[str, int],
           args: argparse.Namespace) -> None:
    print()
    print("fundflow engine benchmark")
    for line in machine():
        print(line)
    for backend, s in servers.items():
        print(f"{backend:9s} " + ", ".join(f"{k}={v}" for k, v in s.items()))
    print(f"events    {EVENTS}")
    print(f"window    {args.warmup:g}s warm-up + {args.seconds:g}s measured per cell; each client on its own "
          f"{args.projects} projects / own raw row")
    print("clients   workers: one process per CPU, the clients spread over them as threads (the API deployed with a")
    print("          worker per CPU, each serving requests from a thread pool); threads: threads of one process (one")
    print("          API worker; the embedded SQLite service); processes: a process per client (a worker per client)")
    print()
    head = (f"{'backend, clients as':<23}{'clients':>7}{'engine tx/s':>12}{'same-shape':>11}{'raw tx/s':>9}"
            f"{'eng÷shape':>10}{'eng÷raw':>8}{'engine p50/p99 ms':>19}{'shape p50/p99':>15}{'raw p50/p99':>13}"
            f"{'load e/s/r':>17}")
    print(head)
    print("-" * len(head))
    for r in rows:
        e, h, w = r.engine, r.shape, r.raw
        print(f"{r.label:<23}{r.clients:>7}{e.rate:>12,.0f}{h.rate:>11,.0f}{w.rate:>9,.0f}{r.shape_ratio:>10.2f}"
              f"{r.ratio:>8.2f}{_p(e):>19}{_p(h):>15}{_p(w):>13}"
              f"{f'{e.load:.1f}/{h.load:.1f}/{w.load:.1f}':>17}")
    print()
    ncpu = len(os.sched_getaffinity(0))
    print("CPU per transaction, ms. client: the client processes; server: the PostgreSQL backends serving them (on")
    print("SQLite the database runs inside the client); machine: all busy CPU in the window / tx, whatever ran it.")
    print(f"ceiling: {ncpu} CPUs / (client + server) — the engine's rate on this machine if it were otherwise idle;")
    print("on SQLite 1 / client: one writer at a time holds the lock for the whole transition.")
    head = (f"{'backend, clients as':<23}{'clients':>7}{'engine client+server':>21}{'machine':>8}{'ceiling':>9}"
            f"{'shape client+server':>20}{'machine':>8}{'raw client+server':>18}{'machine':>8}{'busy CPUs e/s/r':>17}")
    print(head)
    print("-" * len(head))
    for r in rows:
        e, h, w = r.engine, r.shape, r.raw
        print(f"{r.label:<23}{r.clients:>7}{_cs(e):>21}{e.machine_cpu_ms:>8.2f}"
              f"{e.ceiling(ncpu, r.backend == 'sqlite'):>9,.0f}{_cs(h):>20}{h.machine_cpu_ms:>8.2f}{_cs(w):>18}"
              f"{w.machine_cpu_ms:>8.2f}{f'{e.machine_busy:.2f}/{h.machine_busy:.2f}/{w.machine_busy:.2f}':>17}")
    print()
    for backend, n in events.items():
        print(f"audit     {backend}: chain verified after the run ({n} events)")
    print()
    from bench.summary import Results

    results = Results("engine")
    top = max(int(c) for c in args.clients.split(","))
    for r in rows:
        if r.backend == "postgresql" and r.mode == "workers":
            ok = r.shape_ratio >= TARGET_SHAPE_RATIO
            results.add(f"PostgreSQL ({r.mode}): engine ÷ same-shape ≥ {TARGET_SHAPE_RATIO} with {r.clients} "
                        "client(s)", f"{r.shape_ratio:.2f} (÷ UPDATE;COMMIT {r.ratio:.2f})", ok, load=r.engine.load)
    for r in rows:
        if r.clients == top and r.mode in ("workers", "threads") and (r.backend == "sqlite" or r.mode == "workers"):
            ok = r.engine.rate >= TARGET_RATE
            note = "" if r.backend == "sqlite" or LOAD_AT_START < 1.5 else "machine not quiet"
            results.add(f"{'SQLite' if r.backend == 'sqlite' else 'PostgreSQL'} ({r.mode}): ≥ {TARGET_RATE:,.0f} "
                        f"engine tx/s with {r.clients} clients", f"{r.engine.rate:,.0f} tx/s "
                        f"(ceiling {r.engine.ceiling(ncpu, r.backend == 'sqlite'):,.0f})", ok, load=r.engine.load,
                        note=note)
    for t in results.targets:
        print(f"target    {t.target}: {t.measured} {'MET' if t.met else 'NOT MET'} (load {t.load:.2f})"
              + (f" [{t.note}]" if t.note else ""))
    if args.save:
        results.save()


def _p(c: Cell) -> str:
    return f"{pct(c.lat, .5) * 1e3:.2f}/{pct(c.lat, .99) * 1e3:.2f}"


def _cs(c: Cell) -> str:
    return f"{c.client_cpu_ms:.2f}+{c.server_cpu_ms:.2f}"


def _modes(value: str, ap: argparse.ArgumentParser) -> list[str]:
    modes = [m.strip() for m in value.split(",") if m.strip()]
    for m in modes:
        if m not in ("threads", "workers", "processes"):
            ap.error(f"unknown client mode {m!r}")
    return modes


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else "")
    ap.add_argument("--seconds", type=float, default=5.0, help="measured window per cell (default 5)")
    ap.add_argument("--warmup", type=float, default=1.0, help="warm-up before each window (default 1)")
    ap.add_argument("--backends", default="sqlite,postgresql")
    ap.add_argument("--clients", default="1,8", help="client counts (default 1,8)")
    ap.add_argument("--projects", type=int, default=4, help="projects per client (default 4)")
    ap.add_argument("--sqlite-clients", default="threads",
                    help="how SQLite clients run, comma-separated: threads (of one process: the embedded "
                         "deployment, default), processes")
    ap.add_argument("--pg-clients", default="workers,threads,processes",
                    help="how PostgreSQL clients run, comma-separated: workers (one process per CPU, clients as "
                         "their threads: the API's deployment), threads (of one process), processes (one each); "
                         "default all three")
    ap.add_argument("--rounds", type=int, default=1,
                    help="engine, same-shape and raw windows alternate this many times per client count (default 1)")
    ap.add_argument("--no-save", dest="save", action="store_false",
                    help="do not record the targets in var/bench/engine.json (bench/summary.py)")
    ap.add_argument("--profile", action="store_true", help="cProfile one client instead of the benchmark")
    ap.add_argument("--profile-clock", choices=("wall", "cpu"), default="wall",
                    help="what the profile measures: wall time (waits included) or this process's CPU time")
    ap.add_argument("--top", type=int, default=30, help="rows of the profile to print")
    args = ap.parse_args(argv)
    backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    for b in backends:
        if b not in ("sqlite", "postgresql"):
            ap.error(f"unknown backend {b!r}")
    global SPEED_AT_START
    SPEED_AT_START = (min(speed_probe() for _ in range(3)), round_trip_probe())
    t0 = time.time()
    with tempfile.TemporaryDirectory(prefix="fundflow-bench-") as d:
        tmp = Path(d)
        if args.profile:
            for b in backends:
                profile(b, args, tmp)
            return 0
        rows: list[Row] = []
        servers: dict[str, dict[str, str]] = {}
        events: dict[str, int] = {}
        for b in backends:
            for mode in _modes(args.sqlite_clients if b == "sqlite" else args.pg_clients, ap):
                print(f"{b}, clients as {mode}:", flush=True)
                r, server, n = run_backend(b, args, tmp / f"{b}-{mode}" if b == "sqlite" else tmp, mode)
                rows += r
                servers[b] = server
                events[f"{b} ({mode})"] = n
    report(rows, servers, events, args)
    print(f"\n(total run {time.time() - t0:.0f}s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
