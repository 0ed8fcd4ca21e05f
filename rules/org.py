"""The city's organisations and the people who hold posts in them (第二条: the communities the regulation
covers are the ones the city names; SPEC section 1).

The tree is city (市) → area (大社区) → community (社区). The city administrator creates, renames, moves
(a community to another area of the same city) and closes areas and communities, and loads rosters of
people and their posts. Each function here is one check on plain values; the use cases are in
``workflow.org`` and ``workflow.roster``.
"""
from __future__ import annotations

import datetime as dt
import re
from collections.abc import Collection, Sequence

from rules.verdict import OK, Verdict, refuse

ART_ORG = "第二条"
#: refusals about the approval or a change still being decided by the area (Art. 11)
ART_APPROVAL = "第十一条"
#: refusals about invoice signatures (Art. 13)
ART_PAYMENT = "第十三条"
#: refusals about the year-end report and disclosure the community still owes (Art. 15, 16)
ART_YEAR_END = "第十五条、第十六条"

LEVELS: dict[str, str] = {"city": "市", "area": "大社区", "community": "社区"}
#: what each level hangs under
PARENT_LEVEL: dict[str, str | None] = {"city": None, "area": "city", "community": "area"}

#: the level of the organisation a role is held in (SPEC section 1)
ROLE_LEVEL: dict[str, str] = {
    "community_secretary": "community", "community_staff": "community", "supervisor": "community",
    "working_member": "area", "working_secretary": "area", "construction_director": "area",
    "finance_officer": "area", "city_admin": "city",
}
ROLE_LABELS: dict[str, str] = {
    "community_secretary": "社区党委书记", "community_staff": "社区党委委员/社区工作者",
    "supervisor": "社区议事监督委员会成员", "working_member": "社区党工委委员",
    "working_secretary": "社区党工委书记", "construction_director": "社区建设管理委员会主任",
    "finance_officer": "党工委财务管理人员", "city_admin": "市委组织部/财政",
}

CODE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$")
USERNAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{2,63}$")
PHONE_RE = re.compile(r"^[0-9+\- ]{3,32}$")
EMAIL_RE = re.compile(r"^[^@\s,;<>]+@[^@\s,;<>]+\.[^@\s,;<>]+$")
MAX_NAME = 100
MAX_PERSON_NAME = 64
MAX_REASON = 500
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def level_label(level: str) -> str:
    return LEVELS.get(level, level)


def _few(names: Sequence[str], limit: int = 5) -> str:
    """The first few names of a list, for a message."""
    return "、".join(names[:limit]) + (" 等" if len(names) > limit else "")


# ------------------------------------------------------------------------------ organisations


def check_found(found: bool, what: str) -> Verdict:
    """The organisation named exists (``what``: how it was named, e.g. “社区 #12” or “代码 S01”)."""
    if found:
        return OK
    return refuse("org.not_found", f"{what} 不存在", ART_ORG)


def check_code(code: str) -> Verdict:
    """An organisation's code: 1–32 letters, digits, '-' or '_', starting with a letter or digit."""
    if CODE_RE.match(code):
        return OK
    shown = code if code else "(空)"
    return refuse("org.code_invalid", f"组织代码“{shown}”无效:须为 1–32 位字母、数字、“-”或“_”,以字母或数字开头",
                  ART_ORG)


def check_level(level: str, allowed: Collection[str] = ("area", "community")) -> Verdict:
    """The level of an organisation being made or loaded (the city itself is made at installation)."""
    if level in allowed:
        return OK
    names = "、".join(f"{level_label(a)}({a})" for a in allowed)
    return refuse("org.level_invalid", f"组织层级“{level or '(空)'}”无效,应为 {names}", ART_ORG)


def check_name(name: str, what: str = "组织名称", limit: int = MAX_NAME) -> Verdict:
    """A name: not blank, at most ``limit`` characters, no control characters."""
    if not name.strip():
        return refuse("org.name_invalid", f"{what}不能为空", ART_ORG)
    if len(name) > limit:
        return refuse("org.name_invalid", f"{what}过长(最多 {limit} 个字符,当前 {len(name)} 个)", ART_ORG)
    if _CONTROL.search(name):
        return refuse("org.name_invalid", f"{what}含有控制字符", ART_ORG)
    return OK


def check_code_free(code: str, taken_by: str | None) -> Verdict:
    """Codes are unique across the whole installation (``taken_by``: the name of the holder, if any)."""
    if taken_by is None:
        return OK
    return refuse("org.code_taken", f"组织代码 {code} 已被“{taken_by}”使用", ART_ORG)


def check_name_free(name: str, parent_name: str, taken: bool) -> Verdict:
    """Two organisations under the same parent never share a name (residents could not tell them apart)."""
    if not taken:
        return OK
    return refuse("org.name_taken", f"“{parent_name}”下已有名为“{name}”的组织", ART_ORG)


def check_parent(level: str, parent_level: str | None, parent_code: str = "") -> Verdict:
    """An area hangs under a city, a community under an area (``parent_level`` None: no such parent)."""
    wanted = PARENT_LEVEL.get(level)
    if parent_level == wanted and (wanted is not None or not parent_code):
        return OK
    if wanted is None:
        return refuse("org.parent_invalid", f"{level_label(level)}是最高一级,不隶属于其他组织", ART_ORG)
    if parent_level is None:
        where = f"上级组织 {parent_code} 不存在" if parent_code else "未指定上级组织"
    else:
        where = f"上级组织 {parent_code} 是{level_label(parent_level)}"
    need = level_label(wanted) if wanted else "无"
    return refuse("org.parent_invalid", f"{level_label(level)}须隶属于{need},{where}", ART_ORG)


def check_open(name: str, closed_on: dt.date | None) -> Verdict:
    """A closed organisation takes no new action: no project, fund year, post, rename or move."""
    if closed_on is None:
        return OK
    return refuse("org.closed", f"“{name}”已于 {closed_on.isoformat()} 撤销,不能再办理此事项", ART_ORG)


def check_same_city(name: str, city_id: int | None, allowed_cities: Collection[int]) -> Verdict:
    """The administrator acts only within the cities where they hold the ``city_admin`` post."""
    if city_id is not None and city_id in allowed_cities:
        return OK
    return refuse("org.other_city", f"“{name}”不属于您管理的市,只有本市的市委组织部/财政管理员可以调整", ART_ORG)


def check_admin(is_admin: bool) -> Verdict:
    """Only the city administrator (``city_admin``) sets up the city's organisations and roster."""
    if is_admin:
        return OK
    return refuse("org.admin_only", "此操作仅限市委组织部/财政管理员(city_admin)", ART_ORG)


def check_reason(reason: str) -> Verdict:
    """Closing an organisation states why (at least two characters, at most 500)."""
    text = reason.strip()
    if 2 <= len(text) <= MAX_REASON:
        return OK
    return refuse("org.reason_missing", f"撤销组织须填写原因(2–{MAX_REASON} 个字)", ART_ORG)


def check_rename(old: str, new: str) -> Verdict:
    """A rename changes the name."""
    if old != new.strip():
        return OK
    return refuse("org.rename_unchanged", f"新名称与原名称“{old}”相同,无需更名", ART_ORG)


# ---------------------------------------------------------------------------------------- move


def check_movable(level: str) -> Verdict:
    """Only a community moves, to another area of the same city (an area's city never changes)."""
    if level == "community":
        return OK
    return refuse("org.move_not_community", f"只有社区可以调整所属大社区,{level_label(level)}不能调整", ART_ORG)


def check_move_target(current_area_id: int, target_area_id: int, current_city: int, target_city: int | None,
                      target_name: str) -> Verdict:
    """The target is another area of the same city."""
    if target_area_id == current_area_id:
        return refuse("org.move_same_area", f"该社区已隶属于“{target_name}”,无需调整", ART_ORG)
    if target_city != current_city:
        return refuse("org.move_other_city", f"“{target_name}”不属于同一个市,社区只能调整到本市的其他大社区", ART_ORG)
    return OK


def check_no_pending_decision(pending: Sequence[str]) -> Verdict:
    """A community does not change area while its area is deciding an approval or a change (Art. 11): the
    two main leaders who approve, and the committee that consents to a change, are one area's."""
    if not pending:
        return OK
    shown = _few(pending)
    return refuse("org.move_decision_pending",
                  f"该社区有 {len(pending)} 个项目正在等待社区党工委审批或变更审批({shown}),"
                  "须由原大社区作出决定后方可调整所属大社区", ART_APPROVAL)


def check_no_partial_signatures(items: Sequence[str]) -> Verdict:
    """A community does not change area while an invoice carries some of the area's signatures but is unpaid
    (Art. 13): the director's and the working secretary's signatures on one invoice are one area's."""
    if not items:
        return OK
    shown = _few(items)
    return refuse("org.move_signatures_pending",
                  f"该社区有 {len(items)} 张发票已有大社区领导签字但尚未付款({shown}),"
                  "须由原大社区完成签字和结算后方可调整所属大社区", ART_PAYMENT)


def check_no_year_end_under_way(years: Sequence[int], what: str) -> Verdict:
    """Year-end (report, evaluation, disclosure) runs with one area from the report to the carry-over (Art. 15,
    16); ``what`` says what was attempted (调整所属大社区 / 撤销)."""
    if not years:
        return OK
    shown = "、".join(str(y) for y in years)
    return refuse("org.year_end_under_way",
                  f"该社区 {shown} 年度的年度报告、考核评议或年度公示尚未完成,须结转后方可{what}", ART_YEAR_END)


# --------------------------------------------------------------------------------------- close


def check_no_open_children(names: Sequence[str]) -> Verdict:
    """An area closes only when every community in it has closed or moved away."""
    if not names:
        return OK
    shown = _few(names)
    return refuse("org.close_has_communities",
                  f"该大社区还有 {len(names)} 个未撤销的社区({shown}),须先撤销或调整到其他大社区", ART_ORG)


def check_no_open_projects(codes: Sequence[str]) -> Verdict:
    """A community closes only when none of its projects is still running (drafts included: withdraw them)."""
    if not codes:
        return OK
    shown = _few(codes)
    return refuse("org.close_projects_open",
                  f"该社区还有 {len(codes)} 个未办结的项目({shown}),须办结、撤回或终止后方可撤销", ART_ORG)


def check_year_has_no_projects(years: Sequence[int]) -> Verdict:
    """An open fund year in which projects were proposed must be reported and disclosed (Art. 15, 16) before
    its community closes; an open year without any project is frozen with the community."""
    if not years:
        return OK
    shown = "、".join(str(y) for y in years)
    return refuse("org.close_year_open",
                  f"该社区 {shown} 年度已有项目,须完成年度报告、年度公示和结转后方可撤销", ART_YEAR_END)


# ----------------------------------------------------------------------------- people and posts


def check_username(username: str) -> Verdict:
    if USERNAME_RE.match(username):
        return OK
    return refuse("org.username_invalid",
                  f"用户名“{username or '(空)'}”无效:须为 3–64 位字母、数字、“.”“_”或“-”,以字母或数字开头", ART_ORG)


def check_phone(phone: str) -> Verdict:
    if not phone or PHONE_RE.match(phone):
        return OK
    return refuse("org.phone_invalid", f"电话“{phone}”无效:只能含数字、“+”“-”和空格(3–32 位)", ART_ORG)


def check_email(email: str) -> Verdict:
    if not email or (len(email) <= 254 and EMAIL_RE.match(email)):
        return OK
    return refuse("org.email_invalid", f"电子邮箱“{email}”格式不正确", ART_ORG)


def check_role(role: str) -> Verdict:
    if role in ROLE_LEVEL:
        return OK
    return refuse("org.role_invalid", f"岗位“{role or '(空)'}”不存在,应为: {'、'.join(ROLE_LEVEL)}", ART_ORG)


def check_role_level(role: str, org_level: str, org_code: str) -> Verdict:
    """A role is held in an organisation of its level (a community secretary in a community …)."""
    wanted = ROLE_LEVEL.get(role)
    if wanted is None or wanted == org_level:
        return OK
    return refuse("org.role_level",
                  f"{ROLE_LABELS[role]}({role})只能设在{level_label(wanted)}一级,{org_code} 是{level_label(org_level)}",
                  ART_ORG)


def check_term(valid_from: dt.date, valid_to: dt.date | None) -> Verdict:
    """A term's last day (inclusive) is not before its first."""
    if valid_to is None or valid_to >= valid_from:
        return OK
    return refuse("org.term_invalid", f"任期结束日 {valid_to.isoformat()} 早于开始日 {valid_from.isoformat()}", ART_ORG)


def terms_overlap(a_from: dt.date, a_to: dt.date | None, b_from: dt.date, b_to: dt.date | None) -> bool:
    """Two inclusive terms (``None``: open-ended) share a day."""
    return (a_to is None or b_from <= a_to) and (b_to is None or a_from <= b_to)


def check_no_overlap(role: str, org_code: str, other: tuple[dt.date, dt.date | None] | None) -> Verdict:
    """A person holds one role in one organisation once at a time (``other``: the overlapping term)."""
    if other is None:
        return OK
    end = other[1].isoformat() if other[1] else "至今"
    return refuse("org.term_overlap",
                  f"此人在 {org_code} 已有{ROLE_LABELS.get(role, role)}任期 {other[0].isoformat()}–{end},与本任期重叠",
                  ART_ORG)


def check_term_end_change(current_to: dt.date | None, new_to: dt.date | None) -> Verdict:
    """A term is ended or shortened by a roster, never reopened or extended past an end already recorded."""
    if current_to is None or (new_to is not None and new_to <= current_to):
        return OK
    shown = new_to.isoformat() if new_to else "不设结束日"
    return refuse("org.term_extend",
                  f"该任期已于 {current_to.isoformat()} 结束,不能改为 {shown};新的任期请另起一行,写明开始日", ART_ORG)


# ------------------------------------------------------------------------------------ accounts

MIN_PASSWORD = 10
MAX_PASSWORD = 128


def check_password(password: str) -> Verdict:
    """A password of 10–128 characters, not only spaces (accounts of the organisations' people)."""
    if MIN_PASSWORD <= len(password) <= MAX_PASSWORD and password.strip():
        return OK
    return refuse("account.password_weak", f"密码须为 {MIN_PASSWORD}–{MAX_PASSWORD} 个字符", ART_ORG)


def check_activation(found: bool, used: bool, expired: bool) -> Verdict:
    """A one-time activation code works once, before it expires, for the account it was issued to."""
    if found and not used and not expired:
        return OK
    if found and used:
        return refuse("account.activation_invalid", "该激活码已使用或已被新的激活码取代,请向管理员重新申领", ART_ORG)
    if found and expired:
        return refuse("account.activation_invalid", "该激活码已过期,请向管理员重新申领", ART_ORG)
    return refuse("account.activation_invalid", "用户名或激活码不正确", ART_ORG)
