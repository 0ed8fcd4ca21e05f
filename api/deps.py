"""FastAPI dependencies: the database, the settings, the caller (bearer token or cookie + CSRF)."""
from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Request
from fastapi.security import APIKeyCookie, OAuth2PasswordBearer
from starlette.concurrency import run_in_threadpool

from api import auth
from api.errors import NotAuthenticated, PreconditionFailed
from api.reads import ReadCache, read_retrying
from api.settings import CSRF_COOKIE, CSRF_HEADER, SESSION_COOKIE, Settings
from store.db import Database

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
T = TypeVar("T")

bearer_scheme = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/token", auto_error=False,
                                     description="POST /api/v1/auth/token 取得的 Bearer 令牌")
cookie_scheme = APIKeyCookie(name=SESSION_COOKIE, auto_error=False,
                             description="POST /api/v1/auth/session 设置的会话 Cookie;修改类请求须带 X-CSRF-Token")


async def get_db(request: Request) -> Database:
    from api.app import get_database

    return get_database(request.app)


async def get_settings(request: Request) -> Settings:
    settings: Settings | None = getattr(request.app.state, "settings", None)
    if settings is None:
        settings = Settings.from_env()
        request.app.state.settings = settings
    return settings


def client_ip(request: Request) -> str:
    return request.client.host if request.client else ""


DB = Annotated[Database, Depends(get_db)]
AppSettings = Annotated[Settings, Depends(get_settings)]


async def read_in_thread(db: Database, read: Callable[..., T], *args: Any) -> T:
    """``read(session, *args)`` in one trip to the thread pool and its own read session, closed (its
    connection given back) before the thread ends; tried once more when its pooled connection was dead.

    For ``async`` routes: FastAPI runs a synchronous route in the thread pool and then validates its
    answer in the thread pool again, each trip a wake-up of a thread and of the event loop.
    """
    return await run_in_threadpool(read_retrying, db, read, *args)


async def get_cache(request: Request) -> ReadCache:
    cache: ReadCache | None = getattr(request.app.state, "read_cache", None)
    if cache is None:
        cache = request.app.state.read_cache = ReadCache()
    return cache


Cache = Annotated[ReadCache, Depends(get_cache)]


def optional_viewer(request: Request, db: DB,
                    bearer: Annotated[str | None, Depends(bearer_scheme)] = None,
                    cookie: Annotated[str | None, Depends(cookie_scheme)] = None) -> auth.Viewer | None:
    # in its own read session, closed before the route runs: a request holds a database connection only
    # while one of its threads runs (never while it waits for a thread or its answer is sent)
    if bearer:
        return read_retrying(db, auth.authenticate, bearer, "bearer")
    if cookie:
        csrf = None
        if request.method not in SAFE_METHODS:
            # double submit: the header must equal the cookie, and the token must be this session's
            header, echoed = request.headers.get(CSRF_HEADER, ""), request.cookies.get(CSRF_COOKIE, "")
            csrf = header if header and header == echoed else ""
        return read_retrying(db, auth.authenticate, cookie, "cookie", csrf)
    return None


async def current_viewer(viewer: Annotated[auth.Viewer | None, Depends(optional_viewer)]) -> auth.Viewer:
    if viewer is None:
        raise NotAuthenticated()
    return viewer


CurrentViewer = Annotated[auth.Viewer, Depends(current_viewer)]


async def expected_version(request: Request) -> int | None:
    """The version an ``If-Match`` header names (``"7"``, ``W/"7"`` or ``7``); ``*`` or absent: no check."""
    raw = request.headers.get("if-match")
    if raw is None or raw.strip() == "*":
        return None
    value = raw.strip().removeprefix("W/").strip('"').strip()
    if not value.isdigit() or len(value) > 9:
        raise PreconditionFailed(f"If-Match 的值 {raw[:40]!r} 不是本记录的版本号", code="workflow.version_mismatch")
    return int(value)
