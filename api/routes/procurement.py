"""The procurement catalogue (政府采购目录, Art. 12): what a line item's code is chosen from."""
from __future__ import annotations

from typing import Annotated, Any

from fastapi import Query

from api import queries
from api.deps import DB, CurrentViewer, read_in_thread
from api.routes import Router, problems
from api.schemas import CatalogOut

router = Router(prefix="/procurement-catalog", tags=["policy"])


@router.get("", response_model=CatalogOut, responses=problems(401, 403, 404, 422))
async def procurement_catalog(
        viewer: CurrentViewer, db: DB,
        community: Annotated[int, Query(ge=1, le=2**53, description="社区 id")],
        year: Annotated[int | None, Query(ge=2000, le=2100, description="经费年度;缺省为今日生效的政策")] = None,
) -> dict[str, Any]:
    """政府采购目录(第十二条):项目支出明细按编码选择其中的品目。给出年度时为该年度经费所适用政策版本的目录
    (该年度的项目均按此校验),否则为本市今日生效的政策版本的目录。"""
    return await read_in_thread(db, queries.procurement_catalog, viewer, community, year)
