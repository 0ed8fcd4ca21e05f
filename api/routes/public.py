"""The notice board, objections and year-end disclosures: no login (masked for the public)."""
from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import Path, Query, Request

from api import public as public_side
from api import queries, services
from api.deps import DB, AppSettings, client_ip, read_in_thread
from api.routes import Router, problems
from api.schemas import (
    AuditRootList,
    CommunityOut,
    DisclosureOut,
    NoticeDetail,
    NoticeList,
    ObjectionIn,
    ObjectionReceipt,
    ProjectTimeline,
    PublicNeedIn,
    PublicNeedReceipt,
    ReceiptOut,
    ResidentReceipt,
)
from workflow.fields import Date

router = Router(prefix="/public", tags=["public"])
NoticeId = Annotated[int, Path(ge=1, le=2**53, description="公示 id")]


@router.get("/communities", response_model=list[CommunityOut])
async def communities(db: DB) -> list[dict[str, Any]]:
    """全部社区(公示栏按社区查看)。"""
    return await read_in_thread(db, queries.communities)


@router.get("/notices", response_model=NoticeList, responses=problems(422))
async def notices(db: DB,
                  community: Annotated[int | None, Query(ge=1, le=2**53, description="社区 id")] = None,
                  kind: Annotated[Literal["publicity", "completion", "voucher_payment", "disclosure", "termination"] | None,
                                  Query(description="公示种类")] = None,
                  running: Annotated[bool | None, Query(description="true: 正在公示;false: 已结束")] = None,
                  limit: Annotated[int, Query(ge=1, le=200)] = 50,
                  offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0) -> dict[str, Any]:
    """公示栏:项目公示、建成公示、无发票支出公示、项目终止公示和年度公示(已脱敏)。"""
    return await read_in_thread(db, queries.public_notices, community, kind, running, limit, offset)


@router.get("/notices/{notice_id}", response_model=NoticeDetail, responses=problems(404, 422))
async def notice(notice_id: NoticeId, db: DB) -> dict[str, Any]:
    """一则公示的正文及群众意见与答复(已脱敏,不含联系方式)。"""
    return await read_in_thread(db, queries.public_notice, notice_id)


@router.post("/notices/{notice_id}/objections", response_model=ObjectionReceipt, status_code=201,
             responses=problems(404, 409, 413, 415, 422, 429))
def object_to_notice(notice_id: NoticeId, body: ObjectionIn, request: Request, db: DB,
                     settings: AppSettings) -> dict[str, Any]:
    """居民在公示期内提出异议(无需登录;同一 IP 每 10 分钟至多 5 次)。联系方式不公开。"""
    return services.submit_objection(db, settings, notice_id, body.model_dump(), client_ip(request))


ReceiptCode = Annotated[str, Path(min_length=1, max_length=32, description="异议回执码")]


@router.get("/objections/receipt/{code}", response_model=ReceiptOut, responses=problems(404, 422, 429))
def objection_receipt(code: ReceiptCode, request: Request, db: DB, settings: AppSettings) -> dict[str, Any]:
    """凭回执码查看异议的处理情况:已收到、已答复、经监督委员会确认或已由本人接受;答复内容(已脱敏)。"""
    return services.objection_receipt(db, settings, code, client_ip(request))


@router.post("/objections/receipt/{code}/accept", response_model=ReceiptOut,
             responses=problems(404, 409, 422, 429))
def accept_answer(code: ReceiptCode, request: Request, db: DB, settings: AppSettings) -> dict[str, Any]:
    """居民凭回执码接受社区党委的答复,该异议即告解决(记入审计;同一 IP 每 10 分钟至多 5 次)。"""
    return services.accept_objection_answer(db, settings, code, client_ip(request))


@router.get("/disclosures/{community}/{year}", response_model=DisclosureOut, responses=problems(404, 422))
async def disclosure(community: Annotated[int, Path(ge=1, le=2**53)],
                     year: Annotated[int, Path(ge=2000, le=2100)], db: DB) -> dict[str, Any]:
    """社区年度经费使用情况公示(年度公示开始后可查看,已脱敏)。"""
    return await read_in_thread(db, queries.disclosure, community, year)


@router.get("/audit/roots", response_model=AuditRootList, responses=problems(422))
async def audit_roots(db: DB,
                      since: Annotated[Date | None, Query(description="自该日起(含)")] = None,
                      until: Annotated[Date | None, Query(description="至该日止(含)")] = None,
                      limit: Annotated[int, Query(ge=1, le=400)] = 30,
                      offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0) -> dict[str, Any]:
    """审计签名根(每日一个,最新在前):全部审计链链头的默克尔根、Ed25519 签名与公钥。

    任何人可保存这些签名根,日后用公钥核验签名、与系统当时的记录比对(`fundflow audit verify --published FILE`):
    签名之前的审计记录此后若被改写或删除,即可发现。"""
    return await read_in_thread(db, queries.audit_roots, since, until, limit, offset)
# ------------------------------------------------------------- residents: needs, receipts, timelines (issue 9)

ReceiptCodePath = Annotated[str, Path(min_length=1, max_length=32, description="回执码")]


@router.post("/needs", response_model=PublicNeedReceipt, status_code=201, responses=problems(404, 409, 413, 415, 422, 429))
def post_need(body: PublicNeedIn, request: Request, db: DB, settings: AppSettings) -> dict[str, Any]:
    """居民点单:居民在线提交需求(无需登录;渠道为“线上平台”;同一 IP 每 10 分钟至多 5 次)。联系电话不公开。
    返回回执码,凭它查看答复和形成的项目。"""
    return public_side.post_need(db, settings, body.model_dump(), client_ip(request))


@router.get("/needs/receipt/{code}", response_model=ResidentReceipt, responses=problems(404, 422, 429))
def need_receipt(code: ReceiptCodePath, request: Request, db: DB, settings: AppSettings) -> dict[str, Any]:
    """凭回执码查看需求(或异议)的处理情况:已收到、社区答复、形成的项目及其执行进度(已脱敏)。
    不存在的回执码计入查询次数限制。"""
    return public_side.lookup_receipt(db, settings, code, client_ip(request))


@router.get("/projects/{code}/timeline", response_model=ProjectTimeline, responses=problems(404, 422))
async def project_timeline(code: Annotated[str, Path(min_length=1, max_length=32, description="项目编号")],
                           db: DB) -> dict[str, Any]:
    """项目执行进度(面向居民):提议 → 联席会议 → 公示 → 审批 → 实施 → 验收 → 拨付 → 建成公示(已脱敏)。"""
    return await read_in_thread(db, public_side.project_timeline, code)
