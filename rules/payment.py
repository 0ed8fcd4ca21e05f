"""Payment (第十三条): invoices signed in order by three different people, or — only for an individual
contractor or aid — a no-invoice voucher with its four pieces of evidence; finance pays, never a signer.
"""
from __future__ import annotations

import re
import unicodedata
from collections.abc import Collection, Sequence
from dataclasses import dataclass

from rules.money import format_yuan
from rules.verdict import OK, Verdict, refuse

ART_PAYMENT = "第十三条"
#: Art. 13 (settle on the invoice) and Art. 17 (加强票据管理): one invoice is paid once in the whole city.
ART_INVOICE = "第十三条、第十七条"

#: Art. 13: the invoice is signed by these posts, in this order.
INVOICE_ORDER: tuple[str, str, str] = ("community_secretary", "construction_director", "working_secretary")

ROLE_LABELS: dict[str, str] = {
    "community_secretary": "社区党委书记",
    "construction_director": "社区建设管理委员会主任",
    "working_secretary": "社区党工委书记",
}

#: Art. 13: a no-invoice voucher needs a prior meeting decision, an in-process proof, the payee's
#: signature (before payment) and a public notice after payment.
VOUCHER_EVIDENCE: tuple[str, str, str, str] = ("meeting_decision", "inprocess_proof", "payee_signature",
                                               "post_notice")
VOUCHER_EVIDENCE_LABELS: dict[str, str] = {
    "meeting_decision": "事前会议集体讨论决定",
    "inprocess_proof": "事中签字证明",
    "payee_signature": "收款人签字",
    "post_notice": "事后公示",
}
BEFORE_PAYMENT: tuple[str, str, str] = ("meeting_decision", "inprocess_proof", "payee_signature")

PAYMENT_KINDS: dict[str, str] = {"invoice": "发票", "voucher": "无发票凭证"}

#: item statuses that do not hold up the settlement: paid, or cancelled (never to be paid).
SETTLED_STATUSES: frozenset[str] = frozenset({"paid", "cancelled"})


@dataclass(frozen=True, slots=True)
class SignatureData:
    seq: int
    role: str
    person_id: int


def _label(role: str) -> str:
    return ROLE_LABELS.get(role, role)


def check_invoice_signature(existing: Sequence[SignatureData], role: str, person_id: int,
                            post_valid_today: bool) -> Verdict:
    """The next signature on an invoice: right post in the order, a post held today, a person not yet on it."""
    done = sorted(existing, key=lambda s: s.seq)
    if len(done) >= len(INVOICE_ORDER):
        return refuse("payment.already_fully_signed", "该发票三方签字已完成,无需再签。", ART_PAYMENT)
    expected = INVOICE_ORDER[len(done)]
    if role != expected:
        order = " → ".join(ROLE_LABELS[r] for r in INVOICE_ORDER)
        return refuse("payment.signature_out_of_order",
                      f"发票须依次由{order}签字确认,下一位应由{ROLE_LABELS[expected]}签字,"
                      f"而非{_label(role)}。", ART_PAYMENT)
    if not post_valid_today:
        return refuse("payment.signature_post_invalid",
                      f"签字人今日未担任{_label(role)}职务(任期未开始或已结束),不能签字。", ART_PAYMENT)
    if any(s.person_id == person_id for s in done):
        return refuse("payment.signature_same_person",
                      "同一人不能在同一张发票上签字两次,三个签字须由三名不同人员作出。", ART_PAYMENT)
    return OK


def check_invoice_ready_for_payment(signatures: Sequence[SignatureData]) -> Verdict:
    """An invoice is paid only with all three signatures, in order, by three different people."""
    done = sorted(signatures, key=lambda s: s.seq)
    roles = tuple(s.role for s in done)
    if roles != INVOICE_ORDER:
        missing = [ROLE_LABELS[r] for r in INVOICE_ORDER if r not in roles]
        detail = (f"尚缺{'、'.join(missing)}的签字" if missing
                  else "签字顺序不符合" + " → ".join(ROLE_LABELS[r] for r in INVOICE_ORDER))
        return refuse("payment.invoice_unsigned", f"发票签字确认未完成:{detail},不能付款。", ART_PAYMENT)
    if len({s.person_id for s in done}) != len(done):
        return refuse("payment.signature_same_person",
                      "发票上的三个签字须由三名不同人员作出,不能付款。", ART_PAYMENT)
    return OK


def check_voucher_allowed(contractor_kind: str, is_aid: bool) -> Verdict:
    """A no-invoice voucher only for an individual contractor or a project of aid (帮扶资助)."""
    if contractor_kind == "individual" or is_aid:
        return OK
    return refuse("payment.voucher_not_allowed",
                  "只有个人承办或属于帮扶资助性质、确实无法开具发票的服务事项,才能以收款人签字作为结算凭证;"
                  "本项目由单位承办且不属于帮扶资助,须开具发票。", ART_PAYMENT)


def _missing(evidence_kinds: Collection[str], needed: Sequence[str]) -> list[str]:
    return [VOUCHER_EVIDENCE_LABELS[k] for k in needed if k not in evidence_kinds]


def check_voucher_ready_for_payment(evidence_kinds: Collection[str]) -> Verdict:
    """Before paying on a voucher: the meeting decision, the in-process proof and the payee's signature.
    (The public notice comes after payment.)"""
    missing = _missing(evidence_kinds, BEFORE_PAYMENT)
    if missing:
        return refuse("payment.voucher_evidence_missing",
                      f"无发票结算须先具备:{'、'.join(missing)},目前缺少上述材料,不能付款。", ART_PAYMENT)
    return OK


def check_voucher_complete(evidence_kinds: Collection[str]) -> Verdict:
    """All four pieces of evidence, including the public notice after payment (needed before closing)."""
    before = check_voucher_ready_for_payment(evidence_kinds)
    if not before.ok:
        return before
    if "post_notice" not in evidence_kinds:
        return refuse("payment.voucher_notice_missing",
                      "无发票结算付款后须及时公示,尚未登记事后公示。", ART_PAYMENT)
    return OK


def check_payer_not_signer(payer_id: int, signer_ids: Collection[int]) -> Verdict:
    """Separation of duties: a finance officer never pays an invoice they signed."""
    if payer_id in signer_ids:
        return refuse("sod.payer_signed", "付款的财务管理人员不能是该发票的签字人。", ART_PAYMENT)
    return OK


def check_all_items_paid(item_statuses: Sequence[str]) -> Verdict:
    """Settlement closes when there is at least one payment item and every one is paid (or cancelled)."""
    live = [s for s in item_statuses if s != "cancelled"]
    if not live:
        return refuse("payment.no_items", "尚未登记任何付款事项,不能完成结算。", ART_PAYMENT)
    unpaid = sum(1 for s in live if s not in SETTLED_STATUSES)
    if unpaid:
        return refuse("payment.items_unpaid",
                      f"尚有 {unpaid} 笔付款事项未支付(共 {len(live)} 笔),不能完成结算。", ART_PAYMENT)
    return OK


def check_payment_item(kind: str, amount_fen: int, payee: str, invoice_no: str | None,
                       issuer_tax_id: str = "") -> Verdict:
    """A payment item: invoice or voucher, a positive amount, a payee, an invoice number for an invoice, and
    the issuer's taxpayer id, when given, in the form of one (15–20 letters and digits)."""
    if kind not in PAYMENT_KINDS:
        return refuse("payment.item_invalid",
                      f"付款方式“{kind}”无效,应为发票(invoice)或无发票凭证(voucher)。", ART_PAYMENT)
    if not isinstance(amount_fen, int) or isinstance(amount_fen, bool) or amount_fen <= 0:
        shown = format_yuan(amount_fen) if isinstance(amount_fen, int) else repr(amount_fen)
        return refuse("payment.item_invalid", f"付款金额须大于 0 元,当前为 {shown} 元。", ART_PAYMENT)
    if not (payee or "").strip():
        return refuse("payment.item_invalid", "请填写收款方。", ART_PAYMENT)
    if kind == "invoice" and not normalise_invoice_no(invoice_no or ""):
        return refuse("payment.item_invalid", "发票付款须填写发票号码。", ART_PAYMENT)
    if kind == "voucher" and (normalise_invoice_no(invoice_no or "") or normalise_tax_id(issuer_tax_id)):
        return refuse("payment.item_invalid", "无发票凭证结算不填写发票号码和开票方纳税人识别号。", ART_PAYMENT)
    tax_id = normalise_tax_id(issuer_tax_id)
    if tax_id and not _TAX_ID.fullmatch(tax_id):
        return refuse("payment.item_invalid",
                      f"开票方纳税人识别号“{issuer_tax_id.strip()}”格式不正确(应为 15–20 位字母或数字,"
                      "如 18 位统一社会信用代码)。", ART_PAYMENT)
    return OK


def check_item_found(found: bool) -> Verdict:
    """The payment item named belongs to this project."""
    return OK if found else refuse("payment.item_not_found", "该项目没有此付款事项", ART_PAYMENT)


def check_item_signable(kind: str, status: str) -> Verdict:
    """Only an invoice not yet paid (nor cancelled) is signed."""
    if status == "cancelled":
        return _CANCELLED
    if kind == "invoice" and status == "open":
        return OK
    return refuse("payment.not_signable", "只有未支付的发票须签字", ART_PAYMENT)


def check_voucher_evidence(item_kind: str, item_status: str, evidence_kind: str, have: Collection[str]) -> Verdict:
    """A piece of no-invoice evidence is recorded once, on a voucher: the post-payment notice after payment,
    the other pieces before it."""
    if item_status == "cancelled":
        return _CANCELLED
    if item_kind != "voucher":
        return refuse("payment.not_voucher", "此付款事项不是无发票凭证", ART_PAYMENT)
    if evidence_kind in have:
        return refuse("payment.evidence_duplicate", "此项凭证材料已经登记", ART_PAYMENT)
    if evidence_kind == "post_notice" and item_status != "paid":
        return refuse("payment.notice_before_payment", "事后公示须在支付之后登记", ART_PAYMENT)
    if evidence_kind != "post_notice" and item_status != "open":
        return refuse("payment.evidence_after_payment", "事前、事中材料须在支付前登记", ART_PAYMENT)
    return OK


def check_item_unpaid(status: str) -> Verdict:
    """A payment item is paid once, and never once cancelled."""
    if status == "cancelled":
        return _CANCELLED
    return OK if status == "open" else refuse("payment.already_paid", "此付款事项已支付", ART_PAYMENT)


def check_idempotency_key(used_for_item_id: int, item_id: int) -> Verdict:
    """A payment's idempotency key, once used, repeats only the same item's payment."""
    if used_for_item_id == item_id:
        return OK
    return refuse("payment.key_reused", "该幂等键已用于另一笔付款", ART_PAYMENT)


# ------------------------------------------------------------------------ cancellation (作废)

_CANCELLED = refuse("payment.item_cancelled", "此付款事项已作废,不能再签字、登记材料或支付。", ART_PAYMENT)


def check_item_cancellable(status: str) -> Verdict:
    """Only an item not yet paid is cancelled (作废), and once: what was paid stays paid and accounted."""
    if status == "paid":
        return refuse("payment.cancel_paid",
                      "此付款事项已支付,不能作废;已支付的款项按实际支付入账,如有差错须另行依规处理。", ART_PAYMENT)
    if status == "cancelled":
        return _CANCELLED
    return OK


# ------------------------------------------------------------------------ one invoice, paid once

_SPACES = re.compile(r"\s+")
_TAX_ID = re.compile(r"[0-9A-Z]{15,20}")


def _compact(text: str) -> str:
    """NFKC (full-width letters and digits become half-width), every space removed."""
    return _SPACES.sub("", unicodedata.normalize("NFKC", text or ""))


def normalise_invoice_no(text: str) -> str:
    """The invoice number as compared across the city: NFKC, spaces removed, upper case."""
    return _compact(text).upper()


def normalise_tax_id(text: str) -> str:
    """The issuer's taxpayer id (纳税人识别号 / 统一社会信用代码) as compared: NFKC, spaces removed, upper case."""
    return _compact(text).upper()


@dataclass(frozen=True, slots=True)
class RegisteredInvoice:
    """A payment item (not cancelled) already holding an invoice with the same number."""

    issuer_tax_id: str
    """normalised; "" when not given."""
    project_code: str
    """"" when not known."""
    paid: bool | None
    """None when not known (the database's unique index refused the item)."""


def check_invoice_unique(invoice_no: str, issuer_tax_id: str, registered: Sequence[RegisteredInvoice]) -> Verdict:
    """One invoice is paid once in the whole city (Art. 13, Art. 17 票据管理).

    ``registered`` are the live (not cancelled) items anywhere whose normalised number is the same. Two
    invoices with the same number are the same invoice unless both name their issuer and the issuers differ:
    an item that names no issuer can never be told apart from one that does."""
    number, issuer = normalise_invoice_no(invoice_no), normalise_tax_id(issuer_tax_id)
    for other in registered:
        if issuer and other.issuer_tax_id and other.issuer_tax_id != issuer:
            continue
        where = f"项目 {other.project_code} " if other.project_code else ""
        state = "" if other.paid is None else ("并已支付" if other.paid else "(尚未支付)")
        issued = f"(开票方 {other.issuer_tax_id or issuer})" if (other.issuer_tax_id or issuer) else ""
        return refuse("payment.invoice_duplicate",
                      f"发票 {number}{issued} 已登记在{where}付款事项中{state},同一张发票在全市只能付款一次;"
                      "如原付款事项登记有误,须先将其作废。", ART_INVOICE)
    return OK


# ------------------------------------------------------------------------ the payee is the contractor

def normalise_party(name: str) -> str:
    """A payee or contractor name as compared: NFKC (full-width brackets and letters alike), spaces removed,
    case folded — "xx市照明工程有限公司" and "ｘｘ市照明工程 有限公司" are the same party."""
    return _compact(name).casefold()


def check_payee(kind: str, payee: str, contractor_name: str, contractor_kind: str, is_aid: bool) -> Verdict:
    """Finance settles directly with the contractor (承办方, Art. 13): an invoice's payee is the project's
    contractor as approved (or as changed by an approved change); anybody else — an aid recipient, an
    individual who is not the contractor — is paid only on a no-invoice voucher, which itself is allowed only
    for an individual contractor or aid (``check_voucher_allowed``), and then to the contractor unless the
    project is aid."""
    contractor = (contractor_name or "").strip()
    if normalise_party(payee) == normalise_party(contractor) and contractor:
        return OK
    if kind == "voucher" and is_aid:
        return OK  # aid goes to the people it helps, each signing for what they receive
    if not contractor:
        return refuse("payment.payee_not_contractor",
                      "本项目未登记承办方,不能向其付款;承办方须在项目方案中列明,或经批准的变更登记。", ART_PAYMENT)
    kind_label = "单位" if contractor_kind == "organisation" else "个人"
    if kind == "invoice":
        return refuse("payment.payee_not_contractor",
                      f"发票结算须与承办方直接进行:收款方应为本项目的承办方“{contractor}”({kind_label},"
                      f"以批准或经批准变更的为准),而非“{payee.strip()}”;向承办方以外的个人付款只能以收款人签字"
                      "作为结算凭证(仅限个人承办或帮扶资助事项)。", ART_PAYMENT)
    return refuse("payment.payee_not_contractor",
                  f"本项目不属于帮扶资助,无发票结算的收款人应为承办方“{contractor}”本人,而非“{payee.strip()}”。",
                  ART_PAYMENT)
