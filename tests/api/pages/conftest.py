"""Page tests: the web pages in-process (TestClient) over the ``world`` of ``tests/api/conftest.py``.

``Pages`` logs a demo account in through the login form (as a browser does: cookie session, CSRF token
from the page) and posts forms with the token every page puts in them.
"""
from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from tests.api.conftest import USERS
from workflow.demo import DEMO_PASSWORD

CSRF_INPUT = re.compile(r'name="csrf_token" value="([^"]*)"')


def csrf_of(html: str) -> str:
    found = CSRF_INPUT.search(html)
    assert found, "the page has no form with a CSRF token"
    return found.group(1)


class Pages:
    """One browser-like session per account (cookies kept per account)."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.clients: dict[str, TestClient] = {}

    def client(self, who: str | None) -> TestClient:
        key = who or ""
        if key not in self.clients:
            c = TestClient(self.app, raise_server_exceptions=False, follow_redirects=False)
            c.__enter__()
            self.clients[key] = c
            if who is not None:
                self.login(c, USERS.get(who, who))
        return self.clients[key]

    @staticmethod
    def login(c: TestClient, username: str, password: str = DEMO_PASSWORD) -> httpx.Response:
        form = c.get("/login")
        assert form.status_code == 200, form.text
        r = c.post("/login", data={"username": username, "password": password, "csrf_token": csrf_of(form.text),
                                   "next": "/"})
        assert r.status_code == 303 and r.headers["location"] == "/", r.text
        return r

    def get(self, who: str | None, url: str, **kw: Any) -> httpx.Response:
        return self.client(who).get(url, **kw)

    def csrf(self, who: str) -> str:
        return str(self.client(who).cookies.get("fundflow_csrf"))

    def post(self, who: str, url: str, data: dict[str, Any] | list[tuple[str, str]] | None = None,
             csrf: bool = True, **kw: Any) -> httpx.Response:
        items: list[tuple[str, str]] = list(data.items()) if isinstance(data, dict) else list(data or [])
        flat: list[tuple[str, str]] = []
        for k, v in items:
            if isinstance(v, list):
                flat += [(k, str(x)) for x in v]
            else:
                flat.append((k, str(v)))
        if csrf:
            flat.append(("csrf_token", self.csrf(who)))
        form: dict[str, list[str]] = {}
        for k, v in flat or [("_", "")]:  # a browser posts a form, even an empty one
            form.setdefault(k, []).append(v)
        return self.client(who).post(url, data=form, **kw)

    def post_public(self, url: str, data: dict[str, str]) -> httpx.Response:
        """A resident's form posted from the anonymous browser (its cookies, the token given in ``data``)."""
        return self.client(None).post(url, data=data)

    def close(self) -> None:
        for c in self.clients.values():
            c.__exit__(None, None, None)


@pytest.fixture
def pages(app: Any, world: Any) -> Iterator[Pages]:
    p = Pages(app)
    yield p
    p.close()


def text_of(html: str) -> str:
    """The visible text of a page, roughly (tags dropped, whitespace collapsed)."""
    html = re.sub(r"<(script|style|svg)\b.*?</\1>", " ", html, flags=re.S)
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())
