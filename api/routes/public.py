"""The notice board, objections and year-end disclosures: no login (masked for the public)."""
from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Request

from api import queries, services
from api.deps import DB, AppSettings, client_ip, read_in_thread
from api.routes import problems
from api.schemas import CommunityOut, DisclosureOut, NoticeDetail, NoticeList, ObjectionIn, ObjectionReceipt

router = APIRouter(prefix="/public", tags=["public"])
NoticeId = Annotated[int, Path(ge=1, le=2**53, description="公示 id")]


@router.get("/communities", response_model=list[CommunityOut])
async def communities(db: DB) -> list[dict[str, Any]]:
    """全部社区(公示栏按社区查看)。"""
    return await read_in_thread(db, queries.communities)


@router.get("/notices", response_model=NoticeList, responses=problems(422))
async def notices(db: DB,
                  community: Annotated[int | None, Query(ge=1, le=2**53, description="社区 id")] = None,
                  kind: Annotated[Literal["publicity", "completion", "voucher_payment", "disclosure"] | None,
                                  Query(description="公示种类")] = None,
                  running: Annotated[bool | None, Query(description="true: 正在公示;false: 已结束")] = None,
                  limit: Annotated[int, Query(ge=1, le=200)] = 50,
                  offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0) -> dict[str, Any]:
    """公示栏:项目公示、建成公示、无发票支出公示和年度公示(已脱敏)。"""
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


@router.get("/disclosures/{community}/{year}", response_model=DisclosureOut, responses=problems(404, 422))
async def disclosure(community: Annotated[int, Path(ge=1, le=2**53)],
                     year: Annotated[int, Path(ge=2000, le=2100)], db: DB) -> dict[str, Any]:
    """社区年度经费使用情况公示(年度公示开始后可查看,已脱敏)。"""
    return await read_in_thread(db, queries.disclosure, community, year)
