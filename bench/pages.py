"""Server time per web page over the demo city scaled ×N (issue 9: p95 < 200 ms for every page).

Run: ``.venv/bin/python bench/pages.py [--scale 100] [--requests 20] [--backends sqlite,postgresql] [--rebuild]``.
Prints figures (median and p95 per page, with the load average beside each backend's table); asserts nothing.

The city is ``fundflow demo --scale N`` (``workflow.demo.build_demo``: N areas, 5N communities, 22N projects in
every state, all reached by firing real events), built once per backend and kept for the next run: SQLite in
``var/bench/pages-xN.db``, PostgreSQL in the database ``fundflow_bench_pages_xN`` on ``BENCH_PG_URL`` (default the
local server); ``--rebuild`` builds it again. Building ×100 takes about 6 minutes on SQLite and longer on
PostgreSQL on a 2-CPU machine.

Each page is asked for ``--requests`` times (after one warm-up) by the logged-in person who would open it, in
this process through the ASGI app (``TestClient``): the time is what the server spends on the request (routing,
the session check, the reads, the template), without a network between. The pages of the residents' board are
asked for anonymously.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

PG_ADMIN_URL = os.environ.get("BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
TARGET_MS = 200.0


def load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f} {five:.2f} {fifteen:.2f}"


def database_url(backend: str, scale: int, rebuild: bool) -> tuple[str, bool]:
    """(URL, whether the city must be built)."""
    if backend == "sqlite":
        path = ROOT / "var" / "bench" / f"pages-x{scale}.db"
        path.parent.mkdir(parents=True, exist_ok=True)
        if rebuild:
            for suffix in ("", "-wal", "-shm"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)
        return f"sqlite:///{path}", not path.exists()
    import psycopg
    from sqlalchemy.engine import make_url

    name = f"fundflow_bench_pages_x{scale}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=5) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone() is not None
        if rebuild and exists:
            conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
            exists = False
        if not exists:
            conn.execute(f'CREATE DATABASE "{name}"')
    url = make_url(PG_ADMIN_URL).set(drivername="postgresql+psycopg", database=name)
    return url.render_as_string(hide_password=False), not exists


def prepare_city(url: str, build: bool, scale: int) -> Any:
    from sqlalchemy import func, select

    from store.bootstrap import prepare
    from store.db import Database
    from store.models import Project
    from workflow.demo import build_demo

    db = Database(url)
    prepare(db)
    with db.uow(write=False) as uow:
        have = uow.session.execute(select(func.count()).select_from(Project)).scalar_one()
    if build or not have:
        started = time.perf_counter()
        print(f"  building the demo city ×{scale} by firing events … ({load()})", flush=True)
        build_demo(db, scale=scale)
        print(f"  built in {time.perf_counter() - started:.0f} s ({load()})", flush=True)
    return db


def targets(db: Any) -> dict[str, Any]:
    """Ids the page paths need: a closed project, a running notice, a receipt, a disclosed year …"""
    from sqlalchemy import select

    from store.models import FundYear, Need, Notice, Organisation, Project

    with db.uow(write=False) as uow:
        s = uow.session

        def one(stmt: Any) -> Any:
            return s.execute(stmt.limit(1)).scalar_one()

        closed = s.execute(select(Project.id, Project.code, Project.community_id)
                           .where(Project.state == "closed").order_by(Project.id.desc()).limit(1)).one()
        # the last area's first community (its people log in below)
        community = one(select(Organisation.id).where(Organisation.level == "community").order_by(Organisation.id.desc()))
        return {
            "project": closed.id, "code": closed.code,
            "running_project": one(select(Project.id).where(Project.state == "publicity").order_by(Project.id.desc())),
            "notice": one(select(Notice.id).where(Notice.kind == "publicity").order_by(Notice.id.desc())),
            "receipt": one(select(Need.receipt_code).join(Project, Project.community_id == Need.community_id)
                           .where(Need.answer != "").order_by(Need.id.desc())),
            "disclosed": s.execute(select(FundYear.community_id, FundYear.year)
                                   .where(FundYear.state == "closed").order_by(FundYear.id.desc()).limit(1)).one(),
            "community": community,
        }


def pages(t: dict[str, Any]) -> list[tuple[str, str | None, str]]:
    """(label, username or None for a resident, path)."""
    dc, dy = t["disclosed"]
    return [
        ("待办 · 社区书记", "s01_shuji", "/"),
        ("待办 · 党工委书记", "gw_shuji", "/"),
        ("待办 · 财务", "caiwu", "/"),
        ("待办 · 监督委员", "s01_jiandu1", "/"),
        ("待办 · 市管理员", "admin", "/"),
        ("群众需求", "s01_gongzuo", "/needs"),
        ("群众需求(党工委)", "gw_shuji", "/needs"),
        ("项目列表(党工委)", "gw_shuji", "/projects"),
        ("项目列表(市管理员)", "admin", "/projects"),
        ("项目页(已办结)", "admin", f"/projects/{t['project']}"),
        ("项目页(公示中)", "admin", f"/projects/{t['running_project']}"),
        ("提议项目", "s01_shuji", "/projects/new"),
        ("经费年度列表(市管理员)", "admin", "/fund-years"),
        ("经费年度", "admin", f"/fund-years/{dc}/2026"),
        ("总览(党工委)", "gw_shuji", "/overview"),
        ("总览(市管理员,全市)", "admin", "/overview"),
        ("全程记录(监督委员)", "s01_jiandu1", "/trail"),
        ("人员与岗位", "admin", "/admin"),
        ("政策版本", "admin", "/admin/policies"),
        ("公示栏(全部社区)", None, "/gongshi"),
        ("公示栏(一个社区)", None, f"/gongshi?community={t['community']}"),
        ("公示详情", None, f"/gongshi/notice/{t['notice']}"),
        ("项目进度(居民)", None, f"/gongshi/project/{t['code']}"),
        ("年度公示", None, f"/gongshi/disclosure/{dc}/{dy}"),
        ("居民点单", None, "/gongshi/need"),
        ("回执", None, f"/gongshi/huizhi/{t['receipt']}"),
        ("公示列表 JSON", None, "/api/v1/public/notices"),
        ("回执 JSON", None, f"/api/v1/public/needs/receipt/{t['receipt']}"),
    ]


def measure(db: Any, requests: int, only: str = "") -> list[tuple[str, str, float, float, int]]:
    import re

    from fastapi.testclient import TestClient

    from api.app import create_app
    from workflow.demo import DEMO_PASSWORD

    app = create_app(database=db, scheduler_mode="never")
    clients: dict[str | None, TestClient] = {}

    def client(user: str | None) -> TestClient:
        if user not in clients:
            c = TestClient(app, follow_redirects=False)
            c.__enter__()
            if user is not None:
                form = c.get("/login").text
                token = re.search(r'name="csrf_token" value="([^"]*)"', form)
                r = c.post("/login", data={"username": user, "password": DEMO_PASSWORD, "next": "/",
                                           "csrf_token": token.group(1) if token else ""})
                assert r.status_code == 303, (user, r.status_code)
            clients[user] = c
        return clients[user]

    out = []
    for label, user, path in pages(targets(db)):
        if only and only not in path:
            continue
        c = client(user)
        r = c.get(path)
        if r.status_code == 303:  # a page that first picks the viewer's own record (e.g. /trail → ?community=)
            path = r.headers["location"]
            r = c.get(path)
        assert r.status_code == 200, (path, r.status_code, r.text[:300])
        times = []
        for _ in range(requests):
            started = time.perf_counter()
            r = c.get(path)
            times.append((time.perf_counter() - started) * 1000)
        times.sort()
        p95 = times[max(0, int(round(0.95 * len(times))) - 1)]
        out.append((label, path, statistics.median(times), p95, len(r.content)))
    for c in clients.values():
        c.__exit__(None, None, None)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scale", type=int, default=100)
    parser.add_argument("--requests", type=int, default=20)
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--rebuild", action="store_true")
    parser.add_argument("--only", default="", help="only the pages whose path contains this text")
    args = parser.parse_args()
    from bench.machine_info import cpu_model, memory_gib

    print(f"bench/pages.py: demo city ×{args.scale}, {args.requests} requests per page after one warm-up")
    print(f"machine: {cpu_model()}, {os.cpu_count()} CPUs, {memory_gib()} GiB, Python {sys.version.split()[0]}")
    from bench.summary import Results

    results = Results("pages")
    for backend in [b.strip() for b in args.backends.split(",") if b.strip()]:
        url, build = database_url(backend, args.scale, args.rebuild)
        print(f"\n== {backend} ({load()})", flush=True)
        db = prepare_city(url, build, args.scale)
        before = load()
        rows = measure(db, args.requests, args.only)
        after = load()
        print(f"   measured with {before} at the start, {after} at the end")
        print(f"   {'page':<26} {'median ms':>10} {'p95 ms':>9} {'KiB':>6}  path")
        for label, path, median, p95, size in rows:
            flag = "  > 200 ms" if p95 > TARGET_MS else ""
            print(f"   {label:<26} {median:>10.1f} {p95:>9.1f} {size / 1024:>6.0f}  {path}{flag}")
        worst = max(rows, key=lambda r: r[3])
        print(f"   slowest p95: {worst[0]} {worst[3]:.1f} ms; pages over {TARGET_MS:.0f} ms: "
              f"{sum(1 for r in rows if r[3] > TARGET_MS)} of {len(rows)}")
        over = [r for r in rows if r[3] > TARGET_MS]
        results.add(f"{backend}: every page's p95 < {TARGET_MS:.0f} ms (×{args.scale})",
                    f"{len(rows) - len(over)} of {len(rows)} pages; slowest {worst[0]} {worst[3]:.0f} ms",
                    not over)
        db.dispose()
    if not args.only:
        results.save()


if __name__ == "__main__":
    main()
