"""A finding of an inspection (检查发现) and its rectification (整改), closed only when a second member of the
working committee has verified it (细则 第十九条)."""
from enum import StrEnum


class State(StrEnum):
    rectifying = "rectifying"
    submitted = "submitted"
    closed = "closed"


INITIAL = State.rectifying
"""A finding is recorded (``record_finding`` on its inspection) straight into rectification."""
TERMINAL = [State.closed]

LABELS = {"rectifying": "整改中", "submitted": "整改待核验", "closed": "已整改销号"}

EVENT_LABELS = {"submit_rectification": "提交整改情况", "verify_rectification": "核验整改",
                "reject_rectification": "退回重新整改"}

_WORKING = ["working_member", "working_secretary"]

TRANSITIONS = [
    {"trigger": "submit_rectification", "source": "rectifying", "dest": "submitted", "conditions": ["text_given"],
     "roles": ["community_secretary", "community_staff"]},
    # a second pair of eyes: not the member who recorded the finding
    {"trigger": "verify_rectification", "source": "submitted", "dest": "closed",
     "conditions": ["not_finding_recorder"], "roles": _WORKING},
    {"trigger": "reject_rectification", "source": "submitted", "dest": "rectifying",
     "conditions": ["not_finding_recorder", "reason_given"], "roles": _WORKING},
]

# The rectification deadline: the finding's own number of working days (``of: row``), from the day it is
# recorded and again from a rejection; overdue, it is escalated (workflow.sweep), never closed.
TIMERS = {
    "rectifying": {"kind": "rectification_due", "event": "", "workdays": "workdays", "of": "row"},
}

ARTICLES = {"submit_rectification": "第十九条", "verify_rectification": "第十九条",
            "reject_rectification": "第十九条"}
