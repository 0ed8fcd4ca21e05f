"""Money that must not leave wrongly (issue 11, points 1–4), on SQLite and PostgreSQL.

1. an open supervision concern holds the payment side (第十四条);
2. one invoice is paid once in the whole city — a rule and a unique index (第十三条、第十七条);
3. an invoice's payee is the project's contractor as approved or as changed by an approved change;
   anybody else only on a no-invoice voucher (第十三条);
4. an unpaid item can be cancelled (作废) by the community secretary with a reason; its signatures
   lapse, the audit keeps it, settlement proceeds without it.

Every refusal is checked for its code, its article, and that it changed nothing.
"""
from __future__ import annotations

import uuid
from typing import Any

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import IntegrityError

from rules.verdict import OK
from store.db import Database
from store.models import AuditEvent, Document, DocumentLink, LedgerEntry, Payment, PaymentItem, Signature
from tests.workflow.test_money import ART_PAYMENT, Flow, assert_reconciled, project
from workflow import engine
from workflow.audit import verify
from workflow.demo import Driver

ART_SUPERVISION = "第十四条"
ART_INVOICE = "第十三条、第十七条"
CONTRACTOR = "xx市照明工程有限公司"


@pytest.fixture
def flow(driver: Driver) -> Flow:
    return Flow(driver)


def settled(flow: Flow, amount: str = "12000.00", **kw: Any) -> int:
    """A project approved for ``amount`` and accepted: in ``settlement``, ready for payment items."""
    pid = flow.approved(amount, **kw)
    flow.to_settlement(pid)
    assert flow.d.state(pid) == "settlement"
    return pid


def item(flow: Flow, pid: int, amount: str = "100.00", invoice_no: str | None = None, payee: str = CONTRACTOR,
         check: bool = True, **extra: Any) -> Any:
    payload = {"kind": "invoice", "amount": amount, "payee": payee,
               "invoice_no": invoice_no or f"INV-{uuid.uuid4().hex[:10]}", **extra}
    return flow.fire(pid, "add_payment_item", flow.finance, payload, check=check)


def sign_all(flow: Flow, pid: int, item_id: int) -> None:
    for who in (flow.sec, flow.director, flow.ws):
        flow.fire(pid, "sign_invoice", who, {"payment_item_id": item_id})


def pay(flow: Flow, pid: int, item_id: int, check: bool = True) -> Any:
    return flow.fire(pid, "pay", flow.finance, {"payment_item_id": item_id, "idempotency_key": uuid.uuid4().hex},
                     check=check)


def cancel(flow: Flow, pid: int, item_id: int, reason: str = "发票抬头有误,作废后重新登记", check: bool = True,
           who: Any = None) -> Any:
    return flow.fire(pid, "cancel_payment_item", who or flow.sec, {"payment_item_id": item_id}, reason, check=check)


def money_rows(db: Database) -> tuple[Any, ...]:
    """What a refusal must leave alone: payment items, signatures, payments, ledger entries, audit events."""
    with db.uow(write=False) as uow:
        s = uow.session
        return tuple(s.execute(select(func.count()).select_from(m)).scalar_one()
                     for m in (PaymentItem, Signature, Payment, LedgerEntry, AuditEvent)) + tuple(
            s.execute(select(PaymentItem.id, PaymentItem.status).order_by(PaymentItem.id)).all())


def refused(flow: Flow, outcome: Any, code: str, article: str, status: int = 409) -> None:
    assert not outcome.ok, outcome
    assert (outcome.status, outcome.verdict.code, outcome.verdict.article) == (status, code, article), outcome.verdict


# -------------------------------------------------------------------------- 1. a concern holds the payment side


def test_an_open_concern_holds_adding_signing_and_paying(db, flow):
    pid = settled(flow)
    signed = item(flow, pid, "3000.00").data["payment_item_id"]
    sign_all(flow, pid, signed)
    half = item(flow, pid, "2000.00").data["payment_item_id"]
    flow.fire(pid, "sign_invoice", flow.sec, {"payment_item_id": half})
    concern = flow.fire(pid, "raise_concern", flow.sup1, {"text": "发票金额与合同不符,请核实后再付款"}).data["concern_id"]
    before = money_rows(db)

    for outcome in (item(flow, pid, "1000.00", check=False),
                    flow.fire(pid, "sign_invoice", flow.director, {"payment_item_id": half}, check=False),
                    pay(flow, pid, signed, check=False),
                    flow.fire(pid, "close_settlement", flow.finance, check=False)):
        refused(flow, outcome, "supervision.open_concern", ART_SUPERVISION)
        assert "监督意见" in outcome.verdict.message
    assert money_rows(db) == before

    # cancelling a wrong item is what a concern about it asks for: not held
    assert cancel(flow, pid, half).ok
    flow.fire(pid, "resolve_concern", flow.d.a("supervisor2"), {"concern_id": concern, "resolution": "已核实"})
    assert pay(flow, pid, signed).ok
    assert project(db, pid).paid_fen == 300_000
    assert_reconciled(db)


# ---------------------------------------------------------------------- 2. one invoice, paid once in the city


def test_an_invoice_is_paid_once_across_projects_and_communities(db, driver, flow):
    pid = settled(flow)
    other = Flow(driver, community=1)
    pid2 = settled(other, "8000.00")
    first = item(flow, pid, "1000.00", invoice_no="25322000000012345678").data["payment_item_id"]
    sign_all(flow, pid, first)
    pay(flow, pid, first)
    before = money_rows(db)

    # the same number written with spaces, full-width digits or lower case is the same invoice
    for written in ("25322000000012345678", " 2532 2000 0000 1234 5678 ", "２５３２２０００００００１２３４５６７８"):
        out = item(other, pid2, "1000.00", invoice_no=written, check=False)
        refused(other, out, "payment.invoice_duplicate", ART_INVOICE)
        assert project(db, pid).code in out.verdict.message and "已支付" in out.verdict.message
    out = item(flow, pid, "500.00", invoice_no="25322000000012345678", check=False)  # nor twice on one project
    refused(flow, out, "payment.invoice_duplicate", ART_INVOICE)
    assert money_rows(db) == before
    assert_reconciled(db)


def test_the_issuer_tells_invoices_with_one_number_apart(db, flow):
    pid = settled(flow)
    tax_a, tax_b = "91220100MA0Y1234XK", "91220100MA0Y5678QW"
    a = item(flow, pid, "100.00", invoice_no="00012345", issuer_tax_id=tax_a)
    assert a.ok
    # another issuer's invoice with the same number is another invoice
    assert item(flow, pid, "100.00", invoice_no="00012345", issuer_tax_id=tax_b).ok
    # the same issuer, written in lower case: refused
    refused(flow, item(flow, pid, "100.00", invoice_no="00012345", issuer_tax_id=tax_a.lower(), check=False),
            "payment.invoice_duplicate", ART_INVOICE)
    # an item naming no issuer cannot be told apart from either
    refused(flow, item(flow, pid, "100.00", invoice_no="00012345", check=False), "payment.invoice_duplicate",
            ART_INVOICE)
    refused(flow, item(flow, pid, "100.00", invoice_no="0001 2345", issuer_tax_id="12", check=False),
            "payment.item_invalid", ART_PAYMENT)
    with db.uow(write=False) as uow:
        stored = uow.session.get(PaymentItem, a.data["payment_item_id"])
        assert stored is not None and (stored.invoice_no_norm, stored.issuer_tax_id) == ("00012345", tax_a)


def test_a_cancelled_unpaid_item_frees_its_invoice(db, flow):
    pid = settled(flow)
    wrong = item(flow, pid, "1200.00", invoice_no="INV-7788").data["payment_item_id"]
    refused(flow, item(flow, pid, "1200.00", invoice_no="inv-7788", check=False), "payment.invoice_duplicate",
            ART_INVOICE)
    cancel(flow, pid, wrong, "金额登记错误")
    again = item(flow, pid, "1100.00", invoice_no="INV-7788")
    assert again.ok
    # the replacement is paid; the invoice is then held for good
    sign_all(flow, pid, again.data["payment_item_id"])
    pay(flow, pid, again.data["payment_item_id"])
    refused(flow, item(flow, pid, "100.00", invoice_no="INV-7788", check=False), "payment.invoice_duplicate",
            ART_INVOICE)


def test_the_database_holds_the_invoice_when_the_rule_is_bypassed(db, flow, monkeypatch):
    """The unique index refuses a second live item with the same invoice even if the guard let it through,
    and the refusal is the rule's 409, never a server error."""
    pid = settled(flow)
    item(flow, pid, "100.00", invoice_no="INV-DB-1")
    before = money_rows(db)
    monkeypatch.setitem(engine._GUARDS, "invoice_unique", lambda ctx: OK)
    out = item(flow, pid, "100.00", invoice_no=" inv-db-1", check=False)
    refused(flow, out, "payment.invoice_duplicate", ART_INVOICE)
    assert money_rows(db) == before
    with db.uow() as uow:  # and straight SQL meets the same index
        project_id = uow.session.execute(select(PaymentItem.project_id)).scalars().first()
        with pytest.raises(IntegrityError):
            uow.session.execute(text(
                "INSERT INTO payment_items (project_id, kind, amount_fen, payee, payee_account, invoice_no, "
                "invoice_no_norm, issuer_tax_id, status, created_at) VALUES (:p, 'invoice', 100, 'x', '', "
                "'INV-DB-1', 'INV-DB-1', '', 'open', CURRENT_TIMESTAMP)"), {"p": project_id})


def test_cancelled_items_never_collide_in_the_index(db, flow):
    pid = settled(flow)
    for _ in range(2):
        made = item(flow, pid, "100.00", invoice_no="INV-TWICE").data["payment_item_id"]
        cancel(flow, pid, made)
    with db.uow(write=False) as uow:
        rows = uow.session.execute(select(PaymentItem.status, PaymentItem.invoice_no_norm)).all()
    assert sorted(rows) == [("cancelled", "INV-TWICE"), ("cancelled", "INV-TWICE")]


# ------------------------------------------------------------------------------ 3. the payee is the contractor


def test_an_invoice_is_paid_to_the_contractor_only(db, flow):
    pid = settled(flow)
    before = money_rows(db)
    out = item(flow, pid, payee="王师傅", check=False)
    refused(flow, out, "payment.payee_not_contractor", ART_PAYMENT)
    assert CONTRACTOR in out.verdict.message and "收款人签字" in out.verdict.message
    # a voucher for an organisation's project that is not aid is not allowed at all
    refused(flow, flow.fire(pid, "add_payment_item", flow.finance,
                            {"kind": "voucher", "amount": "100.00", "payee": "王师傅"}, check=False),
            "payment.voucher_not_allowed", ART_PAYMENT)
    assert money_rows(db) == before
    # the contractor's name as typed elsewhere (full width, spaces) is the contractor
    assert item(flow, pid, payee=" ｘｘ市照明工程 有限公司").ok


def test_the_contractor_of_an_approved_change_is_paid_and_the_old_one_no_longer(db, flow):
    pid = flow.approved("12000.00")
    flow.fire(pid, "request_change", flow.sec, {"changes": {"contractor_name": "xx市新光电器维修部"}},
              reason="原承办单位停业,更换承办单位")
    flow.fire(pid, "approve_change", flow.ws)
    flow.to_settlement(pid)
    refused(flow, item(flow, pid, payee=CONTRACTOR, check=False), "payment.payee_not_contractor", ART_PAYMENT)
    assert item(flow, pid, payee="xx市新光电器维修部").ok


def test_a_change_not_approved_does_not_change_the_payee(db, flow):
    pid = flow.approved("12000.00")
    flow.fire(pid, "request_change", flow.sec, {"changes": {"contractor_name": "xx市新光电器维修部"}},
              reason="原承办单位停业,更换承办单位")
    flow.fire(pid, "reject_change", flow.ws, reason="理由不充分,不同意变更")
    flow.to_settlement(pid)
    refused(flow, item(flow, pid, payee="xx市新光电器维修部", check=False), "payment.payee_not_contractor",
            ART_PAYMENT)
    assert item(flow, pid, payee=CONTRACTOR).ok


def test_individuals_are_paid_on_vouchers_with_their_evidence(db, flow):
    # an individual contractor, not aid: the voucher goes to the contractor, nobody else
    pid = settled(flow, contractor="王师傅", contractor_kind="individual")
    voucher = {"kind": "voucher", "amount": "100.00"}
    refused(flow, flow.fire(pid, "add_payment_item", flow.finance, {**voucher, "payee": "李四"}, check=False),
            "payment.payee_not_contractor", ART_PAYMENT)
    made = flow.fire(pid, "add_payment_item", flow.finance, {**voucher, "payee": "王师傅"}).data["payment_item_id"]
    # and only with its evidence (the existing voucher rules)
    refused(flow, pay(flow, pid, made, check=False), "payment.voucher_evidence_missing", ART_PAYMENT)
    # aid: the recipients sign for what they receive
    aid = settled(flow, "9000.00", beneficiaries=12, is_aid=True, contractor="某某养老服务中心")
    assert flow.fire(aid, "add_payment_item", flow.finance, {**voucher, "payee": "张桂兰"}).ok
    refused(flow, item(flow, aid, payee="张桂兰", check=False), "payment.payee_not_contractor", ART_PAYMENT)


# ---------------------------------------------------------------------------------------- 4. cancellation


def test_cancelling_an_unpaid_item_lapses_its_signatures_and_settlement_goes_on(db, flow):
    pid = settled(flow, "12000.00")
    wrong = item(flow, pid, "12000.00", invoice_no="INV-WRONG").data["payment_item_id"]
    flow.fire(pid, "sign_invoice", flow.sec, {"payment_item_id": wrong})
    flow.fire(pid, "sign_invoice", flow.director, {"payment_item_id": wrong})
    # the approved amount is taken by the open item: no room for another
    refused(flow, item(flow, pid, "12000.00", check=False), "payment.exceeds_approved", ART_PAYMENT)

    out = cancel(flow, pid, wrong, "发票金额有误,作废后按正确发票重新登记")
    assert out.ok and out.to_state == "settlement"
    assert out.data["lapsed_signatures"] == 2 and out.data["amount"] == "12000.00"
    with db.uow(write=False) as uow:
        s = uow.session
        row = s.get(PaymentItem, wrong)
        assert row is not None and row.status == "cancelled" and row.cancel_reason.startswith("发票金额有误")
        assert row.cancelled_by == flow.sec.person_id and row.cancelled_at is not None
        sigs = s.execute(select(Signature.lapsed_at).where(Signature.payment_item_id == wrong)).scalars().all()
        assert len(sigs) == 2 and all(at is not None for at in sigs)  # kept, marked lapsed
        ev = s.execute(select(AuditEvent).where(AuditEvent.event == "cancel_payment_item")).scalar_one()
        assert ev.reason.startswith("发票金额有误") and ev.payload["payload"] == {"payment_item_id": wrong}
        doc = s.execute(select(Document.content).join(DocumentLink, DocumentLink.document_sha256 == Document.sha256)
                        .where(DocumentLink.role == "payment_cancellation")).scalar_one()
        assert "作废理由:发票金额有误" in doc.decode() and "2 个随之失效" in doc.decode()

    # nothing more happens to it
    for trigger, who, payload in (("sign_invoice", flow.ws, {"payment_item_id": wrong}),
                                  ("pay", flow.finance, {"payment_item_id": wrong, "idempotency_key": "k-cancelled-1"}),
                                  ("cancel_payment_item", flow.sec, {"payment_item_id": wrong})):
        refused(flow, flow.fire(pid, trigger, who, payload, "再次作废", check=False), "payment.item_cancelled",
                ART_PAYMENT)
    # settlement goes on without it: the right invoice is added, signed, paid; the settlement closes
    right = item(flow, pid, "11800.00", invoice_no="INV-RIGHT").data["payment_item_id"]
    sign_all(flow, pid, right)
    pay(flow, pid, right)
    closed = flow.fire(pid, "close_settlement", flow.finance)
    assert closed.to_state == "completion_publicity"
    p = project(db, pid)
    assert (p.paid_fen, p.released_fen, p.committed_fen) == (1_180_000, 20_000, 0)
    assert_reconciled(db)
    with db.uow(write=False) as uow:
        assert verify(uow.session).ok


def test_cancellation_refusals(db, driver, flow):
    pid = settled(flow)
    paid = item(flow, pid, "100.00").data["payment_item_id"]
    sign_all(flow, pid, paid)
    pay(flow, pid, paid)
    open_item = item(flow, pid, "100.00").data["payment_item_id"]
    other = settled(Flow(driver, community=1), "5000.00")
    before = money_rows(db)

    refused(flow, cancel(flow, pid, paid, check=False), "payment.cancel_paid", ART_PAYMENT)
    refused(flow, cancel(flow, pid, open_item, reason="", check=False), "workflow.reason_missing", ART_PAYMENT)
    refused(flow, cancel(flow, other, open_item, check=False, who=driver.a("secretary", 1)),
            "payment.item_not_found", ART_PAYMENT)
    # only the community secretary (of this community) cancels
    for who in (flow.finance, flow.ws, flow.d.a("staff"), driver.a("secretary", 1)):
        refused(flow, cancel(flow, pid, open_item, check=False, who=who), "auth.no_post", ART_PAYMENT, 403)
    assert money_rows(db) == before
    # and only in settlement
    done = flow.fire(pid, "close_settlement", flow.finance, check=False)
    assert not done.ok  # the open item holds it
    assert cancel(flow, pid, open_item).ok
    assert flow.fire(pid, "close_settlement", flow.finance).ok
    refused(flow, cancel(flow, pid, open_item, check=False), "workflow.invalid_state", ART_PAYMENT)


def test_a_malformed_field_cites_the_rule_that_governs_it(db, flow):
    """Issue 11 point 13, in the engine (the CLI, the scheduler and the demo fire events there too)."""
    pid = settled(flow)
    with db.uow() as uow:
        for payload, article in (({"kind": "invoice", "amount": "1.00", "payee": CONTRACTOR, "invoice_no": "9" * 61},
                                   ART_INVOICE),
                                  ({"kind": "invoice", "amount": 100, "payee": CONTRACTOR, "invoice_no": "1"},
                                   ART_PAYMENT)):
            out = engine.fire(uow.session, "project", pid, "add_payment_item", flow.finance, payload)
            assert (out.status, out.verdict.code, out.verdict.article) == (422, "payload.invalid", article)
        out = engine.fire(uow.session, "project", pid, "signoff", flow.sup1, {"stage": "everything"})
        assert (out.status, out.verdict.article) == (422, ART_SUPERVISION)


# ------------------------------------------------------------------------------ 12. the procurement catalogue


def test_submission_checks_the_catalogue_codes_and_the_form_names_them(db, flow):
    """A line item edited in the draft (issue 11 point 6 edits them) is checked again on submission, against
    the catalogue of the project's policy; the application form shows code and name."""
    from sqlalchemy import update

    from store.models import LineItem

    pid = flow.propose("12000.00")
    with db.uow() as uow:
        uow.session.execute(update(LineItem).where(LineItem.project_id == pid).values(catalog_item="Z9999"))
        uow.commit()
    out = flow.fire(pid, "submit_preliminary", flow.sec, check=False)
    refused(flow, out, "procurement.item_unknown", "第十二条")
    assert "Z9999" in out.verdict.message
    with db.uow() as uow:
        uow.session.execute(update(LineItem).where(LineItem.project_id == pid).values(catalog_item="C23120000"))
        uow.commit()
    flow.to_pending([pid])
    with db.uow(write=False) as uow:
        form = uow.session.execute(select(Document.content).join(
            DocumentLink, DocumentLink.document_sha256 == Document.sha256).where(
            DocumentLink.role == "application_form", DocumentLink.entity_id == pid)).scalar_one()
    assert "采购目录: C23120000 维修和保养服务" in form.decode()


def test_a_cancellation_written_by_hand_is_caught_by_audit_verify(db, flow):
    """The audit checks the business tables (workflow.audit_checks): a cancelled item has its
    cancel_payment_item event and each such event its cancelled item."""
    from sqlalchemy import update

    from workflow.audit_checks import business_breaks

    pid = settled(flow)
    cancelled = item(flow, pid, "100.00").data["payment_item_id"]
    cancel(flow, pid, cancelled)
    other = item(flow, pid, "100.00").data["payment_item_id"]
    with db.uow(write=False) as uow:
        assert business_breaks(uow.session) == []
    with db.uow() as uow:  # one item cancelled by hand, the other brought back by hand
        uow.session.execute(update(PaymentItem).where(PaymentItem.id == other).values(status="cancelled"))
        uow.session.execute(update(PaymentItem).where(PaymentItem.id == cancelled).values(status="open"))
        breaks = business_breaks(uow.session)
    assert any("付款事项作废" in b and f"{other}" in b and "没有对应的审计事件" in b for b in breaks), breaks
    assert any("cancel_payment_item" in b and "没有对应的付款事项作废" in b for b in breaks), breaks
