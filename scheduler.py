"""Wiring only: APScheduler runs the jobs of ``workflow.jobs``; exactly one process leads.

Two ways to run it (docs/scheduler.md):

* inside the service — ``fundflow serve`` calls :func:`start` from the app's lifespan and
  :func:`stop` at shutdown; with several workers on PostgreSQL each worker calls it, one wins
  the election and the others stand by;
* its own process — ``fundflow scheduler`` (blocking, SIGTERM/SIGINT stop it cleanly).

Leader modes: ``auto`` (PostgreSQL: the holder of a session advisory lock leads, taken with
``pg_try_advisory_lock`` on a dedicated connection and re-tried by standbys every
``election_seconds``; SQLite: always leads — one process owns an SQLite file), ``always`` (lead
without election) and ``never`` (run nothing: API workers when a dedicated scheduler runs).

Each process has its own ``BackgroundScheduler`` with the default in-memory job store: no job
store is ever shared between schedulers, and nothing is lost by it, because the deadlines are rows
and every job is an idempotent sweep over them. Every job is added with ``coalesce=True``,
``max_instances=1`` and ``misfire_grace_time=None`` (a run that fell due while the process was busy
runs late rather than being dropped). On becoming leader a process first runs everything once
(``workflow.jobs.run_once``): deadlines that passed while no scheduler ran fire then, in deadline
order.
"""
from __future__ import annotations

import contextlib
import datetime as dt
import logging
import os
import signal
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy import Connection, create_engine, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import NullPool

from store.db import Database
from workflow import clock
from workflow.jobs import JOBS, run_once

log = logging.getLogger("fundflow.scheduler")

LOCK_KEY = 7234003
"""The advisory lock of the scheduler leader (7234001: migrations, 7234002: calendar seeding)."""
MODES = ("auto", "always", "never")
JOB_DEFAULTS = {"coalesce": True, "max_instances": 1, "misfire_grace_time": None}
T = TypeVar("T")


@dataclass
class Settings:
    leader: str = "auto"
    sweep_seconds: float = 30.0
    election_seconds: float = 15.0
    heartbeat_seconds: float = 2.0
    """How often the leader checks its lock connection (a ``SELECT 1``); on losing it, it takes the lock again
    at once on a new connection, so a killed connection costs seconds, not an election tick."""

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> Settings:
        """``FUNDFLOW_SCHEDULER`` (auto | always | never), ``FUNDFLOW_SWEEP_SECONDS`` (30),
        ``FUNDFLOW_ELECTION_SECONDS`` (15), ``FUNDFLOW_HEARTBEAT_SECONDS`` (2)."""
        e = os.environ if env is None else env
        return cls(leader=(e.get("FUNDFLOW_SCHEDULER") or "auto").strip().lower(),
                   sweep_seconds=float(e.get("FUNDFLOW_SWEEP_SECONDS") or 30),
                   election_seconds=float(e.get("FUNDFLOW_ELECTION_SECONDS") or 15),
                   heartbeat_seconds=float(e.get("FUNDFLOW_HEARTBEAT_SECONDS") or 2))


class _Leadership:
    """Who leads: the advisory lock on PostgreSQL (held by a dedicated connection), else the mode."""

    def __init__(self, db: Database, mode: str) -> None:
        self.db = db
        self.mode = mode
        self._engine: Any = None
        self._conn: Connection | None = None

    @property
    def elected(self) -> bool:
        return self.mode == "auto" and self.db.is_postgres

    def acquire(self) -> bool:
        if self.mode == "never":
            return False
        if not self.elected:
            return True
        if self._engine is None:
            # its own connection, outside the pool: the lock lives exactly as long as this session
            self._engine = create_engine(self.db.url, poolclass=NullPool, connect_args={
                "application_name": "fundflow-scheduler", "keepalives": 1, "keepalives_idle": 30,
                "keepalives_interval": 10, "keepalives_count": 3})
        conn = self._engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        try:
            got = bool(conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": LOCK_KEY}).scalar())
        except Exception:
            conn.close()
            raise
        if got:
            self._conn = conn
        else:
            conn.close()
        return got

    def still_held(self) -> bool:
        """Whether the lock's session is alive (the lock goes with it)."""
        if not self.elected:
            return self.mode != "never"
        if self._conn is None:
            return False
        try:
            self._conn.execute(text("SELECT 1"))
            return True
        except Exception as exc:  # noqa: BLE001 - a dead session means the lock is gone
            log.warning("scheduler lock connection lost: %s", exc)
            self._drop()
            return False

    def release(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(Exception):  # the session is going anyway
                self._conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": LOCK_KEY})
        self._drop()
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None

    def _drop(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(Exception):
                self._conn.close()
            self._conn = None


@dataclass
class SchedulerHandle:
    """A running scheduler: ``is_leader``, ``stop()``; ``scheduler`` is the APScheduler instance."""

    db: Database
    settings: Settings
    scheduler: BackgroundScheduler
    leadership: _Leadership
    stopping: threading.Event = field(default_factory=threading.Event)
    became_leader: threading.Event = field(default_factory=threading.Event)
    _leader: bool = False
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def is_leader(self) -> bool:
        return self._leader

    def stop(self, wait: bool = True) -> None:
        """Stop the jobs (a running sweep stops between batches, its transaction finished) and
        give up the leadership; idempotent."""
        if self.stopping.is_set():
            return
        self.stopping.set()
        try:
            self.scheduler.shutdown(wait=wait)
        finally:
            with self._lock:
                self._leader = False
                self.leadership.release()
        log.info("scheduler stopped")

    # -- election
    def _elect(self) -> None:
        if self.stopping.is_set():
            return
        with self._lock:
            try:
                if self._leader:
                    if self.leadership.still_held():
                        return
                    self._demote()
                # a standby's tick, or a leader whose lock connection just died (killed, a restart): take
                # the lock again now on a new connection rather than at the next tick
                if self.leadership.acquire():
                    self._promote()
            except Exception:  # noqa: BLE001 - the database may be down; try again next tick
                log.exception("scheduler election failed")

    def _promote(self) -> None:
        self._leader = True
        log.info("scheduler: this process leads (pid %s)", os.getpid())
        now = dt.datetime.now(clock.SHANGHAI)
        self.scheduler.add_job(self._catch_up, "date", run_date=now, id="catch_up", replace_existing=True)
        if self.leadership.elected:
            self.scheduler.add_job(self._elect, "interval", seconds=self.settings.heartbeat_seconds, id="heartbeat",
                                   replace_existing=True)
        for spec in JOBS.values():
            args: dict[str, Any] = dict(spec.trigger_args)
            if spec.id == "sweep":
                args["seconds"] = self.settings.sweep_seconds
            if spec.trigger == "interval":
                # the catch-up run sweeps now; the interval jobs start one period later
                args["next_run_time"] = now + dt.timedelta(seconds=float(args.get("seconds", 0)))
            self.scheduler.add_job(self._runner(spec.id), spec.trigger, id=spec.id, name=spec.description,
                                   replace_existing=True, **args)
        self.became_leader.set()

    def _demote(self) -> None:
        log.warning("scheduler: leadership lost, standing by")
        self._leader = False
        self.became_leader.clear()
        for job_id in ["catch_up", "heartbeat", *JOBS]:
            with contextlib.suppress(Exception):  # not scheduled
                self.scheduler.remove_job(job_id)

    # -- jobs
    def _should_stop(self) -> bool:
        return self.stopping.is_set() or not self._leader

    def _catch_up(self) -> None:
        if self._should_stop():
            return
        result = _retrying(lambda: run_once(self.db, should_stop=self._should_stop), "catch-up")
        s = result.sweep
        log.info("scheduler catch-up: %d deadlines made; fired %d, escalated %d, notified %d, refused %d, flagged %d",
                 result.created, s.fired, s.escalated, s.notified, s.refused, s.flagged)

    def _runner(self, job_id: str) -> Any:
        def run() -> None:
            if self._should_stop():
                return
            try:
                _retrying(lambda: JOBS[job_id].func(self.db, self._should_stop), job_id)
            except Exception:  # noqa: BLE001 - logged; the next run tries again
                log.exception("scheduler job %s failed", job_id)
        run.__name__ = f"fundflow_{job_id}"
        return run


def _retrying(run: Callable[[], T], what: str) -> T:
    """``run()``, once more if it failed on a pooled connection found dead (the database restarted, or its
    backends were killed): SQLAlchemy then invalidates the whole pool, so the second try connects afresh."""
    try:
        return run()
    except DBAPIError as exc:
        if not exc.connection_invalidated:
            raise
        log.warning("scheduler %s: database connection lost, trying again on a new one", what)
        return run()


def start(db: Database, leader: str = "auto", *, sweep_seconds: float | None = None,
          election_seconds: float | None = None, heartbeat_seconds: float | None = None) -> SchedulerHandle:
    """Start the scheduler in this process (non-blocking); returns the handle to :func:`stop` it.

    ``leader``: ``auto`` (elect on PostgreSQL, lead on SQLite), ``always`` or ``never``. The other
    settings default to ``FUNDFLOW_SWEEP_SECONDS`` / ``FUNDFLOW_ELECTION_SECONDS`` (30 / 15). For the
    app's lifespan::

        handle = scheduler.start(database, leader=os.environ.get("FUNDFLOW_SCHEDULER", "auto"))
        yield
        scheduler.stop(handle)
    """
    if leader not in MODES:
        raise ValueError(f"leader must be one of {', '.join(MODES)}, not {leader!r}")
    env = Settings.from_env()
    settings = Settings(leader=leader, sweep_seconds=sweep_seconds or env.sweep_seconds,
                        election_seconds=election_seconds or env.election_seconds,
                        heartbeat_seconds=heartbeat_seconds or env.heartbeat_seconds)
    sched = BackgroundScheduler(timezone=clock.SHANGHAI, job_defaults=dict(JOB_DEFAULTS))
    handle = SchedulerHandle(db=db, settings=settings, scheduler=sched, leadership=_Leadership(db, leader))
    sched.start()
    if leader != "never":
        sched.add_job(handle._elect, "interval", seconds=settings.election_seconds, id="election",
                      next_run_time=dt.datetime.now(clock.SHANGHAI))
    log.info("scheduler started (leader=%s, %s)", leader, "PostgreSQL" if db.is_postgres else "SQLite")
    return handle


def stop(handle: SchedulerHandle | None, wait: bool = True) -> None:
    """Stop a scheduler started by :func:`start` (None is accepted: nothing was started)."""
    if handle is not None:
        handle.stop(wait=wait)


def run_forever(db: Database, leader: str = "auto", *, sweep_seconds: float | None = None,
                election_seconds: float | None = None) -> None:
    """``fundflow scheduler``: run until SIGTERM or SIGINT, then stop cleanly."""
    done = threading.Event()

    def on_signal(signum: int, _frame: Any) -> None:
        log.info("scheduler: signal %s, stopping", signum)
        done.set()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGTERM, signal.SIGINT)}
    handle = start(db, leader, sweep_seconds=sweep_seconds, election_seconds=election_seconds)
    try:
        while not done.wait(1.0):
            pass
    finally:
        handle.stop(wait=True)
        for sig, old in previous.items():
            signal.signal(sig, old)
