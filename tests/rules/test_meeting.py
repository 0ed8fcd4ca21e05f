"""rules.meeting: the joint meeting (第十条) and the working committee's board meeting (第十一条)."""
from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rules.meeting import Attendee, check_board_meeting, check_joint_meeting, meeting_outcome
from rules.policy import Policy
from tests.rules.helpers import Case, assert_ok, run_case

POLICY = Policy()
RANK = {"voted_down": 0, "divided": 1, "passed": 2}

PEOPLE = (
    Attendee("王书记", "two_committees"),
    Attendee("李主任", "two_committees"),
    Attendee("赵代表", "resident_rep"),
    Attendee("钱代表", "resident_rep"),
    Attendee("孙居民", "resident"),
)
MINUTES = "讨论了楼道照明维修方案,与会人员一致认为确有必要。"


REFUSALS: list[Case] = [
    Case("negative", lambda: check_joint_meeting(PEOPLE, 3, -1, 0, MINUTES, POLICY), "meeting.negative_votes",
         "第十条"),
    Case("blank-name", lambda: check_joint_meeting(PEOPLE + (Attendee(" ", "resident_rep"),), 3, 0, 0, MINUTES,
                                                   POLICY), "meeting.attendee_invalid", "第十条"),
    Case("duplicate", lambda: check_joint_meeting(PEOPLE + (Attendee("赵代表", "two_committees"),), 3, 0, 0,
                                                  MINUTES, POLICY), "meeting.attendee_invalid", "第十条"),
    Case("no-committee", lambda: check_joint_meeting(PEOPLE[2:], 3, 0, 0, MINUTES, POLICY),
         "meeting.no_committee_members", "第十条"),
    Case("no-reps", lambda: check_joint_meeting(PEOPLE[:2] + PEOPLE[4:], 3, 0, 0, MINUTES, POLICY),
         "meeting.no_resident_reps", "第十条"),
    Case("too-few-reps", lambda: check_joint_meeting(PEOPLE, 3, 0, 0, MINUTES, Policy(meeting_min_resident_reps=3)),
         "meeting.no_resident_reps", "第十条"),
    Case("no-votes", lambda: check_joint_meeting(PEOPLE, 0, 0, 0, MINUTES, POLICY), "meeting.no_votes", "第十条"),
    Case("too-many-votes", lambda: check_joint_meeting(PEOPLE, 4, 1, 1, MINUTES, POLICY),
         "meeting.votes_exceed_attendees", "第十条"),
    Case("no-minutes", lambda: check_joint_meeting(PEOPLE, 4, 1, 0, " \n ", POLICY), "meeting.minutes_missing",
         "第十条"),
    Case("board-alone", lambda: check_board_meeting(1, "研究同意"), "approval.board_meeting_invalid", "第十一条"),
    Case("board-nobody", lambda: check_board_meeting(0, "研究同意"), "approval.board_meeting_invalid", "第十一条"),
    Case("board-no-minutes", lambda: check_board_meeting(5, ""), "approval.board_meeting_invalid", "第十一条"),
]


@pytest.mark.parametrize("case", REFUSALS, ids=lambda c: c.id)
def test_refusals(case: Case) -> None:
    run_case(case)


@pytest.mark.parametrize(("votes", "outcome"), [
    ((2, 1, 0), "passed"),      # exactly 2/3
    ((5, 0, 0), "passed"),
    ((3, 1, 1), "divided"),     # 3/5
    ((1, 1, 1), "divided"),     # exactly 1/3 is not below the reject line
    ((1, 2, 1), "voted_down"),  # 1/4
    ((0, 0, 3), "voted_down"),  # abstentions count as cast
])
def test_meeting_outcome(votes: tuple[int, int, int], outcome: str) -> None:
    assert meeting_outcome(*votes, POLICY) == outcome


def test_meeting_outcome_follows_policy() -> None:
    strict = Policy(meeting_pass_ratio=Fraction(3, 4), meeting_reject_ratio=Fraction(1, 2))
    assert meeting_outcome(2, 1, 0, strict) == "divided"
    assert meeting_outcome(3, 1, 0, strict) == "passed"
    assert meeting_outcome(1, 2, 0, strict) == "voted_down"


@pytest.mark.parametrize("votes", [(0, 0, 0), (-1, 2, 0)])
def test_meeting_outcome_rejects_bad_tally(votes: tuple[int, int, int]) -> None:
    with pytest.raises(ValueError):
        meeting_outcome(*votes, POLICY)


@given(
    votes_for=st.integers(0, 500), extra=st.integers(1, 500), against=st.integers(0, 500),
    abstain=st.integers(0, 500),
    lines=st.tuples(st.fractions(0, 1, max_denominator=20), st.fractions(0, 1, max_denominator=20)),
)
def test_meeting_outcome_monotonic_in_votes_for(votes_for: int, extra: int, against: int, abstain: int,
                                                lines: tuple[Fraction, Fraction]) -> None:
    reject, pass_ = sorted(lines)
    policy = Policy(meeting_pass_ratio=pass_, meeting_reject_ratio=reject)
    if votes_for + against + abstain == 0:
        votes_for = 1
    before = meeting_outcome(votes_for, against, abstain, policy)
    after = meeting_outcome(votes_for + extra, against, abstain, policy)
    assert RANK[after] >= RANK[before]


def test_joint_meeting_ok() -> None:
    assert_ok(check_joint_meeting(PEOPLE, 4, 1, 0, MINUTES, POLICY))
    assert_ok(check_joint_meeting(PEOPLE, 2, 2, 1, MINUTES, POLICY))  # a divided meeting is still a valid record
    assert_ok(check_joint_meeting(PEOPLE[1:3], 1, 1, 0, MINUTES, POLICY))


def test_joint_meeting_messages_name_numbers() -> None:
    v = check_joint_meeting(PEOPLE, 4, 1, 1, MINUTES, POLICY)
    assert "6" in v.message and "5" in v.message


def test_board_meeting_ok() -> None:
    assert_ok(check_board_meeting(2, "班子会议研究,同意报主要领导审批。"))
    assert_ok(check_board_meeting(7, "研究同意"))
