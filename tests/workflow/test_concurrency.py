"""The money limits under concurrent requests, on PostgreSQL (issue 3, Acceptance).

SQLite serialises every writer with ``BEGIN IMMEDIATE``, so races are a PostgreSQL matter: these
tests run there only (under ``CI=true`` an unreachable PostgreSQL already fails the session).
Each racing request is its own ``fire_event`` call — its own connection and transaction — and all
of them are released together by a barrier.
"""
from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import func, select

from store.db import Database
from store.models import LedgerEntry, Payment, PaymentItem, Project
from tests.workflow.test_money import ART_BUDGET, ART_CAP, Flow, assert_reconciled, fen, fund_year
from workflow.engine import Actor, Outcome
from workflow.services import fire_event

# PostgreSQL only: SQLite has no concurrent writers to race.
pytestmark = pytest.mark.parametrize("backend", ["postgresql"])

RACERS = 40


def race(db: Database, calls: list[Callable[[Database], Outcome]],
         warm: Callable[[Database], Any] | None = None) -> list[Outcome]:
    """Run every call in a thread of its own, all released at once; re-raise the first exception.

    ``warm`` runs in each thread before the start signal (e.g. refused firings that compile the statements
    of every racing event, so that none starts the race behind on SQLAlchemy's compilation)."""
    # a pool large enough that every racer holds a connection of its own at the same time
    racing = Database(db.url, pool_size=len(calls) + 2, max_overflow=0, pool_timeout=60)
    barrier = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)

    def run(i: int) -> None:
        try:
            with racing.engine.connect():  # warm a connection before the start signal
                pass
            if warm is not None:
                warm(racing)
            barrier.wait(timeout=60)
            results[i] = calls[i](racing)
        except BaseException as exc:  # noqa: BLE001 - reported below
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=120)
        assert not any(t.is_alive() for t in threads), "a racing request hung"
    finally:
        racing.dispose()
    errors = [r for r in results if isinstance(r, BaseException)]
    if errors:
        raise errors[0]
    return results


def approve_call(pid: int, actor: Actor, now: Any) -> Callable[[Database], Outcome]:
    return lambda database: fire_event(database, "project", pid, "approve", actor, now=now)


def _states(db: Database, pids: list[int]) -> dict[int, str]:
    with db.uow(write=False) as uow:
        return dict(uow.session.execute(select(Project.id, Project.state).where(Project.id.in_(pids))).all())


def _commitments(db: Database, fy_id: int) -> dict[int, int]:
    with db.uow(write=False) as uow:
        rows = uow.session.execute(select(LedgerEntry.project_id, LedgerEntry.amount_fen).where(
            LedgerEntry.fund_year_id == fy_id, LedgerEntry.kind == "commitment")).all()
    return {int(p): int(a) for p, a in rows}


def _build(flow: Flow, amounts: list[str], beneficiaries: int) -> list[int]:
    started = time.monotonic()
    pids = [flow.propose(a, beneficiaries) for a in amounts]  # codes are numbered: proposals go one by one
    flow.to_pending(pids, first_approval=True, workers=8)
    assert set(_states(flow.db, pids).values()) == {"pending_approval"}
    print(f"built {len(pids)} projects awaiting the director's approval in {time.monotonic() - started:.1f}s")
    return pids


def test_small_group_cap_holds_under_40_concurrent_approvals(db, driver):
    flow = Flow(driver)
    fy = flow.fund_year_id()
    amounts = ["2000.00"] * RACERS  # 80000.00: twice the cap of 20% × 200000.00
    cap = fen("40000.00")
    pids = _build(flow, amounts, beneficiaries=20)
    now = driver.tick(1)

    outcomes = race(db, [approve_call(pid, flow.director, now) for pid in pids])

    approved = {pid for pid, o in zip(pids, outcomes, strict=True) if o.ok}
    refused = [o for o in outcomes if not o.ok]
    for o in refused:
        assert (o.status, o.verdict.code, o.verdict.article) == (409, "cap.small_group", ART_CAP), o.verdict
        assert "40000.00" in o.verdict.message
    for o in outcomes:
        if o.ok:
            assert o.to_state == "in_progress" and o.data["committed"] == "2000.00"
    row = fund_year(db, fy)
    assert row.small_group_committed_fen <= cap
    # the approvals that fit are exactly the ones made: 20 of them, and no refused one would still fit
    assert len(approved) == 20 and row.small_group_committed_fen == cap == row.committed_fen
    states = _states(db, pids)
    assert {p for p, s in states.items() if s == "in_progress"} == approved
    assert {p for p, s in states.items() if s == "pending_approval"} == set(pids) - approved
    assert _commitments(db, fy) == {pid: fen("2000.00") for pid in approved}
    assert_reconciled(db)


def test_small_group_cap_holds_for_uneven_amounts(db, driver):
    """Amounts of different sizes: whatever order the race takes, every refused project would not fit."""
    flow = Flow(driver)
    fy = flow.fund_year_id()
    amounts = [f"{a}.00" for a in [500, 1500, 2500, 3500] * 8]  # 32 projects, 64000.00 > the cap
    cap = fen("40000.00")
    pids = _build(flow, amounts, beneficiaries=10)
    now = driver.tick(1)

    outcomes = race(db, [approve_call(pid, flow.director, now) for pid in pids])

    row = fund_year(db, fy)
    by_pid = dict(zip(pids, amounts, strict=True))
    approved = {pid for pid, o in zip(pids, outcomes, strict=True) if o.ok}
    assert row.small_group_committed_fen == sum(fen(by_pid[p]) for p in approved) <= cap
    for pid, o in zip(pids, outcomes, strict=True):
        if not o.ok:
            assert o.verdict.code == "cap.small_group", o.verdict
            assert row.small_group_committed_fen + fen(by_pid[pid]) > cap, "a refused project would have fitted"
    assert _commitments(db, fy) == {pid: fen(by_pid[pid]) for pid in approved}
    assert_reconciled(db)


def test_budget_holds_under_40_concurrent_approvals(db, driver):
    flow = Flow(driver)
    fy = flow.fund_year_id()
    amounts = ["10000.00"] * RACERS  # 400000.00 > 200000.00
    pids = _build(flow, amounts, beneficiaries=300)
    now = driver.tick(1)

    outcomes = race(db, [approve_call(pid, flow.director, now) for pid in pids])

    approved = {pid for pid, o in zip(pids, outcomes, strict=True) if o.ok}
    for o in outcomes:
        if not o.ok:
            assert (o.status, o.verdict.code, o.verdict.article) == (409, "budget.exceeded", ART_BUDGET), o.verdict
    row = fund_year(db, fy)
    assert row.committed_fen + row.paid_fen <= row.allocation_fen + row.carry_in_fen
    assert len(approved) == 20 and row.committed_fen == fen("200000.00")
    assert row.small_group_committed_fen == 0
    assert {p for p, s in _states(db, pids).items() if s == "in_progress"} == approved
    assert _commitments(db, fy) == {pid: fen("10000.00") for pid in approved}
    assert_reconciled(db)


def _signed_invoice(flow: Flow, amount: str) -> tuple[int, int]:
    pid = flow.approved(amount)
    flow.to_settlement(pid)
    item = flow.invoice(pid, amount).data["payment_item_id"]
    return pid, item


def _payments(db: Database, item: int) -> list[Payment]:
    with db.uow(write=False) as uow:
        return list(uow.session.execute(select(Payment).where(Payment.payment_item_id == item)).scalars())


def test_20_concurrent_payments_under_one_key_pay_once(db, driver):
    flow = Flow(driver)
    fy = flow.fund_year_id()
    pid, item = _signed_invoice(flow, "8888.88")
    key = "pay-" + uuid.uuid4().hex
    now = driver.tick(1)
    payload = {"payment_item_id": item, "idempotency_key": key}

    outcomes = race(db, [lambda database: fire_event(database, "project", pid, "pay", flow.finance, payload, now=now)
                         for _ in range(20)])

    assert all(o.ok for o in outcomes), [o.verdict for o in outcomes if not o.ok]
    fresh = [o for o in outcomes if not o.replayed]
    assert len(fresh) == 1
    assert sum(o.replayed for o in outcomes) == 19
    payments = _payments(db, item)
    assert len(payments) == 1 and payments[0].amount_fen == fen("8888.88")
    assert {o.data["payment_id"] for o in outcomes} == {payments[0].id}
    assert {o.verdict.code for o in outcomes if o.replayed} == {"payment.replayed"}
    row = fund_year(db, fy)
    assert (row.paid_fen, row.committed_fen) == (fen("8888.88"), 0)
    with db.uow(write=False) as uow:
        ledger = uow.session.execute(select(LedgerEntry.amount_fen).where(
            LedgerEntry.project_id == pid, LedgerEntry.kind == "payment")).scalars().all()
        assert list(ledger) == [fen("8888.88")]
        assert uow.session.get(PaymentItem, item).status == "paid"  # type: ignore[union-attr]
    assert_reconciled(db)


def test_20_concurrent_payments_with_different_keys_pay_once(db, driver):
    flow = Flow(driver)
    fy = flow.fund_year_id()
    pid, item = _signed_invoice(flow, "5000.00")
    now = driver.tick(1)
    payloads = [{"payment_item_id": item, "idempotency_key": f"pay-{i}-{uuid.uuid4().hex}"} for i in range(20)]

    outcomes = race(db, [lambda database, p=p: fire_event(database, "project", pid, "pay", flow.finance, p, now=now)
                         for p in payloads])

    paid = [o for o in outcomes if o.ok]
    assert len(paid) == 1 and not paid[0].replayed
    refused = [o for o in outcomes if not o.ok]
    assert len(refused) == 19
    assert {(o.status, o.verdict.code) for o in refused} == {(409, "payment.already_paid")}
    payments = _payments(db, item)
    assert len(payments) == 1 and payments[0].amount_fen == fen("5000.00")
    row = fund_year(db, fy)
    assert (row.paid_fen, row.committed_fen) == (fen("5000.00"), 0)
    with db.uow(write=False) as uow:
        n = uow.session.execute(select(func.count()).select_from(LedgerEntry).where(
            LedgerEntry.fund_year_id == fy, LedgerEntry.kind == "payment")).scalar_one()
        assert n == 1
    assert_reconciled(db)


def test_the_same_approval_sent_20_times_commits_once(db, driver):
    """A double-clicked approval: both leaders' approvals race, each sent ten times."""
    flow = Flow(driver)
    fy = flow.fund_year_id()
    pid = flow.propose("30000.00", beneficiaries=20)
    flow.to_pending([pid])
    now = driver.tick(1)

    outcomes = race(db, [approve_call(pid, actor, now) for actor in [flow.ws, flow.director] * 10])

    assert sum(o.ok for o in outcomes) == 2
    assert sum(o.ok and o.to_state == "in_progress" for o in outcomes) == 1
    for o in outcomes:
        if not o.ok:
            assert o.verdict.code in ("approval.already_approved", "workflow.invalid_state"), o.verdict
    assert _commitments(db, fy) == {pid: fen("30000.00")}
    row = fund_year(db, fy)
    assert row.committed_fen == row.small_group_committed_fen == fen("30000.00")
    assert_reconciled(db)
