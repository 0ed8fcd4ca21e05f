"""Meetings: the joint meeting of the two committees and resident representatives (第十条) and the working
committee's board meeting (第十一条).
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Literal

from rules.policy import Policy
from rules.verdict import OK, Verdict, refuse

ART_JOINT = "第十条"
ART_BOARD = "第十一条"

#: attendee capacities at a joint meeting; anything else counts as an attendee in no capacity.
CAPACITIES: dict[str, str] = {
    "two_committees": "两委成员",
    "resident_rep": "居民代表",
}

#: a board meeting (班子会议) is a meeting: at least two members of the working committee's leadership.
BOARD_MEETING_MIN_ATTENDEES = 2

Outcome = Literal["passed", "divided", "voted_down"]


@dataclass(frozen=True, slots=True)
class Attendee:
    name: str
    #: "two_committees" (两委成员), "resident_rep" (居民代表) or another capacity.
    capacity: str


def meeting_outcome(votes_for: int, votes_against: int, votes_abstain: int, policy: Policy) -> Outcome:
    """The joint meeting's result from its tally (Art. 10; thresholds from policy).

    share = for / (for + against + abstain): ≥ pass ratio → "passed"; < reject ratio → "voted_down";
    otherwise "divided" (意见分歧较大, the project is shelved). Raises ValueError for a negative count or
    an empty tally (``check_joint_meeting`` refuses those first).
    """
    if min(votes_for, votes_against, votes_abstain) < 0:
        raise ValueError("vote counts must not be negative")
    cast = votes_for + votes_against + votes_abstain
    if cast == 0:
        raise ValueError("no votes cast")
    share = Fraction(votes_for, cast)
    if share >= policy.meeting_pass_ratio:
        return "passed"
    if share < policy.meeting_reject_ratio:
        return "voted_down"
    return "divided"


def check_joint_meeting(attendees: Sequence[Attendee], votes_for: int, votes_against: int, votes_abstain: int,
                        minutes: str, policy: Policy) -> Verdict:
    """The record of a joint meeting is complete and consistent (Art. 10)."""
    if min(votes_for, votes_against, votes_abstain) < 0:
        return refuse("meeting.negative_votes",
                      f"表决票数不能为负数(赞成 {votes_for}、反对 {votes_against}、弃权 {votes_abstain})。", ART_JOINT)
    seen: set[str] = set()
    for a in attendees:
        name = (a.name or "").strip()
        if not name:
            return refuse("meeting.attendee_invalid", "参会人员须填写姓名。", ART_JOINT)
        if name in seen:
            return refuse("meeting.attendee_invalid",
                          f"参会人员“{name}”重复登记;如确为同名的不同人员,请在姓名后注明以示区分。", ART_JOINT)
        seen.add(name)
    committee = sum(1 for a in attendees if a.capacity == "two_committees")
    reps = sum(1 for a in attendees if a.capacity == "resident_rep")
    if committee < 1:
        return refuse("meeting.no_committee_members",
                      "联席会议须有社区“两委”成员参加,参会名单中没有两委成员。", ART_JOINT)
    if reps < policy.meeting_min_resident_reps:
        return refuse("meeting.no_resident_reps",
                      f"联席会议须有至少 {policy.meeting_min_resident_reps} 名居民代表参加,"
                      f"参会名单中只有 {reps} 名。", ART_JOINT)
    cast = votes_for + votes_against + votes_abstain
    if cast == 0:
        return refuse("meeting.no_votes", "联席会议须对项目进行表决,未登记任何表决票。", ART_JOINT)
    if cast > len(attendees):
        return refuse("meeting.votes_exceed_attendees",
                      f"表决票数合计 {cast} 票,多于参会人数 {len(attendees)} 人。", ART_JOINT)
    if not (minutes or "").strip():
        return refuse("meeting.minutes_missing", "请填写联席会议的会议记录(讨论情况)。", ART_JOINT)
    return OK


def check_board_meeting(attendees_count: int, minutes: str) -> Verdict:
    """The working committee's board meeting (班子会议) studied the application (Art. 11): at least
    ``BOARD_MEETING_MIN_ATTENDEES`` attendees and minutes."""
    if attendees_count < BOARD_MEETING_MIN_ATTENDEES:
        return refuse("approval.board_meeting_invalid",
                      f"党工委班子会议须至少 {BOARD_MEETING_MIN_ATTENDEES} 名班子成员参加,"
                      f"登记的参会人数为 {attendees_count} 人。", ART_BOARD)
    if not (minutes or "").strip():
        return refuse("approval.board_meeting_invalid", "请填写党工委班子会议的研究意见(会议记录)。", ART_BOARD)
    return OK
