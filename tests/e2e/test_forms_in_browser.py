"""What every form does in a real browser: a mistake is answered in Chinese next to the field and the form
keeps what the person typed; a form posted without its CSRF token is refused and changes nothing; a server
error shows a Chinese page without a stack trace."""
from __future__ import annotations

import re
from typing import Any

import pytest

from tests.e2e.conftest import SQLITE_ONLY, Crew, Site, act, check_page, shoot, submit
from workflow.demo import Driver

CHINESE = re.compile(r"[\u4e00-\u9fff]")
DROP_TOKEN = "form => form.querySelector('input[name=csrf_token]').remove()"


@SQLITE_ONLY
def test_mistakes_are_answered_in_chinese_and_the_input_is_kept(crew: Crew, site: Site, e2e_world: Any,
                                                                 db: Any) -> None:
    # a resident's need with too short a title
    resident = crew.public
    resident.goto(site.url("/gongshi/need"))
    resident.get_by_label("所在社区").select_option(label="幸福社区(城东大社区)")
    resident.get_by_label("您的需求").fill("灯")
    resident.get_by_label("具体情况").fill("3号楼门口的路灯坏了一个月。")
    resident.get_by_label("您的称呼").fill("李桂英")
    with resident.expect_navigation():
        resident.get_by_role("button", name="提交需求").click()
    errors = resident.locator(".error, .notice.bad").all_inner_texts()
    assert errors and all(CHINESE.search(e) for e in errors), errors
    assert resident.get_by_label("具体情况").input_value() == "3号楼门口的路灯坏了一个月。"
    assert resident.get_by_label("您的称呼").input_value() == "李桂英"
    assert resident.get_by_label("您的需求").input_value() == "灯"
    shoot(resident, "form-public-need-error")

    # the joint meeting's record with a vote count that is not a number
    pid = Driver(db, e2e_world.city).new_project("joint_meeting", title="小区健身器材更新")
    sec = crew("s01_shuji")
    sec.goto(site.url(f"/projects/{pid}"))
    box = act(sec, "record_meeting")
    box.locator('[name="held_on"]').fill("2026-03-02")
    box.locator('[name="attendees.0.name"]').fill("刘玉梅")
    box.locator('[name="attendees.0.capacity"][value="two_committees"]').check()
    box.locator('[name="votes_for"]').fill("五")
    box.locator('[name="votes_against"]').fill("0")
    box.locator('[name="minutes"]').fill("讨论了健身器材的选型。")
    submit(box)
    box = sec.locator("#act-record_meeting")
    assert box.get_attribute("open") is not None  # the failed form is shown open
    error = box.locator("#f-record_meeting-votes_for-error").inner_text()
    assert CHINESE.search(error) and "整数" in error
    assert box.locator('[name="minutes"]').input_value() == "讨论了健身器材的选型。"
    assert box.locator('[name="attendees.0.name"]').input_value() == "刘玉梅"
    assert box.locator('[name="votes_for"]').input_value() == "五"
    shoot(sec, "form-meeting-error")
    assert Driver(db, e2e_world.city).state(pid) == "joint_meeting"


@SQLITE_ONLY
def test_forms_posted_without_the_csrf_token_are_refused(crew: Crew, site: Site, e2e_world: Any, db: Any) -> None:
    pid = Driver(db, e2e_world.city).new_project("draft", title="社区食堂餐具添置")
    sec = crew("s01_shuji")
    sec.goto(site.url(f"/projects/{pid}"))
    box = act(sec, "submit_preliminary")
    box.locator("form").evaluate(DROP_TOKEN)
    with sec.expect_navigation():
        submit(box)
    assert "无权访问" in sec.locator("main").inner_text()
    check_page(sec, "csrf refused")
    sec.goto(site.url(f"/projects/{pid}"))
    assert sec.locator("h1 .badge").inner_text() == "拟提议"  # nothing changed

    resident = crew.public
    resident.goto(site.url("/gongshi/need"))
    resident.get_by_label("所在社区").select_option(label="幸福社区(城东大社区)")
    resident.get_by_label("您的需求").fill("小区门口需要无障碍坡道")
    resident.locator("form[action='/gongshi/need']").evaluate(DROP_TOKEN)
    response_status = []
    resident.on("response", lambda r: response_status.append(r.status) if r.request.method == "POST" else None)
    with resident.expect_navigation():
        resident.get_by_role("button", name="提交需求").click()
    assert response_status and response_status[0] == 403
    assert "/gongshi/huizhi/" not in resident.url
    check_page(resident, "public csrf refused")
    sec.goto(site.url("/needs"))
    assert "小区门口需要无障碍坡道" not in sec.locator("main").inner_text()


@SQLITE_ONLY
def test_a_server_error_shows_a_chinese_page_without_a_stack_trace(crew: Crew, site: Site, e2e_world: Any,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    from api import todo

    def broken(*_a: Any, **_k: Any) -> Any:
        raise RuntimeError("secret internal detail in /srv/fundflow/api/todo.py")

    sec = crew("s01_shuji")
    monkeypatch.setattr(todo, "todo", broken)
    response = sec.goto(site.url("/"))
    assert response is not None and response.status == 500
    body = sec.locator("body").inner_text()
    assert "系统出现错误" in body and "没有生效" in body
    for leak in ("Traceback", "RuntimeError", "secret internal detail", "todo.py"):
        assert leak not in sec.content()
    shoot(sec, "error-500")
