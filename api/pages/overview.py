"""The area and city overview (working committee, finance, city administrators) and a community's
whole trail (supervisors and everyone who may read the community)."""
from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import RedirectResponse, Response

from api.pages import read, reads
from api.pages.documents import area_summaries
from api.pages.render import render
from api.pages.session import page_viewer
from rules import inspection as r_inspection
from workflow import clock

router = APIRouter(include_in_schema=False)


@router.get("/overview")
async def overview(request: Request, year: Annotated[int | None, Query(ge=2000, le=2100)] = None,
                   sort: str = "community", order: str = "asc",
                   offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0) -> Response:
    viewer = await page_viewer(request)
    chosen = year or clock.today().year
    data = await read(request, reads.overview, viewer, chosen, sort if sort in reads.OVERVIEW_SORTS else "community",
                      order == "desc", offset)
    summaries = await read(request, area_summaries, viewer, chosen)
    can_inspect = bool({p.role for p in viewer.posts} & r_inspection.READERS)  # as the navigation's 检查
    return render(request, "overview.html", {"data": data, "sorts": reads.OVERVIEW_SORTS, "summaries": summaries,
                                             "can_inspect": can_inspect,
                                             "years": list(range(clock.today().year + 1, clock.today().year - 5, -1))},
                  viewer=viewer, title="总览")


@router.get("/trail")
async def trail(request: Request, community: Annotated[int | None, Query(ge=1, le=2**53)] = None,
                before: Annotated[int | None, Query(ge=1, le=2**62)] = None) -> Response:
    viewer = await page_viewer(request)
    if community is None:
        mine = [p.organisation_id for p in viewer.posts if p.org_level == "community"]
        if mine:
            return RedirectResponse(f"/trail?community={mine[0]}", status_code=303)
        return RedirectResponse("/overview", status_code=303)
    data = await read(request, reads.trail, viewer, community, before)
    return render(request, "trail.html", {"data": data}, viewer=viewer, title=f"{data['community_name']} 全程记录")
