"""What a form may choose from the record it acts on, by field name: the open objections for
``objection_id``, the unpaid payment items for ``payment_item_id``, the people who may sit on an
acceptance team for ``team`` … A new event whose payload uses one of these names gets the same
choice list; a new name needs a provider here."""
from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.auth import Viewer
from api.pages import reads
from api.pages.forms import FormContext, provider
from rules.money import format_yuan, parse_yuan
from store.models import Organisation
from workflow import clock
from workflow.engine import ROLE_LABELS
from workflow.labels import choice_label


def _short(text: str, n: int = 28) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= n else text[: n - 1] + "…"


@provider("objection_id")
def objections(ctx: FormContext) -> list[tuple[str, str]]:
    """The unresolved objections; to confirm an answer (监督委员会确认), only those already answered."""
    answered_only = ctx.extra.get("trigger") == "confirm_answer"
    return [(str(o["id"]), f"#{o['id']} {_short(o['text'])}" + ("(已答复)" if o.get("answer") else ""))
            for o in ctx.record.get("objections", []) if not o.get("resolved")
            and (o.get("answer") or not answered_only)]


@provider("concern_id")
def concerns(ctx: FormContext) -> list[tuple[str, str]]:
    return [(str(c["id"]), f"#{c['id']} {_short(c['text'])}") for c in ctx.record.get("concerns", [])
            if not c.get("resolved")]


@provider("payment_item_id")
def payment_items(ctx: FormContext) -> list[tuple[str, str]]:
    out = []
    for i in ctx.record.get("payment_items", []):
        if ctx.trigger == "record_voucher_evidence":
            # evidence is for vouchers: before payment, and the notice after it (Art. 13)
            if i["kind"] != "voucher" or not (i.get("status") == "open" or (
                    i.get("status") == "paid" and "post_notice" not in i.get("evidence", []))):
                continue
        elif i.get("status") != "open":
            continue
        kind = choice_label("kind", i["kind"]) or i["kind"]
        amount = f"{format_yuan(parse_yuan(i['amount']))} 元"
        out.append((str(i["id"]), f"#{i['id']} {kind.split('(')[0]} {amount} {_short(i['payee'], 16)}"
                    + (f" 发票 {i['invoice_no']}" if i.get("invoice_no") else "")))
    return out


@provider("team")
def acceptance_team(ctx: FormContext) -> list[tuple[str, str]]:
    community = ctx.record.get("community", {}).get("id")
    if community is None:
        return []
    people = reads.people_of(ctx.session, community, ("working_member", "working_secretary", "supervisor"),
                             clock.today())
    return [(str(pid), f"{name}({ROLE_LABELS.get(role, role)})") for pid, name, role in people]


@provider("need_ids")
def needs(ctx: FormContext) -> list[tuple[str, str]]:
    """Needs no project answers yet, and those this record (or this form) already names."""
    communities = ctx.extra.get("communities") or ([ctx.record["community"]] if ctx.record.get("community") else [])
    named = list(ctx.extra.get("need_ids") or []) + list(ctx.record.get("need_ids") or [])
    rows = reads.open_needs(ctx.session, [c["id"] for c in communities], named)
    many = len(communities) > 1
    return [(str(n["id"]), f"#{n['id']} {_short(n['title'], 40)}" + (f"({n['community_name']})" if many else ""))
            for n in rows]


@provider("community_id")
def communities(ctx: FormContext) -> list[tuple[str, str]]:
    return [(str(c["id"]), c["name"]) for c in ctx.extra.get("communities") or []]


def proposing_communities(session: Session, viewer: Viewer) -> list[dict[str, Any]]:
    """Communities where the viewer may record needs and propose projects (secretary or staff there)."""
    ids = sorted({p.organisation_id for p in viewer.posts if p.role in ("community_secretary", "community_staff")})
    if not ids:
        return []
    rows = session.execute(select(Organisation.id, Organisation.name)
                           .where(Organisation.id.in_(ids)).order_by(Organisation.id)).all()
    return [{"id": i, "name": n} for i, n in rows]


@provider("organisation_id")
def organisations(ctx: FormContext) -> list[tuple[str, str]]:
    levels = {"city": "市", "area": "大社区", "community": "社区"}
    return [(str(o["id"]), f"{o['code']} {o['name']}({levels.get(o['level'], o['level'])})")
            for o in ctx.extra.get("organisations", [])]


@provider("line_item_id")
def flagged_line_items(ctx: FormContext) -> list[tuple[str, str]]:
    """Line items flagged for a forbidden-use keyword (Art. 4), for the working committee's decision."""
    return [(str(li["id"]), f"{_short(li['description'], 24)}(含“{'、'.join(li['flagged_keywords'])}”)")
            for li in ctx.record.get("line_items", []) if li.get("flagged_keywords")]


@provider("catalog_item")
def procurement_items(ctx: FormContext) -> list[tuple[str, str]]:
    """The procurement catalogue (第十二条) a line item's code is chosen from: the one of the project's fund
    year (its policy version), or for a new proposal the one of the community's current fund year or policy."""
    if "catalog" not in ctx.extra:
        ctx.extra["catalog"] = _catalog(ctx)
    return list(ctx.extra["catalog"])


def _catalog(ctx: FormContext) -> list[tuple[str, str]]:
    from api import queries
    from api.errors import ApiError

    if ctx.session is None or ctx.viewer is None:
        return []
    if ctx.record.get("community"):
        community, years = ctx.record["community"]["id"], [ctx.record.get("year")]
    elif ctx.extra.get("communities"):
        community, years = ctx.extra["communities"][0]["id"], [clock.today().year, None]
    else:
        return []
    for year in years:
        try:
            data = queries.procurement_catalog(ctx.session, ctx.viewer, community, year)
        except ApiError:
            continue
        return [(i["code"], f"{i['code']} {i['name']}") for i in data["items"]]
    return []


def _open_orgs(ctx: FormContext, levels: tuple[str, ...]) -> list[tuple[str, str]]:
    names = {"city": "市", "area": "大社区", "community": "社区"}
    return [(str(o["id"]), f"{o['code']} {o['name']}({names.get(o['level'], o['level'])})")
            for o in ctx.extra.get("orgs", []) if o["level"] in levels and o.get("closed_on") is None]


@provider("parent_id")
def parent_orgs(ctx: FormContext) -> list[tuple[str, str]]:
    """Where a new area (under a city) or community (under an area) may go: the open cities and areas."""
    return _open_orgs(ctx, ("city", "area"))


@provider("area_id")
def areas(ctx: FormContext) -> list[tuple[str, str]]:
    """The open areas a community may move to."""
    return _open_orgs(ctx, ("area",))
