"""The JSON routes under ``/api/v1``: each parses, calls one use case, renders."""
from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from api.errors import Problem

PREFIX = "/api/v1"


def problems(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI documentation of the problem+json answers a route may give."""
    from api.errors import TITLES

    return {s: {"model": Problem, "description": TITLES.get(s, "错误")} for s in statuses}


def api_router() -> APIRouter:
    from api.routes import (
        admin,
        auth,
        documents,
        flags,
        fund_years,
        inspections,
        needs,
        org,
        procurement,
        projects,
        public,
        system,
    )

    router = APIRouter(prefix=PREFIX)
    for module in (auth, system, needs, projects, fund_years, procurement, public, admin, org, documents,
                   flags, inspections):
        router.include_router(module.router)
    return router
