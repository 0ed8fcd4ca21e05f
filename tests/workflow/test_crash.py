"""SIGKILL in the middle of transitions (issue 2, acceptance: the crash test), on both databases.

A worker process (``crash_worker.py``) fires transitions on many projects of a fresh database, one
transaction each, and is killed with SIGKILL at a random moment, three times per database. After
each kill every row holds either its old state or its new state with its audit event, never half:

* each project's version equals the length of its audit chain, its head is the last event's hash,
  and its state is the last event's ``to_state``;
* the whole audit trail verifies;
* no effect row without its event: as many joint-meeting rows as ``record_meeting`` events, as
  many follow-ups as ``record_followup`` events;
* everything the worker reported as committed is there.
"""
from __future__ import annotations

import os
import queue
import random
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import func, select

from store.bootstrap import prepare
from store.db import Database
from store.models import AuditEvent, FollowUp, Meeting, Project
from tests.conftest import drop_pg_database, new_database_url
from workflow.audit import verify
from workflow.demo import Driver, create_city, open_years

ROOT = Path(__file__).resolve().parents[2]
WORKER = Path(__file__).resolve().parent / "crash_worker.py"
KILLS = 3
DRAFTS = 24


def check_consistent(db: Database) -> dict[int, int]:
    """Assert that every row is whole; return each project's version."""
    with db.uow(write=False) as uow:
        s = uow.session
        result = verify(s)
        assert result.ok, result.broken
        versions: dict[int, int] = {}
        for p in s.execute(select(Project)).scalars():
            events = list(s.execute(select(AuditEvent.seq, AuditEvent.to_state, AuditEvent.hash).where(
                AuditEvent.entity_type == "project", AuditEvent.entity_id == p.id).order_by(AuditEvent.seq)))
            assert p.version == len(events), f"project #{p.id}: version {p.version}, {len(events)} audit events"
            assert events, f"project #{p.id} has no audit chain"
            assert [e.seq for e in events] == list(range(1, len(events) + 1))
            assert events[-1].to_state == p.state, f"project #{p.id}: state {p.state}, chain ends in {events[-1].to_state}"
            assert events[-1].hash == p.audit_head
            versions[p.id] = p.version
        by_event = Counter(dict(s.execute(select(AuditEvent.event, func.count()).group_by(AuditEvent.event)).all()))
        joint = s.execute(select(func.count()).select_from(Meeting).where(Meeting.kind == "joint")).scalar_one()
        followups = s.execute(select(func.count()).select_from(FollowUp)).scalar_one()
        assert joint == by_event["record_meeting"], f"{joint} meetings, {by_event['record_meeting']} record_meeting events"
        assert followups == by_event["record_followup"], f"{followups} follow-ups, {by_event['record_followup']} events"
    return versions


def _pump(stream, lines: queue.Queue[str]) -> None:  # type: ignore[no-untyped-def]
    for line in stream:
        lines.put(line.rstrip("\n"))
    lines.put("")


def run_and_kill(url: str, at_least: int, rng: random.Random) -> list[str]:
    """Start the worker, let it commit at least ``at_least`` transitions, then SIGKILL it mid-flight."""
    env = {**os.environ, "DATABASE_URL": url, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, str(WORKER)], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    lines: queue.Queue[str] = queue.Queue()
    reader = threading.Thread(target=_pump, args=(proc.stdout, lines), daemon=True)
    reader.start()
    seen: list[str] = []
    deadline = time.monotonic() + 60
    try:
        while sum(1 for x in seen if x.startswith("ok ")) < at_least:
            try:
                line = lines.get(timeout=max(deadline - time.monotonic(), 0.01))
            except queue.Empty:
                pytest.fail(f"the worker committed only {len(seen)} transitions in 60 s")
            if not line:
                err = proc.stderr.read() if proc.stderr else ""
                pytest.fail(f"the worker ended early ({proc.poll()}): {err[-2000:]}")
            seen.append(line)
        time.sleep(rng.uniform(0, 0.05))  # a random moment: most likely inside a transaction
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        reader.join(timeout=10)
    assert proc.returncode == -signal.SIGKILL
    while not lines.empty():
        line = lines.get()
        if line:
            seen.append(line)
    assert not [x for x in seen if x.startswith("refused")], seen
    return seen


@pytest.mark.slow
def test_sigkill_mid_transition_leaves_old_or_new_state_never_half(backend: str, tmp_path: Path) -> None:
    url = new_database_url(backend, tmp_path)
    db = Database(url)
    try:
        prepare(db)
        city = create_city(db, communities=2, password=None)
        open_years(db, city, [2026])
        drv = Driver(db, city)
        for i in range(DRAFTS):
            drv.propose(community=i % 2, title=f"第{i + 1}号便民项目")
        for c in range(2):
            drv.new_project("in_progress", community=c)
        before = check_consistent(db)
        rng = random.Random()
        for _ in range(KILLS):
            reported = run_and_kill(url, rng.randint(15, 60), rng)
            after = check_consistent(db)
            # every transition the worker reported as committed survived the kill
            for line in reported:
                _ok, pid, _trigger, _state, version = line.split()
                assert after[int(pid)] >= int(version), line
            assert sum(after.values()) > sum(before.values()), "the worker made no progress"
            before = after
    finally:
        db.dispose()
        if backend == "postgresql":
            drop_pg_database(url)
