"""What ``create_app()`` adds for the API: settings, error rendering, request guards, routes, OpenAPI."""
from __future__ import annotations

from fastapi import FastAPI

from api import errors, openapi
from api.middleware import RequestGuard
from api.routes import api_router
from api.settings import Settings


def install(app: FastAPI, settings: Settings | None = None) -> None:
    app.state.settings = settings or Settings.from_env()
    errors.install(app)
    app.add_middleware(RequestGuard, limit=app.state.settings.body_max_bytes)
    app.include_router(api_router())
    openapi.install(app)
