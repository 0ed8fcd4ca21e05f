"""Errors of the web pages, as pages in Chinese: 401 sends the browser to the login page, 403 and 404
say what happened, 500 says only that something went wrong (never a stack trace: that goes to the log).

The API's error handlers (``api.errors``, and any added later) stay the one place that decides an error's
status, message, code and article: each handler is wrapped, and for a page request its problem document
is drawn as a page instead of sent as ``application/problem+json``.
"""
from __future__ import annotations

import inspect
import json
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse, Response

from api.auth import Viewer, authenticate
from api.pages.render import render
from api.pages.session import LoginRequired, login_url, safe_next
from api.reads import reading
from api.settings import SESSION_COOKIE

HEADINGS = {
    400: "请求无效", 401: "请先登录", 403: "无权访问", 404: "页面不存在", 405: "不支持该操作", 409: "规则不允许此操作",
    412: "记录已被他人修改", 413: "提交的内容过大", 415: "提交的内容类型不支持", 422: "提交的内容不正确",
    429: "操作过于频繁", 500: "系统出现错误", 503: "系统繁忙",
}
HINTS = {
    403: "您当前的岗位不能查看或办理此事项。如认为有误,请联系市委组织部管理员核对您的岗位与任期。",
    404: "您要找的页面或记录不存在,可能地址有误或已被移除。",
    412: "您打开页面后,该记录已被他人办理。请返回并刷新页面后再试。",
    500: "系统暂时无法完成您的请求,所做的操作没有生效。请稍后重试;如仍有问题,请联系系统管理员。",
    503: "系统暂时繁忙,所做的操作没有生效。请稍后重试。",
}


def is_page(request: Request) -> bool:
    """A request for a web page, not for the JSON API (whose errors stay problem+json)."""
    return not request.url.path.startswith("/api/")


def _viewer(request: Request, status: int) -> Viewer | None:
    """Who is logged in, so that the error page keeps its navigation (never for a server error: whatever
    failed may fail again)."""
    token = request.cookies.get(SESSION_COOKIE, "")
    if not token or status >= 500:
        return None
    try:
        from api.app import get_database

        with reading(get_database(request.app)) as session:
            return authenticate(session, token, "cookie")
    except Exception:  # noqa: BLE001 - an error page never fails for want of a viewer
        return None


def page_error(request: Request, status: int, detail: str, code: str, article: str = "",
               headers: dict[str, str] | None = None, exc: Exception | None = None) -> Response:
    if status == 401:
        target = exc.next_path if isinstance(exc, LoginRequired) else request.url.path
        return RedirectResponse(login_url(safe_next(target)), status_code=303)
    if status >= 500:
        detail = ""  # whatever the exception said stays in the log
    heading = HEADINGS.get(status, "请求失败")
    context = {"status": status, "heading": heading, "detail": detail, "article": article,
               "code": code if status < 500 else "", "hint": HINTS.get(status, "")}
    response = render(request, "error.html", context, status=status, title=heading, viewer=_viewer(request, status))
    for name in ("Retry-After", "Allow"):
        if headers and name in headers:
            response.headers[name] = headers[name]
    return response


def _as_page(handler: Callable[..., Any]) -> Callable[[Request, Exception], Awaitable[Response]]:
    async def handle(request: Request, exc: Exception) -> Response:
        answer = handler(request, exc)
        if inspect.isawaitable(answer):
            answer = await answer
        if not is_page(request) or not answer.media_type or "json" not in answer.media_type:
            return answer  # type: ignore[no-any-return]
        try:
            problem: dict[str, Any] = json.loads(bytes(answer.body))
        except ValueError:
            problem = {}
        return page_error(request, answer.status_code, str(problem.get("detail") or ""),
                          str(problem.get("code") or ""), str(problem.get("article") or ""),
                          dict(answer.headers), exc)

    return handle


def pages_for_errors(app: FastAPI) -> None:
    """Wrap every exception handler installed so far: page requests get their errors as pages."""
    for key, handler in list(app.exception_handlers.items()):
        app.exception_handlers[key] = _as_page(handler)
