"""What each event carries. Strict: no floats or booleans for amounts, bounded text, no extra keys."""
from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, model_validator

from workflow.context import payload_model
from workflow.fields import Clean as Clean
from workflow.fields import (  # noqa: F401 - Clean and Exact: the bidi validators, importable from here too
    CodeText,
    Date,
    Exact,
    Id,
    Length,
    LineText,
    MultilineText,
    Range,
    StrictInt,
    Yuan,
)

# the shared field types (workflow.fields): no control characters, bounded integers, ISO dates, yuan strings
ShortText = Annotated[LineText, Length(200)]
LongText = Annotated[MultilineText, Length(5000)]
Count = Annotated[StrictInt, Range(0, 100_000)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_max_length=5000)


class Empty(Strict):
    comment: ShortText = ""


for _entity, _trigger in [
    ("project", "submit_preliminary"), ("project", "withdraw"), ("project", "grant_preliminary"),
    ("project", "return_for_revision"), ("project", "resume"), ("project", "publicity_elapsed"),
    ("project", "submit"), ("project", "approve"), ("project", "reject"), ("project", "reject_change"),
    ("project", "close_settlement"), ("project", "completion_elapsed"), ("project", "terminate"),
    ("fund_year", "start_disclosure"), ("fund_year", "disclosure_elapsed"), ("fund_year", "close_year"),
]:
    payload_model(_entity, _trigger)(Empty)


class AttendeeIn(Strict):
    name: ShortText
    capacity: Literal["two_committees", "resident_rep", "other"]


@payload_model("project", "record_meeting")
class MeetingIn(Strict):
    held_on: Date
    attendees: list[AttendeeIn] = Field(max_length=200)
    votes_for: Count
    votes_against: Count
    votes_abstain: Count = 0
    minutes: LongText


class ChangeValues(Strict):
    amount: Yuan | None = None
    description: LongText | None = None
    contractor_name: ShortText | None = None
    contractor_kind: Literal["organisation", "individual"] | None = None
    planned_start: Date | None = None
    planned_end: Date | None = None
    beneficiaries_count: Annotated[StrictInt, Range(1, 10_000_000)] | None = None


@payload_model("project", "request_change")
class ChangeIn(Strict):
    changes: ChangeValues


@payload_model("project", "approve_change")
class ChangeDecisionIn(Strict):
    comment: ShortText = ""


@payload_model("project", "report_completion")
class CompletionIn(Strict):
    summary: LongText = ""


@payload_model("project", "accept")
@payload_model("project", "fail_acceptance")
class AcceptanceIn(Strict):
    quality: LongText
    satisfaction: Annotated[StrictInt, Range(0, 100)]
    team: list[Id] = Field(min_length=1, max_length=20)
    """Person ids of the acceptance team present."""


@payload_model("project", "object")
class ObjectionIn(Strict):
    author_name: ShortText = ""
    contact: ShortText = ""
    text: Annotated[MultilineText, Length(2000, 1)]


@payload_model("project", "answer_objection")
class AnswerIn(Strict):
    """The committee's answer; it resolves nothing by itself (a supervisor confirms it or the resident accepts it)."""

    objection_id: Id
    answer: Annotated[MultilineText, Length(2000, 1)]


@payload_model("project", "confirm_answer")
class ConfirmAnswerIn(Strict):
    objection_id: Id
    comment: ShortText = ""


@payload_model("project", "accept_answer")
class AcceptAnswerIn(Strict):
    """The resident accepts the answer with the receipt code of the objection (public, no login)."""

    objection_id: Id
    receipt_code: Annotated[CodeText, Length(32, 1)]


@payload_model("project", "signoff")
class SignOffIn(Strict):
    stage: Literal["declaration", "acceptance", "write_off"]
    comment: ShortText = ""


@payload_model("project", "raise_concern")
class ConcernIn(Strict):
    text: Annotated[MultilineText, Length(2000)]


@payload_model("project", "resolve_concern")
class ResolveConcernIn(Strict):
    concern_id: Id
    resolution: Annotated[MultilineText, Length(2000, 1)]


@payload_model("project", "record_board_meeting")
class BoardMeetingIn(Strict):
    held_on: Date
    attendees: list[ShortText] = Field(max_length=50)
    minutes: LongText


@payload_model("project", "record_followup")
class FollowUpIn(Strict):
    visited_on: Date
    notes: Annotated[MultilineText, Length(5000)]


@payload_model("project", "add_payment_item")
class PaymentItemIn(Strict):
    kind: Literal["invoice", "voucher"]
    amount: Yuan
    payee: ShortText
    payee_account: Annotated[CodeText, Length(40)] = ""
    invoice_no: Annotated[CodeText, Length(60)] = ""
    issuer_tax_id: Annotated[CodeText, Length(30)] = ""
    """The invoice issuer's taxpayer id (纳税人识别号 / 统一社会信用代码), when known: an invoice is told
    apart by its number together with its issuer."""


@payload_model("project", "cancel_payment_item")
class CancelPaymentItemIn(Strict):
    payment_item_id: Id
    """The unpaid item to cancel (作废); the reason goes in the event's ``reason``."""


@payload_model("project", "sign_invoice")
class SignInvoiceIn(Strict):
    payment_item_id: Id


@payload_model("project", "record_voucher_evidence")
class VoucherEvidenceIn(Strict):
    payment_item_id: Id
    kind: Literal["meeting_decision", "inprocess_proof", "payee_signature", "post_notice"]
    note: Annotated[MultilineText, Length(5000, 1)]
    """The decision, proof or signature as text; archived as a content-addressed document."""


@payload_model("project", "pay")
class PayIn(Strict):
    payment_item_id: Id
    idempotency_key: Annotated[CodeText, Length(100, 8)]


@payload_model("fund_year", "submit_report")
class ReportIn(Strict):
    summary: Annotated[MultilineText, Length(5000)]
    service_effect: LongText = ""


@payload_model("fund_year", "evaluate")
class EvaluationIn(Strict):
    rating: Literal["excellent", "good", "fair", "poor"]
    comment: LongText = ""


# ------------------------------------------------------------------------------------ issue 11


class EditLineItem(Strict):
    description: Annotated[LineText, Length(200, 1)]
    quantity: Annotated[StrictInt, Range(1, 100_000)]
    unit_price: Yuan
    catalog_item: Annotated[LineText, Length(100)] = ""


ForbiddenUse = Literal["office", "worker_pay", "government_service", "city_funded", "property_company"]
#: fields an edit may set to null (clearing a planned date); every other field, when given, has a value
NULLABLE_EDIT_FIELDS = frozenset({"planned_start", "planned_end"})


@payload_model("project", "edit")
class EditIn(Strict):
    """Any subset of the proposal's fields; a field left out is kept. ``line_items`` and ``need_ids``
    replace the whole list. The category and the contractor kind are checked by the proposal rules
    (第八条, 第九条), so that a wrong one is refused citing its article."""

    title: Annotated[LineText, Length(200)] | None = None
    description: LongText | None = None
    category: Annotated[CodeText, Length(32)] | None = None
    category_justification: Annotated[MultilineText, Length(2000)] | None = None
    amount: Yuan | None = None
    beneficiaries_count: Annotated[StrictInt, Range(0, 10_000_000)] | None = None
    beneficiaries_desc: Annotated[MultilineText, Length(2000)] | None = None
    small_group_marked: StrictBool | None = None
    contractor_name: ShortText | None = None
    contractor_kind: Annotated[CodeText, Length(16)] | None = None
    is_aid: StrictBool | None = None
    planned_start: Date | None = None
    planned_end: Date | None = None
    forbidden_use_declaration: dict[ForbiddenUse, StrictBool] | None = None
    keyword_flags_answer: Annotated[MultilineText, Length(2000)] | None = None
    need_ids: list[Id] | None = Field(None, max_length=50)
    line_items: list[EditLineItem] | None = Field(None, max_length=100)

    @model_validator(mode="after")
    def _no_nulls(self) -> EditIn:
        nulls = sorted(n for n in self.model_fields_set if getattr(self, n) is None and n not in NULLABLE_EDIT_FIELDS)
        if nulls:
            raise ValueError(f"{'、'.join(nulls)} 不能为空(不修改的内容请不要提交)")
        return self


@payload_model("project", "decide_flag")
class DecideFlagIn(Strict):
    line_item_id: Id
    decision: Literal["cleared", "upheld"]
    note: Annotated[MultilineText, Length(2000)]
