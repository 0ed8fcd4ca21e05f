"""The organisation administration pages (issue 11 point 5 on the pages): the city's tree with its create,
rename, move and close forms, the roster upload, activation codes, and the public ``/activate`` page."""
from __future__ import annotations

import re

from sqlalchemy import func, select

from store.models import AuditEvent, Organisation, Person
from tests.api.conftest import World
from tests.api.pages.conftest import Pages, csrf_of, text_of
from workflow.demo import Driver, roster_csv, roster_xlsx

ROSTER = [["kind", "code", "name", "parent", "username", "phone", "email", "role", "valid_from", "valid_to"],
          ["community", "S21", "向阳社区", "A02", "", "", "", "", "", ""],
          ["person", "S21", "冯强", "", "s21_shuji", "13900000011", "", "community_secretary", "2026-01-01", ""],
          ["person", "S21", "陈静", "", "s21_jiandu", "", "", "supervisor", "2026-01-01", ""]]


def _count(world: World, model: type) -> int:
    with world.db.uow(write=False) as uow:
        return int(uow.session.execute(select(func.count()).select_from(model)).scalar_one())


def _org(world: World, code: str) -> Organisation | None:
    with world.db.uow(write=False) as uow:
        org = uow.session.execute(select(Organisation).where(Organisation.code == code)).scalar_one_or_none()
        if org is not None:
            uow.session.expunge(org)
        return org


def _location(r: object) -> str:
    assert r.status_code == 303, f"{r.status_code}: {text_of(r.text)[:400]}"  # type: ignore[attr-defined]
    return str(r.headers["location"])  # type: ignore[attr-defined]


def _upload(pages: Pages, name: str, content: bytes, media: str, **extra: str):  # type: ignore[no-untyped-def]
    return pages.client("admin").post("/admin/orgs/import", data={"csrf_token": pages.csrf("admin"), **extra},
                                      files={"file": (name, content, media)})


def test_the_tree_with_its_forms_and_labels(pages: Pages, world: World) -> None:
    html = pages.get("admin", "/admin/orgs").text
    page = text_of(html)
    for name in ("城东大社区", "幸福社区", "和平社区", "第二大社区", "远方社区"):
        assert name in page
    assert "组织与名单" in page and "新设大社区或社区" in page and "导入名单" in page
    # the create form: labelled fields, the level as a choice, the parent from the tree
    assert "组织代码" in page and "上级组织" in page and 'value="community"' in html and "社区" in page
    assert f'<option value="{world.city.area_id}">' in html
    # each open community has rename, move and close forms; the move offers the areas
    assert f'action="/admin/orgs/{world.c0}/rename"' in html and f'action="/admin/orgs/{world.c0}/move"' in html
    assert f'action="/admin/orgs/{world.c0}/close"' in html and "调整到的大社区" in page and "撤销原因" in page
    assert 'enctype="multipart/form-data"' in html and 'name="file"' in html


def test_create_rename_move_and_close_a_community(pages: Pages, world: World) -> None:
    r = pages.post("admin", "/admin/orgs", {"level": "community", "code": "S30", "name": "向阳社区",
                                            "parent_id": str(world.city.area_id)})
    assert _location(r).startswith("/admin/orgs?done=create")
    org = _org(world, "S30")
    assert org is not None and org.parent_id == world.city.area_id
    assert "已新设组织" in text_of(pages.get("admin", _location(r)).text)
    r = pages.post("admin", f"/admin/orgs/{org.id}/rename", {"name": "朝阳社区"})
    assert _location(r).startswith("/admin/orgs?done=rename")
    r = pages.post("admin", f"/admin/orgs/{org.id}/move", {"area_id": str(world.other_area_id), "reason": "区划调整"})
    assert _location(r).startswith("/admin/orgs?done=move")
    moved = _org(world, "S30")
    assert moved is not None and moved.name == "朝阳社区" and moved.parent_id == world.other_area_id
    r = pages.post("admin", f"/admin/orgs/{org.id}/close", {"reason": "社区撤并"})
    assert _location(r).startswith("/admin/orgs?done=close")
    closed = _org(world, "S30")
    assert closed is not None and closed.closed_on is not None
    page = text_of(pages.get("admin", "/admin/orgs").text)
    assert "已撤销" in page
    # a closed community has no forms left
    assert f'action="/admin/orgs/{org.id}/rename"' not in pages.get("admin", "/admin/orgs").text


def test_refusals_show_the_rule_and_article_and_keep_the_input(pages: Pages, world: World, drv: Driver) -> None:
    drv.new_project("in_progress")
    events = _count(world, AuditEvent)
    # a code already used: refused by the rule, the form open again with what was typed
    r = pages.post("admin", "/admin/orgs", {"level": "community", "code": "S01", "name": "重复社区",
                                            "parent_id": str(world.city.area_id)})
    assert r.status_code == 409
    page = text_of(r.text)
    assert "未能办理" in page and "S01" in page and "第二条" in page
    assert 'value="重复社区"' in r.text and '<details class="action" id="new-org" open>' in r.text
    # a missing name, a missing parent: said in Chinese, with the article, the rest kept
    r = pages.post("admin", "/admin/orgs", {"level": "community", "code": "S31", "name": "",
                                            "parent_id": str(world.city.area_id)})
    assert r.status_code == 422 and "组织名称不能为空" in text_of(r.text) and "第二条" in text_of(r.text)
    assert 'value="S31"' in r.text
    r = pages.post("admin", "/admin/orgs", {"level": "community", "code": "S31", "name": "新社区"})
    assert r.status_code == 422 and "填写的内容有误" in r.text and 'id="f-parent_id-error"' in r.text
    assert 'value="新社区"' in r.text
    # a community with a project under way cannot be closed; the close form keeps the reason
    r = pages.post("admin", f"/admin/orgs/{world.c0}/close", {"reason": "拟撤并"})
    assert r.status_code == 409
    assert "第二条" in text_of(r.text) and ">拟撤并</textarea>" in r.text
    assert f'<details class="action" id="close-{world.c0}" open>' in r.text
    assert _org(world, "S01").closed_on is None  # type: ignore[union-attr]
    assert _count(world, AuditEvent) == events  # a refusal changes nothing


def test_roster_upload_imports_or_lists_every_bad_row_and_imports_nothing(pages: Pages, world: World) -> None:
    people = _count(world, Person)
    bad = [list(r) for r in ROSTER]
    bad[2][7] = "boss"
    bad[3][8] = "2026-02-30"
    r = _upload(pages, "名单.csv", roster_csv(bad), "text/csv")
    assert r.status_code == 422
    page = text_of(r.text)
    assert "第 3 行" in page and "第 4 行" in page and "role" in page and "valid_from" in page
    assert "2 处错误" in page and "整份名单都不导入" in page and "第二条" in page
    assert _count(world, Person) == people and _org(world, "S21") is None
    # a check only (dry run) imports nothing either
    r = _upload(pages, "名单.xlsx", roster_xlsx(ROSTER), "application/octet-stream", dry_run="on")
    assert r.status_code == 200 and "检查通过" in text_of(r.text) and _org(world, "S21") is None
    r = _upload(pages, "名单.csv", roster_csv(ROSTER), "text/csv")
    assert r.status_code == 200
    page = text_of(r.text)
    assert "已导入" in page and "社区 1 个" in page and "新建人员 2 人" in page and "2 人尚未设置密码" in page
    assert _count(world, Person) == people + 2 and "向阳社区" in page
    # no file: a Chinese message
    r = pages.client("admin").post("/admin/orgs/import", data={"csrf_token": pages.csrf("admin")})
    assert r.status_code == 422 and "请选择名单文件" in r.text


def test_an_activation_code_lets_a_person_set_a_password_on_the_activate_page(pages: Pages, world: World) -> None:
    _upload(pages, "名单.csv", roster_csv(ROSTER), "text/csv")
    with world.db.uow(write=False) as uow:
        pid = uow.session.execute(select(Person.id).where(Person.username == "s21_shuji")).scalar_one()
    assert f'action="/admin/users/{pid}/activation"' in pages.get("admin", "/admin").text
    r = pages.post("admin", f"/admin/users/{pid}/activation", {})
    assert r.status_code == 201
    code = re.search(r'class="receipt-code">([^<]+)<', r.text).group(1)  # type: ignore[union-attr]
    assert "s21_shuji" in r.text and "只显示这一次" in r.text
    # the person, not logged in, opens /activate
    anon = pages.client(None)
    form = anon.get("/activate")
    assert form.status_code == 200
    page = text_of(form.text)
    assert "激活账号" in page and "激活码" in page and "新密码" in page and 'type="password"' in form.text
    token = csrf_of(form.text)
    r = anon.post("/activate", data={"csrf_token": token, "username": "s21_shuji", "code": code, "password": "short"})
    assert r.status_code == 422
    assert "未能办理" in r.text and 'value="s21_shuji"' in r.text and "short" not in r.text  # the password not echoed
    r = anon.post("/activate", data={"csrf_token": token, "username": "s21_shuji", "code": "ABCD-EFGH-JKMN",
                                     "password": "a-long-passphrase"})
    assert r.status_code in (404, 409) and "激活码" in text_of(r.text) and 'value="s21_shuji"' in r.text
    r = anon.post("/activate", data={"csrf_token": token, "username": "s21_shuji", "code": code,
                                     "password": "a-long-passphrase"})
    assert _location(r) == "/login?activated=1"
    assert "密码已设置" in anon.get("/login?activated=1").text
    Pages.login(anon, "s21_shuji", "a-long-passphrase")  # the new password opens a session


def test_forms_need_the_csrf_token_and_the_administrator(pages: Pages, world: World) -> None:
    data = {"level": "community", "code": "S40", "name": "无令牌社区", "parent_id": str(world.city.area_id)}
    assert pages.post("admin", "/admin/orgs", data, csrf=False).status_code == 403
    assert pages.post("admin", f"/admin/orgs/{world.c0}/close", {"reason": "x撤并"}, csrf=False).status_code == 403
    r = pages.client("admin").post("/admin/orgs/import", files={"file": ("r.csv", roster_csv(ROSTER), "text/csv")})
    assert r.status_code == 403 and _org(world, "S21") is None
    assert _org(world, "S40") is None
    assert pages.post("admin", f"/admin/users/{world.ids['staff']}/activation", {}, csrf=False).status_code == 403
    # /activate without its token: refused in Chinese, input kept
    r = pages.client(None).post("/activate", data={"username": "someone", "code": "x", "password": "a-long-passphrase"})
    assert r.status_code == 403 and "表单已过期" in r.text and 'value="someone"' in r.text
    # a resident (no login) is sent to the login page
    r = pages.get(None, "/admin/orgs")
    assert r.status_code == 303 and r.headers["location"].startswith("/login")
    for who in ("secretary", "wsec", "supervisor"):
        assert pages.get(who, "/admin/orgs").status_code == 403
        assert pages.post(who, "/admin/orgs", data).status_code == 403
        assert pages.post(who, f"/admin/orgs/{world.c0}/rename", {"name": "别名"}).status_code == 403
        assert pages.post(who, f"/admin/users/{world.ids['staff']}/activation", {}).status_code == 403
    assert _org(world, "S40") is None and _org(world, "S01").name == "幸福社区"  # type: ignore[union-attr]
