"""Pure rules of issue 13: the articles a finding may cite, the inspection period, a finding's parts, the
second-person rule, finance's written steps, the budget review approval waits for, and who reads what."""
from __future__ import annotations

import datetime as dt

import pytest

from rules import inspection as r
from rules.policy import Policy
from tests.rules.helpers import Case, run_case

TODAY = dt.date(2026, 4, 1)
REFUSALS: list[Case] = [
    Case("finance-text", lambda: r.check_finance_text("", "审计结论"), "finance.conclusion_missing", "第十八条"),
    Case("budget-pending", lambda: r.check_budget_reviewed(True, None), "finance.budget_review_pending", "第十八条"),
    Case("budget-failed", lambda: r.check_budget_reviewed(True, "failed"), "finance.budget_review_failed", "第十八条"),
    Case("period-reversed", lambda: r.check_period(dt.date(2026, 3, 2), dt.date(2026, 3, 1), TODAY),
         "inspection.period_invalid", "第十九条"),
    Case("reader", lambda: r.check_may_read_inspection({"supervisor"}), "inspection.forbidden", "第十九条"),
    Case("article", lambda: r.check_article_cited("第三十条"), "finding.article_unknown", "第十九条"),
    Case("description", lambda: r.check_finding("第十条", "", "重新公示", 3), "finding.description_missing", "第十九条"),
    Case("requirement", lambda: r.check_finding("第十条", "未公示", "", 3), "finding.requirement_missing", "第十九条"),
    Case("workdays", lambda: r.check_finding("第十条", "未公示", "重新公示", 0), "finding.workdays_invalid", "第十九条"),
    Case("project", lambda: r.check_project_of_community(False), "finding.project_invalid", "第十九条"),
    Case("same-person", lambda: r.check_second_person(3, 3), "finding.same_person", "第十九条"),
]


@pytest.mark.parametrize("case", REFUSALS, ids=lambda c: c.id)
def test_refusals(case: Case) -> None:
    run_case(case)


def test_every_article_of_the_regulation_and_only_those_is_known() -> None:
    assert len(r.KNOWN_ARTICLES) == 21 + 4 + 6
    assert r.KNOWN_ARTICLES[0] == "第一条" and "第二十一条" in r.KNOWN_ARTICLES and "第十条" in r.KNOWN_ARTICLES
    assert "第七条第(四)项" in r.KNOWN_ARTICLES and "第八条第(六)项" in r.KNOWN_ARTICLES


@pytest.mark.parametrize(("text", "cited"), [
    ("第十三条", "第十三条"), (" 第 十九 条 ", "第十九条"), ("第七条第(二)项", "第七条第(二)项"),
    ("第七条第(2)项", "第七条第(二)项"), ("第八条第(6)项", "第八条第(六)项"), ("第二十条", "第二十条"),
    ("第二十二条", None), ("第七条第(五)项", None), ("第九条第(一)项", None), ("第零条", None), ("13", None),
    ("", None),
])
def test_citations_are_normalised_or_refused(text: str, cited: str | None) -> None:
    assert r.normalise_article(text) == cited
    verdict = r.check_article_cited(text)
    assert verdict.ok == (cited is not None)
    if cited is None:
        assert (verdict.code, verdict.article) == ("finding.article_unknown", "第十九条")


def test_the_period_has_begun_and_runs_forward() -> None:
    today = dt.date(2026, 4, 1)
    assert r.check_period(dt.date(2026, 3, 1), dt.date(2026, 4, 30), today).ok
    assert r.check_period(dt.date(2026, 4, 1), dt.date(2026, 4, 1), today).ok
    for start, end in [(dt.date(2026, 3, 2), dt.date(2026, 3, 1)), (dt.date(2026, 4, 2), dt.date(2026, 4, 30)),
                       (dt.date(2025, 1, 1), dt.date(2026, 3, 1))]:
        v = r.check_period(start, end, today)
        assert (v.ok, v.code, v.article) == (False, "inspection.period_invalid", "第十九条")


def test_a_finding_has_its_parts() -> None:
    assert r.check_finding("第十三条", "未公示", "补办公示", 5).ok
    assert r.check_finding("第十三条", "未公示", "补办公示", 0).code == "finding.workdays_invalid"
    assert r.check_finding("第十三条", "未公示", "补办公示", 251).code == "finding.workdays_invalid"
    assert r.check_finding("第十三条", "", "补办公示", 5).code == "finding.description_missing"
    assert r.check_finding("第十三条", "未公示", " ", 5).code == "finding.requirement_missing"


def test_the_recorder_never_judges_the_rectification() -> None:
    assert r.check_second_person(2, 1).ok
    v = r.check_second_person(1, 1)
    assert (v.ok, v.code, v.article) == (False, "finding.same_person", "第十九条")


def test_finance_writes_each_step_down() -> None:
    assert r.check_finance_text("账实相符", "审计结论").ok
    v = r.check_finance_text(" ", "审计结论")
    assert (v.code, v.article) == ("finance.conclusion_missing", "第十八条") and "审计结论" in v.message


def test_the_budget_review_holds_approval_only_when_policy_requires_it() -> None:
    assert r.check_budget_reviewed(False, None).ok and r.check_budget_reviewed(False, "failed").ok
    assert r.check_budget_reviewed(True, "passed").ok
    assert r.check_budget_reviewed(True, None).code == "finance.budget_review_pending"
    v = r.check_budget_reviewed(True, "failed")
    assert (v.code, v.article) == ("finance.budget_review_failed", "第十八条")


def test_who_reads_inspections_and_findings() -> None:
    for roles in ({"working_member"}, {"working_secretary"}, {"finance_officer"}):
        assert r.check_may_read_inspection(roles).ok and r.check_may_read_finding(roles).ok
    for roles in ({"community_secretary"}, {"community_staff"}, {"supervisor"}):
        assert not r.check_may_read_inspection(roles).ok and r.check_may_read_finding(roles).ok
    for roles in (set(), {"construction_director"}, {"city_admin"}):
        v = r.check_may_read_finding(roles)
        assert (v.ok, v.code, v.article) == (False, "inspection.forbidden", "第十九条")


def test_the_budget_review_policy_key_defaults_off_and_takes_only_booleans() -> None:
    assert Policy().budget_review_required is False
    assert Policy.from_dict({"budget_review_required": True}).budget_review_required is True
    assert Policy.from_dict(Policy(budget_review_required=True).to_dict()) == Policy(budget_review_required=True)
    for bad in (1, "true", None):
        with pytest.raises(ValueError, match="budget_review_required"):
            Policy.from_dict({"budget_review_required": bad})
