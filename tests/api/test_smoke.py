from __future__ import annotations

from tests.api.conftest import Api, World


def test_login_me_and_propose(api: Api, world: World) -> None:
    r = api.get("secretary", "/api/v1/me")
    assert r.status_code == 200, r.text
    assert r.json()["posts"][0]["role"] == "community_secretary"
    pid = api.propose("secretary", world.c0)["id"]
    r = api.get("secretary", f"/api/v1/projects/{pid}")
    assert r.status_code == 200, r.text
    assert r.headers["etag"] == '"1"'
    assert [e["event"] for e in r.json()["allowed_events"]][:2] == ["submit_preliminary", "withdraw"]
    d = api.event("secretary", pid, "submit_preliminary")
    assert d["state"] == "preliminary_review"
