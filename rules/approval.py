"""Approval and change of a project (第十一条): board meeting first, both main leaders, never the proposer;
a change during execution needs consent and is filed with its before/after values.
"""
from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import date

from rules.money import format_yuan
from rules.verdict import OK, Verdict, refuse

ART_APPROVAL = "第十一条"

#: the two main leaders whose approval Art. 11 requires.
LEADER_ROLES: dict[str, str] = {
    "working_secretary": "社区党工委书记",
    "construction_director": "社区建设管理委员会主任",
}

#: what a change (Art. 11) may touch: amount, scope, contractor, dates, beneficiaries.
CHANGE_FIELDS: dict[str, str] = {
    "amount_fen": "金额",
    "title": "项目名称",
    "description": "项目内容(范围)",
    "contractor_name": "承办方",
    "contractor_kind": "承办方类型",
    "planned_start": "计划开始日期",
    "planned_end": "计划完成日期",
    "beneficiaries_count": "直接受益人数",
}

_CONTRACTOR_KINDS = ("organisation", "individual")


def check_board_meeting_recorded(recorded: bool) -> Verdict:
    """Approval comes only after the working committee's board meeting has studied the application."""
    if not recorded:
        return refuse("approval.no_board_meeting",
                      "社区党工委须先召开班子会议进行研究,登记会议后方可审批。", ART_APPROVAL)
    return OK


def check_not_proposer(actor_id: int, proposer_id: int) -> Verdict:
    """Separation of duties: whoever proposed the project never approves it."""
    if actor_id == proposer_id:
        return refuse("sod.proposer_cannot_approve", "项目提议人不能审批自己提议的项目。", ART_APPROVAL)
    return OK


def check_not_already_decided(role: str, roles_already_approved: Collection[str], actor_id: int,
                              approvers: Collection[int]) -> Verdict:
    """Each main leader approves once, and the two main leaders are two different people."""
    if role not in LEADER_ROLES:
        allowed = "、".join(LEADER_ROLES.values())
        return refuse("approval.role_invalid", f"只有{allowed}可以审批项目。", ART_APPROVAL)
    if role in roles_already_approved:
        return refuse("approval.already_approved", f"{LEADER_ROLES[role]}已审批同意,不能重复审批。", ART_APPROVAL)
    if actor_id in approvers:
        return refuse("approval.already_approved",
                      "您已以另一主要领导身份审批同意;两位主要领导的审批须由两名不同人员作出。", ART_APPROVAL)
    return OK


def both_leaders_approved(roles_approved: Collection[str]) -> bool:
    """True once the working committee secretary and the construction committee director have both approved."""
    return all(role in roles_approved for role in LEADER_ROLES)


def _show(field: str, value: object) -> str:
    if value is None:
        return "(空)"
    if field == "amount_fen" and isinstance(value, int) and not isinstance(value, bool):
        return f"{format_yuan(value)} 元"
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def changed_fields(before: Mapping[str, object], after: Mapping[str, object]) -> dict[str, tuple[object, object]]:
    """field → (before, after) for every field of ``after`` whose value differs: what the filing records."""
    return {k: (before.get(k), v) for k, v in after.items() if before.get(k) != v}


_TEXT_FIELDS = ("title", "description", "contractor_name")
_DATE_FIELDS = ("planned_start", "planned_end")


def _int_at_least(value: object, minimum: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= minimum


def _value_problem(field: str, value: object) -> str | None:
    """What is wrong with a new value of a change, or None."""
    label = CHANGE_FIELDS[field]
    if field == "amount_fen" and not _int_at_least(value, 1):
        return f"{label}须为大于 0 的整数分"
    if field == "beneficiaries_count" and not _int_at_least(value, 1):
        return f"{label}须至少为 1 人"
    if field == "contractor_kind" and value not in _CONTRACTOR_KINDS:
        return f"{label}须为单位(organisation)或个人(individual)"
    if field in _DATE_FIELDS and value is not None and not isinstance(value, date):
        return f"{label}须为日期"
    if field in _TEXT_FIELDS and (not isinstance(value, str) or not value.strip()):
        return f"{label}不能为空"
    return None


def check_change(before: Mapping[str, object], after: Mapping[str, object], reason: str) -> Verdict:
    """A change request during execution (Art. 11): only the allowed fields, valid new values, at least one
    real change, and a written reason (the special reason that makes the change necessary)."""
    bad = [k for k in after if k not in CHANGE_FIELDS]
    if bad:
        allowed = "、".join(CHANGE_FIELDS.values())
        return refuse("change.field_invalid",
                      f"不能变更以下内容:{'、'.join(bad)};可变更的内容为:{allowed}。", ART_APPROVAL)
    changes = changed_fields(before, after)
    if not changes:
        return refuse("change.nothing_changed", "变更申请与原批准内容相同,没有需要变更的内容。", ART_APPROVAL)
    for field, (_, new) in changes.items():
        problem = _value_problem(field, new)
        if problem:
            return refuse("change.value_invalid", f"变更后的{problem},当前为 {_show(field, new)}。", ART_APPROVAL)
    merged = {**before, **after}
    start, end = merged.get("planned_start"), merged.get("planned_end")
    if isinstance(start, date) and isinstance(end, date) and end < start:
        return refuse("change.value_invalid",
                      f"变更后的计划完成日期 {end.isoformat()} 早于计划开始日期 {start.isoformat()}。", ART_APPROVAL)
    if not (reason or "").strip():
        listed = ";".join(f"{CHANGE_FIELDS[k]}:{_show(k, old)} → {_show(k, new)}" for k, (old, new) in changes.items())
        return refuse("change.reason_missing",
                      f"项目变更须说明确需变更的特殊原因({listed})。", ART_APPROVAL)
    return OK


# --------------------------------------------------------------------------------------------------
# Termination (Art. 11): both main leaders, each once, with a reason
# --------------------------------------------------------------------------------------------------


def check_termination_vote(role: str, roles_voted: Collection[str], actor_id: int, voters: Collection[int]) -> Verdict:
    """Each main leader decides a termination once, and the two decisions come from two different people."""
    if role not in LEADER_ROLES:
        allowed = "、".join(LEADER_ROLES.values())
        return refuse("approval.role_invalid", f"只有{allowed}可以终止项目。", ART_APPROVAL)
    if role in roles_voted:
        return refuse("termination.already_decided", f"{LEADER_ROLES[role]}已同意终止,不能重复决定。", ART_APPROVAL)
    if actor_id in voters:
        return refuse("termination.already_decided",
                      "您已以另一主要领导身份同意终止;两位主要领导的决定须由两名不同人员作出。", ART_APPROVAL)
    return OK
