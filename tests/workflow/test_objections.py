"""Objections (issue 11 point 10, 第十条、第十四条): an answer resolves nothing by itself; a supervisor who did
not answer confirms it, or the resident accepts it with the receipt code. Unresolved at the end of the
notice, the project goes back to the joint meeting."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from store.models import AuditEvent, Objection, Post
from workflow.demo import TERM_START, Driver
from workflow.engine import PUBLIC, SYSTEM, Outcome
from workflow.receipts import ALPHABET, LENGTH

OBJECTION = {"author_name": "王先生", "contact": "13912345678", "text": "建议先维修三号楼的灯,那里最暗。"}


def objected(driver: Driver) -> tuple[int, int]:
    pid = driver.new_project("publicity")
    driver.fire(pid, "signoff", driver.a("supervisor1"), {"stage": "declaration"})
    oid = driver.fire(pid, "object", PUBLIC, OBJECTION).data["objection_id"]
    return pid, int(oid)


def answer(driver: Driver, pid: int, oid: int, who: str = "secretary", text: str = "已安排先行维修三号楼路灯。") -> Outcome:
    return driver.fire(pid, "answer_objection", driver.a(who), {"objection_id": oid, "answer": text}, check=False)


def receipt(db, oid: int) -> str:  # type: ignore[no-untyped-def]
    with db.uow(write=False) as uow:
        return str(uow.session.execute(select(Objection.receipt_code).where(Objection.id == oid)).scalar_one())


def end_notice(driver: Driver, pid: int) -> Outcome:
    driver.after_days(12)
    return driver.fire(pid, "publicity_elapsed", SYSTEM)


def test_an_answer_alone_sends_the_project_back_to_the_joint_meeting(db, city, driver):
    pid, oid = objected(driver)
    out = answer(driver, pid, oid)
    assert out.ok and out.data == {"objection_id": oid, "resolved": False}
    assert end_notice(driver, pid).to_state == "joint_meeting"


def test_a_supervisors_confirmation_resolves_it(db, city, driver):
    pid, oid = objected(driver)
    answer(driver, pid, oid)
    out = driver.fire(pid, "confirm_answer", driver.a("supervisor2"), {"objection_id": oid, "comment": "已核实"})
    assert out.data["resolution"] == "confirmed"
    with db.uow(write=False) as uow:
        o = uow.session.get(Objection, oid)
        assert o is not None
        assert (o.resolved, o.resolution, o.resolved_by, o.resolution_comment) == (
            True, "confirmed", driver.a("supervisor2").person_id, "已核实")
    assert end_notice(driver, pid).to_state == "ready_to_submit"


def test_the_residents_acceptance_resolves_it(db, city, driver):
    pid, oid = objected(driver)
    answer(driver, pid, oid)
    code = receipt(db, oid)
    wrong = driver.fire(pid, "accept_answer", PUBLIC, {"objection_id": oid, "receipt_code": "ABCDEFGHJK"}, check=False)
    assert not wrong.ok and (wrong.verdict.code, wrong.verdict.article) == ("notice.receipt_invalid", "第十条")
    out = driver.fire(pid, "accept_answer", PUBLIC, {"objection_id": oid, "receipt_code": code.lower()})
    assert out.data["resolution"] == "accepted"
    with db.uow(write=False) as uow:
        o = uow.session.get(Objection, oid)
        assert o is not None and o.resolved and o.resolution == "accepted" and o.resolved_by is None
    assert end_notice(driver, pid).to_state == "ready_to_submit"


def test_an_unanswered_objection_is_neither_confirmed_nor_accepted(db, city, driver):
    pid, oid = objected(driver)
    out = driver.fire(pid, "confirm_answer", driver.a("supervisor1"), {"objection_id": oid}, check=False)
    assert not out.ok and (out.verdict.code, out.verdict.article) == ("notice.objection_unanswered", "第十条")
    out = driver.fire(pid, "accept_answer", PUBLIC, {"objection_id": oid, "receipt_code": receipt(db, oid)},
                      check=False)
    assert not out.ok and out.verdict.code == "notice.objection_unanswered"


def test_a_resolved_objection_is_settled_once(db, city, driver):
    pid, oid = objected(driver)
    answer(driver, pid, oid)
    driver.fire(pid, "confirm_answer", driver.a("supervisor1"), {"objection_id": oid})
    for trigger, actor, payload in (
            ("confirm_answer", driver.a("supervisor2"), {"objection_id": oid}),
            ("accept_answer", PUBLIC, {"objection_id": oid, "receipt_code": receipt(db, oid)}),
            ("answer_objection", driver.a("secretary"), {"objection_id": oid, "answer": "再答复一次"})):
        out = driver.fire(pid, trigger, actor, payload, check=False)
        assert not out.ok and out.verdict.code == "notice.objection_resolved", trigger


def test_an_objection_of_another_project_is_not_found(db, city, driver):
    pid, oid = objected(driver)
    other = driver.new_project("publicity", title="另一个项目")
    out = driver.fire(other, "confirm_answer", driver.a("supervisor1"), {"objection_id": oid}, check=False)
    assert not out.ok and out.verdict.code == "notice.objection_not_found"


def test_who_answered_does_not_confirm(db, city, driver):
    """A person who is both a community worker and a supervisor answers: another supervisor confirms."""
    staff = driver.a("staff")
    with db.uow() as uow:
        uow.session.add(Post(person_id=staff.person_id, organisation_id=city.communities[0].id, role="supervisor",
                             valid_from=TERM_START, valid_to=None))
        uow.commit()
    pid, oid = objected(driver)
    assert answer(driver, pid, oid, who="staff").ok
    out = driver.fire(pid, "confirm_answer", staff, {"objection_id": oid}, check=False)
    assert not out.ok and (out.verdict.code, out.verdict.article) == ("sod.confirmer_answered", "第十四条")
    assert driver.fire(pid, "confirm_answer", driver.a("supervisor1"), {"objection_id": oid}).ok


@pytest.mark.parametrize("who", ["secretary", "staff", "working_member1", "working_secretary"])
def test_the_committee_cannot_confirm_its_own_answer(db, city, driver, who):
    pid, oid = objected(driver)
    answer(driver, pid, oid)
    out = driver.fire(pid, "confirm_answer", driver.a(who), {"objection_id": oid}, check=False)
    assert not out.ok and out.status == 403 and out.verdict.code == "auth.no_post"
    # … nor fire the resident's acceptance: as a logged-in user it still needs the resident's code
    out = driver.fire(pid, "accept_answer", driver.a(who), {"objection_id": oid, "receipt_code": "23456789AB"},
                      check=False)
    assert not out.ok and out.verdict.code == "notice.receipt_invalid"


def test_a_better_answer_replaces_an_unsettled_one_and_the_audit_keeps_both(db, city, driver):
    pid, oid = objected(driver)
    answer(driver, pid, oid, text="第一次答复")
    out = answer(driver, pid, oid, text="补充答复:本周内修复")
    assert out.ok and out.data["previous_answer"] == "第一次答复"
    with db.uow(write=False) as uow:
        payloads = [e.payload["payload"]["answer"] for e in uow.session.execute(
            select(AuditEvent).where(AuditEvent.entity_id == pid, AuditEvent.event == "answer_objection")
            .order_by(AuditEvent.seq)).scalars()]
    assert payloads == ["第一次答复", "补充答复:本周内修复"]


def test_objections_left_after_the_notice_are_settled_at_the_joint_meeting(db, city, driver):
    pid, oid = objected(driver)
    assert end_notice(driver, pid).to_state == "joint_meeting"
    answer(driver, pid, oid)
    driver.fire(pid, "confirm_answer", driver.a("supervisor1"), {"objection_id": oid})
    driver.fire(pid, "record_meeting", driver.a("secretary"), driver.meeting())
    assert end_notice(driver, pid).to_state == "ready_to_submit"


def test_every_objection_has_its_own_receipt_code(db, city, driver):
    pid = driver.new_project("publicity")
    ids = [driver.fire(pid, "object", PUBLIC, {"text": f"意见{i}"}).data["objection_id"] for i in range(30)]
    codes = [receipt(db, i) for i in ids]
    assert len(set(codes)) == 30
    assert all(len(c) == LENGTH and set(c) <= set(ALPHABET) for c in codes)
    assert not set("01OIL") & set("".join(codes))
    with db.uow(write=False) as uow:
        created = [e.payload for e in uow.session.execute(select(AuditEvent).where(
            AuditEvent.entity_id == pid, AuditEvent.event == "object")).scalars()]
    assert not any(c in str(created) for c in codes)  # the committee reads the trail: the codes are not in it


def test_an_objection_on_the_completion_notice_is_confirmed_too(db, city, driver):
    pid = driver.new_project("completion_publicity")
    oid = driver.fire(pid, "object", PUBLIC, OBJECTION).data["objection_id"]
    answer(driver, pid, oid)
    assert driver.fire(pid, "confirm_answer", driver.a("supervisor1"), {"objection_id": oid}).ok
