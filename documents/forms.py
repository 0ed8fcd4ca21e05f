"""《社区党组织服务群众专项经费使用申请审批表》 (Art. 10, 11): every field of the proposal, its line
items and needs, the joint meeting, the notice and its objections, the preliminary consent, the two
main leaders' approval blocks, and blank lines where the regulation wants a hand signature."""
from __future__ import annotations

from typing import Any

from reportlab.platypus import Spacer

from documents.layout import Styles, fields, grid, header, para, render, signature_block, wide
from documents.model import ApplicationForm, Person, Stamp
from documents.text import cn_date, cn_datetime, last_day, yuan, yuan_in_words
from rules.money import format_yuan

TITLE = "社区党组织服务群众专项经费使用申请审批表"


def _who(p: Person | None, what: str = "") -> str:
    if p is None or p.at is None:
        return "(尚未办理)"
    role = f"{p.role} " if p.role else ""
    note = f";{p.note}" if p.note else ""
    return f"{role}{p.name} 于 {cn_datetime(p.at)} {what}{note}".strip()


def build(f: ApplicationForm, stamp: Stamp) -> bytes:
    st = Styles(11)
    story: list[Any] = header(st, TITLE, f.issuer, f"申请单位:{f.issuer}    项目编号:{f.project_code}    "
                                                   f"填表日期:{cn_date(f.received_at or f.issued_at)}")
    story.append(para("一、项目基本情况", st.heading))
    pairs: list[tuple[str, Any]] = [
        ("项目名称", wide(f.title)),
        ("服务类别", f.category), ("申请金额", yuan(f.amount_fen)),
        ("金额大写", wide(f"人民币{yuan_in_words(f.amount_fen)}")),
        ("直接受益", f"{f.beneficiaries_count} 人"), ("受益对象", f.beneficiaries_desc or "—"),
        ("受益群体较小", "是(计入 20% 额度)" if f.small_group else "否"), ("帮扶资助", "是" if f.aid else "否"),
        ("承办方", f.contractor or "—"), ("承办方类型", f.contractor_kind),
        ("计划开始", cn_date(f.planned_start, "—")), ("计划完成", cn_date(f.planned_end, "—")),
        ("提议人", f"{f.proposer.role} {f.proposer.name}".strip()), ("提议日期", cn_date(f.proposer.at, "—")),
        ("项目内容", wide(f.description)),
    ]
    if f.category_justification:
        pairs.append(("类别说明", wide(f.category_justification)))
    pairs.append(("第四条声明", wide("本项目不属于:" + "、".join(f.forbidden_uses_declared) + "(已逐项声明)"
                                    if f.forbidden_uses_declared else "(尚未声明)")))
    pairs.append(("当前状态", wide(f.state)))
    story.append(fields(pairs, st))

    story.append(para("二、经费明细", st.heading))
    rows: list[list[Any]] = [["序号", "内容", "数量", "单价(元)", "金额(元)", "政府采购目录"]]
    for i, item in enumerate(f.line_items, 1):
        rows.append([str(i), item.description, str(item.quantity), format_yuan(item.unit_price_fen),
                     format_yuan(item.amount_fen), item.catalog_item or "—"])
    rows.append(["", "合计", "", "", format_yuan(sum(i.amount_fen for i in f.line_items)), ""])
    story.append(grid(rows, [24, 150, 36, 70, 76, 114], st, header=True, align_right=(2, 3, 4)))

    story.append(para("三、所回应的群众需求(第九条)", st.heading))
    if f.needs:
        need_rows: list[list[Any]] = [["序号", "需求", "收集渠道", "涉及居民", "登记日期"]]
        for i, n in enumerate(f.needs, 1):
            need_rows.append([str(i), n.title, n.channel, f"{n.residents_count} 人", cn_date(n.recorded_at)])
        story.append(grid(need_rows, [24, 210, 80, 60, 96], st, header=True))
    else:
        story.append(para("(未关联群众需求)", st.body))

    story.append(para("四、初步同意、联席会议与公示(第十条)", st.heading))
    m = f.meeting
    steps: list[tuple[str, Any]] = [("党工委初步同意", wide(_who(f.preliminary, "初步同意")))]
    if m is not None:
        steps += [("联席会议", wide(f"{cn_date(m.held_on)} 召开;出席社区“两委”成员 {m.two_committees} 人、"
                                    f"居民代表 {m.resident_reps} 人")),
                  ("表决结果", wide(f"赞成 {m.votes_for} 票、反对 {m.votes_against} 票、弃权 {m.votes_abstain} 票:"
                                   f"{m.outcome}"))]
    else:
        steps.append(("联席会议", wide("(尚未召开)")))
    if f.notice is not None:
        period = f.notice
        steps.append(("公示期", wide(f"{cn_datetime(period.starts_at)} 起至 {cn_date(last_day(period.ends_at))} 24:00 止"
                                     f"(不少于 {period.workdays} 个工作日{',临时计算' if period.provisional else ''})")))
        steps.append(("群众异议", wide(f"{len(f.objections)} 件,未解决 {sum(not o.resolved for o in f.objections)} 件")))
    else:
        steps.append(("公示期", wide("(尚未公示)")))
    steps.append(("监督委员会", wide(_who(f.declaration_signoff, "签字确认申报"))))
    story.append(fields(steps, st))
    if f.objections:
        obj_rows: list[list[Any]] = [["收到日期", "异议内容", "答复", "结果"]]
        for o in f.objections:
            obj_rows.append([cn_date(o.received_at), o.text, o.answer or "(未答复)", "已解决" if o.resolved else "未解决"])
        story.append(Spacer(1, 4))
        story.append(grid(obj_rows, [78, 170, 170, 52], st, header=True))

    story.append(para("五、申报与审批(第十一条)", st.heading))
    story.append(fields([
        ("报批次数", f"第 {f.approval_round} 次" if f.approval_round else "(尚未报批)"),
        ("收到日期", cn_datetime(f.received_at) or "(尚未报批)"),
        ("班子会议", wide(cn_date(f.board_meeting) + " 召开" if f.board_meeting else "(尚未召开)")),
    ], st))
    story.append(Spacer(1, 6))
    story.append(signature_block("申请单位意见(社区党委书记)", [f"同意申报。项目编号 {f.project_code}。"], st))
    story.append(Spacer(1, 6))
    story.append(signature_block("社区议事监督委员会意见", [_who(f.declaration_signoff, "签字确认")], st))
    for leader in f.approvals:
        story.append(Spacer(1, 6))
        decided = leader.at is not None
        line = f"{leader.name} 于 {cn_datetime(leader.at)} {leader.note or '审批同意'}" if decided else "(尚未审批)"
        story.append(signature_block(f"{leader.role}意见", [line], st))
    return render(story, title=f"{TITLE} {f.project_code}", issuer=f.issuer, stamp=stamp,
                  footer=f"{f.issuer} · {f.project_code} {f.title} · 截至 {cn_datetime(f.issued_at)}")

