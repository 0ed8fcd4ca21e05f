"""The caller, the workflow definitions, the calendar, and a trivial ping."""
from __future__ import annotations

from typing import Annotated, Any

from fastapi import Query

from api import queries
from api.deps import DB, CurrentViewer, read_in_thread
from api.routes import Router, problems
from api.schemas import MeOut, Ping, WorkdayAfterOut
from workflow.describe import describe
from workflow.fields import Date

router = Router(tags=["system"])


@router.get("/ping", response_model=Ping)
async def ping() -> dict[str, bool]:
    """不访问数据库的最简接口(用于基准对比与负载均衡探测)。"""
    return {"pong": True}


@router.get("/me", response_model=MeOut, responses=problems(401))
def me(viewer: CurrentViewer) -> dict[str, Any]:
    """当前用户及其今日在任的岗位。"""
    return queries.me(viewer)


@router.get("/workflow", responses=problems(401))
def workflow(viewer: CurrentViewer) -> dict[str, Any]:
    """项目流程与经费年度流程的定义(状态、操作、岗位、规则、条款、计时)。"""
    return describe()


@router.get("/calendar/workday-after", response_model=WorkdayAfterOut, responses=problems(401, 422))
async def workday_after(viewer: CurrentViewer, db: DB, date: Annotated[Date, Query(description="起算日 YYYY-MM-DD(当日不计)")],
                        n: Annotated[int, Query(ge=1, le=400, description="工作日数")]) -> dict[str, Any]:
    """``date`` 之后第 ``n`` 个工作日(``date`` 当天不计),期限在该日 24:00 届满。"""
    return await read_in_thread(db, queries.workday_after, date, n)
