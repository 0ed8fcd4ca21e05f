"""What each event carries. Strict: no floats or booleans for amounts, bounded text, no extra keys."""
from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

from rules.money import check_yuan
from workflow.engine import payload_model

Yuan = Annotated[str, StringConstraints(strip_whitespace=True, max_length=16)]
ShortText = Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)]
LongText = Annotated[str, StringConstraints(strip_whitespace=True, max_length=5000)]
Count = Annotated[int, Field(strict=True, ge=0, le=100_000)]
Id = Annotated[int, Field(strict=True, ge=1)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_max_length=5000)


class Empty(Strict):
    comment: ShortText = ""


for _entity, _trigger in [
    ("project", "submit_preliminary"), ("project", "withdraw"), ("project", "grant_preliminary"),
    ("project", "return_for_revision"), ("project", "resume"), ("project", "publicity_elapsed"),
    ("project", "submit"), ("project", "approve"), ("project", "reject"), ("project", "reject_change"),
    ("project", "close_settlement"), ("project", "completion_elapsed"),
    ("fund_year", "start_disclosure"), ("fund_year", "disclosure_elapsed"), ("fund_year", "close_year"),
]:
    payload_model(_entity, _trigger)(Empty)


class AttendeeIn(Strict):
    name: ShortText
    capacity: Literal["two_committees", "resident_rep", "other"]


@payload_model("project", "record_meeting")
class MeetingIn(Strict):
    held_on: dt.date
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
    planned_start: dt.date | None = None
    planned_end: dt.date | None = None
    beneficiaries_count: Annotated[int, Field(strict=True, ge=1, le=10_000_000)] | None = None

    _amount = field_validator("amount")(lambda v: v if v is None else check_yuan(v))


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
    satisfaction: Annotated[int, Field(strict=True, ge=0, le=100)]
    team: list[Id] = Field(min_length=1, max_length=20)
    """Person ids of the acceptance team present."""


@payload_model("project", "object")
class ObjectionIn(Strict):
    author_name: ShortText = ""
    contact: ShortText = ""
    text: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]


@payload_model("project", "answer_objection")
class AnswerIn(Strict):
    objection_id: Id
    answer: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]
    resolved: bool


@payload_model("project", "signoff")
class SignOffIn(Strict):
    stage: Literal["declaration", "acceptance", "write_off"]
    comment: ShortText = ""


@payload_model("project", "raise_concern")
class ConcernIn(Strict):
    text: Annotated[str, StringConstraints(strip_whitespace=True, max_length=2000)]


@payload_model("project", "resolve_concern")
class ResolveConcernIn(Strict):
    concern_id: Id
    resolution: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]


@payload_model("project", "record_board_meeting")
class BoardMeetingIn(Strict):
    held_on: dt.date
    attendees: list[ShortText] = Field(max_length=50)
    minutes: LongText


@payload_model("project", "record_followup")
class FollowUpIn(Strict):
    visited_on: dt.date
    notes: Annotated[str, StringConstraints(strip_whitespace=True, max_length=5000)]


@payload_model("project", "add_payment_item")
class PaymentItemIn(Strict):
    kind: Literal["invoice", "voucher"]
    amount: Yuan
    payee: ShortText
    payee_account: Annotated[str, StringConstraints(strip_whitespace=True, max_length=40)] = ""
    invoice_no: Annotated[str, StringConstraints(strip_whitespace=True, max_length=60)] = ""

    _amount = field_validator("amount")(check_yuan)


@payload_model("project", "sign_invoice")
class SignInvoiceIn(Strict):
    payment_item_id: Id


@payload_model("project", "record_voucher_evidence")
class VoucherEvidenceIn(Strict):
    payment_item_id: Id
    kind: Literal["meeting_decision", "inprocess_proof", "payee_signature", "post_notice"]
    note: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=5000)]
    """The decision, proof or signature as text; archived as a content-addressed document."""


@payload_model("project", "pay")
class PayIn(Strict):
    payment_item_id: Id
    idempotency_key: Annotated[str, StringConstraints(strip_whitespace=True, min_length=8, max_length=100)]


@payload_model("fund_year", "submit_report")
class ReportIn(Strict):
    summary: Annotated[str, StringConstraints(strip_whitespace=True, max_length=5000)]
    service_effect: LongText = ""


@payload_model("fund_year", "evaluate")
class EvaluationIn(Strict):
    rating: Literal["excellent", "good", "fair", "poor"]
    comment: LongText = ""
