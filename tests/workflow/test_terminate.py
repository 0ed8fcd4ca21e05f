"""Termination (issue 11 point 7, 第十一条): both main leaders stop a project that cannot go on, with a
reason. The unpaid part of the commitment returns to the fund year (a ledger release pointing at the
termination record), what was paid stays paid, unpaid payment items are cancelled, the project's open
deadlines are cleared, and residents get a 3-working-day termination notice, masked."""
from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from store.db import Database
from store.models import Approval, ChangeRequest, Deadline, Document, LedgerEntry, Notice, PaymentItem
from tests.workflow.test_money import Flow, assert_reconciled, entries, fen, fund_year, project
from workflow import clock
from workflow.demo import Driver
from workflow.engine import SYSTEM

REASON = "承办单位已注销,剩余工程无法继续实施"


@pytest.fixture
def flow(driver: Driver) -> Flow:
    return Flow(driver)


def assert_audit_agrees(db: Database) -> None:
    """Every vote to terminate has its audit event and every state its last event (audit verify's checks)."""
    from workflow.audit_checks import business_breaks

    with db.uow(write=False) as uow:
        assert business_breaks(uow.session) == []


def terminate(flow: Flow, pid: int, who: str = "ws", reason: str = REASON, check: bool = False):  # type: ignore[no-untyped-def]
    return flow.fire(pid, "terminate", getattr(flow, who), reason=reason, check=check)


def test_both_leaders_terminate_a_project_in_progress(db, city, flow):
    pid = flow.approved("10000.00")
    fy = flow.fund_year_id()
    committed = fund_year(db, fy).committed_fen
    first = terminate(flow, pid)
    assert first.ok and first.to_state == "in_progress" and first.data["termination"] == "pending_other_leader"
    assert fund_year(db, fy).committed_fen == committed  # nothing moves on one leader's word
    second = terminate(flow, pid, who="director", reason="同意终止")
    assert second.ok and second.to_state == "terminated", second.verdict
    assert second.data["released"] == "10000.00" and second.data["paid"] == "0.00"
    p, year = project(db, pid), fund_year(db, fy)
    assert (p.state, p.committed_fen, p.released_fen, p.paid_fen) == ("terminated", 0, fen("10000.00"), 0)
    assert year.committed_fen == committed - fen("10000.00")
    # the release entry points at the termination record, which names the reason and both leaders
    (release,) = entries(db, fy, project_id=pid, kind="release")
    assert release == ("release", fen("10000.00"), pid)
    with db.uow(write=False) as uow:
        digest = uow.session.execute(select(LedgerEntry.document_sha256).where(
            LedgerEntry.project_id == pid, LedgerEntry.kind == "release")).scalar_one()
        record = uow.session.get(Document, digest)
        assert record is not None
        text = record.content.decode("utf-8")
        votes = uow.session.execute(select(Approval.role, Approval.decision).where(Approval.project_id == pid,
                                                                                  Approval.decision == "terminate")
                                    .order_by(Approval.id)).all()
    assert REASON in text and "社区党工委书记" in text and "社区建设管理委员会主任" in text and "实施中" in text
    assert votes == [("working_secretary", "terminate"), ("construction_director", "terminate")]
    assert_reconciled(db)
    assert_audit_agrees(db)


def test_residents_get_a_three_working_day_termination_notice(db, city, flow):
    pid = flow.approved("8000.00")
    flow.d.now = dt.datetime(2026, 9, 29, 10, 0, tzinfo=clock.SHANGHAI)  # the National Day holiday follows
    terminate(flow, pid, check=True)
    out = terminate(flow, pid, who="director", reason="同意终止", check=True)
    with db.uow(write=False) as uow:
        notice = uow.session.get(Notice, out.data["notice_id"])
        assert notice is not None
        kind, body, title, ends = notice.kind, notice.body, notice.title, notice.ends_at
    assert kind == "termination" and title.startswith("项目终止公示")
    # 3 working days after 2026-09-29 (holidays 10-01..10-07 are off): 09-30, 10-08, 10-09 → ends 10-09 24:00
    assert ends == dt.datetime(2026, 10, 10, 0, 0, tzinfo=clock.SHANGHAI)
    assert REASON in body and "8000.00" in body and "3 个工作日" in body


def test_an_aid_recipient_is_masked_in_the_termination_notice(db, city, flow):
    pid = flow.approved("3000.00", beneficiaries=5, category="hardship", is_aid=True, contractor="张桂兰",
                        contractor_kind="individual")
    terminate(flow, pid, reason="受助人张桂兰已迁出本社区,电话13912345678", check=True)
    out = terminate(flow, pid, who="director", reason="同意", check=True)
    with db.uow(write=False) as uow:
        body = uow.session.execute(select(Notice.body).where(Notice.id == out.data["notice_id"])).scalar_one()
    assert "张桂兰" not in body and "13912345678" not in body and "139****5678" in body


def test_terminated_in_settlement_keeps_what_was_paid_and_cancels_the_rest(db, city, flow):
    pid = flow.approved("10000.00")
    fy = flow.fund_year_id()
    flow.to_settlement(pid)
    flow.pay_amount(pid, "4000.00")
    pending = flow.invoice(pid, "3000.00").data["payment_item_id"]  # signed, not paid
    out = terminate(flow, pid, check=True)
    assert out.to_state == "settlement"
    out = terminate(flow, pid, who="director", reason="同意终止", check=True)
    assert out.to_state == "terminated" and out.data["cancelled_payment_items"] == [pending]
    p = project(db, pid)
    assert (p.paid_fen, p.released_fen, p.committed_fen) == (fen("4000.00"), fen("6000.00"), 0)
    with db.uow(write=False) as uow:
        statuses = dict(uow.session.execute(select(PaymentItem.id, PaymentItem.status)
                                            .where(PaymentItem.project_id == pid)).all())
    assert statuses[pending] == "cancelled" and sorted(statuses.values()) == ["cancelled", "paid"]
    assert_audit_agrees(db)  # the item lapsed with the termination event that lists it, not by hand
    assert [e[:2] for e in entries(db, fy, project_id=pid)] == [
        ("commitment", fen("10000.00")), ("payment", fen("4000.00")), ("release", fen("6000.00"))]
    year = fund_year(db, fy)
    assert year.paid_fen == fen("4000.00")
    assert_reconciled(db)
    # the cancelled item can never be paid now
    refused = flow.pay(pid, pending, check=False)
    assert not refused.ok and refused.verdict.code == "workflow.invalid_state"


def test_a_small_group_project_keeps_only_what_was_paid_under_the_cap(db, city, flow):
    pid = flow.approved("9000.00", beneficiaries=20)
    fy = flow.fund_year_id()
    assert fund_year(db, fy).small_group_committed_fen == fen("9000.00")
    flow.to_settlement(pid)
    flow.pay_amount(pid, "2500.00")
    terminate(flow, pid, check=True)
    terminate(flow, pid, who="director", reason="同意", check=True)
    assert fund_year(db, fy).small_group_committed_fen == fen("2500.00")
    assert_reconciled(db)


def test_a_pending_change_lapses_when_the_project_is_terminated(db, city, flow):
    pid = flow.approved("10000.00")
    flow.fire(pid, "request_change", flow.sec, {"changes": {"amount": "12000.00"}}, reason="工程量增加")
    terminate(flow, pid, check=True)
    out = terminate(flow, pid, who="director", reason="同意终止", check=True)
    assert out.from_state == "change_review" and out.to_state == "terminated"
    with db.uow(write=False) as uow:
        status = uow.session.execute(select(ChangeRequest.status).where(ChangeRequest.project_id == pid)).scalar_one()
    assert status == "lapsed" and out.data["change_request_lapsed"]
    assert project(db, pid).amount_fen == fen("10000.00")
    assert_reconciled(db)


def test_the_projects_open_deadlines_are_cleared(db, city, flow):
    from workflow.jobs import ensure_followups

    pid = flow.approved("5000.00")
    ensure_followups(db, flow.d.now)
    with db.uow(write=False) as uow:
        kinds = uow.session.execute(select(Deadline.kind).where(Deadline.entity_id == pid,
                                                                Deadline.entity_type == "project",
                                                                Deadline.status == "open")).scalars().all()
    assert "followup_due" in kinds
    terminate(flow, pid, check=True)
    out = terminate(flow, pid, who="director", reason="同意终止", check=True)
    assert out.data["deadlines_cleared"] >= 1
    with db.uow(write=False) as uow:
        still = uow.session.execute(select(Deadline.kind).where(Deadline.entity_id == pid,
                                                                Deadline.entity_type == "project",
                                                                Deadline.status == "open")).scalars().all()
    assert still == []
    # and none is made again for a project that is no longer carried out
    assert ensure_followups(db, flow.d.now + dt.timedelta(days=1)) == 0


def test_a_late_termination_follows_the_balance_into_the_next_year(db, city, flow):
    pid = flow.approved("10000.00")
    flow.close_year(2026)
    terminate(flow, pid, check=True)
    out = terminate(flow, pid, who="director", reason="同意终止", check=True)
    assert out.data["carried_forward"] == "10000.00"
    with db.uow(write=False) as uow:
        record = uow.session.get(Document, out.data["termination_record"])
        assert record is not None and "转入下一年度" in record.content.decode("utf-8")
    assert fund_year(db, flow.fund_year_id(2027)).carry_in_fen == fen("200000.00")
    assert_reconciled(db)


# ------------------------------------------------------------------------------------------ refusals


def test_a_reason_is_required(db, city, flow):
    pid = flow.approved("1000.00")
    out = terminate(flow, pid, reason=" ")
    assert not out.ok and (out.verdict.code, out.verdict.article) == ("workflow.reason_missing", "第十一条")


def test_each_leader_decides_once(db, city, flow):
    pid = flow.approved("1000.00")
    terminate(flow, pid, check=True)
    again = terminate(flow, pid)
    assert not again.ok and (again.verdict.code, again.verdict.article) == ("termination.already_decided", "第十一条")
    assert project(db, pid).state == "in_progress"


def test_one_person_holding_both_leader_posts_cannot_terminate_alone(db, city, flow):
    from store.models import Post
    from workflow.demo import TERM_START

    ws = flow.ws
    with db.uow() as uow:
        uow.session.add(Post(person_id=ws.person_id, organisation_id=city.area_id, role="construction_director",
                             valid_from=TERM_START, valid_to=None))
        uow.commit()
    pid = flow.approved("1000.00")
    terminate(flow, pid, check=True)
    from workflow.services import fire_event

    with clock.frozen(flow.d.tick()):
        out = fire_event(db, "project", pid, "terminate", ws, {}, reason="同意", as_role="construction_director")
    assert not out.ok and out.verdict.code == "termination.already_decided"


@pytest.mark.parametrize("who", ["wm1", "sec", "finance", "sup1"])
def test_only_the_main_leaders_terminate(db, city, flow, who):
    pid = flow.approved("1000.00")
    out = terminate(flow, pid, who=who)
    assert not out.ok and out.status == 403 and out.verdict.code == "auth.no_post"


@pytest.mark.parametrize("target", ["draft", "pending_approval", "acceptance", "completion_publicity", "closed"])
def test_only_a_project_being_carried_out_or_settled_is_terminated(db, city, driver, flow, target):
    pid = driver.new_project(target)
    out = terminate(flow, pid)
    assert not out.ok and out.status == 409 and out.verdict.code == "workflow.invalid_state"
    assert out.verdict.article == "第十一条"


def test_an_open_supervision_concern_holds_the_termination(db, city, flow):
    pid = flow.approved("1000.00")
    concern = flow.fire(pid, "raise_concern", flow.sup1, {"text": "终止前请说明已完成部分的情况"}).data["concern_id"]
    out = terminate(flow, pid)
    assert not out.ok and (out.verdict.code, out.verdict.article) == ("supervision.open_concern", "第十四条")
    flow.fire(pid, "resolve_concern", flow.d.a("supervisor2"), {"concern_id": concern, "resolution": "已说明"})
    assert terminate(flow, pid).ok


def test_a_paid_voucher_without_its_notice_holds_the_termination(db, city, driver, flow):
    pid = flow.approved("2000.00", contractor="王师傅", contractor_kind="individual")
    flow.to_settlement(pid)
    item = flow.fire(pid, "add_payment_item", flow.finance,
                     {"kind": "voucher", "amount": "1000.00", "payee": "王师傅"}).data["payment_item_id"]
    for kind in ("meeting_decision", "inprocess_proof", "payee_signature"):
        flow.fire(pid, "record_voucher_evidence", flow.sec, {"payment_item_id": item, "kind": kind, "note": "材料"})
    flow.pay(pid, item)
    out = terminate(flow, pid)
    assert not out.ok and (out.verdict.code, out.verdict.article) == ("payment.voucher_notice_missing", "第十三条")
    flow.fire(pid, "record_voucher_evidence", flow.sec, {"payment_item_id": item, "kind": "post_notice",
                                                         "note": "已公示"})
    assert terminate(flow, pid).ok
    assert terminate(flow, pid, who="director", reason="同意").to_state == "terminated"
    assert_reconciled(db)


def test_a_vote_to_terminate_lapses_when_the_project_is_reported_complete(db, city, flow):
    pid = flow.approved("1000.00")
    terminate(flow, pid, check=True)
    flow.fire(pid, "record_followup", flow.wm1, {"visited_on": "2026-04-01", "notes": "施工正常"})
    out = flow.fire(pid, "report_completion", flow.sec, {"summary": "项目已完工"})
    assert out.data["termination_votes_lapsed"] == 1
    flow.fire(pid, "signoff", flow.sup1, {"stage": "acceptance"})
    flow.fire(pid, "accept", flow.wm1, flow.d.acceptance(0))
    # in settlement the director's vote is a first vote again: nothing ends on the old one
    out = terminate(flow, pid, who="director", reason="同意", check=True)
    assert out.to_state == "settlement"
    # and the secretary, whose earlier vote lapsed, may vote again: the project ends on the two new votes
    assert terminate(flow, pid, check=True).to_state == "terminated"
    assert_audit_agrees(db)


def test_a_terminated_project_takes_no_further_event(db, city, flow):
    pid = flow.approved("1000.00")
    terminate(flow, pid, check=True)
    terminate(flow, pid, who="director", reason="同意", check=True)
    for trigger, actor in (("record_followup", flow.wm1), ("raise_concern", flow.sup1),
                           ("terminate", flow.ws), ("completion_elapsed", SYSTEM)):
        out = flow.fire(pid, trigger, actor, {}, reason="x", check=False)
        assert not out.ok and out.verdict.code == "workflow.invalid_state", trigger


def test_terminated_is_listed_and_disclosed_as_such(db: Database, city, flow):
    from workflow.forms import disclosure_values

    pid = flow.approved("1000.00")
    terminate(flow, pid, check=True)
    terminate(flow, pid, who="director", reason="同意", check=True)
    with db.uow(write=False) as uow:
        from store.models import FundYear

        fy = uow.session.get(FundYear, flow.fund_year_id())
        assert fy is not None
        values = disclosure_values(uow.session, fy)
    (row,) = [r for r in values["projects"] if r["code"] == project(db, pid).code]
    assert row["state"] == "已终止" and row["paid"] == "0.00"
