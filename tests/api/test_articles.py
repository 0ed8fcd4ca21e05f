"""Every refusal cites an article (issue 11, point 13): malformed fields a rule governs cite that rule's
article, refusals to people of another community and to non-administrators cite who holds the records,
missing records cite 坚持规范操作; only the refusals that are not the regulation's cite nothing."""
from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

import pytest

from rules.articles import CODE_ARTICLES, NO_ARTICLE, code_article, field_article
from tests.api.conftest import Api, World, proposal
from tests.rules.helpers import ARTICLE

ROOT = Path(__file__).resolve().parents[2]


def _problem(r: Any, status: int, code: str, article: str) -> dict[str, Any]:
    assert r.status_code == status, r.text
    body = dict(r.json())
    assert (body["code"], body["article"]) == (code, article), body
    return body


# ------------------------------------------------------------------------- malformed fields (422)

PROPOSAL_FIELDS = [
    ({"category": "travel"}, "body.category", "第八条"),  # a category outside the six
    ({"category_justification": "长" * 2001}, "body.category_justification", "第八条"),
    ({"amount": 12000}, "body.amount", "第九条"),
    ({"line_items": [{"description": "LED 灯", "quantity": 2, "unit_price": 6000, "catalog_item": "C23120000"}]},
     "body.line_items.0.unit_price", "第九条"),
    ({"line_items": [{"description": "LED 灯", "quantity": 2, "unit_price": "6000.00", "catalog_item": "C" * 33}]},
     "body.line_items.0.catalog_item", "第十二条"),
    ({"forbidden_use_declaration": {"office": "no"}}, "body.forbidden_use_declaration.office", "第四条"),
    ({"small_group_marked": "yes"}, "body.small_group_marked", "第七条第(二)项"),
    ({"year": 1999}, "body.year", "第五条"),
    ({"need_ids": [0]}, "body.need_ids.0", "第九条"),
    ({"title": ""}, "body.title", "第九条"),  # no rule of its own: the proposal's article
]


@pytest.mark.parametrize(("over", "loc", "article"), PROPOSAL_FIELDS, ids=[p[1] for p in PROPOSAL_FIELDS])
def test_a_malformed_proposal_field_cites_the_rule_that_governs_it(api: Api, world: World, over: dict[str, Any],
                                                                  loc: str, article: str) -> None:
    body = _problem(api.post("secretary", "/api/v1/projects", proposal(world.c0, **{"need_ids": [1], **over})), 422,
                    "payload.invalid", article)
    assert body["errors"][0]["loc"] == loc and body["errors"][0]["article"] == article


EVENT_FIELDS = [
    ("add_payment_item", {"kind": "invoice", "amount": 100, "payee": "x", "invoice_no": "1"}, "第十三条"),
    ("add_payment_item", {"kind": "invoice", "amount": "1.00", "payee": "x", "invoice_no": "9" * 61},
     "第十三条、第十七条"),
    ("add_payment_item", {"kind": "invoice", "amount": "1.00", "payee": "x", "invoice_no": "1",
                          "issuer_tax_id": "9" * 31}, "第十三条、第十七条"),
    ("request_change", {"changes": {"amount": "abc"}}, "第十一条"),
    ("record_meeting", {"held_on": "2026-03-10", "attendees": [], "votes_for": "nine", "votes_against": 0,
                        "minutes": "x"}, "第十条"),
    ("signoff", {"stage": "everything"}, "第十四条"),
    ("cancel_payment_item", {"payment_item_id": 0}, "第十三条"),
    ("accept", {"quality": "好", "satisfaction": 101, "team": [1]}, "第十二条"),
]


@pytest.mark.parametrize(("event", "body", "article"), EVENT_FIELDS, ids=[f"{e}-{a}" for e, _b, a in EVENT_FIELDS])
def test_a_malformed_event_field_cites_its_rule_or_the_events_article(api: Api, world: World, event: str,
                                                                      body: dict[str, Any], article: str) -> None:
    _problem(api.post("secretary", f"/api/v1/projects/1/events/{event}", body), 422, "payload.invalid", article)


def test_other_requests_cite_their_step(api: Api, world: World) -> None:
    _problem(api.post("admin", "/api/v1/fund-years", {"community_id": world.c0, "year": 2027, "carry_in": "x"}),
             422, "payload.invalid", "第十三条")  # the carry-in is last year's balance
    _problem(api.post("admin", "/api/v1/fund-years", {"community_id": world.c0, "year": 1800}), 422,
             "payload.invalid", "第五条")
    _problem(api.post("secretary", "/api/v1/needs", {"community_id": world.c0}), 422, "payload.invalid", "第九条")
    _problem(api.post(None, "/api/v1/public/notices/1/objections", {"text": ""}), 422, "payload.invalid",
             "第七条第(四)项")
    r = api.client.post("/api/v1/projects/1/events/pay", content=b"{not json",
                        headers={**api.headers("finance"), "Content-Type": "application/json"})
    _problem(r, 422, "payload.invalid", "第十三条")


def test_reads_and_forms_no_rule_governs_cite_nothing(api: Api, world: World) -> None:
    _problem(api.get("secretary", "/api/v1/projects?limit=1000"), 422, "payload.invalid", "")
    _problem(api.client.post("/api/v1/auth/token", data={"username": "x"}), 422, "payload.invalid", "")


# ------------------------------------------------------------------------------ access (403), records (404)


def test_people_of_another_community_are_refused_citing_who_holds_the_records(api: Api, world: World) -> None:
    pid = api.propose("secretary", world.c0)["id"]
    for who in ("other_community", "other_area_community", "other_area_wsec"):
        _problem(api.get(who, f"/api/v1/projects/{pid}"), 403, "auth.not_in_community", "第十四条")
        _problem(api.post(who, f"/api/v1/projects/{pid}/events/submit_preliminary", {}), 403,
                 "auth.not_in_community", "第十四条")
        _problem(api.get(who, f"/api/v1/projects/{pid}/history"), 403, "auth.not_in_community", "第十四条")
        _problem(api.get(who, f"/api/v1/procurement-catalog?community={world.c0}"), 403, "auth.not_in_community",
                 "第十四条")
    # a post of the community that may not fire the event: the engine's refusal cites the event's article
    _problem(api.post("supervisor", f"/api/v1/projects/{pid}/events/submit_preliminary", {}), 403, "auth.no_post",
             "第十条")


def test_administration_refusals_and_missing_records_cite_an_article(api: Api, world: World) -> None:
    _problem(api.get("secretary", "/api/v1/admin/users"), 403, "auth.admin_only", "第五条、第二十一条")
    _problem(api.get("secretary", "/api/v1/projects/999999"), 404, "project.not_found", "第七条第(三)项")
    _problem(api.get("secretary", f"/api/v1/fund-years/{world.c0}/2031"), 404, "fund_year.not_found", "第五条")
    _problem(api.get(None, f"/api/v1/public/disclosures/{world.c0}/2026"), 404, "disclosure.not_published",
             "第十五条")
    _problem(api.get(None, "/api/v1/nothing"), 404, "not_found", "")  # no such address: not a record
    _problem(api.get(None, "/api/v1/me"), 401, "auth.required", "")  # not logged in


# ---------------------------------------------------------------------------------- the decision, as data


def _raised_codes() -> dict[str, bool]:
    """code → whether the raise names an article itself, for every ``SomeError("…", code="…")`` under api/."""
    found: dict[str, bool] = {}
    for path in sorted((ROOT / "api").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            kw = {k.arg: k.value for k in node.keywords}
            code = kw.get("code")
            if isinstance(code, ast.Constant) and isinstance(code.value, str):
                found[code.value] = found.get(code.value, False) or "article" in kw
    return found


def test_every_api_refusal_code_cites_an_article_or_says_why_not() -> None:
    codes = _raised_codes()
    assert "auth.not_in_community" in codes and "project.not_found" in codes  # the scan sees the raises
    silent = sorted(c for c, explicit in codes.items() if not explicit and not code_article(c) and c not in NO_ARTICLE)
    assert not silent, f"API refusals that cite no article and are not listed in rules.articles.NO_ARTICLE: {silent}"
    for code in NO_ARTICLE:
        assert not code_article(code), code
    # the codes api.errors renders itself (its safety nets)
    for code in ("conflict.duplicate", "conflict.reference", "payload.unstorable"):
        assert code_article(code) == "第七条第(三)项", code
    assert "server.database_busy" in NO_ARTICLE


def test_the_articles_are_well_formed() -> None:
    from rules.articles import CONTEXT_ARTICLES, CONTEXT_FIELD_ARTICLES, FIELD_ARTICLES

    for table in (FIELD_ARTICLES, CONTEXT_ARTICLES, CODE_ARTICLES, *CONTEXT_FIELD_ARTICLES.values()):
        for key, article in table.items():
            assert ARTICLE.match(article), (key, article)
    assert code_article("organisation.moved_twice") == "第二条"  # a prefix
    assert code_article("no.such") == ""
    assert field_article(("body", "line_items", 3, "catalog_item"), "第九条", "proposal") == "第十二条"
    assert field_article(("body", "changes", "amount"), "第十一条", "request_change") == "第十一条"
    assert field_article(("body", "amount"), "", "proposal") == "第九条"
    assert field_article(("body", "whatever"), "", "") == ""
