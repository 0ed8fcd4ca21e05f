"""Residents' needs recorded by the community committee (Art. 6, 9): by channel, listed with the
projects that answer them; one or more needs start a proposal."""
from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from api import queries, services
from api.auth import Viewer
from api.pages import database, read, reads
from api.pages.choices import proposing_communities
from api.pages.events import submit_model
from api.pages.forms import FormContext, bind, describe, flatten
from api.pages.options import options
from api.pages.render import render
from api.pages.session import form_values, page_viewer
from api.schemas import NeedIn

router = APIRouter(include_in_schema=False)
PAGE = 50


def _context(session: Session, viewer: Viewer, community: int | None, offset: int, values: Any,
             errors: dict[str, str]) -> dict[str, Any]:
    communities = proposing_communities(session, viewer)
    fresh = values is None
    if values is None:
        initial: dict[str, Any] = {"channel": "visit", "residents_count": 1}
        if len(communities) == 1:
            initial["community_id"] = communities[0]["id"]
        values = flatten(initial)
    ctx = FormContext(session=session, viewer=viewer, record={}, extra={"communities": communities})
    fields = bind(describe(NeedIn), values, errors, ctx, fresh=fresh) if communities else []
    return {"needs": reads.needs(session, viewer, community, PAGE, offset), "fields": fields,
            "community_options": options(queries.readable_names(session, viewer), community), "community": community}


@router.get("/needs")
async def needs_page(request: Request, community: Annotated[int | None, Query(ge=1, le=2**53)] = None,
                     offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0) -> Response:
    viewer = await page_viewer(request)
    context = await read(request, _context, viewer, community, offset, None, {})
    done = request.query_params.get("done")
    return render(request, "needs.html", {**context, "error": None, "page": PAGE,
                                          "flash": f"已登记需求 #{done}" if done and done.isdigit() else ""},
                  viewer=viewer, title="群众需求")


@router.post("/needs")
async def record_need(request: Request) -> Response:
    form = await form_values(request)
    viewer = await page_viewer(request, form)

    async def again(errors: dict[str, str], error: dict[str, str] | None, status: int) -> Response:
        context = await read(request, _context, viewer, None, 0, form, errors)
        return render(request, "needs.html", {**context, "error": error, "page": PAGE}, viewer=viewer,
                      title="群众需求", status=status)

    db = database(request)
    return await submit_model(form, NeedIn, lambda body: services.create_need(db, viewer, body), again,
                              lambda need: f"/needs?done={need['id']}")


# ------------------------------------------------------------------ one need: the resident's receipt, the answer


def _need_detail(session: Session, viewer: Viewer, need_id: int, values: Any, errors: dict[str, str]) -> dict[str, Any]:
    from sqlalchemy import select

    from api.auth import require_read
    from api.errors import NotFound
    from api.schemas import NeedAnswerIn
    from store.models import Need, Organisation

    row = session.execute(select(Need, Organisation.name).join(Organisation, Organisation.id == Need.community_id)
                          .where(Need.id == need_id)).one_or_none()
    if row is None:
        raise NotFound(f"需求 #{need_id} 不存在", code="need.not_found")
    need, cname = row
    require_read(session, viewer, need.community_id)
    projects = reads.needs_projects(session, [need.id]).get(need.id, [])
    can_answer = not need.answer and any(p.organisation_id == need.community_id and p.role in
                                         ("community_secretary", "community_staff") for p in viewer.posts)
    ctx = FormContext(session=session, viewer=viewer, record={})
    fields = bind(describe(NeedAnswerIn), values or {}, errors, ctx, fresh=values is None) if can_answer else []
    who = reads.person_names(session, [need.recorded_by, need.answered_by])
    return {"need": need, "community_name": cname, "projects": projects, "fields": fields,
            "recorded_by": who.get(need.recorded_by or 0, ""), "answered_by": who.get(need.answered_by or 0, "")}


@router.get("/needs/{need_id}")
async def need_page(request: Request, need_id: Annotated[int, Path(ge=1, le=2**53)]) -> Response:
    viewer = await page_viewer(request)
    context = await read(request, _need_detail, viewer, need_id, None, {})
    flash = "已答复,居民凭回执码可以看到答复" if request.query_params.get("answered") else ""
    return render(request, "need.html", {**context, "error": None, "flash": flash}, viewer=viewer,
                  title=f"需求 #{need_id}")


@router.post("/needs/{need_id}/answer")
async def answer_need(request: Request, need_id: Annotated[int, Path(ge=1, le=2**53)]) -> Response:
    from api import public as public_side
    from api.schemas import NeedAnswerIn

    form = await form_values(request)
    viewer = await page_viewer(request, form)

    async def again(errors: dict[str, str], error: dict[str, str] | None, status: int) -> Response:
        context = await read(request, _need_detail, viewer, need_id, form, errors)
        return render(request, "need.html", {**context, "error": error}, viewer=viewer, title=f"需求 #{need_id}",
                      status=status)

    db = database(request)
    return await submit_model(form, NeedAnswerIn, lambda body: public_side.answer_need(db, viewer, need_id, body.answer),
                              again, lambda _n: f"/needs/{need_id}?answered=1")
