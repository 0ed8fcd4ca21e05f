"""Inspection as pages (第十八条、第十九条): the area's red flags with their evidence and their dismissal, the
regular inspections (plan, pack, findings) and each finding's rectification and verification — the same
services and access rules as ``/api/v1/inspections``, ``/api/v1/findings`` and ``/api/v1/areas/{code}/flags``."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from api import inspections as api_inspections
from api.auth import Viewer
from api.errors import ApiError
from api.pages import database, read
from api.pages.events import Failed, event_forms, orphan_refusal, post_event, submit_model
from api.pages.forms import FormContext, bind, describe
from api.pages.render import render
from api.pages.session import form_values, page_viewer
from api.queries import allowed_events
from api.routes.flags import READERS as FLAG_READERS
from api.routes.flags import _dismiss, _list
from api.routes.inspections import InspectionIn
from api.schemas import FlagDismissIn
from rules import inspection as r_inspection
from store.models import Organisation
from workflow import clock
from workflow.machines import workflow_for

router = APIRouter(include_in_schema=False)
Id = Annotated[int, Path(ge=1, le=2**53)]
Year = Annotated[int | None, Query(ge=2000, le=2100)]


def _areas(session: Session, viewer: Viewer, roles: frozenset[str]) -> list[tuple[int, str, str]]:
    """(id, code, name) of the areas where the viewer holds one of ``roles``."""
    ids = sorted({p.organisation_id for p in viewer.posts if p.role in roles})
    if not ids:
        return []
    return [(i, c, n) for i, c, n in session.execute(
        select(Organisation.id, Organisation.code, Organisation.name)
        .where(Organisation.id.in_(ids), Organisation.level == "area").order_by(Organisation.code))]


def _area_communities(session: Session, area_ids: list[int]) -> list[dict[str, Any]]:
    if not area_ids:
        return []
    rows = session.execute(select(Organisation.id, Organisation.code, Organisation.name)
                           .where(Organisation.parent_id.in_(area_ids), Organisation.level == "community",
                                  Organisation.closed_on.is_(None)).order_by(Organisation.code))
    return [{"id": i, "name": f"{c} {n}"} for i, c, n in rows]


# ------------------------------------------------------------------------------------------- red flags


def _flags(session: Session, viewer: Viewer, area: str | None, year: int, failed: tuple[str, dict[str, Any]] | None
           ) -> dict[str, Any]:
    areas = _areas(session, viewer, FLAG_READERS)
    code = area or (areas[0][1] if areas else "")
    if not code:
        raise ApiError("疑点仅供本大社区党工委、财务人员及市管理员查看", code="auth.flags", status=403,
                       article="第十八条、第十九条")
    data = _list(session, viewer, code, year, None, include_dismissed=True)
    may_dismiss = any(p.role in r_inspection.INSPECTORS for p in viewer.posts)
    return {**data, "areas": areas, "may_dismiss": may_dismiss, "failed": failed}


@router.get("/flags")
async def flags_page(request: Request, area: Annotated[str | None, Query(max_length=32)] = None,
                     year: Year = None) -> Response:
    viewer = await page_viewer(request)
    chosen = year or clock.today().year
    context = await read(request, _flags, viewer, area, chosen, None)
    flash = "已排除该疑点(理由已记入审计记录)" if request.query_params.get("done") == "dismiss" else ""
    return render(request, "flags.html", {**context, "flash": flash, "this_year": clock.today().year},
                  viewer=viewer, title=f"{context['area']} {chosen} 年度疑点")


@router.post("/flags/{area}/{year}/{key}/dismiss")
async def dismiss_page(request: Request, area: Annotated[str, Path(max_length=32)],
                       year: Annotated[int, Path(ge=2000, le=2100)], key: Annotated[str, Path(max_length=80)]
                       ) -> Response:
    form = await form_values(request)
    viewer = await page_viewer(request, form)
    db = database(request)
    reason = (form.get("reason") or [""])[-1].strip()
    try:
        body = FlagDismissIn(year=year, reason=reason)
    except ValueError:
        body = None
    try:
        if body is None or not reason:
            raise ApiError("排除疑点须填写理由", code="flag.reason_required", status=422, article="第十九条")
        from starlette.concurrency import run_in_threadpool

        await run_in_threadpool(_dismiss, db, viewer, area, key, body)
    except ApiError as exc:
        if exc.status == 401 or exc.code == "auth.csrf":
            raise
        failed = (key, {"message": exc.detail, "article": exc.article, "code": exc.code, "reason": reason})
        context = await read(request, _flags, viewer, area, year, failed)
        return render(request, "flags.html", {**context, "this_year": clock.today().year}, viewer=viewer,
                      title=f"{area} {year} 年度疑点", status=exc.status)
    return RedirectResponse(f"/flags?area={area}&year={year}&done=dismiss", status_code=303)


# ----------------------------------------------------------------------------------------- inspections


def _inspection_list(session: Session, viewer: Viewer, values: Any = None, errors: dict[str, str] | None = None,
                     community: int | None = None) -> dict[str, Any]:
    data = api_inspections.list_inspections(session, viewer, community)
    planning = _areas(session, viewer, r_inspection.INSPECTORS)
    fields: list[Any] = []
    if planning:
        ctx = FormContext(session=session, viewer=viewer, record={},
                          extra={"communities": _area_communities(session, [a[0] for a in planning])})
        fields = bind(describe(InspectionIn), values, errors or {}, ctx, fresh=values is None, scope="plan")
    return {**data, "plan_fields": fields}


@router.get("/inspections")
async def inspections_page(request: Request,
                           community: Annotated[int | None, Query(ge=1, le=2**53)] = None) -> Response:
    """The inspections of the viewer's areas, or of one community (the overview links its open findings here)."""
    viewer = await page_viewer(request)
    context = await read(request, _inspection_list, viewer, None, None, community)
    return render(request, "inspections.html", {**context, "error": None}, viewer=viewer, title="定期检查")


@router.post("/inspections")
async def plan_page(request: Request) -> Response:
    form = await form_values(request)
    viewer = await page_viewer(request, form)
    db = database(request)

    async def again(errors: dict[str, str], error: dict[str, str] | None, status: int) -> Response:
        context = await read(request, _inspection_list, viewer, form, errors)
        return render(request, "inspections.html", {**context, "error": error}, viewer=viewer, title="定期检查",
                      status=status)

    def call(body: InspectionIn) -> dict[str, Any]:
        return api_inspections.plan(db, viewer, body.community_id, body.period_from, body.period_to, body.title)

    return await submit_model(form, InspectionIn, call, again, lambda result: f"/inspections/{result['id']}?done=plan")


def _with_events(session: Session, viewer: Viewer, entity_type: str, record: dict[str, Any]) -> dict[str, Any]:
    from api.auth import community_chain

    chain = community_chain(session, record["community_id"])
    return {**record, "allowed_events": allowed_events(workflow_for(entity_type), record["state"], viewer, chain)}


def _flash(entity_type: str, request: Request) -> str:
    done = request.query_params.get("done", "")
    if done == "plan":
        return "已安排定期检查"
    label = workflow_for(entity_type).module.EVENT_LABELS.get(done, "")
    return f"已办理:{label}" if label else ""


@dataclass(frozen=True)
class _Kind:
    """An inspection or a finding as a page: its own workflow, its record's reader and its template."""

    entity_type: str
    path: str
    """``/inspections`` or ``/findings``: the page is ``{path}/{id}``, its events ``{path}/{id}/events/{trigger}``."""
    detail: Callable[[Session, Viewer, int], dict[str, Any]]
    template: str
    name: str
    """The record's name in the template (``i`` or ``f``)."""
    title: str


def _add_pages(kind: _Kind) -> None:
    """The page of one record of ``kind`` and the form posts of its events (one shape for both kinds)."""

    def record_page(session: Session, viewer: Viewer, rid: int, failed: Failed | None) -> dict[str, Any]:
        record = _with_events(session, viewer, kind.entity_type, kind.detail(session, viewer, rid))
        ctx = FormContext(session=session, viewer=viewer, record=record)
        forms = event_forms(kind.entity_type, record, f"{kind.path}/{rid}", ctx, failed)
        # the community reads its findings but not the inspections (第十九条): no links it could not follow
        can_inspect = bool({p.role for p in viewer.posts} & r_inspection.READERS)
        return {kind.name: record, "forms": forms, "refusal": orphan_refusal(forms, failed), "can_inspect": can_inspect}

    async def rendered(request: Request, viewer: Viewer, rid: int, failed: Failed | None = None,
                       status: int = 200) -> Response:
        context = await read(request, record_page, viewer, rid, failed)
        flash = "" if failed else _flash(kind.entity_type, request)
        return render(request, kind.template, {**context, "flash": flash}, viewer=viewer,
                      title=f"{kind.title} #{rid}", status=status)

    async def page(request: Request, rid: Id) -> Response:
        return await rendered(request, await page_viewer(request), rid)

    async def event(request: Request, rid: Id,
                    trigger: str) -> Response:
        db = database(request)

        def fire(viewer: Viewer, payload: dict[str, Any], reason: str, as_role: str | None,
                 version: int | None) -> None:
            api_inspections.fire(db, viewer, kind.entity_type, rid, trigger, payload, reason=reason,
                                 as_role=as_role, expected_version=version)

        async def rerender(viewer: Viewer, failed: Failed, status: int) -> Response:
            return await rendered(request, viewer, rid, failed, status)

        return await post_event(request, kind.entity_type, trigger, fire, rerender,
                                f"{kind.path}/{rid}?done={trigger}")

    router.add_api_route(f"{kind.path}/{{rid}}", page, methods=["GET"], name=f"{kind.entity_type}_page")
    router.add_api_route(f"{kind.path}/{{rid}}/events/{{trigger}}", event, methods=["POST"],
                         name=f"{kind.entity_type}_event")


_add_pages(_Kind("inspection", "/inspections", api_inspections.inspection_detail, "inspection.html", "i", "定期检查"))
_add_pages(_Kind("finding", "/findings", api_inspections.finding_detail, "finding.html", "f", "检查发现"))
