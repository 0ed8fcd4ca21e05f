"""Gaps the browser flows found in the pages (tests/e2e/test_lifecycle.py), each closed and kept closed:
every form control is named by its own label on pages with many event forms; the needs table's selection
boxes have labels; the notice after a no-invoice payment can be recorded from the project page."""
from __future__ import annotations

import re
from collections import Counter

from tests.api.conftest import World
from tests.api.pages.conftest import Pages, text_of
from workflow.demo import Driver

ID = re.compile(r'\bid="([^"]+)"')
LABEL_FOR = re.compile(r'<label for="([^"]+)"')


def _unique_ids_and_labels(html: str) -> None:
    ids = Counter(ID.findall(html))
    assert not [i for i, n in ids.items() if n > 1], f"ids used twice: {[i for i, n in ids.items() if n > 1]}"
    dangling = [f for f in LABEL_FOR.findall(html) if f not in ids]
    assert not dangling, f"labels for no control: {dangling}"


def test_every_event_form_names_its_own_controls(pages: Pages, world: World, drv: Driver) -> None:
    pid = drv.new_project("draft")  # submit_preliminary, withdraw and edit: several forms with a reason field
    html = pages.get("secretary", f"/projects/{pid}").text
    assert html.count('name="reason"') >= 2
    _unique_ids_and_labels(html)
    assert 'id="f-withdraw-reason"' in html and '<label for="f-withdraw-reason">' in html
    for who, path in (("member", f"/projects/{drv.new_project('pending_approval')}"),
                      ("secretary", f"/fund-years/{world.c0}/2026")):
        _unique_ids_and_labels(pages.get(who, path).text)


def test_a_refused_event_form_keeps_its_own_ids(pages: Pages, drv: Driver) -> None:
    pid = drv.new_project("shelved")
    r = pages.post("secretary", f"/projects/{pid}/events/resume", {"reason": ""})
    assert r.status_code in (409, 422)
    _unique_ids_and_labels(r.text)
    assert re.search(r'id="f-resume-reason"[^>]*aria-invalid="true"', r.text) or "未能办理" in text_of(r.text)


def test_the_needs_tables_selection_boxes_have_labels(pages: Pages, world: World) -> None:
    r = pages.post("staff", "/needs", {"community_id": world.c0, "title": "小区路灯不亮", "channel": "hall",
                                       "residents_count": "25"})
    assert r.status_code == 303
    html = pages.get("secretary", "/needs").text
    assert re.search(r'<label><input type="checkbox" name="need" value="\d+"><span class="sr-only">选择需求 #\d+</span>'
                     r'</label>', html)


def _voucher_paid(drv: Driver) -> tuple[int, int]:
    pid = drv.new_project("settlement", title="困难老人助餐服务", category="hardship", amount="9000.00",
                          beneficiaries=12, is_aid=True, contractor="张桂兰", contractor_kind="individual")
    item = int(drv.fire(pid, "add_payment_item", drv.a("finance"),
                        {"kind": "voucher", "amount": "9000.00", "payee": "张桂兰"}).data["payment_item_id"])
    for kind in ("meeting_decision", "inprocess_proof", "payee_signature"):
        drv.fire(pid, "record_voucher_evidence", drv.a("secretary"),
                 {"payment_item_id": item, "kind": kind, "note": "材料齐全"})
    drv.fire(pid, "pay", drv.a("finance"), {"payment_item_id": item, "idempotency_key": "pay-voucher-0001"})
    return pid, item


def _options(html: str, trigger: str) -> list[str]:
    form = html[html.index(f'id="act-{trigger}"'):]
    form = form[:form.index("</details>")]
    select = form[form.index('name="payment_item_id"'):]
    return re.findall(r'<option value="(\d+)"', select[:select.index("</select>")])


def test_the_notice_after_a_voucher_payment_is_recorded_from_the_project_page(pages: Pages, drv: Driver) -> None:
    pid, item = _voucher_paid(drv)
    html = pages.get("secretary", f"/projects/{pid}").text
    assert _options(html, "record_voucher_evidence") == [str(item)]  # the paid voucher, for its notice
    assert 'id="act-pay"' not in pages.get("finance", f"/projects/{pid}").text  # nothing left to pay
    r = pages.post("secretary", f"/projects/{pid}/events/record_voucher_evidence",
                   {"payment_item_id": str(item), "kind": "post_notice", "note": "支出已在社区公示栏公示"})
    assert r.status_code == 303 and "done=record_voucher_evidence" in r.headers["location"]
    assert "无发票支出公示:困难老人助餐服务" in text_of(pages.get(None, "/gongshi").text)
    # noticed once: the voucher is no longer offered, so the form is not drawn
    assert 'id="act-record_voucher_evidence"' not in pages.get("secretary", f"/projects/{pid}").text


def test_only_vouchers_are_offered_to_the_voucher_evidence_form(pages: Pages, drv: Driver) -> None:
    pid = drv.new_project("settlement")
    item = drv.fire(pid, "add_payment_item", drv.a("finance"),
                    {"kind": "invoice", "amount": "12000.00", "payee": "xx市照明工程有限公司",
                     "invoice_no": "INV20260077"}).data["payment_item_id"]
    html = pages.get("secretary", f"/projects/{pid}").text
    assert _options(html, "sign_invoice") == [str(item)]
    assert 'id="act-record_voucher_evidence"' not in html  # an invoice takes signatures, not voucher evidence
