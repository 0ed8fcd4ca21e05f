"""Real processes: two sweeps at once fire each deadline once; a sweep killed mid-run loses and
doubles nothing; ``fundflow scheduler`` elects one leader on PostgreSQL and stops cleanly on SIGTERM.

Load: projects standing in ``publicity`` with a due notice period, made in bulk
(``test_scheduler_support.bulk_publicity_projects``: real project rows, each with an audit chain
start, and the real ``publicity`` deadline) — every one then fires ``publicity_elapsed`` through
the engine, which is what is counted in the audit.
"""
from __future__ import annotations

import datetime as dt
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from store.bootstrap import prepare
from store.db import Database
from store.models import AuditEvent, Deadline, Notification, Project
from tests.conftest import drop_pg_database, new_database_url
from tests.workflow.test_scheduler_support import bulk_publicity_projects, sh
from workflow import audit, clock
from workflow.demo import create_city, open_years

ROOT = Path(__file__).resolve().parents[2]
DUE = sh(2026, 3, 5)
SWEEP_AT = "2026-03-05T01:00:00+08:00"
LOCK_KEY = 7234003

pytestmark = pytest.mark.slow


@pytest.fixture
def fresh(backend: str, tmp_path: Path) -> Iterator[Database]:
    """A database of its own (subprocesses connect to it by URL), migrated, with a one-community city."""
    url = new_database_url(backend, tmp_path)
    database = Database(url)
    prepare(database)
    with clock.frozen(sh(2026, 3, 1, 9)):
        city = create_city(database, communities=1, password=None)
        open_years(database, city, [2026])
    database.city = city  # type: ignore[attr-defined]
    yield database
    database.dispose()
    if backend == "postgresql":
        drop_pg_database(url)


def _load(db: Database, n: int, due: dt.datetime = DUE) -> list[int]:
    c = db.city.communities[0]  # type: ignore[attr-defined]
    return bulk_publicity_projects(db, c.id, c.people["secretary"].person_id, n, due)


def _cli(db: Database, *args: str, **kw: object) -> subprocess.Popen[str]:
    env = {**os.environ, "DATABASE_URL": db.url, "PYTHONUNBUFFERED": "1"}
    return subprocess.Popen([sys.executable, "-c", "from cli import main; main()", *args], cwd=ROOT, env=env,
                            text=True, **kw)  # type: ignore[call-overload]


def _fired(db: Database) -> int:
    with db.uow(write=False) as uow:
        return int(uow.session.execute(select(func.count()).select_from(AuditEvent)
                                       .where(AuditEvent.event == "publicity_elapsed")).scalar_one())


def _check_exactly_once(db: Database, ids: list[int], complete: bool) -> int:
    """Every project moved at most once, and moved iff its deadline is fired; returns how many moved."""
    with db.uow(write=False) as uow:
        s = uow.session
        per_project = dict(s.execute(select(AuditEvent.entity_id, func.count()).where(
            AuditEvent.event == "publicity_elapsed").group_by(AuditEvent.entity_id)).tuples().all())
        states = dict(s.execute(select(Project.id, Project.state).where(Project.id.in_(ids))).tuples().all())
        status = dict(s.execute(select(Deadline.entity_id, Deadline.status).where(
            Deadline.kind == "publicity")).tuples().all())
        notes = dict(s.execute(select(Notification.deadline_id, func.count()).where(
            Notification.kind == "publicity_elapsed").group_by(Notification.deadline_id)).tuples().all())
        verified = audit.verify(s)
    assert verified.ok, verified.broken
    assert set(per_project.values()) <= {1}, "a deadline fired twice"
    assert len(notes) == len(per_project) and set(notes.values()) <= {1}
    for pid in ids:
        moved = per_project.get(pid, 0) == 1
        assert (states[pid] == "ready_to_submit") == moved == (status[pid] == "fired"), pid
    if complete:
        assert len(per_project) == len(ids)
    return len(per_project)


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_two_sweep_processes_fire_5000_deadlines_once(fresh):
    ids = _load(fresh, 5000)
    procs = [_cli(fresh, "sweep", "--now", SWEEP_AT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
             for _ in range(2)]
    outs = [p.communicate(timeout=170) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outs
    counts = [int(re.search(r"触发 (\d+) 个期限事件", out).group(1)) for out, _err in outs]  # type: ignore[union-attr]
    assert sum(counts) == 5000 and min(counts) > 0, counts  # both worked, none twice
    assert _check_exactly_once(fresh, ids, complete=True) == 5000


def test_sweep_killed_mid_run_then_restarted(fresh):
    ids = _load(fresh, 600)
    proc = _cli(fresh, "sweep", "--now", SWEEP_AT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while _fired(fresh) < 60:
        assert proc.poll() is None, "the sweep finished before it could be killed"
        assert time.monotonic() < deadline
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    moved = _check_exactly_once(fresh, ids, complete=False)
    assert 60 <= moved < 600
    again = _cli(fresh, "sweep", "--now", SWEEP_AT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out, err = again.communicate(timeout=170)
    assert again.returncode == 0, err
    assert int(re.search(r"触发 (\d+) 个期限事件", out).group(1)) == 600 - moved  # type: ignore[union-attr]
    assert _check_exactly_once(fresh, ids, complete=True) == 600


def _advisory_holders(db: Database) -> list[int]:
    with db.engine.connect() as conn:
        return [int(r[0]) for r in conn.execute(text(
            "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted AND objid = :k AND database = "
            "(SELECT oid FROM pg_database WHERE datname = current_database())"), {"k": LOCK_KEY})]


def _wait(predicate, timeout: float = 30.0) -> None:  # type: ignore[no-untyped-def]
    end = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < end, "timed out"
        time.sleep(0.1)


def test_scheduler_process_catches_up_and_stops_on_sigterm(fresh, tmp_path):
    ids = _load(fresh, 20)
    log = tmp_path / "scheduler.log"
    with log.open("w") as err:
        proc = _cli(fresh, "scheduler", "--sweep-seconds", "1", "--election-seconds", "1",
                    stdout=subprocess.DEVNULL, stderr=err)
        try:
            _wait(lambda: _fired(fresh) == 20)  # the deadlines that passed while no scheduler ran
            if fresh.is_postgres:
                assert len(_advisory_holders(fresh)) == 1
        finally:
            proc.send_signal(signal.SIGTERM)
            rc = proc.wait(timeout=30)
    assert rc == 0, log.read_text()
    assert "调度器已停止" in log.read_text()
    assert _check_exactly_once(fresh, ids, complete=True) == 20
    if fresh.is_postgres:
        assert _advisory_holders(fresh) == []


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_two_scheduler_processes_one_leader_then_failover(fresh, tmp_path):
    logs = [tmp_path / "a.log", tmp_path / "b.log"]
    files = [p.open("w") for p in logs]
    args = ("scheduler", "--sweep-seconds", "1", "--election-seconds", "0.5")
    a = _cli(fresh, *args, stdout=subprocess.DEVNULL, stderr=files[0])
    procs = [a]
    try:
        _wait(lambda: "this process leads" in logs[0].read_text())
        b = _cli(fresh, *args, stdout=subprocess.DEVNULL, stderr=files[1])
        procs.append(b)
        _wait(lambda: "scheduler started" in logs[1].read_text())
        time.sleep(2)
        assert len(_advisory_holders(fresh)) == 1
        assert "this process leads" not in logs[1].read_text()  # standing by
        ids = _load(fresh, 10, due=sh(2026, 3, 6))
        a.send_signal(signal.SIGTERM)
        assert a.wait(timeout=30) == 0
        _wait(lambda: "this process leads" in logs[1].read_text())  # the standby takes over
        _wait(lambda: _fired(fresh) == 10)
        assert len(_advisory_holders(fresh)) == 1
    finally:
        for p in procs:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
                p.wait(timeout=30)
        for f in files:
            f.close()
    assert [p.returncode for p in procs] == [0, 0]
    assert _check_exactly_once(fresh, ids, complete=True) == 10


def test_the_schedulers_sweep_shares_a_backlog_with_helper_processes(fresh, monkeypatch):
    """sweep_backlog: on PostgreSQL a large backlog is shared with helper processes, each deadline fired once;
    on SQLite (one writer) it is a plain sweep."""
    from workflow import sweep as sweep_module

    ids = _load(fresh, 300)
    monkeypatch.setattr(sweep_module, "BACKLOG", 100)
    now = dt.datetime.fromisoformat(SWEEP_AT)
    with clock.frozen(now):
        result = sweep_module.sweep_backlog(fresh, now, processes=2)
    assert result.fired == 300 and result.errors == 0, result
    assert _check_exactly_once(fresh, ids, complete=True) == 300
    with clock.frozen(now):
        again = sweep_module.sweep_backlog(fresh, now, processes=2)
    assert again.fired == 0
