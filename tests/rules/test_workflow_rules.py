"""rules.workflow: the engine's and the use cases' checks, on plain values (labels, versions)."""
from __future__ import annotations

import pytest

from rules.workflow import (
    check_branch_found,
    check_event_known,
    check_found,
    check_need_of_community,
    check_payload_valid,
    check_policy_published,
    check_post,
    check_post_in_community,
    check_state_allows,
    check_version,
)
from tests.rules.helpers import Case, assert_ok, run_case

ART = "第十一条"
ART_PROCEDURE = "第七条第(三)项"
LEADERS = ("社区党工委书记", "社区建设管理委员会主任")

REFUSALS: list[Case] = [
    Case("unknown-event", lambda: check_event_known("approve_all", {"approve", "reject"}),
         "workflow.unknown_event", ART_PROCEDURE),
    Case("not-found", lambda: check_found(False), "workflow.not_found", ART_PROCEDURE),
    Case("version-old", lambda: check_version(5, 4, ART), "workflow.version_mismatch", ART),
    Case("version-ahead", lambda: check_version(5, 6, ART), "workflow.version_mismatch", ART),
    Case("invalid-state", lambda: check_state_allows(False, "拟提议", "审批同意", ART), "workflow.invalid_state", ART),
    Case("no-post", lambda: check_post("", "审批同意", LEADERS, ART), "auth.no_post", ART),
    Case("no-post-community", lambda: check_post_in_community("", ART), "auth.no_post", ART),
    Case("public-not-post", lambda: check_post_in_community("public", ART), "auth.no_post", ART),
    Case("system-not-post", lambda: check_post_in_community("system", ART), "auth.no_post", ART),
    Case("payload", lambda: check_payload_valid([("minutes", "Field required")], ART), "payload.invalid", ART),
    Case("no-branch", lambda: check_branch_found(False, "审批同意", ART), "workflow.no_branch", ART),
    Case("policy-missing", lambda: check_policy_published(False), "policy.missing", "第五条"),
    Case("need-missing", lambda: check_need_of_community(12, None, 3), "proposal.need_invalid", "第九条"),
    Case("need-elsewhere", lambda: check_need_of_community(12, 4, 3), "proposal.need_invalid", "第九条"),
]


@pytest.mark.parametrize("case", REFUSALS, ids=lambda c: c.id)
def test_refusals(case: Case) -> None:
    run_case(case)


def test_messages() -> None:
    assert check_event_known("approve_all", (), "").message == "没有名为「approve_all」的操作"
    assert check_found(False).message == "记录不存在"
    assert check_version(5, 4).message == "记录已被他人修改(当前版本 5,请求基于版本 4),请刷新后重试"
    assert check_state_allows(False, "拟提议", "审批同意", ART).message == "当前状态为「拟提议」,不能执行「审批同意」"
    assert check_post("", "审批同意", LEADERS, ART).message == (
        "您当日没有可执行「审批同意」的岗位(需要: 社区党工委书记、社区建设管理委员会主任)")
    assert check_post_in_community("", ART).message == "您当日没有在该社区执行此操作的岗位"
    assert check_payload_valid([("minutes", "Field required"), ("votes", "x")], ART).message == (
        "提交的内容不正确: minutes Field required")
    assert check_payload_valid([("", "")], ART).message == "提交的内容不正确:"
    assert check_branch_found(False, "审批同意", ART).message == "「审批同意」的条件不满足"
    assert check_need_of_community(12, None, 3).message == "需求 #12 不属于本社区"


def test_requests_outside_the_procedure_cite_its_article() -> None:
    # an undeclared step, a missing record, a stale version: 坚持规范操作 unless the event's own article is given
    assert check_event_known("x", ()).article == ART_PROCEDURE
    assert check_found(False).article == ART_PROCEDURE
    assert check_version(2, 1).article == ART_PROCEDURE
    assert check_version(2, 1, ART).article == ART


def test_ok() -> None:
    assert_ok(check_event_known("approve", {"approve", "reject"}, ART))
    assert_ok(check_found(True, ART))
    assert_ok(check_version(5, 5, ART))
    assert_ok(check_version(5, None, ART))
    assert_ok(check_state_allows(True, "待党工委审批", "审批同意", ART))
    assert_ok(check_post("working_secretary", "审批同意", LEADERS, ART))
    assert_ok(check_post("public", "提出异议", ("居民群众",), ART))
    assert_ok(check_post_in_community("community_staff", ART))
    assert_ok(check_payload_valid([], ART))
    assert_ok(check_branch_found(True, "审批同意", ART))
    assert_ok(check_policy_published(True))
    assert_ok(check_need_of_community(12, 3, 3))
