"""Errors are problem+json with Chinese details; validation is strict; ETag / If-Match; size and type limits."""
from __future__ import annotations

from tests.api.conftest import Api, World, proposal


def _problem(r, status: int, code: str | None = None) -> dict:  # type: ignore[no-untyped-def,type-arg]
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == "application/problem+json"
    body = r.json()
    assert set(body) >= {"type", "title", "status", "detail", "code", "article"} and body["status"] == status
    if code is not None:
        assert body["code"] == code, body
    return dict(body)


def test_unknown_paths_methods_and_events(api: Api, world: World) -> None:
    assert _problem(api.get(None, "/api/v1/nothing"), 404)["detail"] == "请求的地址不存在"
    _problem(api.client.delete("/api/v1/projects"), 405)
    _problem(api.post("secretary", "/api/v1/projects/1/events/fly", {}), 404)
    _problem(api.post("secretary", "/api/v1/projects/1/events/publicity_elapsed", {}), 404)  # timers: no route
    _problem(api.get("secretary", "/api/v1/projects/999999"), 404, "project.not_found")


BAD_AMOUNTS = [12000, 12000.5, True, None, "12,000.00", "1e4", "-5.00", "12.345", "", " ", "１２.００", "NaN"]


def test_money_is_a_yuan_string(api: Api, world: World) -> None:
    for amount in BAD_AMOUNTS:
        body = proposal(world.c0, amount=amount, need_ids=[1])
        p = _problem(api.post("secretary", "/api/v1/projects", body), 422, "payload.invalid")
        assert p["errors"][0]["loc"] == "body.amount" and p["detail"].startswith("提交的内容不正确"), amount


def test_strict_payloads(api: Api, world: World, drv) -> None:  # type: ignore[no-untyped-def]
    pid = drv.new_project("settlement")
    url = f"/api/v1/projects/{pid}/events/add_payment_item"
    for bad in ({"kind": "invoice", "amount": 100, "payee": "x"},
                {"kind": "invoice", "amount": "100.00", "payee": "x", "extra": 1},
                {"kind": "cash", "amount": "100.00", "payee": "x"},
                {"kind": "invoice", "amount": "100.00", "payee": "x" * 201},
                {"kind": "invoice", "amount": "100.00", "payee": "x", "as_role": "king"}):
        _problem(api.post("finance", url, bad), 422)
    _problem(api.post("finance", url, [1, 2]), 422)
    r = api.client.post(url, content=b"{not json", headers={**api.headers("finance"),
                                                            "Content-Type": "application/json"})
    assert _problem(r, 422)["errors"][0]["msg"] == "不是有效的 JSON"
    # a rule's refusal is 409 with the rule's code and article
    p = _problem(api.post("finance", url, {"kind": "invoice", "amount": "99999.00", "payee": "x",
                                           "invoice_no": "N1"}), 409)
    assert p["article"].startswith("第十三条")


def test_if_match(api: Api, world: World) -> None:
    project = api.propose("secretary", world.c0)
    pid, version = project["id"], project["version"]
    r = api.get("secretary", f"/api/v1/projects/{pid}")
    assert r.headers["etag"] == f'"{version}"'
    p = _problem(api.post("secretary", f"/api/v1/projects/{pid}/events/submit_preliminary", {},
                          headers={"If-Match": f'"{version + 1}"'}), 412, "workflow.version_mismatch")
    assert "版本" in p["detail"]
    _problem(api.post("secretary", f"/api/v1/projects/{pid}/events/submit_preliminary", {},
                      headers={"If-Match": "abc"}), 412)
    r = api.post("secretary", f"/api/v1/projects/{pid}/events/submit_preliminary", {},
                 headers={"If-Match": f'W/"{version}"'})
    assert r.status_code == 200 and r.headers["etag"] == f'"{version + 1}"'


def test_size_and_content_type_limits(api: Api, world: World) -> None:
    big = {"community_id": world.c0, "title": "x", "description": "长" * 200_000}
    _problem(api.post("secretary", "/api/v1/needs", big), 413, "request.too_large")
    r = api.client.post("/api/v1/needs", content=b"community_id=1", headers={
        **api.headers("secretary"), "Content-Type": "application/x-www-form-urlencoded"})
    _problem(r, 415)
    h = api.headers("admin")
    _problem(api.client.post("/api/v1/calendar/import", content=b"year 2027\n",
                             headers={**h, "Content-Type": "application/json"}), 415)
    _problem(api.client.post("/api/v1/calendar/import", content=b"\xff\xfe\x00y",
                             headers={**h, "Content-Type": "text/plain"}), 415, "calendar.not_text")
    _problem(api.client.post("/api/v1/calendar/import", content=b"year 2027\n\x00\n",
                             headers={**h, "Content-Type": "text/plain"}), 415, "calendar.not_text")
    p = _problem(api.client.post("/api/v1/calendar/import", content="year 2027\n2027-02-30 holiday 春节\n".encode(),
                                 headers={**h, "Content-Type": "text/plain"}), 422, "calendar.invalid")
    assert p["errors"] and p["errors"][0]["loc"].startswith("body.line.")
    r = api.client.post("/api/v1/calendar/import", content=b"year 2027\n" + b"# " + b"x" * 70_000,
                        headers={**h, "Content-Type": "text/plain"})
    _problem(r, 413)


def test_public_outputs_are_masked(api: Api, world: World, drv) -> None:  # type: ignore[no-untyped-def]
    from workflow.engine import PUBLIC

    pid = drv.new_project("publicity", title="困难家庭就医帮扶", category="hardship", amount="10000.00",
                          beneficiaries=8, is_aid=True, contractor="刘秀英", contractor_kind="individual")
    drv.fire(pid, "object", PUBLIC, {"author_name": "李四", "contact": "13812345678",
                                     "text": "刘秀英家的电话 13812345678 不应公开"})
    from workflow import clock

    with clock.frozen(drv.tick()):
        notices = api.get(None, f"/api/v1/public/notices?community={world.c0}").json()["items"]
        detail = api.get(None, f"/api/v1/public/notices/{notices[0]['id']}").text
    assert "刘秀英" not in detail and "13812345678" not in detail and "李四" not in detail
    assert "138****5678" in detail
