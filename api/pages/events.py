"""Events as forms: every event the viewer may fire now on a project or a fund year is a form drawn
from that event's request body (its payload model plus ``reason`` and ``as_role``, exactly what the
JSON route takes), and a posted form goes to the same service as the JSON route.

A refusal re-renders the page with the form open, the rule's message and article at the top (and
next to the field it concerns), and everything the user typed kept.
"""
from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import Any

from fastapi import Request
from fastapi.responses import RedirectResponse, Response
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from api.auth import Viewer
from api.errors import ApiError, NotFound
from api.pages.forms import Bound, FieldDef, FormContext, bind, describe, flatten, more_rows, parse, validate
from api.pages.session import form_values, page_viewer
from api.routes.events import event_body_model, user_triggers
from workflow.machines import workflow_for

INVALID = {"message": "填写的内容有误,请按提示修改后重新提交。", "article": "", "code": "payload.invalid"}
"""The refusal shown at the top of a form whose fields did not validate (each field says what is wrong)."""

#: refusals that concern one field of the form: shown next to it as well as at the top
REFUSAL_FIELDS = {"workflow.reason_missing": "reason", "auth.csrf": ""}


@dataclass
class Failed:
    """A form that was posted and not carried out: what was typed, and why it was refused."""

    trigger: str
    values: Mapping[str, Any]
    errors: dict[str, str] = field(default_factory=dict)
    refusal: dict[str, str] | None = None
    more: dict[str, int] = field(default_factory=dict)


@dataclass
class EventForm:
    entity_type: str
    trigger: str
    label: str
    article: str
    action: str
    version: int
    fields: list[Bound]
    error: dict[str, str] | None = None
    open: bool = False
    hint: str = ""


PREFILL: dict[tuple[str, str], Callable[[dict[str, Any]], dict[str, Any]]] = {}
"""(entity type, trigger) → the values an event's form starts with, from the record (an edit starts
from the plan as it is). Events not listed start from their models' defaults."""


def _plan(record: dict[str, Any]) -> dict[str, Any]:
    keys = ("title", "description", "category", "category_justification", "amount", "beneficiaries_count",
            "beneficiaries_desc", "small_group_marked", "contractor_name", "contractor_kind", "is_aid",
            "planned_start", "planned_end", "need_ids")
    plan = {k: record[k] for k in keys if record.get(k) is not None}
    plan["line_items"] = [{"description": li["description"], "quantity": li["quantity"],
                           "unit_price": li["unit_price"], "catalog_item": li["catalog_item"]}
                          for li in record.get("line_items", [])]
    return plan


PREFILL[("project", "edit")] = _plan


@lru_cache(maxsize=256)
def _body_fields(entity_type: str, trigger: str) -> tuple[FieldDef, ...]:
    """The fields of an event's body model (built from the definitions, which do not change while the
    process runs: building the pydantic model on every page view cost more than the rest of the form)."""
    return tuple(describe(event_body_model(entity_type, trigger)))


def event_defs(entity_type: str, trigger: str, state: str, roles: list[str]) -> tuple[FieldDef, ...]:
    """The fields of an event's form from ``state``, for a viewer acting in one of ``roles``."""
    wf = workflow_for(entity_type)
    needs_reason = any("reason_given" in t.get("conditions", ()) for t in wf.candidates(trigger, state))
    out = []
    for d in _body_fields(entity_type, trigger):
        if d.name == "reason":
            d = replace(d, required=needs_reason, kind="textarea",
                        label="理由" if needs_reason else "理由或说明(可不填)",
                        help="必须填写;记入审计记录" if needs_reason else "记入审计记录")
        elif d.name == "as_role":
            if len(roles) < 2:
                continue
            d = replace(d, choices=tuple(c for c in d.choices if c[0] in roles))
        out.append(d)
    return tuple(out)


def event_forms(entity_type: str, record: dict[str, Any], action_base: str, ctx: FormContext,
                failed: Failed | None = None) -> list[EventForm]:
    """The forms of the events the viewer may fire now (``record["allowed_events"]``)."""
    forms = []
    for allowed in record.get("allowed_events", []):
        trigger = allowed["event"]
        defs = event_defs(entity_type, trigger, record["state"], list(allowed["roles"]))
        mine = failed is not None and failed.trigger == trigger
        prefill = PREFILL.get((entity_type, trigger))
        values = failed.values if mine and failed else (flatten(prefill(record)) if prefill else None)
        errors = failed.errors if mine and failed else {}
        ctx.extra["trigger"] = trigger  # a provider may narrow its choices to the event (answered objections …)
        fields = bind(defs, values, errors, replace(ctx, trigger=trigger), more=failed.more if mine and failed else None, fresh=not mine,
                      scope=trigger)
        if any(b.d.kind == "ref" and b.d.required and not b.choices for b in fields):
            continue  # nothing to act on yet (no objection to answer, no item to sign …)
        forms.append(EventForm(entity_type=entity_type, trigger=trigger, label=allowed["label"],
                               article=allowed.get("article", ""), action=f"{action_base}/events/{trigger}",
                               version=int(record["version"]), fields=fields,
                               error=failed.refusal if mine and failed else None, open=mine))
    return forms


Rerender = Callable[[Viewer, Failed, int], Awaitable[Response]]
Fire = Callable[[Viewer, dict[str, Any], str, str | None, int | None], Any]


async def post_event(request: Request, entity_type: str, trigger: str, fire: Fire, rerender: Rerender,
                     done_url: str) -> Response:
    """Parse, validate (the event's own body model), fire through the service, answer: a redirect to
    ``done_url`` when done, else the page again with the form open and the refusal shown."""
    form = await form_values(request)
    viewer = await page_viewer(request, form)
    if trigger not in user_triggers(entity_type):
        raise NotFound("没有这项操作", code="workflow.unknown_event")
    more = more_rows(form)
    if more:
        return await rerender(viewer, Failed(trigger, form, more=more), 200)
    model = event_body_model(entity_type, trigger)
    body, errors = validate(model, parse(describe(model), form))
    if body is None:
        return await rerender(viewer, Failed(trigger, form, errors, INVALID), 422)
    reason = str(body.pop("reason", "") or "")
    as_role = body.pop("as_role", None)
    raw_version = (form.get("_version") or [""])[-1]
    version = int(raw_version) if raw_version.isdigit() else None
    try:
        await run_in_threadpool(fire, viewer, body, reason, as_role, version)
    except ApiError as exc:
        if exc.status in (401, 404) or exc.code == "auth.csrf":
            raise
        refusal = {"message": exc.detail, "article": exc.article, "code": exc.code}
        where = REFUSAL_FIELDS.get(exc.code)
        field_errors = {where: exc.detail} if where else {}
        for item in exc.errors:  # a payload refused by the engine's own validation
            field_errors.setdefault(item["loc"].removeprefix("body."), item["msg"])
        return await rerender(viewer, Failed(trigger, form, field_errors, refusal), exc.status)
    return RedirectResponse(done_url, status_code=303)


Again = Callable[[dict[str, str], dict[str, str] | None, int], Awaitable[Response]]


async def submit_model(form: Mapping[str, Any], model: type[BaseModel], call: Callable[[Any], Any], again: Again,
                       done: Callable[[Any], str]) -> Response:
    """A form that is not an event (a need, a proposal, a user …): validate it with the JSON route's model,
    run the same use case, redirect to ``done(result)``; else ``again(field errors, refusal, status)``."""
    body, errors = validate(model, parse(describe(model), form))
    if body is None:
        return await again(errors, INVALID, 422)
    try:
        result = await run_in_threadpool(call, model.model_validate(body))
    except ApiError as exc:
        if exc.status == 401 or exc.code == "auth.csrf":
            raise
        return await again({}, {"message": exc.detail, "article": exc.article, "code": exc.code}, exc.status)
    return RedirectResponse(done(result), status_code=303)


def orphan_refusal(forms: list[EventForm], failed: Failed | None) -> dict[str, str] | None:
    """A refusal of an event whose form the page does not show (the viewer holds no post for it, or the
    record moved on): shown at the top of the actions, so that no refusal goes unseen."""
    if failed is None or failed.refusal is None or any(f.trigger == failed.trigger for f in forms):
        return None
    return failed.refusal

