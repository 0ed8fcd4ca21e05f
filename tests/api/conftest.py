"""HTTP tests: the app in-process (FastAPI TestClient) over the ``db`` fixture (SQLite and PostgreSQL).

``world`` is the demo city (two communities in area A01, the demo password) plus a second area A02
with one community, so that "a user of another community" and "of another area" both exist.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from argon2 import PasswordHasher
from fastapi.testclient import TestClient

from store.db import Database
from store.models import Organisation, Person, Post
from workflow.demo import DEMO_PASSWORD, TERM_START, City, Driver, create_city, open_years

#: principal → demo username (c0 = 幸福社区 S01, c1 = 和平社区 S02, both in A01; S09 is in area A02)
USERS = {
    "secretary": "s01_shuji", "staff": "s01_gongzuo", "supervisor": "s01_jiandu1", "supervisor2": "s01_jiandu2",
    "member": "gw_weiyuan1", "member2": "gw_weiyuan2", "wsec": "gw_shuji", "director": "jg_zhuren",
    "finance": "caiwu", "admin": "admin", "other_community": "s02_shuji", "other_area_community": "o9_shuji",
    "other_area_wsec": "o9_gw_shuji",
}
INSIDERS = ["secretary", "staff", "supervisor", "member", "wsec", "director", "finance", "admin"]
OUTSIDERS = ["other_community", "other_area_community", "other_area_wsec"]
ALL = [*INSIDERS, *OUTSIDERS]


@dataclass
class World:
    db: Database
    city: City
    other_area_id: int
    other_community_id: int
    ids: dict[str, int] = field(default_factory=dict)
    """principal → person id."""

    @property
    def c0(self) -> int:
        return self.city.communities[0].id

    @property
    def c1(self) -> int:
        return self.city.communities[1].id


#: argon2 with small costs, so that the suite's many logins stay fast (production uses the library defaults)
FAST_HASHER = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)


def build_world(db: Database) -> World:
    city = create_city(db, communities=2, password=None)  # hashed below, cheaply
    open_years(db, city, [2026])
    with db.uow() as uow:
        s = uow.session
        hashed = FAST_HASHER.hash(DEMO_PASSWORD)
        s.query(Person).update({Person.password_hash: hashed})
        area = Organisation(code="A02", name="第二大社区", level="area", parent_id=city.city_id)
        s.add(area)
        s.flush()
        comm = Organisation(code="S09", name="远方社区", level="community", parent_id=area.id)
        s.add(comm)
        s.flush()
        for username, name, org, role in (("o9_shuji", "远方书记", comm.id, "community_secretary"),
                                          ("o9_gw_shuji", "远方党工委书记", area.id, "working_secretary")):
            p = Person(username=username, display_name=name, password_hash=hashed, active=True)
            s.add(p)
            s.flush()
            s.add(Post(person_id=p.id, organisation_id=org, role=role, valid_from=TERM_START, valid_to=None))
        uow.commit()
        ids = dict(s.query(Person.username, Person.id).all())
    world = World(db=db, city=city, other_area_id=area.id, other_community_id=comm.id)
    world.ids = {k: ids[v] for k, v in USERS.items()}
    return world


class Api:
    """A TestClient that logs the demo accounts in once each (bearer tokens) and remembers them."""

    def __init__(self, client: TestClient) -> None:
        self.client = client
        self.tokens: dict[str, str] = {}

    def token(self, who: str) -> str:
        if who not in self.tokens:
            r = self.client.post("/api/v1/auth/token", data={"username": USERS.get(who, who),
                                                              "password": DEMO_PASSWORD})
            assert r.status_code == 200, r.text
            self.tokens[who] = r.json()["access_token"]
        return self.tokens[who]

    def headers(self, who: str | None, **extra: str) -> dict[str, str]:
        h = dict(extra)
        if who is not None:
            h["Authorization"] = f"Bearer {self.token(who)}"
        return h

    def get(self, who: str | None, url: str, **kw: Any) -> httpx.Response:
        return self.client.get(url, headers=self.headers(who, **kw.pop("headers", {})), **kw)

    def post(self, who: str | None, url: str, json: Any = None, **kw: Any) -> httpx.Response:
        return self.client.post(url, json=json, headers=self.headers(who, **kw.pop("headers", {})), **kw)

    def need(self, who: str, community: int, title: str = "楼道灯不亮") -> int:
        r = self.post(who, "/api/v1/needs", {"community_id": community, "title": title, "residents_count": 20})
        assert r.status_code == 201, r.text
        return int(r.json()["id"])

    def propose(self, who: str, community: int, **over: Any) -> dict[str, Any]:
        """A need recorded and a project proposed over HTTP; returns the project."""
        need = self.need(who, community)
        r = self.post(who, "/api/v1/projects", proposal(community, need_ids=[need], **over))
        assert r.status_code == 201, r.text
        return dict(r.json())

    def event(self, who: str | None, pid: int, event: str, body: dict[str, Any] | None = None,
              expect: int = 200, **kw: Any) -> dict[str, Any]:
        r = self.post(who, f"/api/v1/projects/{pid}/events/{event}", body, **kw)
        assert r.status_code == expect, f"{event} by {who}: {r.status_code} {r.text}"
        answer = dict(r.json())
        if r.status_code == 200 and who is not None:
            self.assert_fresh(who, pid, answer, event)
        return answer

    def assert_fresh(self, who: str, pid: int, answer: dict[str, Any], event: str) -> None:
        """The project an event answers with (partly from the app's cache) is the project read afresh."""
        from api import auth, queries
        from api.reads import reading
        from api.schemas import ProjectDetail

        with reading(self.client.app.state.database) as session:  # type: ignore[attr-defined]
            viewer = auth.authenticate(session, self.token(who), "bearer")
            fresh = ProjectDetail.model_validate(queries.project_detail(session, viewer, pid)).model_dump(mode="json")
        # deadlines are computed for each answer from the clock, not cached
        assert {k: answer[k] for k in fresh if k != "deadlines"} == {k: v for k, v in fresh.items() if k != "deadlines"}, \
            f"the answer to {event} differs from the project read afresh"

    def year_event(self, who: str | None, community: int, year: int, event: str,
                   body: dict[str, Any] | None = None, expect: int = 200) -> dict[str, Any]:
        r = self.post(who, f"/api/v1/fund-years/{community}/{year}/events/{event}", body)
        assert r.status_code == expect, f"{event} by {who}: {r.status_code} {r.text}"
        return dict(r.json())


@pytest.fixture
def world(db: Database) -> World:
    return build_world(db)


@pytest.fixture
def app(db: Database, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    from api import auth
    from api.app import create_app

    monkeypatch.setattr(auth, "_hasher", FAST_HASHER)

    application = create_app(database=db)
    # the objection limit is tested on its own; the other tests post freely
    application.state.settings.objection_max = 10_000
    return application


@pytest.fixture
def client(app) -> Iterator[TestClient]:  # type: ignore[no-untyped-def]
    with TestClient(app) as c:
        yield c


@pytest.fixture
def api(client: TestClient, world: World) -> Api:
    return Api(client)


@pytest.fixture
def drv(db: Database, world: World) -> Driver:
    return Driver(db, world.city)


def proposal(community_id: int, **over: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "community_id": community_id, "year": 2026, "title": "楼道照明改造", "description": "更换损坏的楼道灯。",
        "category": "property", "amount": "12000.00", "beneficiaries_count": 300, "beneficiaries_desc": "小区居民",
        "contractor_name": "xx市照明工程有限公司", "contractor_kind": "organisation", "is_aid": False,
        "planned_start": "2026-03-01", "planned_end": "2026-11-30",
        "forbidden_use_declaration": {k: False for k in ("office", "worker_pay", "government_service",
                                                         "city_funded", "property_company")},
        "line_items": [{"description": "LED 楼道灯", "quantity": 2, "unit_price": "6000.00",
                        "catalog_item": "C23120000"}],
    }
    body.update(over)
    return body


def on(day: str, hour: int = 10) -> dt.datetime:
    from workflow import clock

    return dt.datetime.fromisoformat(day).replace(hour=hour, tzinfo=clock.SHANGHAI)


class Clock:
    """The business clock, moved by the test (``workflow.clock``); sweeps run the timers as of it."""

    def __init__(self, start: dt.datetime) -> None:
        self.at = start

    def set(self, when: dt.datetime) -> None:
        self.at = when

    def advance(self, days: float = 0, hours: float = 0) -> dt.datetime:
        self.at = self.at + dt.timedelta(days=days, hours=hours)
        return self.at

    def sweep(self, db: Database) -> Any:
        from workflow.sweep import sweep

        return sweep(db, self.at)


@pytest.fixture
def clock_at() -> Iterator[Clock]:
    from workflow import clock

    c = Clock(on("2026-03-02", 9))
    clock.set_clock(lambda: c.at)
    yield c
    clock.reset_clock()
