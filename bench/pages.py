"""Server time per web page over the demo city scaled ×N (issue 9: p95 < 200 ms for every page).

Run: ``.venv/bin/python bench/pages.py [--scale 100] [--requests 20] [--backends sqlite,postgresql] [--rebuild]
[--pg-by-events] [--only PATH]``. Prints figures (median and p95 of the wall time and the median CPU time per page
and database, with the load average at the start and the end of the run); asserts nothing.

The city is ``fundflow demo --scale N`` (``workflow.demo.build_demo``: N areas, 5N communities, 22N projects in
every state, all reached by firing real events), built once and kept for the next runs: SQLite in
``var/bench/pages-xN.db``; PostgreSQL in the database ``fundflow_bench_pages_xN`` on ``BENCH_PG_URL`` (default the
local server), a row-for-row copy of the SQLite city (seconds instead of firing the events again;
``--pg-by-events`` fires them there too). ``--rebuild`` builds them again. Building ×100 takes 6–11 minutes on
SQLite on a 2-CPU machine.

Each page is asked for ``--requests`` times (after one warm-up) by the logged-in person who would open it, in
this process through the ASGI app (``TestClient``): the time is what the server spends on the request (routing,
the session check, the reads, the template), without a network between. The pages of the residents' board are
asked for anonymously. The pages are interleaved: each round asks every page once on every database in turn.
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


def copy_city(source: Any, target: Any) -> None:
    """Copy every row of the models' tables from ``source`` (the SQLite city, built by firing events) into
    ``target`` (a migrated PostgreSQL database), keeping ids, then move each id sequence past the copied ids.

    The rows are the ones the events wrote (audit chain, hashes and all), so the copy is the same city as the
    SQLite one without firing the ~60 000 events again (minutes instead of the better part of an hour)."""
    from sqlalchemy import Integer, text

    from store.models import Base

    tables = Base.metadata.sorted_tables
    with target.engine.begin() as dst:
        dst.execute(text("SET session_replication_role = replica"))  # no FK checks / triggers while copying
        dst.execute(text("TRUNCATE " + ", ".join(f'"{t.name}"' for t in tables) + " CASCADE"))
        with source.engine.connect() as src:
            for table in tables:
                result = src.execution_options(stream_results=True).execute(table.select())
                while batch := result.mappings().fetchmany(5000):
                    dst.execute(table.insert(), [dict(r) for r in batch])
        for table in tables:
            pk = list(table.primary_key.columns)
            if len(pk) == 1 and isinstance(pk[0].type, Integer) and pk[0].autoincrement in (True, "auto"):
                dst.execute(text(f"SELECT setval(pg_get_serial_sequence('{table.name}', '{pk[0].name}'), "
                                 f"COALESCE((SELECT max(\"{pk[0].name}\") FROM \"{table.name}\"), 0) + 1, false)"))
        dst.execute(text("SET session_replication_role = origin"))
    with target.engine.connect() as conn:
        conn.execution_options(isolation_level="AUTOCOMMIT").execute(text("ANALYZE"))


def prepare_city(url: str, build: bool, scale: int, source: Any = None) -> Any:
    from sqlalchemy import func, select

    from store.bootstrap import prepare
    from store.db import Database
    from store.models import Project
    from workflow.demo import build_demo

    db = Database(url)
    prepare(db)
    with db.uow(write=False) as uow:
        have = uow.session.execute(select(func.count()).select_from(Project)).scalar_one()
    if (build or not have) and source is not None:
        started = time.perf_counter()
        print(f"  copying the SQLite city ×{scale} … ({load()})", flush=True)
        copy_city(source, db)
        print(f"  copied in {time.perf_counter() - started:.0f} s ({load()})", flush=True)
    elif build or not have:
        started = time.perf_counter()
        print(f"  building the demo city ×{scale} by firing events … ({load()})", flush=True)
        build_demo(db, scale=scale)
        print(f"  built in {time.perf_counter() - started:.0f} s ({load()})", flush=True)
    return db


def targets(db: Any) -> dict[str, Any]:
    """Ids the page paths need, in the first community S01 (its people and its area's log in below): a
    running notice's project, a project in settlement, a need, the closed 2025 year; and a closed project, a
    receipt and a community of the last area for the residents' pages."""
    from sqlalchemy import and_, or_, select

    from store.models import AuditEvent, FundYear, Need, Notice, Organisation, Project

    with db.uow(write=False) as uow:
        s = uow.session

        def one(stmt: Any) -> Any:
            return s.execute(stmt.limit(1)).scalar_one()

        s01 = one(select(Organisation.id).where(Organisation.level == "community").order_by(Organisation.id))
        area = one(select(Organisation.parent_id).where(Organisation.id == s01))
        closed = s.execute(select(Project.id, Project.code, Project.community_id)
                           .where(Project.state == "closed").order_by(Project.id.desc()).limit(1)).one()
        community = one(select(Organisation.id).where(Organisation.level == "community").order_by(Organisation.id.desc()))
        in_area = select(Organisation.id).where(Organisation.parent_id == area)
        trail = list(s.execute(select(AuditEvent.id).where(or_(
            and_(AuditEvent.entity_type == "project",
                 AuditEvent.entity_id.in_(select(Project.id).where(Project.community_id == s01))),
            and_(AuditEvent.entity_type == "fund_year",
                 AuditEvent.entity_id.in_(select(FundYear.id).where(FundYear.community_id == s01)))))
            .order_by(AuditEvent.id)).scalars())
        return {
            "project": closed.id, "code": closed.code,
            "running_project": one(select(Project.id).where(Project.state == "publicity", Project.community_id == s01)
                                   .order_by(Project.id)),
            "settlement_project": one(select(Project.id).where(Project.state == "settlement",
                                                               Project.community_id.in_(in_area)).order_by(Project.id)),
            "need": one(select(Need.id).where(Need.community_id == s01).order_by(Need.id.desc())),
            "notice": one(select(Notice.id).where(Notice.kind == "publicity").order_by(Notice.id.desc())),
            "receipt": one(select(Need.receipt_code).join(Project, Project.community_id == Need.community_id)
                           .where(Need.answer != "").order_by(Need.id.desc())),
            "disclosed": s.execute(select(FundYear.community_id, FundYear.year)
                                   .where(FundYear.state == "closed", FundYear.community_id == s01)).one(),
            "trail_before": trail[min(len(trail) - 1, 10)],
            "community": community,
        }


def pages(t: dict[str, Any]) -> list[tuple[str, str | None, str]]:
    """(label, username or None for a resident, path): every page of the app, staff pages as each role's
    demo user of the first area and its first community, the residents' board anonymously."""
    dc, dy = t["disclosed"]
    return [
        ("待办 · 社区书记", "s01_shuji", "/"),
        ("待办 · 社区工作人员", "s01_gongzuo", "/"),
        ("待办 · 监督委员", "s01_jiandu1", "/"),
        ("待办 · 党工委书记", "gw_shuji", "/"),
        ("待办 · 党工委委员", "gw_weiyuan1", "/"),
        ("待办 · 建管委主任", "jg_zhuren", "/"),
        ("待办 · 财务", "caiwu", "/"),
        ("待办 · 市管理员", "admin", "/"),
        ("群众需求(社区)", "s01_gongzuo", "/needs"),
        ("群众需求(党工委)", "gw_shuji", "/needs"),
        ("群众需求(全市)", "admin", "/needs"),
        ("需求详情", "s01_gongzuo", f"/needs/{t['need']}"),
        ("项目列表(社区)", "s01_shuji", "/projects"),
        ("项目列表(党工委)", "gw_shuji", "/projects"),
        ("项目列表(全市)", "admin", "/projects"),
        ("项目页(已办结)", "admin", f"/projects/{t['project']}"),
        ("项目页(公示中,书记)", "s01_shuji", f"/projects/{t['running_project']}"),
        ("项目页(结算中,财务)", "caiwu", f"/projects/{t['settlement_project']}"),
        ("提议项目", "s01_shuji", "/projects/new"),
        ("经费年度列表(党工委)", "gw_shuji", "/fund-years"),
        ("经费年度列表(全市)", "admin", "/fund-years"),
        ("经费年度(已结转)", "admin", f"/fund-years/{dc}/{dy}"),
        ("经费年度(本年)", "s01_shuji", f"/fund-years/{dc}/2026"),
        ("总览(党工委)", "gw_shuji", "/overview"),
        ("总览(财务)", "caiwu", "/overview"),
        ("总览(全市)", "admin", "/overview"),
        ("总览(全市,按逾期排序)", "admin", "/overview?sort=overdue&order=desc"),
        ("全程记录(监督委员)", "s01_jiandu1", "/trail"),
        ("全程记录(党工委,末页)", "gw_shuji", f"/trail?community={dc}&before={t['trail_before']}"),
        ("人员与岗位", "admin", "/admin"),
        ("人员与岗位(末页)", "admin", "/admin?offset=10000000"),
        ("政策版本", "admin", "/admin/policies"),
        ("节假日安排", "admin", "/admin/calendar"),
        ("审计核验", "admin", "/admin/audit"),
        ("公示栏(全部社区)", None, "/gongshi"),
        ("公示栏(一个社区)", None, f"/gongshi?community={t['community']}"),
        ("公示详情", None, f"/gongshi/notice/{t['notice']}"),
        ("项目进度(居民)", None, f"/gongshi/project/{t['code']}"),
        ("年度公示", None, f"/gongshi/disclosure/{dc}/{dy}"),
        ("居民点单", None, "/gongshi/need"),
        ("回执查询", None, "/gongshi/huizhi"),
        ("回执", None, f"/gongshi/huizhi/{t['receipt']}"),
        ("公示列表 JSON", None, "/api/v1/public/notices"),
        ("回执 JSON", None, f"/api/v1/public/needs/receipt/{t['receipt']}"),
    ]


class Site:
    """One backend's app with a logged-in client per user (and an anonymous one)."""

    def __init__(self, name: str, db: Any) -> None:
        from fastapi.testclient import TestClient

        from api.app import create_app

        self.name, self.db = name, db
        self.app = create_app(database=db, scheduler_mode="never")
        self.clients: dict[str | None, TestClient] = {}
        self.paths: list[tuple[str, str | None, str]] = []

    def client(self, user: str | None) -> Any:
        import re

        from fastapi.testclient import TestClient

        from workflow.demo import DEMO_PASSWORD

        if user not in self.clients:
            c = TestClient(self.app, follow_redirects=False)
            c.__enter__()
            if user is not None:
                form = c.get("/login").text
                token = re.search(r'name="csrf_token" value="([^"]*)"', form)
                r = c.post("/login", data={"username": user, "password": DEMO_PASSWORD, "next": "/",
                                           "csrf_token": token.group(1) if token else ""})
                assert r.status_code == 303, (user, r.status_code)
            self.clients[user] = c
        return self.clients[user]

    def prepare(self, only: str) -> None:
        """Resolve each page's path (a page that first picks the viewer's own record redirects once, e.g.
        /trail → ?community=) and ask for it once (the warm-up)."""
        for label, user, path in pages(targets(self.db)):
            if only and only not in path:
                continue
            c = self.client(user)
            r = c.get(path)
            if r.status_code == 303:
                path = r.headers["location"]
                r = c.get(path)
            assert r.status_code == 200, (self.name, path, r.status_code, r.text[:300])
            self.paths.append((label, user, path))

    def once(self, user: str | None, path: str) -> tuple[float, float, int]:
        """(wall ms, CPU ms of this process, bytes): the app runs in this process, so the CPU time is the
        server's Python work (and the test client's small share), whatever the machine's load; the
        database server's own work (PostgreSQL) is only in the wall time."""
        c = self.clients[user]
        cpu = time.process_time()
        started = time.perf_counter()
        r = c.get(path)
        took = (time.perf_counter() - started) * 1000
        cpu = (time.process_time() - cpu) * 1000
        assert r.status_code == 200, (self.name, path, r.status_code)
        return took, cpu, len(r.content)

    def close(self) -> None:
        for c in self.clients.values():
            c.__exit__(None, None, None)


def p95(times: list[float]) -> float:
    ordered = sorted(times)
    return ordered[max(0, int(round(0.95 * len(ordered))) - 1)]


Figures = dict[tuple[str, str], tuple[list[float], list[float], int]]


def measure(sites: list[Site], requests: int) -> Figures:
    """Each round asks every page once on every backend, pages interleaved (page 1 on SQLite, page 1 on
    PostgreSQL, page 2 …), so that a change of the machine's load falls on every figure alike."""
    out: Figures = {}
    for _round in range(requests):
        for i in range(len(sites[0].paths)):
            for site in sites:
                label, user, path = site.paths[i]
                took, cpu, size = site.once(user, path)
                walls, cpus, _size = out.setdefault((site.name, label), ([], [], 0))
                walls.append(took)
                cpus.append(cpu)
                out[(site.name, label)] = (walls, cpus, size)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scale", type=int, default=100)
    parser.add_argument("--requests", type=int, default=20)
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--rebuild", action="store_true")
    parser.add_argument("--pg-by-events", action="store_true",
                        help="build the PostgreSQL city by firing the events there too (default: copy the SQLite city)")
    parser.add_argument("--only", default="", help="only the pages whose path contains this text")
    args = parser.parse_args()
    from bench.machine_info import cpu_model, memory_gib

    print(f"bench/pages.py: demo city ×{args.scale}, {args.requests} requests per page after one warm-up, "
          "pages interleaved across backends")
    print(f"machine: {cpu_model()}, {os.cpu_count()} CPUs, {memory_gib()} GiB, Python {sys.version.split()[0]}")
    from bench.summary import Results

    results = Results("pages")
    backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    sites: list[Site] = []
    sqlite_db = None
    for backend in backends:
        url, build = database_url(backend, args.scale, args.rebuild)
        print(f"== {backend}: {url.split('@')[-1]} ({load()})", flush=True)
        source = None
        if backend == "postgresql" and not args.pg_by_events:
            if sqlite_db is None:
                sqlite_url, sqlite_build = database_url("sqlite", args.scale, False)
                sqlite_db = prepare_city(sqlite_url, sqlite_build, args.scale)
            source = sqlite_db
        db = prepare_city(url, build, args.scale, source)
        if backend == "sqlite":
            sqlite_db = db
        site = Site(backend, db)
        site.prepare(args.only)
        sites.append(site)
    # as the served app does at its start (api.app.freeze_heap): the apps and their validators out of the
    # collector's way, so a full collection does not land on one page's request
    from api.app import freeze_heap

    freeze_heap()
    before = load()
    started = time.perf_counter()
    figures = measure(sites, args.requests)
    after = load()
    print(f"\nmeasured in {time.perf_counter() - started:.0f} s: {before} at the start, {after} at the end")
    head = "".join(f" {s.name[:10] + ' med':>15} {'p95':>7} {'cpu':>6}" for s in sites)
    print(f"{'page':<28}{head} {'KiB':>5}  path   (ms; cpu = median CPU time of the app's process)")
    for label, _user, path in sites[0].paths:
        cells = ""
        over = False
        size = 0
        for s in sites:
            walls, cpus, size = figures[(s.name, label)]
            cells += f" {statistics.median(walls):>15.1f} {p95(walls):>7.1f} {statistics.median(cpus):>6.1f}"
            over = over or p95(walls) > TARGET_MS
        print(f"{label:<28}{cells} {size / 1024:>5.0f}  {path}{'  > 200 ms' if over else ''}")
    for s in sites:
        rows = [(label, p95(figures[(s.name, label)][0])) for label, _u, _p in s.paths]
        worst = max(rows, key=lambda r: r[1])
        print(f"{s.name}: slowest p95 {worst[0]} {worst[1]:.1f} ms; pages over {TARGET_MS:.0f} ms: "
              f"{sum(1 for r in rows if r[1] > TARGET_MS)} of {len(rows)}")
        over_target = [r for r in rows if r[1] > TARGET_MS]
        results.add(f"{s.name}: every page's p95 < {TARGET_MS:.0f} ms (×{args.scale})",
                    f"{len(rows) - len(over_target)} of {len(rows)} pages; slowest {worst[0]} {worst[1]:.0f} ms",
                    not over_target)
        s.close()
        s.db.dispose()
    if not args.only:
        results.save()


if __name__ == "__main__":
    main()
