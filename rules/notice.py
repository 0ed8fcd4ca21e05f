"""Publicity notices and objections (第十条): residents object while the notice is up; an objection holds
the project until it is answered.
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
    """The objection answered belongs to this project and is not yet resolved."""
    if not found:
        return refuse("notice.objection_not_found", "该项目没有此条异议", ART_NOTICE)
    if resolved:
        return refuse("notice.objection_resolved", "此条异议已经解决", ART_NOTICE)
    return OK
