"""rules.redflags: every flag is raised by data that shows it, and not by the near miss beside it."""
from __future__ import annotations

import dataclasses
import datetime as dt
from fractions import Fraction
from typing import Any

import pytest

from rules import redflags as r
from rules.policy import Policy
from rules.redflags import (
    AcceptanceFact,
    ActFact,
    ApprovalFact,
    AreaFacts,
    LineItemFact,
    ObjectionFact,
    PaymentFact,
    PostFact,
    ProjectFact,
    StatedDateFact,
    YearFact,
)
from tests.rules.helpers import ARTICLE, CJK, Case, assert_ok, assert_refused

AREA, C1, C2 = 100, 1, 2
T0 = dt.datetime(2026, 3, 2, 1, 0, tzinfo=dt.UTC)
POLICY = Policy()


def project(pid: int, community: int = C1, amount: str = "40000.00", days: int = 0, category: str = "property",
            contractor: str = "恒亮照明工程有限公司", state: str = "closed", kind: str = "organisation") -> ProjectFact:
    whole, _, frac = amount.partition(".")
    return ProjectFact(id=pid, code=f"S0{community}-2026-{pid:03d}", community_id=community, title=f"项目{pid}",
                       category=category, contractor_name=contractor, contractor_kind=kind,
                       amount_fen=int(whole) * 100 + int(frac or 0), state=state,
                       proposed_at=T0 + dt.timedelta(days=days), proposer_id=11)


def payment(item: int, pid: int, amount_fen: int, payee: str = "恒亮照明工程有限公司", community: int = C1,
            kind: str = "invoice", on: dt.date = dt.date(2026, 6, 1), entered_by: int | None = 50,
            signers: tuple[int, ...] = (11, 21, 22)) -> PaymentFact:
    return PaymentFact(item_id=item, project_id=pid, community_id=community, kind=kind, payee=payee,
                       amount_fen=amount_fen, paid_on=on, entered_by=entered_by, signer_ids=signers)


def facts(**kw: Any) -> AreaFacts:
    base = AreaFacts(year=2026, area_id=AREA, communities={C1: "幸福社区", C2: "和平社区"},
                     years=[YearFact(C1, 20_000_000), YearFact(C2, 20_000_000)])
    return dataclasses.replace(base, **kw)


def codes(found: list[r.FoundFlag]) -> list[str]:
    return [f.code for f in found]


def evidence(flag: r.FoundFlag, kind: str) -> list[str]:
    return [e.ref for e in flag.evidence if e.kind == kind]


def check_shape(flag: r.FoundFlag) -> None:
    """What every flag carries: its kind's code and title, an article, a Chinese message and evidence."""
    assert flag.code in r.KINDS and flag.title == r.KINDS[flag.code].title
    assert ARTICLE.match(flag.article) and ("第十九条" in flag.article or "第十八条" in flag.article), flag.article
    assert CJK.search(flag.message) and flag.evidence
    assert flag.key.startswith(flag.code.removeprefix("flag.") + "-")


# ------------------------------------------------------------------------------------------ split projects


def test_split_projects_each_under_the_threshold_together_over_it() -> None:
    f = facts(projects=[project(1, amount="30000.00"), project(2, amount="25000.00", days=12),
                        project(3, amount="9000.00", days=200)])
    (flag,) = r.split_projects(f, POLICY)
    check_shape(flag)
    assert flag.code == "flag.split_project" and flag.community_id == C1
    assert sorted(evidence(flag, "project")) == ["1", "2"]
    assert "55000.00" in evidence(flag, "amount") and "55000.00" in flag.message and "50000.00" in flag.message


@pytest.mark.parametrize("why, projects", [
    ("together under the threshold", [project(1, amount="20000.00"), project(2, amount="25000.00", days=3)]),
    ("outside the window", [project(1, amount="30000.00"), project(2, amount="25000.00", days=31)]),
    ("one alone over the threshold", [project(1, amount="50000.00"), project(2, amount="25000.00", days=3)]),
    ("different category and contractor", [project(1, amount="30000.00"),
                                           project(2, amount="25000.00", days=3, category="culture",
                                                   contractor="康体健身器材有限公司")]),
    ("different communities", [project(1, amount="30000.00"), project(2, community=C2, amount="25000.00", days=3)]),
    ("one withdrawn", [project(1, amount="30000.00"), project(2, amount="25000.00", days=3, state="withdrawn")]),
])
def test_split_projects_near_misses(why: str, projects: list[ProjectFact]) -> None:
    assert r.split_projects(facts(projects=projects), POLICY) == [], why


def test_split_by_contractor_across_categories_and_the_window_from_policy() -> None:
    projects = [project(1, amount="30000.00"), project(2, amount="25000.00", days=40, category="culture")]
    assert r.split_projects(facts(projects=projects), POLICY) == []
    wide = Policy(flag_split_window_days=45)
    (flag,) = r.split_projects(facts(projects=projects), wide)
    assert "同一承办方「恒亮照明工程有限公司」" in flag.message


def test_the_key_is_stable_and_names_the_projects_not_the_figures() -> None:
    one = r.split_projects(facts(projects=[project(1, amount="30000.00"), project(2, amount="25000.00", days=2)]),
                           POLICY)
    two = r.split_projects(facts(projects=[project(1, amount="31000.00"), project(2, amount="26000.00", days=2)]),
                           POLICY)
    other = r.split_projects(facts(projects=[project(1, amount="30000.00"), project(3, amount="25000.00", days=2)]),
                             POLICY)
    assert one[0].key == two[0].key != other[0].key


# ------------------------------------------------------------------------------------------ concentration


def test_a_payee_over_the_share_of_a_community_year() -> None:
    pays = [payment(1, 1, 4_000_000), payment(2, 2, 2_100_000, payee="恒亮照明工程 有限公司")]
    (flag,) = r.contractor_concentration(facts(payments=pays), POLICY)
    check_shape(flag)
    assert flag.community_id == C1 and sorted(evidence(flag, "payment_item")) == ["1", "2"]
    assert "61000.00" in flag.message and "30.5%" in flag.message


def test_a_payee_at_the_share_is_not_flagged() -> None:
    pays = [payment(1, 1, 4_000_000), payment(2, 2, 2_000_000)]  # exactly 30%
    assert r.contractor_concentration(facts(payments=pays), POLICY) == []


def test_a_payee_across_communities_over_the_share_of_the_area() -> None:
    pays = [payment(1, 1, 2_900_000), payment(2, 2, 1_200_000, community=C2)]  # 41000 of 400000 = 10.25%
    (flag,) = r.contractor_concentration(facts(payments=pays), POLICY)
    check_shape(flag)
    assert flag.community_id is None and "2 个社区" in flag.message
    near = [payment(1, 1, 2_900_000), payment(2, 2, 1_000_000, community=C2)]  # 9.75%
    assert r.contractor_concentration(facts(payments=near), POLICY) == []


# ------------------------------------------------------------------------------------------ voucher payees


def voucher(item: int, pid: int, community: int = C1, payee: str = "张桂兰") -> PaymentFact:
    return payment(item, pid, 300_000, payee=payee, community=community, kind="voucher", signers=())


def test_one_individual_paid_by_voucher_in_three_projects() -> None:
    (flag,) = r.repeated_voucher_payees(facts(payments=[voucher(1, 1), voucher(2, 2), voucher(3, 3)]), POLICY)
    check_shape(flag)
    assert flag.community_id == C1 and "3 个项目" in flag.message and "9000.00" in flag.message


def test_one_individual_paid_by_voucher_in_two_communities() -> None:
    (flag,) = r.repeated_voucher_payees(facts(payments=[voucher(1, 1), voucher(2, 2, community=C2)]), POLICY)
    assert flag.community_id is None and "2 个社区" in flag.message


def test_voucher_near_misses() -> None:
    two_projects = [voucher(1, 1), voucher(2, 2), voucher(3, 2)]
    assert r.repeated_voucher_payees(facts(payments=two_projects), POLICY) == []
    invoices = [payment(i, i, 300_000, payee="张桂兰") for i in (1, 2, 3)]
    assert r.repeated_voucher_payees(facts(payments=invoices), POLICY) == []
    different = [voucher(1, 1), voucher(2, 2, payee="刘秀英"), voucher(3, 3, payee="李淑珍")]
    assert r.repeated_voucher_payees(facts(payments=different), POLICY) == []


# ------------------------------------------------------------------------------------------ prices


def item(iid: int, pid: int, price: int, description: str = "LED庭院灯具", catalog: str = "A02061900") -> LineItemFact:
    return LineItemFact(id=iid, project_id=pid, community_id=C1, catalog_item=catalog, description=description,
                        unit_price_fen=price, quantity=10)


def test_a_unit_price_far_above_the_area_median() -> None:
    projects = [project(i, amount="1000.00") for i in (1, 2, 3, 4)]
    items = [item(1, 1, 42_000), item(2, 2, 40_000, "LED庭院灯具(含灯头)"), item(3, 3, 45_000),
             item(4, 4, 130_000)]
    (flag,) = r.prices_out_of_line(facts(projects=projects, line_items=items), POLICY)
    check_shape(flag)
    assert evidence(flag, "line_item") == ["4"] and "1300.00" in flag.message and "435.00" in flag.message


def test_price_near_misses() -> None:
    projects = [project(i, amount="1000.00") for i in (1, 2, 3, 4)]
    at_twice = [item(1, 1, 42_000), item(2, 2, 40_000), item(3, 3, 45_000), item(4, 4, 87_000)]
    assert r.prices_out_of_line(facts(projects=projects, line_items=at_twice), POLICY) == []
    # a different item under the same catalogue code is not the same item
    other_item = [item(1, 1, 42_000), item(2, 2, 40_000), item(3, 3, 45_000), item(4, 4, 130_000, "高杆灯")]
    assert r.prices_out_of_line(facts(projects=projects, line_items=other_item), POLICY) == []
    too_few = [item(1, 1, 42_000), item(4, 4, 130_000)]
    assert r.prices_out_of_line(facts(projects=projects, line_items=too_few), POLICY) == []


# ------------------------------------------------------------------------------------------ rushed and late


def objection(oid: int, hours: float, resolution: str = "confirmed") -> ObjectionFact:
    return ObjectionFact(id=oid, project_id=1, community_id=C1, created_at=T0, answered_at=T0 + dt.timedelta(hours=1),
                         resolved_at=T0 + dt.timedelta(hours=hours), resolution=resolution)


def test_an_objection_answered_and_closed_within_hours() -> None:
    found = r.rushed_objections(facts(projects=[project(1)], objections=[objection(7, 2), objection(8, 5),
                                                                         objection(9, 1, "accepted")]), POLICY)
    assert [evidence(f, "objection") for f in found] == [["7"]]
    check_shape(found[0])
    assert "2 小时 0 分钟" in found[0].message


def approval(aid: int, person: int, on: dt.date, last: dt.date) -> ApprovalFact:
    return ApprovalFact(id=aid, project_id=aid, community_id=C1, person_id=person, person_name="王建国", on=on,
                        last_day=last)


def test_approvals_on_the_last_day_as_a_habit() -> None:
    d = dt.date(2026, 5, 8)
    habit = [approval(i, 7, d, d) for i in (1, 2, 3)] + [approval(4, 7, d - dt.timedelta(days=3), d)]
    (flag,) = r.last_day_approvals(facts(approvals=habit), POLICY)
    check_shape(flag)
    assert sorted(evidence(flag, "approval")) == ["1", "2", "3"] and "4 次审批中有 3 次" in flag.message
    twice = [approval(i, 7, d, d) for i in (1, 2)]
    assert r.last_day_approvals(facts(approvals=twice), POLICY) == []
    rarely = habit + [approval(i, 7, d - dt.timedelta(days=2), d) for i in (5, 6, 7)]
    assert r.last_day_approvals(facts(approvals=rarely), POLICY) == []


def test_a_year_paid_mostly_in_december() -> None:
    dec = [payment(i, i, 1_000_000, payee=f"承办方{i}", on=dt.date(2026, 12, 10 + i)) for i in (1, 2, 3)]
    early = [payment(9, 9, 2_000_000, payee="承办方9", on=dt.date(2026, 6, 1))]
    (flag,) = r.december_spending(facts(payments=dec + early), POLICY)
    check_shape(flag)
    assert "60.0%" in flag.message and sorted(evidence(flag, "payment_item")) == ["1", "2", "3"]
    balanced = dec + [payment(9, 9, 3_000_000, payee="承办方9", on=dt.date(2026, 6, 1))]  # 50%
    assert r.december_spending(facts(payments=balanced), POLICY) == []
    two = dec[:2]  # all in December, but only two payments
    assert r.december_spending(facts(payments=two), POLICY) == []


@pytest.mark.parametrize("kind, article", [("joint_meeting", "第十条、第十九条"),
                                           ("board_meeting", "第十一条、第十九条"),
                                           ("followup", "第十二条、第十九条")])
def test_a_stated_date_much_earlier_than_its_entry(kind: str, article: str) -> None:
    entered = dt.date(2026, 4, 20)
    late = StatedDateFact(kind, 5, 1, C1, entered - dt.timedelta(days=8), entered)
    near = StatedDateFact(kind, 6, 1, C1, entered - dt.timedelta(days=7), entered)
    (flag,) = r.backdated_records(facts(projects=[project(1)], stated_dates=[late, near]), POLICY)
    check_shape(flag)
    assert flag.article == article and "相隔 8 天" in flag.message
    assert evidence(flag, "followup" if kind == "followup" else "meeting") == ["5"]


# ------------------------------------------------------------------------------------------ two seats


def post(pid: int, person: int, role: str, org: int, name: str = "郑国华",
         start: dt.date = dt.date(2021, 1, 1), end: dt.date | None = None) -> PostFact:
    return PostFact(id=pid, person_id=person, person_name=name, organisation_id=org, role=role, valid_from=start,
                    valid_to=end)


def test_the_same_person_entering_and_signing_a_payment() -> None:
    pays = [payment(1, 1, 100_000, entered_by=11), payment(2, 1, 100_000, entered_by=50)]
    (flag,) = r.entered_and_signed(facts(projects=[project(1)], payments=pays,
                                         posts=[post(1, 11, "community_secretary", C1, "刘玉梅")]), POLICY)
    check_shape(flag)
    assert evidence(flag, "payment_item") == ["1"] and "刘玉梅" in flag.message


def test_a_supervisor_paid_while_in_post() -> None:
    posts = [post(1, 31, "supervisor", C1, "郑国华", end=dt.date(2026, 6, 30))]
    paid = payment(1, 1, 100_000, payee="郑 国华", kind="voucher", on=dt.date(2026, 6, 1))
    (flag,) = r.supervisor_paid(facts(projects=[project(1)], payments=[paid], posts=posts), POLICY)
    check_shape(flag)
    assert evidence(flag, "post") == ["1"]
    after = dataclasses.replace(paid, paid_on=dt.date(2026, 7, 1))
    assert r.supervisor_paid(facts(projects=[project(1)], payments=[after], posts=posts), POLICY) == []
    elsewhere = dataclasses.replace(paid, community_id=C2)
    assert r.supervisor_paid(facts(projects=[project(1)], payments=[elsewhere], posts=posts), POLICY) == []


def test_posts_that_must_be_separate_held_at_the_time_of_an_act() -> None:
    posts = [post(1, 31, "supervisor", C1), post(2, 31, "community_staff", C1, start=dt.date(2026, 5, 1)),
             post(3, 32, "supervisor", C1, "吴秀兰"), post(4, 32, "community_staff", C2, "吴秀兰")]
    acts = [ActFact(900, 31, 2, dt.date(2026, 5, 3), C1), ActFact(901, 31, 1, dt.date(2026, 4, 3), C1)]
    (flag,) = r.separate_posts(facts(posts=posts, acts=acts), POLICY)
    check_shape(flag)
    assert evidence(flag, "audit_event") == ["900"] and sorted(evidence(flag, "post")) == ["1", "2"]
    before = [ActFact(901, 31, 1, dt.date(2026, 4, 3), C1)]
    assert r.separate_posts(facts(posts=posts, acts=before), POLICY) == []


# ------------------------------------------------------------------------------------------ acceptance


def acceptance(satisfaction: int = 95, visits: tuple[tuple[int, dt.date], ...] = ((3, dt.date(2026, 5, 10)),)
               ) -> AcceptanceFact:
    return AcceptanceFact(id=4, project_id=1, community_id=C1, satisfaction=satisfaction, on=dt.date(2026, 6, 1),
                          approved_on=dt.date(2026, 5, 1), visits=visits)


def test_acceptance_under_the_satisfaction_line() -> None:
    (flag,) = r.thin_acceptance(facts(projects=[project(1)], acceptances=[acceptance(79)]), POLICY)
    check_shape(flag)
    assert flag.code == "flag.low_satisfaction" and "79%" in flag.message
    assert r.thin_acceptance(facts(projects=[project(1)], acceptances=[acceptance(80)]), POLICY) == []


def test_acceptance_without_a_follow_up_during_the_works() -> None:
    before = acceptance(visits=((3, dt.date(2026, 4, 20)),))
    (flag,) = r.thin_acceptance(facts(projects=[project(1)], acceptances=[before]), POLICY)
    check_shape(flag)
    assert flag.code == "flag.acceptance_without_followup" and evidence(flag, "followup") == ["3"]
    day_before = acceptance(visits=((3, dt.date(2026, 4, 30)),))  # a stated day, one off: still a visit
    assert r.thin_acceptance(facts(projects=[project(1)], acceptances=[day_before]), POLICY) == []


# ------------------------------------------------------------------------------------------ all together


def test_find_flags_runs_every_rule_in_a_stable_order() -> None:
    f = facts(projects=[project(1, amount="30000.00"), project(2, amount="25000.00", days=2)],
              payments=[voucher(1, 1), voucher(2, 2, community=C2)], acceptances=[acceptance(50)])
    found = r.find_flags(f, POLICY)
    assert codes(found) == ["flag.repeated_voucher_payee", "flag.low_satisfaction", "flag.split_project"]
    assert [x.key for x in r.find_flags(f, POLICY)] == [x.key for x in found]
    assert len({x.key for x in found}) == len(found)


def test_thresholds_come_from_policy_and_are_validated() -> None:
    data = Policy(flag_payee_share_community=Fraction(1, 2), flag_satisfaction_line=60).to_dict()
    assert data["flag_payee_share_community"] == "1/2"
    assert Policy.from_dict(data).flag_satisfaction_line == 60
    for bad in ({"flag_payee_share_community": "3/2"}, {"flag_price_ratio": "1"}, {"flag_split_window_days": 0},
                {"flag_satisfaction_line": 101}, {"flag_voucher_payee_projects": 1}):
        with pytest.raises(ValueError):
            Policy.from_dict(bad)


REFUSALS = [
    Case("flag-dismiss-not-committee", lambda: r.check_dismisser("finance_officer"), "flag.dismiss_not_allowed",
         "第十九条"),
    Case("flag-not-found", lambda: r.check_dismissal("已核实", False, False), "flag.not_found", "第十九条"),
    Case("flag-already-dismissed", lambda: r.check_dismissal("已核实", True, True), "flag.already_dismissed",
         "第十九条"),
    Case("flag-reason-required", lambda: r.check_dismissal("  ", True, False), "flag.reason_required", "第十九条"),
]


@pytest.mark.parametrize("case", REFUSALS, ids=lambda c: c.id)
def test_dismissal_refusals(case: Case) -> None:
    assert_refused(case.call(), case.code, case.article)


def test_dismissal_allowed() -> None:
    assert_ok(r.check_dismisser("working_member"))
    assert_ok(r.check_dismissal("经核实为两个独立的需求,分别经联席会议讨论", True, False))
