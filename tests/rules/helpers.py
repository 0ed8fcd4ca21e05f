"""Shared assertions for the rule tests; every code a test sees is remembered for the catalog test."""
from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from rules.verdict import Verdict

CJK = re.compile(r"[\u4e00-\u9fff]")
#: "第十条", "第七条第(二)项", "第五条、第十三条"
_ONE = r"第[一二三四五六七八九十]+条(?:第\([一二三四五六七八九十]+\)项)?"
ARTICLE = re.compile(rf"^{_ONE}(?:、{_ONE})*$")

#: every verdict code seen by any assertion in this test run.
SEEN_CODES: set[str] = set()


@dataclass(frozen=True)
class Case:
    """One refusal case of a table: calling ``call`` must refuse with ``code`` citing ``article``."""

    id: str
    call: Callable[[], Verdict]
    code: str
    article: str


def assert_ok(v: Verdict) -> None:
    assert isinstance(v, Verdict)
    assert v.ok, v
    assert not v.warning, v
    assert v.code == "ok", v


def assert_refused(v: Verdict, code: str, article: str) -> None:
    assert isinstance(v, Verdict)
    SEEN_CODES.add(v.code)
    assert not v.ok, v
    assert not v.warning, v
    assert v.code == code, v
    assert v.article == article, v
    assert ARTICLE.match(v.article), v.article
    assert CJK.search(v.message), v.message


def assert_warned(v: Verdict, code: str, article: str) -> None:
    assert isinstance(v, Verdict)
    SEEN_CODES.add(v.code)
    assert v.ok, v
    assert v.warning, v
    assert v.code == code, v
    assert v.article == article, v
    assert CJK.search(v.message), v.message


def run_case(case: Case) -> Verdict:
    v = case.call()
    assert_refused(v, case.code, case.article)
    return v
