"""The annual report (Art. 16) and the annual disclosure (Art. 15) of a community: totals, use by
category, the small-group share against the 20% line (chart), the balance carried over, and every
project with its outcome and amount."""
from __future__ import annotations

from typing import Any

from reportlab.graphics.charts.barcharts import VerticalBarChart
from reportlab.graphics.shapes import Drawing, Line, Rect, String
from reportlab.lib import colors
from reportlab.platypus import Paragraph, Spacer, Table, TableStyle

from documents.layout import (
    CONTENT_W,
    GRID,
    SHADE,
    Styles,
    closing,
    fields,
    grid,
    header,
    para,
    render,
    signature_block,
    text,
)
from documents.model import AnnualReport, Stamp
from documents.text import cn_date, period_text, yuan
from rules.money import format_yuan

BAR = colors.Color(0.22, 0.42, 0.69)
LIMIT = colors.Color(0.80, 0.10, 0.10)


def _percent(part: int, whole: int) -> str:
    if whole <= 0:
        return "0.0%"
    tenths = (part * 1000 + whole // 2) // whole
    return f"{tenths // 10}.{tenths % 10}%"


def share_chart(r: AnnualReport, font: str) -> Drawing:
    """The small-group share of the year's total as a bar against the policy line (20%)."""
    width, height = CONTENT_W, 70.0
    d = Drawing(width, height)
    x0, bar_w, y, bar_h = 70.0, width - 90.0, 26.0, 18.0
    total = max(r.total_fen, 1)
    num, den = r.cap_ratio
    d.add(String(0, y + 5, "受益群体较小", fontName=font, fontSize=9))
    d.add(Rect(x0, y, bar_w, bar_h, fillColor=colors.white, strokeColor=GRID, strokeWidth=0.6))
    used = min(r.small_group_fen / total, 1.0)
    d.add(Rect(x0, y, bar_w * used, bar_h, fillColor=BAR, strokeColor=None))
    line_x = x0 + bar_w * num / den
    d.add(Line(line_x, y - 6, line_x, y + bar_h + 6, strokeColor=LIMIT, strokeWidth=1.5, strokeDashArray=[3, 2]))
    d.add(String(line_x + 3, y + bar_h + 8, f"上限 {_percent(num, den)}(第七条第(二)项)", fontName=font, fontSize=8,
                 fillColor=LIMIT))
    d.add(String(x0, 6, f"已占用 {format_yuan(r.small_group_fen)} 元,占总额 {_percent(r.small_group_fen, r.total_fen)};"
                        f"上限 {format_yuan(r.cap_fen)} 元", fontName=font, fontSize=9))
    for i in range(0, 11, 2):
        tick = x0 + bar_w * i / 10
        d.add(Line(tick, y, tick, y - 3, strokeColor=GRID, strokeWidth=0.5))
    return d


def category_chart(r: AnnualReport, font: str) -> Drawing:
    """Use of the year by category (占用 = committed + paid), in yuan."""
    d = Drawing(CONTENT_W, 150)
    chart = VerticalBarChart()
    chart.x, chart.y, chart.width, chart.height = 50, 30, CONTENT_W - 70, 105
    values = [row.used_fen / 100 for row in r.categories] or [0]
    chart.data = [values]
    chart.categoryAxis.categoryNames = [row.category.replace("服务", "") for row in r.categories] or ["—"]
    chart.categoryAxis.labels.fontName = font
    chart.categoryAxis.labels.fontSize = 8
    chart.valueAxis.labels.fontName = font
    chart.valueAxis.labels.fontSize = 7
    chart.valueAxis.valueMin = 0
    chart.bars[0].fillColor = BAR
    chart.barLabelFormat = "%.2f"
    chart.barLabels.fontName = font
    chart.barLabels.fontSize = 7
    chart.barLabels.nudge = 6
    d.add(chart)
    d.add(String(0, 140, "各类别占用(元)", fontName=font, fontSize=9))
    return d


def build(r: AnnualReport, stamp: Stamp) -> bytes:
    st = Styles(12)
    public = r.public
    title = (f"{r.community}{r.year}年度党组织服务群众专项经费使用情况公示" if public
             else f"{r.community}{r.year}年度党组织服务群众专项经费使用情况报告")
    story: list[Any] = header(st, title, r.issuer, f"{r.issuer} · 依据《细则》{'第十五条' if public else '第十六条'}")
    story.append(para("一、经费总体情况", st.heading))
    pairs: list[tuple[str, Any]] = [
        ("年度拨付", yuan(r.allocation_fen)), ("上年结转", yuan(r.carry_in_fen)),
        ("经费合计", yuan(r.total_fen)), ("已支付", yuan(r.paid_fen)),
        ("已承诺未付", yuan(r.committed_fen)), ("结余", yuan(r.balance_fen)),
        ("结转下年", yuan(r.carry_out_fen) if r.carry_out_fen is not None else "(年度结转时确定)"),
        ("年度状态", r.state),
    ]
    story.append(fields(pairs, st))
    story.append(para("二、受益群体较小项目占用(第七条第(二)项)", st.heading))
    story.append(share_chart(r, st.font))
    story.append(para("三、按使用范围(第八条)", st.heading))
    rows: list[list[Any]] = [["使用范围", "项目数", "占用(元)", "已支付(元)"]]
    rows += [[c.category, str(c.projects), format_yuan(c.used_fen), format_yuan(c.paid_fen)] for c in r.categories]
    rows.append(["合计", str(sum(c.projects for c in r.categories)), format_yuan(sum(c.used_fen for c in r.categories)),
                 format_yuan(sum(c.paid_fen for c in r.categories))])
    story.append(grid(rows, [170, 80, 130, 130], st, header=True, align_right=(1, 2, 3)))
    if r.categories:
        story.append(category_chart(r, st.font))
    story.append(para(f"四、项目清单(共 {len(r.projects)} 个)", st.heading))
    story.append(_project_table(r, st))
    story.append(para("五、服务效果", st.heading))
    story.append(para(r.service_effect or "—", st.indented))
    if not public:
        story.append(para("六、年度工作总结", st.heading))
        story.append(para(r.summary or "(尚未提交年度报告)", st.indented))
        story.append(para("七、社区党工委考核评议(第十六条)", st.heading))
        story.append(para(r.evaluation or "(尚未评议)", st.indented))
        story.append(Spacer(1, 6))
        story.append(signature_block("报告单位(社区党委书记)", [f"报告提交:{cn_date(r.submitted_at, '(尚未提交)')}"], st))
    if r.period is not None:
        p = r.period
        story.append(Spacer(1, 6))
        story.append(fields([("公示期", period_text(p.starts_at, p.ends_at, p.workdays, p.provisional))], st, columns=1))
        story.append(para("欢迎居民群众监督。", st.body))
    if r.anchor:
        story.append(Spacer(1, 6))
        story.append(fields([("审计签名根", r.anchor)], st, columns=1))
    story += closing(st, r.issuer, cn_date(r.issued_at))
    return render(story, title=title, issuer=r.issuer, stamp=stamp,
                  footer=f"{r.issuer} · {r.year} 年度 · 截至 {cn_date(r.issued_at)}")


def _project_table(r: AnnualReport, st: Styles) -> Table:
    """Every project: plain strings but the title (wrapped), so that 500 rows stay quick to lay out."""
    widths = [78, 150, 62, 68, 76, 76]
    rows: list[list[Any]] = [[Paragraph(text(h), st.cell_center) for h in
                              ("项目编号", "项目名称", "使用范围", "办理结果", "金额(元)", "已支付(元)")]]
    for p in r.projects:
        title = p.title + (" ▲" if p.small_group else "")
        rows.append([p.code, Paragraph(text(title), st.cell), p.category.replace("服务", ""), p.outcome,
                     format_yuan(p.amount_fen), format_yuan(p.paid_fen)])
    rows.append(["合计", "", "", "", format_yuan(sum(p.amount_fen for p in r.projects)),
                 format_yuan(sum(p.paid_fen for p in r.projects))])
    table = Table(rows, colWidths=widths, repeatRows=1)
    table.setStyle(TableStyle([
        ("FONTNAME", (0, 0), (-1, -1), st.font), ("FONTSIZE", (0, 0), (-1, -1), st.cell.fontSize - 1),
        ("GRID", (0, 0), (-1, -1), 0.5, GRID), ("BACKGROUND", (0, 0), (-1, 0), SHADE),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"), ("ALIGN", (4, 1), (5, -1), "RIGHT"),
        ("LEFTPADDING", (0, 0), (-1, -1), 3), ("RIGHTPADDING", (0, 0), (-1, -1), 3),
    ]))
    return table
