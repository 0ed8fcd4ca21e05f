"""Every verdict code a rule can return, with its article, what it checks and a representative message.

The catalog is what the UI, the API documentation and the audit trail use to explain a refusal; a test
checks that every code the rule functions return is listed here and that nothing listed is stale.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class RuleInfo:
    code: str
    article: str
    #: what the rule checks, in Chinese.
    checks: str
    #: a representative message, in Chinese.
    message: str


RULES: list[RuleInfo] = [
    # 第四条 — forbidden uses (rules.project)
    RuleInfo("forbidden.undeclared", "第四条", "逐项声明项目不属于第四条规定的禁止用途",
             "请逐项声明本项目不属于以下禁止用途:社区办公开支。"),
    RuleInfo("forbidden.declared_use", "第四条", "项目不得用于社区办公开支、社区工作者工资补贴等禁止用途",
             "专项经费不得用于社区工作者工资、补贴,该项目不能使用本经费。"),
    RuleInfo("forbidden.flag_unanswered", "第四条", "含禁止用途关键词的明细须书面说明后方可报送",
             "以下明细可能属于禁止用途,须书面说明后方可报送:“办公椅采购”(含“办公”“办公椅”)。"),
    # 第五条、第十三条 — budget (rules.cap)
    RuleInfo("budget.exceeded", "第五条、第十三条", "已承诺与已支付金额合计不超过年度经费加上年结余",
             "本年度专项经费总额 200000.00 元,已承诺 150000.00 元、已支付 40000.00 元,尚余 10000.00 元,"
             "不足本次 20000.00 元。"),
    # 第七条第(二)项 — small-group cap (rules.cap, rules.project)
    RuleInfo("cap.small_group", "第七条第(二)项", "受益群体较小项目的使用额度合计不超过年度总额的20%",
             "受益群体较小的项目使用额度最多为 40000.00 元(年度经费 200000.00 元的 20%),已占用 30000.00 元,"
             "本次 15000.00 元,合计 45000.00 元,超出 5000.00 元。"),
    RuleInfo("cap.cannot_unmark", "第七条第(二)项", "直接受益人数低于标准的项目不能取消“受益群体较小”标记",
             "该项目直接受益人数 30 人,少于 50 人,属于受益群体较小的项目,不能取消“受益群体较小”标记。"),
    # 第八条 — categories (rules.project)
    RuleInfo("category.invalid", "第八条", "使用范围须为第八条规定的六类之一",
             "使用范围“travel”不在第八条规定的六类之内。"),
    RuleInfo("category.other_needs_justification", "第八条", "“其他方面服务”须书面说明理由",
             "选择“其他方面服务”须书面说明属于社区群众迫切需要的服务事项的理由(至少 10 个字)。"),
    # 第九条 — proposal (rules.project)
    RuleInfo("proposal.no_need", "第九条", "一事一议:项目须关联至少一条群众需求",
             "项目须采取一事一议方式,关联至少一条收集到的群众需求。"),
    RuleInfo("proposal.title_missing", "第九条", "项目须有名称", "请填写项目名称。"),
    RuleInfo("proposal.amount_not_positive", "第九条", "申请金额须大于零", "申请金额须大于 0 元,当前为 0.00 元。"),
    RuleInfo("proposal.line_items_mismatch", "第九条", "明细金额等于数量乘单价,明细合计等于申请金额",
             "支出明细合计 9800.00 元,与申请金额 10000.00 元不一致。"),
    RuleInfo("proposal.line_item_invalid", "第九条", "每项明细有名称、正整数数量、非负单价",
             "明细“健身器材”的数量应为正整数,当前为 0。"),
    RuleInfo("proposal.beneficiaries_invalid", "第九条", "直接受益人数至少为1人",
             "直接受益人数须至少为 1 人,当前为 0。"),
    RuleInfo("proposal.dates_invalid", "第九条", "计划完成日期不早于计划开始日期",
             "计划完成日期 2026-03-01 早于计划开始日期 2026-04-01。"),
    RuleInfo("proposal.contractor_kind_invalid", "第九条", "承办方类型须为单位或个人",
             "承办方类型“company”无效,应为单位(organisation)或个人(individual)。"),
    # 第十条 — joint meeting (rules.meeting)
    RuleInfo("meeting.negative_votes", "第十条", "表决票数不能为负",
             "表决票数不能为负数(赞成 -1、反对 0、弃权 0)。"),
    RuleInfo("meeting.attendee_invalid", "第十条", "参会人员有姓名且不重复登记", "参会人员“张三”重复登记。"),
    RuleInfo("meeting.no_committee_members", "第十条", "联席会议须有社区“两委”成员参加",
             "联席会议须有社区“两委”成员参加,参会名单中没有两委成员。"),
    RuleInfo("meeting.no_resident_reps", "第十条", "联席会议须有规定人数的居民代表参加",
             "联席会议须有至少 1 名居民代表参加,参会名单中只有 0 名。"),
    RuleInfo("meeting.no_votes", "第十条", "联席会议须对项目进行表决", "联席会议须对项目进行表决,未登记任何表决票。"),
    RuleInfo("meeting.votes_exceed_attendees", "第十条", "表决票数合计不多于参会人数",
             "表决票数合计 12 票,多于参会人数 9 人。"),
    RuleInfo("meeting.minutes_missing", "第十条", "联席会议须有会议记录", "请填写联席会议的会议记录(讨论情况)。"),
    # 第十一条 — approval and change (rules.meeting, rules.approval)
    RuleInfo("approval.board_meeting_invalid", "第十一条", "党工委班子会议有足够参会人数和研究意见",
             "党工委班子会议须至少 2 名班子成员参加,登记的参会人数为 1 人。"),
    RuleInfo("approval.no_board_meeting", "第十一条", "审批前须召开党工委班子会议研究",
             "社区党工委须先召开班子会议进行研究,登记会议后方可审批。"),
    RuleInfo("sod.proposer_cannot_approve", "第十一条", "提议人不能审批自己提议的项目",
             "项目提议人不能审批自己提议的项目。"),
    RuleInfo("approval.role_invalid", "第十一条", "只有两位主要领导可以审批",
             "只有社区党工委书记、社区建设管理委员会主任可以审批项目。"),
    RuleInfo("approval.already_approved", "第十一条", "每位主要领导只审批一次,两位主要领导须为不同人员",
             "社区党工委书记已审批同意,不能重复审批。"),
    RuleInfo("change.field_invalid", "第十一条", "只能变更金额、范围、承办方、日期、受益人数",
             "不能变更以下内容:category;可变更的内容为:金额、项目名称、项目内容(范围)……"),
    RuleInfo("change.nothing_changed", "第十一条", "变更申请须有实际变更内容",
             "变更申请与原批准内容相同,没有需要变更的内容。"),
    RuleInfo("change.value_invalid", "第十一条", "变更后的数值有效", "变更后的金额须为大于 0 的整数分,当前为 0.00 元。"),
    RuleInfo("change.reason_missing", "第十一条", "变更须说明确需变更的特殊原因",
             "项目变更须说明确需变更的特殊原因(金额:10000.00 元 → 12000.00 元)。"),
    # 第十二条 — inspection and acceptance (rules.supervision)
    RuleInfo("followup.missing", "第十二条", "项目开始后党工委专人定期跟进",
             "项目开始后社区党工委须安排专人定期跟进,尚无跟进检查记录,不能报告完工。"),
    RuleInfo("acceptance.team_incomplete", "第十二条", "综合验收须有党工委委员和议事监督委员会成员在场",
             "综合验收须有议事监督委员会成员在场,验收组不完整。"),
    RuleInfo("acceptance.record_incomplete", "第十二条", "验收记录有质量意见和0–100的群众满意度",
             "请填写项目质量的验收意见。"),
    RuleInfo("acceptance.catalog_missing", "第十二条", "购买的服务用品注明所属政府采购目录品目",
             "以下明细未注明所属政府采购目录品目:乒乓球台。"),
    # 第十三条 — payment (rules.payment, rules.cap)
    RuleInfo("payment.exceeds_approved", "第十三条", "项目支付合计不超过批准金额",
             "项目批准金额 10000.00 元,已支付 8000.00 元,本次 3000.00 元将使支付合计 11000.00 元超出批准金额。"),
    RuleInfo("payment.item_invalid", "第十三条", "付款事项为发票或无发票凭证,金额为正,有收款方,发票有号码",
             "发票付款须填写发票号码。"),
    RuleInfo("payment.already_fully_signed", "第十三条", "发票三方签字完成后不再签字", "该发票三方签字已完成,无需再签。"),
    RuleInfo("payment.signature_out_of_order", "第十三条", "发票依次由社区党委书记、建管委主任、党工委书记签字",
             "发票须依次由社区党委书记 → 社区建设管理委员会主任 → 社区党工委书记签字确认,"
             "下一位应由社区建设管理委员会主任签字,而非社区党工委书记。"),
    RuleInfo("payment.signature_post_invalid", "第十三条", "签字人签字当日在任",
             "签字人今日未担任社区党委书记职务(任期未开始或已结束),不能签字。"),
    RuleInfo("payment.signature_same_person", "第十三条", "发票三个签字由三名不同人员作出",
             "同一人不能在同一张发票上签字两次,三个签字须由三名不同人员作出。"),
    RuleInfo("payment.invoice_unsigned", "第十三条", "发票三方签字齐全后方可付款",
             "发票签字确认未完成:尚缺社区党工委书记的签字,不能付款。"),
    RuleInfo("sod.payer_signed", "第十三条", "付款的财务人员不是发票签字人", "付款的财务管理人员不能是该发票的签字人。"),
    RuleInfo("payment.voucher_not_allowed", "第十三条", "无发票结算仅限个人承办或帮扶资助事项",
             "只有个人承办或属于帮扶资助性质、确实无法开具发票的服务事项,才能以收款人签字作为结算凭证。"),
    RuleInfo("payment.voucher_evidence_missing", "第十三条", "无发票付款前具备事前会议决定、事中签字证明、收款人签字",
             "无发票结算须先具备:收款人签字,目前缺少上述材料,不能付款。"),
    RuleInfo("payment.voucher_notice_missing", "第十三条", "无发票结算付款后及时公示",
             "无发票结算付款后须及时公示,尚未登记事后公示。"),
    RuleInfo("payment.no_items", "第十三条", "结算须有付款事项", "尚未登记任何付款事项,不能完成结算。"),
    RuleInfo("payment.items_unpaid", "第十三条", "全部付款事项支付后方可完成结算",
             "尚有 1 笔付款事项未支付(共 3 笔),不能完成结算。"),
    # 第十四条 — supervision (rules.supervision)
    RuleInfo("supervision.stage_invalid", "第十四条", "监督签字环节有效且与项目当前环节相符",
             "项目当前所处环节不能进行验收监督签字。"),
    RuleInfo("supervision.already_signed", "第十四条", "每个环节只签字一次", "申报环节已有监督签字,无需重复签字。"),
    RuleInfo("sod.supervisor_performed", "第十四条", "监督委员会成员不监督自己经办的环节",
             "监督委员会成员不能对自己经办的环节进行监督签字。"),
    RuleInfo("supervision.open_concern", "第十四条", "未解决的监督意见暂停项目推进",
             "议事监督委员会提出的 1 项监督意见尚未解决,项目暂停推进。"),
    RuleInfo("supervision.signoff_missing", "第十四条", "申报、验收、核销环节须有监督签字",
             "尚缺议事监督委员会对核销环节的监督签字。"),
    RuleInfo("supervision.concern_not_found", "第十四条", "解决的监督意见属于本项目", "该项目没有此条监督意见"),
    RuleInfo("supervision.concern_resolved", "第十四条", "每条监督意见只解决一次", "此条监督意见已经解决"),
    # 第十条 — publicity notices and objections (rules.notice)
    RuleInfo("notice.open_objection", "第十条", "公示期内的异议全部解决后方可报送,否则回到联席会议",
             "公示期内有 1 条异议未解决,须回到联席会议"),
    RuleInfo("notice.closed", "第十条", "异议只能在公示期内提出", "公示期已结束或未开始,不能再提出异议"),
    RuleInfo("notice.objection_not_found", "第十条", "答复的异议属于本项目", "该项目没有此条异议"),
    RuleInfo("notice.objection_resolved", "第十条", "每条异议只答复解决一次", "此条异议已经解决"),
    # 第十三条 — payment items (rules.payment)
    RuleInfo("payment.item_not_found", "第十三条", "付款事项属于本项目", "该项目没有此付款事项"),
    RuleInfo("payment.not_signable", "第十三条", "只对未支付的发票签字", "只有未支付的发票须签字"),
    RuleInfo("payment.not_voucher", "第十三条", "凭证材料只登记在无发票付款事项上", "此付款事项不是无发票凭证"),
    RuleInfo("payment.evidence_duplicate", "第十三条", "每项凭证材料只登记一次", "此项凭证材料已经登记"),
    RuleInfo("payment.notice_before_payment", "第十三条", "无发票结算的事后公示在支付之后登记",
             "事后公示须在支付之后登记"),
    RuleInfo("payment.evidence_after_payment", "第十三条", "事前会议决定、事中签字证明、收款人签字在支付之前登记",
             "事前、事中材料须在支付前登记"),
    RuleInfo("payment.already_paid", "第十三条", "每个付款事项只支付一次", "此付款事项已支付"),
    RuleInfo("payment.key_reused", "第十三条", "付款的幂等键只用于同一付款事项,防止重复或错付",
             "该幂等键已用于另一笔付款"),
    # 第五条、第十三条、第十六条 — the fund year (rules.year)
    RuleInfo("year.not_open", "第五条", "项目只能在已开放的年度经费中提议", "2027 年度经费未开放,不能提议项目"),
    RuleInfo("year.report_incomplete", "第十六条", "年度报告说明全年经费使用情况(至少10个字)",
             "年度报告须说明全年经费使用情况(至少 10 个字)"),
    RuleInfo("year.not_ended", "第十三条", "年度结束后方可结转结余", "2026 年度尚未结束,不能结转"),
    # 第五条、第九条 — use cases (rules.workflow)
    RuleInfo("policy.missing", "第五条", "本市已发布生效的政策版本(经费额度、比例等参数)", "本市尚未发布生效的政策版本"),
    RuleInfo("proposal.need_invalid", "第九条", "项目关联的群众需求是本社区收集的", "需求 #12 不属于本社区"),
    # every event — reasons, texts and deadlines (rules.common, rules.deadline); the article is the event's own
    RuleInfo("workflow.reason_missing", "第十一条", "退回、驳回、撤回、恢复等操作须填写理由(条款随操作而定)",
             "此操作须填写理由"),
    RuleInfo("workflow.text_missing", "第十四条", "监督意见、跟进记录等须填写具体内容(条款随操作而定)", "须填写具体内容"),
    RuleInfo("deadline.missing", "第十条", "到期推进的环节有期限记录(条款随操作而定)", "未找到该阶段的期限记录"),
    RuleInfo("deadline.not_reached", "第十条", "公示期等期限届满后方可推进(条款随操作而定)",
             "期限未满: 须到 2026-05-12 00:00(北京时间)后方可进行"),
    # every event — the engine's checks (rules.workflow); the article is the event's own, or none
    RuleInfo("workflow.unknown_event", "第七条第(三)项", "操作是该流程声明的操作(按规定程序办理)",
             "没有名为「approve_all」的操作"),
    RuleInfo("workflow.not_found", "第七条第(三)项", "操作的记录存在(按规定程序办理)", "记录不存在"),
    RuleInfo("workflow.version_mismatch", "第十一条",
             "请求基于记录的当前版本,不覆盖他人的修改(条款随操作而定;此处为示例)",
             "记录已被他人修改(当前版本 5,请求基于版本 4),请刷新后重试"),
    RuleInfo("workflow.invalid_state", "第十一条", "当前状态允许执行该操作(通用检查,条款随操作而定)",
             "当前状态为「拟提议」,不能执行「审批同意」"),
    RuleInfo("auth.no_post", "第十一条", "操作人当日在该社区担任可执行该操作的岗位(通用检查,条款随操作而定)",
             "您当日没有可执行「审批同意」的岗位(需要: 社区党工委书记、社区建设管理委员会主任)"),
    RuleInfo("payload.invalid", "第十一条", "提交的内容格式正确、必填项齐全(通用检查,条款随操作而定)",
             "提交的内容不正确: minutes Field required"),
    RuleInfo("workflow.no_branch", "第十一条", "操作至少有一个分支的条件得到满足(通用检查,条款随操作而定)",
             "「审批同意」的条件不满足"),
]

BY_CODE: dict[str, RuleInfo] = {r.code: r for r in RULES}


def rule_info(code: str) -> RuleInfo | None:
    """The catalog entry of a code, or None."""
    return BY_CODE.get(code)
