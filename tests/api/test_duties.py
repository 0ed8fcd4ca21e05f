"""Separation of duties through the API (SPEC section 1)."""
from __future__ import annotations

import uuid

from tests.api.conftest import Api, World
from workflow.demo import Driver


def _give_post(api: Api, world: World, who: str, organisation_id: int, role: str) -> None:
    r = api.post("admin", f"/api/v1/admin/users/{world.ids[who]}/posts",
                 {"organisation_id": organisation_id, "role": role, "valid_from": "2021-01-01"})
    assert r.status_code == 201, r.text


def test_the_proposer_cannot_approve(api: Api, world: World, drv: Driver) -> None:
    # the construction director also serves on the community committee and proposes a project
    _give_post(api, world, "director", world.c0, "community_staff")
    pid = api.propose("director", world.c0)["id"]
    with drv.db.uow() as uow:  # the proposer of record is the director
        from store.models import Project

        assert uow.session.get(Project, pid).proposer_id == world.ids["director"]
    drv.drive(pid, "pending_approval")
    drv.fire(pid, "record_board_meeting", drv.a("working_member1"), drv.board())
    api.event("wsec", pid, "approve")
    r = api.post("director", f"/api/v1/projects/{pid}/events/approve", {})
    assert r.status_code == 409, r.text
    problem = r.json()
    assert problem["code"] == "sod.proposer_cannot_approve" and problem["article"].startswith("第十一条")
    assert api.get("director", f"/api/v1/projects/{pid}").json()["state"] == "pending_approval"


def test_nobody_signs_an_invoice_twice(api: Api, world: World, drv: Driver) -> None:
    pid = drv.new_project("settlement")
    item = api.event("finance", pid, "add_payment_item", {"kind": "invoice", "amount": "12000.00",
                                                          "payee": "xx市照明工程有限公司", "invoice_no": "INV1"}
                     )["outcome"]["data"]["payment_item_id"]
    api.event("secretary", pid, "sign_invoice", {"payment_item_id": item})
    r = api.post("secretary", f"/api/v1/projects/{pid}/events/sign_invoice", {"payment_item_id": item})
    assert r.status_code == 409 and r.json()["article"].startswith("第十三条"), r.text
    api.event("director", pid, "sign_invoice", {"payment_item_id": item})
    # the director also holds the working committee secretary's post: still one person, one signature
    _give_post(api, world, "director", world.city.area_id, "working_secretary")
    r = api.post("director", f"/api/v1/projects/{pid}/events/sign_invoice",
                 {"payment_item_id": item, "as_role": "working_secretary"})
    assert r.status_code == 409, r.text
    d = api.get("finance", f"/api/v1/projects/{pid}").json()
    assert [s["person_id"] for s in d["payment_items"][0]["signatures"]] == [world.ids["secretary"],
                                                                             world.ids["director"]]


def test_a_finance_officer_cannot_pay_what_they_signed(api: Api, world: World, drv: Driver) -> None:
    # the finance officer is also acting construction committee director, and signs as such
    _give_post(api, world, "finance", world.city.area_id, "construction_director")
    pid = drv.new_project("settlement")
    item = api.event("finance", pid, "add_payment_item", {"kind": "invoice", "amount": "12000.00",
                                                          "payee": "xx市照明工程有限公司", "invoice_no": "INV2"}
                     )["outcome"]["data"]["payment_item_id"]
    api.event("secretary", pid, "sign_invoice", {"payment_item_id": item})
    api.event("finance", pid, "sign_invoice", {"payment_item_id": item, "as_role": "construction_director"})
    api.event("wsec", pid, "sign_invoice", {"payment_item_id": item})
    r = api.post("finance", f"/api/v1/projects/{pid}/events/pay",
                 {"payment_item_id": item, "idempotency_key": uuid.uuid4().hex})
    assert r.status_code == 409, r.text
    assert r.json()["code"] == "sod.payer_signed" and r.json()["article"].startswith("第十三条")
    d = api.get("finance", f"/api/v1/projects/{pid}").json()
    assert d["paid"] == "0.00" and d["payment_items"][0]["status"] == "open"
