"""Closing a fund year (SPEC sections 3 and 5): the balance is carried out of 2026 and into 2027, and
the 2027 small-group cap is taken of allocation + carry-in when the policy says so. Both databases.

2027 has no official holiday calendar in the test database: its deadlines are provisional, which
does not matter here.
"""
from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from rules.policy import Policy
from store.models import FundYear
from tests.workflow.test_money import ART_CAP, Flow, assert_reconciled, entries, fen, fund_year, project
from workflow import clock
from workflow.demo import Driver, create_city, open_years


def _balance_2026(flow: Flow) -> tuple[int, int]:
    """2026: one project paid 30000.00 of 50000.00 and settled (20000.00 released), one small-group project
    of 10000.00 still in progress. Returns (balance, id of the project in progress)."""
    done = flow.approved("50000.00")
    flow.to_settlement(done)
    flow.pay_amount(done, "30000.00")
    flow.fire(done, "close_settlement", flow.finance)
    running = flow.approved("10000.00", beneficiaries=20)
    return fen("200000.00") - fen("30000.00") - fen("10000.00"), running


def test_closing_2026_opens_2027_with_the_balance_as_carry_in(db, city, driver):
    flow = Flow(driver)
    fy26 = flow.fund_year_id(2026)
    balance, running = _balance_2026(flow)
    assert balance == fen("160000.00")
    with db.uow(write=False) as uow:
        assert uow.session.execute(select(FundYear).where(FundYear.year == 2027)).first() is None

    out = flow.close_year(2026)
    assert out.ok and out.to_state == "closed"
    assert out.data["carry_out"] == "160000.00"
    fy27 = flow.fund_year_id(2027)
    assert out.data["next_fund_year_id"] == fy27

    closed, opened = fund_year(db, fy26), fund_year(db, fy27)
    assert closed.state == "closed" and closed.carry_out_fen == balance
    assert (opened.state, opened.allocation_fen, opened.carry_in_fen) == ("open", fen("200000.00"), balance)
    assert (opened.committed_fen, opened.paid_fen, opened.small_group_committed_fen) == (0, 0, 0)
    assert entries(db, fy26, kind="carry_out") == [("carry_out", balance, None)]
    assert entries(db, fy27) == [("allocation", fen("200000.00"), None), ("carry_in", balance, None)]
    # the other community had nothing: its 2026 is still open and has carried nothing
    other = Flow(driver, community=1)
    assert fund_year(db, other.fund_year_id(2026)).state == "open"
    assert_reconciled(db)

    # the project still in progress keeps its commitment in 2026 and is paid from it
    flow.to_settlement(running)
    flow.pay_amount(running, "10000.00")
    closed = fund_year(db, fy26)
    assert (closed.committed_fen, closed.paid_fen, closed.carry_out_fen) == (0, fen("40000.00"), balance)
    assert fund_year(db, fy27).paid_fen == 0
    assert_reconciled(db)


def test_carry_in_is_added_to_an_already_open_2027(db, city, driver):
    open_years(db, city, [2027])
    flow = Flow(driver)
    fy26, fy27 = flow.fund_year_id(2026), flow.fund_year_id(2027)
    flow.approved("12345.67")
    out = flow.close_year(2026)
    assert out.data["next_fund_year_id"] == fy27
    balance = fen("200000.00") - fen("12345.67")
    assert fund_year(db, fy26).carry_out_fen == balance
    assert fund_year(db, fy27).carry_in_fen == balance
    assert entries(db, fy27) == [("allocation", fen("200000.00"), None), ("carry_in", balance, None)]
    assert_reconciled(db)


def test_the_2027_cap_base_includes_the_carry_in(db, city, driver):
    flow = Flow(driver)
    balance, _running = _balance_2026(flow)
    flow.close_year(2026)
    fy27 = flow.fund_year_id(2027)
    cap = (fen("200000.00") + balance) // 5
    assert cap == fen("72000.00")

    # over 20% of the allocation alone (40000.00), within 20% of allocation + carry-in (72000.00)
    big = flow.approved("60000.00", beneficiaries=20, year=2027)
    assert project(db, big).state == "in_progress"
    assert fund_year(db, fy27).small_group_committed_fen == fen("60000.00")

    over = flow.propose("12000.01", beneficiaries=20, year=2027)
    flow.to_pending([over])
    refused = flow.approve(over, check=False)
    assert not refused.ok and (refused.verdict.code, refused.verdict.article) == ("cap.small_group", ART_CAP)
    assert "72000.00" in refused.verdict.message and "上年结余 160000.00 元" in refused.verdict.message
    fits = flow.approved("12000.00", beneficiaries=20, year=2027)
    assert project(db, fits).state == "in_progress"
    assert fund_year(db, fy27).small_group_committed_fen == cap
    assert_reconciled(db)


def test_a_policy_taking_the_cap_of_the_allocation_alone_ignores_the_carry_in(db):
    city = create_city(db, communities=1, password=None, policy=Policy(cap_base="allocation"))
    open_years(db, city, [2026])
    flow = Flow(Driver(db, city))
    flow.close_year(2026)
    fy27 = flow.fund_year_id(2027)
    assert fund_year(db, fy27).carry_in_fen == fen("200000.00")
    pid = flow.propose("40000.01", beneficiaries=20, year=2027)
    flow.to_pending([pid])
    refused = flow.approve(pid, check=False)
    assert not refused.ok and refused.verdict.code == "cap.small_group"
    assert "年度经费 200000.00 元" in refused.verdict.message and "上年结余" not in refused.verdict.message
    assert flow.approved("40000.00", beneficiaries=20, year=2027)
    assert_reconciled(db)


def test_a_year_closes_only_after_it_has_ended_and_been_disclosed(db, city, driver):
    flow = Flow(driver)
    fy = flow.fund_year_id(2026)
    early = flow.fire(fy, "close_year", flow.finance, entity_type="fund_year", check=False)
    assert not early.ok and early.verdict.code == "workflow.invalid_state"
    flow.fire(fy, "submit_report", flow.sec, {"summary": "全年专项经费使用情况良好,项目按计划实施。"},
              entity_type="fund_year")
    flow.fire(fy, "evaluate", flow.ws, {"rating": "good"}, entity_type="fund_year")
    flow.fire(fy, "start_disclosure", flow.sec, entity_type="fund_year")
    too_soon = flow.fire(fy, "disclosure_elapsed", flow.sec, entity_type="fund_year", check=False)
    assert not too_soon.ok  # a timer event: not a person's to fire
    from workflow.engine import SYSTEM

    not_due = flow.fire(fy, "disclosure_elapsed", SYSTEM, entity_type="fund_year", check=False)
    assert not not_due.ok and not_due.verdict.code == "deadline.not_reached"
    driver.after_days(10)
    flow.fire(fy, "disclosure_elapsed", SYSTEM, entity_type="fund_year")
    driver.now = dt.datetime(2026, 12, 31, 23, 30, tzinfo=clock.SHANGHAI)
    in_year = flow.fire(fy, "close_year", flow.finance, entity_type="fund_year", check=False)
    assert not in_year.ok and in_year.verdict.code == "year.not_ended" and in_year.verdict.article == "第十三条"
    assert entries(db, fy, kind="carry_out") == []
    driver.now = dt.datetime(2027, 1, 1, 0, 30, tzinfo=clock.SHANGHAI)
    assert flow.fire(fy, "close_year", SYSTEM, entity_type="fund_year").ok
    assert entries(db, fy, kind="carry_out") == [("carry_out", fen("200000.00"), None)]
    assert_reconciled(db)


def test_the_carried_out_balance_cannot_be_committed_again(db, city, driver):
    flow = Flow(driver)
    fy26 = flow.fund_year_id(2026)
    pid = flow.propose("10000.00")
    flow.to_pending([pid], first_approval=True)
    flow.close_year(2026)  # the whole 200000.00 goes to 2027
    flow.fire(pid, "approve", flow.director, check=False)
    row = fund_year(db, fy26)
    assert row.committed_fen + row.paid_fen + (row.carry_out_fen or 0) <= row.allocation_fen + row.carry_in_fen
    assert row.committed_fen == 0


def test_a_late_release_follows_the_balance_into_the_next_year(db, city, driver):
    """A 2026 project settled after 2026 closed: its unspent amount is carried into 2027, not stranded."""
    flow = Flow(driver)
    fy26 = flow.fund_year_id(2026)
    running = flow.approved("10000.00")
    flow.close_year(2026)
    fy27 = flow.fund_year_id(2027)
    carried = fund_year(db, fy27).carry_in_fen
    assert carried == fen("190000.00")
    flow.to_settlement(running)
    flow.pay_amount(running, "6000.00")
    out = flow.fire(running, "close_settlement", flow.finance)
    assert out.data["carried_forward"] == "4000.00"
    closed, nxt = fund_year(db, fy26), fund_year(db, fy27)
    assert closed.carry_out_fen == fen("194000.00")
    assert nxt.carry_in_fen == fen("194000.00")
    assert entries(db, fy27, kind="carry_in")[-1][1] == fen("4000.00")
    assert_reconciled(db)
