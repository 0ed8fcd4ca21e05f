"""rules.payment: invoice signatures and no-invoice vouchers (第十三条)."""
from __future__ import annotations

import pytest

from rules.payment import (
    ART_INVOICE,
    BEFORE_PAYMENT,
    INVOICE_ORDER,
    VOUCHER_EVIDENCE,
    VOUCHER_EVIDENCE_LABELS,
    RegisteredInvoice,
    SignatureData,
    check_all_items_paid,
    check_idempotency_key,
    check_invoice_ready_for_payment,
    check_invoice_signature,
    check_invoice_unique,
    check_item_cancellable,
    check_item_found,
    check_item_signable,
    check_item_unpaid,
    check_payee,
    check_payer_not_signer,
    check_payment_item,
    check_voucher_allowed,
    check_voucher_complete,
    check_voucher_evidence,
    check_voucher_ready_for_payment,
    normalise_invoice_no,
    normalise_party,
    normalise_tax_id,
)
from tests.rules.helpers import Case, assert_ok, run_case

ART = "第十三条"
S1 = SignatureData(1, "community_secretary", 11)
S2 = SignatureData(2, "construction_director", 22)
S3 = SignatureData(3, "working_secretary", 33)
FULL = (S1, S2, S3)

REFUSALS: list[Case] = [
    Case("fully-signed", lambda: check_invoice_signature(FULL, "working_secretary", 44, True),
         "payment.already_fully_signed", ART),
    Case("third-first", lambda: check_invoice_signature((), "working_secretary", 33, True),
         "payment.signature_out_of_order", ART),
    Case("skip-director", lambda: check_invoice_signature((S1,), "working_secretary", 33, True),
         "payment.signature_out_of_order", ART),
    Case("not-a-signer", lambda: check_invoice_signature((S1,), "finance_officer", 55, True),
         "payment.signature_out_of_order", ART),
    Case("post-ended", lambda: check_invoice_signature((), "community_secretary", 11, False),
         "payment.signature_post_invalid", ART),
    Case("same-person", lambda: check_invoice_signature((S1,), "construction_director", 11, True),
         "payment.signature_same_person", ART),
    Case("same-person-at-payment", lambda: check_invoice_ready_for_payment(
        (S1, S2, SignatureData(3, "working_secretary", 22))), "payment.signature_same_person", ART),
    Case("voucher-organisation", lambda: check_voucher_allowed("organisation", False),
         "payment.voucher_not_allowed", ART),
    Case("voucher-nothing", lambda: check_voucher_ready_for_payment(set()), "payment.voucher_evidence_missing", ART),
    Case("voucher-no-payee", lambda: check_voucher_ready_for_payment({"meeting_decision", "inprocess_proof"}),
         "payment.voucher_evidence_missing", ART),
    Case("complete-missing-before", lambda: check_voucher_complete({"post_notice"}),
         "payment.voucher_evidence_missing", ART),
    Case("complete-no-notice", lambda: check_voucher_complete(set(BEFORE_PAYMENT)),
         "payment.voucher_notice_missing", ART),
    Case("invoice-unsigned", lambda: check_invoice_ready_for_payment(()), "payment.invoice_unsigned", ART),
    Case("invoice-two-signed", lambda: check_invoice_ready_for_payment((S1, S2)), "payment.invoice_unsigned", ART),
    Case("invoice-wrong-order", lambda: check_invoice_ready_for_payment(
        (SignatureData(1, "construction_director", 22), SignatureData(2, "community_secretary", 11), S3)),
        "payment.invoice_unsigned", ART),
    Case("payer-signed", lambda: check_payer_not_signer(22, {11, 22, 33}), "sod.payer_signed", ART),
    Case("no-items", lambda: check_all_items_paid([]), "payment.no_items", ART),
    Case("only-cancelled", lambda: check_all_items_paid(["cancelled"]), "payment.no_items", ART),
    Case("unpaid", lambda: check_all_items_paid(["paid", "pending", "paid"]), "payment.items_unpaid", ART),
    Case("item-kind", lambda: check_payment_item("cash", 100, "张三", None), "payment.item_invalid", ART),
    Case("item-zero", lambda: check_payment_item("voucher", 0, "张三", None), "payment.item_invalid", ART),
    Case("item-negative", lambda: check_payment_item("invoice", -5, "某某公司", "No.1"), "payment.item_invalid", ART),
    Case("item-no-payee", lambda: check_payment_item("voucher", 100, " ", None), "payment.item_invalid", ART),
    Case("item-no-invoice-no", lambda: check_payment_item("invoice", 100, "某某公司", None), "payment.item_invalid",
         ART),
    Case("item-blank-invoice-no", lambda: check_payment_item("invoice", 100, "某某公司", "  "),
         "payment.item_invalid", ART),
]


@pytest.mark.parametrize("case", REFUSALS, ids=lambda c: c.id)
def test_refusals(case: Case) -> None:
    run_case(case)


def test_constants() -> None:
    assert INVOICE_ORDER == ("community_secretary", "construction_director", "working_secretary")
    assert VOUCHER_EVIDENCE == ("meeting_decision", "inprocess_proof", "payee_signature", "post_notice")
    assert VOUCHER_EVIDENCE[:3] == BEFORE_PAYMENT
    assert set(VOUCHER_EVIDENCE_LABELS) == set(VOUCHER_EVIDENCE)


def test_signatures_in_order_ok() -> None:
    assert_ok(check_invoice_signature((), "community_secretary", 11, True))
    assert_ok(check_invoice_signature((S1,), "construction_director", 22, True))
    assert_ok(check_invoice_signature((S2, S1), "working_secretary", 33, True))  # order taken from seq


def test_out_of_order_names_the_next_signer() -> None:
    v = check_invoice_signature((S1,), "working_secretary", 33, True)
    assert "下一位应由社区建设管理委员会主任签字" in v.message


def test_invoice_ready_ok() -> None:
    assert_ok(check_invoice_ready_for_payment(FULL))
    assert_ok(check_invoice_ready_for_payment((S3, S1, S2)))


def test_invoice_unsigned_names_the_missing() -> None:
    assert "社区党工委书记" in check_invoice_ready_for_payment((S1, S2)).message


@pytest.mark.parametrize(("kind", "aid"), [("individual", False), ("individual", True), ("organisation", True)])
def test_voucher_allowed(kind: str, aid: bool) -> None:
    assert_ok(check_voucher_allowed(kind, aid))


def test_voucher_ready_without_notice() -> None:
    assert_ok(check_voucher_ready_for_payment(set(BEFORE_PAYMENT)))
    assert_ok(check_voucher_ready_for_payment(list(VOUCHER_EVIDENCE)))


def test_voucher_missing_names_the_evidence() -> None:
    v = check_voucher_ready_for_payment({"meeting_decision"})
    assert "事中签字证明" in v.message and "收款人签字" in v.message and "事前会议" not in v.message


def test_voucher_complete_ok() -> None:
    assert_ok(check_voucher_complete(set(VOUCHER_EVIDENCE)))


def test_payer_not_signer_ok() -> None:
    assert_ok(check_payer_not_signer(44, {11, 22, 33}))
    assert_ok(check_payer_not_signer(44, []))


@pytest.mark.parametrize("statuses", [["paid"], ["paid", "paid"], ["paid", "cancelled"]])
def test_all_items_paid_ok(statuses: list[str]) -> None:
    assert_ok(check_all_items_paid(statuses))


@pytest.mark.parametrize(("kind", "amount", "payee", "invoice_no"), [
    ("invoice", 100, "某某电气维修部", "No.04567890"),
    ("voucher", 50_000, "张三", None),
    ("voucher", 1, "张三", ""),
])
def test_payment_item_ok(kind: str, amount: int, payee: str, invoice_no: str | None) -> None:
    assert_ok(check_payment_item(kind, amount, payee, invoice_no))


ITEM_REFUSALS: list[Case] = [
    Case("item-not-found", lambda: check_item_found(False), "payment.item_not_found", ART),
    Case("sign-voucher", lambda: check_item_signable("voucher", "open"), "payment.not_signable", ART),
    Case("sign-paid-invoice", lambda: check_item_signable("invoice", "paid"), "payment.not_signable", ART),
    Case("evidence-on-invoice", lambda: check_voucher_evidence("invoice", "open", "meeting_decision", ()),
         "payment.not_voucher", ART),
    Case("evidence-twice", lambda: check_voucher_evidence("voucher", "open", "meeting_decision", {"meeting_decision"}),
         "payment.evidence_duplicate", ART),
    Case("notice-before-payment", lambda: check_voucher_evidence("voucher", "open", "post_notice", set(BEFORE_PAYMENT)),
         "payment.notice_before_payment", ART),
    Case("evidence-after-payment", lambda: check_voucher_evidence("voucher", "paid", "payee_signature", ()),
         "payment.evidence_after_payment", ART),
    Case("already-paid", lambda: check_item_unpaid("paid"), "payment.already_paid", ART),
    Case("key-reused", lambda: check_idempotency_key(7, 8), "payment.key_reused", ART),
]


@pytest.mark.parametrize("case", ITEM_REFUSALS, ids=lambda c: c.id)
def test_item_refusals(case: Case) -> None:
    run_case(case)


def test_item_checks_ok() -> None:
    assert_ok(check_item_found(True))
    assert_ok(check_item_signable("invoice", "open"))
    assert_ok(check_item_unpaid("open"))
    assert_ok(check_idempotency_key(7, 7))


@pytest.mark.parametrize(("status", "kind"), [
    ("open", "meeting_decision"), ("open", "inprocess_proof"), ("open", "payee_signature"), ("paid", "post_notice"),
])
def test_voucher_evidence_ok(status: str, kind: str) -> None:
    assert_ok(check_voucher_evidence("voucher", status, kind, ()))


# ------------------------------------------------ issue 11: one invoice once, the contractor, cancellation

TAX_A = "91220100MA0Y1234XK"
TAX_B = "91220100MA0Y5678QW"
CONTRACTOR = "xx市照明工程有限公司"

MONEY_REFUSALS: list[Case] = [
    Case("invoice-same-number", lambda: check_invoice_unique("INV000123", "", [RegisteredInvoice("", "S01-2026-001", True)]),
         "payment.invoice_duplicate", ART_INVOICE),
    Case("invoice-written-differently", lambda: check_invoice_unique(
        "inv 000１２３", "", [RegisteredInvoice("", "S02-2025-004", False)]), "payment.invoice_duplicate", ART_INVOICE),
    Case("invoice-same-issuer", lambda: check_invoice_unique(
        "12345678", TAX_A.lower(), [RegisteredInvoice(TAX_A, "S01-2026-002", True)]),
        "payment.invoice_duplicate", ART_INVOICE),
    Case("invoice-issuer-now-omitted", lambda: check_invoice_unique(
        "12345678", "", [RegisteredInvoice(TAX_A, "S01-2026-002", True)]), "payment.invoice_duplicate", ART_INVOICE),
    Case("invoice-issuer-first-omitted", lambda: check_invoice_unique(
        "12345678", TAX_B, [RegisteredInvoice("", "S01-2026-002", False)]), "payment.invoice_duplicate", ART_INVOICE),
    Case("invoice-held-by-database", lambda: check_invoice_unique("12345678", "", [RegisteredInvoice("", "", None)]),
         "payment.invoice_duplicate", ART_INVOICE),
    Case("invoice-to-someone-else", lambda: check_payee("invoice", "王师傅", CONTRACTOR, "organisation", False),
         "payment.payee_not_contractor", ART),
    Case("invoice-aid-someone-else", lambda: check_payee("invoice", "李大爷", "张桂兰", "individual", True),
         "payment.payee_not_contractor", ART),
    Case("voucher-not-contractor", lambda: check_payee("voucher", "王师傅", "张桂兰", "individual", False),
         "payment.payee_not_contractor", ART),
    Case("no-contractor", lambda: check_payee("invoice", "某某公司", "", "organisation", False),
         "payment.payee_not_contractor", ART),
    Case("item-voucher-with-invoice-no", lambda: check_payment_item("voucher", 100, "张三", "INV1"),
         "payment.item_invalid", ART),
    Case("item-bad-tax-id", lambda: check_payment_item("invoice", 100, CONTRACTOR, "INV1", "12-34"),
         "payment.item_invalid", ART),
    Case("cancel-paid", lambda: check_item_cancellable("paid"), "payment.cancel_paid", ART),
    Case("cancel-twice", lambda: check_item_cancellable("cancelled"), "payment.item_cancelled", ART),
    Case("pay-cancelled", lambda: check_item_unpaid("cancelled"), "payment.item_cancelled", ART),
    Case("sign-cancelled", lambda: check_item_signable("invoice", "cancelled"), "payment.item_cancelled", ART),
    Case("evidence-on-cancelled", lambda: check_voucher_evidence("voucher", "cancelled", "payee_signature", ()),
         "payment.item_cancelled", ART),
]


@pytest.mark.parametrize("case", MONEY_REFUSALS, ids=lambda c: c.id)
def test_money_refusals(case: Case) -> None:
    run_case(case)


def test_invoice_numbers_and_tax_ids_are_compared_normalised() -> None:
    assert normalise_invoice_no(" inv 000１２３ ") == "INV000123"
    assert normalise_invoice_no("2532\u30002000 0000 1234 5678") == "25322000000012345678"  # ideographic space
    assert normalise_tax_id(" 91220100ma0y1234xk ") == TAX_A
    assert normalise_party("ｘｘ市照明工程 有限公司") == normalise_party(CONTRACTOR)
    assert normalise_party("XX市（照明）") == normalise_party("xx市(照明)")


def test_distinct_issuers_are_distinct_invoices() -> None:
    assert_ok(check_invoice_unique("12345678", TAX_B, [RegisteredInvoice(TAX_A, "S01-2026-002", True)]))
    assert_ok(check_invoice_unique("12345678", "", []))


def test_duplicate_invoice_names_where_it_is_and_whether_paid() -> None:
    v = check_invoice_unique(" inv000123", "", [RegisteredInvoice(TAX_A, "S01-2026-001", True)])
    assert "INV000123" in v.message and "S01-2026-001" in v.message and "已支付" in v.message and TAX_A in v.message
    assert "尚未支付" in check_invoice_unique("x1", "", [RegisteredInvoice("", "S01-2026-001", False)]).message
    assert "作废" in v.message  # how to correct a wrongly entered item


@pytest.mark.parametrize(("kind", "payee", "contractor", "contractor_kind", "aid"), [
    ("invoice", CONTRACTOR, CONTRACTOR, "organisation", False),
    ("invoice", " ｘｘ市照明工程有限公司 ", CONTRACTOR, "organisation", False),  # as typed on another keyboard
    ("invoice", "张桂兰", "张桂兰", "individual", False),  # an individual contractor with a tax-office invoice
    ("voucher", "张桂兰", "张桂兰", "individual", False),
    ("voucher", "李大爷", "张桂兰", "individual", True),  # aid: the recipient signs for it
    ("voucher", "李大爷", "某某养老服务中心", "organisation", True),
])
def test_payee_ok(kind: str, payee: str, contractor: str, contractor_kind: str, aid: bool) -> None:
    assert_ok(check_payee(kind, payee, contractor, contractor_kind, aid))


def test_payee_refusal_says_who_and_points_to_the_voucher_path() -> None:
    v = check_payee("invoice", "王师傅", CONTRACTOR, "organisation", False)
    assert CONTRACTOR in v.message and "王师傅" in v.message and "收款人签字" in v.message


def test_item_with_tax_id_ok() -> None:
    assert_ok(check_payment_item("invoice", 100, CONTRACTOR, "INV1", TAX_A.lower()))
    assert_ok(check_item_cancellable("open"))
