"""The staff's main flows in a real browser, only by clicking and typing: a need recorded, a project proposed
from it, consented, discussed, noticed, signed off, refused for a missing board meeting (its article
shown), approved by both leaders; every page photographed at 1366 px and 360 px; and the same proposal
with JavaScript switched off."""
from __future__ import annotations

import datetime as dt
import re
from typing import Any

from tests.e2e.conftest import (
    DECLARE_NONE,
    SQLITE_ONLY,
    Crew,
    Site,
    act,
    fill_proposal,
    login,
    shoot,
    submit,
)
from workflow import clock
from workflow.demo import Driver
from workflow.engine import SYSTEM


def _record_need(page: Any, site: Site, title: str) -> None:
    page.goto(site.url("/needs"))
    box = page.locator("#record-need")
    box.locator("summary").click()
    box.locator('[name="title"]').fill(title)
    box.locator('[name="description"]').fill("居民反映楼道灯坏了,晚上上下楼不安全。")
    box.get_by_label("服务大厅").check()
    box.locator('[name="residents_count"]').fill("36")
    box.get_by_role("button", name="登记需求").click()
    page.wait_for_url(re.compile(r".*/needs\?done=\d+"))


def _propose(page: Any, title: str) -> None:
    """From the needs list: tick the need, fill the proposal (two line items), save."""
    page.locator("tr", has_text=title).locator('input[name="need"]').check()
    page.get_by_role("button", name="用所选需求提议项目").click()
    page.wait_for_url(re.compile(r".*/projects/new\?need=\d+"))
    form = page.locator("form[action='/projects/new']")
    assert form.locator('[name="title"]').input_value() == title  # prefilled from the need
    fill_proposal(form, amount="9000.00", contractor="xx市照明工程有限公司", start="2026-12-01", end="2027-03-31",
                  items=[("LED 楼道灯", "20", "300.00"), ("安装人工", "1", "3000.00")])
    form.get_by_role("button", name="保存项目方案").click()
    page.wait_for_url(re.compile(r".*/projects/\d+\?done=create"))


def test_a_project_from_a_need_to_approval_by_clicking(crew: Crew, site: Site, e2e_world: Any, db: Any) -> None:
    title = "5号楼楼道灯维修"
    page = crew.home("s01_gongzuo")
    _record_need(page, site, title)
    shoot(page, "needs-recorded")

    page = crew.home("s01_shuji")
    page.goto(site.url("/needs"))
    _propose(page, title)
    pid = int(re.search(r"/projects/(\d+)", page.url).group(1))  # type: ignore[union-attr]
    assert page.get_by_text("已办理:提议项目").is_visible()
    assert page.get_by_text("回应的群众需求").is_visible() and page.get_by_text(title).first.is_visible()
    shoot(page, "project-draft")
    submit(act(page, "submit_preliminary"))
    page.wait_for_url(re.compile(rf".*/projects/{pid}\?done=submit_preliminary"))
    assert page.locator("h1 .badge").inner_text() == "待党工委初步同意"

    # the working committee member finds it on the to-do page and consents
    page = crew.home("gw_weiyuan1")
    item = page.locator(".todo li", has_text=title)
    assert "审查方案" in item.inner_text()
    shoot(page, "todo-working-member")
    item.get_by_role("link").click()
    submit(act(page, "grant_preliminary"))
    page.wait_for_url(re.compile(r".*done=grant_preliminary"))

    # the joint meeting, recorded with more attendee rows than the form first offers
    page = crew.home("s01_shuji")
    page.goto(site.url(f"/projects/{pid}"))
    box = act(page, "record_meeting")
    box.locator('[name="held_on"]').fill(clock.today().isoformat())
    attendees = [("两委委员甲", "two_committees"), ("两委委员乙", "two_committees"), ("两委委员丙", "two_committees"),
                 ("居民代表丁", "resident_rep"), ("居民代表戊", "resident_rep")]
    while box.locator(".rows .row").count() < len(attendees):
        box.get_by_role("button", name="再加几行").click()  # the script adds a row in place
    for i, (name, capacity) in enumerate(attendees):
        box.locator(f'[name="attendees.{i}.name"]').fill(name)
        box.locator(f'[name="attendees.{i}.capacity"][value="{capacity}"]').check()
    box.locator('[name="votes_for"]').fill("5")
    box.locator('[name="votes_against"]').fill("0")
    box.locator('[name="minutes"]').fill("会议讨论了维修方案和预算,一致同意。")
    shoot(page, "project-meeting-form")
    submit(box)
    page.wait_for_url(re.compile(r".*done=record_meeting"))
    assert page.locator("h1 .badge").inner_text() == "公示中"

    page = crew.home("s01_jiandu1")
    assert page.locator(".todo li", has_text="申报环节监督签字").count() == 1
    page.goto(site.url(f"/projects/{pid}"))
    box = act(page, "signoff")
    box.get_by_label("申报").check()
    submit(box)
    page.wait_for_url(re.compile(r".*done=signoff"))
    assert "申报:郑国华" in page.locator("#h-supervision").locator("..").inner_text()

    # the notice period runs out (the timer the scheduler fires)
    drv = Driver(db, e2e_world.city, start=clock.now() + dt.timedelta(days=10))
    drv.fire(pid, "publicity_elapsed", SYSTEM)

    page = crew.home("s01_shuji")
    page.goto(site.url(f"/projects/{pid}"))
    submit(act(page, "submit"))
    page.wait_for_url(re.compile(r".*done=submit"))
    assert page.locator("h1 .badge").inner_text() == "待审批"

    # the working committee secretary approves before the board meeting: refused, with its article
    page = crew.home("gw_shuji")
    item = page.locator(".todo li", has_text=title)
    assert "审批(党工委主要领导)" in item.inner_text() and "5 个工作日" in item.inner_text()
    page.goto(site.url(f"/projects/{pid}"))
    box = act(page, "approve")
    box.locator('[name="comment"]').fill("同意实施")
    submit(box)
    refusal = page.locator("#act-approve .notice.bad")
    assert refusal.is_visible()
    assert "第十一条" in refusal.inner_text() and "班子会议" in refusal.inner_text()
    assert page.locator('#act-approve [name="comment"]').input_value() == "同意实施"  # kept
    shoot(page, "project-refused-approval")

    page = crew.home("gw_weiyuan1")
    page.goto(site.url(f"/projects/{pid}"))
    box = act(page, "record_board_meeting")
    box.locator('[name="held_on"]').fill(clock.today().isoformat())
    box.locator('[name="attendees"]').fill("王建国\n李红梅\n赵志强\n陈立新")
    box.locator('[name="minutes"]').fill("班子会议研究同意,报主要领导审批。")
    submit(box)
    page.wait_for_url(re.compile(r".*done=record_board_meeting"))

    for leader in ("gw_shuji", "jg_zhuren"):
        page = crew.home(leader)
        page.goto(site.url(f"/projects/{pid}"))
        submit(act(page, "approve"))
        page.wait_for_url(re.compile(r".*done=approve"))
    page = crew.home("s01_shuji")
    page.goto(site.url(f"/projects/{pid}"))
    assert page.locator("h1 .badge").inner_text() == "实施中"
    timeline = page.locator("#h-timeline").locator("..").inner_text()
    for step in ("审批同意", "记录班子会议", "报党工委审批", "公示期满", "监督签字", "记录联席会议", "初步同意"):
        assert step in timeline
    shoot(page, "project-in-progress")


@SQLITE_ONLY
def test_the_proposal_works_with_javascript_switched_off(browser: Any, site: Site, e2e_world: Any) -> None:
    context = browser.new_context(java_script_enabled=False, viewport={"width": 360, "height": 740},
                                  locale="zh-CN")
    page = context.new_page()
    try:
        login(page, site, "s01_shuji")
        _record_need(page, site, "无脚本的需求")
        page.goto(site.url("/needs"))
        page.locator("tr", has_text="无脚本的需求").locator('input[name="need"]').check()
        page.get_by_role("button", name="用所选需求提议项目").click()
        form = page.locator("form[action='/projects/new']")
        form.get_by_role("button", name="再加几行").click()  # posted to the server, which adds rows
        form = page.locator("form[action='/projects/new']")
        assert form.locator('[name="line_items.4.description"]').count() == 1
        assert form.locator('[name="title"]').input_value() == "无脚本的需求"
        form.locator('[name="category"]').select_option("convenience")
        form.locator('[name="amount"]').fill("12,000")
        form.locator('[name="beneficiaries_count"]').fill("80")
        form.locator('[name="description"]').first.fill("设置便民服务点。")
        form.locator('[name="line_items.3.description"]').fill("便民服务桌椅")
        form.locator('[name="line_items.3.quantity"]').fill("4")
        form.locator('[name="line_items.3.unit_price"]').fill("3000.00")
        form.locator('[name="line_items.3.catalog_item"]').select_option("A06020000")  # a catalogue item (第十二条)
        for key in DECLARE_NONE:
            form.locator(f'[name="forbidden_use_declaration.{key}"][value="no"]').check()
        form.get_by_role("button", name="保存项目方案").click()
        # refused: the amount is written with a comma; the message is Chinese, the input kept
        assert page.get_by_text("金额格式不正确").first.is_visible()
        form = page.locator("form[action='/projects/new']")
        assert form.locator('[name="line_items.3.description"]').input_value() == "便民服务桌椅"
        form.locator('[name="amount"]').fill("12000.00")
        form.get_by_role("button", name="保存项目方案").click()
        page.wait_for_url(re.compile(r".*/projects/\d+\?done=create"))
        assert page.get_by_role("cell", name="便民服务桌椅").is_visible()
        details = page.locator("#act-submit_preliminary")
        details.locator("summary").click()  # <details> opens without script
        details.locator("button[type=submit]").click()
        page.wait_for_url(re.compile(r".*done=submit_preliminary"))
        assert page.locator("h1 .badge").inner_text() == "待党工委初步同意"
    finally:
        context.close()
