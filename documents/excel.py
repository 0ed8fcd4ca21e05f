"""Excel for finance (openpyxl): the ledger of a fund year, one row per entry with the document it
points to, and an area's annual summary, one row per community.

Deterministic: workbook properties come from the data (the recorded time), and every part of the
file is written with a fixed timestamp, so the same data gives the same bytes.
"""
from __future__ import annotations

import datetime as dt
import io
import zipfile
from decimal import Decimal
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.writer.excel import ExcelWriter

from documents.model import AreaSummary, LedgerBook
from documents.text import local

MONEY = "#,##0.00"
#: what the cells of a kind of ledger entry mean for the year's figures
LEDGER_KINDS = {"allocation": "年度拨付", "carry_in": "上年结转", "commitment": "批准承诺", "adjustment": "变更调整",
                "release": "结余释放", "payment": "支付", "carry_out": "结转下年"}
_EPOCH = (1980, 1, 1, 0, 0, 0)
_HEAD_FILL = PatternFill("solid", fgColor="DDDDDD")
_THIN = Side(style="thin", color="888888")
_BOX = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)


class _FixedTimeZip(zipfile.ZipFile):
    """Every member gets the same timestamp (openpyxl would stamp each with the wall clock)."""

    def writestr(self, zinfo_or_arcname: Any, data: Any, compress_type: int | None = None,
                 compresslevel: int | None = None) -> None:
        if isinstance(zinfo_or_arcname, str):
            info = zipfile.ZipInfo(zinfo_or_arcname, date_time=_EPOCH)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            zinfo_or_arcname = info
        super().writestr(zinfo_or_arcname, data, compress_type, compresslevel)

    def write(self, filename: Any, arcname: Any = None, compress_type: int | None = None,
              compresslevel: int | None = None) -> None:
        # worksheets are written to a temporary file first: take its bytes, not its modification time
        with open(filename, "rb") as f:
            self.writestr(str(arcname or filename), f.read())


def _save(wb: Workbook, at: dt.datetime | None, title: str) -> bytes:
    when = (at or dt.datetime(2000, 1, 1, tzinfo=dt.UTC)).astimezone(dt.UTC).replace(tzinfo=None, microsecond=0)
    props = wb.properties
    props.creator = props.lastModifiedBy = "fundflow"
    props.title = title
    props.created = props.modified = when
    buf = io.BytesIO()
    with _FixedTimeZip(buf, "w", zipfile.ZIP_DEFLATED) as archive:
        ExcelWriter(wb, archive).write_data()
    return buf.getvalue()


def _yuan(fen: int) -> Decimal:
    return Decimal(fen) / 100


def _sheet_header(ws: Any, title: str, subtitle: str, headers: list[str], widths: list[int]) -> None:
    ws.append([title])
    ws["A1"].font = Font(bold=True, size=14)
    ws.append([subtitle])
    ws.append(headers)
    for col, (name, width) in enumerate(zip(headers, widths, strict=True), 1):
        cell = ws.cell(row=3, column=col)
        cell.font = Font(bold=True)
        cell.fill = _HEAD_FILL
        cell.border = _BOX
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        ws.column_dimensions[get_column_letter(col)].width = width
        del name
    ws.freeze_panes = "A4"


def _style_rows(ws: Any, first: int, money_cols: set[int]) -> None:
    for row in ws.iter_rows(min_row=first, max_row=ws.max_row):
        for cell in row:
            cell.border = _BOX
            if cell.column in money_cols:
                cell.number_format = MONEY


def ledger(book: LedgerBook) -> bytes:
    """One row per ledger entry with running figures: committed, paid, available after the entry."""
    wb = Workbook()
    ws = wb.active
    ws.title = f"{book.year}年度科目账"
    headers = ["序号", "记账时间", "分录类型", "项目编号", "项目名称", "摘要", "金额(元)", "已拨入合计(元)",
               "已承诺未付(元)", "已支付(元)", "可用余额(元)", "凭证文件", "凭证 sha256"]
    _sheet_header(ws, f"{book.community} 党组织服务群众专项经费 {book.year} 年度明细账",
                  f"{book.issuer} · 截至 {local(book.issued_at):%Y-%m-%d %H:%M}(依据《细则》第十七条)", headers,
                  [6, 17, 10, 16, 28, 30, 14, 15, 15, 14, 14, 26, 66])
    funded = committed = paid = carried = 0
    for i, r in enumerate(book.rows, 1):
        if r.kind in ("allocation", "carry_in"):
            funded += r.amount_fen
        elif r.kind in ("commitment", "adjustment"):
            committed += r.amount_fen
        elif r.kind == "release":
            committed -= r.amount_fen
        elif r.kind == "payment":
            committed -= r.amount_fen
            paid += r.amount_fen
        elif r.kind == "carry_out":
            carried += r.amount_fen
        ws.append([i, local(r.at).strftime("%Y-%m-%d %H:%M"), LEDGER_KINDS.get(r.kind, r.kind), r.project_code,
                   r.project_title, r.memo, _yuan(r.amount_fen), _yuan(funded), _yuan(committed), _yuan(paid),
                   _yuan(funded - committed - paid - carried), r.document_name, r.document_sha256])
    _style_rows(ws, 4, {7, 8, 9, 10, 11})
    return _save(wb, book.issued_at, f"{book.community} {book.year} 年度明细账")


def area_summary(s: AreaSummary) -> bytes:
    """One row per community of the area, and the area's totals."""
    wb = Workbook()
    ws = wb.active
    ws.title = f"{s.year}年度汇总"
    headers = ["社区编号", "社区", "年度状态", "年度拨付(元)", "上年结转(元)", "合计(元)", "已承诺未付(元)", "已支付(元)",
               "可用余额(元)", "受益群体较小占用(元)", "20%上限(元)", "占总额比例", "结转下年(元)", "项目数", "已办结",
               "逾期事项"]
    _sheet_header(ws, f"{s.area} {s.year} 年度党组织服务群众专项经费汇总", f"{s.issuer}", headers,
                  [9, 14, 10, 14, 13, 14, 14, 14, 14, 16, 14, 10, 13, 8, 8, 8])
    totals = [0] * 8
    for r in s.rows:
        total = r.allocation_fen + r.carry_in_fen
        available = total - r.committed_fen - r.paid_fen - (r.carry_out_fen or 0)
        share = Decimal(r.small_group_fen) / Decimal(total) if total else Decimal(0)
        ws.append([r.code, r.name, r.state, _yuan(r.allocation_fen), _yuan(r.carry_in_fen), _yuan(total),
                   _yuan(r.committed_fen), _yuan(r.paid_fen), _yuan(available), _yuan(r.small_group_fen),
                   _yuan(r.cap_fen), share.quantize(Decimal("0.0001")),
                   _yuan(r.carry_out_fen) if r.carry_out_fen is not None else None, r.projects, r.closed, r.overdue])
        ws.cell(row=ws.max_row, column=12).number_format = "0.00%"
        for k, v in enumerate((r.allocation_fen, r.carry_in_fen, total, r.committed_fen, r.paid_fen, available,
                               r.small_group_fen, r.carry_out_fen or 0)):
            totals[k] += v
    ws.append(["合计", f"{len(s.rows)} 个社区", "", *(_yuan(v) for v in totals[:7]), None, None, _yuan(totals[7]),
               sum(r.projects for r in s.rows), sum(r.closed for r in s.rows), sum(r.overdue for r in s.rows)])
    for cell in ws[ws.max_row]:
        cell.font = Font(bold=True)
    _style_rows(ws, 4, {4, 5, 6, 7, 8, 9, 10, 11, 13})
    return _save(wb, s.issued_at, f"{s.area} {s.year} 年度汇总")
