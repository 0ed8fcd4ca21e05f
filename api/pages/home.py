"""Login, logout and the to-do page (待办) with the person's posts."""
from __future__ import annotations

import secrets

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from api import auth, todo
from api.deps import client_ip, get_settings
from api.errors import ApiError
from api.pages import database, read
from api.pages.render import render
from api.pages.session import CSRF_FIELD, form_values, optional_page_viewer, page_viewer, safe_next
from api.routes.auth import clear_session_cookies, set_session_cookies

router = APIRouter(include_in_schema=False)
LOGIN_COOKIE = "fundflow_login"
"""Before there is a session, the login form's CSRF token is a random value in this cookie, posted back
in the form (double submit), so that another site cannot log a browser into an account of its choosing."""


def _login_page(request: Request, next_path: str, username: str = "", error: str = "", status: int = 200) -> Response:
    token = secrets.token_urlsafe(24)
    response = render(request, "login.html", {"next": next_path, "username": username, "error": error,
                                              "login_token": token}, status=status, title="登录")
    response.set_cookie(LOGIN_COOKIE, token, max_age=3600, httponly=True, samesite="strict", path="/login")
    return response


@router.get("/login")
async def login_form(request: Request, next: str = "/") -> Response:
    if await optional_page_viewer(request) is not None:
        return RedirectResponse(safe_next(next), status_code=303)
    return _login_page(request, safe_next(next))


@router.post("/login")
async def login(request: Request) -> Response:
    form = await form_values(request)

    def one(name: str) -> str:
        return (form.get(name) or [""])[-1]

    next_path = safe_next(one("next"))
    username, password = one("username").strip(), one("password")
    expected = request.cookies.get(LOGIN_COOKIE, "")
    if not expected or not secrets.compare_digest(expected, one(CSRF_FIELD)):
        return _login_page(request, next_path, username, "登录页面已过期,请重新输入用户名和密码后登录。", 403)
    if not (1 <= len(username) <= 64) or not (1 <= len(password) <= 128):
        return _login_page(request, next_path, username, "请输入用户名和密码。", 422)
    settings = await get_settings(request)
    try:
        result = await run_in_threadpool(auth.login, database(request), settings, username, password, "cookie",
                                         client_ip(request), request.headers.get("user-agent", ""))
    except ApiError as exc:
        return _login_page(request, next_path, username, exc.detail, exc.status)
    response = RedirectResponse(next_path, status_code=303)
    set_session_cookies(response, result, settings)
    response.delete_cookie(LOGIN_COOKIE, path="/login")
    return response


@router.post("/logout")
async def logout(request: Request) -> Response:
    form = await form_values(request)
    viewer = await page_viewer(request, form)
    await run_in_threadpool(auth.logout, database(request), viewer.session_id)
    response = RedirectResponse("/login", status_code=303)
    clear_session_cookies(response)
    return response


@router.get("/")
async def home(request: Request) -> Response:
    viewer = await page_viewer(request)
    items = await read(request, todo.todo, viewer)
    return render(request, "todo.html", {"todo": items}, viewer=viewer, title="待办")
