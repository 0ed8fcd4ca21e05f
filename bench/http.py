"""HTTP benchmark: a running server (uvicorn workers on 127.0.0.1) over PostgreSQL with the demo data.

Measures p50 / p99 latency and requests per second at 1, 8 and 32 concurrent clients for
``GET /api/v1/projects/{id}``, for firing an event (``record_followup``: keeps the state, writes an
audit event, a follow-up row and its deadline change, then renders the project), and for the trivial
``GET /api/v1/ping`` in the same run. Targets: p99 < 50 ms at 32 clients; events at least 30 % of
the trivial endpoint's requests per second.

    python bench/http.py [--workers 2] [--seconds 5] [--clients 1,8,32] [--keep]

The database ``fundflow_bench_http`` is dropped and recreated (``BENCH_PG_URL`` names the server,
default ``postgresql://postgres@127.0.0.1:5432/postgres``). Each worker is its own uvicorn process
listening on the same port with SO_REUSEPORT; the socket is made as a TCP socket explicitly so that
asyncio sets TCP_NODELAY on each connection (``uvicorn --workers`` hands its children a socket on
which it does not, and every keep-alive response then waits ~40 ms for a delayed ACK).
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
import socket  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DB_NAME = "fundflow_bench_http"


# ------------------------------------------------------------------------------------- the server


def serve_worker(port: int) -> None:
    """One uvicorn worker on a shared SO_REUSEPORT TCP socket (run as a subprocess)."""
    import uvicorn

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind(("127.0.0.1", port))
    sock.listen(2048)
    config = uvicorn.Config("api.app:app", log_level="warning", access_log=False, lifespan="on")
    asyncio.run(uvicorn.Server(config).serve(sockets=[sock]))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(url: str, port: int, workers: int) -> list[subprocess.Popen[bytes]]:
    env = {**os.environ, "DATABASE_URL": url, "PYTHONPATH": str(ROOT)}
    procs = [subprocess.Popen([sys.executable, __file__, "--serve-worker", str(port)], env=env, cwd=ROOT)
             for _ in range(workers)]
    import httpx

    deadline = time.time() + 60
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
    # one project in progress per client: the engine locks the project row for each event, so clients
    # firing at one project would queue on that lock by design; real users work on different projects
    drv = Driver(db, city)
    for i in range(projects):
        drv.new_project("in_progress", community=i % len(city.communities), title=f"基准项目{i + 1:02d}",
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


# -------------------------------------------------------------------------------------- the load


def client(base: str):  # type: ignore[no-untyped-def]
    import httpx

    transport = httpx.HTTPTransport(socket_options=[(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)])
    return httpx.Client(base_url=base, transport=transport, timeout=30)


def run_load(base: str, make_request, clients: int, seconds: float, warmup: float) -> dict[str, float]:  # type: ignore[no-untyped-def]
    """``clients`` threads, each with its own keep-alive connection, requesting back to back."""
    latencies: list[list[float]] = [[] for _ in range(clients)]
    errors = [0] * clients
    start_at = time.perf_counter() + warmup
    stop_at = start_at + seconds
    barrier = threading.Barrier(clients)

    def worker(i: int) -> None:
        with client(base) as c:
            barrier.wait()
            mine = latencies[i]
            while True:
                t0 = time.perf_counter()
                if t0 >= stop_at:
                    break
                r = make_request(c, i)
                t1 = time.perf_counter()
                if r.status_code != 200:
                    errors[i] += 1
                    if errors[i] == 1:
                        print(f"    ! {r.status_code} {r.text[:200]}", file=sys.stderr)
                if t0 >= start_at:
                    mine.append(t1 - t0)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    lat = sorted(x for xs in latencies for x in xs)
    n = len(lat)
    return {"requests": n, "rps": n / seconds, "p50": lat[n // 2] * 1000 if n else 0.0,
            "p99": lat[min(n - 1, int(n * 0.99))] * 1000 if n else 0.0, "errors": sum(errors),
            "mean": statistics.fmean(lat) * 1000 if n else 0.0}


# ------------------------------------------------------------------------------------ the report


def machine_facts(url: str, workers: int) -> list[str]:
    import fastapi
    import psycopg
    import sqlalchemy
    import uvicorn

    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = ""
    try:
        kb = int(Path("/proc/meminfo").read_text().split()[1])
        mem = f"{kb / 1024 / 1024:.1f} GiB"
    except (OSError, ValueError, IndexError):
        pass
    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://")) as conn:
        pg = conn.execute("SHOW server_version").fetchone()[0]  # type: ignore[index]
        sync = conn.execute("SHOW synchronous_commit").fetchone()[0]  # type: ignore[index]
    load = os.getloadavg()
    return [
        f"date: {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC",
        f"machine: {platform.machine()}, {os.cpu_count()} CPUs ({cpu}), {mem} RAM, {platform.platform()}",
        f"load average before the run: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} (other processes share these CPUs)",
        f"python {platform.python_version()}, fastapi {fastapi.__version__}, uvicorn {uvicorn.__version__}, "
        f"sqlalchemy {sqlalchemy.__version__}, psycopg {psycopg.__version__}",
        f"postgresql {pg} on 127.0.0.1 (synchronous_commit={sync}); server: {workers} uvicorn workers; "
        "client: httpx, one thread and one keep-alive connection per client, in the same machine",
    ]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--serve-worker", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--seconds", type=float, default=5.0)
    ap.add_argument("--warmup", type=float, default=1.0)
    ap.add_argument("--clients", default="1,8,32")
    ap.add_argument("--keep", action="store_true", help="keep the database afterwards")
    ap.add_argument("--json", action="store_true", help="also print the figures as JSON")
    args = ap.parse_args()
    if args.serve_worker:
        serve_worker(args.serve_worker)
        return

    admin_url = os.environ.get("BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
    print("preparing the database (demo data) …", flush=True)
    clients = [int(x) for x in args.clients.split(",")]
    url = prepare_database(admin_url, max(clients))
    pids = pick_projects(url)
    port = free_port()
    procs = start_server(url, port, args.workers)
    base = f"http://127.0.0.1:{port}"
    try:
        from workflow.demo import DEMO_PASSWORD

        with client(base) as c:
            token = c.post("/api/v1/auth/token", data={"username": "gw_weiyuan1", "password": DEMO_PASSWORD}
                           ).json()["access_token"]
        auth = {"Authorization": f"Bearer {token}"}
        followup = {"visited_on": "2026-11-20", "notes": "现场查看,施工进度正常。"}
        endpoints = {
            "GET /api/v1/ping (trivial)": lambda c, i: c.get("/api/v1/ping"),
            "GET /api/v1/projects/{id}": lambda c, i: c.get(f"/api/v1/projects/{pids[i % len(pids)]}", headers=auth),
            "POST …/{id}/events/record_followup": lambda c, i: c.post(
                f"/api/v1/projects/{pids[i % len(pids)]}/events/record_followup", json=followup, headers=auth),
        }
        print("\n".join(machine_facts(url, args.workers)))
        print(f"each cell: {args.seconds:.0f} s measured after {args.warmup:.0f} s of warm-up; client i works on "
              f"project i of {len(pids)} in progress (record_followup by working member gw_weiyuan1)\n")
        print(f"{'endpoint':<36} {'clients':>7} {'requests':>9} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7}")
        results: dict[str, dict[int, dict[str, float]]] = {}
        for name, request in endpoints.items():
            for n in clients:
                r = run_load(base, request, n, args.seconds, args.warmup)
                results.setdefault(name, {})[n] = r
                print(f"{name:<36} {n:>7} {r['requests']:>9.0f} {r['rps']:>8.0f} {r['p50']:>8.1f} {r['p99']:>8.1f} "
                      f"{r['errors']:>7.0f}", flush=True)
        print()
        names = list(endpoints)
        top = max(clients)
        for name in names[1:]:
            p99 = results[name][top]["p99"]
            print(f"target p99 < 50 ms at {top} clients, {name}: {p99:.1f} ms — {'met' if p99 < 50 else 'NOT met'}")
        for n in results[names[2]]:
            ratio = results[names[2]][n]["rps"] / max(results[names[0]][n]["rps"], 1e-9)
            print(f"target events ≥ 30% of trivial req/s at {n} clients: {ratio:.0%} — {'met' if ratio >= 0.3 else 'NOT met'}")
        if args.json:
            print(json.dumps(results, indent=2))
    finally:
        stop_server(procs)
        if not args.keep:
            drop_database(admin_url)


if __name__ == "__main__":
    main()
