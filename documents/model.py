"""The plain data every document is drawn from: frozen dataclasses of text, integer fen, dates and
aware instants (shown in Asia/Shanghai). No ORM rows, no database, no clock: the assembling side
(:mod:`workflow.papers`) reads the records and masks what is public; the builders only draw.

Each document class names its ``kind`` (the registry key and the verification code's domain) and
says whether it is ``public`` (hung on the notice board) or internal.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import ClassVar


@dataclass(frozen=True)
class Stamp:
    """The verification code printed on a document and where its QR code leads."""

    code: str
    url: str


@dataclass(frozen=True)
class Person:
    """Someone who acted on the record: name, post, when (None when the step is still to come)."""

    name: str
    role: str = ""
    at: dt.datetime | None = None
    note: str = ""


@dataclass(frozen=True)
class Period:
    """A notice period: from the posting instant to 24:00 of its last working day."""

    starts_at: dt.datetime
    ends_at: dt.datetime
    workdays: int
    provisional: bool = False


# ------------------------------------------------------------------------------ the application form


@dataclass(frozen=True)
class LineItemRow:
    description: str
    quantity: int
    unit_price_fen: int
    amount_fen: int
    catalog_item: str = ""


@dataclass(frozen=True)
class NeedRow:
    title: str
    channel: str
    residents_count: int
    recorded_at: dt.datetime


@dataclass(frozen=True)
class MeetingResult:
    held_on: dt.date
    two_committees: int
    resident_reps: int
    votes_for: int
    votes_against: int
    votes_abstain: int
    outcome: str


@dataclass(frozen=True)
class ObjectionRow:
    received_at: dt.datetime
    text: str
    answer: str
    resolved: bool


@dataclass(frozen=True)
class ApplicationForm:
    """《社区党组织服务群众专项经费使用申请审批表》 (Art. 10, 11)."""

    kind: ClassVar[str] = "application_form"
    public: ClassVar[bool] = False
    community: str
    issuer: str
    project_code: str
    title: str
    category: str
    category_justification: str
    description: str
    amount_fen: int
    beneficiaries_count: int
    beneficiaries_desc: str
    small_group: bool
    aid: bool
    contractor: str
    contractor_kind: str
    planned_start: dt.date | None
    planned_end: dt.date | None
    proposer: Person
    state: str
    forbidden_uses_declared: tuple[str, ...]
    line_items: tuple[LineItemRow, ...]
    needs: tuple[NeedRow, ...]
    preliminary: Person | None
    meeting: MeetingResult | None
    notice: Period | None
    objections: tuple[ObjectionRow, ...]
    declaration_signoff: Person | None
    received_at: dt.datetime | None
    approval_round: int
    board_meeting: dt.date | None
    approvals: tuple[Person, ...]
    """The two main leaders' blocks, in order: 社区党工委书记, 社区建设管理委员会主任 (at None: not yet)."""
    issued_at: dt.datetime


# ------------------------------------------------------------------------------------------ notices


@dataclass(frozen=True)
class NoticeDoc:
    """A notice on the community notice board, any kind (公示): the posted text and its period."""

    kind: ClassVar[str] = "notice"
    public: ClassVar[bool] = True
    notice_id: int
    notice_kind: str
    kind_label: str
    community: str
    issuer: str
    title: str
    body: str
    """The text as posted (already masked): first line the heading, ``label:value`` lines, ``- `` items."""
    period: Period
    article: str
    project_code: str
    issued_at: dt.datetime


# ------------------------------------------------------------------------------------------ records


@dataclass(frozen=True)
class ProjectPaper:
    """What every record of a project names: its community, who issues it, the project."""

    community: str
    issuer: str
    project_code: str
    project_title: str


@dataclass(frozen=True)
class Attendee:
    name: str
    capacity: str


@dataclass(frozen=True)
class MeetingMinutes(ProjectPaper):
    """联席会议记录 (Art. 10): attendance, votes, outcome, the minutes."""

    kind: ClassVar[str] = "minutes"
    public: ClassVar[bool] = False
    meeting_id: int
    amount_fen: int
    held_on: dt.date
    attendees: tuple[Attendee, ...]
    votes_for: int
    votes_against: int
    votes_abstain: int
    outcome: str
    minutes: str
    recorded_by: Person
    issued_at: dt.datetime


@dataclass(frozen=True)
class BoardRecord(ProjectPaper):
    """社区党工委班子会议记录 (Art. 11)."""

    kind: ClassVar[str] = "board_record"
    public: ClassVar[bool] = False
    meeting_id: int
    amount_fen: int
    received_at: dt.datetime | None
    held_on: dt.date
    attendees: tuple[str, ...]
    minutes: str
    recorded_by: Person
    issued_at: dt.datetime


@dataclass(frozen=True)
class Visit:
    visited_on: dt.date
    name: str
    notes: str


@dataclass(frozen=True)
class AcceptanceRecord(ProjectPaper):
    """综合验收记录 (Art. 12): the team, quality, residents' satisfaction."""

    kind: ClassVar[str] = "acceptance_record"
    public: ClassVar[bool] = False
    acceptance_id: int
    amount_fen: int
    passed: bool
    quality: str
    satisfaction: int
    team: tuple[Person, ...]
    supervisor_signoff: Person | None
    followups: tuple[Visit, ...]
    recorded_by: Person
    issued_at: dt.datetime


@dataclass(frozen=True)
class Change:
    field: str
    before: str
    after: str


@dataclass(frozen=True)
class ChangeFiling(ProjectPaper):
    """项目变更备案表 (Art. 11): before and after, reason, the working committee's decision."""

    kind: ClassVar[str] = "change_filing"
    public: ClassVar[bool] = False
    change_id: int
    reason: str
    changes: tuple[Change, ...]
    requested_by: Person
    status: str
    decided_by: Person | None
    issued_at: dt.datetime


@dataclass(frozen=True)
class Evidence:
    kind: str
    recorded_by: str
    at: dt.datetime
    reference: str


@dataclass(frozen=True)
class PaymentVoucher(ProjectPaper):
    """付款审批单 (Art. 13): an invoice with its three signatures in order, or a no-invoice voucher
    with its evidence items."""

    kind: ClassVar[str] = "payment_voucher"
    public: ClassVar[bool] = False
    payment_item_id: int
    contractor: str
    approved_fen: int
    invoice: bool
    amount_fen: int
    payee: str
    payee_account: str
    invoice_no: str
    status: str
    signatures: tuple[Person, ...]
    """Invoice: the three blocks in the regulation's order (at None: not signed yet)."""
    evidence: tuple[Evidence, ...]
    required_evidence: tuple[str, ...]
    paid_by: Person | None
    issued_at: dt.datetime


# ------------------------------------------------------------------------------------- the year


@dataclass(frozen=True)
class CategoryRow:
    category: str
    projects: int
    used_fen: int
    paid_fen: int


@dataclass(frozen=True)
class ProjectRow:
    code: str
    title: str
    category: str
    outcome: str
    amount_fen: int
    paid_fen: int
    small_group: bool


@dataclass(frozen=True)
class AnnualReport:
    """The annual report to the working committee (Art. 16) or, ``disclosure`` true, the annual
    disclosure on the notice board (Art. 15, masked, with its period)."""

    kind: ClassVar[str] = "annual_report"
    public: ClassVar[bool] = False
    fund_year_id: int
    community: str
    issuer: str
    year: int
    state: str
    allocation_fen: int
    carry_in_fen: int
    committed_fen: int
    paid_fen: int
    carry_out_fen: int | None
    small_group_fen: int
    cap_fen: int
    cap_ratio: tuple[int, int]
    categories: tuple[CategoryRow, ...]
    projects: tuple[ProjectRow, ...]
    summary: str
    service_effect: str
    evaluation: str
    submitted_at: dt.datetime | None
    issued_at: dt.datetime
    period: Period | None = None
    anchor: str = ""
    """The latest signed daily root of the audit chains before the document's date (issue 12), as printed."""

    @property
    def total_fen(self) -> int:
        return self.allocation_fen + self.carry_in_fen

    @property
    def balance_fen(self) -> int:
        return self.total_fen - self.committed_fen - self.paid_fen


@dataclass(frozen=True)
class AnnualDisclosure(AnnualReport):
    kind: ClassVar[str] = "annual_disclosure"
    public: ClassVar[bool] = True


# ------------------------------------------------------------------------------------- spreadsheets


@dataclass(frozen=True)
class LedgerRow:
    at: dt.datetime
    kind: str
    project_code: str
    project_title: str
    memo: str
    amount_fen: int
    document_name: str
    document_sha256: str


@dataclass(frozen=True)
class LedgerBook:
    """The fund's own account 党组织服务群众专项经费 of one community-year (Art. 17)."""

    kind: ClassVar[str] = "ledger"
    public: ClassVar[bool] = False
    community: str
    issuer: str
    year: int
    rows: tuple[LedgerRow, ...]
    issued_at: dt.datetime


@dataclass(frozen=True)
class CommunityYearRow:
    code: str
    name: str
    state: str
    allocation_fen: int
    carry_in_fen: int
    committed_fen: int
    paid_fen: int
    small_group_fen: int
    cap_fen: int
    carry_out_fen: int | None
    projects: int
    closed: int
    overdue: int


@dataclass(frozen=True)
class AreaSummary:
    """An area's year at a glance, one row per community (for finance and the working committee)."""

    kind: ClassVar[str] = "area_summary"
    public: ClassVar[bool] = False
    area: str
    issuer: str
    year: int
    rows: tuple[CommunityYearRow, ...] = field(default_factory=tuple)
    issued_at: dt.datetime | None = None


# ------------------------------------------------------------------------------- the inspection pack (Art. 19)


@dataclass(frozen=True)
class TrailEvent:
    """One audit event of a project: what, who (name and post), when, and the reason given."""

    at: dt.datetime
    event: str
    actor: str
    role: str
    moved: str
    """'' when the event kept the state, else ``from → to`` in words."""
    reason: str = ""


@dataclass(frozen=True)
class PackProject:
    project_id: int
    code: str
    title: str
    state: str
    amount_fen: int
    paid_fen: int
    trail: tuple[TrailEvent, ...]


@dataclass(frozen=True)
class PackLedgerRow:
    at: dt.datetime
    kind: str
    amount_fen: int
    project_code: str
    memo: str


@dataclass(frozen=True)
class PackDeadline:
    what: str
    kind: str
    due_at: dt.datetime
    provisional: bool


@dataclass(frozen=True)
class PackFlag:
    """A red flag the data raises (issue 13's rules): its code, what it is, the article and the evidence."""

    code: str
    title: str
    article: str
    evidence: str


@dataclass(frozen=True)
class PackFinding:
    finding_id: int
    article: str
    description: str
    requirement: str
    state: str
    project_code: str
    due_at: dt.datetime | None


@dataclass(frozen=True)
class InspectionPack:
    """What the working committee takes to a regular inspection (定期检查, Art. 19) of one community."""

    kind: ClassVar[str] = "inspection_pack"
    public: ClassVar[bool] = False
    inspection_id: int
    community: str
    issuer: str
    title: str
    period_from: dt.date
    period_to: dt.date
    state: str
    planned_by: Person
    projects: tuple[PackProject, ...]
    ledger: tuple[PackLedgerRow, ...]
    deadlines: tuple[PackDeadline, ...]
    flags: tuple[PackFlag, ...]
    findings: tuple[PackFinding, ...]
    issued_at: dt.datetime
