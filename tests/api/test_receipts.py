"""Objection receipts over HTTP (issue 11 point 10): every objection gets a receipt code, returned to the
resident alone; with it the resident reads where the objection stands (masked) and accepts the answer
(the public event accept_answer, audited). The committee never sees the code and cannot close a
resident's objection by itself: a supervisor confirms the answer, or the resident accepts it."""
from __future__ import annotations

import re
from typing import Any

from tests.api.conftest import Api, World
from workflow import clock
from workflow.demo import Driver
from workflow.receipts import ALPHABET

CODE = re.compile(rf"^[{ALPHABET}]{{10}}$")


def _object(api: Api, drv: Driver, pid: int) -> tuple[int, int, dict[str, Any]]:
    """A resident's objection to the running notice of ``pid`` (call with the clock frozen after it opened)."""
    notice = next(n for n in api.get(None, "/api/v1/public/notices?kind=publicity").json()["items"]
                  if n["project_code"] == api.get("secretary", f"/api/v1/projects/{pid}").json()["code"])
    r = api.post(None, f"/api/v1/public/notices/{notice['id']}/objections",
                 {"author_name": "王先生", "contact": "13912345678", "text": "建议先修三号楼的灯。"})
    assert r.status_code == 201, r.text
    return pid, notice["id"], dict(r.json())


def test_a_resident_follows_the_objection_and_accepts_the_answer(api: Api, world: World, drv: Driver) -> None:
    pid = drv.new_project("publicity")
    with clock.frozen(drv.tick()):
        pid, notice, receipt = _object(api, drv, pid)
        code = receipt["receipt_code"]
        assert CODE.match(code) and code in receipt["message"]
        assert receipt["receipt_url"] == f"/api/v1/public/objections/receipt/{code}"
        seen = api.get(None, receipt["receipt_url"]).json()
        assert (seen["status"], seen["can_accept"], seen["notice_id"]) == ("received", False, notice)
        assert seen["text"] == "建议先修三号楼的灯。" and "13912345678" not in str(seen) and "王先生" not in str(seen)
        # the resident cannot accept an answer not yet given
        r = api.post(None, f"{receipt['receipt_url']}/accept")
        assert r.status_code == 409 and r.json()["code"] == "notice.objection_unanswered"
        d = api.event("secretary", pid, "answer_objection", {"objection_id": receipt["objection_id"],
                                                             "answer": "已安排先修三号楼,联系电话13812345678。"})
        (objection,) = d["objections"]
        assert objection["status"] == "answered" and objection["resolved"] is False
        seen = api.get(None, receipt["receipt_url"]).json()
        assert seen["status"] == "answered" and seen["can_accept"] is True
        assert "13812345678" not in seen["answer"] and "138****5678" in seen["answer"]
        r = api.post(None, f"{receipt['receipt_url']}/accept")
        assert r.status_code == 200, r.text
        assert r.json()["status"] == "accepted" and r.json()["resolved_at"] and r.json()["can_accept"] is False
        again = api.post(None, f"{receipt['receipt_url']}/accept")
        assert again.status_code == 409 and again.json()["code"] == "notice.objection_resolved"
        # the committee sees how it was settled, never the code; the acceptance is in the audit trail
        d = api.get("secretary", f"/api/v1/projects/{pid}").json()
        assert d["objections"][0]["status"] == "accepted" and d["objections"][0]["resolved"] is True
        history = api.get("supervisor", f"/api/v1/projects/{pid}/history").json()["events"]
        accept = [e for e in history if e["event"] == "accept_answer"]
        assert len(accept) == 1 and accept[0]["actor_label"] == "public" and accept[0]["event_label"] == "接受答复"
        created = next(e for e in history if e["event"] == "object")
        assert code not in str(created) and code not in str(d)
        public = api.get(None, f"/api/v1/public/notices/{notice}").json()["objections"][0]
        assert public["status"] == "accepted" and public["resolved"] is True


def test_a_supervisor_confirms_an_answer_and_the_receipt_shows_it(api: Api, world: World, drv: Driver) -> None:
    pid = drv.new_project("publicity")
    with clock.frozen(drv.tick()):
        pid, _notice, receipt = _object(api, drv, pid)
        oid = receipt["objection_id"]
        api.event("staff", pid, "answer_objection", {"objection_id": oid, "answer": "已安排先修三号楼。"})
        d = api.event("supervisor", pid, "confirm_answer", {"objection_id": oid, "comment": "已现场核实"})
        (objection,) = d["objections"]
        assert objection["status"] == "confirmed" and objection["resolved_by"] == world.ids["supervisor"]
        assert objection["resolution_comment"] == "已现场核实"
        seen = api.get(None, receipt["receipt_url"]).json()
        assert seen["status"] == "confirmed" and seen["can_accept"] is False
        r = api.post(None, f"{receipt['receipt_url']}/accept")
        assert r.status_code == 409 and r.json()["code"] == "notice.objection_resolved"
        # the committee itself has no way to close it: confirm_answer is the supervisors' only
        r = api.post("secretary", f"/api/v1/projects/{pid}/events/confirm_answer", {"objection_id": oid})
        assert r.status_code == 403 and r.json()["code"] == "auth.no_post"
        assert api.post("secretary", f"/api/v1/projects/{pid}/events/accept_answer", {}).status_code in (404, 405)


def test_codes_are_read_loosely_and_unknown_ones_are_404(api: Api, world: World, drv: Driver) -> None:
    pid = drv.new_project("publicity")
    with clock.frozen(drv.tick()):
        _pid, _notice, receipt = _object(api, drv, pid)
        code = receipt["receipt_code"]
        loose = f"{code[:5].lower()}-{code[5:].lower()}"
        assert api.get(None, f"/api/v1/public/objections/receipt/{loose}").json()["receipt_code"] == code
        for wrong in ("ABCDEFGHJK" if code != "ABCDEFGHJK" else "ABCDEFGHJM", "0OIL1", "x" * 32):
            r = api.get(None, f"/api/v1/public/objections/receipt/{wrong}")
            assert r.status_code == 404 and r.json()["code"] == "receipt.not_found" and r.json()["article"] == "第十条"
        r = api.post(None, "/api/v1/public/objections/receipt/ABCDEFGHJK/accept")
        assert r.status_code == 404


def test_receipts_are_rate_limited_per_ip(api: Api, world: World, app, drv: Driver) -> None:  # type: ignore[no-untyped-def]
    app.state.settings.objection_max = 3
    pid = drv.new_project("publicity")
    with clock.frozen(drv.tick()):
        _pid, _notice, receipt = _object(api, drv, pid)
        # reading one's own receipt is never limited; trying unknown codes is
        assert all(api.get(None, receipt["receipt_url"]).status_code == 200 for _ in range(5))
        codes = [api.get(None, f"/api/v1/public/objections/receipt/{c * 10}").status_code for c in "23456"]
        assert codes == [404, 404, 404, 429, 429]
        r = api.post(None, f"{receipt['receipt_url']}/accept")
        assert r.status_code == 429 and "分钟后再试" in r.json()["detail"] and int(r.headers["retry-after"]) > 0


def test_an_aid_projects_receipt_is_masked(api: Api, world: World, drv: Driver) -> None:
    pid = drv.new_project("publicity", title="困难老人助餐服务", category="hardship", beneficiaries=12, is_aid=True,
                          contractor="张桂兰", contractor_kind="individual")
    with clock.frozen(drv.tick()):
        pid, _notice, receipt = _object(api, drv, pid)
        api.event("secretary", pid, "answer_objection", {"objection_id": receipt["objection_id"],
                                                         "answer": "张桂兰老人的助餐安排已调整。"})
        seen = api.get(None, receipt["receipt_url"]).json()
        assert "张桂兰" not in str(seen) and seen["project_title"] == "困难老人助餐服务"
