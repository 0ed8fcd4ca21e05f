"""The inspection pack (检查材料, Art. 19): every project of the period with its trail, the ledger entries of the
period, the deadlines still open, the red flags and the findings so far."""
from __future__ import annotations

from typing import Any

from reportlab.platypus import Spacer

from documents.layout import Styles, closing, fields, grid, header, para, render, wide
from documents.model import InspectionPack, Stamp
from documents.text import cn_date, cn_datetime, yuan

NONE = "(无)"


def build(p: InspectionPack, stamp: Stamp) -> bytes:
    st = Styles(11)
    title = "社区党组织服务群众专项经费定期检查材料"
    story: list[Any] = header(st, title, p.issuer, f"{p.community} · 检查编号 {p.inspection_id}")
    story.append(fields([
        ("被检查社区", p.community), ("检查状态", p.state),
        ("检查期间", wide(f"{cn_date(p.period_from)} 至 {cn_date(p.period_to)}")),
        ("检查名称", wide(p.title)),
        ("计划人", wide(" ".join(x for x in (p.planned_by.role, p.planned_by.name, cn_datetime(p.planned_by.at)) if x))),
        ("概况", wide(f"期间有经办记录的项目 {len(p.projects)} 个,明细账分录 {len(p.ledger)} 条,"
                     f"未办结期限 {len(p.deadlines)} 项,风险提示 {len(p.flags)} 项,检查发现 {len(p.findings)} 项")),
    ], st))
    story.append(para("一、期间内的项目及其经办记录", st.heading))
    if not p.projects:
        story.append(para(NONE, st.indented))
    for project in p.projects:
        story.append(para(f"{project.code} {project.title}(状态:{project.state};金额 {yuan(project.amount_fen)},"
                          f"已支付 {yuan(project.paid_fen)})", st.body))
        rows: list[list[Any]] = [["时间", "事项", "经办人及岗位", "状态变化", "理由"]]
        rows += [[cn_datetime(e.at), e.event, f"{e.actor}({e.role})" if e.role else e.actor, e.moved or "—",
                  e.reason or "—"] for e in project.trail]
        story.append(grid(rows, [85, 85, 120, 110, 110], st, header=True))
        story.append(Spacer(1, 4))
    story.append(para("二、期间内的专项经费明细账分录(第十七条)", st.heading))
    if p.ledger:
        ledger: list[list[Any]] = [["时间", "类别", "金额", "项目", "摘要"]]
        ledger += [[cn_datetime(r.at), r.kind, yuan(r.amount_fen), r.project_code or "—", r.memo or "—"]
                   for r in p.ledger]
        story.append(grid(ledger, [85, 60, 85, 90, 190], st, header=True))
    else:
        story.append(para(NONE, st.indented))
    story.append(para("三、尚未办结的期限", st.heading))
    if p.deadlines:
        due: list[list[Any]] = [["事项", "期限类别", "届满", "说明"]]
        due += [[d.what, d.kind, cn_datetime(d.due_at), "临时计算(节假日安排未载入)" if d.provisional else ""]
                for d in p.deadlines]
        story.append(grid(due, [190, 90, 110, 120], st, header=True))
    else:
        story.append(para(NONE, st.indented))
    story.append(para("四、风险提示", st.heading))
    if p.flags:
        flags: list[list[Any]] = [["提示", "条款", "依据"]]
        flags += [[f.title, f.article, f.evidence] for f in p.flags]
        story.append(grid(flags, [150, 80, 280], st, header=True))
    else:
        story.append(para(NONE, st.indented))
    story.append(para("五、检查发现及整改(第十九条)", st.heading))
    if p.findings:
        found: list[list[Any]] = [["编号", "条款", "问题", "整改要求", "状态", "整改期限"]]
        found += [[str(f.finding_id), f.article, f.description + (f"({f.project_code})" if f.project_code else ""),
                   f.requirement, f.state, cn_datetime(f.due_at) if f.due_at else "—"] for f in p.findings]
        story.append(grid(found, [35, 70, 140, 130, 60, 75], st, header=True))
    else:
        story.append(para(NONE, st.indented))
    story += closing(st, p.issuer, cn_date(p.issued_at))
    return render(story, title=f"{title} {p.community}", issuer=p.issuer, stamp=stamp,
                  footer=f"{p.issuer} · {p.community} 定期检查 {p.inspection_id}(依据《细则》第十八条、第十九条)")
