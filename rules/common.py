"""Checks shared by many events: a reason or a text that must be given. The article is the event's own."""
from __future__ import annotations

from rules.verdict import OK, Verdict, refuse

#: the fewest characters that count as a reason or a text.
MIN_TEXT = 2


def check_reason_given(reason: str, article: str) -> Verdict:
    """An event that needs a reason (withdraw, reject, return …) has one of at least two characters."""
    if len(reason.strip()) >= MIN_TEXT:
        return OK
    return refuse("workflow.reason_missing", "此操作须填写理由", article)


def check_text_given(text: str, article: str) -> Verdict:
    """An event that records a text (an objection, a concern, an answer …) has one of at least two characters."""
    if len(text.strip()) >= MIN_TEXT:
        return OK
    return refuse("workflow.text_missing", "须填写具体内容", article)
