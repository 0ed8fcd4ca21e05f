"""Fund years: the list, and one community's year — its figures, the small-group share against the
20% line, projects, ledger, documents, timeline, and the report, evaluation, disclosure and carry-over
steps as event forms (Art. 5, 13, 15, 16)."""
from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from api import queries, services
from api.auth import Viewer
from api.pages import database, read, reads
from api.pages.charts import small_group_chart
from api.pages.diagram import state_diagram
from api.pages.documents import year_papers
from api.pages.events import Failed, event_forms, orphan_refusal, post_event
from api.pages.forms import FormContext
from api.pages.projects import timeline
from api.pages.render import render
from api.pages.session import page_viewer
from rules.money import parse_yuan
from workflow import clock
from workflow.machines import workflow_for

router = APIRouter(include_in_schema=False)
Community = Annotated[int, Path(ge=1, le=2**53)]
Year = Annotated[int, Path(ge=2000, le=2100)]


@router.get("/fund-years")
async def fund_year_list(request: Request, year: Annotated[int | None, Query(ge=2000, le=2100)] = None,
                         offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0) -> Response:
    viewer = await page_viewer(request)
    data = await read(request, reads.fund_years, viewer, year, offset)
    return render(request, "fund_years.html", {**data, "year": year}, viewer=viewer, title="经费年度")


def _page(session: Session, viewer: Viewer, community: int, year: int, failed: Failed | None) -> dict[str, Any]:
    detail = queries.fund_year_detail(session, viewer, community, year)
    history = queries.fund_year_history(session, viewer, community, year)
    ctx = FormContext(session=session, viewer=viewer, record=detail)
    total = parse_yuan(detail["total"])
    chart = small_group_chart(total, parse_yuan(detail["small_group_cap"]), parse_yuan(detail["small_group_committed"]),
                              0, detail["small_group_cap_ratio"])
    forms = event_forms("fund_year", detail, f"/fund-years/{community}/{year}", ctx, failed)
    return {"fy": detail, "timeline": timeline(history, "fund_year"), "refusal": orphan_refusal(forms, failed),
            "projects": reads.fund_year_projects(session, detail["id"]),
            "ledger": reads.ledger(session, detail["id"]), "documents": reads.documents(session, "fund_year", detail["id"]),
            "papers": year_papers(session, detail["id"], community, year),
            "chart": chart, "forms": forms,
            "deadline_kinds": reads.DEADLINE_KINDS}


async def _render(request: Request, viewer: Viewer, community: int, year: int, failed: Failed | None = None,
                  status: int = 200) -> Response:
    context = await read(request, _page, viewer, community, year, failed)
    context["diagram"] = state_diagram("fund_year", context["fy"]["state"])
    done = request.query_params.get("done", "")
    if done and failed is None:
        label = workflow_for("fund_year").module.EVENT_LABELS.get(done, "")
        context["flash"] = f"已办理:{label}" if label else ""
    fy = context["fy"]
    context["this_year"] = clock.today().year
    return render(request, "fund_year.html", context, viewer=viewer, status=status,
                  title=f"{fy['community']['name']} {fy['year']} 年度经费")


@router.get("/fund-years/{community}/{year}")
async def fund_year_page(request: Request, community: Community, year: Year) -> Response:
    viewer = await page_viewer(request)
    return await _render(request, viewer, community, year)


@router.post("/fund-years/{community}/{year}/events/{trigger}")
async def fund_year_event(request: Request, community: Community, year: Year, trigger: str) -> Response:
    db = database(request)

    def fire(viewer: Viewer, payload: dict[str, Any], reason: str, as_role: str | None, version: int | None) -> None:
        services.fire_fund_year_event(db, viewer, community, year, trigger, payload, reason=reason, as_role=as_role,
                                      expected_version=version)

    async def rerender(viewer: Viewer, failed: Failed, status: int) -> Response:
        return await _render(request, viewer, community, year, failed, status)

    return await post_event(request, "fund_year", trigger, fire, rerender,
                            f"/fund-years/{community}/{year}?done={trigger}")
