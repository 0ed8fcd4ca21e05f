"""Checks the engine and the use cases make before any rule of the regulation: the event exists, the
record exists and is the version the user saw, the state allows the event, the user holds a post for it,
the submitted content is well formed. They take plain values (labels, versions); the article, where there
is one, is the article of the event attempted.
"""
from __future__ import annotations

from collections.abc import Collection, Sequence

from rules.verdict import OK, Verdict, refuse

#: roles that are not posts: a resident and the scheduler never act through the use cases.
NOT_POSTS: frozenset[str] = frozenset({"public", "system"})


ART_PROCEDURE = "第七条第(三)项"
"""坚持规范操作的原则 — every step by the prescribed procedure: what a request for an undeclared step, or for a
record that does not exist, fails against."""


def check_event_known(trigger: str, triggers: Collection[str], article: str = ART_PROCEDURE) -> Verdict:
    """The event is one the workflow declares."""
    if trigger in triggers:
        return OK
    return refuse("workflow.unknown_event", f"没有名为「{trigger}」的操作", article)


def check_found(found: bool, article: str = ART_PROCEDURE) -> Verdict:
    """The record the event is fired on exists."""
    return OK if found else refuse("workflow.not_found", "记录不存在", article)


def check_version(current: int, expected: int | None, article: str = ART_PROCEDURE) -> Verdict:
    """The record is still at the version the request was based on (None: the request does not say)."""
    if expected is None or expected == current:
        return OK
    return refuse("workflow.version_mismatch",
                  f"记录已被他人修改(当前版本 {current},请求基于版本 {expected}),请刷新后重试", article)


def check_state_allows(allowed: bool, state_label: str, event_label: str, article: str) -> Verdict:
    """The current state has a transition for the event (``allowed``)."""
    if allowed:
        return OK
    return refuse("workflow.invalid_state", f"当前状态为「{state_label}」,不能执行「{event_label}」", article)


def check_post(role: str, event_label: str, allowed_labels: Sequence[str], article: str) -> Verdict:
    """The actor holds today one of the posts the event allows (``role`` is the one found, "" if none)."""
    if role:
        return OK
    allowed = "、".join(allowed_labels)
    return refuse("auth.no_post", f"您当日没有可执行「{event_label}」的岗位(需要: {allowed})", article)


def check_post_in_community(role: str, article: str) -> Verdict:
    """A use case outside the workflows (recording a need, proposing) needs a post held today in the
    community; being a resident or the scheduler is not a post."""
    if role and role not in NOT_POSTS:
        return OK
    return refuse("auth.no_post", "您当日没有在该社区执行此操作的岗位", article)


def check_payload_valid(errors: Sequence[tuple[str, str]], article: str) -> Verdict:
    """The submitted content is well formed; ``errors`` are (where, what) pairs, the first one is shown."""
    if not errors:
        return OK
    where, what = errors[0]
    return refuse("payload.invalid", f"提交的内容不正确: {where} {what}".strip(), article)


def check_branch_found(moved: bool, event_label: str, article: str) -> Verdict:
    """Some transition of the event had all its conditions met, though none refused with its own reason."""
    return OK if moved else refuse("workflow.no_branch", f"「{event_label}」的条件不满足", article)


def check_policy_published(found: bool) -> Verdict:
    """The city has a policy version in force (the fund's amounts and thresholds, 第五条)."""
    return OK if found else refuse("policy.missing", "本市尚未发布生效的政策版本", "第五条")


def check_need_of_community(need_id: int, need_community_id: int | None, community_id: int) -> Verdict:
    """A need a proposal links was recorded in the proposing community (第九条); ``need_community_id`` is
    None when there is no such need."""
    if need_community_id is not None and need_community_id == community_id:
        return OK
    return refuse("proposal.need_invalid", f"需求 #{need_id} 不属于本社区", "第九条")
