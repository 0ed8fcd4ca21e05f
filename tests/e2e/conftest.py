"""Browser tests: Python playwright driving Debian's Chromium (headless, never a downloaded browser) against
the app served by uvicorn in a thread of this process, over the ``db`` test database (SQLite and
PostgreSQL, like every database test).

Reuse:
- ``site`` — the running app for this test's database: ``site.url("/projects/3")``; its business clock
  is ``workflow.clock`` (same process), so ``clock_at`` moves it for the server too.
- ``page`` — a fresh browser context and page at 1366 × 900 (one Chromium per session).
- ``login(page, site, "s01_shuji")`` — logs in through the login form.
- ``shoot(page, "name")`` — screenshots (JPEG) at 1366 px and 360 px into ``var/screenshots/`` (git-ignored) and
  fails the test when the page scrolls sideways at 360 px (:func:`assert_no_sideways_scroll`).
- ``e2e_world`` — the demo accounts of ``tests/api/conftest.py`` (two communities, a second area).
- ``crew`` — one browser context per demo account, logged in once through the login form and kept for the
  whole test (switching people is switching tabs, no logging out and in again); ``crew.public`` is a resident.
- ``e2e_clock`` — the business clock fixed at a Monday morning, moved by the test; ``e2e_clock.sweep(db)``
  runs the scheduler's sweep as of it (how notice periods run out: never a state written by the test).
- ``check_page(page)`` — every form control has a ``<label>``, no stack trace; ``shoot`` calls it.
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


PROJECT_CODE = re.compile(r"\b[A-Z]+\d*-\d{4}-\d{3}\b")


def assert_no_leaks(page: Any, db: Database, *extra: str) -> None:
    """The (public) page shows no unmasked phone, ID number or bank number, nor the full name of anybody with
    an account or of the residents named in ``extra`` (their phones may be given too)."""
    from sqlalchemy import select

    from rules.privacy import find_leaks
    from store.models import Person

    with db.uow(write=False) as uow:
        names = set(uow.session.execute(select(Person.display_name)).scalars())
    names |= set(extra)
    names.discard("市委组织部管理员")
    # project codes (S01-2026-001) are public; followed by a title starting with a digit they read like a landline
    html = PROJECT_CODE.sub(" ", page.content())
    leaks = find_leaks(html, [n for n in names if len(n) >= 2])
    assert not leaks, f"{page.url} shows personal data: {leaks}"


UNLABELLED = """() => Array.from(document.querySelectorAll('input, select, textarea'))
  .filter(e => !['hidden', 'submit', 'button', 'reset', 'image'].includes(e.type))
  .filter(e => !(e.labels && e.labels.length))
  .map(e => e.outerHTML.slice(0, 160))"""
STACK_TRACE = re.compile(r"Traceback \(most recent call last\)|File \"[^\"]+\.py\", line \d+|sqlalchemy\.exc\.|"
                         r"Internal Server Error")


def check_page(page: Any, what: str = "") -> None:
    """Every form control on the page has an associated ``<label>``; the page shows no stack trace."""
    unlabelled = page.evaluate(UNLABELLED)
    assert not unlabelled, f"{what or page.url}: form controls without a <label>: {unlabelled}"
    found = STACK_TRACE.search(page.content())
    assert found is None, f"{what or page.url} shows a stack trace: {found.group(0) if found else ''}"


def shoot(page: Any, name: str) -> list[Path]:
    """Screenshots of the whole page at 1366 px and 360 px; fails if the page scrolls sideways at 360 px, has
    a form control without a label or shows a stack trace (:func:`check_page`)."""
    check_page(page, name)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    safe = re.sub(r"[^A-Za-z0-9_.-]+", "-", name).strip("-")
    paths = []
    for size, suffix in ((WIDE, "1366"), (PHONE, "360")):
        page.set_viewport_size(size)
        path = SCREENSHOTS / f"{safe}-{suffix}.jpg"
        # JPEG: encoded in well under half the time of PNG for a long page, and plenty to look at
        page.screenshot(path=str(path), full_page=True, type="jpeg", quality=70, animations="disabled", caret="hide")
        paths.append(path)
        if size is PHONE:
            assert_no_sideways_scroll(page, name)
    page.set_viewport_size(WIDE)
    return paths


@pytest.fixture
def shots() -> Any:
    return shoot


class Crew:
    """The people of a test, each in their own browser context, logged in once through the login form."""

    def __init__(self, browser: Any, site: Site) -> None:
        self.browser, self.site = browser, site
        self.pages: dict[str, Any] = {}
        self.errors: list[str] = []

    def __call__(self, username: str) -> Any:
        """The page of ``username`` (logged in on first use); ``""`` is a resident without an account."""
        pg = self.pages.get(username)
        if pg is None:
            context = self.browser.new_context(viewport=WIDE, locale="zh-CN", timezone_id="Asia/Shanghai")
            context.set_default_timeout(15_000)
            pg = context.new_page()
            pg.on("pageerror", lambda exc: self.errors.append(f"{username or 'public'}: {exc}"))
            if username:
                login(pg, self.site, username)
            self.pages[username] = pg
        return pg

    def home(self, username: str) -> Any:
        """The page of ``username`` on their to-do page (待办)."""
        pg = self(username)
        if pg.url != self.site.url("/"):
            pg.goto(self.site.url("/"))
        return pg

    @property
    def public(self) -> Any:
        return self("")

    def close(self) -> None:
        for pg in self.pages.values():
            pg.context.close()


@pytest.fixture
def crew(browser: Any, site: Site) -> Iterator[Crew]:
    c = Crew(browser, site)
    yield c
    c.close()
    assert not c.errors, f"JavaScript errors on the pages: {c.errors}"


@pytest.fixture
def e2e_clock(db: Database) -> Iterator[Any]:
    """The business clock (server and test share the process), at Monday 2026-03-02 09:00 in Shanghai."""
    from tests.api.conftest import Clock, on
    from workflow import clock

    c = Clock(on("2026-03-02", 9))
    clock.set_clock(lambda: c.at)
    yield c
    clock.reset_clock()


def act(page: Any, trigger: str) -> Any:
    """Open an event's form on a record page; returns the form's box."""
    box = page.locator(f"#act-{trigger}")
    if box.get_attribute("open") is None:
        box.locator("summary").click()
    return box


def submit(box: Any) -> None:
    """Press the form's own submit button (not 再加几行)."""
    box.locator("button[type=submit]:not([name])").click()


DECLARE_NONE = ("office", "worker_pay", "government_service", "city_funded", "property_company")


def fill_proposal(form: Any, *, amount: str, contractor: str, start: str, end: str,
                  items: list[tuple[str, str, str]], beneficiaries: str = "120", category: str = "property",
                  individual: bool = False) -> None:
    """Fill the proposal form (``/projects/new``): the facts, "none" for every forbidden use (Art. 4) and
    the line items (description, quantity, unit price), each in the catalogue item C23120000."""
    form.locator('[name="category"]').select_option(category)
    form.locator('[name="amount"]').fill(amount)
    form.locator('[name="beneficiaries_count"]').fill(beneficiaries)
    form.locator('[name="contractor_name"]').fill(contractor)
    if individual:
        form.locator('[name="contractor_kind"][value="individual"]').check()
    form.locator('[name="planned_start"]').fill(start)
    form.locator('[name="planned_end"]').fill(end)
    for key in DECLARE_NONE:
        form.locator(f'[name="forbidden_use_declaration.{key}"][value="no"]').check()
    for i, (what, qty, price) in enumerate(items):
        form.locator(f'[name="line_items.{i}.description"]').fill(what)
        form.locator(f'[name="line_items.{i}.quantity"]').fill(qty)
        form.locator(f'[name="line_items.{i}.unit_price"]').fill(price)
        form.locator(f'[name="line_items.{i}.catalog_item"]').select_option("C23120000")  # from the catalogue
