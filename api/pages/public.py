"""The public notice board ``/gongshi`` (公示栏, no login): notices running now and past ones with a QR code of
their own address, the objection form, every project's execution timeline for residents, the annual
disclosures, residents' needs (居民点单) and the receipts that follow a need or an objection.

Reads and use cases are ``api.public`` (the JSON routes of ``/api/v1/public`` call the same); the forms are
drawn by the one form renderer from the JSON routes' models and carry a signed double-submit CSRF token
(``api.pages.public_csrf``); posts are rate-limited per address like the JSON routes. Everything works
without JavaScript and at 360 px (residents open the board from a WeChat QR scan).
"""
from __future__ import annotations

import os
from functools import lru_cache
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import RedirectResponse, Response
from markupsafe import Markup
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from api import public as public_side
from api import queries, services
from api.deps import client_ip
from api.errors import ApiError, NotFound
from api.pages import database, read
from api.pages import public_csrf as csrf
from api.pages.documents import board_root
from api.pages.events import submit_model
from api.pages.forms import FormContext, bind, describe, flatten
from api.pages.options import grouped_options
from api.pages.render import render
from api.pages.session import form_values
from api.schemas import ObjectionIn, PublicNeedIn
from workflow import receipts

router = APIRouter(include_in_schema=False)
NoticeId = Annotated[int, Path(ge=1, le=2**53)]
Code = Annotated[str, Path(min_length=1, max_length=32)]


# ------------------------------------------------------------------------------------------- QR


@lru_cache(maxsize=4096)
def qr_svg(url: str) -> str:
    """A QR code of ``url`` as inline SVG (drawn here by segno, never by an outside service)."""
    import io

    import segno

    out = io.BytesIO()
    segno.make_qr(url, error="m").save(out, kind="svg", scale=4, border=2, xmldecl=False, svgns=True,
                                       title="扫码查看本公示", dark="#000", light="#fff", unit=None)
    return out.getvalue().decode("utf-8")


def absolute(request: Request, path: str) -> str:
    """The page's address as printed on paper: ``FUNDFLOW_PUBLIC_URL`` (the site as residents reach it)
    when set, else the address this request came to."""
    base = os.environ.get("FUNDFLOW_PUBLIC_URL", "").rstrip("/") or str(request.base_url).rstrip("/")
    return base + path


# -------------------------------------------------------------------------------------- helpers


async def _page(request: Request, template: str, context: dict[str, Any], title: str, status: int = 200,
                token: str | None = None) -> Response:
    response = render(request, template, {**context, "public_csrf": token or ""}, title=title, status=status)
    if token:
        csrf.set_cookie(response, token, request)
    return response


def _error(exc: ApiError) -> dict[str, str]:
    return {"message": exc.detail, "article": exc.article, "code": exc.code}


def _fields(model: Any, values: Any, errors: dict[str, str], extra: dict[str, Any] | None = None) -> list[Any]:
    fresh = values is None
    ctx = FormContext(session=None, viewer=None, record={}, extra=extra or {})
    return bind(describe(model), values if values is not None else {}, errors, ctx, fresh=fresh)


# ------------------------------------------------------------------------------------------ board


@router.get("/gongshi")
async def board(request: Request, community: Annotated[int | None, Query(ge=1, le=2**53)] = None,
                offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0) -> Response:
    data, areas = await read(request, _board, community, offset)
    root = await board_root(request)
    title = f"{data['community_name']}公示栏" if data["community_name"] else "社区公示栏"
    return await _page(request, "gongshi.html", {"board": data, "root": root,
                                                 "community_options": community_options(areas, community)}, title)


def _board(session: Session, community: int | None, offset: int) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    return public_side.board(session, community, offset), public_side.communities_by_area(session)


def community_options(areas: list[dict[str, Any]], chosen: int | None) -> Markup:
    """The board's community choice, grouped by area."""
    return grouped_options(((a["name"], ((c["id"], c["name"]) for c in a["communities"])) for a in areas), chosen)


def _notice(session: Session, notice_id: int) -> dict[str, Any]:
    from workflow.papers import documents_of_notice  # the printed notice: its PDF and verification code

    data = public_side.notice(session, notice_id)
    data["paper"] = documents_of_notice(session, notice_id)
    return data


async def _notice_page(request: Request, notice_id: int, values: Any = None, errors: dict[str, str] | None = None,
                       error: dict[str, str] | None = None, status: int = 200) -> Response:
    data = await read(request, _notice, notice_id)
    token = await csrf.token_for(request, database(request)) if data["accepts_objections"] else None
    path = f"/gongshi/notice/{notice_id}"
    fields = _fields(ObjectionIn, values, errors or {}) if data["accepts_objections"] else []
    flash = "您的意见已收到,社区党委将作出答复并在公示栏公布。" if request.query_params.get("sent") else ""
    return await _page(request, "gongshi_notice.html",
                       {"n": data, "qr": Markup(qr_svg(absolute(request, path))), "url": absolute(request, path),
                        "fields": fields, "error": error, "flash": flash}, data["title"], status, token)


@router.get("/gongshi/notice/{notice_id}")
async def notice_page(request: Request, notice_id: NoticeId) -> Response:
    return await _notice_page(request, notice_id)


def _notice_exists(session: Session, notice_id: int) -> None:
    from sqlalchemy import select

    from store.models import Notice

    if session.execute(select(Notice.id).where(Notice.id == notice_id)).first() is None:
        raise NotFound(f"公示 #{notice_id} 不存在", code="notice.not_found")


@router.get("/gongshi/notice/{notice_id}/qr.svg")
async def notice_qr(request: Request, notice_id: NoticeId) -> Response:
    """The notice's QR code alone (to print on the paper notice)."""
    await read(request, _notice_exists, notice_id)
    svg = qr_svg(absolute(request, f"/gongshi/notice/{notice_id}"))
    return Response(svg, media_type="image/svg+xml", headers={"Cache-Control": "public, max-age=86400"})


@router.post("/gongshi/notice/{notice_id}/objection")
async def object_to_notice(request: Request, notice_id: NoticeId) -> Response:
    form = await form_values(request)
    db = database(request)

    async def again(errors: dict[str, str], error: dict[str, str] | None, status: int) -> Response:
        return await _notice_page(request, notice_id, form, errors, error, status)

    try:
        await csrf.check(request, db, form)
    except csrf.PublicFormExpired as exc:
        return await again({}, _error(exc), 403)
    settings = request.app.state.settings
    ip = client_ip(request)

    def done(result: dict[str, Any]) -> str:
        code = result.get("receipt_code")
        return f"/gongshi/huizhi/{code}?new=1" if code else f"/gongshi/notice/{notice_id}?sent=1#objections"

    return await submit_model(form, ObjectionIn,
                              lambda body: services.submit_objection(db, settings, notice_id, body.model_dump(), ip),
                              again, done)


# ------------------------------------------------------------------------------ project, disclosure


@router.get("/gongshi/project/{code}")
async def project_page(request: Request, code: Code) -> Response:
    data = await read(request, public_side.project_timeline, code)
    return await _page(request, "gongshi_project.html", {"p": data}, f"{data['title']} 执行进度")


@router.get("/gongshi/disclosure/{community}/{year}")
async def disclosure_page(request: Request, community: Annotated[int, Path(ge=1, le=2**53)],
                          year: Annotated[int, Path(ge=2000, le=2100)]) -> Response:
    data = await read(request, queries.disclosure, community, year)
    return await _page(request, "gongshi_disclosure.html", {"d": data},
                       f"{data['community_name']} {year} 年度经费使用情况公示")


# ---------------------------------------------------------------------------------------- needs


def _community_choices(session: Session) -> list[dict[str, Any]]:
    return [{"id": c["id"], "name": f"{c['name']}({a['name']})"}
            for a in public_side.communities_by_area(session) for c in a["communities"]]


async def _need_page(request: Request, values: Any = None, errors: dict[str, str] | None = None,
                     error: dict[str, str] | None = None, status: int = 200) -> Response:
    communities = await read(request, _community_choices)
    if values is None:
        chosen = request.query_params.get("community", "")
        values = flatten({"community_id": int(chosen)}) if chosen.isdigit() else {}
    fields = _fields(PublicNeedIn, values, errors or {}, {"communities": communities})
    token = await csrf.token_for(request, database(request))
    return await _page(request, "gongshi_need.html", {"fields": fields, "error": error}, "居民点单:提出需求",
                       status, token)


@router.get("/gongshi/need")
async def need_form(request: Request) -> Response:
    return await _need_page(request)


@router.post("/gongshi/need")
async def post_need(request: Request) -> Response:
    form = await form_values(request)
    db = database(request)

    async def again(errors: dict[str, str], error: dict[str, str] | None, status: int) -> Response:
        if error and error.get("code", "").startswith("need."):
            where = {"need.title_missing": "title", "need.text_too_long": "title",
                     "need.contact_invalid": "contact"}.get(error["code"])
            if where:
                errors = {**errors, where: error["message"]}
        return await _need_page(request, form, errors, error, status)

    try:
        await csrf.check(request, db, form)
    except csrf.PublicFormExpired as exc:
        return await again({}, _error(exc), 403)
    settings = request.app.state.settings
    ip = client_ip(request)
    return await submit_model(form, PublicNeedIn,
                              lambda body: public_side.post_need(db, settings, body.model_dump(), ip),
                              again, lambda r: f"/gongshi/huizhi/{r['receipt_code']}?new=1")


# ------------------------------------------------------------------------------------- receipts


@router.get("/gongshi/huizhi")
async def receipt_lookup(request: Request, code: Annotated[str, Query(max_length=64)] = "") -> Response:
    if code.strip():
        return RedirectResponse(f"/gongshi/huizhi/{receipts.normalise(code)[:32]}", status_code=303)
    return await _page(request, "gongshi_lookup.html", {"code": "", "error": None}, "回执查询")


async def _receipt_page(request: Request, code: str, error: dict[str, str] | None = None,
                        status: int = 200) -> Response:
    db = database(request)
    settings = request.app.state.settings
    try:
        data = await run_in_threadpool(public_side.lookup_receipt, db, settings, code, client_ip(request))
    except NotFound as exc:
        return await _page(request, "gongshi_lookup.html", {"code": code, "error": _error(exc)}, "回执查询", 404)
    token = await csrf.token_for(request, db) if data["can_accept"] else None
    new = bool(request.query_params.get("new"))
    return await _page(request, "gongshi_receipt.html", {"r": data, "new": new, "error": error,
                                                         "url": absolute(request, f"/gongshi/huizhi/{data['code']}")},
                       f"回执 {data['code']}", status, token)


@router.get("/gongshi/huizhi/{code}")
async def receipt_page(request: Request, code: Code) -> Response:
    return await _receipt_page(request, code)


@router.post("/gongshi/huizhi/{code}/accept")
async def accept_answer(request: Request, code: Code) -> Response:
    """The resident accepts the committee's answer to their objection (the public event ``accept_answer``)."""
    form = await form_values(request)
    db = database(request)
    try:
        await csrf.check(request, db, form)
        accept = getattr(services, "accept_objection_answer", None)
        if accept is None:
            raise NotFound("接受答复功能尚未启用", code="receipt.accept_unavailable")
        await run_in_threadpool(accept, db, request.app.state.settings, code, client_ip(request))
    except ApiError as exc:
        return await _receipt_page(request, code, _error(exc), exc.status)
    return RedirectResponse(f"/gongshi/huizhi/{receipts.normalise(code)}?accepted=1", status_code=303)
