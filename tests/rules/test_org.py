"""rules.org: the checks on the city's organisations, people and posts; every refusal with its article."""
from __future__ import annotations

import datetime as dt

import pytest

from rules import org as r
from tests.rules.helpers import Case, assert_ok, run_case

D = dt.date

REFUSALS: list[Case] = [
    Case("not_found", lambda: r.check_found(False, "社区 #12"), "org.not_found", "第二条"),
    Case("code_blank", lambda: r.check_code(""), "org.code_invalid", "第二条"),
    Case("code_space", lambda: r.check_code("S 01"), "org.code_invalid", "第二条"),
    Case("code_long", lambda: r.check_code("S" * 33), "org.code_invalid", "第二条"),
    Case("code_leading_dash", lambda: r.check_code("-S1"), "org.code_invalid", "第二条"),
    Case("level_city", lambda: r.check_level("city"), "org.level_invalid", "第二条"),
    Case("level_unknown", lambda: r.check_level("street", ("city", "area", "community")), "org.level_invalid", "第二条"),
    Case("name_blank", lambda: r.check_name("  "), "org.name_invalid", "第二条"),
    Case("name_long", lambda: r.check_name("社" * 101), "org.name_invalid", "第二条"),
    Case("name_control", lambda: r.check_name("幸福\n社区"), "org.name_invalid", "第二条"),
    Case("person_name_long", lambda: r.check_name("名" * 65, "姓名", 64), "org.name_invalid", "第二条"),
    Case("code_taken", lambda: r.check_code_free("S01", "幸福社区"), "org.code_taken", "第二条"),
    Case("name_taken", lambda: r.check_name_free("幸福社区", "xx大社区", True), "org.name_taken", "第二条"),
    Case("parent_missing", lambda: r.check_parent("community", None, "A99"), "org.parent_invalid", "第二条"),
    Case("parent_level", lambda: r.check_parent("community", "city", "C01"), "org.parent_invalid", "第二条"),
    Case("area_under_area", lambda: r.check_parent("area", "area", "A01"), "org.parent_invalid", "第二条"),
    Case("city_with_parent", lambda: r.check_parent("city", "city", "C01"), "org.parent_invalid", "第二条"),
    Case("closed", lambda: r.check_open("和平社区", D(2026, 6, 30)), "org.closed", "第二条"),
    Case("other_city", lambda: r.check_same_city("幸福社区", 1, {2}), "org.other_city", "第二条"),
    Case("no_city", lambda: r.check_same_city("幸福社区", None, {2}), "org.other_city", "第二条"),
    Case("admin_only", lambda: r.check_admin(False), "org.admin_only", "第二条"),
    Case("reason_blank", lambda: r.check_reason(" x "), "org.reason_missing", "第二条"),
    Case("reason_long", lambda: r.check_reason("因" * 501), "org.reason_missing", "第二条"),
    Case("rename_same", lambda: r.check_rename("幸福社区", " 幸福社区 "), "org.rename_unchanged", "第二条"),
    Case("move_area", lambda: r.check_movable("area"), "org.move_not_community", "第二条"),
    Case("move_same", lambda: r.check_move_target(2, 2, 1, 1, "xx大社区"), "org.move_same_area", "第二条"),
    Case("move_other_city", lambda: r.check_move_target(2, 9, 1, 8, "外市大社区"), "org.move_other_city", "第二条"),
    Case("move_pending", lambda: r.check_no_pending_decision(["S01-2026-003"]), "org.move_decision_pending",
         "第十一条"),
    Case("move_signed", lambda: r.check_no_partial_signatures(["S01-2026-001/INV1"]), "org.move_signatures_pending",
         "第十三条"),
    Case("year_end", lambda: r.check_no_year_end_under_way([2026], "撤销"), "org.year_end_under_way",
         "第十五条、第十六条"),
    Case("close_children", lambda: r.check_no_open_children(["幸福社区"]), "org.close_has_communities", "第二条"),
    Case("close_projects", lambda: r.check_no_open_projects(["S01-2026-001"]), "org.close_projects_open", "第二条"),
    Case("close_year", lambda: r.check_year_has_no_projects([2026]), "org.close_year_open", "第十五条、第十六条"),
    Case("username_short", lambda: r.check_username("ab"), "org.username_invalid", "第二条"),
    Case("username_chinese", lambda: r.check_username("张三丰"), "org.username_invalid", "第二条"),
    Case("phone", lambda: r.check_phone("12x"), "org.phone_invalid", "第二条"),
    Case("email", lambda: r.check_email("li4@"), "org.email_invalid", "第二条"),
    Case("role", lambda: r.check_role("boss"), "org.role_invalid", "第二条"),
    Case("role_level", lambda: r.check_role_level("supervisor", "area", "A01"), "org.role_level", "第二条"),
    Case("admin_in_community", lambda: r.check_role_level("city_admin", "community", "S01"), "org.role_level",
         "第二条"),
    Case("term", lambda: r.check_term(D(2026, 5, 1), D(2026, 4, 1)), "org.term_invalid", "第二条"),
    Case("overlap", lambda: r.check_no_overlap("community_secretary", "S01", (D(2020, 1, 1), None)),
         "org.term_overlap", "第二条"),
    Case("extend", lambda: r.check_term_end_change(D(2026, 6, 30), D(2026, 12, 31)), "org.term_extend", "第二条"),
    Case("reopen", lambda: r.check_term_end_change(D(2026, 6, 30), None), "org.term_extend", "第二条"),
    Case("password_short", lambda: r.check_password("short"), "account.password_weak", "第二条"),
    Case("password_spaces", lambda: r.check_password(" " * 12), "account.password_weak", "第二条"),
    Case("activation_unknown", lambda: r.check_activation(False, False, False), "account.activation_invalid", "第二条"),
    Case("activation_used", lambda: r.check_activation(True, True, False), "account.activation_invalid", "第二条"),
    Case("activation_expired", lambda: r.check_activation(True, False, True), "account.activation_invalid", "第二条"),
]


@pytest.mark.parametrize("case", REFUSALS, ids=lambda c: c.id)
def test_refusals(case: Case) -> None:
    run_case(case)


def test_what_is_allowed() -> None:
    for v in (r.check_found(True, "x"), r.check_code("S01"), r.check_code("a-b_9"), r.check_level("area"),
              r.check_name("幸福社区"), r.check_code_free("S09", None), r.check_name_free("x", "y", False),
              r.check_parent("community", "area", "A01"), r.check_parent("area", "city", "C01"),
              r.check_parent("city", None), r.check_open("x", None), r.check_same_city("x", 1, {1}),
              r.check_admin(True), r.check_reason("区划调整"), r.check_rename("旧名", "新名"),
              r.check_movable("community"), r.check_move_target(2, 3, 1, 1, "x"), r.check_no_pending_decision([]),
              r.check_no_partial_signatures([]), r.check_no_year_end_under_way([], "撤销"),
              r.check_no_open_children([]), r.check_no_open_projects([]), r.check_year_has_no_projects([]),
              r.check_username("s01_shuji"), r.check_phone(""), r.check_phone("+86 139-0000-0000"),
              r.check_email(""), r.check_email("a.b@example.cn"), r.check_role("supervisor"),
              r.check_role_level("supervisor", "community", "S01"), r.check_term(D(2026, 1, 1), None),
              r.check_term(D(2026, 1, 1), D(2026, 1, 1)), r.check_no_overlap("supervisor", "S01", None),
              r.check_term_end_change(None, None), r.check_term_end_change(D(2026, 6, 30), D(2026, 3, 31)),
              r.check_password("a-long-passphrase"), r.check_activation(True, False, False)):
        assert_ok(v)


def test_terms_overlap() -> None:
    assert r.terms_overlap(D(2026, 1, 1), None, D(2030, 1, 1), None)
    assert r.terms_overlap(D(2026, 1, 1), D(2026, 6, 30), D(2026, 6, 30), None)
    assert not r.terms_overlap(D(2026, 1, 1), D(2026, 6, 29), D(2026, 6, 30), None)


def test_long_lists_are_shortened_in_messages() -> None:
    v = r.check_no_open_projects([f"S01-2026-{i:03d}" for i in range(1, 9)])
    assert "8 个" in v.message and "S01-2026-005 等" in v.message and "S01-2026-006" not in v.message
