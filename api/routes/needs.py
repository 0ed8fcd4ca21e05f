"""Residents' needs collected by the community committee (Art. 6, 9)."""
from __future__ import annotations

from typing import Annotated, Any

from fastapi import Path, Query

from api import public as public_side
from api import queries, services
from api.deps import DB, CurrentViewer, read_in_thread
from api.routes import Router, problems
from api.schemas import NeedAnswerIn, NeedIn, NeedOut

router = Router(prefix="/needs", tags=["needs"])


@router.post("", response_model=NeedOut, status_code=201, responses=problems(401, 403, 404, 413, 415, 422))
def create_need(body: NeedIn, viewer: CurrentViewer, db: DB) -> dict[str, Any]:
    """登记一条群众需求(社区党委书记或社区工作者)。"""
    return services.create_need(db, viewer, body)


@router.get("", response_model=list[NeedOut], responses=problems(401, 403, 404, 422))
async def list_needs(viewer: CurrentViewer, db: DB,
                     community: Annotated[int | None, Query(ge=1, le=2**53, description="社区 id;缺省为可查看的全部社区")] = None,
                     limit: Annotated[int, Query(ge=1, le=200)] = 50,
                     offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0) -> list[dict[str, Any]]:
    """群众需求列表(本社区、所属大社区的岗位及市管理员可查看)。"""
    return await read_in_thread(db, queries.list_needs, viewer, community, limit, offset)


@router.post("/{need_id}/answer", response_model=NeedOut, responses=problems(401, 403, 404, 409, 413, 415, 422))
def answer_need(need_id: Annotated[int, Path(ge=1, le=2**53)], body: NeedAnswerIn, viewer: CurrentViewer,
                db: DB) -> dict[str, Any]:
    """答复一条群众需求(本社区的社区党委书记或社区工作者;每条需求答复一次,居民凭回执码可见)。"""
    return public_side.answer_need(db, viewer, need_id, body.answer)
