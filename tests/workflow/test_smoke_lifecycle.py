"""The main path and the side exits of the project lifecycle, on both databases."""
from __future__ import annotations

import pytest

from workflow.audit import verify


@pytest.mark.parametrize("target", ["closed", "rejected", "withdrawn", "shelved", "change_review"])
def test_project_reaches_state_by_real_events(db, driver, target):
    pid = driver.new_project(target)
    assert driver.state(pid) == target
    with db.uow(write=False) as uow:
        result = verify(uow.session)
    assert result.ok, result.broken
