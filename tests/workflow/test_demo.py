"""The demo city reads like real communities, and ``scale`` N makes N times of it, every state reached by events."""
from __future__ import annotations

import re
from collections import Counter
from typing import Any

from sqlalchemy import func, select

from rules.project import CATEGORIES
from store.models import AuditEvent, LineItem, Need, Organisation, Person, Project, ProjectNeed
from workflow import audit, demo_data
from workflow.demo import DEMO_PROJECTS, build_demo

EVERY_STATE = {"draft", "preliminary_review", "joint_meeting", "shelved", "publicity", "ready_to_submit",
               "pending_approval", "in_progress", "change_review", "acceptance", "settlement", "completion_publicity",
               "closed", "rejected", "withdrawn", "terminated"}


def test_plans_agree_with_themselves() -> None:
    assert {p.category for p in demo_data.PLANS.values()} == set(CATEGORIES)
    for p in demo_data.PLANS.values():
        assert p.amount_fen == sum(i.quantity * int(i.unit_price.replace(".", "")) for i in p.items) > 0
        assert p.needs and p.description and p.contractor
        if p.is_aid:
            assert p.contractor_kind == "individual" and p.beneficiaries < 50
    assert {key for _c, _t, key in DEMO_PROJECTS} <= set(demo_data.PLANS)


def test_scaled_demo_city(db: Any) -> None:
    city = build_demo(db, scale=2)
    assert len(city.communities) == 10 and len(city.areas) == 2
    with db.uow(write=False) as uow:
        s = uow.session
        states = Counter(s.execute(select(Project.state)).scalars())
        assert set(states) == EVERY_STATE
        assert sum(states.values()) == 2 * (len(DEMO_PROJECTS) + 1)  # and one closed project the year before, per area
        assert all(n % 2 == 0 for n in states.values())
        # every project's amount is its line items' sum, and it answers residents' needs of its community
        totals = dict(s.execute(select(LineItem.project_id, func.sum(LineItem.amount_fen)).group_by(LineItem.project_id)).all())
        for pid, amount, cid in s.execute(select(Project.id, Project.amount_fen, Project.community_id)):
            assert totals[pid] == amount
            linked = s.execute(select(Need.community_id).join(ProjectNeed, ProjectNeed.need_id == Need.id)
                               .where(ProjectNeed.project_id == pid)).scalars().all()
            assert linked and set(linked) == {cid}
        # ordinary names, not "幸福书记"; usernames unique; the second area has its own committee
        names = list(s.execute(select(Person.display_name)).scalars())
        assert not [n for n in names if re.search(r"书记|监督员|社工", n)]
        assert "刘玉梅" in names and "王建国" in names
        users = list(s.execute(select(Person.username)).scalars())
        assert len(users) == len(set(users)) and {"gw_shuji", "a02_gw_shuji", "s06_shuji"} <= set(users)
        areas = list(s.execute(select(Organisation.name).where(Organisation.level == "area")).scalars())
        assert areas == ["城东大社区", "城西大社区"]
        # residents' own needs, some answered, all with a receipt code
        assert s.execute(select(func.count()).select_from(Need).where(Need.recorded_by.is_(None))).scalar_one() >= 8
        assert s.execute(select(func.count()).select_from(Need).where(Need.receipt_code.is_(None))).scalar_one() == 0
        assert s.execute(select(func.count()).select_from(Need).where(Need.answer != "")).scalar_one() >= 4
        # reached by events: every project's chain starts with its proposal, and every chain verifies
        first = set(s.execute(select(AuditEvent.event).where(AuditEvent.entity_type == "project",
                                                             AuditEvent.seq == 1)).scalars())
        assert first == {"create"}
        assert audit.verify(s).ok
