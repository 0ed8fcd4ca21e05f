"""Organisation administration (city administrators, Art. 2): the city's tree of areas and communities
with create, rename, move and close forms, the roster import (an .xlsx or .csv file: every error by row and
column, nothing imported when there is one), one-time activation codes for accounts, and the public
``/activate`` page where a person sets their password with such a code.

Each form posts to the same use case as its JSON route (``api.services``); one transaction per action.
"""
from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from fastapi.responses import Response
from pydantic import BaseModel
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from api import auth, services
from api.auth import Viewer
from api.deps import client_ip
from api.errors import ApiError
from api.pages import database, read
from api.pages import public_csrf as csrf
from api.pages.events import submit_model
from api.pages.forms import FormContext, bind, describe
from api.pages.render import render
from api.pages.session import CSRF_FIELD, form_values, page_viewer
from api.routes.org import ROSTER_MAX_BYTES
from api.schemas import ActivateIn, OrgCloseIn, OrgIn, OrgMoveIn, OrgRenameIn

router = APIRouter(include_in_schema=False)
OrgId = Annotated[int, Path(ge=1, le=2**53)]
PersonId = Annotated[int, Path(ge=1, le=2**53)]

#: what each form of the page is, by the name the page uses for it
FORMS: dict[str, type[BaseModel]] = {"create": OrgIn, "rename": OrgRenameIn, "move": OrgMoveIn, "close": OrgCloseIn}
DONE = {"create": "已新设组织", "rename": "已更名", "move": "已调整所属大社区", "close": "已撤销"}


def _tree(session: Session, viewer: Viewer) -> list[dict[str, Any]]:
    return list(services.org_tree(session, viewer)["items"])


def _context(session: Session, viewer: Viewer, failed: tuple[str, int | None] | None = None, values: Any = None,
             errors: dict[str, str] | None = None) -> dict[str, Any]:
    orgs = _tree(session, viewer)
    ctx = FormContext(session=session, viewer=viewer, record={}, extra={"orgs": orgs})

    def fields(which: str, org_id: int | None = None) -> list[Any]:
        mine = failed == (which, org_id)
        return bind(describe(FORMS[which]), values if mine else None, (errors or {}) if mine else {}, ctx, fresh=not mine)

    rows = []
    for o in orgs:
        row = {**o, "forms": {}}
        if o["level"] != "city" and o["closed_on"] is None:
            row["forms"]["rename"] = fields("rename", o["id"])
            if o["level"] == "community":
                row["forms"]["move"] = fields("move", o["id"])
            row["forms"]["close"] = fields("close", o["id"])
        rows.append(row)
    return {"rows": rows, "create_fields": fields("create"), "failed": failed or ("", None)}


async def _page(request: Request, viewer: Viewer, *, failed: tuple[str, int | None] | None = None, values: Any = None,
                errors: dict[str, str] | None = None, error: dict[str, Any] | None = None,
                result: dict[str, Any] | None = None, status: int = 200) -> Response:
    context = await read(request, _context, viewer, failed, values, errors)
    done = request.query_params.get("done", "")
    return render(request, "admin_orgs.html", {**context, "error": error, "result": result, "flash": DONE.get(done, ""),
                                               "max_mb": ROSTER_MAX_BYTES // 1024 // 1024},
                  viewer=viewer, title="组织与名单", status=status)


@router.get("/admin/orgs")
async def orgs_page(request: Request) -> Response:
    viewer = await page_viewer(request)
    auth.require_admin(viewer)
    return await _page(request, viewer)


async def _org_form(request: Request, which: str, org_id: int | None, call: Any) -> Response:
    form = await form_values(request)
    viewer = await page_viewer(request, form)
    auth.require_admin(viewer)

    async def again(errors: dict[str, str], error: dict[str, str] | None, status: int) -> Response:
        return await _page(request, viewer, failed=(which, org_id), values=form, errors=errors, error=error,
                           status=status)

    db = database(request)
    return await submit_model(form, FORMS[which], lambda body: call(db, viewer, body), again,
                              lambda out: f"/admin/orgs?done={which}#org-{out['id']}")


@router.post("/admin/orgs")
async def create_org(request: Request) -> Response:
    return await _org_form(request, "create", None, services.create_org)


@router.post("/admin/orgs/{org_id}/rename")
async def rename_org(request: Request, org_id: OrgId) -> Response:
    return await _org_form(request, "rename", org_id,
                           lambda db, viewer, body: services.rename_org(db, viewer, org_id, body.name))


@router.post("/admin/orgs/{org_id}/move")
async def move_org(request: Request, org_id: OrgId) -> Response:
    return await _org_form(request, "move", org_id,
                           lambda db, viewer, body: services.move_org(db, viewer, org_id, body.area_id, body.reason))


@router.post("/admin/orgs/{org_id}/close")
async def close_org(request: Request, org_id: OrgId) -> Response:
    return await _org_form(request, "close", org_id,
                           lambda db, viewer, body: services.close_org(db, viewer, org_id, body.reason))


# ------------------------------------------------------------------------------------------ roster


def roster_errors(exc: ApiError) -> list[dict[str, str]]:
    """The refused roster's errors as rows of a table: 第 N 行, column, message."""
    out = []
    for item in exc.errors:
        parts = item["loc"].split(".", 2)  # row.N[.column]
        out.append({"row": parts[1] if len(parts) > 1 else "", "column": parts[2] if len(parts) > 2 else "",
                    "message": item["msg"]})
    return out


@router.post("/admin/orgs/import")
async def import_roster(request: Request) -> Response:
    data = await request.form()
    token = data.get(CSRF_FIELD)
    viewer = await page_viewer(request, {CSRF_FIELD: token if isinstance(token, str) else ""})
    auth.require_admin(viewer)
    upload = data.get("file")
    dry_run = str(data.get("dry_run") or "") in ("on", "true", "1")
    raw, filename = b"", ""
    if upload is not None and not isinstance(upload, str):
        raw = await upload.read(ROSTER_MAX_BYTES + 1)
        filename = upload.filename or ""
    if not raw:
        return await _page(request, viewer, error={"message": "请选择名单文件(.xlsx 或 .csv)。", "article": "第二条"},
                           status=422)
    if len(raw) > ROSTER_MAX_BYTES:
        return await _page(request, viewer, error={
            "message": f"名单文件过大(最多 {ROSTER_MAX_BYTES // 1024 // 1024} MB)。", "article": ""}, status=413)
    try:
        result = await run_in_threadpool(services.import_roster, database(request), viewer, raw, filename, dry_run)
    except ApiError as exc:
        if exc.status == 401:
            raise
        return await _page(request, viewer, error={"message": exc.detail, "article": exc.article,
                                                   "rows": roster_errors(exc)}, status=exc.status)
    return await _page(request, viewer, result={**result, "filename": filename})


# -------------------------------------------------------------------------------------- activation


@router.post("/admin/users/{person_id}/activation")
async def issue_activation(request: Request, person_id: PersonId) -> Response:
    form = await form_values(request)
    viewer = await page_viewer(request, form)
    auth.require_admin(viewer)
    issued = await run_in_threadpool(services.issue_activation, database(request), viewer, person_id)
    return render(request, "admin_activation.html", {"issued": issued, "url": str(request.base_url).rstrip("/")
                                                     + "/activate"}, viewer=viewer, title="激活码", status=201)


async def _activate_page(request: Request, values: Any = None, errors: dict[str, str] | None = None,
                         error: dict[str, str] | None = None, status: int = 200, done: str = "") -> Response:
    fields = bind(describe(ActivateIn), values or {}, errors or {}, None, fresh=values is None)
    token = await csrf.token_for(request, database(request))
    response = render(request, "activate.html", {"fields": fields, "error": error, "done": done,
                                                 "public_csrf": token}, title="激活账号", status=status)
    csrf.set_cookie(response, token, request, "/activate")
    return response


@router.get("/activate")
async def activate_form(request: Request) -> Response:
    return await _activate_page(request)


@router.post("/activate")
async def activate(request: Request) -> Response:
    form = await form_values(request)
    db = database(request)

    async def again(errors: dict[str, str], error: dict[str, str] | None, status: int) -> Response:
        return await _activate_page(request, form, errors, error, status)

    try:
        await csrf.check(request, db, form)
    except csrf.PublicFormExpired as exc:
        return await again({}, {"message": exc.detail, "article": exc.article, "code": exc.code}, 403)
    settings = request.app.state.settings
    ip = client_ip(request)

    def call(body: ActivateIn) -> dict[str, Any]:
        return services.activate_account(db, settings, body, ip)

    return await submit_model(form, ActivateIn, call, again, lambda _out: "/login?activated=1")
