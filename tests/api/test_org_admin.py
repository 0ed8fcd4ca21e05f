"""HTTP: /api/v1/admin/orgs… (list, create, rename, move, close, roster import) and one-time activation
codes. Admin only: everyone else gets 403 with a Chinese message and the article; bad input 4xx with its
article, nothing changed."""
from __future__ import annotations

from sqlalchemy import func, select

from store.models import AuditEvent, Organisation, Person
from workflow.demo import roster_csv, roster_xlsx

from .conftest import INSIDERS, OUTSIDERS

URL = "/api/v1/admin/orgs"
ROSTER = [["kind", "code", "name", "parent", "username", "phone", "email", "role", "valid_from", "valid_to"],
          ["community", "S21", "向阳社区", "A02", "", "", "", "", "", ""],
          ["person", "S21", "冯强", "", "s21_shuji", "13900000011", "", "community_secretary", "2026-01-01", ""],
          ["person", "S21", "陈静", "", "s21_jiandu", "", "", "supervisor", "2026-01-01", ""]]


def _count(world, model) -> int:  # type: ignore[no-untyped-def]
    with world.db.uow(write=False) as uow:
        return int(uow.session.execute(select(func.count()).select_from(model)).scalar_one())


def problem(r, status: int, code: str, article: str = "第二条") -> dict:  # type: ignore[no-untyped-def]
    assert r.status_code == status, r.text
    body = r.json()
    assert r.headers["content-type"].startswith("application/problem+json")
    assert (body["code"], body["article"]) == (code, article), body
    assert any("\u4e00" <= ch <= "\u9fff" for ch in body["detail"])
    return dict(body)


def test_everyone_but_the_administrator_is_refused(api, world):
    events = _count(world, AuditEvent)
    for who in [w for w in INSIDERS + OUTSIDERS if w != "admin"]:
        _refused_everything(api, world, who)
    assert _count(world, AuditEvent) == events


def _refused_everything(api, world, who: str) -> None:  # type: ignore[no-untyped-def]
    problem(api.get(who, URL), 403, "org.admin_only")
    problem(api.post(who, URL, {"level": "community", "code": "S70", "name": "新苑社区",
                                "parent_id": world.city.area_id}), 403, "org.admin_only")
    problem(api.post(who, f"{URL}/{world.c0}/rename", {"name": "别名"}), 403, "org.admin_only")
    problem(api.post(who, f"{URL}/{world.c0}/move", {"area_id": world.other_area_id}), 403, "org.admin_only")
    problem(api.post(who, f"{URL}/{world.c0}/close", {"reason": "撤并"}), 403, "org.admin_only")
    problem(api.post(who, f"{URL}/import", None, files={"file": ("r.csv", roster_csv(ROSTER), "text/csv")}),
            403, "org.admin_only")


def test_unauthenticated_is_401(api, world):
    assert api.get(None, URL).status_code == 401
    assert api.post(None, URL, {"level": "area", "code": "A9", "name": "x", "parent_id": 1}).status_code == 401


def test_administrator_lists_creates_renames_moves_and_closes(api, world):
    tree = api.get("admin", URL).json()["items"]
    assert [n["code"] for n in tree][:2] == ["C01", "A01"] and {"S09", "A02"} <= {n["code"] for n in tree}
    r = api.post("admin", URL, {"level": "community", "code": "S70", "name": "新苑社区", "parent_id": world.city.area_id})
    assert r.status_code == 201, r.text
    made = r.json()
    assert (made["code"], made["parent_code"], made["level_label"], made["closed_on"]) == ("S70", "A01", "社区", None)
    r = api.post("admin", f"{URL}/{made['id']}/rename", {"name": "新苑家园社区"})
    assert r.status_code == 200 and r.json()["name"] == "新苑家园社区"
    r = api.post("admin", f"{URL}/{made['id']}/move", {"area_id": world.other_area_id, "reason": "就近管理"})
    assert r.status_code == 200 and r.json()["parent_code"] == "A02"
    r = api.post("admin", f"{URL}/{made['id']}/close", {"reason": "并入远方社区"})
    assert r.status_code == 200, r.text
    closed = r.json()
    assert closed["closed_on"] and closed["ended_posts"] == 0 and closed["frozen_fund_years"] == []
    with world.db.uow(write=False) as uow:
        events = [e.event for e in uow.session.execute(select(AuditEvent).where(
            AuditEvent.entity_type == "org", AuditEvent.entity_id == made["id"]).order_by(AuditEvent.seq)).scalars()]
    assert events == ["create_org", "rename_org", "move_org", "close_org"]
    problem(api.post("admin", f"{URL}/{made['id']}/rename", {"name": "再改名"}), 409, "org.closed")


def test_bad_input_is_refused_with_its_article_and_changes_nothing(api, world):
    orgs = _count(world, Organisation)
    problem(api.post("admin", URL, {"level": "community", "code": "S 70", "name": "x", "parent_id": world.city.area_id}),
            422, "org.code_invalid")
    problem(api.post("admin", URL, {"level": "community", "code": "S01", "name": "x", "parent_id": world.city.area_id}),
            409, "org.code_taken")
    problem(api.post("admin", URL, {"level": "city", "code": "C9", "name": "x", "parent_id": world.city.city_id}),
            422, "org.level_invalid")
    problem(api.post("admin", URL, {"level": "community", "code": "S71", "name": "x", "parent_id": 999999}),
            404, "org.not_found")
    problem(api.post("admin", f"{URL}/{world.c0}/move", {"area_id": world.city.area_id}), 409, "org.move_same_area")
    problem(api.post("admin", f"{URL}/{world.c0}/close", {"reason": ""}), 422, "org.reason_missing")
    problem(api.post("admin", f"{URL}/{world.city.area_id}/close", {"reason": "撤并"}), 409,
            "org.close_has_communities")
    assert _count(world, Organisation) == orgs


def test_move_through_the_api_hands_rights_to_the_new_area(api, world, drv):
    pid = api.propose("secretary", world.c0)["id"]
    api.event("secretary", pid, "submit_preliminary")
    assert api.post("admin", f"{URL}/{world.c0}/move", {"area_id": world.other_area_id}).status_code == 200
    r = api.post("member", f"/api/v1/projects/{pid}/events/grant_preliminary", {})
    assert r.status_code == 403
    # the other area's working secretary may give preliminary consent now
    api.event("other_area_wsec", pid, "grant_preliminary")


def test_roster_import_over_http(api, world):
    people = _count(world, Person)
    r = api.post("admin", f"{URL}/import?dry_run=true", None,
                 files={"file": ("名单.xlsx", roster_xlsx(ROSTER),
                                 "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")})
    assert r.status_code == 200, r.text
    assert (r.json()["people_created"], r.json()["dry_run"]) == (2, True)
    assert _count(world, Person) == people
    r = api.post("admin", f"{URL}/import", None, files={"file": ("名单.csv", roster_csv(ROSTER), "text/csv")})
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["communities_created"], body["people_created"], body["posts_created"], body["without_password"]) == \
        (1, 2, 2, 2)
    assert _count(world, Person) == people + 2
    again = api.post("admin", f"{URL}/import", None, files={"file": ("名单.csv", roster_csv(ROSTER), "text/csv")})
    assert again.json()["people_created"] == 0 and again.json()["posts_unchanged"] == 2


def test_roster_with_errors_lists_every_row_and_imports_nothing(api, world):
    bad = [list(r) for r in ROSTER]
    bad[2][7] = "boss"
    bad[3][8] = "2026-02-30"
    people = _count(world, Person)
    body = problem(api.post("admin", f"{URL}/import", None, files={"file": ("r.csv", roster_csv(bad), "text/csv")}),
                   422, "roster.invalid")
    assert [e["loc"] for e in body["errors"]] == ["row.3.role", "row.4.valid_from"]
    assert body["errors"][0]["msg"].startswith("第 3 行 H 列(role)")
    assert "2 处错误" in body["detail"]
    assert _count(world, Person) == people
    problem(api.post("admin", f"{URL}/import", None, files={"file": ("r.csv", b"", "text/csv")}), 422, "roster.invalid")


def test_activation_code_lets_an_imported_person_set_a_password_once(api, world, client):
    api.post("admin", f"{URL}/import", None, files={"file": ("名单.csv", roster_csv(ROSTER), "text/csv")})
    with world.db.uow(write=False) as uow:
        pid = uow.session.execute(select(Person.id).where(Person.username == "s21_shuji")).scalar_one()
    # no password yet: cannot log in
    assert client.post("/api/v1/auth/token", data={"username": "s21_shuji", "password": "anything-at-all"}
                       ).status_code == 401
    problem(api.post("secretary", f"/api/v1/admin/users/{pid}/activation"), 403, "org.admin_only")
    first = api.post("admin", f"/api/v1/admin/users/{pid}/activation").json()["code"]
    r = api.post("admin", f"/api/v1/admin/users/{pid}/activation")
    assert r.status_code == 201
    code = r.json()["code"]
    problem(client.post("/api/v1/auth/activate", json={"username": "s21_shuji", "code": first,
                                                       "password": "a-long-passphrase"}), 409, "account.activation_invalid")
    problem(client.post("/api/v1/auth/activate", json={"username": "s21_shuji", "code": code, "password": "short"}),
            422, "account.password_weak")
    problem(client.post("/api/v1/auth/activate", json={"username": "nobody_here", "code": code,
                                                       "password": "a-long-passphrase"}), 404,
            "account.activation_invalid")
    r = client.post("/api/v1/auth/activate", json={"username": "s21_shuji", "code": code.lower().replace("-", " "),
                                                   "password": "a-long-passphrase"})
    assert r.status_code == 200, r.text
    assert client.post("/api/v1/auth/token", data={"username": "s21_shuji", "password": "a-long-passphrase"}
                       ).status_code == 200
    problem(client.post("/api/v1/auth/activate", json={"username": "s21_shuji", "code": code,
                                                       "password": "another-passphrase"}), 409,
            "account.activation_invalid")
    with world.db.uow(write=False) as uow:
        events = [e.event for e in uow.session.execute(select(AuditEvent).where(
            AuditEvent.entity_type == "person", AuditEvent.entity_id == pid).order_by(AuditEvent.seq)).scalars()]
        assert events == ["issue_activation", "issue_activation", "activate"]
        assert all("a-long-passphrase" not in str(e.payload) for e in uow.session.execute(select(AuditEvent)).scalars())
