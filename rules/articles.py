"""The article a refusal cites when no rule of its own gives one — decided here, in one place.

Three kinds of refusal come from outside the rule functions, and each still cites the regulation:

- **a malformed field** (422): the field's article when a rule governs the field (``FIELD_ARTICLES``, or
  ``CONTEXT_FIELD_ARTICLES`` where the same name means different things), else the article of the step
  the request attempts (an event's own article, ``CONTEXT_ARTICLES`` for the requests that are no event);
- **access** (403): who may read or act on a community's records, and who administers the city;
- **a record that does not exist** (404): 坚持规范操作, like the engine's ``workflow.not_found``.

Refusals that are not the regulation's cite nothing, and ``NO_ARTICLE`` says which and why. Pure data.
"""
from __future__ import annotations

from collections.abc import Sequence

from rules.workflow import ART_PROCEDURE

#: fields a rule governs, whatever the request: the article of that rule.
FIELD_ARTICLES: dict[str, str] = {
    "category": "第八条",  # the six uses (rules.project.check_category)
    "category_justification": "第八条",
    "forbidden_use_declaration": "第四条",  # forbidden uses (rules.project.check_forbidden_declaration)
    "keyword_flags_answer": "第四条",
    "small_group_marked": "第七条第(二)项",  # the small-group cap (rules.project.check_unmark)
    "catalog_item": "第十二条",  # the procurement catalogue (rules.procurement)
    "invoice_no": "第十三条、第十七条",  # one invoice paid once (rules.payment.check_invoice_unique)
    "issuer_tax_id": "第十三条、第十七条",
    "need_ids": "第九条",  # one project, one matter, linked to its needs (rules.project.check_proposal)
}

#: where a field's rule depends on the request: context → field → article (before ``FIELD_ARTICLES``).
CONTEXT_FIELD_ARTICLES: dict[str, dict[str, str]] = {
    # a proposal's amounts are its spending plan (proposal.amount_not_positive, proposal.line_items_mismatch)
    "proposal": {"year": "第五条", "amount": "第九条", "unit_price": "第九条", "is_aid": "第十三条"},
    # the carry-in is last year's balance (结余转下年)
    "fund_year_open": {"carry_in": "第十三条"},
    # a payment item's amount: paid within the approved amount (payment.exceeds_approved)
    "add_payment_item": {"amount": "第十三条", "payee": "第十三条"},
    # a changed amount or contractor needs the working committee's consent (change.value_invalid)
    "request_change": {"amount": "第十一条", "contractor_name": "第十一条"},
}

#: the article of a request that is no workflow event (an event's own article comes from its definition).
CONTEXT_ARTICLES: dict[str, str] = {
    "proposal": "第九条",
    "need": "第九条",
    "fund_year_open": "第五条",
}

#: API refusals without a rule function of their own: code → article. A code ending in "." is a prefix.
CODE_ARTICLES: dict[str, str] = {
    # access: the community's Party committee, its supervision committee and the area's working committee
    # hold the fund's records (第十四条: 党工委统一管理,议事监督委员会全程监督)
    "auth.not_in_community": "第十四条",
    # the city's organisation department and finance bureau administer the regulation (第五条、第二十一条)
    "auth.admin_only": "第五条、第二十一条",
    "auth.admin_other_city": "第五条、第二十一条",
    # the area's overview is the working committee's (and finance's) who manage the fund (第十四条)
    "auth.overview": "第十四条",
    "auth.not_in_area": "第十四条",
    # the red flags are the working committee's inspection (第十九条) and finance's supervision (第十八条)
    "auth.flags": "第十八条、第十九条",
    # records that do not exist: every step by the prescribed procedure (as the engine's workflow.not_found)
    "project.not_found": ART_PROCEDURE,
    "notice.not_found": ART_PROCEDURE,
    "need.not_found": ART_PROCEDURE,
    "workflow.unknown_event": ART_PROCEDURE,  # a page's unknown step, as the engine's rule of that code
    "receipt.accept_unavailable": "第十条",  # a resident accepting an answer to an objection
    "community.not_found": "第二条",
    "area.not_found": "第二条",
    # the documents kept for every project and year (第十七条: 材料按财务制度规定妥善保管)
    "document.": "第十七条",
    "organisation.": "第二条",
    "org.": "第二条",
    "user.": "第二条",
    "post.": "第二条",
    "roster.": "第二条",
    "fund_year.": "第五条",
    "disclosure.not_published": "第十五条",
    "notice.no_objections": "第十条",
    "policy.invalid": "第五条",
    "calendar.": "第十条、第十一条、第十五条",  # the working days of every period
    "workflow.version_mismatch": ART_PROCEDURE,
    # the database's safety nets (api.errors): a collision with a concurrent request, an unstorable value
    "conflict.": ART_PROCEDURE,
    "payload.unstorable": ART_PROCEDURE,
    "procurement.": "第十二条",
    # inspections and their findings: the working committee's regular checks (第十九条)
    "inspection.": "第十九条",
    "finding.": "第十九条",
}

#: codes that cite no article: they are not the regulation's refusals.
NO_ARTICLE: dict[str, str] = {
    "auth.required": "not logged in: no person to apply the regulation to",
    "auth.invalid_token": "not logged in",
    "auth.revoked": "not logged in",
    "auth.expired": "not logged in",
    "auth.inactive": "not logged in",
    "auth.invalid_credentials": "not logged in",
    "auth.form": "the login form itself",
    "auth.csrf": "the request is not proven to be the logged-in person's (authentication, like 401)",
    "not_found": "no such address (not a record)",
    "method_not_allowed": "no such address",
    "request.too_large": "a technical limit of the service",
    "request.media_type": "a technical limit of the service",
    "calendar.media_type": "a technical limit of the service",
    "calendar.not_text": "a technical limit of the service",
    "rate_limited": "a technical limit of the service (abuse protection)",
    "server.error": "a fault, not a refusal",
    "server.database_busy": "a fault (the database unreachable or busy), not a refusal",
}


def code_article(code: str) -> str:
    """The article of an API refusal code without a rule function of its own ("" when none)."""
    if code in NO_ARTICLE:
        return ""
    if code in CODE_ARTICLES:
        return CODE_ARTICLES[code]
    best = ""
    for key in CODE_ARTICLES:
        if key.endswith(".") and code.startswith(key) and len(key) > len(best):
            best = key
    return CODE_ARTICLES[best] if best else ""


def field_article(loc: Sequence[str | int], context_article: str, context: str = "") -> str:
    """The article a malformed field cites: the rule that governs the field, else the request's own article.

    ``loc`` is the field's location (e.g. ``("body", "line_items", 0, "catalog_item")``); the innermost named
    part decides. ``context`` names the request (an event's trigger, or a key of ``CONTEXT_ARTICLES``).
    """
    names = [str(p) for p in loc if isinstance(p, str) and p not in ("body", "query", "path")]
    by_context = CONTEXT_FIELD_ARTICLES.get(context, {})
    for name in reversed(names):
        if name in by_context:
            return by_context[name]
        if name in FIELD_ARTICLES:
            return FIELD_ARTICLES[name]
    return context_article or CONTEXT_ARTICLES.get(context, "")
