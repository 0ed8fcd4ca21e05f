"""Chinese labels and help of every payload field and choice: the one place the web forms read.

Every event's form is generated from its payload model (``workflow.payloads``; the proposal and the
need from ``api.schemas``). A field's label and help are the entry of :data:`FIELDS` under the field's
name (``"Model.name"`` when one model's field means something else); for a name not listed, the model's
own ``Field(title=..., description=...)``. A ``Literal``
choice is labelled by :data:`CHOICES` (per field, then per value).

Adding an event: give each new field name an entry here (or a Chinese ``title`` on the model). A test
fails when a field or a choice of a user event has no Chinese label.
"""
from __future__ import annotations

from dataclasses import dataclass

from rules.project import CATEGORIES, CONTRACTOR_KINDS, FORBIDDEN_USES


@dataclass(frozen=True)
class FieldLabel:
    label: str
    help: str = ""
    widget: str = ""
    """A hint when the type alone does not say how to ask: ``yuan`` (an amount in yuan), ``textarea``,
    ``lines`` (a list of short texts, one per line), ``token`` (filled in by the page, hidden), ``password``,
    ``choice`` (a text field whose values are listed in :data:`CHOICES`)."""


def _f(label: str, help: str = "", widget: str = "") -> FieldLabel:
    return FieldLabel(label, help, widget)


FIELDS: dict[str, FieldLabel] = {
    # shared by many events
    "comment": _f("意见", "可不填;记入审计记录"),
    "reason": _f("理由", "记入审计记录;退回、驳回、撤回、恢复、终止等操作必须填写", "textarea"),
    "as_role": _f("以何岗位办理", "您同时持有多个可办理此事的岗位时选择"),
    # meetings (Art. 10, 11)
    "held_on": _f("会议日期"),
    "attendees": _f("参会人员", "两委委员、居民代表等;空行不计"),
    "name": _f("姓名"),
    "capacity": _f("身份"),
    "votes_for": _f("赞成票数"),
    "votes_against": _f("反对票数"),
    "votes_abstain": _f("弃权票数"),
    "minutes": _f("会议纪要", "讨论要点与结论", "textarea"),
    # objections and supervision (Art. 10, 14)
    "objection_id": _f("群众意见", "选择要答复的意见"),
    "answer": _f("答复内容", "将在公示栏公布", "textarea"),
    "resolved": _f("意见已解决", "勾选表示答复已解决该意见"),
    "accepted": _f("接受答复"),
    "confirmed": _f("确认答复", "勾选表示监督委员会确认答复已解决该意见"),
    "stage": _f("签字环节"),
    "text": _f("内容", "", "textarea"),
    "concern_id": _f("监督意见", "选择要销号的监督意见"),
    "resolution": _f("解决情况", "", "textarea"),
    "author_name": _f("您的称呼", "可不填;公开时只显示姓氏"),
    "contact": _f("联系方式", "可不填;不公开,仅供社区回访"),
    # execution, change, acceptance (Art. 11, 12)
    "changes": _f("变更内容", "只填写要变更的项目,未填写的保持不变"),
    "visited_on": _f("检查日期"),
    "notes": _f("检查情况", "", "textarea"),
    "summary": _f("情况摘要", "", "textarea"),
    "quality": _f("质量评价", "工程或服务质量的验收结论", "textarea"),
    "satisfaction": _f("群众满意度(%)", "0–100"),
    "team": _f("验收组成员", "至少一名党工委委员和一名监督委员会成员在场"),
    # payment (Art. 13)
    "kind": _f("类别"),
    "payment_item_id": _f("付款事项"),
    "amount": _f("金额(元)", "如 12000.00", "yuan"),
    "payee": _f("收款方"),
    "payee_account": _f("收款账号", "公开时脱敏"),
    "invoice_no": _f("发票号码"),
    "invoice_issuer_tax_id": _f("开票方纳税人识别号"),
    "issuer_tax_id": _f("开票方纳税人识别号", "可不填;发票号码连同开票方识别一张发票"),
    "receipt_code": _f("回执码"),
    "note": _f("材料内容", "会议决定、签字证明、收款人签字或公示情况的文字记录,将存档", "textarea"),
    "idempotency_key": _f("防重复提交码", "", "token"),
    # keyword flags (Art. 4): the working committee's decision at preliminary consent
    "line_item_id": _f("被提示的经费明细"),
    "decision": _f("决定"),
    # finance's steps and inspections (Art. 18, 19)
    "conclusion": _f("结论"),
    "article": _f("所依据的条款", "如 第十三条 或 第七条第(二)项"),
    "requirement": _f("整改要求", "", "textarea"),
    "rectification": _f("整改情况", "", "textarea"),
    "workdays": _f("整改期限(工作日)", "不填按政策规定的期限"),
    "project_id": _f("项目"),
    "flag_code": _f("预警代码"),
    "outcome": _f("结果"),
    "BudgetReviewIn.note": _f("预算审核意见", "预算依据、单价与数量是否合理(第十八条:事前预算)", "textarea"),
    "FinanceCheckIn.note": _f("跟踪检查情况", "资金使用与批准用途、进度是否一致(第十八条:事中监督)", "textarea"),
    "AuditIn.conclusion": _f("审计结论", "资金使用、票据、账实是否相符(第十八条:事后审计)", "textarea"),
    "FindingIn.workdays": _f("整改期限(工作日)", "自记录之日起计算的工作日数,1–250"),
    "FindingIn.description": _f("发现的问题", "", "textarea"),
    "FindingIn.project_id": _f("所涉项目", "可不填:针对社区经费管理整体的问题"),
    "CompleteIn.summary": _f("检查结论", "检查范围、发现问题数与整改要求概述", "textarea"),
    "RectificationIn.text": _f("整改情况", "已采取的整改措施和留存的材料", "textarea"),
    "flag_fingerprint": _f("预警指纹"),
    # fund year (Art. 15, 16)
    "service_effect": _f("服务效果", "", "textarea"),
    "rating": _f("考核等次"),
    # proposal and edits (Art. 4, 8, 9)
    "community_id": _f("社区"),
    "year": _f("经费年度"),
    "title": _f("项目名称", "一事一议:一个项目只办一件事"),
    "description": _f("项目内容", "做什么、在哪里、为谁做", "textarea"),
    "category": _f("使用范围(第八条)", "", "choice"),
    "category_justification": _f("“其他方面服务”的理由", "选择“其他方面服务”时必填,至少 10 个字", "textarea"),
    "beneficiaries_count": _f("直接受益人数", "低于政策门槛的为受益群体较小的项目(第七条第(二)项)"),
    "beneficiaries_desc": _f("受益对象", "哪些居民受益"),
    "contractor_name": _f("承办方"),
    "contractor_kind": _f("承办方类型", "", "choice"),
    "is_aid": _f("属于帮扶资助", "帮扶资助或个人承办的,可按无发票凭证结算(第十三条)"),
    "small_group_marked": _f("标记为受益群体较小的项目", "受益人数未低于门槛但社区党委认定受益群体较小时勾选"),
    "planned_start": _f("计划开始日期"),
    "planned_end": _f("计划完成日期"),
    "forbidden_use_declaration": _f("禁止用途声明(第四条)", "逐项声明本项目是否属于下列用途;属于任何一项的不能使用本经费"),
    "keyword_flags_answer": _f("对提示关键词的说明", "经费明细含有第四条禁止用途的关键词时,说明其并非禁止用途",
                               "textarea"),
    "need_ids": _f("对应的群众需求", "本项目回应的需求(可多选)"),
    "line_items": _f("经费明细", "每行一项;空行不计"),
    "LineItemIn.description": _f("明细", "购买的物品或服务"),
    # residents' forms on the notice board (居民点单, objections; issue 9)
    "PublicNeedIn.community_id": _f("所在社区"),
    "PublicNeedIn.title": _f("您的需求", "一句话写明希望社区办的事(4–100 个字),如:5号楼2单元楼道灯不亮"),
    "PublicNeedIn.description": _f("具体情况", "在哪里、影响多少人、持续多久……可不填(最多 1000 个字)", "textarea"),
    "PublicNeedIn.author_name": _f("您的称呼", "可不填;公开时只显示姓氏"),
    "PublicNeedIn.contact": _f("联系电话", "可不填;不公开,仅供社区回访"),
    "ObjectionIn.text": _f("您的意见", "对公示项目的意见或建议(最多 2000 个字)", "textarea"),
    "ObjectionIn.contact": _f("联系电话", "可不填;不公开,仅供社区回访"),
    "NeedAnswerIn.answer": _f("答复", "告诉居民怎么办、何时办(4–1000 个字);居民凭回执码可见", "textarea"),
    "EditLineItem.description": _f("明细", "购买的物品或服务"),
    "quantity": _f("数量"),
    "unit_price": _f("单价(元)", "", "yuan"),
    "catalog_item": _f("政府采购目录品目", "从本市政府采购目录中选择所属品目(第十二条)"),
    # administration
    "username": _f("用户名", "字母、数字、下划线、点或短横线,至少 3 个字符"),
    "display_name": _f("姓名"),
    "password": _f("初始密码", "至少 10 个字符;请当面告知本人并提醒修改", "password"),
    "phone": _f("手机号码", "可不填;不公开"),
    "organisation_id": _f("组织"),
    "role": _f("岗位"),
    "valid_from": _f("任期开始日"),
    "valid_to": _f("任期最后一天", "不填表示尚未结束"),
    # organisations and the roster (Art. 2; issue 11)
    "OrgIn.level": _f("层级", "大社区隶属于市,社区隶属于大社区", "choice"),
    "OrgIn.code": _f("组织代码", "1–32 位字母、数字、“-”或“_”,全系统唯一,如 S06", "text"),
    "OrgIn.name": _f("名称", "同一上级下不重名,如 向阳社区", "text"),
    "parent_id": _f("上级组织", "新设大社区选市,新设社区选大社区"),
    "OrgRenameIn.name": _f("新名称", "", "text"),
    "area_id": _f("调整到的大社区", "同一市内的另一个大社区"),
    "OrgMoveIn.reason": _f("调整原因", "可不填;记入审计记录", "textarea"),
    "OrgCloseIn.reason": _f("撤销原因", "必须填写(2–500 字);记入审计记录", "textarea"),
    "ActivateIn.username": _f("用户名", "管理员告知您的用户名", "text"),
    "ActivateIn.code": _f("激活码", "管理员给您的一次性激活码(72 小时内有效)", "text"),
    "ActivateIn.password": _f("新密码", "10–128 个字符;设置后请用它登录", "password"),
    # needs (Art. 6, 9)
    "NeedIn.title": _f("需求", "居民反映的事项,一句话说清"),
    "NeedIn.description": _f("具体情况", "地点、涉及哪些居民、反映人希望怎样解决", "textarea"),
    "channel": _f("收集渠道"),
    "residents_count": _f("反映居民人数"),
}

_STAGES = {"declaration": "申报", "acceptance": "验收", "write_off": "核销"}

#: choice labels by field name, then by value (first match wins)
CHOICES: dict[str, dict[str, str]] = {
    "category": dict(CATEGORIES),
    "contractor_kind": dict(CONTRACTOR_KINDS),
    "forbidden_use_declaration": dict(FORBIDDEN_USES),
    "capacity": {"two_committees": "两委委员", "resident_rep": "居民代表", "other": "其他"},
    "stage": _STAGES,
    "kind": {"invoice": "发票", "voucher": "无发票凭证(个人承办或帮扶资助)",
             "meeting_decision": "事前会议集体讨论决定", "inprocess_proof": "事中签字证明",
             "payee_signature": "收款人签字", "post_notice": "事后公示"},
    "rating": {"excellent": "优秀", "good": "良好", "fair": "一般", "poor": "较差"},
    "level": {"area": "大社区", "community": "社区"},
    "decision": {"cleared": "解除提示(经审查并非禁止用途)", "upheld": "维持提示(属于禁止用途)"},
    "conclusion": {"passed": "预算审核通过", "concerns": "预算存在问题", "normal": "执行正常", "issues": "发现问题",
                   "clean": "审计无问题"},
    "channel": {"visit": "入户走访", "hall": "服务大厅", "platform": "线上平台"},
    "outcome": {"passed": "预算审核通过", "failed": "预算审核未通过", "normal": "未见异常", "issues_found": "发现问题",
                "compliant": "审计无问题"},
    "role": {
        "community_secretary": "社区党委书记", "community_staff": "社区党委委员/社区工作者",
        "supervisor": "社区议事监督委员会成员", "working_member": "社区党工委委员",
        "working_secretary": "社区党工委书记", "construction_director": "社区建设管理委员会主任",
        "finance_officer": "党工委财务管理人员", "city_admin": "市委组织部/财政",
    },
    "as_role": {
        "community_secretary": "社区党委书记", "community_staff": "社区党委委员/社区工作者",
        "supervisor": "社区议事监督委员会成员", "working_member": "社区党工委委员",
        "working_secretary": "社区党工委书记", "construction_director": "社区建设管理委员会主任",
        "finance_officer": "党工委财务管理人员", "city_admin": "市委组织部/财政",
    },
}


def field_label(name: str, model: str = "") -> FieldLabel | None:
    """The label of field ``name``; ``"Model.name"`` entries of :data:`FIELDS` win for that model."""
    return FIELDS.get(f"{model}.{name}") or FIELDS.get(name)


def choice_label(field: str, value: str) -> str | None:
    table = CHOICES.get(field)
    if table is not None and value in table:
        return table[value]
    for other in CHOICES.values():
        if value in other:
            return other[value]
    return None
