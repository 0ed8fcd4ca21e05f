"""The sweep's edges: a busy entity is left for the next sweep; a broken deadline costs only itself;
in-process scheduler: catch-up in deadline order at start, one leader on PostgreSQL, ``never``."""
from __future__ import annotations

import datetime as dt
import time

import pytest
from sqlalchemy import insert, select, text

import scheduler
from store.db import Database
from store.models import AuditEvent, Deadline
from tests.workflow.test_scheduler_support import bulk_publicity_projects, deadline, deadlines, sh
from workflow.sweep import sweep

DUE = sh(2026, 3, 5)


def _load(db, city, n, due=DUE):  # type: ignore[no-untyped-def]
    c = city.communities[0]
    return bulk_publicity_projects(db, c.id, c.people["secretary"].person_id, n, due, prefix=f"L{due:%m%d%H}")


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_entity_locked_by_a_user_is_left_for_the_next_sweep(db, city):
    ids = _load(db, city, 5)
    with db.engine.connect() as other:  # a user's transaction holding project #3
        other.execute(text("BEGIN"))
        other.execute(text("SELECT id FROM projects WHERE id = :i FOR UPDATE"), {"i": ids[2]})
        started = time.monotonic()
        result = sweep(db, DUE)
        assert time.monotonic() - started < 10
        assert (result.fired, result.busy) == (4, 1)
        held = deadline(db, "project", ids[2], "publicity")
        assert (held.status, held.attempts, held.next_attempt_at) == ("open", 0, None)
        other.execute(text("ROLLBACK"))
    assert sweep(db, DUE).fired == 1


def test_a_broken_deadline_costs_only_itself(db, city):
    ids = _load(db, city, 6)
    with db.uow() as uow:  # a malformed row among good ones (its handler raises)
        uow.session.execute(insert(Deadline).values(
            entity_type="community", entity_id=city.communities[0].id, kind="needs_collection", event="",
            ref="garbage", start_date=dt.date(2026, 3, 4), workdays=0, due_at=DUE - dt.timedelta(hours=1),
            provisional=False, status="open", created_at=DUE))
        uow.commit()
    result = sweep(db, DUE)
    assert (result.fired, result.errors) == (6, 1)
    [bad] = [d for d in deadlines(db, "community", city.communities[0].id, "needs_collection") if d.ref == "garbage"]
    assert (bad.status, bad.attempts) == ("open", 1) and "ValueError" in bad.last_error
    assert bad.next_attempt_at == DUE + dt.timedelta(minutes=1)
    assert all(deadline(db, "project", i, "publicity").status == "fired" for i in ids)


def _wait(predicate, timeout=30.0):  # type: ignore[no-untyped-def]
    end = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < end, "timed out"
        time.sleep(0.05)


def test_scheduler_start_catches_up_in_deadline_order(db, city):
    # three groups, inserted latest-due first: the catch-up must fire them earliest-due first
    groups = [_load(db, city, 3, DUE + dt.timedelta(days=d)) for d in (2, 1, 0)]
    handle = scheduler.start(db, "always", sweep_seconds=3600, election_seconds=3600)
    try:
        _wait(lambda: all(deadline(db, "project", i, "publicity").status == "fired" for g in groups for i in g))
        assert handle.is_leader
    finally:
        scheduler.stop(handle)
    with db.uow(write=False) as uow:
        order = [e for (e,) in uow.session.execute(select(AuditEvent.entity_id).where(
            AuditEvent.event == "publicity_elapsed").order_by(AuditEvent.id))]
    assert order == [i for g in reversed(groups) for i in g]
    assert [j.id for j in handle.scheduler.get_jobs()] == []  # shut down


def test_scheduler_never_runs_nothing(db, city):
    ids = _load(db, city, 2)
    handle = scheduler.start(db, "never", sweep_seconds=0.2, election_seconds=0.2)
    try:
        time.sleep(1.0)
        assert not handle.is_leader
        assert [j.id for j in handle.scheduler.get_jobs()] == []
    finally:
        scheduler.stop(handle)
    assert deadline(db, "project", ids[0], "publicity").status == "open"


def test_scheduler_jobs_use_memory_store_and_safe_defaults(db, city):
    handle = scheduler.start(db, "auto", sweep_seconds=3600, election_seconds=3600)
    try:
        assert handle.became_leader.wait(20)  # SQLite: always leads; PostgreSQL: alone, wins
        jobs = {j.id: j for j in handle.scheduler.get_jobs()}
        assert {"election", "sweep", "ensure_year_deadlines", "open_needs_collection",
                "deliver_notifications"} <= set(jobs)
        for job in jobs.values():
            assert (job.coalesce, job.max_instances, job.misfire_grace_time) == (True, 1, None)
        assert set(handle.scheduler._jobstores) == {"default"}
        assert type(handle.scheduler._jobstores["default"]).__name__ == "MemoryJobStore"
        assert str(jobs["ensure_year_deadlines"].trigger).startswith("cron[")
    finally:
        scheduler.stop(handle)


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_one_leader_among_schedulers_and_failover(db, city):
    a = scheduler.start(db, "auto", sweep_seconds=3600, election_seconds=0.3)
    _wait(lambda: a.is_leader)
    b = scheduler.start(db, "auto", sweep_seconds=3600, election_seconds=0.3)
    try:
        time.sleep(1.5)
        assert (a.is_leader, b.is_leader) == (True, False)
        assert [j.id for j in b.scheduler.get_jobs()] == ["election"]  # standby: only re-tries the lock
        a.stop()
        _wait(lambda: b.is_leader, timeout=10)
        assert "sweep" in {j.id for j in b.scheduler.get_jobs()}
    finally:
        scheduler.stop(a)
        scheduler.stop(b)
    with db.engine.connect() as conn:
        # this database's locks only: the server is shared with other test runs (their schedulers hold theirs)
        held = conn.execute(text("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND objid = :k "
                                 "AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"),
                            {"k": scheduler.LOCK_KEY}).scalar_one()
    assert held == 0



@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_leader_is_back_within_seconds_after_its_connections_are_killed(db, city):
    # no election tick and no sweep can bring it back (an hour each): only the leader's heartbeat, which takes
    # the lock again, and the catch-up that follows, on a pool whose connections are all dead
    canary = _load(db, city, 1)
    handle = scheduler.start(db, "auto", sweep_seconds=3600, election_seconds=3600, heartbeat_seconds=0.5)
    watcher = Database(db.url, pool_size=1, max_overflow=0, pool_pre_ping=True)  # reads without touching db's pool
    try:
        _wait(lambda: handle.is_leader and deadline(watcher, "project", canary[0], "publicity").status == "fired")
        soon = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=2)
        ids = _load(db, city, 3, due=soon)  # after the first catch-up: only a later one fires them
        time.sleep(max(0.0, (soon - dt.datetime.now(dt.UTC)).total_seconds()) + 0.5)
        with watcher.engine.connect() as conn:  # every backend of this database but this one: the lock's, the pool's
            killed = conn.execute(text(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()")).scalar_one()
        assert killed >= 2
        _wait(lambda: handle.is_leader and all(
            deadline(watcher, "project", i, "publicity").status == "fired" for i in ids), timeout=10)
    finally:
        scheduler.stop(handle)
        watcher.dispose()
