"""Purchases within the government procurement catalogue (第十二条: 在政府采购目录范围内购买服务用品).

The catalogue is policy data (``Policy.procurement_catalog``, code → name); a line item names the item
it falls under by its code, never by free text, and the code must be one of the catalogue of the policy
version the project is proposed under.
"""
from __future__ import annotations

import unicodedata
from collections.abc import Mapping, Sequence

from rules.verdict import OK, Verdict, refuse

ART_PROCUREMENT = "第十二条"


def normalise_code(text: str) -> str:
    """A catalogue code as typed → as stored: NFKC (full-width letters and digits alike), no spaces, upper case."""
    return "".join(unicodedata.normalize("NFKC", text or "").split()).upper()


def check_line_item_codes(items: Sequence[tuple[str, str]], catalog: Mapping[str, str]) -> Verdict:
    """Every line item names a procurement-catalogue item by its code, and the code is in ``catalog``.

    ``items`` holds (line item description, catalogue code as given); ``catalog`` is {code: name}.
    """
    for n, (description, code) in enumerate(items, start=1):
        name = (description or "").strip() or f"第 {n} 项"
        given = normalise_code(code)
        if not given:
            return refuse("procurement.item_missing",
                          f"明细“{name}”须按编码选择所属的政府采购目录品目(如 {_example(catalog)})。",
                          ART_PROCUREMENT)
        if given not in catalog:
            return refuse("procurement.item_unknown",
                          f"明细“{name}”的政府采购目录编码“{code.strip()}”不在本市政府采购目录内;"
                          f"请按编码选择目录中的品目(如 {_example(catalog)})。", ART_PROCUREMENT)
    return OK


def _example(catalog: Mapping[str, str]) -> str:
    code = next(iter(catalog), "")
    return f"{code} {catalog[code]}" if code else "目录中的编码"
