"""The page infrastructure: one form renderer with Chinese labels for every event, login and CSRF, error
pages in Chinese without stack traces, assets and /docs served by fundflow itself."""
from __future__ import annotations

import re
from typing import Any

import pytest

from api.pages.forms import FieldDef, describe, flatten, parse, validate
from api.routes.events import EXAMPLES, event_body_model, user_triggers
from api.schemas import (
    ActivateIn,
    NeedIn,
    OrgCloseIn,
    OrgIn,
    OrgMoveIn,
    OrgRenameIn,
    PostEndIn,
    PostIn,
    ProjectIn,
    UserIn,
)
from tests.api.pages.conftest import Pages, csrf_of, text_of

CJK = re.compile(r"[\u4e00-\u9fff]")


def _walk(defs: tuple[FieldDef, ...], where: str) -> list[str]:
    missing = []
    for d in defs:
        if not CJK.search(d.label):
            missing.append(f"{where}.{d.name}: label {d.label!r}")
        for value, label in d.choices:
            if not CJK.search(label):
                missing.append(f"{where}.{d.name}: choice {value!r} labelled {label!r}")
        missing += _walk(d.children, f"{where}.{d.name}")
    return missing


def _every_form() -> list[tuple[str, Any]]:
    forms = [(f"{etype}.{t}", event_body_model(etype, t)) for etype in ("project", "fund_year", "inspection", "finding")
             for t in user_triggers(etype)]
    return forms + [("ProjectIn", ProjectIn), ("NeedIn", NeedIn), ("UserIn", UserIn), ("PostIn", PostIn),
                    ("PostEndIn", PostEndIn), ("OrgIn", OrgIn), ("OrgRenameIn", OrgRenameIn), ("OrgMoveIn", OrgMoveIn),
                    ("OrgCloseIn", OrgCloseIn), ("ActivateIn", ActivateIn)]


def test_every_field_and_choice_of_every_form_has_a_chinese_label() -> None:
    """New events get their forms from their payload models: a field without a label fails here
    (add it to workflow/labels.py)."""
    missing = [m for name, model in _every_form() for m in _walk(describe(model), name)]
    assert missing == []


def _as_form(values: dict[str, Any]) -> dict[str, list[str]]:
    return {k: (v if isinstance(v, list) else [v]) for k, v in values.items()}


@pytest.mark.parametrize("trigger", sorted(t for t in EXAMPLES if t in user_triggers("project")))
def test_a_form_posts_what_the_json_route_receives(trigger: str) -> None:
    """The example body of each JSON event route, typed into its form and posted, is the same body."""
    model = event_body_model("project", trigger)
    example = EXAMPLES[trigger]
    body, errors = validate(model, parse(describe(model), _as_form(flatten(example))))
    assert errors == {}
    assert body == model.model_validate(example).model_dump(mode="json", exclude_unset=True)


def test_form_errors_are_chinese_and_sit_next_to_their_fields() -> None:
    model = event_body_model("project", "record_meeting")
    form = _as_form(flatten({"held_on": "2026-13-01", "votes_for": "九", "votes_against": "1",
                             "attendees": [{"name": "", "capacity": "two_committees"}], "minutes": "讨论"}))
    body, errors = validate(model, parse(describe(model), form))
    assert body is None
    assert errors["held_on"].startswith("须为日期")
    assert errors["votes_for"] == "须为整数"
    assert "attendees.0.name" not in errors  # an empty text is a text; the meeting rule judges the attendees
    assert all(CJK.search(m) for m in errors.values())


def test_blank_rows_and_untouched_optional_fields_are_not_sent() -> None:
    model = event_body_model("project", "request_change")
    form = _as_form({"changes.amount": "", "changes.planned_end": "2026-12-20", "changes.contractor_kind": "",
                     "reason": "工期延长"})
    body, errors = validate(model, parse(describe(model), form))
    assert errors == {} and body == {"changes": {"planned_end": "2026-12-20"}, "reason": "工期延长"}
    meeting = event_body_model("project", "record_meeting")
    rows = _as_form({"attendees.0.name": "张三", "attendees.0.capacity": "resident_rep", "attendees.1.name": "",
                     "attendees.1.capacity": "", "attendees.2.name": "李四", "attendees.2.capacity": "two_committees"})
    parsed = parse(describe(meeting), rows)
    assert parsed["attendees"] == [{"name": "张三", "capacity": "resident_rep"},
                                   {"name": "李四", "capacity": "two_committees"}]


# ---------------------------------------------------------------------------------------- login


def test_login_logout_and_the_way_back(pages: Pages) -> None:
    c = pages.client(None)
    r = c.get("/projects")
    assert r.status_code == 303 and r.headers["location"] == "/login?next=/projects"
    form = c.get("/login?next=/projects")
    assert "登录" in form.text and 'name="next" value="/projects"' in form.text
    r = c.post("/login", data={"username": "s01_shuji", "password": "wrong-password", "next": "/projects",
                               "csrf_token": csrf_of(form.text)})
    assert r.status_code == 401 and "用户名或密码错误" in r.text and 'value="s01_shuji"' in r.text
    form = c.get("/login?next=/projects")
    r = c.post("/login", data={"username": "s01_shuji", "password": "fundflow-demo", "next": "/projects",
                               "csrf_token": csrf_of(form.text)})
    assert r.status_code == 303 and r.headers["location"] == "/projects"
    assert "项目" in c.get("/projects").text
    r = c.post("/logout", data={"csrf_token": c.cookies.get("fundflow_csrf")})
    assert r.status_code == 303 and r.headers["location"] == "/login"
    assert c.get("/projects").status_code == 303


def test_login_goes_only_to_this_site(pages: Pages) -> None:
    c = pages.client(None)
    form = c.get("/login")
    r = c.post("/login", data={"username": "s01_shuji", "password": "fundflow-demo", "next": "//evil.example/x",
                               "csrf_token": csrf_of(form.text)})
    assert r.status_code == 303 and r.headers["location"] == "/"


def test_login_form_without_its_token_is_refused(pages: Pages) -> None:
    c = pages.client(None)
    c.get("/login")
    r = c.post("/login", data={"username": "s01_shuji", "password": "fundflow-demo", "csrf_token": "forged"})
    assert r.status_code == 403 and "页面已过期" in r.text
    assert "fundflow_session" not in c.cookies


# ----------------------------------------------------------------------------------------- CSRF


def test_a_form_posted_without_the_csrf_token_is_refused_and_changes_nothing(pages: Pages, drv: Any) -> None:
    pid = drv.propose()
    page = pages.get("secretary", f"/projects/{pid}")
    assert f'action="/projects/{pid}/events/submit_preliminary"' in page.text
    assert csrf_of(page.text) == pages.csrf("secretary")  # every form carries the session's token
    for data in ({}, {"csrf_token": "not-the-token"}):
        r = pages.post("secretary", f"/projects/{pid}/events/submit_preliminary", data, csrf=False)
        assert r.status_code == 403 and "CSRF" in r.text and "无权访问" in r.text
    assert drv.state(pid) == "draft"
    r = pages.post("secretary", "/needs", {"community_id": drv.city.communities[0].id, "title": "x"}, csrf=False)
    assert r.status_code == 403
    r = pages.post("secretary", f"/projects/{pid}/events/submit_preliminary", {})
    assert r.status_code == 303 and drv.state(pid) == "preliminary_review"


# --------------------------------------------------------------------------------------- errors


def test_a_server_error_shows_a_chinese_page_and_no_stack_trace(pages: Pages, monkeypatch: pytest.MonkeyPatch) -> None:
    from api import todo

    def broken(*_a: Any, **_k: Any) -> Any:
        raise RuntimeError("secret internal detail in /srv/fundflow/api/todo.py")

    monkeypatch.setattr(todo, "todo", broken)
    r = pages.get("secretary", "/")
    assert r.status_code == 500 and r.headers["content-type"].startswith("text/html")
    assert "系统出现错误" in r.text and "没有生效" in r.text
    for leak in ("Traceback", "RuntimeError", "secret internal detail", "todo.py", 'File "'):
        assert leak not in r.text


def test_not_found_and_forbidden_pages_are_in_chinese(pages: Pages, drv: Any) -> None:
    r = pages.get("secretary", "/no-such-page")
    assert r.status_code == 404 and "页面不存在" in r.text
    r = pages.get("secretary", "/projects/999999")
    assert r.status_code == 404 and "项目 #999999 不存在" in r.text
    other = drv.propose(community=1)
    r = pages.get("secretary", f"/projects/{other}")
    assert r.status_code == 403 and "无权访问" in r.text and "没有岗位" in r.text
    r = pages.get("secretary", "/admin")
    assert r.status_code == 403 and "市委组织部" in r.text
    r = pages.get("secretary", "/projects/abc")
    assert r.status_code == 422 and "提交的内容不正确" in text_of(r.text)


def test_the_api_keeps_its_problem_json(pages: Pages) -> None:
    r = pages.get(None, "/api/v1/nothing")
    assert r.status_code == 404 and r.headers["content-type"] == "application/problem+json"


# --------------------------------------------------------------------------------------- assets


def test_pages_use_only_assets_fundflow_serves(pages: Pages, drv: Any) -> None:
    pid = drv.propose()
    html = pages.get("secretary", f"/projects/{pid}").text
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", html)
    for asset in re.findall(r"""(?:src|href)="(/static/[^"]+)\"""", html):
        r = pages.get(None, asset)
        assert r.status_code == 200 and len(r.content) > 50, asset
    assert pages.get(None, "/static/fundflow.css").headers["content-type"].startswith("text/css")


def test_docs_are_served_offline_and_the_openapi_document_lists_only_the_api(pages: Pages) -> None:
    docs = pages.get(None, "/docs")
    assert docs.status_code == 200
    assert "cdn" not in docs.text.lower() and "unpkg" not in docs.text
    for asset in re.findall(r"""['"](/static/swagger-ui/[^'"]+)['"]""", docs.text):
        assert pages.get(None, asset).status_code == 200
    assert "/static/swagger-ui/swagger-ui-bundle.js" in docs.text
    schema = pages.get(None, "/openapi.json").json()
    assert all(p.startswith("/api/v1/") or p == "/healthz" for p in schema["paths"])
    assert pages.get(None, "/redoc").status_code == 404
