"""Logins, tokens, cookie sessions with CSRF, logout, rate limits."""
from __future__ import annotations

import datetime as dt

import pytest
from fastapi.testclient import TestClient

from api import auth
from tests.api.conftest import Api, World
from workflow.demo import DEMO_PASSWORD


def test_bearer_token_and_logout_revokes(api: Api, world: World) -> None:
    r = api.client.post("/api/v1/auth/token", data={"username": "s01_shuji", "password": DEMO_PASSWORD})
    assert r.status_code == 200
    body = r.json()
    assert body["token_type"] == "bearer" and body["expires_in"] == 480 * 60 and body["expires_at"].endswith("+08:00")
    h = {"Authorization": f"Bearer {body['access_token']}"}
    me = api.client.get("/api/v1/me", headers=h).json()
    assert me["username"] == "s01_shuji" and me["session"] == "bearer"
    assert [(p["role"], p["organisation"]["code"]) for p in me["posts"]] == [("community_secretary", "S01")]
    assert api.client.post("/api/v1/auth/logout", headers=h).status_code == 204
    r = api.client.get("/api/v1/me", headers=h)
    assert r.status_code == 401 and r.json()["code"] == "auth.revoked"
    assert r.headers["www-authenticate"] == "Bearer"


def test_wrong_password_unknown_user_and_garbage_tokens(api: Api, world: World) -> None:
    for user, pw in (("s01_shuji", "wrong-password"), ("nobody", DEMO_PASSWORD)):
        r = api.client.post("/api/v1/auth/token", data={"username": user, "password": pw})
        assert r.status_code == 401 and r.json()["detail"] == "用户名或密码错误"
    for value in ("Bearer nonsense", "Bearer ", "Basic abc"):
        r = api.client.get("/api/v1/me", headers={"Authorization": value})
        assert r.status_code == 401 and r.headers["content-type"] == "application/problem+json"


def test_expired_token(api: Api, world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    token = api.token("secretary")
    later = dt.datetime.now(dt.UTC) + dt.timedelta(hours=9)
    monkeypatch.setattr(auth, "wall_now", lambda: later)
    r = api.get("secretary", "/api/v1/me")
    assert r.status_code == 401 and r.json()["code"] == "auth.expired"
    assert token


def test_login_rate_limit_per_username_and_ip(api: Api, world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    for _ in range(5):
        r = api.client.post("/api/v1/auth/token", data={"username": "s01_shuji", "password": "bad-password"})
        assert r.status_code == 401
    # the right password does not help now; another user from the same address is not affected
    r = api.client.post("/api/v1/auth/token", data={"username": "s01_shuji", "password": DEMO_PASSWORD})
    assert r.status_code == 429 and "分钟后再试" in r.json()["detail"] and int(r.headers["retry-after"]) > 0
    assert api.client.post("/api/v1/auth/token", data={"username": "s02_shuji",
                                                       "password": DEMO_PASSWORD}).status_code == 200
    later = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=6)
    monkeypatch.setattr(auth, "wall_now", lambda: later)
    assert api.client.post("/api/v1/auth/token", data={"username": "s01_shuji",
                                                       "password": DEMO_PASSWORD}).status_code == 200


def test_cookie_session_needs_the_csrf_token(client: TestClient, world: World) -> None:
    r = client.post("/api/v1/auth/session", data={"username": "s01_gongzuo", "password": DEMO_PASSWORD})
    assert r.status_code == 200
    csrf = r.json()["csrf_token"]
    assert client.cookies.get("fundflow_csrf") == csrf and client.cookies.get("fundflow_session")
    assert "httponly" in r.headers.get_list("set-cookie")[0].lower()
    assert client.get("/api/v1/me").json()["session"] == "cookie"  # safe method: no CSRF token needed
    need = {"community_id": world.c0, "title": "楼道灯不亮"}
    r = client.post("/api/v1/needs", json=need)
    assert r.status_code == 403 and r.json()["code"] == "auth.csrf"
    r = client.post("/api/v1/needs", json=need, headers={"X-CSRF-Token": "forged"})
    assert r.status_code == 403
    assert client.post("/api/v1/needs", json=need, headers={"X-CSRF-Token": csrf}).status_code == 201
    assert client.post("/api/v1/auth/logout", headers={"X-CSRF-Token": csrf}).status_code == 204
    assert client.get("/api/v1/me").status_code == 401


def test_objections_are_rate_limited_per_ip(api: Api, world: World, app, drv) -> None:  # type: ignore[no-untyped-def]
    from workflow import clock

    app.state.settings.objection_max = 3
    drv.new_project("publicity")
    with clock.frozen(drv.tick()):
        notice = api.get(None, "/api/v1/public/notices?kind=publicity").json()["items"][0]["id"]
        url = f"/api/v1/public/notices/{notice}/objections"
        codes = [api.post(None, url, {"text": f"意见{i}"}).status_code for i in range(4)]
    assert codes == [201, 201, 201, 429]


def test_an_ended_post_no_longer_acts(api: Api, world: World) -> None:
    """Rights come from the posts of the day: a secretary whose term ended cannot propose."""
    post = api.get("admin", "/api/v1/admin/users").json()
    staff = next(u for u in post["items"] if u["username"] == "s01_gongzuo")
    r = api.post("admin", f"/api/v1/admin/posts/{staff['posts'][0]['id']}/end", {"valid_to": "2025-12-31"})
    assert r.status_code == 200 and r.json()["posts"][0]["valid_to"] == "2025-12-31"
    assert api.get("staff", "/api/v1/me").json()["posts"] == []
    r = api.post("staff", "/api/v1/needs", {"community_id": world.c0, "title": "需求"})
    assert r.status_code == 403
    r = api.post("admin", f"/api/v1/admin/posts/{staff['posts'][0]['id']}/end", {"valid_to": "2026-12-31"})
    assert r.status_code == 409  # an ended term is not extended
