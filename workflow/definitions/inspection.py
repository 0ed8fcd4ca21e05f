"""A regular inspection (定期检查) of one community over a period by the area's working committee (细则 第十九条)."""
from enum import StrEnum


class State(StrEnum):
    planned = "planned"
    in_progress = "in_progress"
    completed = "completed"
    cancelled = "cancelled"


INITIAL = State.planned
TERMINAL = [State.completed, State.cancelled]

LABELS = {"planned": "已计划", "in_progress": "检查中", "completed": "检查完毕", "cancelled": "已取消"}

EVENT_LABELS = {"start_inspection": "开始检查", "record_finding": "记录检查发现", "complete_inspection": "完成检查",
                "cancel_inspection": "取消检查"}

_WORKING = ["working_member", "working_secretary"]

TRANSITIONS = [
    {"trigger": "start_inspection", "source": "planned", "dest": "in_progress", "conditions": [], "roles": _WORKING},
    {"trigger": "cancel_inspection", "source": "planned", "dest": "cancelled", "conditions": ["reason_given"],
     "roles": _WORKING},
    # each finding starts a workflow of its own (definitions/finding.py), its rectification deadline a row swept
    # by the scheduler
    {"trigger": "record_finding", "source": "in_progress", "dest": None, "conditions": ["finding_valid"],
     "roles": _WORKING},
    {"trigger": "complete_inspection", "source": "in_progress", "dest": "completed", "conditions": ["summary_given"],
     "roles": _WORKING},
]

ARTICLES = {"start_inspection": "第十九条", "cancel_inspection": "第十九条", "record_finding": "第十九条",
            "complete_inspection": "第十九条"}
