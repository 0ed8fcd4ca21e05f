"""Issue 9's acceptance in a real browser, only by clicking and typing, as the demo accounts:

- one project from a resident's online need (居民点单) to closed: proposed from the need, a divided joint
  meeting shelves it and it is resumed, a resident objects on the public board and the committee answers
  (a supervisor confirms the answer), the notice period runs out (the test moves the business clock and
  runs the scheduler's sweep, as the service does every 30 s), both leaders approve after a board
  meeting, the follow-up, acceptance, an invoice signed by the three signers in the regulation's order
  (a signer out of turn is refused with the rule's Chinese message and its article) and paid, a
  no-invoice voucher with its evidence paid and noticed afterwards, the completion notice and the
  supervisor's write-off; the resident's receipt follows it all;
- one fund year from open to closed: the annual report, the disclosure with the evaluation alongside,
  the carry-over by the finance officer.

Every page reached is photographed at 1366 px and 360 px (no sideways scrolling on a phone, every form
control labelled, no stack trace); every public page is scanned for unmasked personal data.
"""
from __future__ import annotations

import re
from typing import Any

from tests.api.conftest import on
from tests.e2e.conftest import SQLITE_ONLY, Crew, Site, act, assert_no_leaks, fill_proposal, shoot, submit
from tests.e2e.test_public_flows import _post_need
from workflow import clock
from workflow.demo import Driver

TITLE = "5号楼2单元楼道灯不亮"
CONTRACTOR = "刘建军"  # an individual electrician: invoices for the materials, a voucher for his labour
RESIDENT, RESIDENT_PHONE = "赵淑华", "13812345678"
OBJECTOR, OBJECTOR_PHONE = "王建华", "13912345678"


def _public_shot(page: Any, db: Any, name: str) -> None:
    shoot(page, name)
    assert_no_leaks(page, db, RESIDENT, OBJECTOR, RESIDENT_PHONE, OBJECTOR_PHONE)


def _badge(page: Any) -> str:
    return str(page.locator("h1 .badge").inner_text())


def _fire(page: Any, trigger: str, fill: Any = None) -> Any:
    """Open the event's form on the record page, fill it, submit, wait for the page that says it is done."""
    box = act(page, trigger)
    if fill is not None:
        fill(box)
    with page.expect_navigation():
        submit(box)
    if f"done={trigger}" not in page.url:
        refusal = page.locator(f"#act-{trigger} .notice.bad, #act-{trigger} .error")
        shown = refusal.all_inner_texts() if refusal.count() else page.locator("main").inner_text()[:500]
        raise AssertionError(f"{trigger} was not done at {page.url}: {shown}")
    return page


def _choose(box: Any, name: str, text: str) -> None:
    """Select the option of ``name`` whose text contains ``text``."""
    select = box.locator(f'[name="{name}"]')
    label = select.locator("option", has_text=text).first.inner_text()
    select.select_option(label=label)


def _meeting(box: Any, votes: tuple[int, int, int], minutes: str) -> None:
    attendees = [("刘玉梅", "two_committees"), ("陈志明", "two_committees"), ("赵玉华", "two_committees"),
                 ("居民代表孙", "resident_rep"), ("居民代表周", "resident_rep")]
    box.locator('[name="held_on"]').fill(clock.today().isoformat())
    while box.locator(".rows .row").count() < len(attendees):
        box.get_by_role("button", name="再加几行").click()
    for i, (name, capacity) in enumerate(attendees):
        box.locator(f'[name="attendees.{i}.name"]').fill(name)
        box.locator(f'[name="attendees.{i}.capacity"][value="{capacity}"]').check()
    for field, n in zip(("votes_for", "votes_against", "votes_abstain"), votes, strict=True):
        box.locator(f'[name="{field}"]').fill(str(n))
    box.locator('[name="minutes"]').fill(minutes)


def _propose_from_need(page: Any, site: Site) -> int:
    page.goto(site.url("/needs"))
    row = page.locator("tr", has_text=TITLE)
    assert "居民点单" in row.inner_text() and "线上平台" in row.inner_text()
    shoot(page, "flow-needs")
    row.locator('input[name="need"]').check()
    page.get_by_role("button", name="用所选需求提议项目").click()
    page.wait_for_url(re.compile(r".*/projects/new\?need=\d+"))
    form = page.locator("form[action='/projects/new']")
    assert form.locator('[name="title"]').input_value() == TITLE
    form.locator('[name="description"]').first.fill("5号楼2单元12层楼道灯全部更换为声光控LED灯,并检修线路。")
    # a mistake first: the amount written with a thousands separator is refused in Chinese, the input kept
    fill_proposal(form, amount="9,000", contractor=CONTRACTOR, individual=True, start="2026-04-01", end="2026-06-30",
                  items=[("声光控LED楼道灯", "20", "300.00"), ("线路检修及安装人工", "1", "3000.00")])
    form.get_by_role("button", name="保存项目方案").click()
    assert page.get_by_text("金额格式不正确").first.is_visible()
    form = page.locator("form[action='/projects/new']")
    assert form.locator('[name="contractor_name"]').input_value() == CONTRACTOR
    assert form.locator('[name="line_items.1.description"]').input_value() == "线路检修及安装人工"
    shoot(page, "flow-project-new-refused")
    form.locator('[name="amount"]').fill("9000.00")
    form.get_by_role("button", name="保存项目方案").click()
    page.wait_for_url(re.compile(r".*/projects/\d+\?done=create"))
    return int(re.search(r"/projects/(\d+)", page.url).group(1))  # type: ignore[union-attr]


@SQLITE_ONLY  # the longest browser test: once (its clicks up to approval run on PostgreSQL in test_staff_flows)
def test_a_project_from_a_residents_online_need_to_closed(crew: Crew, site: Site, e2e_world: Any, db: Any,
                                                          e2e_clock: Any) -> None:
    resident = crew.public
    resident.goto(site.url("/gongshi"))
    _public_shot(resident, db, "flow-gongshi")
    code = _post_need(resident, site, TITLE)
    _public_shot(resident, db, "flow-need-receipt")

    # the community secretary proposes a project from it (a first try refused, the input kept)
    sec = crew("s01_shuji")
    pid = _propose_from_need(sec, site)
    project = site.url(f"/projects/{pid}")
    assert TITLE in sec.locator("#h-needs").locator("..").inner_text()
    shoot(sec, "flow-project-draft")
    _fire(sec, "submit_preliminary")
    assert _badge(sec) == "待党工委初步同意"

    # the working committee member consents from the to-do page
    member = crew("gw_weiyuan1")
    member.reload()
    member.locator(".todo li", has_text=TITLE).get_by_role("link").first.click()
    shoot(member, "flow-project-preliminary")
    _fire(member, "grant_preliminary")
    assert _badge(member) == "待联席会议讨论"

    # the joint meeting is divided: the project is shelved, then resumed and passed
    e2e_clock.advance(days=1)
    sec.goto(project)
    _fire(sec, "record_meeting", lambda box: _meeting(box, (3, 1, 1), "部分代表认为应先排查线路,意见分歧较大。"))
    assert _badge(sec) == "暂时搁置"
    shoot(sec, "flow-project-shelved")
    _fire(sec, "resume", lambda box: box.locator('[name="reason"]').fill("已请电工排查线路,补充了检修方案。"))
    assert _badge(sec) == "待联席会议讨论"
    e2e_clock.advance(days=1)
    _fire(sec, "record_meeting", lambda box: _meeting(box, (5, 0, 0), "补充检修方案后,与会人员一致同意。"))
    assert _badge(sec) == "公示中"

    # a resident objects on the board; the secretary answers; a supervisor confirms the answer
    resident.goto(site.url("/gongshi"))
    resident.get_by_role("link", name=f"项目公示:{TITLE}").click()
    resident.wait_for_url(re.compile(r".*/gongshi/notice/\d+"))
    _public_shot(resident, db, "flow-notice")
    resident.get_by_label("您的称呼").fill(OBJECTOR)
    resident.get_by_label("联系电话").fill(OBJECTOR_PHONE)
    resident.get_by_label("您的意见").fill("希望施工安排在白天,晚上会影响老人休息。")
    with resident.expect_navigation():
        resident.get_by_role("button", name="提交意见").click()
    _public_shot(resident, db, "flow-objection-posted")
    sec.goto(project)

    def answer(box: Any) -> None:
        box.get_by_label("群众意见").select_option(index=1)
        box.get_by_label("答复内容").fill("施工安排在每天9:00至17:00,不影响居民夜间休息。")
    _fire(sec, "answer_objection", answer)
    supervisor = crew("s01_jiandu1")
    supervisor.goto(project)
    _fire(supervisor, "confirm_answer", lambda box: box.get_by_label("群众意见").select_option(index=1))
    _fire(supervisor, "signoff", lambda box: box.get_by_label("申报").check())
    shoot(supervisor, "flow-project-publicity")

    # the notice period runs out: the scheduler's sweep fires the timer
    e2e_clock.advance(days=10)
    result = e2e_clock.sweep(db)
    assert result.fired >= 1
    sec.goto(project)
    assert _badge(sec) == "待报批"
    _fire(sec, "submit")
    assert _badge(sec) == "待审批"

    member.goto(project)
    def board(box: Any) -> None:
        box.locator('[name="held_on"]').fill(clock.today().isoformat())
        box.locator('[name="attendees"]').fill("王建国\n李红梅\n赵志强\n陈立新")
        box.locator('[name="minutes"]').fill("班子会议研究同意,报主要领导审批。")
    _fire(member, "record_board_meeting", board)
    for leader in ("gw_shuji", "jg_zhuren"):
        pg = crew(leader)
        pg.goto(project)
        _fire(pg, "approve")
    sec.goto(project)
    assert _badge(sec) == "实施中"
    shoot(sec, "flow-project-in-progress")

    # works: the follow-up, the completion report, the acceptance
    e2e_clock.advance(days=30)
    member.goto(project)
    def followup(box: Any) -> None:
        box.locator('[name="visited_on"]').fill(clock.today().isoformat())
        box.locator('[name="notes"]').fill("现场查看:灯具已到货,正在更换,施工安排在白天。")
    _fire(member, "record_followup", followup)
    e2e_clock.advance(days=20)
    sec.goto(project)
    _fire(sec, "report_completion", lambda box: box.locator('[name="summary"]').fill("20盏声光控LED灯已全部更换。"))
    assert _badge(sec) == "待综合验收"
    supervisor.goto(project)
    _fire(supervisor, "signoff", lambda box: box.get_by_label("验收").check())
    member.goto(project)

    def acceptance(box: Any) -> None:
        box.locator('[name="quality"]').fill("灯具安装牢固,声控灵敏,质量合格。")
        box.locator('[name="satisfaction"]').fill("96")
        box.get_by_label(re.compile("社区党工委委员")).first.check()
        box.get_by_label(re.compile("社区议事监督委员会")).first.check()
    _fire(member, "accept", acceptance)
    assert _badge(member) == "待结算"

    # the invoice: added by finance, signed in the regulation's order (out of turn refused), paid
    finance = crew("caiwu")
    finance.goto(project)

    def invoice(box: Any) -> None:
        box.locator('[name="kind"][value="invoice"]').check()
        box.locator('[name="amount"]').fill("6000.00")
        box.locator('[name="payee"]').fill(CONTRACTOR)
        box.locator('[name="invoice_no"]').fill("INV2026040001")
    _fire(finance, "add_payment_item", invoice)
    director = crew("jg_zhuren")
    director.goto(project)
    box = act(director, "sign_invoice")
    box.locator('[name="payment_item_id"]').select_option(index=1)
    submit(box)
    refusal = director.locator("#act-sign_invoice .notice.bad")
    assert "下一位应由社区党委书记签字" in refusal.inner_text() and "第十三条" in refusal.inner_text()
    shoot(director, "flow-project-sign-refused")
    for signer in ("s01_shuji", "jg_zhuren", "gw_shuji"):
        pg = crew(signer)
        pg.goto(project)
        _fire(pg, "sign_invoice", lambda box: box.locator('[name="payment_item_id"]').select_option(index=1))
    finance.goto(project)
    shoot(finance, "flow-project-invoice-signed")
    _fire(finance, "pay", lambda box: box.locator('[name="payment_item_id"]').select_option(index=1))

    # the voucher for the electrician's labour: its evidence before payment, the notice after
    def voucher(box: Any) -> None:
        box.locator('[name="kind"][value="voucher"]').check()
        box.locator('[name="amount"]').fill("3000.00")
        box.locator('[name="payee"]').fill(CONTRACTOR)
    _fire(finance, "add_payment_item", voucher)
    evidence = {"meeting_decision": "联席会议决定人工费按收款人签字结算。",
                "inprocess_proof": "施工期间社区工作人员现场签字证明。", "payee_signature": "刘建军签字确认收到人工费。"}
    sec.goto(project)
    for kind, note in evidence.items():
        def record(box: Any, kind: str = kind, note: str = note) -> None:
            _choose(box, "payment_item_id", "无发票")
            box.locator(f'[name="kind"][value="{kind}"]').check()
            box.locator('[name="note"]').fill(note)
        _fire(sec, "record_voucher_evidence", record)
    finance.goto(project)
    _fire(finance, "pay", lambda box: box.locator('[name="payment_item_id"]').select_option(index=1))

    def notice(box: Any) -> None:
        _choose(box, "payment_item_id", "无发票")
        box.locator('[name="kind"][value="post_notice"]').check()
        box.locator('[name="note"]').fill("人工费支出已在社区公示栏公示。")
    sec.goto(project)
    _fire(sec, "record_voucher_evidence", notice)
    shoot(sec, "flow-project-paid")
    resident.goto(site.url("/gongshi"))
    resident.get_by_role("link", name=re.compile(f"无发票支出公示:{TITLE}")).click()
    resident.wait_for_url(re.compile(r".*/gongshi/notice/\d+"))
    assert "3000.00" in resident.locator("main").inner_text() or "3,000.00" in resident.locator("main").inner_text()
    _public_shot(resident, db, "flow-voucher-notice")

    finance.goto(project)
    _fire(finance, "close_settlement")
    assert _badge(finance) == "建成公示中"
    supervisor2 = crew("s01_jiandu2")
    supervisor2.goto(project)
    _fire(supervisor2, "signoff", lambda box: box.get_by_label("核销").check())
    e2e_clock.advance(days=12)
    assert e2e_clock.sweep(db).fired >= 1
    sec.goto(project)
    assert _badge(sec) == "已办结"
    timeline = sec.locator("#h-timeline").locator("..").inner_text()
    for step in ("恢复商议", "答复异议", "确认答复", "发票签字", "支付", "登记无发票凭证材料", "建成公示期满"):
        assert step in timeline, step
    shoot(sec, "flow-project-closed")

    # the resident follows the receipt to the closed project's timeline
    resident.goto(site.url(f"/gongshi/huizhi/{code}"))
    body = resident.locator("main").inner_text()
    assert "已办结" in body
    _public_shot(resident, db, "flow-need-receipt-closed")
    resident.get_by_role("link", name=TITLE).click()
    resident.wait_for_url(re.compile(r".*/gongshi/project/.+"))
    assert "已办结" in resident.locator("main").inner_text()
    _public_shot(resident, db, "flow-public-project")


def test_a_fund_year_from_open_to_closed(crew: Crew, site: Site, e2e_world: Any, db: Any, e2e_clock: Any) -> None:
    drv = Driver(db, e2e_world.city, start=e2e_clock.at)
    drv.new_project("closed", title="老年活动室空调更换")  # the year's work, done before the year's steps
    c0 = e2e_world.c0
    year = site.url(f"/fund-years/{c0}/2026")

    # late November: the community secretary reports the year (Art. 16)
    e2e_clock.set(on("2026-11-24", 9))
    sec = crew("s01_shuji")
    sec.goto(site.url("/fund-years"))
    shoot(sec, "flow-fund-years")
    sec.get_by_role("link", name=re.compile("幸福社区")).first.click()
    sec.wait_for_url(re.compile(r".*/fund-years/\d+/2026"))
    assert _badge(sec) == "执行中"
    shoot(sec, "flow-fund-year-open")

    def report(box: Any) -> None:
        box.locator('[name="summary"]').fill("全年通过三个渠道收集需求,实施老年活动室空调更换项目,经费专款专用。")
        box.locator('[name="service_effect"]').fill("活动室夏季可正常使用,老人满意。")
    _fire(sec, "submit_report", report)
    assert _badge(sec) == "已报告"

    # the working committee's secretary evaluates it from the to-do page
    wsec = crew("gw_shuji")
    wsec.reload()
    wsec.locator(".todo li", has_text="考核评议").get_by_role("link").first.click()

    def evaluate(box: Any) -> None:
        box.locator('[name="rating"][value="good"]').check()
        box.locator('[name="comment"]').fill("程序规范,台账清楚。")
    _fire(wsec, "evaluate", evaluate)
    assert "良好" in wsec.locator("#h-report").locator("..").inner_text()

    # early December: the disclosure starts; residents read it on the board
    e2e_clock.set(on("2026-12-07", 9))
    sec.goto(year)
    _fire(sec, "start_disclosure")
    assert _badge(sec) == "年度公示中"
    resident = crew.public
    resident.goto(site.url("/gongshi"))
    resident.get_by_role("link", name="幸福社区 2026 年度专项经费使用情况").click()
    resident.wait_for_url(re.compile(r".*/gongshi/disclosure/\d+/2026"))
    assert "老年活动室空调更换" in resident.locator("main").inner_text()
    _public_shot(resident, db, "flow-gongshi-disclosure")

    # the disclosure period runs out (the sweep); closing before the year has ended is refused
    e2e_clock.set(on("2026-12-16", 9))
    assert e2e_clock.sweep(db).fired >= 1
    finance = crew("caiwu")
    finance.goto(year)
    assert _badge(finance) == "已公示"
    box = act(finance, "close_year")
    with finance.expect_navigation():
        submit(box)
    refusal = finance.locator("#act-close_year .notice.bad").inner_text()
    assert "2026 年度尚未结束,不能结转" in refusal and "第十三条" in refusal
    shoot(finance, "flow-fund-year-refused")

    # in the new year the finance officer carries the balance over
    e2e_clock.set(on("2027-01-04", 9))
    finance.goto(year)
    _fire(finance, "close_year")
    assert _badge(finance) == "已结转"
    assert "结余转下年" in finance.locator(".figures").inner_text()
    shoot(finance, "flow-fund-year-closed")
