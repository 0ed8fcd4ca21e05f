"""Request and response bodies of the HTTP API (the OpenAPI schema is generated from these).

Money is always a yuan string with two decimals ("12345.67"); a number or a boolean in its place is
refused. Text is bounded. Instants are ISO 8601 in Asia/Shanghai (+08:00).
"""
from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StringConstraints, field_validator

from rules.money import check_yuan
from rules.project import FORBIDDEN_USES

YUAN_PATTERN = r"^(0|[1-9][0-9]{0,11})(\.[0-9]{1,2})?$"
YuanIn = Annotated[str, StringConstraints(strict=True, max_length=16, pattern=YUAN_PATTERN),
                   Field(description="金额(元),字符串,最多两位小数", examples=["12000.00"])]
YuanOut = Annotated[str, Field(pattern=r"^-?[0-9]+\.[0-9]{2}$", examples=["12000.00"])]
Id = Annotated[int, Field(strict=True, ge=1, le=2**53)]


def _c(max_length: int, min_length: int = 0) -> StringConstraints:
    return StringConstraints(strict=True, strip_whitespace=True, min_length=min_length, max_length=max_length)


# bounded text: Text<max> (may be empty), Req<max> (at least one character)
Text64 = Annotated[str, _c(64)]
Req64 = Annotated[str, _c(64, 1)]
Text100 = Annotated[str, _c(100)]
Text200 = Annotated[str, _c(200)]
Req200 = Annotated[str, _c(200, 1)]
Req500 = Annotated[str, _c(500, 1)]
Text2000 = Annotated[str, _c(2000)]
Req2000 = Annotated[str, _c(2000, 1)]
Text5000 = Annotated[str, _c(5000)]
Req5000 = Annotated[str, _c(5000, 1)]


Role = Literal["community_secretary", "community_staff", "supervisor", "working_member", "working_secretary",
               "construction_director", "finance_officer", "city_admin"]
Category = Literal["hardship", "convenience", "employment", "property", "culture", "other"]


class In(BaseModel):
    model_config = ConfigDict(extra="forbid")


# ------------------------------------------------------------------------------------- auth


class TokenOut(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_in: int = Field(description="有效秒数")
    expires_at: dt.datetime


class SessionOut(BaseModel):
    csrf_token: str = Field(description="修改类请求须在请求头 X-CSRF-Token 中带上此值(亦在 fundflow_csrf Cookie 中)")
    expires_at: dt.datetime
    username: str
    display_name: str


class OrgRef(BaseModel):
    id: int
    code: str
    name: str
    level: Literal["city", "area", "community"]


class PostOut(BaseModel):
    id: int
    organisation: OrgRef
    role: str
    role_label: str
    valid_from: dt.date
    valid_to: dt.date | None


class MeOut(BaseModel):
    id: int
    username: str
    display_name: str
    today: dt.date
    posts: list[PostOut] = Field(description="今日在任的岗位")
    session: Literal["bearer", "cookie"]
    session_expires_at: dt.datetime


# ------------------------------------------------------------------------------------ needs


class NeedIn(In):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{
        "community_id": 3, "title": "3号楼楼道灯不亮", "description": "居民反映夜间出行不便",
        "channel": "visit", "residents_count": 20}]})
    community_id: Id
    title: Req200
    description: Text5000 = ""
    channel: Literal["visit", "hall", "platform"] = "visit"
    residents_count: Annotated[int, Field(strict=True, ge=1, le=1_000_000)] = 1


class NeedOut(BaseModel):
    id: int
    community_id: int
    title: str
    description: str
    channel: str
    residents_count: int
    recorded_by: int
    created_at: dt.datetime


# --------------------------------------------------------------------------------- projects


class LineItemIn(In):
    description: Req200
    quantity: Annotated[int, Field(strict=True, ge=1, le=100_000)]
    unit_price: YuanIn
    catalog_item: Text100 = ""

    _price = field_validator("unit_price")(check_yuan)


class ProjectIn(In):
    """A proposal (Art. 9): one project answers one matter and links the needs it answers."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{
        "community_id": 3, "year": 2026, "title": "老旧小区路灯维修", "description": "更换小区内损坏路灯。",
        "category": "property", "amount": "12000.00", "beneficiaries_count": 300, "beneficiaries_desc": "小区居民",
        "contractor_name": "xx市照明工程有限公司", "contractor_kind": "organisation", "is_aid": False,
        "planned_start": "2026-03-01", "planned_end": "2026-11-30",
        "forbidden_use_declaration": {k: False for k in FORBIDDEN_USES}, "need_ids": [1],
        "line_items": [{"description": "LED 路灯", "quantity": 2, "unit_price": "6000.00",
                        "catalog_item": "C1902 维修和保养服务"}]}]})
    community_id: Id
    year: Annotated[int, Field(strict=True, ge=2000, le=2100)]
    title: Req200
    description: Req5000
    category: Category
    amount: YuanIn
    beneficiaries_count: Annotated[int, Field(strict=True, ge=0, le=10_000_000)]
    beneficiaries_desc: Text2000 = ""
    contractor_name: Text200 = ""
    contractor_kind: Literal["organisation", "individual"] = "organisation"
    is_aid: StrictBool = False
    small_group_marked: StrictBool = False
    planned_start: dt.date | None = None
    planned_end: dt.date | None = None
    category_justification: Text2000 = ""
    forbidden_use_declaration: dict[Literal["office", "worker_pay", "government_service", "city_funded",
                                            "property_company"], StrictBool] = Field(default_factory=dict)
    keyword_flags_answer: Text2000 = ""
    need_ids: list[Id] = Field(default_factory=list, max_length=50)
    line_items: list[LineItemIn] = Field(default_factory=list, max_length=100)

    _amount = field_validator("amount")(check_yuan)


class LinkSet(BaseModel):
    self: str
    model_config = ConfigDict(extra="allow")


class DeadlineOut(BaseModel):
    kind: str
    event: str
    start_date: dt.date
    workdays: int
    last_day: dt.date = Field(description="期限的最后一个工作日(当日 24:00 届满)")
    due_at: dt.datetime = Field(description="届满时刻(Asia/Shanghai)")
    workdays_left: int = Field(description="期限内尚余的工作日数(今日在期限内且为工作日时计入;起始日不计);已届满为 0")
    provisional: bool = Field(description="涉及尚未载入官方安排的年份,按周末规则临时计算")
    overdue: bool


class AllowedEvent(BaseModel):
    event: str
    label: str
    roles: list[str] = Field(description="调用者据以执行此操作的岗位")
    article: str


class SignatureOut(BaseModel):
    seq: int
    role: str
    role_label: str
    person_id: int
    person_name: str
    at: dt.datetime


class PaymentItemOut(BaseModel):
    id: int
    kind: Literal["invoice", "voucher"]
    amount: YuanOut
    payee: str
    payee_account: str
    invoice_no: str
    status: str
    signatures: list[SignatureOut]
    evidence: list[str] = Field(description="已登记的无发票凭证材料种类")


class LineItemOut(BaseModel):
    id: int
    description: str
    quantity: int
    unit_price: YuanOut
    amount: YuanOut
    catalog_item: str
    flagged_keywords: list[str]


class ConcernOut(BaseModel):
    id: int
    text: str
    raised_by: int
    created_at: dt.datetime
    resolved: bool
    resolution: str


class ObjectionOut(BaseModel):
    id: int
    notice_id: int
    author_name: str
    contact: str
    text: str
    created_at: dt.datetime
    answer: str
    resolved: bool


class SignOffOut(BaseModel):
    stage: str
    person_id: int
    person_name: str
    at: dt.datetime


class ApprovalOut(BaseModel):
    round: int
    role: str
    person_id: int
    person_name: str
    decision: str
    at: dt.datetime


class ProjectSummary(BaseModel):
    id: int
    code: str
    title: str
    community_id: int
    year: int
    state: str
    state_label: str
    version: int
    category: str
    amount: YuanOut
    is_small_group: bool
    is_aid: bool
    links: dict[str, str]


class ProjectList(BaseModel):
    items: list[ProjectSummary]
    total: int
    limit: int
    offset: int


class ProjectDetail(BaseModel):
    id: int
    code: str
    title: str
    description: str
    community: OrgRef
    year: int
    fund_year_id: int
    state: str
    state_label: str
    version: int = Field(description="审计事件数;也是 ETag,修改时放在 If-Match 中")
    category: str
    category_label: str
    category_justification: str
    amount: YuanOut = Field(description="申请(批准后为批准)金额")
    committed: YuanOut
    paid: YuanOut
    released: YuanOut
    beneficiaries_count: int
    beneficiaries_desc: str
    is_small_group: bool
    small_group_marked: bool
    is_aid: bool
    contractor_name: str
    contractor_kind: str
    planned_start: dt.date | None
    planned_end: dt.date | None
    proposer_id: int
    proposer_name: str
    approval_round: int
    received_at: dt.datetime | None
    created_at: dt.datetime
    need_ids: list[int]
    line_items: list[LineItemOut]
    payment_items: list[PaymentItemOut]
    approvals: list[ApprovalOut]
    signoffs: list[SignOffOut]
    concerns: list[ConcernOut]
    objections: list[ObjectionOut]
    deadlines: list[DeadlineOut]
    allowed_events: list[AllowedEvent] = Field(description="调用者当前可执行的操作(按岗位;规则是否满足执行时再判断)")
    links: dict[str, str]


class VerdictOut(BaseModel):
    code: str
    message: str
    article: str
    warning: bool


class OutcomeOut(BaseModel):
    event: str
    from_state: str
    to_state: str
    version: int
    replayed: bool
    data: dict[str, Any]
    verdict: VerdictOut


class ProjectEventResult(ProjectDetail):
    outcome: OutcomeOut


class ProjectCreated(ProjectDetail):
    warnings: list[VerdictOut]


class HistoryEvent(BaseModel):
    seq: int
    event: str
    event_label: str
    at: dt.datetime
    actor_id: int | None
    actor_label: str
    actor_name: str
    role: str
    role_label: str
    from_state: str
    to_state: str
    payload: dict[str, Any]
    reason: str
    hash: str
    prev_hash: str


class History(BaseModel):
    entity_type: str
    entity_id: int
    version: int
    events: list[HistoryEvent]


# ------------------------------------------------------------------------------- fund years


class FundYearOut(BaseModel):
    id: int
    community: OrgRef
    year: int
    state: str
    state_label: str
    version: int
    allocation: YuanOut
    carry_in: YuanOut
    total: YuanOut
    committed: YuanOut
    paid: YuanOut
    available: YuanOut
    small_group_cap: YuanOut = Field(description="受益群体较小项目可占用的上限金额(第七条第(二)项)")
    small_group_cap_ratio: str = Field(examples=["1/5"])
    small_group_committed: YuanOut
    carry_out: YuanOut | None
    policy_version: int
    report: dict[str, Any]
    deadlines: list[DeadlineOut]
    allowed_events: list[AllowedEvent]
    links: dict[str, str]


class FundYearEventResult(FundYearOut):
    outcome: OutcomeOut


class FundYearOpenIn(In):
    community_id: Id
    year: Annotated[int, Field(strict=True, ge=2000, le=2100)]
    carry_in: YuanIn = "0.00"

    _carry = field_validator("carry_in")(check_yuan)


# ----------------------------------------------------------------------------------- public


class NoticeSummary(BaseModel):
    id: int
    community_id: int
    community_name: str
    kind: str
    kind_label: str
    title: str
    project_code: str | None
    starts_at: dt.datetime
    ends_at: dt.datetime
    provisional: bool
    running: bool = Field(description="公示期是否正在进行")
    accepts_objections: bool


class NoticeList(BaseModel):
    items: list[NoticeSummary]
    total: int
    limit: int
    offset: int


class PublicObjection(BaseModel):
    id: int
    author: str = Field(description="已脱敏")
    text: str
    created_at: dt.datetime
    answer: str
    answered_at: dt.datetime | None
    resolved: bool


class NoticeDetail(NoticeSummary):
    body: str = Field(description="公示正文(已脱敏)")
    objections: list[PublicObjection]


class ObjectionIn(In):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{
        "author_name": "王先生", "contact": "13912345678", "text": "建议先维修三号楼的灯,那里最暗。"}]})
    author_name: Text64 = ""
    contact: Text64 = Field("", description="联系方式,不公开")
    text: Req2000


class ObjectionReceipt(BaseModel):
    objection_id: int
    notice_id: int
    received_at: dt.datetime
    message: str


class DisclosureProject(BaseModel):
    code: str
    title: str
    state: str
    amount: YuanOut
    paid: YuanOut


class DisclosureOut(BaseModel):
    community_id: int
    community_name: str
    year: int
    state: str
    state_label: str
    allocation: YuanOut
    carry_in: YuanOut
    total: YuanOut
    committed: YuanOut
    paid: YuanOut
    available: YuanOut
    small_group: YuanOut
    small_group_cap: YuanOut
    service_effect: str
    projects: list[DisclosureProject]
    notice_id: int | None


class CommunityOut(BaseModel):
    id: int
    code: str
    name: str
    area_id: int | None


# ---------------------------------------------------------------------------- administration


class CalendarImportOut(BaseModel):
    year: int
    holidays: int
    makeups: int
    recomputed: int = Field(description="重新计算的期限数")
    replaced: bool


class WorkdayAfterOut(BaseModel):
    start: dt.date
    workdays: int
    date: dt.date = Field(description="第 N 个工作日")
    due_at: dt.datetime = Field(description="该日 24:00(Asia/Shanghai)")
    provisional: bool


class UserIn(In):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{
        "username": "xf_shuji2", "display_name": "张伟", "password": "a-long-passphrase", "phone": ""}]})
    username: Annotated[str, StringConstraints(strict=True, min_length=3, max_length=64,
                                               pattern=r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$")]
    display_name: Req64
    password: Annotated[str, StringConstraints(strict=True, min_length=10, max_length=128)]
    phone: Annotated[str, StringConstraints(strict=True, max_length=32, pattern=r"^[0-9+\- ]*$")] = ""


class UserOut(BaseModel):
    id: int
    username: str
    display_name: str
    active: bool
    posts: list[PostOut]


class UserList(BaseModel):
    items: list[UserOut]


class PostIn(In):
    organisation_id: Id
    role: Role
    valid_from: dt.date
    valid_to: dt.date | None = None


class PostEndIn(In):
    valid_to: dt.date = Field(description="任期最后一天(含)")


class PolicyIn(In):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{
        "city_id": 1, "effective_from": "2027-01-01", "note": "2027 年起提高拨付标准",
        "data": {"allocation_fen": 25000000}}]})
    city_id: Id
    effective_from: dt.date
    note: Req500
    data: dict[str, Any] = Field(description="政策参数(键同 GET 返回的 data;缺省键取细则默认值)", max_length=40)


class PolicyOut(BaseModel):
    id: int
    city_id: int
    version: int
    effective_from: dt.date
    note: str
    data: dict[str, Any]
    created_at: dt.datetime


class PolicyList(BaseModel):
    items: list[PolicyOut]


class AuditVerifyOut(BaseModel):
    ok: bool
    checked: int
    chains: int
    broken: str


class Ping(BaseModel):
    pong: bool = True

