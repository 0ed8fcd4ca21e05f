"""Inspections and findings (第十九条) and finance's three steps (第十八条): pure checks on plain values.

The working committee inspects each community's use of the fund regularly (定期检查); each finding cites the
article it was measured against, states the rectification required (整改要求) and its deadline in working
days, and closes only when a second member of the committee has verified the rectification. Finance follows
every project 事前预算、事中监督、事后审计: a budget review the approval may wait for, checks during the work,
and an audit with its conclusion afterwards.
"""
from __future__ import annotations

import datetime as dt
import re

from rules.verdict import OK, Verdict, refuse

ART_INSPECTION = "第十九条"
ART_FINANCE = "第十八条"

_NUMERALS = "一二三四五六七八九十"

#: the regulation's articles (第一条 … 第二十一条) and how many numbered items (项) each has
ARTICLE_ITEMS: dict[int, int] = {**{n: 0 for n in range(1, 22)}, 7: 4, 8: 6}

#: longest stretch of working days a rectification may be given (a year's worth)
MAX_RECTIFY_WORKDAYS = 250
#: the longest period one inspection covers (a fund year and its carry-over)
MAX_PERIOD_DAYS = 400


def cn_number(n: int) -> str:
    """1 → 一, 10 → 十, 12 → 十二, 20 → 二十, 21 → 二十一 (the numbers of the regulation's articles)."""
    if n <= 10:
        return _NUMERALS[n - 1]
    tens, units = divmod(n, 10)
    head = "十" if tens == 1 else _NUMERALS[tens - 1] + "十"
    return head + (_NUMERALS[units - 1] if units else "")


KNOWN_ARTICLES: tuple[str, ...] = tuple(
    text for n, items in ARTICLE_ITEMS.items()
    for text in (f"第{cn_number(n)}条", *(f"第{cn_number(n)}条第({cn_number(k)})项" for k in range(1, items + 1))))
"""Every citation a finding may give: each article, and each numbered item of 第七条 and 第八条."""

_ITEM = re.compile(r"^(第[一二三四五六七八九十]+条)(?:第[((]([一二三四五六七八九十\d]+)[))]项)?$")


def normalise_article(text: str) -> str | None:
    """The citation in the regulation's own form (``第七条第(二)项``), or None when the regulation has no such
    article or item. Spaces and full-width brackets are forgiven; arabic item numbers are written out."""
    compact = re.sub(r"\s+", "", text or "")
    found = _ITEM.match(compact)
    if found is None:
        return None
    article, item = found.group(1), found.group(2)
    if item is None:
        return article if article in KNOWN_ARTICLES else None
    number = int(item) if item.isdigit() else next((k for k in range(1, 11) if cn_number(k) == item), 0)
    cited = f"{article}第({cn_number(number)})项" if 1 <= number <= 10 else ""
    return cited if cited in KNOWN_ARTICLES else None


def check_article_cited(text: str) -> Verdict:
    """A finding cites an article (or numbered item) the regulation has."""
    if normalise_article(text) is not None:
        return OK
    return refuse("finding.article_unknown",
                  f"检查发现须引用《细则》的具体条款(第一条至第二十一条,如“第七条第(二)项”),“{(text or '').strip()[:40]}”不是其中之一",
                  ART_INSPECTION)


def check_period(start: dt.date, end: dt.date, today: dt.date) -> Verdict:
    """An inspection covers a period that has begun: start no later than end, both within a year and a bit,
    and not starting in the future."""
    if start > end:
        return refuse("inspection.period_invalid", "检查期间的开始日期不能晚于结束日期", ART_INSPECTION)
    if (end - start).days > MAX_PERIOD_DAYS:
        return refuse("inspection.period_invalid", f"一次检查的期间不能超过 {MAX_PERIOD_DAYS} 天,请分期检查",
                      ART_INSPECTION)
    if start > today:
        return refuse("inspection.period_invalid", "检查期间尚未开始:定期检查针对已发生的经费使用情况", ART_INSPECTION)
    return OK


def check_finding(article: str, description: str, requirement: str, workdays: int) -> Verdict:
    """A finding states what was found, the article it breaches, the rectification required and its deadline."""
    if not (v := check_article_cited(article)).ok:
        return v
    if len(description.strip()) < 2:
        return refuse("finding.description_missing", "须写明检查发现的具体问题", ART_INSPECTION)
    if len(requirement.strip()) < 2:
        return refuse("finding.requirement_missing", "须写明整改要求", ART_INSPECTION)
    if not 1 <= workdays <= MAX_RECTIFY_WORKDAYS:
        return refuse("finding.workdays_invalid", f"整改期限须为 1 至 {MAX_RECTIFY_WORKDAYS} 个工作日", ART_INSPECTION)
    return OK


def check_project_of_community(found: bool) -> Verdict:
    """A finding about a project names a project of the inspected community."""
    if found:
        return OK
    return refuse("finding.project_invalid", "所指项目不属于被检查的社区", ART_INSPECTION)


def check_second_person(actor_id: int, recorder_id: int) -> Verdict:
    """The rectification is judged by another member of the working committee than the one who recorded the
    finding (a second pair of eyes, as with every sign-off)."""
    if actor_id != recorder_id:
        return OK
    return refuse("finding.same_person", "整改须由记录该问题以外的另一名社区党工委成员核验", ART_INSPECTION)


# ------------------------------------------------------------------------------- finance (第十八条)

BUDGET_OUTCOMES = {"passed": "预算审核通过", "failed": "预算审核未通过"}
CHECK_OUTCOMES = {"normal": "未见异常", "issues_found": "发现问题"}
AUDIT_OUTCOMES = {"compliant": "审计无问题", "issues_found": "审计发现问题"}


def check_finance_text(text: str, what: str) -> Verdict:
    """Each of finance's steps is written down: the review's opinion, the check's note, the audit's conclusion."""
    if len(text.strip()) >= 2:
        return OK
    return refuse("finance.conclusion_missing", f"须填写{what}", ART_FINANCE)


def check_budget_reviewed(required: bool, latest: str | None) -> Verdict:
    """Where the policy asks for it, approval waits for finance's budget review of this submission
    (事前预算), and a review that did not pass holds it. ``latest`` is the latest review's outcome."""
    if not required:
        return OK
    if latest is None:
        return refuse("finance.budget_review_pending",
                      "按本市政策,审批前须由党工委财务管理人员完成预算审核(事前预算),目前尚未审核", ART_FINANCE)
    if latest != "passed":
        return refuse("finance.budget_review_failed",
                      "党工委财务管理人员的预算审核未通过,须退回修改或重新审核后方可审批", ART_FINANCE)
    return OK


# ------------------------------------------------------------------------------------------- access

INSPECTORS = frozenset({"working_member", "working_secretary"})
"""The working committee: plans and carries out inspections, records findings, verifies rectifications."""
READERS = INSPECTORS | {"finance_officer"}
"""Who reads inspections and their packs: the working committee and finance, who supervise the fund."""
COMMUNITY_READERS = frozenset({"community_secretary", "community_staff", "supervisor"})
"""The inspected community reads its own findings (and rectifies them)."""


def check_may_read_inspection(roles: set[str]) -> Verdict:
    """``roles``: the caller's posts that apply to the inspected community (its own, its area's)."""
    if roles & READERS:
        return OK
    return refuse("inspection.forbidden", "定期检查及其材料仅限社区党工委成员和财务管理人员查看", ART_INSPECTION)


def check_may_read_finding(roles: set[str]) -> Verdict:
    if roles & (READERS | COMMUNITY_READERS):
        return OK
    return refuse("inspection.forbidden", "检查发现仅限社区党工委、财务管理人员和被检查社区查看", ART_INSPECTION)
