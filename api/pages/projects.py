"""Projects: the list, the proposal form (from one or more needs), the project page and its events."""
from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from api import queries, services
from api.auth import Viewer
from api.pages import database, read, reads
from api.pages.charts import small_group_chart
from api.pages.choices import proposing_communities
from api.pages.diagram import state_diagram
from api.pages.documents import project_papers
from api.pages.events import Failed, event_forms, orphan_refusal, post_event, submit_model
from api.pages.forms import FormContext, bind, describe, flatten, more_rows
from api.pages.options import options
from api.pages.render import render
from api.pages.session import form_values, page_viewer
from api.schemas import ProjectIn
from rules.cap import FundFigures, check_budget, check_small_group_cap
from rules.money import format_yuan, parse_yuan
from store.models import FundYear, Project
from workflow import clock
from workflow.definitions.project import State
from workflow.engine import policy_of
from workflow.machines import workflow_for

router = APIRouter(include_in_schema=False)
PAGE = 50


# ------------------------------------------------------------------------------------------- list


def _list(session: Session, viewer: Viewer, community: int | None, state: str | None, year: int | None,
          offset: int) -> dict[str, Any]:
    data = queries.list_projects(session, viewer, community, state, year, PAGE, offset)
    readable = queries.readable_names(session, viewer)
    names = dict(readable)
    for item in data["items"]:
        item["community_name"] = names.get(item["community_id"], "")
    data["community_options"] = options(readable, community)
    return data


@router.get("/projects")
async def project_list(request: Request, community: Annotated[int | None, Query(ge=1, le=2**53)] = None,
                       state: str | None = None, year: Annotated[int | None, Query(ge=2000, le=2100)] = None,
                       offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0) -> Response:
    viewer = await page_viewer(request)
    states = workflow_for("project").module.LABELS
    chosen = state if state in states else None
    data = await read(request, _list, viewer, community, chosen, year, offset)
    return render(request, "projects.html", {"data": data, "states": states, "filters": {
        "community": community, "state": chosen, "year": year}, "page": PAGE}, viewer=viewer, title="项目")


# --------------------------------------------------------------------------------------- proposal


def _proposal_context(session: Session, viewer: Viewer, values: dict[str, Any] | None, errors: dict[str, str],
                      need_ids: list[int], more: dict[str, int] | None = None) -> dict[str, Any]:
    communities = proposing_communities(session, viewer)
    fresh = values is None
    if values is None:
        initial: dict[str, Any] = {"year": clock.today().year, "need_ids": need_ids, "contractor_kind": "organisation"}
        if len(communities) == 1:
            initial["community_id"] = communities[0]["id"]
        chosen = reads.open_needs(session, [c["id"] for c in communities], need_ids)
        picked = [n for n in chosen if n["id"] in need_ids]
        if picked:
            initial["title"] = picked[0]["title"]
            initial["description"] = "\n".join(n["description"] or n["title"] for n in picked)
            initial["beneficiaries_count"] = sum(n["residents_count"] for n in picked)
        values = flatten(initial)
    ctx = FormContext(session=session, viewer=viewer, record={},
                      extra={"communities": communities, "need_ids": need_ids})
    fields = bind(describe(ProjectIn), values, errors, ctx, more=more, fresh=fresh)
    return {"fields": fields, "communities": communities}


@router.get("/projects/new")
async def proposal_form(request: Request, need: Annotated[list[int] | None, Query()] = None) -> Response:
    viewer = await page_viewer(request)
    context = await read(request, _proposal_context, viewer, None, {}, list(need or []))
    return render(request, "project_new.html", {**context, "error": None}, viewer=viewer, title="提议项目")


@router.post("/projects/new")
async def propose(request: Request) -> Response:
    form = await form_values(request)
    viewer = await page_viewer(request, form)
    need_ids = [int(v) for v in form.get("need_ids", []) if v.isdigit()]

    async def again(errors: dict[str, str], error: dict[str, str] | None, status: int,
                    more: dict[str, int] | None = None) -> Response:
        context = await read(request, _proposal_context, viewer, form, errors, need_ids, more)
        return render(request, "project_new.html", {**context, "error": error}, viewer=viewer, title="提议项目",
                      status=status)

    more = more_rows(form)
    if more:
        return await again({}, None, 200, more)
    db = database(request)
    return await submit_model(form, ProjectIn, lambda body: services.create_project(db, viewer, body), again,
                              lambda detail: f"/projects/{detail['id']}?done=create")


# ------------------------------------------------------------------------------------------ page


def _verdicts(session: Session, detail: dict[str, Any]) -> dict[str, Any]:
    """What the rules say about the project now: its share of the 20% line, the budget, keyword flags."""
    fy = session.get(FundYear, detail["fund_year_id"])
    assert fy is not None
    policy_version = session.execute(select(Project.policy_version_id).where(Project.id == detail["id"])).scalar_one()
    policy = policy_of(session, policy_version)
    figures = FundFigures(fy.allocation_fen, fy.carry_in_fen, fy.committed_fen, fy.paid_fen,
                          fy.small_group_committed_fen, fy.carry_out_fen or 0)
    amount = parse_yuan(detail["amount"])
    decided = parse_yuan(detail["committed"]) + parse_yuan(detail["paid"]) > 0 or detail["state"] in (
        "in_progress", "change_review", "acceptance", "settlement", "completion_publicity", "closed")
    open_states = {s.value for s in State} - {"closed", "rejected", "withdrawn"}
    pending = amount if (not decided and detail["state"] in open_states) else 0
    cap_fen = policy.cap_amount_fen(fy.allocation_fen, fy.carry_in_fen)
    cap = check_small_group_cap(figures, policy, pending if detail["is_small_group"] else 0, "approval")
    budget = check_budget(figures, pending)
    flagged = [li for li in detail["line_items"] if li["flagged_keywords"]]
    return {
        "small_group": detail["is_small_group"], "threshold": policy.small_group_threshold,
        "cap": cap, "budget": budget, "flagged": flagged, "pending": format_yuan(pending),
        "chart": small_group_chart(fy.allocation_fen + fy.carry_in_fen, cap_fen, fy.small_group_committed_fen,
                                   pending if detail["is_small_group"] else 0,
                                   f"{policy.small_group_cap.numerator}/{policy.small_group_cap.denominator}"),
        "open_concerns": sum(1 for c in detail["concerns"] if not c["resolved"]),
        "open_objections": sum(1 for o in detail["objections"] if not o["resolved"]),
    }


def timeline(history: dict[str, Any], entity_type: str) -> list[dict[str, Any]]:
    states = workflow_for(entity_type).module.LABELS
    out = []
    for e in history["events"]:
        system = e["role"] in ("system", "public")
        out.append({"label": e["event_label"], "at": e["at"], "actor": e["actor_name"] or e["actor_label"],
                    "role_label": "" if system or not e["role"] else e["role_label"], "reason": e["reason"],
                    "from_label": states.get(e["from_state"], ""), "to_label": states.get(e["to_state"], ""),
                    "moved": bool(e["to_state"]) and e["from_state"] != e["to_state"], "subject": "", "link": "",
                    "details": reads.event_details(e["payload"])})
    return out


def _page(session: Session, viewer: Viewer, pid: int, cache: Any, failed: Failed | None) -> dict[str, Any]:
    detail = queries.project_detail(session, viewer, pid, cache)
    history = queries.history(session, viewer, "project", pid)
    ctx = FormContext(session=session, viewer=viewer, record=detail)
    forms = event_forms("project", detail, f"/projects/{pid}", ctx, failed)
    return {"p": detail, "refusal": orphan_refusal(forms, failed), "timeline": timeline(history, "project"),
            "needs": reads.project_needs(session, pid),
            "documents": reads.documents(session, "project", pid), "papers": project_papers(session, pid),
            "verdicts": _verdicts(session, detail),
            "forms": forms,
            "deadline_kinds": reads.DEADLINE_KINDS}


async def _render_page(request: Request, viewer: Viewer, pid: int, failed: Failed | None = None,
                       status: int = 200) -> Response:
    from api.deps import get_cache

    cache = await get_cache(request)
    context = await read(request, _page, viewer, pid, cache, failed)
    context["diagram"] = state_diagram("project", context["p"]["state"])
    done = request.query_params.get("done", "")
    if done and failed is None:
        label = workflow_for("project").module.EVENT_LABELS.get(done, "提议项目" if done == "create" else "")
        context["flash"] = f"已办理:{label}" if label else ""
    p = context["p"]
    return render(request, "project.html", context, viewer=viewer, status=status, title=f"{p['code']} {p['title']}")


@router.get("/projects/{pid}")
async def project_page(request: Request, pid: int) -> Response:
    viewer = await page_viewer(request)
    return await _render_page(request, viewer, pid)


@router.post("/projects/{pid}/events/{trigger}")
async def project_event(request: Request, pid: int, trigger: str) -> Response:
    from api.deps import get_cache

    cache = await get_cache(request)
    db = database(request)

    def fire(viewer: Viewer, payload: dict[str, Any], reason: str, as_role: str | None, version: int | None) -> None:
        services.fire_project_event(db, viewer, pid, trigger, payload, reason=reason, as_role=as_role,
                                    expected_version=version, cache=cache)

    async def rerender(viewer: Viewer, failed: Failed, status: int) -> Response:
        return await _render_page(request, viewer, pid, failed, status)

    return await post_event(request, "project", trigger, fire, rerender, f"/projects/{pid}?done={trigger}")
