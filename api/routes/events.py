"""One route per workflow event, so that each has its exact request body in the OpenAPI schema.

The body is the event's payload model (``workflow.payloads``) plus two optional keys: ``reason``
(a free-text reason kept in the audit trail; some events require one) and ``as_role`` (which of the
caller's posts acts, when several could).
"""
# no ``from __future__ import annotations``: the routes are built from models made at run time
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, create_model

from workflow.engine import payload_schema
from workflow.fields import Length, MultilineText
from workflow.machines import workflow_for

Reason = Annotated[MultilineText, Length(2000)]
AsRole = Literal["community_secretary", "community_staff", "supervisor", "working_member", "working_secretary",
                 "construction_director", "finance_officer", "city_admin"]


class _NoPayload(BaseModel):
    model_config = ConfigDict(extra="forbid")


EXAMPLES: dict[str, dict[str, Any]] = {
    "submit_preliminary": {},
    "return_for_revision": {"reason": "预算明细不完整,请补充后重新提交"},
    "withdraw": {"reason": "需求已由其他渠道解决"},
    "resume": {"reason": "分歧已经沟通一致,重新提交联席会议"},
    "record_meeting": {"held_on": "2026-03-10", "votes_for": 9, "votes_against": 1, "votes_abstain": 1,
                       "attendees": [{"name": "两委委员甲", "capacity": "two_committees"},
                                     {"name": "居民代表乙", "capacity": "resident_rep"}],
                       "minutes": "会议讨论了项目必要性、预算和实施方式。"},
    "answer_objection": {"objection_id": 1, "answer": "已安排先行维修三号楼路灯。"},
    "confirm_answer": {"objection_id": 1, "comment": "答复属实,已现场核实"},
    "edit": {"description": "更换小区内损坏路灯 4 盏,改善居民夜间出行安全。", "amount": "13000.00",
             "line_items": [{"description": "LED 路灯", "quantity": 4, "unit_price": "3250.00",
                             "catalog_item": "C1902 维修和保养服务"}]},
    "decide_flag": {"line_item_id": 1, "decision": "cleared", "note": "经核实为居民活动室用椅,不属于社区办公开支"},
    "terminate": {"reason": "承办单位已注销,剩余工程无法继续实施"},
    "signoff": {"stage": "declaration", "comment": "程序合规"},
    "raise_concern": {"text": "报价明显高于市场价,请说明"},
    "resolve_concern": {"concern_id": 1, "resolution": "已补充三家比价材料"},
    "record_board_meeting": {"held_on": "2026-03-20", "attendees": ["王建国", "李红梅"],
                             "minutes": "班子会议研究同意报主要领导审批。"},
    "approve": {"comment": "同意"},
    "reject": {"reason": "预算依据不足,不予批准"},
    "request_change": {"changes": {"planned_end": "2026-12-20"}, "reason": "材料到货延迟,申请延长工期"},
    "approve_change": {"comment": "同意变更并备案"},
    "reject_change": {"reason": "变更理由不充分"},
    "record_followup": {"visited_on": "2026-04-02", "notes": "现场查看,施工进度正常。"},
    "report_completion": {"summary": "项目已完工"},
    "accept": {"quality": "工程质量合格", "satisfaction": 95, "team": [4, 9]},
    "fail_acceptance": {"quality": "部分灯具未安装", "satisfaction": 60, "team": [4, 9], "reason": "未按申请内容完工"},
    "add_payment_item": {"kind": "invoice", "amount": "12000.00", "payee": "xx市照明工程有限公司",
                         "invoice_no": "INV000123", "issuer_tax_id": "91220100MA0Y1234XK"},
    "cancel_payment_item": {"payment_item_id": 1, "reason": "发票抬头有误,作废后按正确发票重新登记"},
    "sign_invoice": {"payment_item_id": 1},
    "record_voucher_evidence": {"payment_item_id": 1, "kind": "payee_signature", "note": "收款人已签字确认"},
    "pay": {"payment_item_id": 1, "idempotency_key": "pay-2026-000123"},
    "close_settlement": {},
    "submit_report": {"summary": "全年实施项目 12 个", "service_effect": "群众满意度 95%"},
    "evaluate": {"rating": "good", "comment": "程序规范"},
    "start_disclosure": {},
    "close_year": {},
    "review_budget": {"outcome": "passed", "note": "预算依据充分,单价与市场价相符"},
    "record_finance_check": {"outcome": "normal", "note": "材料进场与经费明细一致,资金按进度使用"},
    "record_audit": {"outcome": "compliant", "conclusion": "资金按批准用途使用,票据齐全,账实相符"},
    "start_inspection": {},
    "record_finding": {"article": "第十三条", "description": "无发票支出付款后未及时公示",
                       "requirement": "补办公示并将公示记录归档", "workdays": 5},
    "complete_inspection": {"summary": "抽查项目 3 个,发现问题 1 项,已提出整改要求"},
    "cancel_inspection": {"reason": "与上级巡查时间冲突,另行安排"},
    "submit_rectification": {"text": "已补办公示 3 个工作日,公示照片已归档"},
    "verify_rectification": {},
    "reject_rectification": {"reason": "公示记录缺少期满照片"},
}


def event_body_model(entity_type: str, trigger: str) -> type[BaseModel]:
    """The request body of one event: its payload model plus ``reason`` and ``as_role``."""
    base = payload_schema(entity_type, trigger) or _NoPayload
    example = EXAMPLES.get(trigger)
    name = "".join(part.capitalize() for part in f"{entity_type}_{trigger}".split("_")) + "Body"
    model = create_model(
        name, __base__=base,
        reason=(Reason, Field("", description="理由(记入审计;退回、驳回、撤回等操作必填)")),
        as_role=(AsRole | None, Field(None, description="以哪个岗位执行(同时持有多个可执行岗位时)")),
    )
    if example is not None:
        model.model_config["json_schema_extra"] = {"examples": [example]}
        model.model_rebuild(force=True)
    return model


def user_triggers(entity_type: str) -> list[str]:
    """Events a user may fire over HTTP: not the timers (system) and not the public objection."""
    wf = workflow_for(entity_type)
    out = []
    for trigger in wf.triggers():
        roles = {r for t in wf.transitions if t["trigger"] == trigger for r in t["roles"]}
        if roles - {"system", "public"}:
            out.append(trigger)
    return out


def split(body: BaseModel | None) -> tuple[dict[str, Any], str, str | None]:
    """(payload for the engine, reason, as_role) from an event body."""
    if body is None:
        return {}, "", None
    data = body.model_dump(mode="json", exclude_unset=True)
    reason = data.pop("reason", "") or ""
    as_role = data.pop("as_role", None)
    return data, reason, as_role


def label(entity_type: str, trigger: str) -> str:
    return str(workflow_for(entity_type).module.EVENT_LABELS.get(trigger, trigger))


def article(entity_type: str, trigger: str) -> str:
    return workflow_for(entity_type).article(trigger)


def roles_text(entity_type: str, trigger: str) -> str:
    from workflow.engine import ROLE_LABELS

    wf = workflow_for(entity_type)
    roles: dict[str, None] = {}
    sources: dict[str, None] = {}
    for t in wf.transitions:
        if t["trigger"] == trigger:
            for r in t["roles"]:
                if r not in ("system", "public"):
                    roles.setdefault(ROLE_LABELS.get(r, r), None)
            src = t["source"] if isinstance(t["source"], list) else [t["source"]]
            for s in src:
                sources.setdefault(str(wf.module.LABELS.get(s, s)), None)
    return f"岗位: {'、'.join(roles)};可在状态: {'、'.join(sources)}"

