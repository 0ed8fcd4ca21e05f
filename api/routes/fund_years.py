"""Fund years: figures, events, history; opening a year (city administrators)."""
# no ``from __future__ import annotations``: the event routes are built from models made at run time
from typing import Annotated, Any

from fastapi import Body, Depends, Path, Response

from api import queries, services
from api.deps import DB, CurrentViewer, expected_version, read_in_thread
from api.routes import Router, problems
from api.routes.events import article, event_body_model, label, roles_text, split, user_triggers
from api.schemas import FundYearEventResult, FundYearOpenIn, FundYearOut, History

router = Router(prefix="/fund-years", tags=["fund years"])
Community = Annotated[int, Path(ge=1, le=2**53, description="社区 id")]
Year = Annotated[int, Path(ge=2000, le=2100, description="年度")]
IfMatch = Annotated[int | None, Depends(expected_version)]


@router.post("", response_model=FundYearOut, status_code=201, responses=problems(401, 403, 404, 409, 413, 415, 422))
def open_year(body: FundYearOpenIn, viewer: CurrentViewer, db: DB) -> dict[str, Any]:
    """开放一个社区的经费年度(按政策拨付,第五条;市管理员)。"""
    return services.open_year(db, viewer, body.community_id, body.year, body.carry_in)


@router.get("/{community}/{year}", response_model=FundYearOut, responses=problems(401, 403, 404, 422))
async def get_fund_year(community: Community, year: Year, viewer: CurrentViewer, db: DB,
                        response: Response) -> dict[str, Any]:
    """经费年度:拨付、上年结转、已承诺、已支付、可用余额、受益群体较小项目上限及占用。"""
    detail = await read_in_thread(db, queries.fund_year_detail, viewer, community, year)
    response.headers["ETag"] = f'"{detail["version"]}"'
    return detail


@router.get("/{community}/{year}/history", response_model=History, responses=problems(401, 403, 404, 422))
async def fund_year_history(community: Community, year: Year, viewer: CurrentViewer, db: DB) -> dict[str, Any]:
    """经费年度的审计事件。"""
    return await read_in_thread(db, queries.fund_year_history, viewer, community, year)


def _add_event_route(trigger: str) -> None:
    model = event_body_model("fund_year", trigger)

    def fire(community: Community, year: Year, viewer: CurrentViewer, db: DB, response: Response, version: IfMatch,
             body: Annotated[model | None, Body()] = None) -> dict[str, Any]:  # type: ignore[valid-type]
        payload, reason, as_role = split(body)
        outcome, detail = services.fire_fund_year_event(db, viewer, community, year, trigger, payload, reason=reason,
                                                        as_role=as_role, expected_version=version)
        detail["outcome"] = queries.outcome_out(outcome, trigger)
        response.headers["ETag"] = f'"{detail["version"]}"'
        return detail

    router.add_api_route(
        f"/{{community}}/{{year}}/events/{trigger}", fire, methods=["POST"], response_model=FundYearEventResult,
        name=f"fund_year_event_{trigger}", operation_id=f"fund_year_event_{trigger}",
        summary=f"{label('fund_year', trigger)}({trigger})",
        description=(f"触发经费年度操作「{label('fund_year', trigger)}」({article('fund_year', trigger)})。"
                     f"{roles_text('fund_year', trigger)}。"),
        responses=problems(401, 403, 404, 409, 412, 413, 415, 422))


for _trigger in user_triggers("fund_year"):
    _add_event_route(_trigger)
