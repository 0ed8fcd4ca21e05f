"""Rendering pages: the Jinja2 environment over ``templates/pages/``, the layout's context (who is
logged in, the navigation their posts open, the CSRF token every form carries) and the filters
that show money, instants and working days the same way on every page."""
from __future__ import annotations

import datetime as dt
from functools import lru_cache
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from api.auth import Viewer
from api.settings import CSRF_COOKIE
from rules import inspection as r_inspection
from rules.money import format_yuan
from workflow import clock
from workflow.engine import ROLE_LABELS, ROLE_LEVEL

TEMPLATES = Path(__file__).resolve().parents[2] / "templates" / "pages"
STATIC = Path(__file__).resolve().parent / "static"
SITE = "社区党组织服务群众专项经费管理"

AREA_ROLES = frozenset({"working_member", "working_secretary", "construction_director", "finance_officer"})


def _local(value: Any, fmt: str = "%Y-%m-%d %H:%M") -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=dt.UTC)
        return str(value.astimezone(clock.SHANGHAI).strftime(fmt))
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def _yuan(value: Any) -> str:
    """"12345.67" → "12,345.67" (a yuan string from the read models, grouped for reading)."""
    if value is None or value == "":
        return "—"
    text = str(value)
    sign = "-" if text.startswith("-") else ""
    whole, _, frac = text.lstrip("-").partition(".")
    return f"{sign}{int(whole):,}.{(frac or '00'):0<2}"


def _workdays(deadline: dict[str, Any]) -> str:
    if deadline.get("overdue"):
        return "已逾期"
    left = int(deadline.get("workdays_left") or 0)
    return "今日届满" if left == 0 else f"剩 {left} 个工作日"


@lru_cache(maxsize=1)
def environment() -> Environment:
    env = Environment(loader=FileSystemLoader(str(TEMPLATES)), autoescape=select_autoescape(["html", "svg"]),
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters.update(local=_local, yuan=_yuan, workdays=_workdays, fen=lambda v: _yuan(format_yuan(int(v))),
                       date=lambda v: _local(v, "%Y-%m-%d"), role=lambda r: ROLE_LABELS.get(r, r))
    env.globals.update(SITE=SITE, ROLE_LABELS=ROLE_LABELS, Markup=Markup)
    return env


def csrf_token(request: Request) -> str:
    """The session's CSRF token (its cookie, set at login); every form posts it back as ``csrf_token``."""
    return request.cookies.get(CSRF_COOKIE, "")


def nav(viewer: Viewer | None) -> list[tuple[str, str]]:
    """(path, label) of the sections the viewer's posts open."""
    if viewer is None:
        return []
    roles = {p.role for p in viewer.posts}
    levels = {ROLE_LEVEL.get(r, "") for r in roles}
    items = [("/", "待办")]
    if levels & {"community", "area", "city"}:
        items += [("/needs", "群众需求"), ("/projects", "项目"), ("/fund-years", "经费年度")]
    if roles & (AREA_ROLES | {"city_admin"}):
        items.append(("/overview", "总览"))
    if roles & r_inspection.READERS:
        items.append(("/inspections", "检查"))  # 第十八条、第十九条: inspections, findings, red flags
    if "supervisor" in roles:
        items.append(("/trail", "全程记录"))
    if "city_admin" in roles:
        items.append(("/admin", "系统管理"))
    return items


def render(request: Request, template: str, context: dict[str, Any], *, viewer: Viewer | None = None,
           status: int = 200, title: str = "") -> HTMLResponse:
    page = {"request": request, "viewer": viewer, "nav": nav(viewer), "csrf": csrf_token(request),
            "path": request.url.path, "title": title, "today": clock.today(), "flash": ""}
    html = environment().get_template(template).render({**page, **context})
    response = HTMLResponse(html, status_code=status)
    # pages show personal and unpublished data: never kept by shared caches, nor framed by other sites
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = (
        "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; script-src 'self'; "
        "form-action 'self'; frame-ancestors 'none'; base-uri 'self'")
    return response
