"""Every page, as the people who use it (and residents without an account), photographed at 1366 px and
360 px: none scrolls sideways on a phone, none shows a script error or a stack trace, every form control has
a label; no public page shows unmasked personal data. (The pages reached in the flows are photographed there:
test_lifecycle.py, test_staff_flows.py, test_public_flows.py.)"""
from __future__ import annotations

import datetime as dt
from typing import Any

from tests.e2e.conftest import SQLITE_ONLY, Site, assert_no_leaks, login, logout, shoot
from workflow.demo import Driver, at
from workflow.engine import PUBLIC
from workflow.inspections import plan_inspection
from workflow.services import fire_event


@SQLITE_ONLY
def test_every_staff_page_fits_a_phone_and_an_office_screen(page: Any, site: Site, e2e_world: Any, db: Any) -> None:
    drv = Driver(db, e2e_world.city)
    paying = drv.new_project("settlement", title="小区绿化补植")
    item = drv.fire(paying, "add_payment_item", drv.a("finance"),
                    {"kind": "invoice", "amount": "12000.00", "payee": "xx市照明工程有限公司",
                     "invoice_no": "INV20260001"}).data["payment_item_id"]
    drv.fire(paying, "sign_invoice", drv.a("secretary"), {"payment_item_id": item})
    aid = drv.new_project("settlement", title="困难老人助餐服务", category="hardship", amount="9000.00",
                          beneficiaries=12, is_aid=True, contractor="张桂兰", contractor_kind="individual")
    voucher = drv.fire(aid, "add_payment_item", drv.a("finance"),
                       {"kind": "voucher", "amount": "9000.00", "payee": "张桂兰"}).data["payment_item_id"]
    drv.fire(aid, "record_voucher_evidence", drv.a("secretary"),
             {"payment_item_id": voucher, "kind": "meeting_decision", "note": "联席会议同意按收款人签字结算"})
    notice = drv.new_project("publicity", title="广场舞音响购置")
    objection = drv.fire(notice, "object", PUBLIC, {"author_name": "王建华", "contact": "13912345678",
                                                     "text": "音量太大会扰民"}).data
    drv.fire(notice, "raise_concern", drv.a("supervisor1"), {"text": "请说明音响的采购方式"})
    drv.new_project("pending_approval", title="失业人员技能培训", category="employment", beneficiaries=40)
    drv.new_project("draft", community=1, title="便民理发服务")
    c0 = e2e_world.c0
    # an inspection under way with a finding: its findings table is the widest of the inspection pages
    with at(drv.now), db.uow() as uow:
        iid = plan_inspection(uow.session, drv.a("working_member1"), c0, dt.date(2026, 3, 1), dt.date(2026, 3, 31)).id
        uow.commit()
    assert fire_event(db, "inspection", iid, "start_inspection", drv.a("working_member1")).ok
    fid = fire_event(db, "inspection", iid, "record_finding", drv.a("working_member1"), {
        "article": "第十二条", "description": "跟进检查记录缺失两次", "requirement": "补齐三月份跟进检查记录并归档",
        "workdays": 5}).data["finding_id"]

    page.goto(site.url("/login"))
    shoot(page, "login")
    for path, name in (("/activate", "activate"), ("/gongshi/verify?code=ABCD-EFGH-JKMN", "gongshi-verify")):
        page.goto(site.url(path))
        shoot(page, name)
    visits = {
        "s01_shuji": ["/", "/needs", "/projects", f"/projects/{paying}", f"/projects/{aid}", f"/projects/{notice}",
                      "/projects/new", f"/fund-years/{c0}/2026", "/fund-years", f"/findings/{fid}", "/no-such-page"],
        "s01_jiandu1": ["/", f"/trail?community={c0}"],
        "gw_weiyuan1": ["/", "/inspections", f"/inspections/{iid}", "/flags?year=2026"],
        "gw_shuji": ["/", "/overview?year=2026&sort=committed&order=desc"],
        "jg_zhuren": ["/"],
        "caiwu": ["/", f"/projects/{aid}"],
        "admin": ["/", "/admin", "/admin/orgs", "/admin/policies", "/admin/calendar", "/admin/audit", "/overview"],
    }
    for username, paths in visits.items():
        login(page, site, username)
        for path in paths:
            response = page.goto(site.url(path))
            assert response is not None
            expected = 404 if path == "/no-such-page" else 200
            assert response.status == expected, f"{username} {path}: {response.status}"
            shoot(page, f"{username}{path}")
        logout(page)

    # the public pages, as a resident without an account
    drv.fire(notice, "answer_objection", drv.a("secretary"),
                    {"objection_id": objection["objection_id"], "answer": "音响将控制音量,晚上8点后停用。"})
    page.goto(site.url("/gongshi"))
    public = ["/gongshi", "/gongshi/need", "/gongshi/huizhi"]
    notice_link = page.get_by_role("link", name="项目公示:广场舞音响购置")
    public.append(str(notice_link.get_attribute("href")))
    page.goto(site.url(public[-1]))
    public.append(str(page.get_by_role("link", name="查看该项目的执行进度 →").get_attribute("href")))
    for path in public:
        response = page.goto(site.url(path))
        assert response is not None and response.status == 200, f"{path}: {response.status if response else None}"
        shoot(page, f"public{path}")
        assert_no_leaks(page, db, "王建华", "张桂兰")
