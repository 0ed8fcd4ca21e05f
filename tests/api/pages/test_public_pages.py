"""The residents' pages /gongshi (no login): what a resident notices on each page, the masking, the CSRF token of
the anonymous forms, the rate limit, and the committee's side of a resident's need."""
from __future__ import annotations

import re
from typing import Any

from sqlalchemy import select

from store.models import Need, Notice, Objection
from tests.api.conftest import World
from tests.api.pages.conftest import Pages, text_of
from workflow.demo import Driver

TOKEN = re.compile(r'name="csrf_token" value="([^"]*)"')


def form_token(html: str) -> str:
    found = TOKEN.search(html)
    assert found, "the form carries no CSRF token"
    return found.group(1)


def need_form(pages: Pages, world: World, **over: str) -> dict[str, str]:
    page = pages.get(None, f"/gongshi/need?community={world.c0}")
    assert page.status_code == 200
    return {"community_id": str(world.c0), "title": "5号楼2单元楼道灯不亮", "description": "晚上看不清,老人摔过跤",
            "author_name": "赵淑华", "contact": "13812345678", "csrf_token": form_token(page.text), **over}


def test_the_board_lists_running_notices_with_their_qr_code(pages: Pages, world: World, drv: Driver,
                                                            clock_at: Any, db: Any) -> None:
    pid = drv.new_project("publicity", title="楼道照明改造", description="更换12个单元的楼道灯。")
    clock_at.set(drv.tick(1))
    board = text_of(pages.get(None, "/gongshi").text)
    assert "社区公示栏" in board and "正在公示(1)" in board and "项目公示:楼道照明改造" in board
    assert "幸福社区" in board and "可提出意见" in board
    with db.uow(write=False) as uow:
        nid = uow.session.execute(select(Notice.id).where(Notice.project_id == pid)).scalar_one()
    page = pages.get(None, f"/gongshi/notice/{nid}")
    text = text_of(page.text)
    assert "更换12个单元的楼道灯" in text and "公示中" in text and "对本公示提出意见" in text
    # the QR code is ours: inline SVG of the page's own address, also served alone for printing
    assert "<svg" in page.text and "扫码查看" in text and f"/gongshi/notice/{nid}" in text
    qr = pages.get(None, f"/gongshi/notice/{nid}/qr.svg")
    assert qr.status_code == 200 and qr.headers["content-type"].startswith("image/svg+xml") and "<path" in qr.text
    assert pages.get(None, "/gongshi/notice/999999/qr.svg").status_code == 404
    # the community's own board lists its projects with their timelines; a draft is not shown
    draft = drv.propose(title="冬季清雪工具购置")
    community = text_of(pages.get(None, f"/gongshi?community={world.c0}").text)
    assert "幸福社区公示栏" in community and "楼道照明改造" in community and "冬季清雪工具购置" not in community
    timeline = text_of(pages.get(None, "/gongshi/project/S01-2026-001").text)
    assert "执行进度" in timeline and "项目公示 进行中" in timeline and "联席会议 已完成" in timeline
    assert pages.get(None, f"/gongshi/project/S01-2026-00{draft}").status_code == 404


def test_a_resident_objects_on_the_page_and_the_name_and_phone_stay_private(pages: Pages, world: World, drv: Driver,
                                                                           clock_at: Any, db: Any) -> None:
    pid = drv.new_project("publicity", title="楼道照明改造")
    clock_at.set(drv.tick(1))
    with db.uow(write=False) as uow:
        nid = uow.session.execute(select(Notice.id).where(Notice.project_id == pid)).scalar_one()
    page = pages.get(None, f"/gongshi/notice/{nid}")
    r = pages.post_public(f"/gongshi/notice/{nid}/objection",
                          {"author_name": "钱国栋", "contact": "13912345678", "text": "建议先改造5号楼,钱国栋电话13912345678",
                           "csrf_token": form_token(page.text)})
    assert r.status_code == 303, r.text
    after = pages.get(None, r.headers["location"].split("#")[0] if "huizhi" not in r.headers["location"]
                      else f"/gongshi/notice/{nid}")
    text = text_of(after.text)
    assert "建议先改造5号楼" in text and "钱**" in text
    assert "钱国栋" not in after.text and "13912345678" not in after.text and "139****5678" in text
    with db.uow(write=False) as uow:
        assert uow.session.execute(select(Objection.contact)).scalar_one() == "13912345678"  # kept for the committee


def test_the_anonymous_forms_refuse_a_post_without_the_signed_token(pages: Pages, world: World, db: Any) -> None:
    data = need_form(pages, world)
    # no token, a token of our own making, a token that is not the cookie's: refused, nothing recorded, input kept
    real = data["csrf_token"]
    altered = real[:-1] + ("1" if real[-1] == "0" else "0")  # always differs (an ending "00" made a flake)
    for token in ("", "1.abc.def", altered):
        r = pages.post_public("/gongshi/need", {**data, "csrf_token": token})
        assert r.status_code == 403, r.text
        assert "表单已过期或来源不明" in r.text and "5号楼2单元楼道灯不亮" in r.text and "13812345678" in r.text
    from fastapi.testclient import TestClient

    with TestClient(pages.app, follow_redirects=False) as other:  # another browser, without the cookie
        assert other.post("/gongshi/need", data=data).status_code == 403
    with db.uow(write=False) as uow:
        assert uow.session.execute(select(Need.id)).first() is None
    r = pages.post_public("/gongshi/need", data)
    assert r.status_code == 303 and r.headers["location"].startswith("/gongshi/huizhi/")


def test_a_resident_posts_a_need_and_reads_the_receipt(pages: Pages, world: World, db: Any) -> None:
    r = pages.post_public("/gongshi/need", need_form(pages, world))
    assert r.status_code == 303
    receipt = pages.get(None, r.headers["location"])
    text = text_of(receipt.text)
    code = r.headers["location"].split("/")[-1].split("?")[0]
    assert "已收到,谢谢您" in text and code in text and "已收到,待社区答复" in text and "线上平台" in text
    assert "赵淑华" not in receipt.text and "13812345678" not in receipt.text and "赵**" in text
    # the committee sees it (with the contact, for calling back) and answers it on the need's page
    with db.uow(write=False) as uow:
        nid = uow.session.execute(select(Need.id).where(Need.receipt_code == code)).scalar_one()
    listing = text_of(pages.get("staff", "/needs").text)
    assert "5号楼2单元楼道灯不亮" in listing and "居民点单" in listing and "待答复" in listing
    staff = text_of(pages.get("staff", f"/needs/{nid}").text)
    assert "13812345678" in staff and "居民在公示栏自行提交" in staff and code in staff
    refused = pages.post("staff", f"/needs/{nid}/answer", {"answer": "好"})
    assert refused.status_code == 422 and "第九条" in refused.text
    other = pages.get("other_community", f"/needs/{nid}")
    assert other.status_code == 403 and "13812345678" not in other.text
    r = pages.post("staff", f"/needs/{nid}/answer", {"answer": "已纳入本季度项目计划,预计6月前完工。"})
    assert r.status_code == 303
    assert "已纳入本季度项目计划" in text_of(pages.get("staff", f"/needs/{nid}").text)
    text = text_of(pages.get(None, f"/gongshi/huizhi/{code.lower()}").text)
    assert "社区已答复" in text and "已纳入本季度项目计划" in text
    # lookup by the form: unknown codes say so
    r = pages.get(None, "/gongshi/huizhi?code=ABCDEFGHJK")
    assert r.status_code == 303
    assert "回执码不存在" in pages.get(None, r.headers["location"]).text


def test_form_errors_keep_the_input_and_the_rate_limit_holds(pages: Pages, world: World, app: Any) -> None:
    app.state.settings.objection_max = 2  # attempts per address in the window, refused ones included
    r = pages.post_public("/gongshi/need", need_form(pages, world, title="灯坏", contact="微信abc"))
    assert r.status_code == 422 and "第九条" in r.text and "微信abc" in r.text
    assert pages.post_public("/gongshi/need", need_form(pages, world)).status_code == 303
    r = pages.post_public("/gongshi/need", need_form(pages, world, title="第二条需求的标题"))
    assert r.status_code == 429 and "提交过于频繁" in r.text and "第二条需求的标题" in r.text


def test_the_disclosure_page(pages: Pages, world: World, drv: Driver) -> None:
    from workflow.demo import close_demo_year

    drv.new_project("closed", year=2026)
    close_demo_year(drv, 2026)
    page = text_of(pages.get(None, f"/gongshi/disclosure/{world.c0}/2026").text)
    assert "幸福社区 2026 年度党组织服务群众专项经费使用情况" in page and "老旧小区路灯维修" in page
    assert "200,000.00" in page and "已办结" in page
    assert pages.get(None, f"/gongshi/disclosure/{world.c1}/2026").status_code == 404
