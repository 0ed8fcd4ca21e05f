"""Issue 11 over HTTP: the procurement catalogue as versioned policy data with its read route (point 12),
line items named by code, and cancelling a payment item (point 4) as the project page shows it."""
from __future__ import annotations

import uuid
from typing import Any

from tests.api.conftest import Api, World, proposal
from workflow import clock

CONTRACTOR = "xx市照明工程有限公司"


def _line(code: str) -> list[dict[str, Any]]:
    return [{"description": "LED 楼道灯", "quantity": 2, "unit_price": "6000.00", "catalog_item": code}]


def test_the_catalogue_is_read_for_a_select(api: Api, world: World) -> None:
    r = api.get("secretary", f"/api/v1/procurement-catalog?community={world.c0}")
    assert r.status_code == 200, r.text
    body = r.json()
    codes = {i["code"]: i["name"] for i in body["items"]}
    assert codes["C23120000"] == "维修和保养服务" and len(codes) >= 15
    assert body["policy_version"] == 1 and body["year"] is None
    pinned = api.get("finance", f"/api/v1/procurement-catalog?community={world.c0}&year=2026").json()
    assert pinned["items"] == body["items"] and pinned["year"] == 2026
    assert api.get(None, f"/api/v1/procurement-catalog?community={world.c0}").status_code == 401
    assert api.get("secretary", f"/api/v1/procurement-catalog?community={world.c0}&year=2031").status_code == 404
    assert api.get("secretary", "/api/v1/procurement-catalog").status_code == 422


def test_a_purchase_names_a_catalogue_item_by_code(api: Api, world: World) -> None:
    need = api.need("secretary", world.c0)
    for code, rule in (("C23120000 维修和保养服务", "procurement.item_unknown"), ("路灯", "procurement.item_unknown"),
                       ("Z9999", "procurement.item_unknown"), ("", "procurement.item_missing")):
        r = api.post("secretary", "/api/v1/projects", proposal(world.c0, need_ids=[need], line_items=_line(code)))
        assert r.status_code == 422, r.text
        assert (r.json()["code"], r.json()["article"]) == (rule, "第十二条"), r.json()
        assert "LED 楼道灯" in r.json()["detail"]
    r = api.post("secretary", "/api/v1/projects", proposal(world.c0, need_ids=[need], line_items=_line(" c23120000 ")))
    assert r.status_code == 201, r.text
    item = r.json()["line_items"][0]
    assert (item["catalog_item"], item["catalog_name"]) == ("C23120000", "维修和保养服务")


def test_the_catalogue_is_versioned_with_the_policy(api: Api, world: World) -> None:
    own = [{"code": "A01", "name": "图书"}, {"code": "C02", "name": "培训服务"}]
    r = api.post("admin", "/api/v1/admin/policies", {"city_id": world.city.city_id,
                                                     "effective_from": clock.today().isoformat(),
                                                     "note": "本市政府集中采购目录", "data": {"procurement_catalog": own}})
    assert r.status_code == 201, r.text
    now = api.get("secretary", f"/api/v1/procurement-catalog?community={world.c0}").json()
    assert now["items"] == own and now["policy_version"] == 2
    # the 2026 fund year keeps the version it was opened under, and so do its proposals
    pinned = api.get("secretary", f"/api/v1/procurement-catalog?community={world.c0}&year=2026").json()
    assert pinned["policy_version"] == 1 and {"code": "C23120000", "name": "维修和保养服务"} in pinned["items"]
    need = api.need("secretary", world.c0)
    r = api.post("secretary", "/api/v1/projects", proposal(world.c0, need_ids=[need], line_items=_line("A01")))
    assert (r.status_code, r.json()["code"]) == (422, "procurement.item_unknown")
    bad = api.post("admin", "/api/v1/admin/policies", {"city_id": world.city.city_id, "effective_from": "2030-01-01",
                                                       "note": "目录有误", "data": {"procurement_catalog": []}})
    assert bad.status_code == 422 and "至少须有一个品目" in bad.json()["detail"]


def test_cancelling_a_payment_item_over_http(api: Api, world: World, drv) -> None:  # type: ignore[no-untyped-def]
    pid = drv.new_project("acceptance")
    drv.step(pid, "settlement")
    item = api.event("finance", pid, "add_payment_item",
                     {"kind": "invoice", "amount": "100.00", "payee": CONTRACTOR, "invoice_no": "INV-HTTP-1",
                      "issuer_tax_id": "91220100ma0y1234xk"})["outcome"]["data"]["payment_item_id"]
    api.event("secretary", pid, "sign_invoice", {"payment_item_id": item})
    api.event("finance", pid, "cancel_payment_item", {"payment_item_id": item, "reason": "作废"}, expect=403)
    r = api.post("secretary", f"/api/v1/projects/{pid}/events/cancel_payment_item", {"payment_item_id": item})
    assert (r.status_code, r.json()["code"], r.json()["article"]) == (409, "workflow.reason_missing", "第十三条")
    d = api.event("secretary", pid, "cancel_payment_item", {"payment_item_id": item, "reason": "发票抬头有误"})
    shown = next(i for i in d["payment_items"] if i["id"] == item)
    assert shown["status"] == "cancelled" and shown["cancel_reason"] == "发票抬头有误"
    assert shown["issuer_tax_id"] == "91220100MA0Y1234XK" and shown["cancelled_at"]
    assert [s["lapsed"] for s in shown["signatures"]] == [True]
    assert d["outcome"]["data"]["lapsed_signatures"] == 1
    # the same invoice may now be entered again; a paid one never
    again = api.event("finance", pid, "add_payment_item",
                      {"kind": "invoice", "amount": "100.00", "payee": CONTRACTOR, "invoice_no": "inv-http-1",
                       "issuer_tax_id": "91220100MA0Y1234XK"})["outcome"]["data"]["payment_item_id"]
    for who in ("secretary", "director", "wsec"):
        api.event(who, pid, "sign_invoice", {"payment_item_id": again})
    api.event("finance", pid, "pay", {"payment_item_id": again, "idempotency_key": uuid.uuid4().hex})
    r = api.post("finance", f"/api/v1/projects/{pid}/events/add_payment_item",
                 {"kind": "invoice", "amount": "1.00", "payee": CONTRACTOR, "invoice_no": "INV-HTTP-1"})
    assert (r.status_code, r.json()["code"], r.json()["article"]) == (409, "payment.invoice_duplicate",
                                                                       "第十三条、第十七条")
    history = api.get("supervisor", f"/api/v1/projects/{pid}/history").json()["events"]
    cancelled = [e for e in history if e["event"] == "cancel_payment_item"]
    assert len(cancelled) == 1 and cancelled[0]["reason"] == "发票抬头有误"
    assert cancelled[0]["event_label"] == "作废付款事项"
