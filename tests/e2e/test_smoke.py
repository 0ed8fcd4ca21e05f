"""The browser harness itself: a real Chromium logs in and sees the pages, at 1366 px and 360 px."""
from __future__ import annotations

from typing import Any

from tests.e2e.conftest import SQLITE_ONLY, Site, login, shoot
from workflow.demo import Driver


@SQLITE_ONLY
def test_a_secretary_logs_in_and_reads_the_pages(page: Any, site: Site, e2e_world: Any, db: Any) -> None:
    drv = Driver(db, e2e_world.city)
    pid = drv.new_project("publicity")
    login(page, site, "s01_shuji")
    assert page.get_by_role("heading", name="待办事项").is_visible()
    shoot(page, "todo-secretary")
    page.goto(site.url(f"/projects/{pid}"))
    assert page.locator(".diagram svg").count() == 1
    shoot(page, "project-publicity")
    for path, name in (("/needs", "needs"), ("/projects/new", "project-new"), ("/projects", "projects"),
                       (f"/fund-years/{e2e_world.c0}/2026", "fund-year")):
        page.goto(site.url(path))
        shoot(page, name)
