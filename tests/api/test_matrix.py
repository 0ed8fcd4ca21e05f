"""Who may do what over HTTP: every endpoint × every role, anonymous, another community, another area.

Each row names the principals for whom the call succeeds; everyone else signed in gets 403 and the
anonymous caller 401 (public rows: everyone succeeds). The principal that changes state goes last.
"""
from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from api.routes.events import EXAMPLES
from tests.api.conftest import ALL, INSIDERS, OUTSIDERS, USERS, Api, Clock, World, proposal
from workflow.demo import Driver

ANON = None
PRINCIPALS: list[str | None] = [ANON, *OUTSIDERS, *INSIDERS]
COMMUNITY_ROLES = {"secretary", "staff"}
_seq = itertools.count(1)

SCHEDULE_2027 = "year 2027\n2027-01-01 holiday 元旦\n2027-02-06..2027-02-13 holiday 春节\n2027-02-14 makeup 春节调休\n"


@dataclass
class Row:
    method: str
    url: str
    ok: set[str] | str
    """principals that succeed, or 'all' (every signed-in caller) or 'public' (also the anonymous)."""
    status: int = 200
    body: Callable[[], Any] | None = None
    text: str | None = None
    last: str | None = None
    """the principal to run last (its call changes the state the others are refused in)."""

    def expected(self, who: str | None) -> int:
        if self.ok == "public":
            return self.status
        if who is None:
            return 401
        if self.ok == "all" or (isinstance(self.ok, set) and who in self.ok):
            return self.status
        return 403


def rows(w: World, draft: int, draft2: int, running: int, notice: int, need_body: Callable[[], Any],
         project_body: Callable[[], Any], post_id: int) -> list[Row]:
    c0 = w.c0
    readers = set(INSIDERS)
    return [
        Row("GET", "/api/v1/me", "all"),
        Row("GET", "/api/v1/workflow", "all"),
        Row("GET", "/api/v1/calendar/workday-after?date=2025-09-30&n=3", "all"),
        Row("GET", f"/api/v1/needs?community={c0}", readers),
        Row("GET", f"/api/v1/projects?community={c0}", readers),
        Row("GET", f"/api/v1/projects?community={c0}&state=draft&year=2026", readers),
        Row("GET", f"/api/v1/projects/{draft}", readers),
        Row("GET", f"/api/v1/projects/{draft}/history", readers),
        Row("GET", f"/api/v1/fund-years/{c0}/2026", readers),
        Row("GET", f"/api/v1/fund-years/{c0}/2026/history", readers),
        Row("GET", f"/api/v1/procurement-catalog?community={c0}", readers),
        Row("GET", f"/api/v1/procurement-catalog?community={c0}&year=2026", readers),
        Row("POST", "/api/v1/needs", COMMUNITY_ROLES, 201, body=need_body),
        Row("POST", "/api/v1/projects", COMMUNITY_ROLES, 201, body=project_body),
        Row("POST", f"/api/v1/projects/{draft}/events/raise_concern", {"supervisor"},
            body=lambda: {"text": "请说明报价依据"}),
        Row("POST", f"/api/v1/projects/{running}/events/record_followup", {"member"},
            body=lambda: {"visited_on": "2026-11-20", "notes": "现场查看,进度正常。"}),
        Row("POST", f"/api/v1/projects/{draft2}/events/submit_preliminary", {"secretary"}, last="secretary"),
        Row("GET", "/healthz", "public"),
        Row("GET", "/api/v1/ping", "public"),
        Row("GET", "/api/v1/public/communities", "public"),
        Row("GET", "/api/v1/public/audit/roots", "public"),
        Row("GET", f"/api/v1/public/disclosures/{c0}/2026", "public", 404),  # not disclosed yet: for nobody
        Row("GET", f"/api/v1/public/notices?community={c0}", "public"),
        Row("GET", f"/api/v1/public/notices/{notice}", "public"),
        Row("POST", f"/api/v1/public/notices/{notice}/objections", "public", 201,
            body=lambda: {"text": "希望尽快实施"}),
        Row("GET", "/api/v1/admin/users", {"admin"}),
        Row("POST", "/api/v1/admin/users", {"admin"}, 201,
            body=lambda: {"username": f"new_user{next(_seq)}", "display_name": "新用户", "password": "a-long-password"}),
        Row("POST", f"/api/v1/admin/users/{w.ids['staff']}/posts", {"admin"}, 201,
            body=lambda: {"organisation_id": w.c1, "role": "community_staff", "valid_from": "2026-01-01"}),
        Row("POST", f"/api/v1/admin/posts/{post_id}/end", {"admin"}, body=lambda: {"valid_to": "2026-06-30"},
            last="admin"),
        Row("GET", "/api/v1/admin/policies", {"admin"}),
        Row("POST", "/api/v1/admin/policies", {"admin"}, 201,
            body=lambda: {"city_id": w.city.city_id, "effective_from": "2027-01-01", "note": "沿用",
                          "data": {}}),
        Row("POST", "/api/v1/calendar/import", {"admin"}, text=SCHEDULE_2027),
        Row("GET", "/api/v1/audit/verify", {"admin"}),
        Row("POST", "/api/v1/fund-years", {"admin"}, 201, body=lambda: {"community_id": c0, "year": 2030},
            last="admin"),
        Row("POST", f"/api/v1/fund-years/{c0}/2026/events/submit_report", {"secretary"},
            body=lambda: {"summary": "本年度实施项目若干,经费使用规范。"}, last="secretary"),
        *document_rows(w, draft, notice),
    ]


def document_rows(w: World, draft: int, notice: int) -> list[Row]:
    """Documents (issue 10): public notices for everyone, the rest as the data they are drawn from."""
    from workflow import papers

    with w.db.uow(write=False) as uow:
        code = papers.documents_of_notice(uow.session, notice)["code"]
    c0, readers = w.c0, set(INSIDERS)
    area = {"member", "wsec", "director", "finance", "admin"}
    return [
        Row("GET", f"/api/v1/documents/notice/{notice}", "public"),
        Row("GET", f"/api/v1/public/verify/{code}", "public"),
        Row("GET", f"/api/v1/documents/application_form/{draft}", readers),
        Row("GET", f"/api/v1/projects/{draft}/documents", readers),
        Row("GET", f"/api/v1/fund-years/{c0}/2026/documents", readers),
        Row("GET", f"/api/v1/fund-years/{c0}/2026/ledger.xlsx", readers),
        Row("GET", f"/api/v1/fund-years/{c0}/2026/archive.zip", readers),
        Row("GET", f"/api/v1/areas/{w.city.area_id}/years/2026/summary.xlsx", area),
    ]


def test_authorisation_matrix(api: Api, world: World, drv: Driver, clock_at: Clock) -> None:
    draft = drv.propose(title="小区健身器材更新")
    draft2 = drv.propose(title="便民理发服务")
    running = drv.new_project("in_progress", title="弃管小区卫生保洁")
    drv.new_project("publicity", title="居民代理代办服务点")
    clock_at.set(drv.tick())  # while the notice runs
    notice = api.get(None, f"/api/v1/public/notices?community={world.c0}&kind=publicity").json()["items"][0]["id"]

    def need_body() -> Any:
        return {"community_id": world.c0, "title": f"需求{next(_seq)}"}

    def project_body() -> Any:
        return proposal(world.c0, need_ids=[_need(world)])

    user = api.post("admin", "/api/v1/admin/users", {"username": "temp_staff", "display_name": "临时社工",
                                                     "password": "a-long-password"}).json()
    post_id = api.post("admin", f"/api/v1/admin/users/{user['id']}/posts",
                       {"organisation_id": world.c0, "role": "community_staff", "valid_from": "2026-01-01"}
                       ).json()["posts"][0]["id"]
    failures: list[str] = []
    for row in rows(world, draft, draft2, running, notice, need_body, project_body, post_id):
        order = [p for p in PRINCIPALS if p != row.last] + ([row.last] if row.last else [])
        for who in order:
            headers = api.headers(who)
            if row.text is not None:
                r = api.client.request(row.method, row.url, content=row.text.encode("utf-8"),
                                       headers={**headers, "Content-Type": "text/plain; charset=utf-8"})
            else:
                r = api.client.request(row.method, row.url, json=row.body() if row.body else None, headers=headers)
            want = row.expected(who)
            if r.status_code != want:
                failures.append(f"{row.method} {row.url} as {who}: {r.status_code} (want {want}) {r.text[:160]}")
            elif r.status_code >= 400:
                assert r.headers["content-type"] == "application/problem+json"
                problem = r.json()
                assert problem["status"] == want and problem["detail"] and problem["code"]
    assert not failures, "\n".join(failures)


def _need(world: World) -> int:
    from store.models import Need
    from workflow import clock

    with world.db.uow() as uow:
        need = Need(community_id=world.c0, title="群众需求", description="", channel="visit", residents_count=3,
                    recorded_by=world.ids["staff"], created_at=clock.now())
        uow.session.add(need)
        uow.commit()
        return int(need.id)


def test_no_data_of_another_community_is_readable(api: Api, world: World, drv: Driver) -> None:
    pid = drv.new_project("publicity", title="秘密的楼道照明改造")
    drv.fire(pid, "raise_concern", drv.a("supervisor1"), {"text": "报价偏高"})
    for who in OUTSIDERS:
        listing = api.get(who, "/api/v1/projects").json()
        assert all(p["community_id"] != world.c0 for p in listing["items"])
        assert all(n["community_id"] != world.c0 for n in api.get(who, "/api/v1/needs").json())
        for url in (f"/api/v1/projects/{pid}", f"/api/v1/projects/{pid}/history",
                    f"/api/v1/fund-years/{world.c0}/2026", f"/api/v1/needs?community={world.c0}"):
            r = api.get(who, url)
            assert r.status_code == 403 and "秘密" not in r.text, (who, url, r.text)
        # firing any event reveals neither the state nor the version of the project
        for event in ("submit", "approve", "record_followup", "grant_preliminary"):
            r = api.post(who, f"/api/v1/projects/{pid}/events/{event}", EXAMPLES.get(event, {}),
                         headers={"If-Match": '"99"'})
            assert r.status_code == 403, (who, event, r.text)
            assert "公示中" not in r.text and "版本" not in r.text
    # … while the public sees the notice, masked
    assert any(n["title"].endswith("秘密的楼道照明改造") for n in
               api.get(None, f"/api/v1/public/notices?community={world.c0}").json()["items"])


def test_every_route_is_in_the_matrix_or_elsewhere(api: Api) -> None:
    """A new route must be placed in the matrix (or in a named test) before it ships."""
    spec = api.client.get("/openapi.json").json()
    routes = {(m.upper(), p) for p, ops in spec["paths"].items() for m in ops}
    covered_elsewhere = {"/api/v1/auth/token", "/api/v1/auth/session", "/api/v1/auth/logout"}  # test_auth
    covered_elsewhere |= {"/api/v1/admin/orgs", "/api/v1/admin/orgs/import", "/api/v1/admin/orgs/{org_id}/rename",
                          "/api/v1/admin/orgs/{org_id}/move", "/api/v1/admin/orgs/{org_id}/close",
                          "/api/v1/admin/users/{person_id}/activation", "/api/v1/auth/activate"}  # test_org_admin
    covered_elsewhere |= {"/api/v1/public/needs", "/api/v1/public/needs/receipt/{code}",
                          "/api/v1/public/projects/{code}/timeline", "/api/v1/needs/{need_id}/answer"}  # test_public
    covered_elsewhere |= {"/api/v1/public/objections/receipt/{code}",
                          "/api/v1/public/objections/receipt/{code}/accept"}  # test_receipts
    covered_elsewhere |= {"/api/v1/areas/{code}/flags", "/api/v1/areas/{code}/flags/{key}/dismiss"}  # test_flags
    covered_elsewhere |= {"/api/v1/inspections", "/api/v1/inspections/{inspection_id}",
                          "/api/v1/inspections/{inspection_id}/pack", "/api/v1/inspections/{inspection_id}/pack.pdf",
                          "/api/v1/findings/{finding_id}",
                          "/api/v1/communities/{community}/findings"}  # test_inspections_api (issue 13)
    in_matrix = {"/healthz", "/api/v1/ping", "/api/v1/admin/posts/{post_id}/end",
                 "/api/v1/public/disclosures/{community}/{year}", "/api/v1/me", "/api/v1/workflow", "/api/v1/calendar/workday-after", "/api/v1/needs",
                 "/api/v1/projects", "/api/v1/projects/{project_id}", "/api/v1/projects/{project_id}/history",
                 "/api/v1/fund-years", "/api/v1/fund-years/{community}/{year}",
                 "/api/v1/fund-years/{community}/{year}/history", "/api/v1/public/communities",
                 "/api/v1/public/notices", "/api/v1/public/notices/{notice_id}",
                 "/api/v1/public/notices/{notice_id}/objections", "/api/v1/admin/users",
                 "/api/v1/admin/users/{person_id}/posts", "/api/v1/admin/policies", "/api/v1/calendar/import",
                 "/api/v1/audit/verify", "/api/v1/public/audit/roots", "/api/v1/procurement-catalog",
                 # documents (issue 10): document_rows
                 "/api/v1/documents/{kind}/{object_id}", "/api/v1/public/verify/{code}",
                 "/api/v1/projects/{project_id}/documents", "/api/v1/fund-years/{community}/{year}/documents",
                 "/api/v1/fund-years/{community}/{year}/ledger.xlsx",
                 "/api/v1/fund-years/{community}/{year}/archive.zip", "/api/v1/areas/{area}/years/{year}/summary.xlsx"}
    events = {p for _m, p in routes if "/events/" in p}  # roles come from the definitions: tested per event below
    missing = {p for _m, p in routes} - covered_elsewhere - in_matrix - events
    assert not missing, missing
    assert len(USERS) >= len(ALL)


def test_event_routes_follow_the_definitions(api: Api, world: World, drv: Driver) -> None:
    """For every user event: a caller holding none of its roles is refused with 403, whatever the state."""
    from workflow.machines import workflow_for

    pid = drv.propose(title="路灯维修")
    wf = workflow_for("project")
    roles_of = {who: {p["role"] for p in api.get(who, "/api/v1/me").json()["posts"]} for who in INSIDERS}
    spec = api.client.get("/openapi.json").json()
    for path in spec["paths"]:
        if not path.startswith("/api/v1/projects/{project_id}/events/"):
            continue
        event = path.rsplit("/", 1)[1]
        allowed = {r for t in wf.transitions if t["trigger"] == event for r in t["roles"]}
        for who in INSIDERS:
            if roles_of[who] & allowed:
                continue
            r = api.post(who, path.replace("{project_id}", str(pid)), EXAMPLES.get(event, {}))
            # 409 only when the state admits no such event at all (the engine checks the state first)
            assert r.status_code in (403, 409), (event, who, r.status_code, r.text)
            if wf.candidates(event, "draft"):
                assert r.status_code == 403, (event, who, r.text)
