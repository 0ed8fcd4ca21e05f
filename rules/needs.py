"""Residents' needs (第六条、第九条): what a resident may post on the public form (居民点单) and how the
community committee answers it. Plain data in, Verdict out."""
from __future__ import annotations

import re

from rules.verdict import OK, Verdict, refuse

ART_NEEDS = "第九条"
TITLE_MIN, TITLE_MAX = 4, 100
DESCRIPTION_MAX = 1000
NAME_MAX = 20
ANSWER_MIN, ANSWER_MAX = 4, 1000
#: a telephone as residents write it: digits with optional +, spaces and dashes (landline or mobile).
_PHONE = re.compile(r"^\+?[0-9][0-9 \-]{5,30}$")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def check_need_text(title: str, description: str) -> Verdict:
    """The need says what is needed: a title of 4–100 characters, a description of at most 1,000."""
    t = title.strip()
    if len(t) < TITLE_MIN:
        return refuse("need.title_missing", f"请用一句话写明您的需求(至少 {TITLE_MIN} 个字)", ART_NEEDS)
    if len(t) > TITLE_MAX or len(description.strip()) > DESCRIPTION_MAX:
        return refuse("need.text_too_long",
                      f"需求标题最多 {TITLE_MAX} 个字、具体情况最多 {DESCRIPTION_MAX} 个字,请精简后再提交", ART_NEEDS)
    if _CONTROL.search(title) or _CONTROL.search(description):
        return refuse("need.text_too_long", "需求内容含有无法显示的控制字符,请重新输入", ART_NEEDS)
    return OK


def check_contact(name: str, contact: str) -> Verdict:
    """Name and contact are optional; a contact given is a telephone number (the committee calls back)."""
    if len(name.strip()) > NAME_MAX:
        return refuse("need.contact_invalid", f"称呼最多 {NAME_MAX} 个字", ART_NEEDS)
    c = contact.strip()
    if c and not _PHONE.match(c):
        return refuse("need.contact_invalid", "联系电话格式不正确:只能填写数字,可含“+”“-”和空格(6–32 位)", ART_NEEDS)
    return OK


def check_need_answerable(found: bool, answered: bool, answer: str) -> Verdict:
    """The committee answers a need of its community once, with an answer of 4–1,000 characters."""
    if not found:
        return refuse("need.not_found", "需求不存在或不属于您所在的社区", ART_NEEDS)
    if answered:
        return refuse("need.already_answered", "该需求已经答复,答复已告知居民,不能修改", ART_NEEDS)
    a = answer.strip()
    if not (ANSWER_MIN <= len(a) <= ANSWER_MAX):
        return refuse("need.answer_missing", f"答复须写明处理意见({ANSWER_MIN}–{ANSWER_MAX} 个字)", ART_NEEDS)
    return OK
