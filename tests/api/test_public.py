"""The residents' JSON routes (issue 9): needs posted on the public form with their receipts, the committee's
answer, the receipt that follows a need into a project, and every project's timeline for residents."""
from __future__ import annotations

from typing import Any

from sqlalchemy import select

from store.models import AuditEvent, Need
from tests.api.conftest import Api, World
from workflow.demo import Driver

URL = "/api/v1/public/needs"


def post(api: Api, community: int, **over: Any) -> Any:
    body = {"community_id": community, "title": "5号楼2单元楼道灯不亮", "description": "晚上上下楼看不清,老人摔过跤。",
            "author_name": "王秀英", "contact": "13912345678", **over}
    return api.post(None, URL, body)


def problem(r: Any, status: int, code: str, article: str | None = None) -> dict[str, Any]:
    assert r.status_code == status, r.text
    body = r.json()
    assert body["code"] == code, body
    if article is not None:
        assert body["article"] == article, body
    return dict(body)


def test_a_resident_posts_a_need_and_follows_it_by_its_receipt(api: Api, world: World, db: Any) -> None:
    r = post(api, world.c0)
    assert r.status_code == 201, r.text
    out = r.json()
    code = out["receipt_code"]
    assert len(code) == 10 and code in out["message"] and out["page_url"] == f"/gongshi/huizhi/{code}"
    with db.uow(write=False) as uow:
        need = uow.session.execute(select(Need).where(Need.id == out["need_id"])).scalar_one()
        trail = uow.session.execute(select(AuditEvent).where(AuditEvent.entity_type == "need",
                                                             AuditEvent.entity_id == need.id)).scalars().all()
    # recorded on the channel 线上平台, without a staff author; the contact is kept but never enters the trail
    assert (need.channel, need.recorded_by, need.contact) == ("platform", None, "13912345678")
    assert [e.event for e in trail] == ["post_need"] and trail[0].actor_label == "public"
    assert "13912345678" not in str(trail[0].payload) and "王秀英" not in str(trail[0].payload)
    receipt = api.get(None, out["receipt_url"]).json()
    assert receipt["status"] == "received" and receipt["author"] == "王**" and receipt["channel_label"] == "线上平台"
    assert "13912345678" not in str(receipt) and "王秀英" not in str(receipt)
    # lower case, spaces and dashes around the code are forgiven
    spaced = f"{code[:5].lower()}-{code[5:]}"
    assert api.get(None, f"{URL}/receipt/{spaced}").json()["code"] == code
    # staff see it in their needs list, and answer it once
    listed = api.get("staff", f"/api/v1/needs?community={world.c0}").json()
    assert listed[0]["id"] == out["need_id"] and listed[0]["recorded_by"] is None
    r = api.post("staff", f"/api/v1/needs/{out['need_id']}/answer", {"answer": "已纳入本季度项目计划,联席会议通过后公示。"})
    assert r.status_code == 200, r.text
    receipt = api.get(None, out["receipt_url"]).json()
    assert receipt["status"] == "answered" and receipt["answer"].startswith("已纳入本季度项目计划")
    problem(api.post("secretary", f"/api/v1/needs/{out['need_id']}/answer", {"answer": "再答复一次可以吗"}),
            409, "need.already_answered", "第九条")


def test_a_need_turned_into_a_project_shows_the_project_and_its_timeline(api: Api, world: World, drv: Driver) -> None:
    out = post(api, world.c0).json()
    pid = drv.propose(need_ids=[out["need_id"]], title="楼道照明改造", description="更换5号楼楼道灯。")
    drv.drive(pid, "publicity")
    receipt = api.get(None, out["receipt_url"]).json()
    assert receipt["status"] == "project" and receipt["status_label"] == "已形成服务项目"
    project = receipt["projects"][0]
    assert project["title"] == "楼道照明改造" and project["state_label"] == "公示中"
    phases = {m["key"]: m["status"] for m in project["milestones"]}
    assert phases == {"proposal": "done", "meeting": "done", "notice": "current", "approval": "pending",
                      "works": "pending", "acceptance": "pending", "payment": "pending", "completion": "pending"}
    assert project["needs"][0]["channel_label"] == "线上平台"
    timeline = api.get(None, f"/api/v1/public/projects/{project['code']}/timeline").json()
    assert timeline["milestones"] == project["milestones"]
    meeting = next(m for m in timeline["milestones"] if m["key"] == "meeting")
    assert "会议通过" in meeting["notes"][0] and "赞成 9 票" in meeting["notes"][0]


def test_timeline_of_a_closed_aid_project_masks_the_recipient(api: Api, world: World, drv: Driver) -> None:
    pid = drv.new_project("closed", title="困难老人助餐服务", category="hardship", amount="9000.00", beneficiaries=12,
                          is_aid=True, contractor="张桂兰", contractor_kind="individual",
                          description="由张桂兰为12位独居老人配送午餐。")
    code = api.get("secretary", f"/api/v1/projects/{pid}").json()["code"]
    r = api.get(None, f"/api/v1/public/projects/{code}/timeline")
    assert r.status_code == 200 and "张桂兰" not in r.text
    t = r.json()
    assert t["contractor"] == "张**" and "张**" in t["description"]
    assert all(m["status"] == "done" for m in t["milestones"])
    payment = next(m for m in t["milestones"] if m["key"] == "payment")
    assert payment["notes"][0] == "已支付 1 笔,合计 9000.00 元"
    assert next(m for m in t["milestones"] if m["key"] == "completion")["notice"]["kind"] == "completion"


def test_drafts_and_unknown_projects_are_not_public(api: Api, world: World, drv: Driver) -> None:
    pid = drv.propose()
    code = api.get("secretary", f"/api/v1/projects/{pid}").json()["code"]
    problem(api.get(None, f"/api/v1/public/projects/{code}/timeline"), 404, "project.not_found")
    problem(api.get(None, "/api/v1/public/projects/S99-2026-001/timeline"), 404, "project.not_found")


def test_refusals_of_the_public_need_form(api: Api, world: World) -> None:
    problem(post(api, world.c0, title="路灯"), 422, "need.title_missing", "第九条")
    problem(post(api, world.c0, title="灯" * 101), 422, "need.text_too_long", "第九条")
    problem(post(api, world.c0, contact="微信 abc"), 422, "need.contact_invalid", "第九条")
    problem(post(api, world.c0, author_name="王" * 21), 422, "need.contact_invalid", "第九条")
    problem(post(api, 999_999), 404, "org.not_found", "第二条")
    problem(post(api, world.city.area_id), 404, "org.not_found", "第二条")
    r = api.post(None, URL, {"community_id": world.c0, "title": "楼道灯不亮", "extra": "x"})
    assert r.status_code == 422
    assert api.get("staff", f"/api/v1/needs?community={world.c0}").json() == []  # nothing was recorded


def test_answer_refusals(api: Api, world: World) -> None:
    nid = post(api, world.c0).json()["need_id"]
    answer = {"answer": "已纳入本季度项目计划"}
    assert api.post(None, f"/api/v1/needs/{nid}/answer", answer).status_code == 401
    problem(api.post("other_community", f"/api/v1/needs/{nid}/answer", answer), 403, "auth.no_post", "第九条")
    problem(api.post("member", f"/api/v1/needs/{nid}/answer", answer), 403, "auth.no_post", "第九条")
    problem(api.post("staff", f"/api/v1/needs/{nid}/answer", {"answer": "好的"}), 422, "need.answer_missing", "第九条")
    problem(api.post("staff", "/api/v1/needs/987654/answer", answer), 404, "need.not_found", "第九条")


def test_needs_and_receipt_lookups_are_rate_limited_per_address(api: Api, world: World, app: Any) -> None:
    app.state.settings.objection_max = 3
    codes = [post(api, world.c0).status_code for _ in range(4)]
    assert codes == [201, 201, 201, 429]
    # unknown codes count against the limit (codes cannot be tried in bulk); a known one is always answered
    statuses = [api.get(None, f"{URL}/receipt/ABCDEFGHJK").status_code for _ in range(4)]
    assert statuses == [404, 404, 404, 429]


def test_objection_and_need_receipts_share_one_generator(db: Any) -> None:
    from workflow import receipts

    with db.uow(write=False) as uow:
        codes = {receipts.new_code(uow.session) for _ in range(200)}
    assert len(codes) == 200 and all(receipts.well_formed(c) for c in codes)
    assert not any(ch in c for c in codes for ch in "01OIL")
