"""The residents' flows in a real browser, without an account: a resident posts a need on the board and follows
its receipt while the committee answers it; a resident objects to a running notice (scanned from its QR code)
and reads the committee's answer (and accepts it where objection receipts are on); every public page
photographed at 1366 px and 360 px without sideways scrolling; the need form with JavaScript switched off."""
from __future__ import annotations

import datetime as dt
import re
from typing import Any

from tests.e2e.conftest import Site, login, logout, shoot
from workflow import clock
from workflow.demo import Driver


def _post_need(page: Any, site: Site, title: str) -> str:
    page.goto(site.url("/gongshi"))
    page.get_by_role("link", name="居民点单:我有需求").click()
    page.get_by_label("所在社区").select_option(label="幸福社区(城东大社区)")
    page.get_by_label("您的需求").fill(title)
    page.get_by_label("具体情况").fill("晚上上下楼看不清,老人摔过跤。")
    page.get_by_label("您的称呼").fill("赵淑华")
    page.get_by_label("联系电话").fill("13812345678")
    page.get_by_role("button", name="提交需求").click()
    page.wait_for_url(re.compile(r".*/gongshi/huizhi/[0-9A-Z]{10}\?new=1"))
    return str(page.locator(".receipt-code").inner_text()).strip()


def test_a_resident_posts_a_need_and_follows_the_receipt(page: Any, site: Site, e2e_world: Any) -> None:
    page.goto(site.url("/gongshi/need"))
    shoot(page, "gongshi-need-form")
    code = _post_need(page, site, "5号楼2单元楼道灯不亮")
    body = page.locator("main").inner_text()
    assert "已收到,谢谢您" in body and "已收到,待社区答复" in body and "赵**" in body
    assert "赵淑华" not in page.content() and "13812345678" not in page.content()
    shoot(page, "gongshi-receipt-new")
    # the committee answers it
    login(page, site, "s01_gongzuo")
    page.goto(site.url("/needs"))
    page.get_by_role("link", name="5号楼2单元楼道灯不亮").click()
    assert "13812345678" in page.locator("main").inner_text()  # the committee may call back
    page.get_by_label("答复").fill("已纳入本季度项目计划,联席会议通过并公示后实施,预计6月前完工。")
    page.get_by_role("button", name="答复").click()
    page.wait_for_url(re.compile(r".*/needs/\d+\?answered=1"))
    logout(page)
    # the resident looks the receipt up by typing the code
    page.goto(site.url("/gongshi"))
    page.get_by_role("link", name="凭回执码查询").click()
    page.get_by_label("回执码").fill(code.lower())
    page.get_by_role("button", name="查询").click()
    page.wait_for_url(re.compile(rf".*/gongshi/huizhi/{code}$"))
    body = page.locator("main").inner_text()
    assert "社区已答复" in body and "预计6月前完工" in body
    shoot(page, "gongshi-receipt-answered")


def test_a_resident_objects_to_a_running_notice_and_reads_the_answer(page: Any, site: Site, e2e_world: Any,
                                                                     db: Any) -> None:
    drv = Driver(db, e2e_world.city, start=clock.now() - dt.timedelta(days=1))
    drv.new_project("publicity", title="楼道照明改造", description="12个单元的楼道灯改为声光控LED灯。")
    page.goto(site.url("/gongshi"))
    shoot(page, "gongshi-board")
    page.get_by_role("link", name="项目公示:楼道照明改造").click()
    assert page.locator(".qr svg").count() == 1
    shoot(page, "gongshi-notice")
    page.get_by_label("您的称呼").fill("王建华")
    page.get_by_label("联系电话").fill("13912345678")
    page.get_by_label("您的意见").fill("建议先改造5号楼2单元,那里楼道最暗。")
    page.get_by_role("button", name="提交意见").click()
    page.wait_for_load_state()
    receipt = "/gongshi/huizhi/" in page.url
    if receipt:
        code = str(page.locator(".receipt-code").inner_text()).strip()
    # the secretary answers on the project page
    login(page, site, "s01_shuji")
    page.goto(site.url("/projects"))
    page.get_by_role("link", name=re.compile("楼道照明改造")).first.click()
    box = page.locator("#act-answer_objection")
    box.locator("summary").click()
    box.get_by_label("群众意见").select_option(index=1)
    box.get_by_label("答复内容").fill("感谢建议,施工将从5号楼2单元开始。")
    resolved = box.get_by_label("意见已解决")
    if resolved.count():
        resolved.check()
    box.locator("button[type=submit]:not([name])").click()
    page.wait_for_load_state()
    assert "未能办理" not in page.locator("main").inner_text()
    logout(page)
    if receipt:
        page.goto(site.url(f"/gongshi/huizhi/{code}"))
        accept = page.get_by_role("button", name="我接受答复")
        if accept.count():
            accept.click()
            page.wait_for_url(re.compile(r".*accepted=1"))
            assert "您已接受答复" in page.locator("main").inner_text()
        shoot(page, "gongshi-objection-receipt")
    page.goto(site.url("/gongshi"))
    page.get_by_role("link", name="项目公示:楼道照明改造").click()
    body = page.locator("main").inner_text()
    assert "施工将从5号楼2单元开始" in body and "王**" in body and "王建华" not in body
    page.get_by_role("link", name="查看该项目的执行进度 →").click()
    body = page.locator("main").inner_text()
    assert "项目公示" in body and "进行中" in body
    shoot(page, "gongshi-project")


def test_the_need_form_works_with_javascript_switched_off(browser: Any, site: Site, e2e_world: Any) -> None:
    context = browser.new_context(java_script_enabled=False, viewport={"width": 360, "height": 740}, locale="zh-CN")
    page = context.new_page()
    try:
        code = _post_need(page, site, "小区健身器材坏了")
        assert len(code) == 10 and "已收到,待社区答复" in page.locator("main").inner_text()
    finally:
        context.close()
