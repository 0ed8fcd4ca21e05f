"""Issue 11's acceptance year: a project is edited, returned, edited again, approved, changed, and terminated
with part paid, beside a project that runs to its end; the year is reported, disclosed with the area's
evaluation alongside, and carried over. The ledger reconciles and ``audit verify`` passes (the functions
and the ``fundflow`` commands)."""
from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from sqlalchemy import select

from rules.money import parse_yuan
from store.db import Database
from store.models import AuditEvent, FundYear, LineItem, Notice, Objection, PaymentItem, Project
from tests.workflow.test_audit import anchor, cli_verify
from tests.workflow.test_money import _reconcile_cli
from tests.workflow.test_scheduler_support import sh
from workflow import audit, clock
from workflow.demo import City, Driver
from workflow.engine import PUBLIC
from workflow.jobs import run_once
from workflow.ledger import reconcile
from workflow.services import record_need
from workflow.sweep import sweep

TERMINATION = "承办单位经营异常已注销,剩余工程无法继续实施"


def events(db: Database, pid: int) -> list[tuple[str, str, str]]:
    with db.uow(write=False) as uow:
        return [(e, f, t) for e, f, t in uow.session.execute(
            select(AuditEvent.event, AuditEvent.from_state, AuditEvent.to_state).where(
                AuditEvent.entity_type == "project", AuditEvent.entity_id == pid).order_by(AuditEvent.seq))]


def fy_row(db: Database, community_id: int, year: int) -> FundYear:
    with db.uow(write=False) as uow:
        fy = uow.session.execute(select(FundYear).where(FundYear.community_id == community_id,
                                                        FundYear.year == year)).scalar_one()
        uow.session.expunge(fy)
        return fy


@pytest.mark.slow
def test_a_year_with_an_edited_returned_changed_and_terminated_project(db: Database, city: City, driver: Driver,
                                                                       monkeypatch: pytest.MonkeyPatch,
                                                                       tmp_path: Path) -> None:
    c0 = city.community(0)
    sec, ws, director, finance = driver.a("secretary"), driver.a("working_secretary"), driver.a("director"), \
        driver.a("finance")
    run_once(db, sh(2026, 3, 1, 9))

    # --- project A: proposed, edited, returned, edited again
    a = driver.propose(title="小区活动室改造", amount="12000.00", category="culture")
    driver.edit(a, amount="14000.00", keyword_flags_answer="座椅供居民活动室使用,不是社区办公用品",
                line_items=[{"description": "活动室办公椅", "quantity": 20, "unit_price": "300.00",
                             "catalog_item": "A06030000"},
                            {"description": "活动室地面翻新", "quantity": 1, "unit_price": "8000.00",
                             "catalog_item": "C23120000"}])
    driver.fire(a, "submit_preliminary", sec)
    driver.fire(a, "return_for_revision", driver.a("working_member1"), reason="请补充座椅数量测算依据")
    with clock.frozen(driver.tick()), db.uow() as uow:
        extra = record_need(uow.session, c0.people["staff"], c0.id, "活动室座椅不足", "居民代表反映", "hall", 40).id
        uow.commit()
    driver.edit(a, description="按居民活动人数测算,购置座椅 20 把并翻新地面。", need_ids=[*_needs(db, a), extra])
    # the committee decides the flag, gives consent; the meeting, the notice and the approval follow
    driver.drive(a, "in_progress")
    with db.uow(write=False) as uow:
        decided = uow.session.execute(select(LineItem.flag_decision).where(
            LineItem.project_id == a, LineItem.description == "活动室办公椅")).scalar_one()
    assert decided == "cleared"

    # --- project A is changed (Art. 11), carried out, accepted, and part paid
    driver.fire(a, "request_change", sec, {"changes": {"amount": "15000.00"}}, reason="地面破损面积大于预估")
    driver.fire(a, "approve_change", ws, {"comment": "同意变更并备案"})
    driver.step(a, "acceptance")
    driver.step(a, "settlement")
    paid = driver.fire(a, "add_payment_item", finance, {"kind": "invoice", "amount": "6000.00",
                                                       "payee": "xx市照明工程有限公司", "invoice_no": "INV-A-1"})
    first = paid.data["payment_item_id"]
    for who in (sec, director, ws):
        driver.fire(a, "sign_invoice", who, {"payment_item_id": first})
    driver.fire(a, "pay", finance, {"payment_item_id": first, "idempotency_key": uuid.uuid4().hex})
    unpaid = driver.fire(a, "add_payment_item", finance, {"kind": "invoice", "amount": "4000.00",
                                                         "payee": "xx市照明工程有限公司", "invoice_no": "INV-A-2"})
    driver.fire(a, "sign_invoice", sec, {"payment_item_id": unpaid.data["payment_item_id"]})

    # --- project A is terminated by both main leaders: 6000 stays paid, 9000 returns to the year
    driver.fire(a, "terminate", ws, reason=TERMINATION)
    ended = driver.fire(a, "terminate", director, reason="同意终止")
    assert (ended.to_state, ended.data["paid"], ended.data["released"]) == ("terminated", "6000.00", "9000.00")

    # --- project B runs its whole course beside it, with a resident's objection settled by the resident
    b = driver.new_project("publicity", title="楼道照明改造", amount="8000.00")
    oid = driver.fire(b, "object", PUBLIC, {"text": "建议先修三号楼"}).data["objection_id"]
    driver.fire(b, "answer_objection", sec, {"objection_id": oid, "answer": "已列入本项目第一批"})
    with db.uow(write=False) as uow:
        code = uow.session.execute(select(Objection.receipt_code).where(Objection.id == oid)).scalar_one()
    driver.fire(b, "accept_answer", PUBLIC, {"objection_id": oid, "receipt_code": code})
    driver.drive(b, "closed")

    # --- the year: reported, disclosed by 12-20 with the evaluation alongside, carried over
    fy = fy_row(db, c0.id, 2026).id
    run_once(db, sh(2026, 11, 1, 9))
    driver.now = sh(2026, 11, 26, 10)
    driver.fire(fy, "submit_report", sec, {"summary": "全年实施项目两个,其中一个因承办单位注销终止。",
                                          "service_effect": "活动室和楼道照明改善"}, entity_type="fund_year")
    driver.now = sh(2026, 12, 7, 10)
    driver.fire(fy, "start_disclosure", sec, entity_type="fund_year")
    driver.now = sh(2026, 12, 9, 10)
    driver.fire(fy, "evaluate", ws, {"rating": "good", "comment": "终止处置规范"}, entity_type="fund_year")
    sweep(db, sh(2026, 12, 15, 0, 1))
    assert fy_row(db, c0.id, 2026).state == "disclosed"
    sweep(db, sh(2027, 1, 1, 0, 1))
    year, nxt = fy_row(db, c0.id, 2026), fy_row(db, c0.id, 2027)
    assert year.state == "closed"

    # --- the money: what was paid stays paid; the rest went back and then forward
    spent = parse_yuan("6000.00") + parse_yuan("8000.00")
    assert (year.paid_fen, year.committed_fen) == (spent, 0)
    assert year.carry_out_fen == year.allocation_fen - spent == nxt.carry_in_fen
    with db.uow(write=False) as uow:
        s = uow.session
        pa = s.get(Project, a)
        assert pa is not None
        assert (pa.state, pa.amount_fen, pa.paid_fen, pa.released_fen) == (
            "terminated", parse_yuan("15000.00"), parse_yuan("6000.00"), parse_yuan("9000.00"))
        statuses = sorted(s.execute(select(PaymentItem.status).where(PaymentItem.project_id == a)).scalars())
        kinds = sorted(s.execute(select(Notice.kind).where(Notice.project_id == a)).scalars())
        checked, diffs = reconcile(s)
    assert statuses == ["cancelled", "paid"]
    assert kinds == ["publicity", "termination"]
    assert checked == 3 and diffs == [], diffs  # both 2026 years and the 2027 year opened by the carry-over
    assert _reconcile_cli(db).exit_code == 0

    # --- the audit trail: every step on its chain, and every chain verifies
    story = [e for e, _f, _t in events(db, a)]
    assert story[:5] == ["create", "edit", "submit_preliminary", "return_for_revision", "edit"]
    for step in ("decide_flag", "grant_preliminary", "approve", "request_change", "approve_change", "pay"):
        assert step in story, step
    assert events(db, a)[-2:] == [("terminate", "settlement", "settlement"),
                                  ("terminate", "settlement", "terminated")]
    with db.uow(write=False) as uow:
        result = audit.verify(uow.session)
    assert result.ok, result.broken
    anchor(db, tmp_path, monkeypatch)  # today's signed root of every chain head, as the daily job makes it
    code, out = cli_verify(db, monkeypatch)
    assert code == 0 and "审计链完整" in out, out


def _needs(db: Database, pid: int) -> list[int]:
    from store.models import ProjectNeed

    with db.uow(write=False) as uow:
        return list(uow.session.execute(select(ProjectNeed.need_id).where(ProjectNeed.project_id == pid)).scalars())
