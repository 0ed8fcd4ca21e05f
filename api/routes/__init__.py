"""The JSON routes under ``/api/v1``: each parses, calls one use case, renders."""
from __future__ import annotations

import os
from typing import Any

from fastapi import APIRouter
from fastapi.routing import _get_scope_included_router
from starlette._utils import get_route_path
from starlette.routing import Match
from starlette.types import Scope

from api.errors import Problem

PREFIX = "/api/v1"
#: event routes per router (api.routes.projects): a request for an event tries this router's routes, not all
EVENTS_PER_ROUTER = 6


def problems(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI documentation of the problem+json answers a route may give."""
    from api.errors import TITLES

    return {s: {"model": Problem, "description": TITLES.get(s, "错误")} for s in statuses}


class Router(APIRouter):
    """The router of one module of ``api/routes``: it includes no other router, and it is included by the app
    under :data:`PREFIX` (:func:`api_routers`). What it changes is only how fast FastAPI finds a request's route.

    FastAPI 0.165 matches a request by walking the included routers' routes once to find the router and again
    (twice when nested) to run the route, and before each walk it sums the routes' versions of the whole tree of
    routers below the included one (``_get_routes_version``, a loop over every route). Here:

    * the version is this router's own (it includes none: the sum is its own), without the loop;
    * a request whose path does not start with what every route of this router starts with (``/api/v1/projects``,
      ``/api/v1/`` …), or, when every route's path ends in a fixed segment (``…/events/record_followup``), whose
      last segment is none of those, does not match any of them: answered at once, without trying each route's
      pattern.

    The routes, their order and the OpenAPI document are the same as with a plain ``APIRouter``.
    """

    def include_router(self, *args: Any, **kwargs: Any) -> None:
        raise TypeError("api.routes.Router includes no other router (see its _get_routes_version)")

    def _get_routes_version(self, seen: set[int] | None = None) -> int:
        return self._routes_version

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        included = _get_scope_included_router(scope)
        mounted = included.include_context.prefix if included is not None else ""
        key = (mounted, self._routes_version)
        prefix = self._prefixes.get(key)
        if prefix is None:
            paths = [str(getattr(route, "path", "")) for route in self.routes]
            head = os.path.commonprefix(paths).split("{", 1)[0] if paths and all(paths) else ""
            prefix = self._prefixes[key] = mounted + head
        path = get_route_path(scope)
        if prefix and not path.startswith(prefix):
            return Match.NONE, {}
        lasts = self._last_segments
        if lasts and path.rsplit("/", 1)[-1] not in lasts:
            return Match.NONE, {}
        return super().matches(scope)

    @property
    def _last_segments(self) -> frozenset[str]:
        """The last segments of the routes' paths, or empty when one of them is a parameter (or there are none)."""
        found: frozenset[str] | None = self.__dict__.get("_last_cache")
        if found is None or self.__dict__.get("_last_version") != self._routes_version:
            lasts = [str(getattr(route, "path", "")).rsplit("/", 1)[-1] for route in self.routes]
            found = frozenset(lasts) if lasts and all(x and "{" not in x for x in lasts) else frozenset()
            self.__dict__["_last_cache"], self.__dict__["_last_version"] = found, self._routes_version
        return found

    @property
    def _prefixes(self) -> dict[tuple[str, int], str]:
        """What every route's path starts with, by (the prefix the router is included under, routes version)."""
        cache: dict[tuple[str, int], str] | None = self.__dict__.get("_prefix_cache")
        if cache is None:
            cache = self.__dict__["_prefix_cache"] = {}
        return cache


assert hasattr(APIRouter, "_get_routes_version"), "FastAPI changed its routing: review api.routes.Router"


def api_routers() -> list[APIRouter]:
    """The routers of the JSON API, in order; the app includes each under :data:`PREFIX` (one level: FastAPI walks
    the routes of every level of included routers for each request)."""
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

    return [router for module in (auth, system, needs, projects, fund_years, procurement, public, admin, org, documents,
                                  flags, inspections) for router in getattr(module, "routers", [module.router])]
