"""Whatever reads the organisation tree follows a move at once, in every process: production runs several
API workers, and a move done through one of them holds for the next action through any other.

The engine reads a firing's organisation chain in the statement that locks its row; other readers read it
per unit of work. These tests change the tree through one ``Database`` (its own engine and connections, as
another worker has) or another OS process, and act through the first one."""
from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

from sqlalchemy import select

from store.db import Database
from store.models import Project
from tests.workflow.test_org import add_area
from workflow import org
from workflow.demo import Driver
from workflow.engine import org_chain
from workflow.services import fire_event

ROOT = Path(__file__).resolve().parents[2]


def test_a_move_through_another_worker_holds_for_the_next_firing_here(db, city):
    drv = Driver(db, city)
    a2 = add_area(db, city)
    cid = city.communities[0].id
    first = drv.new_project("preliminary_review")
    second = drv.new_project("preliminary_review")
    # this worker has used the tree (the old area's member consented to the first project)
    drv.fire(first, "grant_preliminary", drv.a("working_member1"))
    with db.uow(write=False) as uow:
        assert org_chain(uow.session, cid)["area"] == city.area_id
    other = Database(db.url)  # another worker: its own engine and connection pool
    try:
        with other.uow() as uow:
            org.move(uow.session, city.admin, cid, a2.id)
            uow.commit()
    finally:
        other.dispose()
    out = drv.fire(second, "grant_preliminary", drv.a("working_member1"), check=False)
    assert (out.ok, out.status, out.verdict.code) == (False, 403, "auth.no_post")
    drv.fire(second, "grant_preliminary", a2.people["working_member1"])
    with db.uow(write=False) as uow:
        assert org_chain(uow.session, cid)["area"] == a2.id


def test_a_move_by_another_process_holds_for_the_next_firing_here(db, city, tmp_path):
    drv = Driver(db, city)
    a2 = add_area(db, city)
    pid = drv.new_project("preliminary_review")
    with db.uow(write=False) as uow:
        assert org_chain(uow.session, city.communities[0].id)["area"] == city.area_id
    env = {**os.environ, "DATABASE_URL": db.url}
    done = subprocess.run([str(Path(sys.executable).parent / "fundflow"), "org", "move", "S01", "A02",
                           "--actor", "admin"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "S01" in done.stdout
    out = drv.fire(pid, "grant_preliminary", drv.a("working_member1"), check=False)
    assert out.status == 403
    drv.fire(pid, "grant_preliminary", a2.people["working_member1"])


def test_a_firing_that_waited_for_a_move_acts_under_the_new_tree(db, city):
    """A firing that starts while a move is being committed waits for it, then checks the actor's post
    against the tree as the move left it (PostgreSQL: the move rewrites the rows it must wait for, and the
    firing, finding its row newer than its snapshot, reads again under its lock)."""
    drv = Driver(db, city)
    a2 = add_area(db, city)
    pid = drv.new_project("preliminary_review")
    mover = Database(db.url)
    moved, release = threading.Event(), threading.Event()
    errors: list[BaseException] = []

    def move() -> None:
        try:
            with mover.uow() as uow:
                org.move(uow.session, city.admin, city.communities[0].id, a2.id)
                moved.set()
                release.wait(30)
                uow.commit()
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            errors.append(exc)
            moved.set()

    results: list = []

    def grant() -> None:
        results.append(fire_event(db, "project", pid, "grant_preliminary", drv.a("working_member1")))

    mover_thread = threading.Thread(target=move)
    mover_thread.start()
    assert moved.wait(30) and not errors, errors
    firing = threading.Thread(target=grant)
    firing.start()
    time.sleep(0.5)
    assert firing.is_alive(), "the firing did not wait for the move"
    release.set()
    mover_thread.join(30)
    firing.join(30)
    mover.dispose()
    assert not errors, errors
    [out] = results
    assert (out.ok, out.status) == (False, 403), out.verdict
    with db.uow(write=False) as uow:
        assert uow.session.execute(select(Project.state).where(Project.id == pid)).scalar_one() == "preliminary_review"
    drv.fire(pid, "grant_preliminary", a2.people["working_member1"])
