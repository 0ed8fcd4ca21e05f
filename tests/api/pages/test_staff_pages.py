"""The staff pages in-process, per page and role: what a user would notice on each, what the forms do,
and access refused to the wrong roles."""
from __future__ import annotations

import re
from typing import Any

from tests.api.conftest import Clock, World
from tests.api.pages.conftest import Pages, text_of
from workflow.demo import Driver

FORBIDDEN_NO = {f"forbidden_use_declaration.{k}": "no" for k in
                ("office", "worker_pay", "government_service", "city_funded", "property_company")}


def _proposal(community: int, **over: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "community_id": community, "year": 2026, "title": "3号楼楼道照明改造", "description": "更换损坏的楼道灯。",
        "category": "property", "amount": "12000.00", "beneficiaries_count": "300", "beneficiaries_desc": "3号楼居民",
        "contractor_name": "xx市照明工程有限公司", "contractor_kind": "organisation", "planned_start": "2026-03-10",
        "planned_end": "2026-06-30", "line_items.0.description": "LED 楼道灯", "line_items.0.quantity": "40",
        "line_items.0.unit_price": "300.00", "line_items.0.catalog_item": "C23120000",
        "line_items.1.description": "", "line_items.1.quantity": "", "line_items.1.unit_price": "", **FORBIDDEN_NO}
    data.update(over)
    return data


def _location(r: Any) -> str:
    assert r.status_code == 303, f"{r.status_code}: {text_of(r.text)[:400]}"
    return str(r.headers["location"])


# ------------------------------------------------------------------------------------------- needs


def test_staff_record_needs_by_channel_and_make_a_project_of_them(pages: Pages, world: World) -> None:
    r = pages.post("staff", "/needs", {"community_id": world.c0, "title": "小区路灯不亮", "description": "晚上出行不便",
                                       "channel": "hall", "residents_count": "25"})
    assert _location(r).startswith("/needs?done=")
    listing = text_of(pages.get("staff", "/needs").text)
    assert "小区路灯不亮" in listing and "服务大厅" in listing and "尚未形成项目" in listing
    need = int(re.search(r"done=(\d+)", r.headers["location"]).group(1))  # type: ignore[union-attr]
    # the proposal starts from the chosen need
    form = pages.get("secretary", f"/projects/new?need={need}").text
    assert 'value="小区路灯不亮"' in form and f'name="need_ids" value="{need}" checked' in form
    r = pages.post("secretary", "/projects/new", {**_proposal(world.c0), "need_ids": str(need)})
    pid = int(_location(r).split("/")[2].split("?")[0])
    page = text_of(pages.get("secretary", f"/projects/{pid}?done=create").text)
    assert "已办理:提议项目" in page and "拟提议" in page
    assert f"#{need} 小区路灯不亮" in page and "服务大厅" in page  # the project shows the needs it answers
    assert "LED 楼道灯" in page and "12,000.00" in page
    listing = text_of(pages.get("staff", "/needs").text)
    assert "S01-2026-001" in listing and "尚未形成项目" not in listing


def test_a_need_form_with_errors_says_so_in_chinese_and_keeps_the_input(pages: Pages, world: World) -> None:
    r = pages.post("staff", "/needs", {"community_id": world.c0, "title": "", "description": "三楼漏水",
                                       "channel": "platform", "residents_count": "很多"})
    assert r.status_code == 422
    html = r.text
    assert "填写的内容有误" in html and "须为整数" in html and 'id="f-title-error"' in html
    assert "三楼漏水" in html and 'value="platform" checked' in html and 'value="很多"' in html


def test_only_community_posts_record_needs_and_only_insiders_read_them(pages: Pages, world: World) -> None:
    pages.post("staff", "/needs", {"community_id": world.c0, "title": "幸福社区的需求", "channel": "visit",
                                   "residents_count": "3"})
    assert "登记群众需求" not in pages.get("supervisor", "/needs").text  # no form for a supervisor
    assert "幸福社区的需求" in pages.get("supervisor", "/needs").text
    assert "幸福社区的需求" not in pages.get("other_community", "/needs").text
    r = pages.post("supervisor", "/needs", {"community_id": world.c0, "title": "监督员登记", "channel": "visit",
                                            "residents_count": "1"})
    assert r.status_code == 403 and "第九条" in r.text


def test_a_refused_proposal_shows_the_rule_and_its_article_and_keeps_the_input(pages: Pages, world: World) -> None:
    need = pages.post("staff", "/needs", {"community_id": world.c0, "title": "活动室太热", "channel": "visit",
                                          "residents_count": "30"}).headers["location"].split("=")[1]
    r = pages.post("secretary", "/projects/new", _proposal(world.c0))
    assert r.status_code == 422 and "一事一议" in r.text and "第九条" in r.text  # no need: no project
    bad = pages.post("secretary", "/projects/new", _proposal(world.c0, amount="12,000", need_ids=need,
                                                             title="活动室空调"))
    assert bad.status_code == 422 and "金额格式不正确" in bad.text and 'value="12,000"' in bad.text
    assert 'value="活动室空调"' in bad.text and f'name="need_ids" value="{need}" checked' in bad.text
    # a plan that declares a forbidden use may be kept as a draft; it cannot go to the working committee
    data = _proposal(world.c0, **{"forbidden_use_declaration.office": "yes", "title": "活动室空调", "need_ids": need})
    pid = int(_location(pages.post("secretary", "/projects/new", data)).split("/")[2].split("?")[0])
    r = pages.post("secretary", f"/projects/{pid}/events/submit_preliminary", {"reason": "请审查"})
    assert r.status_code == 409
    page = text_of(r.text)
    assert "专项经费不得用于社区办公开支" in page and "第四条" in page and ">请审查</textarea>" in r.text


def test_more_rows_without_javascript(pages: Pages, world: World) -> None:
    r = pages.post("secretary", "/projects/new", {**_proposal(world.c0), "_more_rows": "line_items"})
    assert r.status_code == 200
    assert 'name="line_items.4.description"' in r.text and 'value="LED 楼道灯"' in r.text


# ---------------------------------------------------------------------------------------- projects


def test_the_project_page(pages: Pages, world: World, drv: Driver, clock_at: Clock) -> None:
    pid = drv.new_project("publicity", beneficiaries=20, amount="30000.00", title="困难老人助餐")
    html = pages.get("secretary", f"/projects/{pid}").text
    page = text_of(html)
    assert "困难老人助餐" in page and "公示中" in page and "30,000.00" in page
    # the rules now: this small-group project's share against the 20% line (40,000 of 200,000)
    assert "低于 50 人的门槛" in page and "上限 20%:40000.00 元" in html and "本项目 30000.00 元" in html
    # deadlines with working days left, and the timeline with who and which post
    assert "项目公示期" in page and "3 个工作日" in page
    assert re.search(r"剩 \d 个工作日|今日届满", page)
    assert "记录联席会议" in page and "刘玉梅(社区党委书记)" in page and "李红梅(社区党工委委员)" in page
    assert "联席会议纪要" in page and "项目公示" in page  # archived documents
    assert 'aria-label="流程图,当前状态:公示中"' in html and "#fde2df" in html  # the current state highlighted
    assert "答复异议" not in page  # nothing to answer yet: no form without an object
    for who in ("supervisor", "member", "wsec", "finance", "admin"):
        assert pages.get(who, f"/projects/{pid}").status_code == 200
    for who in ("other_community", "other_area_community", "other_area_wsec"):
        assert pages.get(who, f"/projects/{pid}").status_code == 403


def test_events_fired_from_their_forms(pages: Pages, world: World, drv: Driver, clock_at: Clock) -> None:
    pid = drv.new_project("joint_meeting")
    html = pages.get("secretary", f"/projects/{pid}").text
    assert 'name="attendees.0.name"' in html and "记录联席会议" in html
    meeting = {"held_on": "2026-03-02", "votes_for": "3", "votes_against": "0", "votes_abstain": "0",
               "minutes": "会议讨论了项目必要性。", "_version": re.search(r'name="_version" value="(\d+)"', html).group(1)}  # type: ignore[union-attr]
    for i, (name, cap) in enumerate([("两委委员甲", "two_committees"), ("两委委员乙", "two_committees"),
                                     ("居民代表丙", "resident_rep")]):
        meeting.update({f"attendees.{i}.name": name, f"attendees.{i}.capacity": cap})
    r = pages.post("secretary", f"/projects/{pid}/events/record_meeting", meeting)
    assert _location(r) == f"/projects/{pid}?done=record_meeting"
    assert drv.state(pid) == "publicity"
    page = text_of(pages.get("secretary", _location(r)).text)
    assert "已办理:记录联席会议" in page and "赞成:3" in page
    # the supervisor signs the declaration off from its form
    r = pages.post("supervisor", f"/projects/{pid}/events/signoff", {"stage": "declaration", "comment": "程序合规"})
    assert _location(r)
    assert "申报:郑国华" in text_of(pages.get("secretary", f"/projects/{pid}").text)


def test_a_refused_event_shows_its_article_and_keeps_what_was_typed(pages: Pages, world: World, drv: Driver,
                                                                    clock_at: Clock) -> None:
    pid = drv.new_project("shelved")
    r = pages.post("secretary", f"/projects/{pid}/events/resume", {"reason": "x"})
    assert r.status_code == 409
    page = text_of(r.text)
    assert "未能办理" in page and "此操作须填写理由" in page and "第十条" in page
    assert '<details class="action" id="act-resume" open>' in r.text and ">x</textarea>" in r.text
    assert drv.state(pid) == "shelved"
    r = pages.post("secretary", f"/projects/{pid}/events/resume", {"reason": "分歧已经沟通一致"})
    assert _location(r) and drv.state(pid) == "joint_meeting"
    # an open supervision concern holds the next step (Art. 14): the meeting form says so, keeps the votes
    assert _location(pages.post("supervisor", f"/projects/{pid}/events/raise_concern", {"text": "预算依据不足"}))
    meeting = {"held_on": "2026-03-05", "votes_for": "3", "votes_against": "0", "minutes": "再次讨论。",
               "attendees.0.name": "两委委员甲", "attendees.0.capacity": "two_committees",
               "attendees.1.name": "两委委员乙", "attendees.1.capacity": "two_committees",
               "attendees.2.name": "居民代表丙", "attendees.2.capacity": "resident_rep"}
    r = pages.post("secretary", f"/projects/{pid}/events/record_meeting", meeting)
    assert r.status_code == 409 and "第十四条" in text_of(r.text)
    assert 'value="居民代表丙"' in r.text and ">再次讨论。</textarea>" in r.text
    assert drv.state(pid) == "joint_meeting"


def test_a_stale_form_is_refused_with_a_chinese_message(pages: Pages, world: World, drv: Driver) -> None:
    pid = drv.propose()
    r = pages.post("secretary", f"/projects/{pid}/events/submit_preliminary", {"_version": "0"})
    assert r.status_code == 412 and "记录已被他人修改" in r.text
    assert drv.state(pid) == "draft"


def test_the_project_list_filters(pages: Pages, world: World, drv: Driver) -> None:
    drv.new_project("draft", title="甲项目")
    drv.new_project("preliminary_review", title="乙项目")
    drv.new_project("draft", community=1, title="丙项目")
    page = text_of(pages.get("secretary", "/projects").text)
    assert "甲项目" in page and "乙项目" in page and "丙项目" not in page
    page = text_of(pages.get("wsec", "/projects?state=draft").text)
    assert "甲项目" in page and "丙项目" in page and "乙项目" not in page


# -------------------------------------------------------------------------------------------- to-do


def test_the_todo_page_names_what_each_post_must_do(pages: Pages, world: World, drv: Driver,
                                                    clock_at: Clock) -> None:
    draft = drv.new_project("draft", title="草稿项目")
    review = drv.new_project("preliminary_review", title="待初审项目")
    pending = drv.new_project("pending_approval", title="待审批项目")
    clock_at.set(drv.now)
    sec = text_of(pages.get("secretary", "/").text)
    assert "幸福社区 · 社区党委书记" in sec and "完善项目方案后报党工委初步同意" in sec and "草稿项目" in sec
    member = text_of(pages.get("member", "/").text)
    assert "审查方案:初步同意或退回修改" in member and "待初审项目" in member
    assert "召开党工委班子会议研究并记录" in member and "待审批项目" in member
    wsec = text_of(pages.get("wsec", "/").text)
    assert "审批(党工委主要领导)" in wsec and "须在接到申请审批表后 5 个工作日内" in wsec
    assert re.search(r"剩 [1-5] 个工作日", wsec)
    # a week later the approval is overdue: shown in red
    clock_at.advance(days=9)
    html = pages.get("wsec", "/").text
    assert 'class="is-overdue"' in html and "已逾期" in html
    assert "草稿项目" not in text_of(pages.get("other_community", "/").text)
    assert draft and review and pending


def test_the_todo_page_of_supervisors_and_finance(pages: Pages, world: World, drv: Driver) -> None:
    pid = drv.new_project("settlement")
    sup = text_of(pages.get("supervisor", "/").text)
    assert "全程记录" in sup
    c = drv.community_of(pid)
    item = drv.fire(pid, "add_payment_item", drv.a("finance"), {"kind": "invoice", "amount": "12000.00",
                                                                "payee": "xx市照明工程有限公司",
                                                                "invoice_no": "INV9"}).data["payment_item_id"]
    assert "发票签字(第 1 签,共 3 签)" in text_of(pages.get("secretary", "/").text)
    assert "发票签字" not in text_of(pages.get("director", "/").text)
    drv.fire(pid, "sign_invoice", drv.a("secretary", c), {"payment_item_id": item})
    assert "发票签字(第 2 签,共 3 签)" in text_of(pages.get("director", "/").text)
    drv.fire(pid, "sign_invoice", drv.a("director"), {"payment_item_id": item})
    drv.fire(pid, "sign_invoice", drv.a("working_secretary"), {"payment_item_id": item})
    fin = text_of(pages.get("finance", "/").text)
    assert "支付发票款项" in fin and "三人已依次签字" in fin
    page = pages.get("finance", f"/projects/{pid}").text
    assert "支付" in page and 'name="idempotency_key"' in page


# -------------------------------------------------------------------------------------- fund years


def test_the_fund_year_page_and_its_steps(pages: Pages, world: World, drv: Driver, clock_at: Clock) -> None:
    drv.new_project("in_progress", beneficiaries=10, amount="15000.00", title="小群体项目")
    html = pages.get("secretary", f"/fund-years/{world.c0}/2026").text
    page = text_of(html)
    assert "幸福社区 2026 年度专项经费" in page and "200,000.00" in page and "15,000.00" in page
    assert "已占用 15000.00 元(7.5%)" in html and "上限 20%:40000.00 元" in html  # the chart
    assert "项目批准承诺" in page and "市财政拨付" in page  # the ledger
    assert "提交年度报告" in page
    clock_at.set(drv.now.replace(month=11, day=20))
    r = pages.post("secretary", f"/fund-years/{world.c0}/2026/events/submit_report",
                   {"summary": "全年实施项目 1 个", "service_effect": "群众满意"})
    assert _location(r).endswith("done=submit_report")
    assert "考核评议" in text_of(pages.get("wsec", f"/fund-years/{world.c0}/2026").text)
    assert "考核评议年度报告" in text_of(pages.get("wsec", "/").text)
    assert pages.get("other_community", f"/fund-years/{world.c0}/2026").status_code == 403
    assert "幸福社区" in text_of(pages.get("finance", "/fund-years").text)


# ---------------------------------------------------------------------------------- overview, trail


def test_the_overview_is_sortable_and_only_for_the_area_and_the_city(pages: Pages, world: World,
                                                                      drv: Driver) -> None:
    drv.new_project("in_progress", community=1, amount="50000.00")
    page = text_of(pages.get("wsec", "/overview?year=2026&sort=committed&order=desc").text)
    assert page.index("和平社区") < page.index("幸福社区") and "远方社区" not in page
    page = text_of(pages.get("wsec", "/overview?year=2026&sort=committed&order=asc").text)
    assert page.index("幸福社区") < page.index("和平社区")
    assert "远方社区" in text_of(pages.get("admin", "/overview?year=2026").text) or \
        "尚未开放 2026 年度经费的社区:远方社区" in text_of(pages.get("admin", "/overview?year=2026").text)
    assert pages.get("secretary", "/overview").status_code == 403
    assert pages.get("supervisor", "/overview").status_code == 403


def test_the_supervisors_trail(pages: Pages, world: World, drv: Driver) -> None:
    pid = drv.new_project("publicity")
    r = pages.get("supervisor", "/trail")
    assert r.status_code == 303
    page = text_of(pages.get("supervisor", r.headers["location"]).text)
    assert "幸福社区 全程记录" in page and "记录联席会议" in page and "S01-2026-001" in page
    assert pages.get("other_community", f"/trail?community={world.c0}").status_code == 403
    assert pid


# ------------------------------------------------------------------------------------ administration


def test_administration_people_and_posts(pages: Pages, world: World) -> None:
    page = text_of(pages.get("admin", "/admin").text)
    assert "刘玉梅" in page and "社区党委书记" in page and "在任" in page and "远方书记" in page
    r = pages.post("admin", "/admin/users", {"username": "xf_new", "display_name": "新书记", "password": "short"})
    assert r.status_code == 422 and "文本过短" in r.text and 'value="xf_new"' in r.text
    r = pages.post("admin", "/admin/users", {"username": "xf_new", "display_name": "新书记",
                                             "password": "a-long-passphrase"})
    assert _location(r) == "/admin?done=user"
    people = pages.get("admin", "/admin").text
    person = re.search(r'<option value="(\d+)">新书记', people).group(1)  # type: ignore[union-attr]
    r = pages.post("admin", "/admin/posts", {"person_id": person, "organisation_id": str(world.c0),
                                             "role": "community_staff", "valid_from": "2026-01-01"})
    assert _location(r) == "/admin?done=post"
    r = pages.post("admin", "/admin/posts", {"person_id": person, "organisation_id": str(world.city.area_id),
                                             "role": "community_staff", "valid_from": "2026-01-01"})
    assert r.status_code == 422 and "只能设在社区一级" in r.text
    post = re.findall(r'action="/admin/posts/(\d+)/end"', pages.get("admin", "/admin").text)[-1]
    r = pages.post("admin", f"/admin/posts/{post}/end", {"valid_to": "2026-02-01"})
    assert _location(r) == "/admin?done=end"
    assert "2026-01-01 至 2026-02-01" in text_of(pages.get("admin", "/admin").text)
    for who in ("secretary", "wsec"):
        assert pages.get(who, "/admin").status_code == 403
        assert pages.post(who, "/admin/users", {"username": "x", "display_name": "x", "password": "x"}).status_code == 403


def test_administration_policies_calendar_and_audit(pages: Pages, world: World) -> None:
    page = text_of(pages.get("admin", "/admin/policies").text)
    assert "第 1 版" in page and "200,000.00 元" in page and "项目公示工作日(第十条)" in page
    bad = pages.post("admin", "/admin/calendar", {"text": "year 2027\n2027-01-01 holiday\n2027-02-15 makeup 调休\n"})
    assert bad.status_code == 422
    assert "未能导入" in bad.text and "第 2 行" in bad.text and "整份文件都不导入" in bad.text
    good = pages.client("admin").post("/admin/calendar", data={"csrf_token": pages.csrf("admin"), "source": "测试"},
                                      files={"file": ("2027.txt", "year 2027\n2027-01-01 holiday 元旦\n".encode(),
                                                      "text/plain")})
    assert good.status_code == 200 and "已导入 2027 年节假日安排" in good.text
    assert "测试" in text_of(pages.get("admin", "/admin/calendar").text)
    r = pages.post("admin", "/admin/audit", {})
    assert r.status_code == 200 and "核验通过" in r.text
    assert pages.post("secretary", "/admin/audit", {}).status_code == 403
    assert pages.get("secretary", "/admin/calendar").status_code == 403
