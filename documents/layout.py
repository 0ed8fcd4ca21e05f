"""The page every document is printed on: A4, the embedded CJK font, title and issuing organisation,
"第 N 页 共 M 页", and on every page the verification code with its QR code.

ReportLab runs in invariant mode (no creation date, fixed document id), the story is drawn from the
data alone, so the same data gives the same bytes.
"""
from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any
from xml.sax.saxutils import escape

import segno
from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER, TA_LEFT, TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    BaseDocTemplate,
    Flowable,
    Frame,
    PageTemplate,
    Paragraph,
    Spacer,
    Table,
    TableStyle,
)

from documents.codes import display
from documents.fonts import ensure_fonts
from documents.model import Stamp

PAGE_W, PAGE_H = A4
LEFT = RIGHT = 20 * mm
TOP = 18 * mm
BOTTOM = 30 * mm
CONTENT_W = PAGE_W - LEFT - RIGHT
GRID = colors.Color(0.25, 0.25, 0.25)
SHADE = colors.Color(0.93, 0.93, 0.93)
INK = colors.black


class Styles:
    """Paragraph styles at one body size (notices: large, for the board; forms: smaller, for tables)."""

    def __init__(self, body: float) -> None:
        font = ensure_fonts()
        lead = body * 1.45

        def style(name: str, size: float, **kw: Any) -> ParagraphStyle:
            return ParagraphStyle(name, fontName=font, fontSize=size, leading=size * 1.45, wordWrap="CJK",
                                  textColor=INK, **kw)

        self.font = font
        self.body_size = body
        self.title = style("title", body + 8, alignment=TA_CENTER, spaceAfter=body * 0.6)
        self.subtitle = style("subtitle", body, alignment=TA_CENTER, spaceAfter=body * 0.8)
        self.heading = style("heading", body + 2, spaceBefore=body * 0.7, spaceAfter=body * 0.3)
        self.body = style("body", body, firstLineIndent=0, spaceAfter=body * 0.35)
        self.indented = style("indented", body, firstLineIndent=2 * body, spaceAfter=body * 0.35)
        self.cell = style("cell", body - 1 if body > 11 else body)
        self.cell_right = style("cell_right", self.cell.fontSize, alignment=TA_RIGHT)
        self.cell_center = style("cell_center", self.cell.fontSize, alignment=TA_CENTER)
        self.label = style("label", self.cell.fontSize, alignment=TA_LEFT)
        self.small = style("small", max(body - 3, 8))
        self.right = style("right", body, alignment=TA_RIGHT)
        self.lead = lead


def text(value: object) -> str:
    """Escape plain text for a Paragraph; newlines become line breaks."""
    return escape(str(value)).replace("\n", "<br/>")


def para(value: object, style: ParagraphStyle) -> Paragraph:
    return Paragraph(text(value), style)


def grid(rows: Sequence[Sequence[Any]], widths: Sequence[float], st: Styles, *, header: bool = False,
         label_cols: Sequence[int] = (), repeat: int = 0, align_right: Sequence[int] = ()) -> Table:
    """A ruled table; plain strings become wrapped paragraphs; label columns are shaded."""
    body: list[list[Any]] = []
    for r, row in enumerate(rows):
        cells = []
        for c, value in enumerate(row):
            if isinstance(value, str | int):
                style = st.cell_right if (c in align_right and not (header and r == 0)) else st.cell
                if header and r == 0:
                    style = st.cell_center
                cells.append(para(value, style))
            else:
                cells.append(value)
        body.append(cells)
    table = Table(body, colWidths=list(widths), repeatRows=repeat or (1 if header else 0))
    commands: list[Any] = [
        ("FONTNAME", (0, 0), (-1, -1), st.font),
        ("GRID", (0, 0), (-1, -1), 0.6, GRID),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("LEFTPADDING", (0, 0), (-1, -1), 4),
        ("RIGHTPADDING", (0, 0), (-1, -1), 4),
        ("TOPPADDING", (0, 0), (-1, -1), 3),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 4),
    ]
    if header:
        commands.append(("BACKGROUND", (0, 0), (-1, 0), SHADE))
    for c in label_cols:
        commands.append(("BACKGROUND", (c, 0), (c, -1), SHADE))
    table.setStyle(TableStyle(commands))
    return table


def fields(pairs: Sequence[tuple[str, Any]], st: Styles, columns: int = 2) -> Table:
    """Label/value pairs in a ruled form, ``columns`` pairs per row (a value may span the row)."""
    label_w = st.cell.fontSize * 6.5
    value_w = (CONTENT_W - columns * label_w) / columns
    rows: list[list[Any]] = []
    spans: list[tuple[int, int]] = []
    row: list[Any] = []
    for label, value in pairs:
        wide = isinstance(value, tuple) and value and value[0] == "wide"
        if wide:
            if row:
                row += ["", ""] * ((2 * columns - len(row)) // 2)
                rows.append(row)
                row = []
            rows.append([label, value[1]] + [""] * (2 * columns - 2))
            spans.append((len(rows) - 1, 2 * columns - 1))
            continue
        row += [label, value]
        if len(row) == 2 * columns:
            rows.append(row)
            row = []
    if row:
        row += ["", ""] * ((2 * columns - len(row)) // 2)
        rows.append(row)
    widths = [label_w, value_w] * columns
    table = grid(rows, widths, st, label_cols=range(0, 2 * columns, 2))
    extra = [("SPAN", (1, r), (last, r)) for r, last in spans]
    if extra:
        table.setStyle(TableStyle(extra))
    return table


def wide(value: Any) -> tuple[str, Any]:
    """A value that takes the whole row of a :func:`fields` form."""
    return ("wide", value)


def signature_block(title: str, lines: Sequence[str], st: Styles, *, signer: str = "签字", height: float = 0) -> Table:
    """A box for a hand signature: what is recorded, then blank lines to sign and date."""
    content: list[Any] = [para(title, st.label)]
    content += [para(line, st.cell) for line in lines]
    content.append(Spacer(1, height or st.cell.fontSize * 1.6))
    content.append(para(f"{signer}:________________        日期:______年____月____日", st.cell))
    table = Table([[content]], colWidths=[CONTENT_W])
    table.setStyle(TableStyle([("FONTNAME", (0, 0), (-1, -1), st.font), ("BOX", (0, 0), (-1, -1), 0.6, GRID), ("LEFTPADDING", (0, 0), (-1, -1), 6),
                               ("TOPPADDING", (0, 0), (-1, -1), 4), ("BOTTOMPADDING", (0, 0), (-1, -1), 6)]))
    return table


# ---------------------------------------------------------------------------------------- QR codes


def draw_qr(canvas: Canvas, url: str, x: float, y: float, size: float) -> None:
    """The QR code of ``url`` as filled squares (vector, no image: sharp and deterministic)."""
    qr = segno.make(url, error="m", micro=False)
    matrix = [list(row) for row in qr.matrix]
    n = len(matrix)
    border = 2
    cell = size / (n + 2 * border)
    canvas.saveState()
    canvas.setFillColor(colors.white)
    canvas.rect(x, y, size, size, stroke=0, fill=1)
    canvas.setFillColor(INK)
    path = canvas.beginPath()
    for r, row in enumerate(matrix):
        c = 0
        while c < n:
            if row[c]:
                start = c
                while c < n and row[c]:
                    c += 1
                path.rect(x + (border + start) * cell, y + size - (border + r + 1) * cell, (c - start) * cell, cell)
            else:
                c += 1
    canvas.drawPath(path, stroke=0, fill=1)
    canvas.restoreState()


class QRBlock(Flowable):  # type: ignore[misc]
    """A large QR code with a caption beside it (the notice's own page and its verification)."""

    def __init__(self, url: str, code: str, caption: str, st: Styles, size: float = 34 * mm) -> None:
        super().__init__()
        self.url, self.code, self.caption, self.st, self.size = url, code, caption, st, size

    def wrap(self, avail_w: float, avail_h: float) -> tuple[float, float]:
        return avail_w, self.size

    def draw(self) -> None:
        c = self.canv
        draw_qr(c, self.url, 0, 0, self.size)
        lines = [self.caption, f"核验码:{display(self.code)}", self.url]
        c.setFillColor(INK)
        size = self.st.body_size
        y = self.size - size * 1.4
        for i, line in enumerate(lines):
            c.setFont(self.st.font, size if i < 2 else max(size - 4, 8))
            c.drawString(self.size + 5 * mm, y, line)
            y -= size * 1.6


# ------------------------------------------------------------------------------------ the page frame


class _NumberedCanvas(Canvas):  # type: ignore[misc]
    """Holds every page until the end, so that each can say "第 N 页 共 M 页"."""

    def __init__(self, *args: Any, stamp: Stamp, footer: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._pages: list[dict[str, Any]] = []
        self._stamp = stamp
        self._footer = footer

    def showPage(self) -> None:  # noqa: N802 - ReportLab's name
        self._pages.append(dict(self.__dict__))
        self._startPage()

    def save(self) -> None:
        total = len(self._pages)
        for state in self._pages:
            self.__dict__.update(state)
            self._draw_footer(total)
            Canvas.showPage(self)
        Canvas.save(self)

    def _draw_footer(self, total: int) -> None:
        font = ensure_fonts()
        qr = 20 * mm
        base = 8 * mm
        self.saveState()
        self.setStrokeColor(GRID)
        self.setLineWidth(0.5)
        self.line(LEFT, base + qr + 2 * mm, PAGE_W - RIGHT, base + qr + 2 * mm)
        draw_qr(self, self._stamp.url, PAGE_W - RIGHT - qr, base, qr)
        self.setFillColor(INK)
        self.setFont(font, 9)
        self.drawString(LEFT, base + qr - 4 * mm, f"核验码 {display(self._stamp.code)}")
        self.setFont(font, 7)
        self.drawString(LEFT, base + qr - 8.5 * mm, f"扫码或访问 {self._stamp.url} 核验本件是否为 fundflow 出具的现行文件")
        if self._footer:
            self.drawString(LEFT, base + qr - 12.5 * mm, self._footer)
        self.setFont(font, 10)
        self.drawCentredString(PAGE_W / 2, base + 1 * mm, f"第 {self._pageNumber} 页 共 {total} 页")
        self.restoreState()


def render(story: list[Any], *, title: str, issuer: str, stamp: Stamp, footer: str = "") -> bytes:
    """Lay the story out on A4 pages and return the PDF bytes (deterministic)."""
    ensure_fonts()
    buf = io.BytesIO()
    doc = BaseDocTemplate(buf, pagesize=A4, initialFontName=ensure_fonts(), leftMargin=LEFT, rightMargin=RIGHT, topMargin=TOP, bottomMargin=BOTTOM,
                          title=title, author=issuer, subject=f"核验码 {display(stamp.code)}", creator="fundflow",
                          producer="fundflow (ReportLab)", invariant=1, pageCompression=1)
    frame = Frame(LEFT, BOTTOM, CONTENT_W, PAGE_H - TOP - BOTTOM, id="body", leftPadding=0, rightPadding=0,
                  topPadding=0, bottomPadding=0)
    doc.addPageTemplates([PageTemplate(id="page", frames=[frame])])

    def maker(*args: Any, **kwargs: Any) -> Canvas:
        kwargs["initialFontName"] = ensure_fonts()
        return _NumberedCanvas(*args, stamp=stamp, footer=footer, **kwargs)

    doc.build(story, canvasmaker=maker)
    return buf.getvalue()


def header(st: Styles, title: str, issuer: str, subtitle: str = "") -> list[Any]:
    """The document's title (centred, large) and the issuing organisation under it."""
    from reportlab.pdfbase.pdfmetrics import stringWidth

    size = st.title.fontSize
    while size > st.body_size + 2 and stringWidth(title, st.font, size) > CONTENT_W:
        size -= 1
    style = ParagraphStyle("title_fit", parent=st.title, fontSize=size, leading=size * 1.45)
    out: list[Any] = [para(title, style)]
    out.append(para(subtitle or issuer, st.subtitle))
    return out


def closing(st: Styles, issuer: str, date_text: str) -> list[Any]:
    """Issuer and date at the bottom right, as on an official paper."""
    return [Spacer(1, st.body_size), para(issuer, st.right), para(date_text, st.right)]
