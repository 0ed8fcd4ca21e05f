"""The FastAPI application: ``create_app()`` builds it, ``app`` is what ``uvicorn api.app:app`` serves.

Importing this module touches no database: the :class:`~store.db.Database` is opened on first use
(the lifespan's start or the first request, whichever comes first) and disposed at shutdown, so
that several workers can import the app before the database is reachable. Migrations are applied
by ``fundflow serve`` / ``fundflow db upgrade``, not here.
"""
from __future__ import annotations

import datetime as dt
import os
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy import text

from store.db import Database

TITLE = "fundflow 社区党组织服务群众专项经费"


def get_database(app: FastAPI) -> Database:
    """The app's database, opened on first use (``DATABASE_URL``, default ``./var/fundflow.db``)."""
    database: Database | None = getattr(app.state, "database", None)
    if database is None:
        with app.state.database_lock:
            database = getattr(app.state, "database", None)
            if database is None:
                database = Database()
                app.state.database = database
    return database


def freeze_heap() -> None:
    """Put everything alive now out of the garbage collector's way (``gc.freeze``): the app, its routes and the
    pydantic validators and serialisers FastAPI built for them, the imported modules. They live as long as the
    process, and traversing them is slow (pydantic-core's objects): unfrozen, every full collection of a served
    worker took ~140 ms (measured on `/admin`, one request in twenty), the p95 of a 20 ms page."""
    import gc

    gc.collect()
    gc.freeze()


def create_app(database: Database | None = None, scheduler_mode: str | None = None) -> FastAPI:
    """A new application; pass ``database`` to serve a given one (tests), else it is opened lazily.

    The deadline scheduler runs inside the service (``make run``) unless ``scheduler_mode`` or
    ``FUNDFLOW_SCHEDULER`` says otherwise: ``auto`` (default when serving: leader by PostgreSQL advisory
    lock, always on SQLite), ``always``, or ``never`` (default for an app given a database, i.e. tests;
    and for production workers when ``fundflow scheduler`` runs as its own process). See docs/scheduler.md.
    """
    mode = scheduler_mode or os.environ.get("FUNDFLOW_SCHEDULER") or ("never" if database is not None else "auto")

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        from anyio import to_thread

        import scheduler

        to_thread.current_default_thread_limiter().total_tokens = app.state.settings.threads
        if database is None:  # the served app (``uvicorn api.app:app``, one per worker), not a test's
            freeze_heap()
        handle = scheduler.start(get_database(app), leader=mode) if mode != "never" else None
        try:
            yield
        finally:
            scheduler.stop(handle)
        opened: Database | None = getattr(app.state, "database", None)
        if opened is not None and database is None:
            opened.dispose()
            app.state.database = None

    # /docs is served from the packaged Swagger UI (api.openapi.install_docs), never from a CDN
    app = FastAPI(title=TITLE, lifespan=lifespan, docs_url=None, redoc_url=None)
    app.state.database = database
    app.state.database_lock = threading.Lock()

    @app.get("/healthz", tags=["ops"])
    def healthz(request: Request) -> JSONResponse:
        """活性检查: 数据库可连接(``SELECT 1``)时返回 200,否则 503。"""
        db = get_database(request.app)
        body: dict[str, Any] = {
            "database": "postgresql" if db.is_postgres else "sqlite",
            "time": dt.datetime.now(dt.UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
        }
        try:
            with db.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
        except Exception as exc:  # noqa: BLE001 - any failure means the database is unusable
            body.update(status="error", error=type(exc).__name__)
            return JSONResponse(body, status_code=503)
        return JSONResponse({"status": "ok", **body})

    from api.install import install  # the /api/v1 routes, their errors, guards and OpenAPI

    install(app)
    from api import openapi, pages

    openapi.install_docs(app)  # /docs from the packaged Swagger UI (offline)
    pages.install(app)  # the web pages; errors of page requests become pages
    return app


app = create_app()
