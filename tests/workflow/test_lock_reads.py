"""What the engine reads together with the row lock (workflow.engine.lock_row).

To spare round trips, the statement that locks a project also reads the actor's posts and what the
event's guards need: open concerns and objections, the step deadline, the needs, the line items.
These tests check that this one statement reads the same as separate reads would, on both databases,
and that on PostgreSQL a firing that waited for the lock sees what the writer before it committed.
"""
from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import select, text

from store.db import Database
from store.models import Deadline, LineItem, Project, ProjectNeed
from workflow.engine import SYSTEM, event_reads, fire, lock_row, workflow_for
from workflow.services import fire_event

READS = frozenset({"facts", "line_items"})


def test_submission_reads_facts_and_line_items_with_the_lock() -> None:
    wf = workflow_for("project")
    assert event_reads(wf, "project", "submit_preliminary") == READS
    assert event_reads(wf, "project", "return_for_revision") == frozenset()
    assert event_reads(wf, "fund_year", "close") == frozenset()


def test_lock_statement_reads_what_separate_reads_do(db: Database, driver) -> None:  # type: ignore[no-untyped-def]
    pid = driver.propose()
    with db.uow() as uow:  # a second item, flagged: its keywords are a JSON array inside the aggregate
        uow.session.add(LineItem(project_id=pid, description="慰问品(购物卡)", quantity=3, unit_price_fen=5000,
                                 amount_fen=15000, catalog_item="", flagged_keywords=["购物卡", "礼品"]))
        uow.commit()
    driver.fire(pid, "raise_concern", driver.a("supervisor1"), {"text": "路灯型号与预算不符,请说明"})
    driver.fire(pid, "raise_concern", driver.a("supervisor2"), {"text": "请补充施工单位资质"})
    secretary = driver.a("secretary")
    with db.uow() as uow:
        s = uow.session
        locked = lock_row(s, "project", pid, secretary, driver.now.date(), READS)
        assert locked is not None
        items = s.execute(select(LineItem).where(LineItem.project_id == pid).order_by(LineItem.id)).scalars().all()
        needs = sorted(s.execute(select(ProjectNeed.need_id).where(ProjectNeed.project_id == pid)).scalars())
        assert locked.row.id == pid and isinstance(locked.row, Project)
        assert locked.facts is not None and locked.line_items is not None
        assert locked.facts.open_concerns == 2
        assert locked.facts.open_objections == 0
        assert locked.facts.due_at is None  # a draft has no step deadline
        assert list(locked.facts.need_ids) == needs and needs
        assert [(i.description, i.quantity, i.unit_price_fen, i.amount_fen, i.catalog_item, list(i.flagged_keywords))
                for i in locked.line_items] == [
            (i.description, i.quantity, i.unit_price_fen, i.amount_fen, i.catalog_item, list(i.flagged_keywords or []))
            for i in items]
        assert locked.line_items[-1].flagged_keywords == ["购物卡", "礼品"]
        assert [p.role for p in locked.held] == ["community_secretary"]
        assert lock_row(s, "project", pid + 10_000, secretary, driver.now.date(), READS) is None
        # the system holds no post; a stranger's posts are not the secretary's
        assert lock_row(s, "project", pid, SYSTEM, driver.now.date(), READS).held == []  # type: ignore[union-attr]


def test_publicity_deadline_is_read_with_the_lock(db: Database, driver) -> None:  # type: ignore[no-untyped-def]
    pid = driver.new_project("publicity")
    with db.uow() as uow:
        locked = lock_row(uow.session, "project", pid, None, driver.now.date(), READS)
        assert locked is not None and locked.facts is not None
        due = uow.session.execute(select(Deadline.due_at).where(
            Deadline.entity_type == "project", Deadline.entity_id == pid, Deadline.kind == "publicity",
            Deadline.status == "open")).scalar_one()
        assert locked.facts.due_at == due and due.tzinfo is not None


@pytest.mark.parametrize("backend", ["postgresql"])
def test_concern_committed_while_a_submission_waits_for_the_lock_holds_it(db: Database, driver) -> None:  # type: ignore[no-untyped-def]
    """READ COMMITTED: the waiting statement's subqueries would see the snapshot from before the wait."""
    pid = driver.propose()
    now = driver.tick(1)
    result: dict[str, object] = {}
    waiter = Database(db.url)
    try:
        with db.uow() as holder:
            raised = fire(holder.session, "project", pid, "raise_concern", driver.a("supervisor1"),
                          {"text": "请先公开询价记录"}, now=now)
            assert raised.ok

            def submit() -> None:
                try:
                    result["out"] = fire_event(waiter, "project", pid, "submit_preliminary", driver.a("secretary"),
                                               now=now)
                except BaseException as exc:  # noqa: BLE001 - reported below
                    result["out"] = exc

            thread = threading.Thread(target=submit)
            thread.start()
            deadline = time.monotonic() + 20
            with db.engine.connect() as watch:
                while not watch.execute(text(
                        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                        "AND wait_event_type = 'Lock'")).scalar():
                    assert thread.is_alive(), f"the submission did not wait for the lock: {result}"
                    assert time.monotonic() < deadline, "the submission never waited for the lock"
                    watch.rollback()  # pg_stat_activity is a snapshot per transaction
                    time.sleep(0.02)
            holder.commit()
        thread.join(30)
    finally:
        waiter.dispose()
    out = result["out"]
    assert out.status == 409, out  # type: ignore[attr-defined]
    assert out.verdict.code == "supervision.open_concern"  # type: ignore[attr-defined]
    assert driver.state(pid) == "draft"
