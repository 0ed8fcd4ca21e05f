"""The fund year of one community (细则 第五条、第十三条、第十五条、第十六条; SPEC section 3)."""
from enum import StrEnum


class State(StrEnum):
    open = "open"
    reported = "reported"
    disclosing = "disclosing"
    disclosed = "disclosed"
    closed = "closed"


INITIAL = State.open
TERMINAL = [State.closed]

LABELS = {"open": "执行中", "reported": "已报告", "disclosing": "年度公示中",
          "disclosed": "已公示", "closed": "已结转"}

EVENT_LABELS = {"submit_report": "提交年度报告", "evaluate": "考核评议", "start_disclosure": "开始年度公示",
                "disclosure_elapsed": "年度公示期满", "close_year": "年度结转"}

TRANSITIONS = [
    {"trigger": "submit_report", "source": "open", "dest": "reported", "conditions": ["report_valid"],
     "roles": ["community_secretary"]},
    # Art. 16: the evaluation of the submitted report; it keeps the state and never holds the disclosure
    {"trigger": "evaluate", "source": ["reported", "disclosing", "disclosed"], "dest": None,
     "conditions": ["not_yet_evaluated"], "roles": ["working_secretary"]},
    # Art. 15: the community owes its residents the disclosure before 12-20 once it has reported,
    # whatever the area's pace; the working committee's evaluation (Art. 16) runs alongside it
    {"trigger": "start_disclosure", "source": "reported", "dest": "disclosing", "conditions": [],
     "roles": ["community_secretary"]},
    {"trigger": "disclosure_elapsed", "source": "disclosing", "dest": "disclosed",
     "conditions": ["deadline_reached"], "roles": ["system"]},
    {"trigger": "close_year", "source": "disclosed", "dest": "closed", "conditions": ["year_ended", "year_evaluated"],
     "roles": ["finance_officer", "system"]},
]

TIMERS = {
    "disclosing": {"kind": "disclosure", "event": "disclosure_elapsed", "workdays": "disclosure_workdays"},
}

ARTICLES = {"submit_report": "第十六条", "evaluate": "第十六条", "start_disclosure": "第十五条",
            "disclosure_elapsed": "第十五条", "close_year": "第十三条"}
