"""The texts the workflow archives: notices (``templates/notices/``) and ledger vouchers and filing records
(``templates/records/``), rendered from plain values. Below the effects and ``workflow.fund_years``, which both
archive them."""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"


@lru_cache(maxsize=1)
def _jinja() -> Environment:
    return Environment(loader=FileSystemLoader(str(TEMPLATES)), undefined=StrictUndefined, autoescape=False,
                       keep_trailing_newline=True)


def render_notice(name: str, **values: Any) -> str:
    return _jinja().get_template(f"notices/{name}.txt").render(**values)


def render_record(name: str, **values: Any) -> str:
    """A ledger voucher or filing record (templates/records/), archived and pointed at by its entry."""
    return _jinja().get_template(f"records/{name}.txt").render(**values)
