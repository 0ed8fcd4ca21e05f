"""Odd input and hostile callers get a clear 4xx on both databases, never a 500 (issue 12, points 2–6, 10):
control characters, integers out of range, dates as numbers, bodies streamed over the limit, unique keys
taken first, the login limits, the demo accounts' salts, the headers on every answer."""
from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from argon2 import PasswordHasher
from fastapi.testclient import TestClient
from sqlalchemy import select

from api import auth
from store.db import Database
from store.models import Counter, Need, Person
from tests.api.conftest import Api, World, proposal
from workflow.demo import DEMO_PASSWORD, Driver

CONTROL = ["\x00", "\x01", "\x1b", "\x7f", "\x85", "\ud800"]


def _problem(r: Any, status: int, code: str | None = None) -> dict[str, Any]:
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == "application/problem+json"
    body = dict(r.json())
    if code is not None:
        assert body["code"] == code, body
    return body


def _refused_text(r: Any, loc: str) -> None:
    body = _problem(r, 422, "payload.invalid")
    assert body["errors"][0]["loc"] == loc, body
    assert "控制字符" in body["errors"][0]["msg"] or "Unicode" in body["errors"][0]["msg"], body


def _json(body: Any) -> bytes:
    # json.dumps keeps a lone surrogate as the escape "\ud800", as a hostile client would send it
    return json.dumps(body).encode()


def _post_raw(api: Api, who: str | None, url: str, body: Any) -> Any:
    return api.client.post(url, content=_json(body), headers=api.headers(who, **{"Content-Type": "application/json"}))


# ------------------------------------------------------------------------------ control characters


def test_control_characters_are_refused_everywhere_without_login(api: Api, world: World, drv: Driver) -> None:
    from workflow import clock

    for char in CONTROL[:-1]:  # (a form cannot carry a lone surrogate: UTF-8 has none)
        r = api.client.post("/api/v1/auth/token", data={"username": f"s01{char}shuji", "password": "x"})
        _refused_text(r, "body.username")
        r = api.client.post("/api/v1/auth/session", data={"username": "s01_shuji", "password": f"pw{char}"})
        _refused_text(r, "body.password")
    drv.new_project("publicity")
    with clock.frozen(drv.tick()):
        notice = api.get(None, "/api/v1/public/notices?kind=publicity").json()["items"][0]["id"]
        url = f"/api/v1/public/notices/{notice}/objections"
        for char in CONTROL:
            _refused_text(_post_raw(api, None, url, {"text": f"意见{char}"}), "body.text")
            _refused_text(_post_raw(api, None, url, {"text": "意见", "author_name": f"王{char}"}), "body.author_name")
        r = api.get(None, f"/api/v1/public/notices/{notice}")
        assert r.json()["objections"] == []  # nothing was stored


def test_control_characters_in_bodies_payloads_reasons_and_queries(api: Api, world: World, drv: Driver) -> None:
    for char in CONTROL:
        _refused_text(_post_raw(api, "secretary", "/api/v1/needs", {"community_id": world.c0, "title": f"灯{char}"}),
                      "body.title")
        _refused_text(_post_raw(api, "secretary", "/api/v1/projects", proposal(world.c0, description=f"x{char}y")),
                      "body.description")
    with world.db.uow(write=False) as uow:
        assert uow.session.execute(select(Need)).first() is None
    pid = drv.new_project("in_progress")
    url = f"/api/v1/projects/{pid}/events/raise_concern"
    _refused_text(_post_raw(api, "supervisor", url, {"text": "报价\x00偏高"}), "body.text")
    _refused_text(_post_raw(api, "supervisor", url, {"text": "报价偏高", "reason": "\x1b[31m"}), "body.reason")
    r = api.post("supervisor", url, {"text": "报价偏高"})
    assert r.status_code == 200 and r.json()["concerns"][0]["text"] == "报价偏高"
    _refused_text(_post_raw(api, "member", f"/api/v1/projects/{pid}/events/record_board_meeting",
                            {"held_on": "2026-03-20", "attendees": ["王\t建国"], "minutes": "同意"}),
                  "body.attendees.0")
    r = api.client.post("/api/v1/calendar/import?source=%00", content=b"year 2027\n2027-01-01 holiday x\n",
                        headers=api.headers("admin", **{"Content-Type": "text/plain"}))
    _refused_text(r, "query.source")
    for char in ("\x7f", "\x85", "\x1b"):  # not only C0: DEL and C1 too
        r = api.client.post("/api/v1/calendar/import", content=f"year 2027\n2027-01-01 holiday 元{char}旦\n".encode(),
                            headers=api.headers("admin", **{"Content-Type": "text/plain"}))
        assert "控制字符" in _problem(r, 415, "calendar.not_text")["detail"]
    r = api.post("admin", "/api/v1/admin/policies", {"city_id": world.city.city_id, "effective_from": "2027-01-01",
                                                     "note": "x", "data": {"forbidden_keywords": ["办公\x00"]}})
    assert _problem(r, 422, "policy.invalid")["detail"].startswith("政策参数不正确")
    r = api.post("admin", "/api/v1/admin/users", {"username": "new_user", "display_name": "新\x00人",
                                                  "password": "a-long-passphrase"})
    _refused_text(r, "body.display_name")


def test_multiline_text_keeps_line_breaks_and_tabs_single_line_does_not(api: Api, world: World) -> None:
    r = api.post("secretary", "/api/v1/needs", {"community_id": world.c0, "title": "  楼道灯不亮  ",
                                                "description": "第一行\r\n第二行\r第三行\t完"})
    assert r.status_code == 201, r.text
    assert (r.json()["title"], r.json()["description"]) == ("楼道灯不亮", "第一行\n第二行\n第三行\t完")
    for title in ("楼道\n灯", "楼道\t灯", "楼道\r灯"):
        _refused_text(api.post("secretary", "/api/v1/needs", {"community_id": world.c0, "title": title}),
                      "body.title")
    r = api.post("secretary", "/api/v1/needs", {"community_id": world.c0, "title": "   "})
    assert _problem(r, 422)["errors"][0]["msg"] == "文本过短,至少 1 个字符"
    r = api.post("secretary", "/api/v1/needs", {"community_id": world.c0, "title": "长" * 201})
    assert _problem(r, 422)["errors"][0]["msg"] == "文本过长,最多 200 个字符"


# ------------------------------------------------------------------------ integers, dates, amounts


def test_integers_are_bounded_and_dates_are_iso_strings(api: Api, world: World, drv: Driver) -> None:
    big = 2**63
    for over in ({"need_ids": [big]}, {"community_id": big}, {"year": big}, {"beneficiaries_count": big},
                 {"line_items": [{"description": "灯", "quantity": big, "unit_price": "1.00"}]},
                 {"planned_start": 0}, {"planned_end": 20260301}, {"planned_start": "2026-03-01T00:00:00"},
                 {"planned_start": "1999-12-31"}, {"planned_start": "2026-02-30"}, {"community_id": 1.5},
                 {"community_id": True}, {"community_id": str(world.c0)}):
        key = next(iter(over))
        r = api.post("secretary", "/api/v1/projects", {**proposal(world.c0), **over})
        assert _problem(r, 422, "payload.invalid")["errors"][0]["loc"].startswith(f"body.{key}"), over
    assert api.get("secretary", f"/api/v1/projects/{big}").status_code == 422
    assert api.get("secretary", f"/api/v1/needs?community={big}").status_code == 422
    # an integral number is the integer it equals (JSON Schema's integer), as the schema says
    r = api.post("secretary", "/api/v1/needs", {"community_id": float(world.c0), "title": "灯", "residents_count": 3.0})
    assert r.status_code == 201 and r.json()["residents_count"] == 3
    pid = drv.new_project("settlement")
    for body in ({"payment_item_id": big}, {"payment_item_id": 0}):
        r = api.post("finance", f"/api/v1/projects/{pid}/events/sign_invoice", body)
        assert _problem(r, 422)["errors"][0]["loc"] == "body.payment_item_id"
    r = api.get("secretary", "/api/v1/calendar/workday-after?date=0&n=3")
    assert _problem(r, 422)["errors"][0]["loc"] == "query.date"
    r = api.get("secretary", "/api/v1/calendar/workday-after?date=2100-12-31&n=400")
    assert r.status_code == 200 and r.json()["provisional"]


def test_the_schema_says_what_validation_does(api: Api, world: World, drv: Driver) -> None:
    spec = api.client.get("/openapi.json").json()
    comps = spec["components"]["schemas"]
    change = comps["ChangeValues"]["properties"]["amount"]["anyOf"][0]
    assert change["pattern"] == comps["ProjectIn"]["properties"]["amount"]["pattern"]
    assert comps["ProjectIn"]["properties"]["title"]["pattern"].startswith("^[^\\x00-\\x1f")
    assert comps["ProjectIn"]["properties"]["planned_start"]["anyOf"][0]["format"] == "date"
    assert comps["NeedIn"]["properties"]["community_id"]["maximum"] == 2**53
    pid = drv.new_project("in_progress")
    for amount in ("1.234", "12,000", "1e4", " 5.00"):
        r = api.post("secretary", f"/api/v1/projects/{pid}/events/request_change",
                     {"changes": {"amount": amount}, "reason": "追加"})
        assert _problem(r, 422)["errors"][0]["loc"] == "body.changes.amount", amount


def test_405_allows_every_method_of_the_path(api: Api, world: World) -> None:
    r = api.client.delete("/api/v1/projects")
    assert _problem(r, 405, "method_not_allowed") and r.headers["allow"] == "GET, POST"
    assert api.client.put("/api/v1/projects/1").headers["allow"] == "GET"
    assert api.client.get("/api/v1/auth/token").headers["allow"] == "POST"


# ----------------------------------------------------------------------------------- body size


def test_a_streamed_body_over_the_limit_is_413_like_a_declared_one(api: Api, world: World) -> None:
    big = json.dumps({"community_id": world.c0, "title": "灯", "description": "长" * 200_000}).encode()

    def chunks(data: bytes) -> Iterator[bytes]:
        for i in range(0, len(data), 16_384):
            yield data[i:i + 16_384]

    h = api.headers("secretary", **{"Content-Type": "application/json"})
    r = api.client.post("/api/v1/needs", content=chunks(big), headers=h)
    assert r.request.headers.get("transfer-encoding") == "chunked" and "content-length" not in r.request.headers
    _problem(r, 413, "request.too_large")
    small = json.dumps({"community_id": world.c0, "title": "楼道灯"}).encode()
    r = api.client.post("/api/v1/needs", content=chunks(small), headers=h)
    assert r.status_code == 201 and r.json()["title"] == "楼道灯"


def test_a_broken_multipart_upload_is_422(api: Api, world: World) -> None:
    body = b"--b0undary\r\nNone--b0undary--\r\n"  # framing a parser refuses (found by schemathesis)
    for who in (None, "admin"):
        r = api.client.post("/api/v1/admin/orgs/import", content=body, headers=api.headers(
            who, **{"Content-Type": "multipart/form-data; boundary=b0undary"}))
        assert _problem(r, 422, "payload.invalid")["errors"][0]["msg"] == "不是有效的 multipart/form-data 表单"


# --------------------------------------------------------------------- unique keys, stored data


@pytest.fixture
def failing_routes(app: Any) -> Any:
    """Routes that hit the database's own refusals for real, to see how the app answers them."""
    from api.app import get_database

    def duplicate() -> None:
        with get_database(app).uow() as uow:
            uow.session.add_all([Counter(name="twice", value=1)])
            uow.session.flush()
            uow.session.add(Counter(name="twice", value=2))
            uow.session.flush()

    def broken() -> None:
        raise RuntimeError("a bug")

    app.add_api_route("/api/v1/test/duplicate", duplicate, methods=["POST"])
    app.add_api_route("/api/v1/test/broken", broken, methods=["GET"])
    return app


def test_a_unique_key_collision_anywhere_is_409(failing_routes: Any, world: World) -> None:
    with TestClient(failing_routes) as client:
        body = _problem(client.post("/api/v1/test/duplicate"), 409, "conflict.duplicate")
    assert "重复" in body["detail"]


def test_an_unexpected_error_is_a_problem_with_the_headers(failing_routes: Any, world: World) -> None:
    with TestClient(failing_routes, raise_server_exceptions=False) as client:
        r = client.get("/api/v1/test/broken")
    body = _problem(r, 500, "server.error")
    assert body["detail"] == "服务器内部错误,请稍后重试"
    assert r.headers["x-content-type-options"] == "nosniff" and r.headers["x-frame-options"] == "DENY"


def test_opening_a_year_or_a_username_twice_is_409(api: Api, world: World) -> None:
    body = {"community_id": world.c0, "year": 2027}
    assert api.post("admin", "/api/v1/fund-years", body).status_code == 201
    assert _problem(api.post("admin", "/api/v1/fund-years", body), 409, "fund_year.exists")["article"] == "第五条"
    user = {"username": "twice_user", "display_name": "重名", "password": "a-long-passphrase"}
    assert api.post("admin", "/api/v1/admin/users", user).status_code == 201
    _problem(api.post("admin", "/api/v1/admin/users", user), 409, "user.exists")


# ----------------------------------------------------------------------------------------- login


def test_login_failures_are_limited_per_address_across_accounts(api: Api, world: World, app: Any) -> None:
    limit = app.state.settings.login_max_failures_per_address
    with world.db.uow(write=False) as uow:
        accounts = list(uow.session.execute(select(Person.username).order_by(Person.id)).scalars())
    names = (accounts + [f"nobody{i}" for i in range(limit + 4)])[:limit + 4]  # the accounts, and made-up names
    codes = [api.client.post("/api/v1/auth/token", data={"username": n, "password": "wrong-password"}).status_code
             for n in names]
    assert codes == [401] * limit + [429] * 4
    r = api.client.post("/api/v1/auth/token", data={"username": "s02_shuji", "password": DEMO_PASSWORD})
    body = _problem(r, 429)
    assert "此地址" in body["detail"] and int(r.headers["retry-after"]) > 0


def test_a_success_does_not_count_against_the_address(api: Api, world: World, app: Any) -> None:
    limit = app.state.settings.login_max_failures_per_address
    for _ in range(limit + 3):
        assert api.client.post("/api/v1/auth/token", data={"username": "s01_shuji",
                                                           "password": DEMO_PASSWORD}).status_code == 200


def test_demo_accounts_each_have_their_own_salt(db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    from api.settings import Settings
    from workflow.demo import create_city

    create_city(db, communities=2)
    with db.uow(write=False) as uow:
        hashes = dict(uow.session.execute(select(Person.username, Person.password_hash)).all())
    assert len(hashes) > 10 and len(set(hashes.values())) == len(hashes)
    checker = PasswordHasher()
    assert all(checker.verify(h, DEMO_PASSWORD) for h in hashes.values())
    # cheap costs for a fast demo load; the first login re-hashes with the production costs
    assert checker.check_needs_rehash(hashes["s01_shuji"])
    monkeypatch.setattr(auth, "_hasher", checker)
    auth.login(db, Settings(), "s01_shuji", DEMO_PASSWORD, "bearer", "127.0.0.1")
    with db.uow(write=False) as uow:
        after = uow.session.execute(select(Person.password_hash).where(Person.username == "s01_shuji")).scalar_one()
    assert after != hashes["s01_shuji"] and not checker.check_needs_rehash(after)


# -------------------------------------------------------------------------------------- headers

SECURITY = {"x-content-type-options": "nosniff", "x-frame-options": "DENY", "referrer-policy": "same-origin"}


def _secure(r: Any) -> None:
    for name, value in SECURITY.items():
        assert r.headers.get(name) == value, (r.request.url, name, r.headers)
    assert "frame-ancestors 'none'" in r.headers["content-security-policy"]


def test_every_answer_carries_the_security_headers(api: Api, world: World) -> None:
    answers = [api.get(None, "/api/v1/public/communities"), api.get(None, "/api/v1/nothing"), api.get(None, "/healthz"),
               api.get(None, "/openapi.json"), api.get(None, "/docs"), api.client.delete("/api/v1/projects"),
               api.get("secretary", "/api/v1/me"), api.post("secretary", "/api/v1/needs", {"title": 1}),
               api.client.post("/api/v1/needs", content=b"x" * 300_000, headers={"Content-Type": "application/json"})]
    for r in answers:
        _secure(r)
    assert answers[0].headers["content-security-policy"] == "default-src 'none'; frame-ancestors 'none'"
    assert answers[4].headers["content-security-policy"] == "frame-ancestors 'none'"  # a page keeps its scripts
    # answers to a caller with credentials, and logins, are never stored by a cache; public ones may be
    assert answers[6].headers["cache-control"] == "no-store" and answers[7].headers["cache-control"] == "no-store"
    assert "cache-control" not in answers[0].headers
    r = api.client.post("/api/v1/auth/token", data={"username": "s01_shuji", "password": DEMO_PASSWORD})
    assert r.headers["cache-control"] == "no-store"
    assert "strict-transport-security" not in r.headers


def test_behind_https_hsts_and_secure_cookies(app: Any, world: World) -> None:
    app.state.settings.https = True
    app.state.settings.secure_cookies = True
    with TestClient(app, base_url="https://testserver") as client:
        r = client.get("/api/v1/public/communities")
        assert r.headers["strict-transport-security"] == "max-age=31536000; includeSubDomains"
        r = client.post("/api/v1/auth/session", data={"username": "s01_shuji", "password": DEMO_PASSWORD})
        cookies = r.headers.get_list("set-cookie")
        assert len(cookies) == 2 and all("secure" in c.lower() for c in cookies)
        assert r.headers["cache-control"] == "no-store"


# ------------------------------------------------------------------------------ lost connections


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_reads_and_events_survive_killed_connections(api: Api, world: World, drv: Driver) -> None:
    import psycopg
    from sqlalchemy.engine import make_url

    pid = drv.new_project("in_progress")
    for _ in range(3):  # a few pooled connections, all about to die
        assert api.get("secretary", f"/api/v1/projects/{pid}").status_code == 200
    url = make_url(world.db.url).set(drivername="postgresql")
    with psycopg.connect(url.render_as_string(hide_password=False), autocommit=True) as conn:
        killed = conn.execute("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                              "WHERE datname = current_database() AND pid <> pg_backend_pid()").fetchone()
    assert killed is not None and killed[0] >= 1
    # the first request on the dead pool is tried again on a new connection: the caller sees nothing of it
    assert api.get("secretary", f"/api/v1/projects/{pid}").status_code == 200
    r = api.post("supervisor", f"/api/v1/projects/{pid}/events/raise_concern", {"text": "断线后仍可操作"})
    assert r.status_code == 200, r.text
