"""Who is looking at a page: the cookie session of ``api.auth`` (the same one ``POST /api/v1/auth/session``
opens), and its CSRF token, which every posted form carries in the hidden field ``csrf_token``.

A page asked for without a valid session sends the browser to the login page and back; a form posted
without the session's token is refused (403) and changes nothing.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import quote, urlsplit

from fastapi import Request
from starlette.concurrency import run_in_threadpool

from api import auth
from api.errors import ApiError, NotAuthenticated
from api.reads import reading
from api.settings import SESSION_COOKIE
from store.db import Database

CSRF_FIELD = "csrf_token"


class LoginRequired(ApiError):
    """A page needs a session: answered with a redirect to the login page (``api.pages.errors``)."""

    status, code = 401, "auth.required"

    def __init__(self, next_path: str) -> None:
        super().__init__("请先登录")
        self.next_path = next_path


def login_url(next_path: str) -> str:
    return "/login" if next_path in ("", "/") else f"/login?next={quote(next_path, safe='/')}"


def safe_next(raw: str | None) -> str:
    """Only a path of this site (never ``//host`` or a scheme) may follow a login."""
    if not raw or not raw.startswith("/") or raw.startswith("//") or "\\" in raw or "\n" in raw or "\r" in raw:
        return "/"
    return raw[:500]


def _db(request: Request) -> Database:
    from api.app import get_database

    return get_database(request.app)


def _authenticate(db: Database, token: str, csrf: str | None) -> auth.Viewer:
    with reading(db) as session:
        return auth.authenticate(session, token, "cookie", csrf)


async def page_viewer(request: Request, form: Mapping[str, Any] | None = None) -> auth.Viewer:
    """The logged-in viewer; for a posted ``form``, its ``csrf_token`` must be the session's."""
    token = request.cookies.get(SESSION_COOKIE, "")
    target = request.url.path + (f"?{request.url.query}" if request.url.query and request.method == "GET" else "")
    if request.method != "GET":
        target = urlsplit(request.headers.get("referer", "")).path or "/"
    if not token:
        raise LoginRequired(target)
    csrf: str | None = None
    if form is not None:
        value = form.get(CSRF_FIELD)
        csrf = (value[-1] if isinstance(value, list) and value else value) or ""
    try:
        return await run_in_threadpool(_authenticate, _db(request), token, csrf)
    except NotAuthenticated as exc:
        raise LoginRequired(target) from exc


async def optional_page_viewer(request: Request) -> auth.Viewer | None:
    """The viewer when a valid session cookie comes with the request, else None (never redirects)."""
    token = request.cookies.get(SESSION_COOKIE, "")
    if not token:
        return None
    try:
        return await run_in_threadpool(_authenticate, _db(request), token, None)
    except ApiError:
        return None


async def form_values(request: Request) -> dict[str, list[str]]:
    """A posted form as path → every value given (text fields only; uploads are read by their route)."""
    data = await request.form()
    out: dict[str, list[str]] = {}
    for key, value in data.multi_items():
        if isinstance(value, str):
            out.setdefault(key, []).append(value)
    return out
