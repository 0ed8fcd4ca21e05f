"""The web pages: server-rendered Jinja2 (``templates/pages/``), one route, one template, one read.

Each page route reads through ``api.queries`` / ``api.pages.reads`` and posts through the same use
cases as the JSON routes (``api.services``, ``workflow.services``): no HTTP calls to ourselves, no
second path to a state. Every page works without JavaScript; ``static/fundflow.js`` only enhances.
Every asset is served from ``/static`` by fundflow itself (no CDN).
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from fastapi import FastAPI, Request
from fastapi.staticfiles import StaticFiles
from starlette.concurrency import run_in_threadpool

from api.reads import reading
from store.db import Database

T = TypeVar("T")


def database(request: Request) -> Database:
    from api.app import get_database

    return get_database(request.app)


async def read(request: Request, fn: Callable[..., T], *args: Any) -> T:
    """``fn(session, *args)`` in one read session, in one trip to the thread pool."""
    db = database(request)

    def work() -> T:
        with reading(db) as session:
            return fn(session, *args)

    return await run_in_threadpool(work)


def install(app: FastAPI) -> None:
    """Mount the assets and the page routes; errors of page requests become pages (after the API's own
    error handlers are installed: each is wrapped, see ``api.pages.errors.pages_for_errors``)."""
    from api.pages import admin, documents, home, inspections, needs, org, overview, projects, public, years
    from api.pages.errors import pages_for_errors
    from api.pages.render import STATIC

    app.mount("/static", StaticFiles(directory=str(STATIC)), name="static")
    for module in (home, needs, projects, years, overview, inspections, admin, org, documents, public):
        app.include_router(module.router)
    pages_for_errors(app)
