"""Red flags of a big area: ``workflow.redflags.area_flags`` over 200 communities × 50 projects, on SQLite and
PostgreSQL, interleaved (target < 5 s each).

    .venv/bin/python bench/redflags.py [--communities 200] [--projects 50] [--rounds 3] [--keep]

**Fixture.** ``store.bootstrap.prepare`` and ``workflow.demo.create_city`` (one area, its committee, every
community's secretary, staff and two supervisors, the city's policy), the 2026 fund years opened by
``open_fund_year``; then the projects are bulk-inserted (Core ``INSERT``s, not the engine: the engine would
take hours) with every row the flags read, as the engine would have written them: each project of a plan of
``workflow.demo_data`` (its contractor, a branch of it for each group of 20 communities; individuals all
different people) with two line items at the plan's unit prices (±10%), amounts that keep the community
inside its 200,000 yuan, and, along its life, the joint meeting, the 2 main leaders' approvals and their
``approval_due`` deadline, a follow-up visit, the acceptance (satisfaction 88–98), the payment item (an
invoice with its three signatures, or a no-invoice voucher for an individual), the payment, the archived
application form and minutes, and the audit events of each step (create, record_meeting, record_board_meeting,
approve ×2, record_followup, accept, add_payment_item, sign_invoice ×3, pay) with the produced ids in their
payloads. 80% of the projects are closed, 16% in progress, 4% in their notice period; an objection in one
project of ten, settled after two days. Planted among them: one split project (two lighting projects of one
contractor, 30,000 + 25,000 yuan within ten days, which also makes that contractor take 37% of its community's
year) and one backdated joint meeting, so that three flags are found and their evidence is looked up.

**Measured.** ``area_flags(session, area, 2026)`` in a read session, the whole area, after one warm-up;
SQLite and PostgreSQL alternate round by round; the load average is printed beside every figure.
PostgreSQL is reached through ``BENCH_PG_URL`` (default ``postgresql://postgres@127.0.0.1:5432/postgres``);
the script creates the database ``fundflow_bench_inspect`` and drops it at the end unless ``--keep``.
"""
from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import os
import platform
import statistics
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
DB_NAME = "fundflow_bench_inspect"
TARGET_S = 5.0
YEAR = 2026


def load() -> str:
    return ", ".join(f"{x:.2f}" for x in os.getloadavg())


def pg_url() -> str:
    import psycopg
    from sqlalchemy.engine import make_url

    with psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=5) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{DB_NAME}"')
    return str(make_url(PG_ADMIN_URL).set(drivername="postgresql+psycopg", database=DB_NAME)
               .render_as_string(hide_password=False))


def drop_pg() -> None:
    import psycopg

    with psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=5) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)')


class Rows:
    """Rows to insert, table by table, with ids handed out here (the tables are empty but for the city)."""

    def __init__(self) -> None:
        self.tables: dict[str, list[dict[str, Any]]] = {}
        self.ids: dict[str, int] = {}
        self.seq: dict[int, int] = {}

    def add(self, table: str, row: dict[str, Any], with_id: bool = True) -> int:
        if with_id:
            row["id"] = self.ids[table] = self.ids.get(table, 1_000_000) + 1
        self.tables.setdefault(table, []).append(row)
        return int(row.get("id", 0))

    def event(self, pid: int, event: str, at: dt.datetime, actor: int | None, payload: dict[str, Any],
              from_state: str = "", to_state: str = "") -> int:
        seq = self.seq[pid] = self.seq.get(pid, 0) + 1
        digest = hashlib.sha256(f"{pid}:{seq}:{event}".encode()).hexdigest()
        return self.add("audit_events", {
            "entity_type": "project", "entity_id": pid, "seq": seq, "actor_id": actor, "actor_label": "bench",
            "post_id": None, "role": "", "event": event, "from_state": from_state, "to_state": to_state,
            "payload": payload, "reason": "", "at": at, "prev_hash": "0" * 64, "hash": digest})


def build(db: Any, communities: int, per: int) -> tuple[int, int]:
    """The area; returns (area id, projects inserted)."""
    from sqlalchemy import insert, select

    from store.bootstrap import prepare
    from store.models import Base, FundYear
    from workflow import clock, demo_data
    from workflow.demo import create_city
    from workflow.services import open_fund_year

    prepare(db)
    with clock.frozen(dt.datetime(2025, 12, 20, 9, 0, tzinfo=clock.SHANGHAI)):
        city = create_city(db, communities=communities, password=None)
        with db.uow() as uow:
            for c in city.communities:
                open_fund_year(uow.session, c.id, YEAR)
            uow.commit()
    with db.uow(write=False) as uow:
        years = dict(uow.session.execute(select(FundYear.community_id, FundYear.id)
                                         .where(FundYear.year == YEAR)).tuples().all())
        policy_version = uow.session.execute(select(FundYear.policy_version_id).limit(1)).scalar_one()
    area = city.areas[0].people
    finance, director, wsec, member = (area[k].person_id for k in ("finance", "director", "working_secretary",
                                                                     "working_member1"))
    plans = list(demo_data.PLANS.values())
    rows = Rows()
    sh = clock.SHANGHAI
    count = 0
    for ci, c in enumerate(communities_of(city)):
        sec = c.people["secretary"].person_id
        for k in range(per):
            plan = plans[(ci * 7 + k) % len(plans)]
            day0 = dt.datetime(YEAR, 1, 5, 9, 0, tzinfo=sh) + dt.timedelta(days=k * 268 // per, minutes=ci)
            state = "closed" if k < per * 80 // 100 else ("in_progress" if k < per * 96 // 100 else "publicity")
            amount_override = None
            title, contractor = plan.title, plan.contractor
            if plan.contractor_kind == "organisation" and ci // 20:  # each group of 20 communities its own firms
                contractor = f"{contractor}第{ci // 20}分公司"
            if plan.contractor_kind == "individual":  # every individual a different person
                n = ci * per + k
                contractor = (demo_data.SURNAMES[n % len(demo_data.SURNAMES)]
                              + demo_data.GIVEN[n // len(demo_data.SURNAMES) % len(demo_data.GIVEN)]
                              + "家政服务部"[n // (len(demo_data.SURNAMES) * len(demo_data.GIVEN)) % 5])
            if ci == 7 and k in (0, 1):  # planted: a split of one lighting job into two projects
                plan, title, contractor = demo_data.PLANS["street_lamps"], f"{k + 3}号楼庭院灯更换", "恒亮照明工程有限公司"
                amount_override = 3_000_000 if k == 0 else 2_500_000
                day0 = dt.datetime(YEAR, 1, 5, 9, 0, tzinfo=sh) + dt.timedelta(days=10 * k)
            items = []
            for n, it in enumerate((plan.items[0], plan.items[-1])):
                base = int(it.unit_price.replace(".", ""))
                price = base * (90 + (ci * 13 + k * 7 + n) % 21) // 100
                qty = max(1, (200_000 if n == 0 else 150_000) // max(price, 1))
                items.append((it.description, it.catalog, price, qty))
            amount = amount_override or sum(p * q for _d, _c, p, q in items)
            if amount_override:  # the plan's unit price, as many lamps as the amount buys
                items = [(items[0][0], items[0][1], items[0][2], amount_override // items[0][2])]
                amount = items[0][2] * items[0][3]
            pid = rows.add("projects", {
                "code": f"B{ci:03d}-{YEAR}-{k + 1:03d}", "community_id": c.id, "fund_year_id": years[c.id],
                "policy_version_id": policy_version, "state": state, "version": 0, "audit_head": "",
                "proposer_id": sec, "title": title, "description": plan.description, "category": plan.category,
                "category_justification": plan.justification, "amount_fen": amount,
                "beneficiaries_count": plan.beneficiaries, "beneficiaries_desc": plan.beneficiaries_desc,
                "small_group_marked": False, "is_small_group": plan.beneficiaries < 50,
                "contractor_name": contractor, "contractor_kind": plan.contractor_kind, "is_aid": plan.is_aid,
                "forbidden_use_declaration": {}, "keyword_flags_answer": "",
                "committed_fen": amount if state == "in_progress" else 0,
                "paid_fen": amount if state == "closed" else 0, "released_fen": 0,
                "received_at": day0 + dt.timedelta(days=15), "approval_round": 1, "created_at": day0})
            count += 1
            for desc, catalog, price, qty in items:
                rows.add("line_items", {"project_id": pid, "description": desc, "quantity": qty, "unit_price_fen": price,
                                        "amount_fen": price * qty, "catalog_item": catalog, "flagged_keywords": []})
            rows.event(pid, "create", day0, sec, {"payload": {"title": title}}, "", "draft")
            held = day0 + dt.timedelta(days=2)
            stated = (held - dt.timedelta(days=20)) if (ci == 9 and k == 3) else held  # planted: backdated
            meeting = rows.add("meetings", {
                "project_id": pid, "kind": "joint", "held_on": stated.astimezone(sh).date(), "attendees": [],
                "votes_for": 9, "votes_against": 1, "votes_abstain": 1, "outcome": "passed", "minutes": "会议纪要",
                "recorded_by": sec, "created_at": held})
            rows.event(pid, "record_meeting", held, sec, {"meeting_id": meeting, "outcome": "passed"})
            _document(rows, pid, f"minutes-{meeting}.txt", "minutes", held)
            if k % 10 == 5:
                notice = rows.add("notices", {
                    "community_id": c.id, "project_id": pid, "kind": "publicity", "title": f"项目公示:{title}",
                    "body": plan.description, "starts_at": held, "ends_at": held + dt.timedelta(days=5),
                    "provisional": False})
                rows.add("objections", {
                    "notice_id": notice, "project_id": pid, "author_name": "居民", "contact": "", "text": "建议",
                    "created_at": held + dt.timedelta(days=1), "answer": "已采纳", "answered_by": sec,
                    "answered_at": held + dt.timedelta(days=2), "resolved": True,
                    "receipt_code": f"R{ci:04d}{k:04d}", "resolution": "confirmed",
                    "resolved_by": c.people["supervisor1"].person_id, "resolved_at": held + dt.timedelta(days=3)})
            if state == "publicity":
                continue
            received = day0 + dt.timedelta(days=15)
            _document(rows, pid, f"application-{pid}-r1.txt", "application_form", received)
            rows.add("deadlines", {"entity_type": "project", "entity_id": pid, "kind": "approval_due", "event": "",
                                   "start_date": received.astimezone(sh).date(), "workdays": 5,
                                   "due_at": received + dt.timedelta(days=8), "provisional": False,
                                   "status": "cleared", "created_at": received})
            board = received + dt.timedelta(days=1)
            mid = rows.add("meetings", {"project_id": pid, "kind": "board", "held_on": board.astimezone(sh).date(),
                                        "attendees": [], "votes_for": 0, "votes_against": 0, "votes_abstain": 0,
                                        "outcome": "", "minutes": "班子会议纪要", "recorded_by": member,
                                        "created_at": board})
            rows.event(pid, "record_board_meeting", board, member, {"meeting_id": mid})
            for n, (person, role) in enumerate(((wsec, "working_secretary"), (director, "construction_director"))):
                at = board + dt.timedelta(hours=1 + n)
                rows.add("approvals", {"project_id": pid, "round": 1, "person_id": person, "post_id": 1, "role": role,
                                       "decision": "approve", "comment": "", "at": at})
                rows.event(pid, "approve", at, person, {"payload": {}})
            visit = day0 + dt.timedelta(days=30)
            fid = rows.add("followups", {"project_id": pid, "person_id": member, "visited_on": visit.astimezone(sh).date(),
                                         "notes": "现场查看", "created_at": visit})
            rows.event(pid, "record_followup", visit, member, {"followup_id": fid})
            if state != "closed":
                continue
            accepted = day0 + dt.timedelta(days=45)
            acc = rows.add("acceptances", {"project_id": pid, "passed": True, "quality": "合格",
                                           "satisfaction": 88 + (ci + k) % 11, "team": [], "recorded_by": member,
                                           "created_at": accepted})
            rows.event(pid, "accept", accepted, member, {"acceptance_id": acc})
            paid_at = day0 + dt.timedelta(days=47)
            invoice = plan.contractor_kind != "individual"
            item = rows.add("payment_items", {
                "project_id": pid, "kind": "invoice" if invoice else "voucher", "amount_fen": amount,
                "payee": contractor, "payee_account": "", "invoice_no": f"INV{pid}" if invoice else "",
                "invoice_no_norm": f"INV{pid}" if invoice else None, "issuer_tax_id": "", "status": "paid",
                "created_at": paid_at - dt.timedelta(hours=3)})
            rows.event(pid, "add_payment_item", paid_at - dt.timedelta(hours=3), finance, {"payment_item_id": item})
            if invoice:
                for seq, (person, role) in enumerate(((sec, "community_secretary"), (director, "construction_director"),
                                                      (wsec, "working_secretary")), 1):
                    at = paid_at - dt.timedelta(hours=3 - seq * 0.5)
                    rows.add("signatures", {"payment_item_id": item, "seq": seq, "role": role, "person_id": person,
                                            "post_id": 1, "at": at})
                    rows.event(pid, "sign_invoice", at, person, {"payload": {"payment_item_id": item}})
            pay = rows.add("payments", {"payment_item_id": item, "idempotency_key": f"bench-{item}", "amount_fen": amount,
                                        "paid_by": finance, "at": paid_at})
            rows.event(pid, "pay", paid_at, finance, {"payment_id": pay, "payload": {"payment_item_id": item}})
            _document(rows, pid, f"payment-{pay}.txt", "payment_voucher", paid_at)
    tables = {t.name: t for t in Base.metadata.sorted_tables}
    with db.engine.begin() as conn:
        for name in ("projects", "line_items", "meetings", "notices", "objections", "deadlines", "approvals", "followups",
                     "acceptances", "payment_items", "signatures", "payments", "documents", "document_links",
                     "audit_events"):
            data = rows.tables.get(name, [])
            for lo in range(0, len(data), 5000):
                conn.execute(insert(tables[name]), data[lo:lo + 5000])
    if db.engine.dialect.name == "postgresql":
        from sqlalchemy import text

        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE"))
    else:
        from sqlalchemy import text

        with db.engine.begin() as conn:
            conn.execute(text("ANALYZE"))
    return city.area_id, count


def communities_of(city: Any) -> list[Any]:
    return list(city.communities)


def _document(rows: Rows, pid: int, name: str, role: str, at: dt.datetime) -> None:
    content = f"{name} of project {pid}".encode()
    sha = hashlib.sha256(content).hexdigest()
    rows.add("documents", {"sha256": sha, "content_type": "text/plain; charset=utf-8", "filename": name,
                           "size": len(content), "content": content, "created_at": at}, with_id=False)
    rows.add("document_links", {"document_sha256": sha, "entity_type": "project", "entity_id": pid, "role": role,
                                "created_at": at})


def measure(db: Any, area: int) -> tuple[float, float, list[str]]:
    """Wall time, this process's CPU time (the database server's own work is not in it), and what was found."""
    from workflow.redflags import area_flags

    with db.uow(write=False) as uow:
        t0, c0 = time.perf_counter(), time.process_time()
        flags = area_flags(uow.session, area, YEAR)
        return time.perf_counter() - t0, time.process_time() - c0, [f"{f.code}: {f.message}" for f in flags]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else "")
    parser.add_argument("--communities", type=int, default=200)
    parser.add_argument("--projects", type=int, default=50, help="projects per community")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--keep", action="store_true", help="keep the PostgreSQL database")
    args = parser.parse_args()

    from bench.machine_info import cpu_model
    from store.db import Database

    print(f"machine: {os.cpu_count()} CPUs, {cpu_model() or '?'}, Python {platform.python_version()}; "
          f"load average at start: {load()}")
    tmp = tempfile.mkdtemp(prefix="fundflow-bench-inspect-")
    dbs = {"SQLite": Database(f"sqlite:///{tmp}/inspect.db"), "PostgreSQL": Database(pg_url())}
    areas: dict[str, int] = {}
    try:
        for name, db in dbs.items():
            t0 = time.perf_counter()
            areas[name], n = build(db, args.communities, args.projects)
            print(f"{name}: built {args.communities} communities × {args.projects} projects ({n} projects) "
                  f"in {time.perf_counter() - t0:.1f} s (load {load()})")
        times: dict[str, list[float]] = {name: [] for name in dbs}
        for name, db in dbs.items():  # warm-up (and what was found)
            _t, _c, codes = measure(db, areas[name])
            print(f"{name}: {len(codes)} flags found:", *sorted(codes), sep="\n  ")
        for r in range(args.rounds):
            for name, db in dbs.items():
                t, cpu, _codes = measure(db, areas[name])
                times[name].append(t)
                print(f"round {r + 1} {name:10s} area_flags {t:6.2f} s wall, {cpu:5.2f} s CPU of this process   "
                      f"(load average {load()})")
        print()
        from bench.summary import Results

        results = Results("redflags")
        for name, ts in times.items():
            verdict = "ok" if max(ts) < TARGET_S else "OVER TARGET"
            results.add(f"red flags of {args.communities} communities × {args.projects} projects < {TARGET_S:.0f} s "
                        f"({name})", f"{statistics.median(ts):.2f} s median of {len(ts)}", max(ts) < TARGET_S)
            print(f"{name:10s} best {min(ts):.2f} s, median {statistics.median(ts):.2f} s, worst {max(ts):.2f} s "
                  f"(target < {TARGET_S:.0f} s: {verdict}; load average {load()})")
        results.save()
    finally:
        for db in dbs.values():
            db.engine.dispose()
        if not args.keep:
            drop_pg()


if __name__ == "__main__":
    main()
