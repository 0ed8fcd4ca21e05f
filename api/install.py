"""What ``create_app()`` adds for the API: settings, error rendering, request guards, routes, OpenAPI."""
from __future__ import annotations

from fastapi import FastAPI

from api import errors, openapi
from api.middleware import RequestGuard, wrap_outermost
from api.routes import PREFIX, api_routers
from api.settings import Settings


def install(app: FastAPI, settings: Settings | None = None) -> None:
    app.state.settings = settings or Settings.from_env()
    errors.install(app)
    app.add_middleware(RequestGuard, limit=app.state.settings.body_max_bytes)
    wrap_outermost(app)  # security headers on every answer of the app
    for router in api_routers():
        app.include_router(router, prefix=PREFIX)
    from api.routes.documents import short_router  # /v/{code}: the address printed on paper

    app.include_router(short_router)
    openapi.install(app)
