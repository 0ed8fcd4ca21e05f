"""Documents on paper and for finance: ReportLab PDFs and openpyxl workbooks drawn from plain data.

Data in (the dataclasses of :mod:`documents.model`), bytes out; no database, no clock. Each PDF
carries a verification code derived from its data (:mod:`documents.codes`) with a QR code to the
page that tells whether a paper copy is genuine and current. :func:`pdf` is the one entry point.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from documents import annual, forms, inspection, notices, records
from documents.codes import document_code
from documents.fonts import FontMissing, ensure_fonts
from documents.model import Stamp


@dataclass(frozen=True)
class Kind:
    label: str
    """The document's name in Chinese (what the verification page says it is)."""
    build: Callable[[Any, Stamp], bytes]


#: every kind of PDF document: its Chinese name and its builder
KINDS: dict[str, Kind] = {
    "application_form": Kind("社区党组织服务群众专项经费使用申请审批表", forms.build),
    "notice": Kind("公示", notices.build),
    "minutes": Kind("联席会议记录", records.minutes),
    "board_record": Kind("社区党工委班子会议记录", records.board_record),
    "acceptance_record": Kind("综合验收记录", records.acceptance_record),
    "change_filing": Kind("项目变更备案表", records.change_filing),
    "payment_voucher": Kind("付款审批单", records.payment_voucher),
    "annual_report": Kind("年度经费使用情况报告", annual.build),
    "annual_disclosure": Kind("年度经费使用情况公示", annual.build),
    "inspection_pack": Kind("定期检查材料", inspection.build),
}


def pdf(doc: Any, url_for: Callable[[str], str]) -> tuple[bytes, str]:
    """Draw ``doc``; returns (PDF bytes, verification code). ``url_for(code)`` is where its QR leads."""
    code = document_code(doc)
    return KINDS[doc.kind].build(doc, Stamp(code, url_for(code))), code


__all__ = ["KINDS", "FontMissing", "Kind", "Stamp", "document_code", "ensure_fonts", "pdf"]
