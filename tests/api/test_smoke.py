from __future__ import annotations

from store.db import Database
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


def test_the_served_app_puts_its_heap_out_of_the_collectors_way_at_start(db: Database) -> None:
    """A served worker freezes what it built at start (``gc.freeze``): full collections then skip the app's
    ~200,000 long-lived objects, whose traversal made one request in twenty 140 ms slower. An app a test builds
    over its own database does not (its objects must be freed when the test ends)."""
    import gc

    from fastapi.testclient import TestClient

    from api.app import create_app

    gc.unfreeze()
    with TestClient(create_app(database=db, scheduler_mode="never")) as c:
        assert c.get("/healthz").status_code == 200
        assert gc.get_freeze_count() == 0
    try:
        with TestClient(create_app(scheduler_mode="never")):
            assert gc.get_freeze_count() > 10_000
    finally:
        gc.unfreeze()
