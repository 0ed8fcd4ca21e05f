"""The sweep fires a due notice period once, escalates an overdue approval, and repeats nothing."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select

from store.models import AuditEvent, Deadline, Notification
from workflow.sweep import sweep


def test_publicity_fires_once_and_not_before(db, driver):
    pid = driver.new_project("publicity")
    with db.uow(write=False) as uow:
        dl = uow.session.execute(select(Deadline).where(Deadline.entity_id == pid, Deadline.kind == "publicity")).scalar_one()
    before = dl.due_at - dt.timedelta(minutes=1)
    assert sweep(db, before).fired == 0
    assert driver.state(pid) == "publicity"
    assert sweep(db, dl.due_at).fired == 1
    assert driver.state(pid) == "ready_to_submit"
    assert sweep(db, dl.due_at + dt.timedelta(days=3)).fired == 0
    with db.uow(write=False) as uow:
        n = uow.session.execute(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.entity_id == pid, AuditEvent.event == "publicity_elapsed")).scalar_one()
    assert n == 1


def test_overdue_approval_is_escalated_never_approved(db, driver):
    pid = driver.new_project("pending_approval")
    later = driver.now + dt.timedelta(days=30)
    result = sweep(db, later)
    assert result.escalated == 1
    assert driver.state(pid) == "pending_approval"
    with db.uow(write=False) as uow:
        recipients = uow.session.execute(select(func.count()).select_from(Notification)).scalar_one()
    # working committee secretary, construction committee director, two supervisors
    assert recipients == 4
    assert sweep(db, later + dt.timedelta(days=1)).escalated == 0
