"""Money (SPEC section 5, issue 3): the ledger entry of every action, the limits at every stage, and
``fundflow ledger reconcile`` — on SQLite and PostgreSQL.

``Flow`` is the fast way the money tests (here, in test_concurrency, test_money_properties and
test_year_close) carry projects along: every state is still reached by real events through
``fire_event``, but with explicit instants and without polling, and many projects share one
publicity period.
"""
from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select, text

from rules.money import format_yuan, parse_yuan
from store.db import Database
from store.models import AuditEvent, FundYear, LedgerEntry, Payment, PaymentItem, Project
from workflow import clock
from workflow.demo import Driver, Refused
from workflow.engine import SYSTEM, Outcome
from workflow.ledger import reconcile
from workflow.services import fire_event

ART_CAP = "第七条第(二)项"
ART_BUDGET = "第五条、第十三条"
ART_PAYMENT = "第十三条"


# ------------------------------------------------------------------------------------------ helpers


class Flow:
    """Carries projects of one community through the lifecycle by real events, quickly."""

    def __init__(self, driver: Driver, community: int = 0) -> None:
        self.d = driver
        self.db: Database = driver.db
        self.c = community
        self.sec = driver.a("secretary", community)
        self.sup1 = driver.a("supervisor1", community)
        self.wm1 = driver.a("working_member1")
        self.ws = driver.a("working_secretary")
        self.director = driver.a("director")
        self.finance = driver.a("finance")

    # -- firing
    def fire(self, pid: int, trigger: str, actor: Any, payload: dict[str, Any] | None = None, reason: str = "",
             *, check: bool = True, entity_type: str = "project", now: dt.datetime | None = None) -> Outcome:
        """One event in its own transaction. With ``now`` the clock is not touched (safe in threads)."""
        if now is None:
            return self.d.fire(pid, trigger, actor, payload, reason, check=check, entity_type=entity_type)
        outcome = fire_event(self.db, entity_type, pid, trigger, actor, payload, reason=reason, now=now)
        if check and not outcome.ok:
            raise Refused(outcome, trigger)
        return outcome

    # -- proposal to approval
    def propose(self, amount: str, beneficiaries: int = 300, year: int = 2026, **kw: Any) -> int:
        return self.d.propose(community=self.c, amount=amount, beneficiaries=beneficiaries, year=year, **kw)

    def to_pending(self, pids: Iterable[int], first_approval: bool = False, workers: int = 1) -> None:
        """Drive draft projects to ``pending_approval`` with the board meeting recorded (and, with
        ``first_approval``, the working committee secretary's approval given). The projects share one
        publicity period; with ``workers`` > 1 each project's chain runs in a thread of its own."""
        pids = list(pids)
        t1 = self.d.tick(1)
        t2 = t1 + dt.timedelta(days=12)
        meeting = self.d.meeting()
        meeting["held_on"] = clock.local_date(t1).isoformat()
        board = self.d.board()
        board["held_on"] = clock.local_date(t2).isoformat()

        def chain(pid: int) -> None:
            def at(base: dt.datetime, k: int) -> dt.datetime:
                return base + dt.timedelta(minutes=k)

            self.fire(pid, "submit_preliminary", self.sec, now=at(t1, 0))
            self.fire(pid, "grant_preliminary", self.wm1, now=at(t1, 1))
            self.fire(pid, "record_meeting", self.sec, meeting, now=at(t1, 2))
            self.fire(pid, "signoff", self.sup1, {"stage": "declaration"}, now=at(t1, 3))
            self.fire(pid, "publicity_elapsed", SYSTEM, now=at(t2, 0))
            self.fire(pid, "submit", self.sec, now=at(t2, 1))
            self.fire(pid, "record_board_meeting", self.wm1, board, now=at(t2, 2))
            if first_approval:
                self.fire(pid, "approve", self.ws, now=at(t2, 3))

        if workers > 1:
            with ThreadPoolExecutor(max_workers=workers) as pool:
                list(pool.map(chain, pids))
        else:
            for pid in pids:
                chain(pid)
        self.d.now = t2 + dt.timedelta(hours=1)

    def approve(self, pid: int, check: bool = True) -> Outcome:
        """Both main leaders approve (the director's approval commits). Returns the last outcome."""
        first = self.fire(pid, "approve", self.ws, check=check)
        if not first.ok:
            return first
        return self.fire(pid, "approve", self.director, check=check)

    def approved(self, amount: str, beneficiaries: int = 300, **kw: Any) -> int:
        pid = self.propose(amount, beneficiaries, **kw)
        self.to_pending([pid])
        self.approve(pid)
        return pid

    # -- change
    def change_amount(self, pid: int, amount: str, check: bool = True) -> Outcome:
        """request_change of the amount, then the working committee secretary's decision."""
        self.fire(pid, "request_change", self.sec, {"changes": {"amount": amount}}, reason="实际工程量调整,申请变更金额")
        return self.fire(pid, "approve_change", self.ws, check=check)

    # -- execution, acceptance and payment
    def to_settlement(self, pid: int) -> None:
        self.fire(pid, "record_followup", self.wm1,
                  {"visited_on": clock.local_date(self.d.now).isoformat(), "notes": "现场查看,施工进度正常。"})
        self.fire(pid, "report_completion", self.sec, {"summary": "项目已完工"})
        self.fire(pid, "signoff", self.sup1, {"stage": "acceptance"})
        self.fire(pid, "accept", self.wm1, self.d.acceptance(self.c))

    def invoice(self, pid: int, amount: str, signed: bool = True, check: bool = True) -> Outcome:
        """An invoice item for ``amount``, signed by the three posts in order (when ``signed``)."""
        out = self.fire(pid, "add_payment_item", self.finance,
                        {"kind": "invoice", "amount": amount, "payee": "xx市照明工程有限公司",
                         "invoice_no": f"INV-{uuid.uuid4().hex[:10]}"}, check=check)
        if out.ok and signed:
            item = out.data["payment_item_id"]
            for who in (self.sec, self.director, self.ws):
                self.fire(pid, "sign_invoice", who, {"payment_item_id": item})
        return out

    def pay(self, pid: int, item: int, key: str | None = None, check: bool = True) -> Outcome:
        return self.fire(pid, "pay", self.finance, {"payment_item_id": item, "idempotency_key": key or uuid.uuid4().hex},
                         check=check)

    def pay_amount(self, pid: int, amount: str) -> Outcome:
        item = self.invoice(pid, amount).data["payment_item_id"]
        return self.pay(pid, item)

    # -- the fund year
    def fund_year_id(self, year: int = 2026) -> int:
        cid = self.d.city.communities[self.c].id
        with self.db.uow(write=False) as uow:
            return int(uow.session.execute(select(FundYear.id).where(FundYear.community_id == cid,
                                                                     FundYear.year == year)).scalar_one())

    def close_year(self, year: int = 2026) -> Outcome:
        """Report, evaluate, disclose and close ``year`` (the close happens early in the next year)."""
        fy = self.fund_year_id(year)
        self.fire(fy, "submit_report", self.sec, {"summary": "全年专项经费使用情况良好,项目按计划实施。"},
                  entity_type="fund_year")
        self.fire(fy, "evaluate", self.ws, {"rating": "good", "comment": "考核评议良好"}, entity_type="fund_year")
        self.fire(fy, "start_disclosure", self.sec, entity_type="fund_year")
        self.d.after_days(10)
        self.fire(fy, "disclosure_elapsed", SYSTEM, entity_type="fund_year")
        new_year = dt.datetime(year + 1, 1, 4, 10, 0, tzinfo=clock.SHANGHAI)
        self.d.now = max(self.d.now, new_year)
        return self.fire(fy, "close_year", self.finance, entity_type="fund_year")


def fund_year(db: Database, fy_id: int) -> FundYear:
    with db.uow(write=False) as uow:
        row = uow.session.get(FundYear, fy_id)
        assert row is not None
        return row


def project(db: Database, pid: int) -> Project:
    with db.uow(write=False) as uow:
        row = uow.session.get(Project, pid)
        assert row is not None
        return row


def entries(db: Database, fy_id: int | None = None, project_id: int | None = None,
            kind: str | None = None) -> list[tuple[str, int, int | None]]:
    """(kind, amount_fen, project_id) of ledger entries, in order."""
    stmt = select(LedgerEntry.kind, LedgerEntry.amount_fen, LedgerEntry.project_id).order_by(LedgerEntry.id)
    if fy_id is not None:
        stmt = stmt.where(LedgerEntry.fund_year_id == fy_id)
    if project_id is not None:
        stmt = stmt.where(LedgerEntry.project_id == project_id)
    if kind is not None:
        stmt = stmt.where(LedgerEntry.kind == kind)
    with db.uow(write=False) as uow:
        return [(k, int(a), p) for k, a, p in uow.session.execute(stmt).all()]


def assert_reconciled(db: Database) -> None:
    with db.uow(write=False) as uow:
        checked, diffs = reconcile(uow.session)
    assert checked > 0
    assert diffs == [], "\n".join(str(d) for d in diffs)


def fen(yuan: str) -> int:
    return parse_yuan(yuan)


@pytest.fixture
def flow(driver: Driver) -> Flow:
    return Flow(driver)


# ------------------------------------------------------------------------------------- ledger entries


def test_opening_a_year_books_allocation_and_carry_in(db, city, flow):
    fy = flow.fund_year_id(2026)
    assert entries(db, fy) == [("allocation", fen("200000.00"), None)]  # no carry-in entry for nothing
    with clock.frozen(dt.datetime(2026, 12, 30, 9, 0)), db.uow() as uow:
        from workflow.services import open_fund_year

        opened = open_fund_year(uow.session, city.communities[0].id, 2027, carry_in_fen=fen("1234.56"))
        uow.commit()
        fy27 = opened.id
    assert entries(db, fy27) == [("allocation", fen("200000.00"), None), ("carry_in", fen("1234.56"), None)]
    row = fund_year(db, fy27)
    assert (row.allocation_fen, row.carry_in_fen, row.committed_fen, row.paid_fen) == (20_000_000, 123_456, 0, 0)
    assert_reconciled(db)


def test_commitment_is_booked_only_when_the_second_leader_approves(db, flow):
    fy = flow.fund_year_id()
    pid = flow.propose("12345.67")
    flow.to_pending([pid])
    first = flow.fire(pid, "approve", flow.ws)
    assert first.ok and first.to_state == "pending_approval"
    assert entries(db, fy, kind="commitment") == []
    assert fund_year(db, fy).committed_fen == 0
    second = flow.fire(pid, "approve", flow.director)
    assert second.ok and second.to_state == "in_progress"
    assert second.data["committed"] == "12345.67"
    assert entries(db, fy, kind="commitment") == [("commitment", 1_234_567, pid)]
    row, p = fund_year(db, fy), project(db, pid)
    assert (row.committed_fen, row.paid_fen, row.small_group_committed_fen) == (1_234_567, 0, 0)
    assert p.committed_fen == 1_234_567
    assert_reconciled(db)


def test_approved_changes_book_signed_adjustments(db, flow):
    fy = flow.fund_year_id()
    pid = flow.approved("12000.00")
    up = flow.change_amount(pid, "15000.00")
    assert up.ok and up.to_state == "in_progress"
    assert entries(db, fy, kind="adjustment") == [("adjustment", fen("3000.00"), pid)]
    assert fund_year(db, fy).committed_fen == fen("15000.00")
    assert project(db, pid).amount_fen == fen("15000.00")
    assert_reconciled(db)

    down = flow.change_amount(pid, "9000.50")
    assert down.ok
    assert entries(db, fy, kind="adjustment") == [("adjustment", fen("3000.00"), pid),
                                                   ("adjustment", -fen("5999.50"), pid)]
    assert fund_year(db, fy).committed_fen == fen("9000.50")
    assert_reconciled(db)

    # a change of dates only, and a rejected change of amount, book nothing
    flow.fire(pid, "request_change", flow.sec, {"changes": {"planned_end": "2026-12-20"}}, reason="材料到货延迟,申请延长工期")
    flow.fire(pid, "approve_change", flow.ws)
    flow.fire(pid, "request_change", flow.sec, {"changes": {"amount": "30000.00"}}, reason="扩大实施范围")
    flow.fire(pid, "reject_change", flow.ws, reason="扩大范围须重新申报")
    assert len(entries(db, fy, kind="adjustment")) == 2
    assert fund_year(db, fy).committed_fen == fen("9000.50")
    assert_reconciled(db)


def test_payments_and_the_release_of_the_unspent_amount(db, flow):
    fy = flow.fund_year_id()
    pid = flow.approved("12000.00")
    flow.to_settlement(pid)
    first = flow.pay_amount(pid, "5000.00")
    assert first.ok and first.data["amount"] == "5000.00"
    second = flow.pay_amount(pid, "3000.25")
    assert second.ok
    assert entries(db, fy, kind="payment") == [("payment", fen("5000.00"), pid), ("payment", fen("3000.25"), pid)]
    row = fund_year(db, fy)
    assert (row.committed_fen, row.paid_fen) == (fen("3999.75"), fen("8000.25"))
    assert_reconciled(db)

    closed = flow.fire(pid, "close_settlement", flow.finance)
    assert closed.ok and closed.to_state == "completion_publicity"
    assert entries(db, fy, kind="release") == [("release", fen("3999.75"), pid)]
    row, p = fund_year(db, fy), project(db, pid)
    assert (row.committed_fen, row.paid_fen) == (0, fen("8000.25"))
    assert (p.committed_fen, p.paid_fen, p.released_fen) == (0, fen("8000.25"), fen("3999.75"))
    assert [k for k, _a, _p in entries(db, fy)] == ["allocation", "commitment", "payment", "payment", "release"]
    assert_reconciled(db)


def test_a_fully_paid_project_releases_nothing(db, flow):
    fy = flow.fund_year_id()
    pid = flow.approved("6000.00")
    flow.to_settlement(pid)
    flow.pay_amount(pid, "6000.00")
    flow.fire(pid, "close_settlement", flow.finance)
    assert entries(db, fy, kind="release") == []
    row = fund_year(db, fy)
    assert (row.committed_fen, row.paid_fen) == (0, fen("6000.00"))
    assert_reconciled(db)


def test_rejected_withdrawn_and_returned_projects_book_nothing(db, driver, flow):
    fy = flow.fund_year_id()
    rejected = driver.new_project("rejected", amount="9000.00")
    withdrawn = driver.new_project("withdrawn", amount="8000.00")
    returned = flow.propose("7000.00")
    flow.to_pending([returned], first_approval=True)
    flow.fire(returned, "return_for_revision", flow.director, reason="预算明细不清,退回修改")
    assert driver.state(rejected) == "rejected" and driver.state(withdrawn) == "withdrawn"
    assert driver.state(returned) == "draft"
    assert entries(db, fy) == [("allocation", fen("200000.00"), None)]
    row = fund_year(db, fy)
    assert (row.committed_fen, row.paid_fen, row.small_group_committed_fen) == (0, 0, 0)
    assert_reconciled(db)


# ------------------------------------------------------------------------------------------- limits


def test_paid_never_exceeds_the_approved_amount(db, flow):
    pid = flow.approved("10000.00")
    flow.to_settlement(pid)
    too_much = flow.invoice(pid, "10000.01", check=False)
    assert not too_much.ok
    assert (too_much.verdict.code, too_much.verdict.article, too_much.status) == ("payment.exceeds_approved", ART_PAYMENT, 409)
    assert "批准金额 10000.00 元" in too_much.verdict.message
    # listed items count too: two items can never add up to more than approved
    first = flow.invoice(pid, "6000.00")
    second = flow.invoice(pid, "4000.01", check=False)
    assert not second.ok and second.verdict.code == "payment.exceeds_approved"
    flow.pay(pid, first.data["payment_item_id"])
    third = flow.invoice(pid, "4000.01", check=False)
    assert not third.ok and third.verdict.code == "payment.exceeds_approved"
    assert flow.invoice(pid, "4000.00").ok
    with db.uow(write=False) as uow:
        assert uow.session.execute(select(func.count()).select_from(PaymentItem)).scalar_one() == 2
    assert project(db, pid).paid_fen == fen("6000.00")
    assert_reconciled(db)


def test_paying_is_idempotent_by_key(db, flow):
    fy = flow.fund_year_id()
    pid = flow.approved("8000.00")
    flow.to_settlement(pid)
    item = flow.invoice(pid, "8000.00").data["payment_item_id"]
    key = "pay-" + uuid.uuid4().hex
    first = flow.pay(pid, item, key)
    assert first.ok and not first.replayed
    again = flow.pay(pid, item, key)
    assert again.ok and again.replayed
    assert again.verdict.code == "payment.replayed" and again.data["payment_id"] == first.data["payment_id"]
    assert again.data["amount"] == "8000.00"
    # another key for the same item pays nothing
    other = flow.pay(pid, item, check=False)
    assert not other.ok and other.verdict.code == "payment.already_paid"
    # the key of this payment used for another item is refused
    pid2 = flow.approved("1000.00")
    flow.to_settlement(pid2)
    item2 = flow.invoice(pid2, "1000.00").data["payment_item_id"]
    reused = flow.pay(pid2, item2, key, check=False)
    assert not reused.ok and reused.verdict.code == "payment.key_reused"
    with db.uow(write=False) as uow:
        assert uow.session.execute(select(func.count()).select_from(Payment)).scalar_one() == 1
    assert entries(db, fy, kind="payment") == [("payment", fen("8000.00"), pid)]
    assert fund_year(db, fy).paid_fen == fen("8000.00")
    assert_reconciled(db)


def test_the_cap_warns_at_proposal(db, flow):
    fy = flow.fund_year_id()
    flow.approved("36000.00", beneficiaries=20)
    pid = flow.propose("6000.00", beneficiaries=30)
    with db.uow(write=False) as uow:
        created = uow.session.execute(select(AuditEvent.payload).where(
            AuditEvent.entity_type == "project", AuditEvent.entity_id == pid, AuditEvent.event == "create")).scalar_one()
    assert [w["code"] for w in created["warnings"]] == ["cap.small_group"]
    out = flow.fire(pid, "submit_preliminary", flow.sec)
    assert out.ok and out.to_state == "preliminary_review"
    assert out.verdict.warning and out.verdict.code == "cap.small_group" and out.verdict.article == ART_CAP
    assert "40000.00" in out.verdict.message and "提示" in out.verdict.message
    # a project that is not small-group is never warned
    big = flow.propose("6000.00", beneficiaries=300)
    plain = flow.fire(big, "submit_preliminary", flow.sec)
    assert plain.ok and not plain.verdict.warning
    assert fund_year(db, fy).small_group_committed_fen == fen("36000.00")


def test_the_cap_refuses_at_approval(db, flow):
    fy = flow.fund_year_id()
    flow.approved("30000.00", beneficiaries=20)
    pid = flow.propose("10000.01", beneficiaries=49)
    flow.to_pending([pid])
    out = flow.approve(pid, check=False)
    assert not out.ok and out.status == 409
    assert (out.verdict.code, out.verdict.article) == ("cap.small_group", ART_CAP)
    assert "40000.00" in out.verdict.message and "超出 0.01 元" in out.verdict.message
    assert project(db, pid).state == "pending_approval"
    # exactly at the cap is allowed
    ok = flow.approved("10000.00", beneficiaries=10)
    assert project(db, ok).state == "in_progress"
    assert fund_year(db, fy).small_group_committed_fen == fen("40000.00")
    assert_reconciled(db)


def test_the_cap_is_checked_again_at_a_change(db, flow):
    fy = flow.fund_year_id()
    flow.approved("30000.00", beneficiaries=20)
    small = flow.approved("8000.00", beneficiaries=20)
    raised = flow.change_amount(small, "12000.00", check=False)
    assert not raised.ok and (raised.verdict.code, raised.verdict.article) == ("cap.small_group", ART_CAP)
    assert project(db, small).state == "change_review"
    flow.fire(small, "reject_change", flow.ws, reason="超出小群体项目额度")
    assert flow.change_amount(small, "10000.00").ok  # up to the cap exactly
    # a project that becomes small-group by a change brings its whole amount under the cap
    wide = flow.approved("5000.00", beneficiaries=300)
    flow.fire(wide, "request_change", flow.sec, {"changes": {"beneficiaries_count": 30}}, reason="受益范围缩小")
    narrowed = flow.fire(wide, "approve_change", flow.ws, check=False)
    assert not narrowed.ok and narrowed.verdict.code == "cap.small_group"
    flow.fire(wide, "reject_change", flow.ws, reason="超出小群体项目额度")
    # lowering is always allowed
    assert flow.change_amount(small, "2000.00").ok
    assert fund_year(db, fy).small_group_committed_fen == fen("32000.00")
    assert entries(db, fy, kind="adjustment") == [("adjustment", fen("2000.00"), small),
                                                   ("adjustment", -fen("8000.00"), small)]
    assert_reconciled(db)


def test_the_cap_is_checked_again_at_payment(db, flow):
    fy = flow.fund_year_id()
    pid = flow.approved("20000.00", beneficiaries=20)
    flow.to_settlement(pid)
    item = flow.invoice(pid, "20000.00").data["payment_item_id"]
    # the cap can only be broken behind the engine's back: simulate a year whose small-group usage is over it
    with db.engine.begin() as conn:
        conn.execute(text("UPDATE fund_years SET small_group_committed_fen = :v WHERE id = :id"),
                     {"v": fen("40000.01"), "id": fy})
    out = flow.pay(pid, item, check=False)
    assert not out.ok and (out.verdict.code, out.verdict.article) == ("cap.small_group", ART_CAP)
    with db.uow(write=False) as uow:
        assert uow.session.execute(select(func.count()).select_from(Payment)).scalar_one() == 0
    assert fund_year(db, fy).paid_fen == 0


def test_the_budget_refuses_at_approval_and_at_a_raising_change(db, flow):
    fy = flow.fund_year_id()
    flow.approved("150000.00")
    pid = flow.propose("50000.01")
    flow.to_pending([pid])
    out = flow.fire(pid, "approve", flow.ws, check=False)
    assert not out.ok and out.status == 409
    assert (out.verdict.code, out.verdict.article) == ("budget.exceeded", ART_BUDGET)
    assert "尚余 50000.00 元" in out.verdict.message
    assert project(db, pid).state == "pending_approval"
    fits = flow.approved("50000.00")
    assert fund_year(db, fy).committed_fen == fen("200000.00")
    raised = flow.change_amount(fits, "50000.01", check=False)
    assert not raised.ok and raised.verdict.code == "budget.exceeded"
    assert fund_year(db, fy).committed_fen == fen("200000.00")
    assert_reconciled(db)


# ------------------------------------------------------------------------------------------ the CLI


def _reconcile_cli(db: Database, *args: str) -> Any:
    from cli import main

    return CliRunner().invoke(main, ["ledger", "reconcile", *args], env={"DATABASE_URL": db.url})


def test_cli_reconcile_is_clean_then_names_the_difference(db, flow):
    fy = flow.fund_year_id()
    pid = flow.approved("12000.00", beneficiaries=20)
    flow.to_settlement(pid)
    flow.pay_amount(pid, "10000.00")
    clean = _reconcile_cli(db)
    assert clean.exit_code == 0, clean.output
    assert "核对 2 个经费年度,账实相符" in clean.output

    with db.engine.begin() as conn:
        conn.execute(text("UPDATE fund_years SET committed_fen = committed_fen + 100 WHERE id = :id"), {"id": fy})
    broken = _reconcile_cli(db)
    assert broken.exit_code == 1
    community = flow.d.city.communities[0].id
    lines = [line for line in broken.output.splitlines() if line.startswith("差异:")]
    assert f"差异: 社区 #{community} 2026 年度: 已承诺(分录) 应为 2001.00,实为 2000.00" in lines
    assert f"差异: 社区 #{community} 2026 年度: 已承诺(项目) 应为 2001.00,实为 2000.00" in lines
    assert "发现 2 处差异" in broken.output
    # --year limits the check
    other = _reconcile_cli(db, "--year", "2025")
    assert other.exit_code == 0 and "核对 0 个经费年度" in other.output


def test_cli_reconcile_catches_a_tampered_ledger_entry(db, flow):
    pid = flow.approved("12000.00")
    with db.engine.begin() as conn:
        conn.execute(text("UPDATE ledger_entries SET amount_fen = amount_fen - 1 WHERE project_id = :p"), {"p": pid})
    broken = _reconcile_cli(db, "--year", "2026")
    assert broken.exit_code == 1
    assert "已承诺(分录) 应为 12000.00,实为 11999.99" in broken.output


__all__ = ["Flow", "assert_reconciled", "entries", "fen", "format_yuan", "fund_year", "project"]


def test_every_ledger_entry_points_at_its_document(db, city, driver):
    """Art. 17: allocation, commitment, adjustment, payment, release and carry-over each have a voucher."""
    from store.models import Document, LedgerEntry

    flow = Flow(driver)
    pid = flow.approved("20000.00")
    flow.change_amount(pid, "18000.00")
    flow.to_settlement(pid)
    flow.pay_amount(pid, "15000.00")
    flow.fire(pid, "close_settlement", flow.finance)
    flow.close_year(2026)
    with db.uow(write=False) as uow:
        rows = uow.session.execute(select(LedgerEntry.kind, Document.content)
                                   .join(Document, Document.sha256 == LedgerEntry.document_sha256, isouter=True)
                                   .order_by(LedgerEntry.id)).all()
    kinds = {k for k, _ in rows}
    assert {"allocation", "commitment", "adjustment", "payment", "release", "carry_out", "carry_in"} <= kinds
    for kind, content in rows:
        assert content is not None, f"{kind} entry has no document"
    texts = {k: c.decode("utf-8") for k, c in rows}
    assert "审批同意" in texts["commitment"] and "20000.00" in texts["commitment"]
    assert "金额(元):20000.00 → 18000.00" in texts["adjustment"]
    assert "第 3 签" in texts["payment"] and "15000.00" in texts["payment"]
    assert "结余释放:3000.00 元" in texts["release"]
    assert "转入 2027 年度" in texts["carry_out"]
