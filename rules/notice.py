"""Publicity notices and objections (第十条): residents object while the notice is up; an objection holds
the project until it is resolved. An answer alone resolves nothing: a supervisor confirms it (第十四条, and
never one who answered it) or the resident accepts it through the receipt.
"""
from __future__ import annotations

import datetime as dt

from rules.verdict import OK, Verdict, refuse

ART_NOTICE = "第十条"


def check_no_open_objection(open_count: int) -> Verdict:
    """No objection raised during the publicity period is still unresolved."""
    if open_count <= 0:
        return OK
    return refuse("notice.open_objection", f"公示期内有 {open_count} 条异议未解决,须回到联席会议", ART_NOTICE)


def check_notice_open(now: dt.datetime, starts_at: dt.datetime | None, ends_at: dt.datetime | None) -> Verdict:
    """An objection is raised only while a notice is up: ``starts_at <= now < ends_at`` (None: no notice)."""
    if starts_at is None or ends_at is None or not (starts_at <= now < ends_at):
        return refuse("notice.closed", "公示期已结束或未开始,不能再提出异议", ART_NOTICE)
    return OK


def check_objection_answerable(found: bool, resolved: bool) -> Verdict:
    """The objection answered belongs to this project and is not yet resolved (an answer not yet confirmed
    or accepted may be replaced by a better one; the audit keeps both)."""
    if not found:
        return refuse("notice.objection_not_found", "该项目没有此条异议", ART_NOTICE)
    if resolved:
        return refuse("notice.objection_resolved", "此条异议已经解决", ART_NOTICE)
    return OK


def check_answer_settleable(found: bool, answered: bool, resolved: bool) -> Verdict:
    """An answer is confirmed or accepted only once given, and only while the objection is unresolved."""
    v = check_objection_answerable(found, resolved)
    if not v.ok:
        return v
    if not answered:
        return refuse("notice.objection_unanswered", "社区党委尚未答复此条异议,答复后方可确认或接受", ART_NOTICE)
    return OK


def check_confirmer_not_answerer(supervisor_id: int, answered_by: int | None) -> Verdict:
    """Separation of duties: whoever answered an objection does not confirm the answer (第十四条)."""
    if answered_by is not None and supervisor_id == answered_by:
        return refuse("sod.confirmer_answered", "答复异议的人员不能确认自己的答复,须由其他议事监督委员会成员确认。",
                      "第十四条")
    return OK


def check_receipt_matches(matches: bool) -> Verdict:
    """The resident's receipt code is the objection's own."""
    if matches:
        return OK
    return refuse("notice.receipt_invalid", "回执码不正确", ART_NOTICE)
