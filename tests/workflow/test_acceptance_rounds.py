"""A failed acceptance voids that round's supervision sign-off (issue 11 point 9, 第十四条、第十二条): the next
acceptance needs a fresh sign-off, which may come from any supervisor who did not perform the step."""
from __future__ import annotations

from sqlalchemy import select

from store.models import SignOff
from workflow.demo import Driver


def failed_once(driver: Driver) -> int:
    pid = driver.new_project("acceptance")
    driver.fire(pid, "signoff", driver.a("supervisor1"), {"stage": "acceptance"})
    out = driver.fire(pid, "fail_acceptance", driver.a("working_member1"),
                      {"quality": "部分路灯未安装", "satisfaction": 60,
                       "team": [driver.a("working_member1").person_id, driver.a("supervisor2").person_id]},
                      reason="未按申请内容完工")
    assert out.to_state == "in_progress" and len(out.data["voided_signoffs"]) == 1
    driver.fire(pid, "record_followup", driver.a("working_member1"),
                {"visited_on": driver.now.date().isoformat(), "notes": "整改完成"})
    driver.fire(pid, "report_completion", driver.a("secretary"), {"summary": "整改完工"})
    return pid


def test_the_next_acceptance_needs_a_fresh_signoff(db, city, driver):
    pid = failed_once(driver)
    out = driver.fire(pid, "accept", driver.a("working_member1"), driver.acceptance(0), check=False)
    assert not out.ok and (out.verdict.code, out.verdict.article) == ("supervision.signoff_voided", "第十四条")
    assert "重新签字" in out.verdict.message
    assert driver.state(pid) == "acceptance"
    # the same supervisor signs the new round (the void makes room for it), then acceptance passes
    assert driver.fire(pid, "signoff", driver.a("supervisor1"), {"stage": "acceptance"}).ok
    assert driver.fire(pid, "accept", driver.a("working_member1"), driver.acceptance(0)).to_state == "settlement"
    with db.uow(write=False) as uow:
        rows = uow.session.execute(select(SignOff.stage, SignOff.voided_at).where(SignOff.project_id == pid,
                                                                                  SignOff.stage == "acceptance")
                                   .order_by(SignOff.id)).all()
    assert [v is not None for _s, v in rows] == [True, False]


def test_the_new_round_is_signed_once(db, city, driver):
    """The void makes room for one fresh acceptance sign-off, not for two."""
    pid = failed_once(driver)
    out = driver.fire(pid, "signoff", driver.a("supervisor2"), {"stage": "acceptance"}, check=False)
    assert out.ok  # supervisor2 sat on the team as the supervisor: the team's supervisor may sign
    assert driver.fire(pid, "signoff", driver.a("supervisor1"), {"stage": "acceptance"}, check=False).verdict.code \
        == "supervision.already_signed"


def test_other_stages_are_untouched_by_a_failed_acceptance(db, city, driver):
    pid = failed_once(driver)
    with db.uow(write=False) as uow:
        live = uow.session.execute(select(SignOff.stage).where(SignOff.project_id == pid,
                                                               SignOff.voided_at.is_(None))).scalars().all()
    assert live == ["declaration"]
