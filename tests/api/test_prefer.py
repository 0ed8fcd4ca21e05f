"""``Prefer: return=minimal`` / ``return=representation`` (RFC 7240) on the event routes."""
from __future__ import annotations

import httpx

from tests.api.conftest import Api, World


def _submit(api: Api, pid: int, prefer: str | None) -> httpx.Response:
    headers = {"Prefer": prefer} if prefer is not None else {}
    return api.post("secretary", f"/api/v1/projects/{pid}/events/submit_preliminary", {}, headers=headers)


def test_minimal_answers_with_the_outcome_the_new_state_and_version(api: Api, world: World) -> None:
    project = api.propose("secretary", world.c0)
    pid, version = project["id"], project["version"]
    r = _submit(api, pid, "return=minimal")
    assert r.status_code == 200
    assert r.headers["preference-applied"] == "return=minimal"
    assert r.headers["etag"] == f'"{version + 1}"'
    body = r.json()
    assert body == {"id": pid, "state": "preliminary_review", "state_label": body["state_label"],
                    "version": version + 1, "links": {"self": f"/api/v1/projects/{pid}"},
                    "outcome": body["outcome"]}
    assert body["state_label"] and body["outcome"]["from_state"] == "draft"
    assert body["outcome"]["to_state"] == "preliminary_review" and body["outcome"]["version"] == version + 1
    # the event took effect exactly as with the full answer
    full = api.get("secretary", f"/api/v1/projects/{pid}").json()
    assert full["state"] == "preliminary_review" and full["version"] == version + 1


def test_representation_and_no_preference_answer_with_the_project(api: Api, world: World) -> None:
    first, second = api.propose("secretary", world.c0), api.propose("secretary", world.c0)
    asked = _submit(api, first["id"], 'return="representation"; foo=bar')
    plain = _submit(api, second["id"], None)
    assert asked.status_code == plain.status_code == 200
    assert asked.headers["preference-applied"] == "return=representation"
    assert "preference-applied" not in plain.headers
    assert set(asked.json()) == set(plain.json()) and "code" in plain.json() and "outcome" in plain.json()
    assert asked.json()["state"] == plain.json()["state"] == "preliminary_review"


def test_an_unknown_preference_is_ignored(api: Api, world: World) -> None:
    project = api.propose("secretary", world.c0)
    r = _submit(api, project["id"], "return=everything, respond-async")
    assert r.status_code == 200 and "preference-applied" not in r.headers and "code" in r.json()


def test_a_refused_event_with_minimal_is_the_same_refusal(api: Api, world: World) -> None:
    project = api.propose("secretary", world.c0)
    r = api.post("secretary", f"/api/v1/projects/{project['id']}/events/approve", {},
                 headers={"Prefer": "return=minimal"})
    assert r.status_code in (403, 409)
    assert r.headers["content-type"].startswith("application/problem+json")
    assert "preference-applied" not in r.headers
    assert api.get("secretary", f"/api/v1/projects/{project['id']}").json()["version"] == project["version"]
