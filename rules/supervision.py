"""Supervision (第十四条): the supervision committee signs off declaration, acceptance and write-off and may
hold a project with a concern; inspection and acceptance (第十二条).
"""
from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from types import MappingProxyType

from rules.verdict import OK, Verdict, refuse

ART_SUPERVISION = "第十四条"
ART_ACCEPTANCE = "第十二条"

#: the stages a supervisor signs off, and the project states (SPEC section 2) in which each may be signed.
SIGNOFF_STAGES: Mapping[str, frozenset[str]] = MappingProxyType({
    "declaration": frozenset({"preliminary_review", "joint_meeting", "publicity", "ready_to_submit"}),
    "acceptance": frozenset({"acceptance"}),
    "write_off": frozenset({"completion_publicity"}),
})

STAGE_LABELS: dict[str, str] = {
    "declaration": "申报",
    "acceptance": "验收",
    "write_off": "核销",
}

#: who may sit on the acceptance team for the working committee.
ACCEPTANCE_WORKING_ROLES: frozenset[str] = frozenset({"working_member", "working_secretary"})

SATISFACTION_MIN = 0
SATISFACTION_MAX = 100


def check_signoff_stage(stage: str, state: str, already_signed_stages: Collection[str]) -> Verdict:
    """A supervisor signs a stage once, and only while the project is at that stage."""
    if stage not in SIGNOFF_STAGES:
        allowed = "、".join(f"{label}({key})" for key, label in STAGE_LABELS.items())
        return refuse("supervision.stage_invalid", f"监督签字环节“{stage}”无效,应为:{allowed}。",
                      ART_SUPERVISION)
    if state not in SIGNOFF_STAGES[stage]:
        return refuse("supervision.stage_invalid",
                      f"项目当前所处环节不能进行{STAGE_LABELS[stage]}监督签字。", ART_SUPERVISION)
    if stage in already_signed_stages:
        return refuse("supervision.already_signed", f"{STAGE_LABELS[stage]}环节已有监督签字,无需重复签字。",
                      ART_SUPERVISION)
    return OK


def check_supervisor_not_performer(supervisor_id: int, performer_ids: Collection[int]) -> Verdict:
    """Separation of duties: a supervisor never signs off a step they performed themselves."""
    if supervisor_id in performer_ids:
        return refuse("sod.supervisor_performed", "监督委员会成员不能对自己经办的环节进行监督签字。",
                      ART_SUPERVISION)
    return OK


def check_no_open_concern(open_concerns: int) -> Verdict:
    """An open supervision concern holds every forward step until it is resolved."""
    if open_concerns > 0:
        return refuse("supervision.open_concern",
                      f"议事监督委员会提出的 {open_concerns} 项监督意见尚未解决,项目暂停推进。", ART_SUPERVISION)
    return OK


def check_signed_off(stage: str, signed_stages: Collection[str], voided_stages: Collection[str] = ()) -> Verdict:
    """The supervisor's sign-off of a stage is present and in force. Raises ValueError for an unknown stage.

    ``voided_stages``: stages whose sign-off lapsed (a failed acceptance voids that round's acceptance
    sign-off, so the next acceptance needs a fresh one)."""
    if stage not in SIGNOFF_STAGES:
        raise ValueError(f"unknown sign-off stage {stage!r}")
    if stage not in signed_stages and stage in voided_stages:
        return refuse("supervision.signoff_voided",
                      f"上一轮综合验收未通过,该轮{STAGE_LABELS[stage]}监督签字已作废;"
                      f"须由议事监督委员会对本轮{STAGE_LABELS[stage]}重新签字。", ART_SUPERVISION)
    if stage not in signed_stages:
        return refuse("supervision.signoff_missing",
                      f"尚缺议事监督委员会对{STAGE_LABELS[stage]}环节的监督签字。", ART_SUPERVISION)
    return OK


def check_acceptance_team(team_roles: Collection[str]) -> Verdict:
    """The acceptance team: at least one working-committee member (or its secretary) and one supervisor."""
    missing: list[str] = []
    if not any(r in ACCEPTANCE_WORKING_ROLES for r in team_roles):
        missing.append("社区党工委委员(或书记)")
    if "supervisor" not in team_roles:
        missing.append("议事监督委员会成员")
    if missing:
        return refuse("acceptance.team_incomplete",
                      f"综合验收须有{'和'.join(missing)}在场,验收组不完整。", ART_ACCEPTANCE)
    return OK


def check_acceptance(quality: str, satisfaction: int) -> Verdict:
    """The acceptance record: a written assessment of quality and a satisfaction score 0–100."""
    if not (quality or "").strip():
        return refuse("acceptance.record_incomplete", "请填写项目质量的验收意见。", ART_ACCEPTANCE)
    if (not isinstance(satisfaction, int) or isinstance(satisfaction, bool)
            or not SATISFACTION_MIN <= satisfaction <= SATISFACTION_MAX):
        return refuse("acceptance.record_incomplete",
                      f"群众满意度须为 {SATISFACTION_MIN}–{SATISFACTION_MAX} 之间的整数,当前为 {satisfaction}。",
                      ART_ACCEPTANCE)
    return OK


def check_catalog_items(items: Sequence[tuple[str, str]]) -> Verdict:
    """Every purchase names the government procurement catalog item it falls under.

    ``items`` holds (line item description, catalog item).
    """
    missing = [desc for desc, catalog in items if not (catalog or "").strip()]
    if missing:
        return refuse("acceptance.catalog_missing",
                      f"以下明细未注明所属政府采购目录品目:{'、'.join(missing)}。", ART_ACCEPTANCE)
    return OK


def check_followup_recorded(count: int) -> Verdict:
    """The working committee's assigned member has followed the project at least once before completion."""
    if count < 1:
        return refuse("followup.missing",
                      "项目开始后社区党工委须安排专人定期跟进,尚无跟进检查记录,不能报告完工。", ART_ACCEPTANCE)
    return OK


def check_concern_resolvable(found: bool, resolved: bool) -> Verdict:
    """The concern resolved belongs to this project and is not yet resolved."""
    if not found:
        return refuse("supervision.concern_not_found", "该项目没有此条监督意见", ART_SUPERVISION)
    if resolved:
        return refuse("supervision.concern_resolved", "此条监督意见已经解决", ART_SUPERVISION)
    return OK
