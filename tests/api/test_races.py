"""Races against a real server: ``fundflow serve --workers 4`` on PostgreSQL, 24 requests released at once
(issue 12, points 1, 5, 10, 11). Every answer of the module is counted: none may be a 5xx.

* 24 proposals in one fund year: 24 × 201, codes 001–024, each once;
* the same fund year opened 24 times at once: one 201 and one row, 23 × 409;
* the same username created 24 times at once: one 201, 23 × 409;
* 24 parallel wrong guesses at one password: at most 5 reach the password check (401), the rest 429;
* a 500 (a table gone missing under the server) keeps the client's keep-alive connection; no server banner.
* an idle keep-alive connection survives 6 s (uvicorn alone closes it after 5).
  (`serve` also gives a worker 30 s, not 5, to answer the supervisor's health ping: under load the
  5 s ping killed workers with requests in flight.)
"""
from __future__ import annotations

import http.client
import os
import socket
import subprocess
import sys
import threading
import time
from collections import Counter as Tally
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select, text

from store.bootstrap import prepare
from store.db import Database
from store.models import FundYear, Person, Project
from tests.api.conftest import USERS, World, build_world, proposal
from tests.conftest import drop_pg_database, new_database_url
from workflow.demo import DEMO_PASSWORD

ROOT = Path(__file__).resolve().parents[2]
RACERS = 24
WORKERS = 4

# one worker of a parallel run (pytest-xdist) takes the whole module: its server (4 uvicorn workers) starts once
pytestmark = [pytest.mark.slow, pytest.mark.parametrize("backend", ["postgresql"], indirect=True),
              pytest.mark.xdist_group("races")]


class Server:
    """The running server, its database, and every status it answered in this module."""

    def __init__(self, url: str, db: Database, world: World) -> None:
        self.url = url
        self.db = db
        self.world = world
        self.statuses: Tally[int] = Tally()
        self.tokens: dict[str, str] = {}

    def token(self, who: str) -> str:
        if who not in self.tokens:
            r = httpx.post(f"{self.url}/api/v1/auth/token", data={"username": USERS[who], "password": DEMO_PASSWORD},
                           timeout=60)
            assert r.status_code == 200, r.text
            self.tokens[who] = r.json()["access_token"]
        return str(self.tokens[who])

    def race(self, who: str | None, send: Callable[[httpx.Client, int], httpx.Response]) -> list[httpx.Response]:
        """``send(client, i)`` for i in 0..RACERS-1, each on a connection of its own, all released together."""
        headers = {"Authorization": f"Bearer {self.token(who)}"} if who else {}
        clients = [httpx.Client(base_url=self.url, headers=headers, timeout=120) for _ in range(RACERS)]
        for c in clients:  # connected before the start signal
            assert c.get("/api/v1/ping").status_code == 200
        barrier = threading.Barrier(RACERS)
        answers: list[Any] = [None] * RACERS

        def run(i: int) -> None:
            try:
                barrier.wait(timeout=60)
                answers[i] = send(clients[i], i)
            except BaseException as exc:  # noqa: BLE001 - reported below
                answers[i] = exc

        threads = [threading.Thread(target=run, args=(i,)) for i in range(RACERS)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=180)
        for c in clients:
            c.close()
        errors = [a for a in answers if isinstance(a, BaseException)]
        assert not errors, errors[0]
        self.statuses.update(a.status_code for a in answers)
        assert not [a.text for a in answers if a.status_code >= 500], "a racing request got a 5xx"
        return answers


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    url = new_database_url("postgresql", tmp_path_factory.mktemp("races"))
    db = Database(url)
    prepare(db)
    world = build_world(db)
    port = _free_port()
    env = {**os.environ, "DATABASE_URL": url, "FUNDFLOW_SCHEDULER": "never", "PYTHONUNBUFFERED": "1"}
    log = tmp_path_factory.mktemp("races-log") / "server.log"
    with open(log, "w") as out:
        proc = subprocess.Popen([sys.executable, "-c", "from cli import main; main()", "serve", "--port", str(port),
                                 "--workers", str(WORKERS)], cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            assert proc.poll() is None, log.read_text()
            try:
                if httpx.get(f"{base}/healthz", timeout=5).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "the server did not start: " + log.read_text()
            time.sleep(0.3)
        running = Server(base, db, world)
        yield running
        assert not [s for s in running.statuses if s >= 500], running.statuses
        assert "died" not in log.read_text(), "the supervisor killed a worker with requests in flight"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        db.dispose()
        drop_pg_database(url)


def _codes(answers: list[httpx.Response]) -> Tally[int]:
    return Tally(a.status_code for a in answers)


def test_concurrent_proposals_in_one_year_get_distinct_codes(server: Server, backend: str) -> None:
    c0 = server.world.c0
    with httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {server.token('secretary')}"},
                      timeout=60) as client:
        needs = [client.post("/api/v1/needs", json={"community_id": c0, "title": f"需求{i}"}).json()["id"]
                 for i in range(RACERS)]
    answers = server.race("secretary", lambda c, i: c.post("/api/v1/projects", json=proposal(
        c0, title=f"并发项目{i}", need_ids=[needs[i]])))
    assert _codes(answers) == {201: RACERS}, [a.text for a in answers if a.status_code != 201][:3]
    codes = sorted(a.json()["code"] for a in answers)
    assert codes == [f"S01-2026-{n:03d}" for n in range(1, RACERS + 1)]
    with server.db.uow(write=False) as uow:
        assert uow.session.execute(select(func.count()).select_from(Project)).scalar_one() == RACERS


def test_opening_the_same_year_at_once_gives_one_year_and_409s(server: Server, backend: str) -> None:
    body = {"community_id": server.world.c1, "year": 2027}
    answers = server.race("admin", lambda c, i: c.post("/api/v1/fund-years", json=body))
    assert _codes(answers) == {201: 1, 409: RACERS - 1}
    assert {a.json()["code"] for a in answers if a.status_code == 409} == {"fund_year.exists"}
    with server.db.uow(write=False) as uow:
        assert uow.session.execute(select(func.count()).select_from(FundYear).where(
            FundYear.community_id == server.world.c1, FundYear.year == 2027)).scalar_one() == 1


def test_creating_the_same_username_at_once_gives_one_user_and_409s(server: Server, backend: str) -> None:
    body = {"username": "race_user", "display_name": "并发用户", "password": "a-long-passphrase"}
    answers = server.race("admin", lambda c, i: c.post("/api/v1/admin/users", json=body))
    assert _codes(answers) == {201: 1, 409: RACERS - 1}
    assert {a.json()["code"] for a in answers if a.status_code == 409} == {"user.exists"}
    with server.db.uow(write=False) as uow:
        assert uow.session.execute(select(func.count()).select_from(Person).where(
            Person.username == "race_user")).scalar_one() == 1


def test_parallel_password_guesses_reach_the_check_at_most_five_times(server: Server, backend: str) -> None:
    answers = server.race(None, lambda c, i: c.post("/api/v1/auth/token", data={"username": "s02_gongzuo",
                                                                                 "password": f"guess-{i}"}))
    assert _codes(answers) == {401: 5, 429: RACERS - 5}
    # the right password does not help now
    r = httpx.post(f"{server.url}/api/v1/auth/token", data={"username": "s02_gongzuo", "password": DEMO_PASSWORD})
    server.statuses[r.status_code] += 1
    assert r.status_code == 429 and int(r.headers["retry-after"]) > 0


def test_a_500_keeps_the_connection_and_no_banner(server: Server, backend: str) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", int(server.url.rsplit(":", 1)[1]), timeout=60)
    headers = {"Authorization": f"Bearer {server.token('secretary')}"}
    try:
        with server.db.engine.begin() as c:  # a fault no handler knows: the table is gone under the server
            c.execute(text("ALTER TABLE needs RENAME TO needs_gone"))
        try:
            conn.request("GET", "/api/v1/needs", headers=headers)
            r = conn.getresponse()
            body = r.read()
        finally:
            with server.db.engine.begin() as c:
                c.execute(text("ALTER TABLE needs_gone RENAME TO needs"))
        assert r.status == 500 and b"server.error" in body
        assert r.getheader("x-content-type-options") == "nosniff" and r.getheader("server") is None
        sock = conn.sock
        assert sock is not None and not r.will_close
        conn.request("GET", "/api/v1/needs", headers=headers)  # the same connection, still open
        r = conn.getresponse()
        r.read()
        assert r.status == 200 and conn.sock is sock
        assert r.getheader("server") is None and r.getheader("cache-control") == "no-store"
    finally:
        conn.close()
    server.statuses[200] += 1  # (the 500 above was provoked on purpose)


def test_an_idle_connection_outlives_uvicorns_five_seconds(server: Server, backend: str) -> None:
    """A connection idle for 6 s is still open (``serve --keep-alive``, default 65 s): uvicorn's own 5 s
    closed it under the racing clients above, which connected first and sent a moment later."""
    conn = http.client.HTTPConnection("127.0.0.1", int(server.url.rsplit(":", 1)[1]), timeout=60)
    try:
        conn.request("GET", "/api/v1/ping")
        first = conn.getresponse()
        first.read()
        sock = conn.sock
        assert first.status == 200 and sock is not None and not first.will_close
        time.sleep(6)
        conn.request("GET", "/api/v1/ping")  # raises (connection closed by the server) with a 5 s keep-alive
        again = conn.getresponse()
        again.read()
        assert again.status == 200 and conn.sock is sock
    finally:
        conn.close()
    server.statuses[200] += 2
