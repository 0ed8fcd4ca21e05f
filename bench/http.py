"""HTTP benchmark: a running server (uvicorn workers on 127.0.0.1) over PostgreSQL with the demo data.

Measures requests per second and p50 / p99 latency at 1, 8 and 32 concurrent clients for
``GET /api/v1/projects/{id}``, for firing an event (``record_followup``: keeps the state, writes an
audit event, a follow-up row and its deadline change, then renders the project), and for the trivial
``GET /api/v1/ping`` in the same run. Targets (issue 5): p99 < 50 ms at 32 clients; events at least
30 % of the trivial endpoint's requests per second.

    python bench/http.py [--workers 2] [--seconds 5] [--clients 1,8,32] [--projects 64]
                         [--load wrk|python] [--keep] [--json]
    python bench/http.py --profile [--requests 300] [--top 0]   # in-process, CPU by layer (bench/http_profile.py)

**Load generator.** ``wrk`` (Debian package ``wrk``) when it is installed: a separate C process with
one thread and N keep-alive connections (closed loop: each connection sends its next request when the
previous answer arrived), driven by ``bench/http.lua``, which rotates the requests over the projects
and counts every non-2xx answer. Without wrk (or with ``--load python``) a fallback in this process:
one thread and one httpx connection per client (it costs far more client CPU than wrk, which on a
small machine takes CPU from the server). The output names the generator that ran.

**Server.** Each worker is its own uvicorn process listening on the same port with SO_REUSEPORT;
the socket is made as a TCP socket explicitly so that asyncio sets TCP_NODELAY on each connection
(``uvicorn --workers`` hands its children a socket on which it does not, and every keep-alive
response then waits ~40 ms for a delayed ACK). The in-service scheduler is off
(``FUNDFLOW_SCHEDULER=never``) so that its sweeps do not land in a measured window.

**Data.** The database ``fundflow_bench_http`` is dropped and recreated (``BENCH_PG_URL`` names the
server, default ``postgresql://postgres@127.0.0.1:5432/postgres``): the demo city plus ``--projects``
projects in progress, all reached by firing real events. Requests rotate over these projects so that
clients seldom wait on each other's row lock (the engine locks the project's row for each event).

**CPU per request.** *server*: the worker processes' CPU plus that of the PostgreSQL backends serving
the benchmark database (both from ``/proc``), divided by the requests of the window; *client*: the
load generator's CPU; *machine*: all busy CPU of the machine in the window per request, whoever used
it. On a shared machine the absolute rates follow the other load; the server CPU per request does not.
"""
from __future__ import annotations

import sys
from pathlib import Path

# run as a script, bench/ is sys.path[0]: keep it off the path so that no file there shadows the standard library
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

import argparse  # noqa: E402 - after the path fix above
import asyncio  # noqa: E402
import datetime as dt  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import platform  # noqa: E402
import resource  # noqa: E402
import shutil  # noqa: E402
import socket  # noqa: E402
import subprocess  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402
from dataclasses import dataclass  # noqa: E402
from typing import Any  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DB_NAME = "fundflow_bench_http"
LUA = Path(__file__).resolve().with_suffix(".lua")
CLK_TCK = os.sysconf("SC_CLK_TCK")
SERVER_EXTRAS = True


# ------------------------------------------------------------------------------------- the server


def serve_worker(port: int) -> None:
    """One uvicorn worker on a shared SO_REUSEPORT TCP socket (run as a subprocess)."""
    import uvicorn

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind(("127.0.0.1", port))
    sock.listen(2048)
    # as deployed, uvicorn's standard extras (httptools, uvloop); --plain-server measures h11 and asyncio instead
    extras = os.environ.get("BENCH_SERVER_EXTRAS") == "1"
    config = uvicorn.Config("api.app:app", log_level="warning", access_log=False, lifespan="on",
                            http="httptools" if extras else "h11")
    server = uvicorn.Server(config).serve(sockets=[sock])
    if extras:
        import uvloop

        uvloop.run(server)
    else:
        asyncio.run(server)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(url: str, port: int, workers: int) -> list[subprocess.Popen[bytes]]:
    env = {**os.environ, "DATABASE_URL": url, "PYTHONPATH": str(ROOT), "FUNDFLOW_SCHEDULER": "never",
           "BENCH_SERVER_EXTRAS": "1" if SERVER_EXTRAS else "0"}
    procs = [subprocess.Popen([sys.executable, __file__, "--serve-worker", str(port)], env=env, cwd=ROOT)
             for _ in range(workers)]
    import httpx

    deadline = time.time() + 240  # a loaded machine takes a while to import the app
    while time.time() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200:
                # every worker answers (SO_REUSEPORT spreads new connections over them)
                for _ in range(workers * 8):
                    httpx.get(f"http://127.0.0.1:{port}/api/v1/ping", timeout=5)
                return procs
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    stop_server(procs)
    raise RuntimeError("the server did not start")


def stop_server(procs: list[subprocess.Popen[bytes]]) -> None:
    for p in procs:
        p.terminate()
    for p in procs:
        try:
            p.wait(timeout=10)
        except subprocess.TimeoutExpired:
            p.kill()


# -------------------------------------------------------------------------------------- the data


def prepare_database(admin_url: str, projects: int) -> str:
    import psycopg
    from sqlalchemy.engine import make_url

    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{DB_NAME}"')
    url = str(make_url(admin_url).set(drivername="postgresql+psycopg", database=DB_NAME))
    from store.bootstrap import prepare
    from store.db import Database
    from workflow.demo import Driver, build_demo

    db = Database(url)
    prepare(db)
    city = build_demo(db)
    drv = Driver(db, city)
    for i in range(projects):
        drv.new_project("in_progress", community=i % len(city.communities), title=f"基准项目{i + 1:03d}",
                        amount="3000.00")
    db.dispose()
    return url


def drop_database(admin_url: str) -> None:
    import psycopg

    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)')


def pick_projects(url: str) -> list[int]:
    from sqlalchemy import select

    from store.db import Database
    from store.models import Project

    db = Database(url)
    with db.uow(write=False) as uow:
        pids = list(uow.session.execute(select(Project.id).where(Project.state == "in_progress")
                                        .order_by(Project.id)).scalars())
    db.dispose()
    assert pids
    return [int(p) for p in pids]


# --------------------------------------------------------------------------------------- the CPU


def proc_cpu(pid: int) -> float | None:
    """CPU seconds (user + system) of one process, None when it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def machine_busy() -> float:
    """Busy CPU seconds of the whole machine since boot (all but idle and iowait)."""
    values = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return (sum(values) - values[3] - values[4]) / CLK_TCK


class CpuMeter:
    """CPU of the server (its workers and the PostgreSQL backends of the benchmark database) over a window."""

    def __init__(self, admin_url: str, workers: list[int]) -> None:
        import psycopg

        self.workers = workers
        self.conn = psycopg.connect(admin_url, autocommit=True)  # to the admin database: not counted

    def _backends(self) -> tuple[list[int], int]:
        pids = [int(r[0]) for r in self.conn.execute("SELECT pid FROM pg_stat_activity WHERE datname = %s",
                                                     (DB_NAME,))]
        sessions = self.conn.execute("SELECT sessions FROM pg_stat_database WHERE datname = %s",
                                     (DB_NAME,)).fetchone()
        return pids, int(sessions[0]) if sessions else 0

    def snapshot(self) -> dict[str, Any]:
        pids, sessions = self._backends()
        return {"workers": {p: proc_cpu(p) or 0.0 for p in self.workers},
                "backends": {p: proc_cpu(p) or 0.0 for p in pids}, "sessions": sessions,
                "machine": machine_busy(), "children": _children_cpu(), "self": time.process_time()}

    def since(self, before: dict[str, Any]) -> dict[str, float]:
        after = self.snapshot()
        workers = sum(after["workers"][p] - before["workers"].get(p, 0.0) for p in self.workers)
        # a backend born in the window counts whole; one that ended in the window is lost (see "sessions")
        backends = sum(cpu - before["backends"].get(p, 0.0) for p, cpu in after["backends"].items())
        return {"workers": workers, "postgres": backends, "sessions": after["sessions"] - before["sessions"],
                "machine": after["machine"] - before["machine"], "wrk": after["children"] - before["children"],
                "python": after["self"] - before["self"]}

    def close(self) -> None:
        self.conn.close()


def _children_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)  # waited-for children only: the wrk runs
    return r.ru_utime + r.ru_stime


# -------------------------------------------------------------------------------------- the load


@dataclass(frozen=True)
class Endpoint:
    name: str
    method: str
    path: str
    """May contain ``{id}``: the requests rotate over the projects."""
    body: str = ""
    auth: bool = True
    prefer: str = ""
    """The ``Prefer`` header (RFC 7240), e.g. ``return=minimal``."""


@dataclass
class Result:
    requests: int
    seconds: float
    p50: float
    p99: float
    non2xx: int
    first_non2xx: str
    cpu: dict[str, float]
    load: float = 0.0

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def per_request(self, key: str) -> float:
        """CPU milliseconds per request."""
        return self.cpu[key] * 1000 / self.requests if self.requests else 0.0


def run_wrk(base: str, ep: Endpoint, token: str, pids: list[int], clients: int, seconds: float,
            meter: CpuMeter | None) -> Result:
    seconds = max(1, round(seconds))  # wrk takes whole seconds
    cmd = ["wrk", "-t1", f"-c{clients}", f"-d{seconds}s", "--timeout", "30s", "-s", str(LUA), base, "--",
           ep.method, ep.path, token if ep.auth else "", ",".join(map(str, pids)), ep.body, ep.prefer]
    before = meter.snapshot() if meter else None
    proc = subprocess.run(cmd, capture_output=True, timeout=seconds + 120)
    cpu = meter.since(before) if meter and before else {}
    out = proc.stdout.decode("utf-8", "replace")
    line = next((x for x in out.splitlines() if x.startswith("WRK ")), None)
    if proc.returncode != 0 or line is None:
        raise RuntimeError(f"wrk failed ({proc.returncode}): {out}\n{proc.stderr.decode('utf-8', 'replace')}")
    r = json.loads(line[4:])
    cpu["client"] = cpu.get("wrk", 0.0)
    return Result(requests=r["requests"], seconds=r["duration_us"] / 1e6, p50=r["p50_us"] / 1000,
                  p99=r["p99_us"] / 1000, non2xx=r["non2xx"] + r["socket_errors"] + r["timeouts"],
                  first_non2xx=r["first_non2xx"], cpu=cpu)


def run_python(base: str, ep: Endpoint, token: str, pids: list[int], clients: int, seconds: float,
               meter: CpuMeter | None) -> Result:
    """Fallback: ``clients`` threads, each with its own keep-alive httpx connection, requesting back to back."""
    import httpx

    headers = {"Authorization": f"Bearer {token}"} if ep.auth else {}
    if ep.body:
        headers["Content-Type"] = "application/json"
    if ep.prefer:
        headers["Prefer"] = ep.prefer
    content = ep.body.encode() if ep.body else None
    latencies: list[list[float]] = [[] for _ in range(clients)]
    bad = [0] * clients
    first: list[str] = []
    barrier = threading.Barrier(clients + 1)
    stop_at = [0.0]

    def worker(i: int) -> None:
        transport = httpx.HTTPTransport(socket_options=[(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)])
        with httpx.Client(base_url=base, transport=transport, timeout=30) as c:
            barrier.wait()
            mine, k = latencies[i], i * 7
            while True:
                k += 1
                path = ep.path.replace("{id}", str(pids[k % len(pids)]))
                t0 = time.perf_counter()
                if t0 >= stop_at[0]:
                    break
                r = c.request(ep.method, path, headers=headers, content=content)
                mine.append(time.perf_counter() - t0)
                if not 200 <= r.status_code <= 299:
                    bad[i] += 1
                    if not first:
                        first.append(f"{r.status_code} {r.text[:300]}")

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(clients)]
    for t in threads:
        t.start()
    before = meter.snapshot() if meter else None
    t_start = time.perf_counter()
    stop_at[0] = t_start + seconds
    barrier.wait()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - t_start
    cpu = meter.since(before) if meter and before else {}
    cpu["client"] = cpu.get("python", 0.0)
    lat = sorted(x for xs in latencies for x in xs)
    n = len(lat)
    return Result(requests=n, seconds=elapsed, p50=lat[n // 2] * 1000 if n else 0.0,
                  p99=lat[min(n - 1, int(n * 0.99))] * 1000 if n else 0.0, non2xx=sum(bad),
                  first_non2xx=first[0] if first else "", cpu=cpu)


# ------------------------------------------------------------------------------------ the report


def engine_cpu(url: str, pids: list[int], followup: str, n: int = 200) -> tuple[float, float]:
    """(client, PostgreSQL) CPU ms per ``record_followup`` fired through the engine in this process, one unit
    of work each, as the API's route does (without HTTP, authentication or the answer)."""
    from sqlalchemy import select

    from store.db import Database
    from store.models import Person
    from workflow.engine import Actor
    from workflow.services import fire_event

    db = Database(url, pool_size=1, max_overflow=0)
    try:
        with db.engine.connect() as conn:
            backend = int(conn.exec_driver_sql("SELECT pg_backend_pid()").scalar() or 0)
        with db.uow(write=False) as uow:
            pid_ = uow.session.execute(select(Person.id).where(Person.username == "gw_weiyuan1")).scalar_one()
        actor = Actor(pid_, "gw_weiyuan1")
        payload = json.loads(followup)
        for i in range(20):  # warm-up
            fire_event(db, "project", pids[i % len(pids)], "record_followup", actor, dict(payload))
        server0, client0 = proc_cpu(backend) or 0.0, time.process_time()
        for i in range(n):
            out = fire_event(db, "project", pids[i % len(pids)], "record_followup", actor, dict(payload))
            assert out.ok, out.verdict
        client = time.process_time() - client0
        server = (proc_cpu(backend) or 0.0) - server0
        return client * 1000 / n, server * 1000 / n
    finally:
        db.dispose()


def machine_facts(url: str, workers: int, load: str, why: str) -> list[str]:
    import fastapi
    import psycopg
    import sqlalchemy
    import uvicorn

    from bench.machine_info import cpu_model, memory_gib

    cpu = cpu_model()
    gib = memory_gib()
    mem = f"{gib:.1f} GiB" if gib is not None else ""
    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://")) as conn:
        pg = conn.execute("SHOW server_version").fetchone()[0]  # type: ignore[index]
        sync = conn.execute("SHOW synchronous_commit").fetchone()[0]  # type: ignore[index]
    avg = os.getloadavg()
    if load == "wrk":
        version = subprocess.run(["wrk", "--version"], capture_output=True, text=True).stdout.split("\n")[0]
        client = f"wrk ({version.split(' Copyright')[0]}), 1 thread, one keep-alive connection per client, bench/http.lua"
    else:
        client = f"python ({why}): httpx, one thread and one keep-alive connection per client, in this process"
    return [
        f"date: {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC",
        f"machine: {platform.machine()}, {os.cpu_count()} CPUs ({cpu}), {mem} RAM, {platform.platform()}",
        f"load average before the run: {avg[0]:.2f} {avg[1]:.2f} {avg[2]:.2f} (other processes share these CPUs)",
        f"python {platform.python_version()}, fastapi {fastapi.__version__}, uvicorn {uvicorn.__version__}, "
        f"sqlalchemy {sqlalchemy.__version__}, psycopg {psycopg.__version__}",
        f"postgresql {pg} on 127.0.0.1 (synchronous_commit={sync}); server: {workers} uvicorn workers "
        f"({'httptools, uvloop' if SERVER_EXTRAS else 'h11, asyncio'})",
        f"load generator: {client}, on the same machine",
    ]


def followup_body() -> str:
    """The body of every ``record_followup`` request."""
    from workflow import clock

    return json.dumps({"visited_on": clock.today().isoformat(), "notes": "现场查看,施工进度正常。"}, ensure_ascii=False)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--serve-worker", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--seconds", type=float, default=5.0)
    ap.add_argument("--warmup", type=float, default=1.0)
    ap.add_argument("--clients", default="1,8,32")
    ap.add_argument("--projects", type=int, default=64, help="projects in progress the requests rotate over")
    ap.add_argument("--load", choices=["wrk", "python"], default=None,
                    help="load generator (default: wrk when installed, else the python fallback)")
    ap.add_argument("--keep", action="store_true", help="keep the database afterwards")
    ap.add_argument("--json", action="store_true", help="also print the figures as JSON")
    ap.add_argument("--plain-server", action="store_true",
                    help="serve with h11 and asyncio instead of uvicorn's standard extras (httptools, uvloop) that "
                         "the service runs with; the summary is not recorded")
    ap.add_argument("--profile", action="store_true",
                    help="no server and no load: call the app in this process and print its CPU per request and "
                         "a profile grouped by layer (bench/http_profile.py)")
    ap.add_argument("--requests", type=int, default=300, help="--profile: requests per endpoint")
    ap.add_argument("--top", type=int, default=0, help="--profile: also print the profile's top N functions")
    args = ap.parse_args()
    global SERVER_EXTRAS
    SERVER_EXTRAS = not args.plain_server
    if args.serve_worker:
        serve_worker(args.serve_worker)
        return

    load = args.load or ("wrk" if shutil.which("wrk") else "python")
    why = "--load python" if args.load == "python" else "wrk is not installed"
    if load == "wrk" and not shutil.which("wrk"):
        sys.exit("wrk is not installed (Debian: apt-get install wrk); use --load python")
    runner: Callable[..., Result] = run_wrk if load == "wrk" else run_python
    admin_url = os.environ.get("BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
    clients = [int(x) for x in args.clients.split(",")]
    print(f"preparing the database (demo data and {args.projects} projects in progress) …", flush=True)
    url = prepare_database(admin_url, args.projects)
    pids = pick_projects(url)
    if args.profile:
        from bench.http_profile import run as run_profile

        try:
            run_profile(url, admin_url, pids, followup_body(), args.requests, args.top)
        finally:
            if not args.keep:
                drop_database(admin_url)
        return
    port = free_port()
    procs = start_server(url, port, args.workers)
    base = f"http://127.0.0.1:{port}"
    meter = None
    try:
        import httpx

        from workflow.demo import DEMO_PASSWORD

        token = httpx.post(f"{base}/api/v1/auth/token", data={"username": "gw_weiyuan1", "password": DEMO_PASSWORD},
                           timeout=30).json()["access_token"]
        followup = followup_body()
        endpoints = [
            Endpoint("GET /api/v1/ping (trivial)", "GET", "/api/v1/ping", auth=False),
            Endpoint("GET /api/v1/projects/{id}", "GET", "/api/v1/projects/{id}"),
            Endpoint("POST …/{id}/events/record_followup", "POST", "/api/v1/projects/{id}/events/record_followup",
                     body=followup),
            Endpoint("  … with Prefer: return=minimal", "POST", "/api/v1/projects/{id}/events/record_followup",
                     body=followup, prefer="return=minimal"),
        ]
        meter = CpuMeter(admin_url, [p.pid for p in procs])
        print("\n".join(machine_facts(url, args.workers, load, why)))
        print(f"each cell: {args.seconds:g} s measured after {args.warmup:g} s of warm-up; requests rotate over "
              f"{len(pids)} projects in progress (record_followup by working member gw_weiyuan1)")
        print("CPU ms/request: server = uvicorn workers + PostgreSQL backends; client = load generator; "
              "machine = every busy CPU\n")
        head = (f"{'endpoint':<36} {'clients':>7} {'requests':>8} {'req/s':>7} {'p50 ms':>7} {'p99 ms':>7} "
                f"{'non-2xx':>7} {'server':>7} {'(app':>6} {'+ pg)':>6} {'client':>6} {'machine':>7}")
        print(head)
        results: dict[str, dict[int, Result]] = {}
        failed = False
        for ep in endpoints:
            for n in clients:
                if args.warmup > 0:
                    runner(base, ep, token, pids, n, args.warmup, None)
                r = runner(base, ep, token, pids, n, args.seconds, meter)
                r.load = os.getloadavg()[0]
                results.setdefault(ep.name, {})[n] = r
                server = r.per_request("workers") + r.per_request("postgres")
                print(f"{ep.name:<36} {n:>7} {r.requests:>8} {r.rps:>7.0f} {r.p50:>7.1f} {r.p99:>7.1f} "
                      f"{r.non2xx:>7} {server:>7.2f} {r.per_request('workers'):>6.2f} {r.per_request('postgres'):>6.2f} "
                      f"{r.per_request('client'):>6.2f} {r.per_request('machine'):>7.2f}  load {r.load:.2f}", flush=True)
                if r.non2xx:
                    failed = True
                    print(f"    ! {r.non2xx} answers were not 2xx, first: {r.first_non2xx}", file=sys.stderr)
                if r.cpu.get("sessions"):
                    print(f"    ({r.cpu['sessions']:.0f} new PostgreSQL sessions in the window: their CPU is "
                          "partly missing)")
        print()
        names = [ep.name for ep in endpoints]
        top = max(clients)
        engine_client, engine_server = engine_cpu(url, pids, followup)
        engine_ms = engine_client + engine_server
        load = os.getloadavg()[0]
        print(f"the engine alone (workflow.services.fire_event record_followup in this process, same database): "
              f"{engine_ms:.2f} ms CPU per transition (client {engine_client:.2f} + PostgreSQL {engine_server:.2f};"
              f" load {load:.2f})")
        from bench.summary import Results

        summary = Results("http")
        get, event, minimal = names[1], names[2], names[3]
        mid = 8 if 8 in clients else top
        for name in (event, minimal):
            r = results[name][mid]
            server = r.per_request("workers") + r.per_request("postgres")
            summary.add(f"server CPU per event{' (return=minimal)' if name == minimal else ''} ≤ 2 × the "
                        f"engine's ({mid} clients)", f"{server:.2f} ms = {server / engine_ms:.1f} × {engine_ms:.2f} ms",
                        r.requests > 0 and server <= 2 * engine_ms, load=r.load)
        r = results[get][top]
        server = r.per_request("workers") + r.per_request("postgres")
        summary.add(f"server CPU per GET project ≤ 1 ms ({top} clients)", f"{server:.2f} ms",
                    r.requests > 0 and server <= 1.0, load=r.load)
        summary.add(f"GET project p99 < 50 ms at {top} clients", f"{r.p99:.1f} ms ({r.requests} requests)",
                    r.requests > 0 and r.p99 < 50, load=r.load)
        for name in (event, minimal):
            r = results[name][mid]
            summary.add(f"event{' (return=minimal)' if name == minimal else ''} p99 < 50 ms at {mid} clients",
                        f"{r.p99:.1f} ms ({r.requests} requests)", r.requests > 0 and r.p99 < 50, load=r.load)
        for t in summary.targets:
            print(f"target {t.target}: {t.measured} — {'met' if t.met else 'NOT met'} (load {t.load:.2f})")
        if SERVER_EXTRAS:
            summary.save()
        if args.json:
            print(json.dumps({name: {n: {"requests": r.requests, "rps": r.rps, "p50_ms": r.p50, "p99_ms": r.p99,
                                         "non2xx": r.non2xx, "cpu_ms_per_request": {
                                             k: r.per_request(k) for k in ("workers", "postgres", "client", "machine")}}
                                     for n, r in per.items()} for name, per in results.items()}, indent=2))
        if failed:
            sys.exit("some answers were not 2xx: the figures above do not measure successful requests")
    finally:
        if meter is not None:
            meter.close()
        stop_server(procs)
        if not args.keep:
            drop_database(admin_url)


if __name__ == "__main__":
    main()
