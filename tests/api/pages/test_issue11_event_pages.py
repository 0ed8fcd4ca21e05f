"""Issue 11's events on the pages: each is a form drawn by the one renderer where the viewer may fire it —
edit of a draft (its line items choosing from the procurement catalogue), decide_flag, terminate,
confirm_answer, cancel_payment_item — and accept_answer on the resident's receipt page; cancelled payment
items and the terminated state are shown."""
from __future__ import annotations

import re
from typing import Any

from sqlalchemy import select

from store.models import LineItem, Notice, Objection, PaymentItem, Project
from tests.api.conftest import Clock, World
from tests.api.pages.conftest import Pages, csrf_of, text_of
from workflow.demo import Driver
from workflow.demo_data import REPAIR

ITEMS = [{"description": "活动室办公椅", "quantity": 2, "unit_price": "3000.00", "catalog_item": "A06030000"},
         {"description": "LED 灯", "quantity": 2, "unit_price": "1500.00", "catalog_item": "A02061900"}]


def _location(r: Any) -> str:
    assert r.status_code == 303, f"{r.status_code}: {text_of(r.text)[:500]}"
    return str(r.headers["location"])


def _form(html: str, trigger: str) -> str:
    """The HTML of one event's form on a page (empty when the viewer has no such form)."""
    found = re.search(rf'<details class="action" id="act-{trigger}".*?</details>', html, flags=re.S)
    return found.group(0) if found else ""


def _version(html: str, trigger: str) -> str:
    return re.search(r'name="_version" value="(\d+)"', _form(html, trigger)).group(1)  # type: ignore[union-attr]


def _select(html: str, name: str) -> str:
    found = re.search(rf'<select id="[^"]*" name="{re.escape(name)}".*?</select>', html, flags=re.S)
    assert found, f"no <select> named {name}"
    return found.group(0)


def _project(world: World, pid: int) -> Project:
    with world.db.uow(write=False) as uow:
        p = uow.session.get(Project, pid)
        assert p is not None
        uow.session.expunge(p)
        return p


# ----------------------------------------------------------------------------------- catalogue, edit


def test_line_items_choose_from_the_procurement_catalogue(pages: Pages, world: World, drv: Driver) -> None:
    html = pages.get("secretary", "/projects/new").text
    choice = _select(html, "line_items.0.catalog_item")
    assert f'<option value="{REPAIR}">{REPAIR} ' in choice and "维修和保养服务" in choice
    assert choice.count("<option") > 5 and "政府采购目录品目" in text_of(html)
    assert 'name="line_items.0.catalog_item" value=' not in html  # no free text box any more


def test_a_draft_is_edited_from_its_form_which_starts_from_the_plan(pages: Pages, world: World, drv: Driver) -> None:
    pid = drv.propose(title="活动室空调维修", amount="12000.00")
    html = pages.get("secretary", f"/projects/{pid}").text
    form = _form(html, "edit")
    assert "修改方案" in form and 'value="活动室空调维修"' in form and "第九条" in form
    # the line items start from the plan, their catalogue item chosen in the list
    assert re.search(rf'<option value="{REPAIR}" selected>', _select(form, "line_items.0.catalog_item"))
    assert "项目名称" in form and "经费明细" in form and "单价(元)" in form
    data = {"_version": _version(html, "edit"), "title": "活动室空调维修", "description": "维修两台空调,更换压缩机。",
            "amount": "12000.00", "line_items.0.description": "空调压缩机更换", "line_items.0.quantity": "2",
            "line_items.0.unit_price": "6000.00", "line_items.0.catalog_item": REPAIR, "reason": "补充维修内容"}
    r = pages.post("secretary", f"/projects/{pid}/events/edit", data)
    assert _location(r) == f"/projects/{pid}?done=edit"
    page = text_of(pages.get("secretary", _location(r)).text)
    assert "已办理:修改方案" in page and "维修两台空调,更换压缩机。" in page and "空调压缩机更换" in page
    assert _project(world, pid).state == "draft"
    # a wrong price is refused in Chinese next to its field, and the form keeps what was typed
    bad = {**data, "_version": _version(pages.get("secretary", f"/projects/{pid}").text, "edit"),
           "line_items.0.unit_price": "6千", "description": "改成别的"}
    r = pages.post("secretary", f"/projects/{pid}/events/edit", bad)
    assert r.status_code == 422 and "金额格式不正确" in r.text and 'id="f-line_items-0-unit_price-error"' in r.text
    kept = _form(r.text, "edit")
    assert ">改成别的</textarea>" in kept and 'value="6千"' in kept
    assert f'<option value="{REPAIR}" selected>' in kept
    # a code outside the catalogue (an old free-text entry) is shown as such, and submitting it cites 第十二条
    del data["_version"]  # the forms below are posted without it (no check of the version)
    r = pages.post("secretary", f"/projects/{pid}/events/edit", {**data, "line_items.0.catalog_item": "Z99999999"})
    assert _location(r)  # a draft may be incomplete; the plan is checked when it is submitted
    html = pages.get("secretary", f"/projects/{pid}").text
    assert "Z99999999(不在可选范围内,请重新选择)" in _form(html, "edit")
    r = pages.post("secretary", f"/projects/{pid}/events/submit_preliminary",
                   {"reason": "请审查"})
    assert r.status_code == 409 and "第十二条" in text_of(r.text) and "政府采购目录" in text_of(r.text)
    assert _location(pages.post("secretary", f"/projects/{pid}/events/edit", data))
    with world.db.uow(write=False) as uow:
        assert uow.session.execute(select(LineItem.catalog_item).where(LineItem.project_id == pid)).scalar_one() == REPAIR
    # the plan is frozen from preliminary consent on, and only the community edits it
    assert _form(pages.get("supervisor", f"/projects/{pid}").text, "edit") == ""
    drv.fire(pid, "submit_preliminary", drv.a("secretary"))
    assert _form(pages.get("secretary", f"/projects/{pid}").text, "edit") == ""
    r = pages.post("secretary", f"/projects/{pid}/events/edit", {**data, "description": "冻结后修改"})
    assert r.status_code == 409 and "未能办理" in r.text


def test_the_working_committee_decides_a_keyword_flag_from_its_form(pages: Pages, world: World, drv: Driver) -> None:
    pid = drv.propose(amount="9000.00")
    drv.edit(pid, line_items=ITEMS, keyword_flags_answer="活动室座椅供居民活动使用,不属于社区办公开支")
    drv.fire(pid, "submit_preliminary", drv.a("secretary"))
    html = pages.get("member", f"/projects/{pid}").text
    form = _form(html, "decide_flag")
    assert "认定禁止用途提示" in form and "第四条" in form and "被提示的经费明细" in form
    assert "活动室办公椅" in form and "LED 灯" not in form  # only the flagged item to choose
    assert "解除提示(经审查并非禁止用途)" in form and "维持提示(属于禁止用途)" in form
    item = re.search(r'<option value="(\d+)">活动室办公椅', form).group(1)  # type: ignore[union-attr]
    r = pages.post("member", f"/projects/{pid}/events/decide_flag", {"line_item_id": item, "decision": "cleared"})
    assert r.status_code in (409, 422) and "未能办理" in r.text and "第四条" in text_of(r.text)
    assert 'value="cleared" checked' in _form(r.text, "decide_flag")
    r = pages.post("member", f"/projects/{pid}/events/decide_flag",
                   {"line_item_id": item, "decision": "cleared", "note": "已阅读社区说明,不属于禁止用途"})
    assert _location(r) == f"/projects/{pid}?done=decide_flag"
    assert _form(pages.get("secretary", f"/projects/{pid}").text, "decide_flag") == ""  # not the community's
    r = pages.post("secretary", f"/projects/{pid}/events/decide_flag",
                   {"line_item_id": item, "decision": "cleared", "note": "社区自己解除"})
    assert r.status_code == 403 and "未能办理" in r.text and "第四条" in text_of(r.text)


# ------------------------------------------------------------------------------------- termination


def test_both_main_leaders_terminate_from_their_forms_and_the_page_says_so(pages: Pages, world: World,
                                                                         drv: Driver) -> None:
    pid = drv.new_project("in_progress")
    html = pages.get("wsec", f"/projects/{pid}").text
    form = _form(html, "terminate")
    assert "终止项目" in form and "第十一条" in form and "理由" in form
    assert _form(pages.get("secretary", f"/projects/{pid}").text, "terminate") == ""
    r = pages.post("wsec", f"/projects/{pid}/events/terminate", {"reason": ""})
    assert r.status_code == 409 and "此操作须填写理由" in r.text and 'id="f-reason-error"' in r.text
    r = pages.post("wsec", f"/projects/{pid}/events/terminate", {"reason": "承办方无法继续履约"})
    assert _location(r) and _project(world, pid).state == "in_progress"
    assert "决定终止" in text_of(pages.get("director", f"/projects/{pid}").text)
    r = pages.post("director", f"/projects/{pid}/events/terminate", {"reason": "同意终止"})
    assert _location(r) and _project(world, pid).state == "terminated"
    page = text_of(pages.get("secretary", f"/projects/{pid}").text)
    assert "已终止" in page and "本项目已终止(第十一条)" in page and "未支付的承诺已退回" in page
    assert "理由:同意终止" in page
    assert "可办理的事项" in page and _form(pages.get("wsec", f"/projects/{pid}").text, "terminate") == ""


# ------------------------------------------------------------------------------- payment items


def test_the_secretary_cancels_an_unpaid_item_and_it_is_struck_through(pages: Pages, world: World,
                                                                       drv: Driver) -> None:
    pid = drv.new_project("settlement")
    item = drv.fire(pid, "add_payment_item", drv.a("finance"), {
        "kind": "invoice", "amount": "12000.00", "payee": "xx市照明工程有限公司", "invoice_no": "INV88"}).data[
        "payment_item_id"]
    html = pages.get("secretary", f"/projects/{pid}").text
    form = _form(html, "cancel_payment_item")
    assert "作废付款事项" in form and "第十三条" in form and f'<option value="{item}">' in form
    assert _form(pages.get("finance", f"/projects/{pid}").text, "cancel_payment_item") == ""
    r = pages.post("secretary", f"/projects/{pid}/events/cancel_payment_item",
                   {"payment_item_id": str(item), "reason": "无令牌"}, csrf=False)
    assert r.status_code == 403  # the form's CSRF token is required
    r = pages.post("secretary", f"/projects/{pid}/events/cancel_payment_item", {"payment_item_id": str(item)})
    assert r.status_code == 409 and "此操作须填写理由" in r.text and f'<option value="{item}" selected>' in r.text
    r = pages.post("secretary", f"/projects/{pid}/events/cancel_payment_item",
                   {"payment_item_id": str(item), "reason": "发票金额开错,重新开具"})
    assert _location(r) == f"/projects/{pid}?done=cancel_payment_item"
    html = pages.get("finance", f"/projects/{pid}").text
    row = re.search(r'<tr class="cancelled">.*?</tr>', html, flags=re.S).group(0)  # type: ignore[union-attr]
    assert f"<s>#{item}</s>" in row and "<s>12,000.00</s>" in row and "已作废" in row
    assert "理由:发票金额开错,重新开具" in text_of(row)
    # a cancelled item is no longer offered to sign, pay or cancel
    for trigger in ("sign_invoice", "pay", "cancel_payment_item"):
        assert f'<option value="{item}"' not in _form(pages.get("secretary", f"/projects/{pid}").text, trigger)
    with world.db.uow(write=False) as uow:
        assert uow.session.get(PaymentItem, item).status == "cancelled"  # type: ignore[union-attr]


# ------------------------------------------------------------------------------------- objections


def _objection(pages: Pages, world: World, drv: Driver, clock_at: Clock) -> tuple[int, int, str]:
    """A project in publicity and a resident's objection posted on the notice's page: (pid, objection, code)."""
    pid = drv.new_project("publicity")
    clock_at.set(drv.tick(1))
    with world.db.uow(write=False) as uow:
        nid = uow.session.execute(select(Notice.id).where(Notice.project_id == pid)).scalar_one()
    page = pages.get(None, f"/gongshi/notice/{nid}")
    r = pages.post_public(f"/gongshi/notice/{nid}/objection", {"text": "建议先修三号楼", "csrf_token": csrf_of(page.text)})
    code = re.search(r"/gongshi/huizhi/([^?]+)", _location(r)).group(1)  # type: ignore[union-attr]
    with world.db.uow(write=False) as uow:
        oid = uow.session.execute(select(Objection.id).where(Objection.project_id == pid)).scalar_one()
    return pid, oid, code


def test_a_supervisor_confirms_an_answer_from_the_form(pages: Pages, world: World, drv: Driver,
                                                       clock_at: Clock) -> None:
    pid, oid, _code = _objection(pages, world, drv, clock_at)
    assert _form(pages.get("supervisor", f"/projects/{pid}").text, "confirm_answer") == ""  # nothing answered yet
    r = pages.post("staff", f"/projects/{pid}/events/answer_objection", {"objection_id": str(oid),
                                                                        "answer": "三号楼排在第一批施工。"})
    assert _location(r)
    form = _form(pages.get("supervisor", f"/projects/{pid}").text, "confirm_answer")
    assert "确认答复" in form and "第十四条" in form and f'<option value="{oid}">' in form and "(已答复)" in form
    assert _form(pages.get("secretary", f"/projects/{pid}").text, "confirm_answer") == ""  # not the committee's
    r = pages.post("supervisor", f"/projects/{pid}/events/confirm_answer",
                   {"objection_id": str(oid), "comment": "已现场核实"})
    assert _location(r) == f"/projects/{pid}?done=confirm_answer"
    with world.db.uow(write=False) as uow:
        assert uow.session.get(Objection, oid).resolved is True  # type: ignore[union-attr]
    assert "已解决" in text_of(pages.get("secretary", f"/projects/{pid}").text)
    r = pages.post("secretary", f"/projects/{pid}/events/confirm_answer", {"objection_id": str(oid)})
    assert r.status_code == 403


def test_the_resident_accepts_the_answer_on_the_receipt_page(pages: Pages, world: World, drv: Driver,
                                                             clock_at: Clock) -> None:
    pid, oid, code = _objection(pages, world, drv, clock_at)
    receipt = pages.get(None, f"/gongshi/huizhi/{code}").text
    assert f'action="/gongshi/huizhi/{code}/accept"' not in receipt  # nothing to accept before the answer
    drv.fire(pid, "answer_objection", drv.a("secretary"), {"objection_id": oid, "answer": "三号楼排在第一批施工。"})
    receipt = pages.get(None, f"/gongshi/huizhi/{code}").text
    assert f'action="/gongshi/huizhi/{code}/accept"' in receipt and "三号楼排在第一批施工" in text_of(receipt)
    # without the form's token: refused, nothing changes
    r = pages.client(None).post(f"/gongshi/huizhi/{code}/accept", data={})
    assert r.status_code == 403 and "表单已过期" in r.text
    r = pages.post_public(f"/gongshi/huizhi/{code}/accept", {"csrf_token": csrf_of(receipt)})
    assert _location(r).endswith("?accepted=1")
    assert "您已接受社区党委的答复" in text_of(pages.get(None, _location(r)).text)
    with world.db.uow(write=False) as uow:
        assert uow.session.get(Objection, oid).resolved is True  # type: ignore[union-attr]
    # a second acceptance: a Chinese refusal with its article
    r = pages.post_public(f"/gongshi/huizhi/{code}/accept", {"csrf_token": csrf_of(receipt)})
    assert r.status_code == 409 and "未能办理" in r.text and "第十条" in text_of(r.text)
    # no staff form for the public event
    assert _form(pages.get("secretary", f"/projects/{pid}").text, "accept_answer") == ""
