"""Browser tests: Python playwright driving Debian's Chromium (headless, never a downloaded browser) against
the app served by uvicorn in a thread of this process, over the ``db`` test database (SQLite and
PostgreSQL, like every database test).

Reuse:
- ``site`` — the running app for this test's database: ``site.url("/projects/3")``; its business clock
  is ``workflow.clock`` (same process), so ``clock_at`` moves it for the server too.
- ``page`` — a fresh browser context and page at 1366 × 900 (one Chromium per session).
- ``login(page, site, "s01_shuji")`` — logs in through the login form.
- ``shoot(page, "name")`` — screenshots at 1366 px and 360 px into ``var/screenshots/`` (git-ignored) and
  fails the test when the page scrolls sideways at 360 px (:func:`assert_no_sideways_scroll`).
- ``e2e_world`` — the demo accounts of ``tests/api/conftest.py`` (two communities, a second area).
"""
from __future__ import annotations

import os
import re
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from store.db import Database
from tests.api.conftest import FAST_HASHER, World, build_world
from workflow.demo import DEMO_PASSWORD

SQLITE_ONLY = pytest.mark.parametrize("backend", ["sqlite"])
"""For browser tests whose database does not matter to what they show (the layout, the script-free path):
run once, on SQLite; the flows that change state run on both databases."""

CHROMIUM = os.environ.get("FUNDFLOW_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-background-networking", "--disable-dev-shm-usage",
                 "--disable-component-update", "--no-first-run", "--lang=zh-CN"]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"
WIDE = {"width": 1366, "height": 900}
PHONE = {"width": 360, "height": 740}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Site:
    """The app served over HTTP for the browser."""

    base: str
    app: Any
    db: Database

    def url(self, path: str) -> str:
        return self.base + path


class _Server:
    def __init__(self, db: Database) -> None:
        import uvicorn

        from api.app import create_app

        self.app = create_app(database=db, scheduler_mode="never")
        self.app.state.settings.objection_max = 10_000
        self.port = _free_port()
        config = uvicorn.Config(self.app, host="127.0.0.1", port=self.port, log_level="warning", lifespan="on",
                                access_log=False)
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, name=f"uvicorn-{self.port}", daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("the test server did not start")
            time.sleep(0.02)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


@pytest.fixture(scope="session")
def _servers() -> Iterator[dict[int, _Server]]:
    from api import auth

    previous = auth._hasher
    auth._hasher = FAST_HASHER  # logins in the browser tests stay fast (the server shares this process)
    servers: dict[int, _Server] = {}
    yield servers
    for server in servers.values():
        server.stop()
    auth._hasher = previous


@pytest.fixture
def site(db: Database, _servers: dict[int, _Server]) -> Site:
    """The app over HTTP for this test's database (one server per database, started on first use)."""
    server = _servers.get(id(db))
    if server is None:
        server = _servers[id(db)] = _Server(db)
    # caches keyed by row ids: the tables were emptied for this test, ids may be given out again
    server.app.state.read_cache = None
    return Site(base=f"http://127.0.0.1:{server.port}", app=server.app, db=db)


@pytest.fixture
def e2e_world(db: Database) -> World:
    return build_world(db)


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium not found at {CHROMIUM}: install the Debian package 'chromium' (make sysdeps)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport=WIDE, locale="zh-CN", timezone_id="Asia/Shanghai")
    context.set_default_timeout(15_000)
    pg = context.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda exc: errors.append(str(exc)))
    yield pg
    context.close()
    assert not errors, f"JavaScript errors on the page: {errors}"


def login(page: Any, site: Site, username: str, password: str = DEMO_PASSWORD) -> None:
    page.goto(site.url("/login"))
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(password)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(re.compile(r".*/(\?.*)?$"))


def logout(page: Any) -> None:
    page.get_by_role("button", name="退出").click()
    page.wait_for_url(re.compile(r".*/login.*"))


def assert_no_sideways_scroll(page: Any, what: str = "") -> None:
    """The document is no wider than the window (wide parts scroll inside their own boxes)."""
    widths = page.evaluate("() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]")
    assert widths[0] <= widths[1], f"{what or page.url} scrolls sideways at {widths[1]} px: content is {widths[0]} px wide"


def shoot(page: Any, name: str) -> list[Path]:
    """Screenshots of the whole page at 1366 px and 360 px; fails if the page scrolls sideways at 360 px."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    safe = re.sub(r"[^A-Za-z0-9_.-]+", "-", name).strip("-")
    paths = []
    for size, suffix in ((WIDE, "1366"), (PHONE, "360")):
        page.set_viewport_size(size)
        path = SCREENSHOTS / f"{safe}-{suffix}.png"
        page.screenshot(path=str(path), full_page=True)
        paths.append(path)
        if size is PHONE:
            assert_no_sideways_scroll(page, name)
    page.set_viewport_size(WIDE)
    return paths


@pytest.fixture
def shots() -> Any:
    return shoot
