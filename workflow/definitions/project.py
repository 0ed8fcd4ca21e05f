"""The project lifecycle (细则 第九条–第十五条; SPEC section 2)."""
from enum import StrEnum


class State(StrEnum):
    draft = "draft"
    preliminary_review = "preliminary_review"
    joint_meeting = "joint_meeting"
    shelved = "shelved"
    publicity = "publicity"
    ready_to_submit = "ready_to_submit"
    pending_approval = "pending_approval"
    in_progress = "in_progress"
    change_review = "change_review"
    acceptance = "acceptance"
    settlement = "settlement"
    completion_publicity = "completion_publicity"
    closed = "closed"
    rejected = "rejected"
    withdrawn = "withdrawn"
    terminated = "terminated"


INITIAL = State.draft
TERMINAL = [State.closed, State.rejected, State.withdrawn, State.terminated]

LABELS = {
    "draft": "拟提议", "preliminary_review": "待党工委初步同意", "joint_meeting": "待联席会议讨论",
    "shelved": "暂时搁置", "publicity": "公示中", "ready_to_submit": "待报批", "pending_approval": "待审批",
    "in_progress": "实施中", "change_review": "变更审批中", "acceptance": "待综合验收", "settlement": "待结算",
    "completion_publicity": "建成公示中", "closed": "已办结", "rejected": "未批准", "withdrawn": "已撤回",
    "terminated": "已终止",
}

EVENT_LABELS = {
    "submit_preliminary": "报党工委初步同意", "withdraw": "撤回", "grant_preliminary": "初步同意",
    "return_for_revision": "退回修改", "record_meeting": "记录联席会议", "resume": "恢复商议",
    "publicity_elapsed": "公示期满", "submit": "报党工委审批", "approve": "审批同意", "reject": "不予批准",
    "request_change": "申请变更", "approve_change": "同意变更", "reject_change": "不同意变更",
    "report_completion": "报告完工", "accept": "综合验收通过", "fail_acceptance": "验收不通过",
    "close_settlement": "结算完毕", "completion_elapsed": "建成公示期满",
    "object": "提出异议", "answer_objection": "答复异议", "signoff": "监督签字", "raise_concern": "提出监督意见",
    "resolve_concern": "监督意见已解决", "record_board_meeting": "记录班子会议", "record_followup": "记录跟进检查",
    "add_payment_item": "添加付款事项", "sign_invoice": "发票签字", "record_voucher_evidence": "登记无发票凭证材料",
    "pay": "支付", "cancel_payment_item": "作废付款事项",
    "edit": "修改方案", "decide_flag": "认定禁止用途提示", "terminate": "终止项目", "confirm_answer": "确认答复",
    "accept_answer": "接受答复",
    "review_budget": "财务预算审核", "record_finance_check": "登记财务跟踪检查", "record_audit": "登记事后审计",
}

_OPEN = [s for s in State if s not in TERMINAL]
_SECRETARY = ["community_secretary"]
_LEADERS = ["working_secretary", "construction_director"]
_WORKING = ["working_member", "working_secretary"]
_CLEAR = ["no_open_concern"]  # an open supervision concern holds every forward transition (Art. 14)
_OBJECTION_STATES = ["publicity", "completion_publicity", "joint_meeting"]
# Art. 11: a project that cannot go on is stopped by both main leaders. Payments are made only in
# settlement (Art. 13), so that is where a project can stop part paid; not from acceptance, where the
# acceptance team's finding (fail_acceptance, back to in_progress) comes first.
_TERMINABLE = ["in_progress", "change_review", "settlement"]
_TERMINATE_GUARDS = _CLEAR + ["reason_given", "not_yet_terminated_by_me", "paid_vouchers_noticed"]

TRANSITIONS = [
    # Art. 9–10: proposal and preliminary consent
    {"trigger": "submit_preliminary", "source": "draft", "dest": "preliminary_review",
     "conditions": _CLEAR + ["proposal_valid", "catalog_items_valid", "forbidden_use_declared",
                             "keyword_flags_answered", "small_group_cap_warning"], "roles": _SECRETARY},
    {"trigger": "withdraw", "source": ["draft", "shelved"], "dest": "withdrawn", "conditions": [],
     "roles": _SECRETARY},
    {"trigger": "grant_preliminary", "source": "preliminary_review", "dest": "joint_meeting",
     "conditions": _CLEAR + ["keyword_flags_decided"], "roles": _WORKING},
    {"trigger": "return_for_revision", "source": ["preliminary_review", "pending_approval"], "dest": "draft",
     "conditions": ["reason_given"], "roles": _WORKING + ["construction_director"]},
    # Art. 10: joint meeting of the two committees and resident representatives
    {"trigger": "record_meeting", "source": "joint_meeting", "dest": "publicity",
     "conditions": _CLEAR + ["meeting_valid"], "when": ["meeting_passed"], "roles": _SECRETARY},
    {"trigger": "record_meeting", "source": "joint_meeting", "dest": "shelved",
     "conditions": ["meeting_valid"], "when": ["meeting_divided"], "roles": _SECRETARY},
    {"trigger": "record_meeting", "source": "joint_meeting", "dest": "draft",
     "conditions": ["meeting_valid"], "when": ["meeting_voted_down"], "roles": _SECRETARY},
    {"trigger": "resume", "source": "shelved", "dest": "joint_meeting", "conditions": ["reason_given"],
     "roles": _SECRETARY},
    # Art. 10: notice of at least three working days
    {"trigger": "publicity_elapsed", "source": "publicity", "dest": "ready_to_submit",
     "conditions": _CLEAR + ["deadline_reached"], "when": ["no_open_objection"], "roles": ["system"]},
    {"trigger": "publicity_elapsed", "source": "publicity", "dest": "joint_meeting",
     "conditions": ["deadline_reached"], "when": ["open_objection"], "roles": ["system"]},
    {"trigger": "submit", "source": "ready_to_submit", "dest": "pending_approval",
     "conditions": _CLEAR + ["declaration_signed_off"], "roles": _SECRETARY},
    # Art. 11: approval by both main leaders after the board meeting
    # Art. 18: where the policy says so, approval also waits for finance's budget review (事前预算)
    {"trigger": "approve", "source": "pending_approval", "dest": "in_progress",
     "conditions": _CLEAR + ["board_meeting_recorded", "budget_reviewed", "not_proposer", "not_yet_approved_by_me",
                             "small_group_cap", "budget_available"],
     "when": ["other_leader_approved"], "roles": _LEADERS},
    {"trigger": "approve", "source": "pending_approval", "dest": None,
     "conditions": _CLEAR + ["board_meeting_recorded", "budget_reviewed", "not_proposer", "not_yet_approved_by_me",
                             "small_group_cap", "budget_available"],
     "when": ["other_leader_pending"], "roles": _LEADERS},
    {"trigger": "reject", "source": "pending_approval", "dest": "rejected",
     "conditions": ["board_meeting_recorded", "not_proposer", "reason_given"], "roles": _LEADERS},
    # Art. 11: changes need the working committee's consent and are filed
    {"trigger": "request_change", "source": "in_progress", "dest": "change_review",
     "conditions": ["change_valid"], "roles": _SECRETARY},
    {"trigger": "approve_change", "source": "change_review", "dest": "in_progress",
     "conditions": _CLEAR + ["not_proposer", "change_within_cap", "change_within_budget"],
     "roles": ["working_secretary"]},
    {"trigger": "reject_change", "source": "change_review", "dest": "in_progress",
     "conditions": ["reason_given"], "roles": ["working_secretary"]},
    # Art. 12: inspection and acceptance
    {"trigger": "report_completion", "source": "in_progress", "dest": "acceptance",
     "conditions": _CLEAR + ["followup_recorded"], "roles": _SECRETARY},
    {"trigger": "accept", "source": "acceptance", "dest": "settlement",
     "conditions": _CLEAR + ["acceptance_valid", "catalog_items_named", "acceptance_signed_off"],
     "roles": _WORKING},
    {"trigger": "fail_acceptance", "source": "acceptance", "dest": "in_progress",
     "conditions": ["acceptance_team_valid", "reason_given"], "roles": _WORKING},
    # Art. 13: payment
    {"trigger": "close_settlement", "source": "settlement", "dest": "completion_publicity",
     "conditions": _CLEAR + ["all_items_paid"], "roles": ["finance_officer"]},
    # Art. 15: completion notice, then the supervisor's write-off
    {"trigger": "completion_elapsed", "source": "completion_publicity", "dest": "closed",
     "conditions": ["deadline_reached", "no_open_concern", "write_off_signed_off"], "roles": ["system"]},
    # Art. 11: termination by both main leaders (the first one's vote is recorded, the second one's ends it)
    {"trigger": "terminate", "source": _TERMINABLE, "dest": "terminated", "conditions": _TERMINATE_GUARDS,
     "when": ["other_leader_terminated"], "roles": _LEADERS},
    {"trigger": "terminate", "source": _TERMINABLE, "dest": None, "conditions": _TERMINATE_GUARDS,
     "when": ["other_leader_termination_pending"], "roles": _LEADERS},
    # Actions that keep the state
    # Art. 9–10: the community edits its plan while it is a draft; from preliminary consent on it is frozen
    {"trigger": "edit", "source": "draft", "dest": None, "conditions": ["edit_valid", "edit_cap_warning"],
     "roles": ["community_secretary", "community_staff"]},
    # Art. 4, 10: the working committee clears or upholds each keyword flag before its preliminary consent
    {"trigger": "decide_flag", "source": "preliminary_review", "dest": None, "conditions": ["flag_decidable"],
     "roles": _WORKING},
    {"trigger": "object", "source": ["publicity", "completion_publicity"], "dest": None,
     "conditions": ["notice_open"], "roles": ["public"]},
    {"trigger": "answer_objection", "source": _OBJECTION_STATES,
     "dest": None, "conditions": ["objection_answerable"], "roles": ["community_secretary", "community_staff"]},
    # an answer resolves an objection only when a supervisor confirms it or the resident accepts it
    {"trigger": "confirm_answer", "source": _OBJECTION_STATES, "dest": None, "conditions": ["answer_confirmable"],
     "roles": ["supervisor"]},
    {"trigger": "accept_answer", "source": _OBJECTION_STATES, "dest": None, "conditions": ["answer_acceptable"],
     "roles": ["public"]},
    {"trigger": "signoff", "source": _OPEN, "dest": None,
     "conditions": ["signoff_stage_valid", "supervisor_not_performer"], "roles": ["supervisor"]},
    {"trigger": "raise_concern", "source": _OPEN, "dest": None, "conditions": ["text_given"],
     "roles": ["supervisor"]},
    {"trigger": "resolve_concern", "source": _OPEN, "dest": None, "conditions": ["concern_resolvable"],
     "roles": ["supervisor"]},
    {"trigger": "record_board_meeting", "source": "pending_approval", "dest": None,
     "conditions": ["board_meeting_valid"], "roles": _WORKING},
    {"trigger": "record_followup", "source": ["in_progress", "change_review"], "dest": None,
     "conditions": ["text_given"], "roles": ["working_member"]},
    # Art. 13, 14, 17: an open concern holds the payment side too; the payee is the contractor; an invoice
    # is paid once in the whole city
    {"trigger": "add_payment_item", "source": "settlement", "dest": None,
     "conditions": _CLEAR + ["payment_item_valid", "payee_is_contractor", "invoice_unique", "payment_within_approved"],
     "roles": ["community_secretary", "finance_officer"]},
    {"trigger": "sign_invoice", "source": "settlement", "dest": None,
     "conditions": _CLEAR + ["invoice_signature_valid"],
     "roles": ["community_secretary", "construction_director", "working_secretary"]},
    {"trigger": "record_voucher_evidence", "source": ["settlement", "completion_publicity"], "dest": None,
     "conditions": ["voucher_evidence_valid"], "roles": ["community_secretary", "community_staff", "finance_officer"]},
    {"trigger": "pay", "source": "settlement", "dest": None,
     "conditions": _CLEAR + ["payment_ready", "payer_not_signer", "payment_within_approved",
                             "small_group_cap_at_payment"],
     "roles": ["finance_officer"]},
    # Art. 13: an unpaid item is cancelled (作废) by the community secretary with a reason; its signatures
    # lapse. Not held by a concern: withdrawing a wrong item is what a concern about it asks for.
    {"trigger": "cancel_payment_item", "source": "settlement", "dest": None,
     "conditions": ["reason_given", "payment_item_cancellable"], "roles": ["community_secretary"]},
    # Art. 18: finance supervises every project 事前预算、事中监督、事后审计. The audit comes after settlement,
    # also of a closed or terminated project: it records, it never moves the project.
    {"trigger": "review_budget", "source": "pending_approval", "dest": None, "conditions": ["finance_text_given"],
     "roles": ["finance_officer"]},
    {"trigger": "record_finance_check", "source": ["in_progress", "change_review", "acceptance", "settlement"],
     "dest": None, "conditions": ["finance_text_given"], "roles": ["finance_officer"]},
    {"trigger": "record_audit", "source": ["completion_publicity", "closed", "terminated"], "dest": None,
     "conditions": ["finance_text_given"], "roles": ["finance_officer"]},
]

# Step windows kept as deadline rows while the project is in a state (policy names the length).
TIMERS = {
    "publicity": {"kind": "publicity", "event": "publicity_elapsed", "workdays": "publicity_workdays"},
    "pending_approval": {"kind": "approval_due", "event": "", "workdays": "approval_workdays"},
    "completion_publicity": {"kind": "completion_publicity", "event": "completion_elapsed",
                             "workdays": "completion_publicity_workdays"},
}

# The article each event carries out; a refusal that no rule explains cites it.
ARTICLES = {
    "submit_preliminary": "第十条", "withdraw": "第九条", "grant_preliminary": "第十条", "return_for_revision": "第十条",
    "record_meeting": "第十条", "resume": "第十条", "publicity_elapsed": "第十条", "submit": "第十条",
    "approve": "第十一条", "reject": "第十一条", "request_change": "第十一条", "approve_change": "第十一条",
    "reject_change": "第十一条", "report_completion": "第十二条", "accept": "第十二条", "fail_acceptance": "第十二条",
    "close_settlement": "第十三条", "completion_elapsed": "第十五条", "object": "第七条第(四)项",
    "answer_objection": "第十条", "signoff": "第十四条", "raise_concern": "第十四条", "resolve_concern": "第十四条",
    "record_board_meeting": "第十一条", "record_followup": "第十二条", "add_payment_item": "第十三条",
    "sign_invoice": "第十三条", "record_voucher_evidence": "第十三条", "pay": "第十三条",
    "cancel_payment_item": "第十三条",
    "edit": "第九条", "decide_flag": "第四条", "terminate": "第十一条", "confirm_answer": "第十四条",
    "accept_answer": "第十条",
    "review_budget": "第十八条", "record_finance_check": "第十八条", "record_audit": "第十八条",
}
