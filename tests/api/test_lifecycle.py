"""End to end over HTTP with the demo accounts: a project on each payment path, and a fund year."""
from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest

from tests.api.conftest import Api, Clock, World, on

MEETING = {"held_on": "2026-03-03", "votes_for": 9, "votes_against": 1, "votes_abstain": 1,
           "attendees": [{"name": f"两委委员{i}", "capacity": "two_committees"} for i in range(1, 6)]
           + [{"name": f"居民代表{i}", "capacity": "resident_rep"} for i in range(1, 7)],
           "minutes": "会议讨论了项目必要性、预算和实施方式。"}
BOARD = {"held_on": "2026-03-20", "attendees": ["王建国", "李红梅", "赵志强", "陈立新"],
         "minutes": "班子会议研究了该项目申请,同意报主要领导审批。"}


def _to_in_progress(api: Api, world: World, clock_at: Clock, project: dict[str, Any]) -> int:
    """draft → … → in_progress, every step over HTTP (the notice period run by the sweep)."""
    pid = int(project["id"])
    assert project["state"] == "draft" and project["version"] == 1
    api.event("secretary", pid, "submit_preliminary")
    api.event("member", pid, "grant_preliminary")
    clock_at.advance(days=1)
    d = api.event("secretary", pid, "record_meeting", MEETING)
    assert d["state"] == "publicity" and d["state_label"] == "公示中"
    (deadline,) = d["deadlines"]
    assert deadline["kind"] == "publicity" and deadline["workdays"] == 3 and deadline["due_at"].endswith("+08:00")
    assert 1 <= deadline["workdays_left"] <= 3 and not deadline["overdue"]
    # a resident objects on the notice board (no login); the committee answers
    notices = api.get(None, f"/api/v1/public/notices?community={world.c0}&kind=publicity&running=true").json()
    notice = next(n for n in notices["items"] if n["project_code"] == d["code"])
    assert notice["accepts_objections"]
    r = api.post(None, f"/api/v1/public/notices/{notice['id']}/objections",
                 {"author_name": "王先生", "contact": "13912345678", "text": "建议先修三号楼的灯。"})
    assert r.status_code == 201, r.text
    objection, receipt = r.json()["objection_id"], r.json()["receipt_code"]
    public = api.get(None, f"/api/v1/public/notices/{notice['id']}").json()
    assert public["objections"][0]["author"] == "王**" and "13912345678" not in str(public)
    # the committee answers; that alone resolves nothing (issue 11) — the resident accepts it on the receipt
    d = api.event("secretary", pid, "answer_objection", {"objection_id": objection, "answer": "已安排先修三号楼。"})
    assert d["objections"][0]["status"] == "answered" and not d["objections"][0]["resolved"]
    assert receipt not in str(d)
    accepted = api.post(None, f"/api/v1/public/objections/receipt/{receipt}/accept")
    assert accepted.status_code == 200 and accepted.json()["status"] == "accepted", accepted.text
    api.event("supervisor", pid, "signoff", {"stage": "declaration"})
    # the notice period runs out: the sweep fires the timer
    clock_at.advance(days=8)
    assert clock_at.sweep(world.db).fired >= 1
    d = api.get("secretary", f"/api/v1/projects/{pid}").json()
    assert d["state"] == "ready_to_submit"
    d = api.event("secretary", pid, "submit", headers={"If-Match": f'"{d["version"]}"'})
    assert d["state"] == "pending_approval" and d["deadlines"][0]["kind"] == "approval_due"
    api.event("member", pid, "record_board_meeting", {**BOARD, "held_on": clock_at.at.date().isoformat()})
    d = api.event("wsec", pid, "approve")
    assert d["state"] == "pending_approval" and d["outcome"]["to_state"] == "pending_approval"
    d = api.event("director", pid, "approve")
    assert d["state"] == "in_progress" and d["committed"] == d["amount"]
    api.event("member", pid, "record_followup", {"visited_on": clock_at.at.date().isoformat(),
                                                 "notes": "现场查看,进度正常。"})
    clock_at.advance(days=20)
    api.event("secretary", pid, "report_completion", {"summary": "项目已完工"})
    api.event("supervisor", pid, "signoff", {"stage": "acceptance"})
    d = api.event("member", pid, "accept", {"quality": "质量合格", "satisfaction": 95,
                                             "team": [world.ids["member"], world.ids["supervisor"]]})
    assert d["state"] == "settlement"
    return pid


def _close(api: Api, world: World, clock_at: Clock, pid: int) -> dict[str, Any]:
    d = api.event("finance", pid, "close_settlement")
    assert d["state"] == "completion_publicity"
    api.event("supervisor2", pid, "signoff", {"stage": "write_off"})
    clock_at.advance(days=8)
    clock_at.sweep(world.db)
    d = api.get("secretary", f"/api/v1/projects/{pid}").json()
    assert d["state"] == "closed", d["state"]
    assert d["allowed_events"] == [] and d["deadlines"] == []
    history = api.get("supervisor", f"/api/v1/projects/{pid}/history").json()
    assert history["version"] == d["version"] == len(history["events"])
    assert [e["seq"] for e in history["events"]] == list(range(1, d["version"] + 1))
    return d


def test_project_on_the_invoice_path(api: Api, world: World, clock_at: Clock, tmp_path: Path,
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    pid = _to_in_progress(api, world, clock_at, api.propose("secretary", world.c0))
    item = api.event("finance", pid, "add_payment_item",
                     {"kind": "invoice", "amount": "12000.00", "payee": "xx市照明工程有限公司",
                      "invoice_no": "INV000001"})["outcome"]["data"]["payment_item_id"]
    for who in ("secretary", "director", "wsec"):
        api.event(who, pid, "sign_invoice", {"payment_item_id": item})
    key = uuid.uuid4().hex
    d = api.event("finance", pid, "pay", {"payment_item_id": item, "idempotency_key": key})
    assert d["paid"] == "12000.00" and d["committed"] == "0.00"
    # the same request again pays nothing
    again = api.event("finance", pid, "pay", {"payment_item_id": item, "idempotency_key": key})
    assert again["outcome"]["replayed"] and again["paid"] == "12000.00"
    d = _close(api, world, clock_at, pid)
    assert [s["role"] for s in d["payment_items"][0]["signatures"]] == [
        "community_secretary", "construction_director", "working_secretary"]
    year = api.get("finance", f"/api/v1/fund-years/{world.c0}/2026").json()
    assert year["paid"] == "12000.00" and year["committed"] == "0.00" and year["available"] == "188000.00"
    # the chains, anchored by the day's signed root (a key outside the database), and the business tables
    from workflow.anchors import generate_key_file, sign_root

    generate_key_file(tmp_path / "audit-signing.key")
    monkeypatch.setenv("FUNDFLOW_AUDIT_KEY_FILE", str(tmp_path / "audit-signing.key"))
    sign_root(world.db)
    checked = api.get("admin", "/api/v1/audit/verify").json()
    assert checked["ok"] is True and checked["roots"] == 1 and checked["problems"] == [], checked


def test_aid_project_on_the_voucher_path(api: Api, world: World, clock_at: Clock) -> None:
    project = api.propose("secretary", world.c0, title="困难老人助餐服务", category="hardship", amount="9000.00",
                          beneficiaries_count=12, is_aid=True, contractor_name="张桂兰", contractor_kind="individual",
                          line_items=[{"description": "助餐服务", "quantity": 1, "unit_price": "9000.00",
                                       "catalog_item": "C23090000"}])
    assert project["is_small_group"] is True
    pid = _to_in_progress(api, world, clock_at, project)
    item = api.event("finance", pid, "add_payment_item",
                     {"kind": "voucher", "amount": "9000.00", "payee": "张桂兰",
                      "payee_account": "6222021234567890123"})["outcome"]["data"]["payment_item_id"]
    # paying before the evidence is complete is refused, citing Art. 13
    r = api.post("finance", f"/api/v1/projects/{pid}/events/pay",
                 {"payment_item_id": item, "idempotency_key": uuid.uuid4().hex})
    assert r.status_code == 409 and r.headers["content-type"] == "application/problem+json"
    assert r.json()["article"].startswith("第十三条")
    for kind in ("meeting_decision", "inprocess_proof", "payee_signature"):
        api.event("secretary", pid, "record_voucher_evidence", {"payment_item_id": item, "kind": kind,
                                                                "note": f"{kind} 材料"})
    api.event("finance", pid, "pay", {"payment_item_id": item, "idempotency_key": uuid.uuid4().hex})
    d = api.event("secretary", pid, "record_voucher_evidence", {"payment_item_id": item, "kind": "post_notice",
                                                               "note": "已在公示栏公示"})
    assert d["payment_items"][0]["evidence"] == ["meeting_decision", "inprocess_proof", "payee_signature",
                                                 "post_notice"]
    # the public notice of the payment names neither the recipient nor the account
    notices = api.get(None, f"/api/v1/public/notices?community={world.c0}&kind=voucher_payment").json()["items"]
    body = api.get(None, f"/api/v1/public/notices/{notices[0]['id']}").json()["body"]
    assert "张桂兰" not in body and "6222021234567890123" not in body
    d = _close(api, world, clock_at, pid)
    assert d["paid"] == "9000.00"


def test_fund_year_from_open_to_closed(api: Api, world: World, clock_at: Clock) -> None:
    c = world.c1
    clock_at.set(on("2026-11-30"))
    y = api.get("other_community", f"/api/v1/fund-years/{c}/2026").json()
    assert y["state"] == "open" and y["allocation"] == "200000.00" and y["small_group_cap"] == "40000.00"
    assert [e["event"] for e in y["allowed_events"]] == ["submit_report"]
    api.year_event("other_community", c, 2026, "submit_report",
                   {"summary": "本年度未实施项目,经费全部结转下年使用。", "service_effect": "—"})
    clock_at.advance(days=1)
    assert api.get(None, f"/api/v1/public/disclosures/{c}/2026").status_code == 404
    # the disclosure starts once the report is in, without waiting for the area's evaluation (issue 11)
    d = api.year_event("other_community", c, 2026, "start_disclosure")
    assert d["state"] == "disclosing" and d["deadlines"][0]["kind"] == "disclosure"
    d = api.year_event("wsec", c, 2026, "evaluate", {"rating": "good", "comment": "程序规范"})
    assert d["state"] == "disclosing" and d["report"]["rating"] == "good"
    disclosure = api.get(None, f"/api/v1/public/disclosures/{c}/2026")
    assert disclosure.status_code == 200 and disclosure.json()["total"] == "200000.00"
    # closing before the disclosure period and the year have run is refused
    api.year_event("finance", c, 2026, "close_year", expect=409)
    clock_at.advance(days=12)
    clock_at.sweep(world.db)
    assert api.get("finance", f"/api/v1/fund-years/{c}/2026").json()["state"] == "disclosed"
    api.year_event("finance", c, 2026, "close_year", expect=409)  # the year has not ended
    clock_at.set(on("2027-01-04"))
    d = api.year_event("finance", c, 2026, "close_year")
    assert d["state"] == "closed" and d["carry_out"] == "200000.00"
    nxt = api.get("finance", f"/api/v1/fund-years/{c}/2027").json()
    assert nxt["carry_in"] == "200000.00" and nxt["state"] == "open"
    history = api.get("supervisor", f"/api/v1/fund-years/{world.c0}/2026/history")
    assert history.status_code == 200
    assert api.get("supervisor", f"/api/v1/fund-years/{c}/2026/history").status_code == 403
