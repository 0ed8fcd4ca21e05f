"""Benchmark: the daily signed root over many audit chains, and ``audit verify`` over a sizeable trail.

    .venv/bin/python bench/anchors.py [--chains 100000] [--events 3] [--backends sqlite,postgresql]

For each backend: a fresh database (PostgreSQL: ``fundflow_bench_anchors`` on ``BENCH_PG_URL``; SQLite: a
temporary file) gets ``--chains`` audit chains (``audit_chains`` rows, entity type ``bench``) of ``--events``
well-formed events each (hashes computed by ``workflow.audit.compute_hash``, bulk inserted). Then:

- the first signing (every chain is new: all leaves written), ``workflow.anchors.sign_root``;
- one chain in 100 gets an event, and the daily signing again (the usual day: a small delta);
- ``workflow.anchors.verify_all`` (the chains walked, the roots, signatures and leaves checked, every leaf
  against its event, the business tables), as ``fundflow audit verify`` runs it.

Figures are wall-clock seconds with the load average printed beside them (2-CPU machine shared by others).
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
DB_NAME = "fundflow_bench_anchors"
AT = dt.datetime(2026, 3, 2, 1, 0, tzinfo=dt.UTC)


def load() -> str:
    return ", ".join(f"{x:.2f}" for x in os.getloadavg())


def fill(db: Any, chains: int, events: int) -> None:
    from sqlalchemy import insert

    from store.models import AuditChain, AuditEvent
    from workflow.audit import GENESIS, compute_hash

    batch_events: list[dict[str, Any]] = []
    batch_chains: list[dict[str, Any]] = []
    with db.uow() as uow:
        s = uow.session
        for cid in range(1, chains + 1):
            prev = GENESIS
            for seq in range(1, events + 1):
                at = AT + dt.timedelta(seconds=seq)
                digest = compute_hash(prev, entity_type="bench", entity_id=cid, seq=seq, actor_id=None,
                                      actor_label="system", post_id=None, role="system", event="tick", from_state="",
                                      to_state="", payload={"n": seq}, reason="", at=at)
                batch_events.append({"entity_type": "bench", "entity_id": cid, "seq": seq, "actor_id": None,
                                     "actor_label": "system", "post_id": None, "role": "system", "event": "tick",
                                     "from_state": "", "to_state": "", "payload": {"n": seq}, "reason": "", "at": at,
                                     "prev_hash": prev, "hash": digest})
                prev = digest
            batch_chains.append({"entity_type": "bench", "entity_id": cid, "version": events, "audit_head": prev})
            if len(batch_events) >= 20_000:
                s.execute(insert(AuditEvent), batch_events)
                s.execute(insert(AuditChain), batch_chains)
                batch_events, batch_chains = [], []
        if batch_events:
            s.execute(insert(AuditEvent), batch_events)
            s.execute(insert(AuditChain), batch_chains)
        uow.commit()


def touch(db: Any, every: int, at: dt.datetime) -> int:
    from sqlalchemy import select

    from store.models import AuditChain
    from workflow import audit

    n = 0
    with db.uow() as uow:
        s = uow.session
        for head in s.execute(select(AuditChain).where(AuditChain.entity_type == "bench",
                                                       AuditChain.entity_id % every == 0)).scalars():
            audit.append(s, head, entity_type="bench", entity_id=head.entity_id, event="tick", at=at,
                         actor_label="system", role="system", payload={"n": head.version + 1})
            n += 1
        uow.commit()
    return n


def run(backend: str, url: str, chains: int, events: int, key_file: Path) -> None:
    from store.bootstrap import prepare
    from store.db import Database
    from workflow import clock
    from workflow.anchors import Settings, sign_root, verify_all

    settings = Settings(key_file=key_file, roots_log=key_file.with_name(f"roots-{backend}.jsonl"))
    db = Database(url)
    try:
        prepare(db)
        t0 = time.perf_counter()
        fill(db, chains, events)
        print(f"  built {chains:,} chains × {events} events in {time.perf_counter() - t0:.1f} s   (load {load()})")
        day1 = dt.datetime(2026, 3, 2, 23, 50, tzinfo=clock.SHANGHAI)
        with clock.frozen(day1):
            t0 = time.perf_counter()
            first = sign_root(db, settings=settings)
            took = time.perf_counter() - t0
        print(f"  first signing, {first.chains:,} chains (all new, {first.delta_count:,} leaves): {took:.2f} s"
              f"   (load {load()})")
        day2 = day1 + dt.timedelta(days=1)
        touched = touch(db, 100, day2 - dt.timedelta(hours=1))
        with clock.frozen(day2):
            t0 = time.perf_counter()
            second = sign_root(db, settings=settings)
            took = time.perf_counter() - t0
        print(f"  daily signing, {second.chains:,} chains ({touched:,} changed, {second.delta_count:,} leaves): "
              f"{took:.2f} s   (load {load()})")
        with clock.frozen(day2 + dt.timedelta(minutes=5)):
            t0 = time.perf_counter()
            with db.uow(write=False) as uow:
                result = verify_all(uow.session, settings)
            took = time.perf_counter() - t0
        assert result.ok, result.problems[:3]
        print(f"  audit verify: {result.checked:,} events in {result.chains:,} chains, {result.roots} roots: "
              f"{took:.2f} s ({result.checked / took:,.0f} events/s)   (load {load()})")
    finally:
        db.dispose()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--chains", type=int, default=100_000)
    ap.add_argument("--events", type=int, default=3, help="events per chain")
    ap.add_argument("--backends", default="sqlite,postgresql")
    args = ap.parse_args()

    from bench.machine_info import cpu_model
    from workflow.anchors import generate_key_file

    print("== machine")
    print(f"  nproc: {os.cpu_count()}, cpu: {cpu_model() or '?'}, python {platform.python_version()}, "
          f"load average (1, 5, 15 min) at start: {load()}")
    with tempfile.TemporaryDirectory() as tmp:
        key_file = Path(tmp) / "audit-signing.key"
        generate_key_file(key_file)
        for backend in args.backends.split(","):
            print(f"== {backend}")
            if backend == "sqlite":
                run(backend, f"sqlite:///{tmp}/bench-anchors.db", args.chains, args.events, key_file)
                continue
            import psycopg
            from sqlalchemy.engine import make_url

            with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)')
                conn.execute(f'CREATE DATABASE "{DB_NAME}"')
            url = make_url(PG_ADMIN_URL).set(drivername="postgresql+psycopg", database=DB_NAME)
            try:
                run(backend, url.render_as_string(hide_password=False), args.chains, args.events, key_file)
            finally:
                with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
                    conn.execute(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)')
    print(f"== load average at the end: {load()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
