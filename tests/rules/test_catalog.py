"""rules.catalog: every code a rule function can return is listed, with its article, and nothing stale is."""
from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from rules.catalog import BY_CODE, RULES, RuleInfo, rule_info
from tests.rules import (
    test_approval,
    test_cap,
    test_common,
    test_deadline,
    test_inspection,
    test_meeting,
    test_needs,
    test_notice,
    test_org,
    test_payment,
    test_procurement,
    test_project,
    test_redflags,
    test_supervision,
    test_workflow_rules,
    test_year,
)
from tests.rules.helpers import ARTICLE, CJK, SEEN_CODES, Case

RULES_DIR = Path(__file__).resolve().parents[2] / "rules"
CODE = re.compile(r"^[a-z_]+(?:\.[a-z_]+)+$")
ALL_CASES: list[Case] = [
    *test_project.REFUSALS, *test_cap.REFUSALS, *test_meeting.REFUSALS, *test_approval.REFUSALS,
    *test_payment.REFUSALS, *test_supervision.REFUSALS,
    *test_payment.ITEM_REFUSALS, *test_supervision.CONCERN_REFUSALS, *test_common.REFUSALS, *test_deadline.REFUSALS,
    *test_notice.REFUSALS, *test_year.REFUSALS, *test_workflow_rules.REFUSALS,
    *test_payment.MONEY_REFUSALS, *test_procurement.REFUSALS,
    *test_org.REFUSALS, *test_needs.REFUSALS, *test_redflags.REFUSALS, *test_inspection.REFUSALS,
]


def _codes_in_source() -> dict[str, set[str]]:
    """code → modules, for every refuse(...) / warn(...) call with a literal code in rules/*.py."""
    found: dict[str, set[str]] = {}
    for path in sorted(RULES_DIR.glob("*.py")):
        if path.name == "verdict.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
                    and node.func.id in ("refuse", "warn")):
                continue
            first = node.args[0] if node.args else None
            assert isinstance(first, ast.Constant) and isinstance(first.value, str), (
                f"{path.name}:{node.lineno}: verdict codes must be string literals")
            found.setdefault(first.value, set()).add(path.name)
    return found


def test_catalog_entries_well_formed() -> None:
    codes = [r.code for r in RULES]
    assert len(codes) == len(set(codes)), "duplicate codes in the catalog"
    for r in RULES:
        assert isinstance(r, RuleInfo)
        assert CODE.match(r.code), r.code
        assert ARTICLE.match(r.article), (r.code, r.article)
        assert CJK.search(r.checks), r.code
        assert CJK.search(r.message), r.code
    assert rule_info("cap.small_group") is BY_CODE["cap.small_group"]
    assert rule_info("no.such.code") is None


def test_every_code_in_the_source_is_catalogued() -> None:
    in_source = _codes_in_source()
    missing = sorted(set(in_source) - set(BY_CODE))
    assert not missing, f"codes returned by rules but not in rules.catalog: {missing}"
    stale = sorted(c for c in BY_CODE if c not in in_source)
    assert not stale, f"catalog codes no rule returns: {stale}"


@pytest.mark.parametrize("case", ALL_CASES, ids=lambda c: c.id)
def test_case_code_and_article_match_catalog(case: Case) -> None:
    v = case.call()
    assert v.code in BY_CODE, v.code
    assert BY_CODE[v.code].article == v.article, (v.code, v.article)


def test_every_catalogued_code_is_exercised_by_a_test() -> None:
    exercised = {c.code for c in ALL_CASES}
    untested = sorted(set(BY_CODE) - exercised)
    assert not untested, f"catalog codes without a refusal test: {untested}"


def test_codes_seen_so_far_are_catalogued() -> None:
    # codes asserted by any test that ran before this one (warnings included)
    assert set(BY_CODE) >= SEEN_CODES, sorted(SEEN_CODES - set(BY_CODE))
