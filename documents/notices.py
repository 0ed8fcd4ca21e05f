"""Notices on the community notice board (公示), any kind: the posted text, its period in working
days and the dates it runs, the issuing committee and date, and a QR code to its online page.

Generic over kinds: the text is the one posted (``templates/notices/<kind>.txt``, already masked),
read as a heading, ``label:value`` fields, ``- `` list items and paragraphs. A new kind of notice
needs no code here, only its label and article in :data:`KINDS`.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from reportlab.platypus import KeepTogether, Spacer

from documents.layout import CONTENT_W, QRBlock, Styles, closing, fields, grid, header, para, render
from documents.model import NoticeDoc, Stamp
from documents.text import cn_date, period_text


@dataclass(frozen=True)
class NoticeKind:
    label: str
    article: str
    objections: bool
    """Residents may object online during the period (the QR caption says so)."""


#: every kind of notice: one line each
KINDS: dict[str, NoticeKind] = {
    "publicity": NoticeKind("项目公示", "第十条", True),
    "completion": NoticeKind("建成公示", "第十五条", True),
    "voucher_payment": NoticeKind("无发票支出公示", "第十三条", False),
    "disclosure": NoticeKind("年度公示", "第十五条", False),
    "termination": NoticeKind("项目终止公示", "第十一条", False),
}


def kind_of(notice_kind: str) -> NoticeKind:
    return KINDS.get(notice_kind, NoticeKind("公示", "", False))


_FIELD = re.compile(r"^(?P<label>[^:;。,()]{1,12})[::](?P<value>.*)$")


def blocks(body: str) -> tuple[str, list[tuple[str, Any]]]:
    """The heading and the blocks of a posted text: ('fields', [(label, value)]), ('items', [..]), ('text', s)."""
    lines = [line.rstrip() for line in body.strip().splitlines()]
    heading = lines[0].strip() if lines else ""
    out: list[tuple[str, Any]] = []
    for line in lines[1:]:
        stripped = line.strip()
        if not stripped:
            continue
        if stripped.startswith("- "):
            if out and out[-1][0] == "items":
                out[-1][1].append(stripped[2:])
            else:
                out.append(("items", [stripped[2:]]))
            continue
        if stripped.startswith("公示期"):
            # the posted period line: drawn below from the recorded instants; what follows it stays
            stripped = stripped.split("。", 1)[1].strip() if "。" in stripped else ""
            if stripped:
                out.append(("text", stripped))
            continue
        parts = [p for p in re.split(r"[;;]", stripped) if p]
        matched = [_FIELD.match(p) for p in parts]
        if all(matched):
            pairs = [(m.group("label").strip(), m.group("value").strip()) for m in matched if m]
            if out and out[-1][0] == "fields":
                out[-1][1].extend(pairs)
            else:
                out.append(("fields", pairs))
            continue
        out.append(("text", stripped))
    return heading, out


def build(n: NoticeDoc, stamp: Stamp) -> bytes:
    st = Styles(15)
    heading, parts = blocks(n.body)
    story: list[Any] = header(st, heading or n.title, n.issuer,
                              f"{n.kind_label}" + (f" · 项目编号 {n.project_code}" if n.project_code else ""))
    for kind, value in parts:
        if kind == "fields":
            story.append(fields(value, st, columns=1))
            story.append(Spacer(1, st.body_size * 0.5))
        elif kind == "items":
            number_w = st.body_size * 2.4
            story.append(grid([[str(i), item] for i, item in enumerate(value, 1)], [number_w, CONTENT_W - number_w], st))
            story.append(Spacer(1, st.body_size * 0.5))
        else:
            story.append(para(value, st.indented))
    p = n.period
    story.append(Spacer(1, st.body_size * 0.4))
    story.append(fields([("公示期", period_text(p.starts_at, p.ends_at, p.workdays, p.provisional))], st, columns=1))
    spec = kind_of(n.notice_kind)
    caption = "扫码查看公示原文、核验真伪" + (",公示期内可在线提出异议" if spec.objections else "")
    story.append(Spacer(1, st.body_size))
    story.append(KeepTogether([QRBlock(stamp.url, stamp.code, caption, st),
                               *closing(st, n.issuer, cn_date(n.issued_at))]))
    article = n.article or spec.article
    return render(story, title=heading or n.title, issuer=n.issuer, stamp=stamp,
                  footer=f"{n.community} · {n.kind_label}" + (f" · 依据《细则》{article}" if article else ""))
