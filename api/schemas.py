"""Request and response bodies of the HTTP API (the OpenAPI schema is generated from these).

Money is always a yuan string with two decimals ("12345.67"); a number or a boolean in its place is
refused. Text is bounded. Instants are ISO 8601 in Asia/Shanghai (+08:00).
"""
from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StringConstraints

from rules.project import FORBIDDEN_USES
from workflow.fields import (  # noqa: F401
    MAX_ID,
    YUAN_PATTERN,
    CodeText,
    Date,
    Id,
    Length,
    LineText,
    MultilineText,
    Range,
    SecretText,
    StrictInt,
    Year,
)
from workflow.fields import Yuan as YuanIn

YuanOut = Annotated[str, Field(pattern=r"^-?[0-9]+\.[0-9]{2}$", examples=["12000.00"])]

# bounded text (workflow.fields: no control characters): Text<max> (may be empty), Req<max> (at least one
# character); up to 200 characters a single line, from 500 on multi-line
Text64 = Annotated[LineText, Length(64)]
Req64 = Annotated[LineText, Length(64, 1)]
Text100 = Annotated[LineText, Length(100)]
Text200 = Annotated[LineText, Length(200)]
Req200 = Annotated[LineText, Length(200, 1)]
Req500 = Annotated[MultilineText, Length(500, 1)]
Text2000 = Annotated[MultilineText, Length(2000)]
Req2000 = Annotated[MultilineText, Length(2000, 1)]
Text5000 = Annotated[MultilineText, Length(5000)]
Req5000 = Annotated[MultilineText, Length(5000, 1)]


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
    residents_count: Annotated[StrictInt, Range(1, 1_000_000)] = 1


class NeedOut(BaseModel):
    id: int
    community_id: int
    title: str
    description: str
    channel: str
    residents_count: int
    recorded_by: int | None = Field(description="登记的工作人员;居民在公示栏自行提交(居民点单)时为空")
    created_at: dt.datetime
    answer: str = Field("", description="社区党委的答复(居民凭回执码可见)")
    answered_at: dt.datetime | None = None


# --------------------------------------------------------------------------------- projects


class LineItemIn(In):
    description: Req200
    quantity: Annotated[StrictInt, Range(1, 100_000)]
    unit_price: YuanIn
    catalog_item: Annotated[CodeText, Length(32), Field(
        description="所属政府采购目录品目的编码(第十二条),取自 GET /api/v1/procurement-catalog",
        examples=["C23120000"])] = ""


class ProjectIn(In):
    """A proposal (Art. 9): one project answers one matter and links the needs it answers."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{
        "community_id": 3, "year": 2026, "title": "老旧小区路灯维修", "description": "更换小区内损坏路灯。",
        "category": "property", "amount": "12000.00", "beneficiaries_count": 300, "beneficiaries_desc": "小区居民",
        "contractor_name": "xx市照明工程有限公司", "contractor_kind": "organisation", "is_aid": False,
        "planned_start": "2026-03-01", "planned_end": "2026-11-30",
        "forbidden_use_declaration": {k: False for k in FORBIDDEN_USES}, "need_ids": [1],
        "line_items": [{"description": "LED 路灯", "quantity": 2, "unit_price": "6000.00",
                        "catalog_item": "C23120000"}]}]})
    community_id: Id
    year: Year
    title: Req200
    description: Req5000
    category: Category
    amount: YuanIn
    beneficiaries_count: Annotated[StrictInt, Range(0, 10_000_000)]
    beneficiaries_desc: Text2000 = ""
    contractor_name: Text200 = ""
    contractor_kind: Literal["organisation", "individual"] = "organisation"
    is_aid: StrictBool = False
    small_group_marked: StrictBool = False
    planned_start: Date | None = None
    planned_end: Date | None = None
    category_justification: Text2000 = ""
    forbidden_use_declaration: dict[Literal["office", "worker_pay", "government_service", "city_funded",
                                            "property_company"], StrictBool] = Field(default_factory=dict)
    keyword_flags_answer: Text2000 = ""
    need_ids: list[Id] = Field(default_factory=list, max_length=50)
    line_items: list[LineItemIn] = Field(default_factory=list, max_length=100)


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
    lapsed: bool = Field(description="付款事项作废后签字失效(保留于审计记录)")


class PaymentItemOut(BaseModel):
    id: int
    kind: Literal["invoice", "voucher"]
    amount: YuanOut
    payee: str
    payee_account: str
    invoice_no: str
    issuer_tax_id: str = Field(description="开票方纳税人识别号(未填为空)")
    status: Literal["open", "paid", "cancelled"]
    cancelled_at: dt.datetime | None = Field(description="作废时间")
    cancel_reason: str = Field(description="作废理由")
    signatures: list[SignatureOut]
    evidence: list[str] = Field(description="已登记的无发票凭证材料种类")


class LineItemOut(BaseModel):
    id: int
    description: str
    quantity: int
    unit_price: YuanOut
    amount: YuanOut
    catalog_item: str = Field(description="政府采购目录品目编码")
    catalog_name: str = Field(description="该编码在项目所适用政策版本的目录中的名称")
    flagged_keywords: list[str]
    flag_decision: Literal["", "cleared", "upheld"] = Field(description="党工委对禁止用途提示的认定(第四条)")
    flag_decided_by: int | None
    flag_decided_at: dt.datetime | None
    flag_note: str


class ConcernOut(BaseModel):
    id: int
    text: str
    raised_by: int
    created_at: dt.datetime
    resolved: bool
    resolution: str


ObjectionStatus = Literal["received", "answered", "confirmed", "accepted", "resolved"]


class ObjectionOut(BaseModel):
    id: int
    notice_id: int
    author_name: str
    contact: str
    text: str
    created_at: dt.datetime
    answer: str
    answered_by: int | None
    answered_at: dt.datetime | None
    resolved: bool = Field(description="已解决:监督委员会确认答复,或居民接受答复(答复本身不算解决)")
    status: ObjectionStatus
    resolved_by: int | None = Field(description="确认答复的监督委员会成员(居民接受时为空)")
    resolved_at: dt.datetime | None
    resolution_comment: str


class SignOffOut(BaseModel):
    stage: str
    person_id: int
    person_name: str
    at: dt.datetime
    voided_at: dt.datetime | None = Field(description="验收未通过时该轮验收监督签字作废的时刻")


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


class ProjectEventMinimal(BaseModel):
    """The answer to an event sent with ``Prefer: return=minimal`` (RFC 7240): the outcome, the new state
    and version (also the ``ETag``); the project itself is at ``links.self``."""

    model_config = ConfigDict(extra="forbid")
    id: int
    state: str
    state_label: str
    version: int = Field(description="审计事件数;也是 ETag,修改时放在 If-Match 中")
    outcome: OutcomeOut
    links: dict[str, str]


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


class CatalogItemOut(BaseModel):
    code: str = Field(examples=["C23120000"])
    name: str = Field(examples=["维修和保养服务"])


class CatalogOut(BaseModel):
    """The procurement catalogue (政府采购目录, 第十二条) of one policy version: a line item names one of its codes."""

    community_id: int
    year: int | None = Field(description="给出年度时为该年度经费所适用的政策版本,否则为今日生效的政策版本")
    policy_version: int
    effective_from: dt.date
    items: list[CatalogItemOut]


class FundYearOpenIn(In):
    community_id: Id
    year: Year
    carry_in: YuanIn = "0.00"


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
    status: ObjectionStatus


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
    receipt_code: str = Field(description="回执码:凭此查看处理情况并接受答复(只告知提出人,请妥善保存)")
    receipt_url: str
    message: str


class ReceiptOut(BaseModel):
    """A resident's objection as its receipt shows it (masked; no contact details)."""

    receipt_code: str
    status: ObjectionStatus
    status_label: str
    notice_id: int
    project_code: str
    project_title: str
    text: str
    created_at: dt.datetime
    answer: str
    answered_at: dt.datetime | None
    resolved_at: dt.datetime | None
    can_accept: bool = Field(description="已答复、尚未解决,且项目仍在处理异议的环节")
    links: dict[str, str]


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
    password: Annotated[SecretText, Length(128, 10)]
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
    valid_from: Date
    valid_to: Date | None = None


class PostEndIn(In):
    valid_to: Date = Field(description="任期最后一天(含)")


class PolicyIn(In):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{
        "city_id": 1, "effective_from": "2027-01-01", "note": "2027 年起提高拨付标准",
        "data": {"allocation_fen": 25000000}}]})
    city_id: Id
    effective_from: Date
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
    roots: int = Field(0, description="签名根个数")
    anchored_events: int = Field(0, description="最近签名根覆盖的审计事件数")
    problems: list[str] = Field(default_factory=list, description="发现的全部问题(链、签名根、业务表)")


class Ping(BaseModel):
    pong: bool = True



# ------------------------------------------------------------- organisations and roster (workflow.org)
# Text fields are bounded generously here: rules.org checks them and answers with its article (第二条); control
# characters are refused like everywhere (workflow.fields).

OrgText = Annotated[LineText, Length(400)]


class OrgIn(In):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{
        "level": "community", "code": "S06", "name": "向阳社区", "parent_id": 2}]})
    level: OrgText = Field(description="area(大社区,隶属于市)| community(社区,隶属于大社区)")
    code: OrgText = Field(description="组织代码:1–32 位字母、数字、“-”或“_”,全系统唯一")
    name: OrgText = Field(description="名称,同一上级下不重名")
    parent_id: Id = Field(description="上级组织(市或大社区)的 id")


class OrgRenameIn(In):
    name: OrgText = Field(description="新名称")


class OrgMoveIn(In):
    area_id: Id = Field(description="同一市内的另一个大社区的 id")
    reason: Annotated[MultilineText, Length(500)] = ""


class OrgCloseIn(In):
    reason: Annotated[MultilineText, Length(2000)] = Field(description="撤销原因(2–500 字)")


class OrgOut(BaseModel):
    id: int
    code: str
    name: str
    level: Literal["city", "area", "community"]
    level_label: str
    parent_id: int | None
    parent_code: str
    closed_on: dt.date | None = Field(description="撤销日期;未撤销为 null")


class OrgList(BaseModel):
    items: list[OrgOut] = Field(description="市、其下各大社区及其社区(按树的顺序)")


class FrozenYearOut(BaseModel):
    fund_year_id: int
    year: int
    allocation: YuanOut
    carry_in: YuanOut


class OrgClosedOut(OrgOut):
    ended_posts: int = Field(description="随之结束任期的岗位数")
    frozen_fund_years: list[FrozenYearOut] = Field(description="随社区冻结的、尚无项目的执行中年度")


class RosterErrorOut(BaseModel):
    row: int = Field(description="表格中的行号(表头为第 1 行);0 表示整个文件")
    column: str
    letter: str = Field(description="列字母(A、B……)")
    message: str


class RosterImportOut(BaseModel):
    rows: int
    areas_created: int
    communities_created: int
    orgs_renamed: int
    orgs_unchanged: int
    people_created: int
    people_updated: int
    people_unchanged: int
    posts_created: int
    posts_updated: int
    posts_unchanged: int
    without_password: int = Field(description="尚未设置密码、暂不能登录的人数(需激活码)")
    document_sha256: str
    dry_run: bool


class ActivationOut(BaseModel):
    username: str
    code: str = Field(description="一次性激活码(只显示这一次)")
    expires_at: dt.datetime


class ActivateIn(In):
    username: Annotated[LineText, Length(64)]
    code: Annotated[CodeText, Length(64)]
    password: Annotated[SecretText, Length(400)]


class ActivateOut(BaseModel):
    username: str
    message: str


# ------------------------------------------------------------- residents: needs, receipts, timelines (issue 9)


class PublicNeedIn(In):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{
        "community_id": 3, "title": "5号楼2单元楼道灯不亮", "description": "晚上上下楼看不清,老人摔过跤。",
        "author_name": "王女士", "contact": "13912345678"}]})
    community_id: Id
    title: Annotated[str, StringConstraints(strict=True, max_length=400)] = Field(description="一句话写明需求(4–100 字)")
    description: Annotated[str, StringConstraints(strict=True, max_length=4000)] = ""
    author_name: Annotated[str, StringConstraints(strict=True, max_length=64)] = Field("", description="称呼,可不填;公开时只显示姓氏")
    contact: Annotated[str, StringConstraints(strict=True, max_length=64)] = Field("", description="联系电话,可不填;不公开")


class PublicNeedReceipt(BaseModel):
    need_id: int
    receipt_code: str = Field(description="回执码(10 位字母和数字),凭它查看处理情况")
    receipt_url: str
    page_url: str = Field(description="回执页面(公示栏)")
    received_at: dt.datetime
    message: str


class NeedAnswerIn(In):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{
        "answer": "已纳入本季度项目计划,联席会议通过并公示后实施。"}]})
    answer: Annotated[str, StringConstraints(strict=True, max_length=4000)] = Field(description="答复(4–1000 字),居民凭回执码可见")


class TimelineNotice(BaseModel):
    id: int
    kind: str
    kind_label: str
    title: str
    starts_at: dt.datetime
    ends_at: dt.datetime
    running: bool


class Milestone(BaseModel):
    key: str = Field(description="proposal | meeting | notice | approval | works | acceptance | payment | completion")
    label: str
    help: str
    status: str = Field(description="done | current | pending | stopped")
    status_label: str
    at: dt.datetime | None
    notes: list[str]
    notice: TimelineNotice | None


class TimelineLineItem(BaseModel):
    description: str
    quantity: int
    unit_price: YuanOut
    amount: YuanOut


class TimelineNeed(BaseModel):
    title: str
    channel_label: str
    created_at: dt.datetime


class ProjectTimeline(BaseModel):
    code: str
    title: str
    community_id: int
    community_name: str
    category: str
    category_label: str
    description: str
    amount: YuanOut
    paid: YuanOut
    beneficiaries_count: int
    beneficiaries_desc: str
    contractor: str = Field(description="承办方(帮扶资助的个人只显示姓氏)")
    is_aid: bool
    state: str
    state_label: str
    planned_start: dt.date | None
    planned_end: dt.date | None
    line_items: list[TimelineLineItem]
    needs: list[TimelineNeed]
    notices: list[TimelineNotice]
    milestones: list[Milestone]


class ReceiptStep(BaseModel):
    label: str
    at: dt.datetime | None
    done: bool
    text: str


class ResidentReceipt(BaseModel):
    kind: str = Field(description="need(群众需求) | objection(公示异议)")
    kind_label: str
    code: str
    community_id: int
    community_name: str
    title: str
    text: str
    author: str = Field(description="提交人(只显示姓氏)")
    channel_label: str
    created_at: dt.datetime
    status: str = Field(description="need: received | answered | project;objection: received | answered | confirmed | accepted | resolved")
    status_label: str
    answer: str
    answered_at: dt.datetime | None
    steps: list[ReceiptStep]
    projects: list[ProjectTimeline]
    can_accept: bool = Field(description="可凭回执码接受答复(异议已答复、尚未解决)")
# ------------------------------------------------------------------------- audit anchors (public)


class AuditRootOut(BaseModel):
    seq: int = Field(description="签名根序号(1, 2, 3 …,每个签名根记有前一个的记录哈希)")
    day: dt.date = Field(description="签署日(北京时间)")
    signed_at: dt.datetime = Field(description="签署时刻(UTC)")
    chains: int = Field(description="覆盖的审计链条数")
    events: int = Field(description="覆盖的审计事件数")
    state_root: str = Field(description="全部审计链链头(类型、编号、长度、链头哈希)的默克尔根,sha256 十六进制")
    delta_root: str = Field(description="本次有变化的链头的默克尔根")
    delta_count: int
    prev_hash: str = Field(description="前一签名根的记录哈希(第一个为 64 个 0)")
    record_hash: str = Field(description="被签名消息的 sha256")
    key_id: str = Field(description="签名公钥 sha256 的前 16 位")
    public_key: str = Field(description="Ed25519 公钥(原始 32 字节,十六进制)")
    signature: str = Field(description="对 message 的 Ed25519 签名(十六进制)")
    message: str = Field(description="被签名的消息(ASCII),字段以 | 分隔")


class PublicKeyOut(BaseModel):
    key_id: str
    public_key: str = Field(description="Ed25519 公钥(原始 32 字节,十六进制)")


class AuditRootList(BaseModel):
    items: list[AuditRootOut]
    total: int
    limit: int
    offset: int
    algorithm: str = Field(description="签名算法")
    public_keys: list[PublicKeyOut] = Field(description="本系统配置的签名公钥(核验签名时应使用另行公布的公钥比对)")




# ---------------------------------------------------------------------------- documents (issue 10)


class DocumentRef(BaseModel):
    kind: str = Field(description="文件种类,如 application_form、notice、payment_voucher")
    kind_label: str
    object_id: int = Field(description="文件所依据的记录 id(项目、公示、会议、付款事项……)")
    title: str
    public: bool = Field(description="公开文件(公示)无需登录即可下载")
    url: str = Field(description="下载地址(PDF)")


class DocumentList(BaseModel):
    items: list[DocumentRef]
    links: dict[str, str] = Field(description="其他下载:明细账(xlsx)、档案(zip)等")


class VerifyFact(BaseModel):
    label: str
    value: str


class VerifyOut(BaseModel):
    code: str = Field(examples=["K7QF-2M9C-XR4D"])
    genuine: bool = Field(description="是否为 fundflow 出具的文件(未知核验码返回 404)")
    current: bool = Field(description="是否为现行版本(记录更新后旧版即失效)")
    status: Literal["current", "superseded"]
    message: str
    kind: str
    kind_label: str
    title: str
    public: bool
    community_id: int
    community_name: str
    record: dict[str, Any] = Field(description="文件所属的记录(项目或经费年度)")
    as_of: dt.datetime = Field(description="文件数据截至的时刻(文件所署日期)")
    issued_at: dt.datetime = Field(description="fundflow 首次出具该版本的时刻")
    superseded_by: str | None = Field(description="替代它的现行版本的核验码")
    superseded_at: dt.datetime | None = Field(description="记录更新的时刻")
    pdf_sha256: str | None
    facts: list[VerifyFact] = Field(description="供与纸面核对的要点(现行版本)")
    links: dict[str, str]


# ---------------------------------------------------------------------------- red flags (issue 13)


class FlagEvidence(BaseModel):
    kind: str = Field(description="依据种类:project、payment_item、line_item、meeting、followup、acceptance、approval、"
                                  "objection、post、audit_event、document、amount")
    ref: str = Field(description="记录 id、审计事件 id、存档文件 sha256,或金额(元)")
    label: str


class FlagDismissal(BaseModel):
    by: str = Field(description="排除人")
    by_id: int
    at: dt.datetime
    reason: str
    event_id: int = Field(description="记录排除的审计事件 id")


class FlagOut(BaseModel):
    key: str = Field(description="疑点的稳定标识(数据不变则不变;排除时引用)", examples=["split_project-1a2b3c4d5e6f7a8b"])
    code: str = Field(examples=["flag.split_project"])
    article: str = Field(examples=["第九条、第十二条、第十九条"])
    title: str
    message: str
    community_id: int | None = Field(description="所涉社区;跨社区的疑点为 null")
    community_code: str
    community_name: str
    evidence: list[FlagEvidence]
    dismissed: bool
    dismissal: FlagDismissal | None


class FlagList(BaseModel):
    area: str
    year: int
    community: str | None
    flags: list[FlagOut]


class FlagDismissIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    year: Year
    reason: Text2000 = Field("", description="排除理由(必填,记入审计)")
