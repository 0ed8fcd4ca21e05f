"""Inspection as pages (第十八条、第十九条): the working committee plans an inspection, records a finding; the
community rectifies it; a second member verifies it; red flags are listed and dismissed with a reason — only by
clicking through forms, each refusal in Chinese with its article and the input kept."""
from __future__ import annotations

import re
from typing import Any

from tests.api.conftest import Clock, World, on
from tests.api.pages.conftest import Pages, text_of
from workflow.demo import Driver


def _location(r: Any) -> str:
    assert r.status_code == 303, r.text[:2000]
    return str(r.headers["location"])


def _plan(pages: Pages, world: World) -> int:
    r = pages.post("member", "/inspections", {"community_id": str(world.c0), "period_from": "2026-03-01",
                                               "period_to": "2026-03-31", "title": "一季度定期检查"})
    where = _location(r)
    m = re.fullmatch(r"/inspections/(\d+)\?done=plan", where)
    assert m, where
    return int(m.group(1))


def test_an_inspection_from_plan_to_a_verified_rectification(pages: Pages, world: World, drv: Driver,
                                                           clock_at: Clock) -> None:
    drv.new_project("in_progress")
    clock_at.set(on("2026-04-01"))
    listing = pages.get("member", "/inspections").text
    assert "安排定期检查" in listing and '<label for="f-plan-community_id"' in listing
    assert '<a href="/inspections" aria-current="page">检查</a>' in listing  # in the navigation
    iid = _plan(pages, world)
    page = pages.get("member", f"/inspections/{iid}?done=plan").text
    assert "已安排定期检查" in page and "一季度定期检查" in page and "2026-03-01 至 2026-03-31" in page
    assert f"/api/v1/inspections/{iid}/pack.pdf" in page
    assert _location(pages.post("member", f"/inspections/{iid}/events/start_inspection", {})) \
        == f"/inspections/{iid}?done=start_inspection"
    # a finding citing no article of 细则 is refused, in Chinese, the typed text kept
    bad = {"article": "第九十九条", "description": "跟进检查记录缺失", "requirement": "补充跟进检查记录", "workdays": "5"}
    r = pages.post("member", f"/inspections/{iid}/events/record_finding", bad)
    assert r.status_code in (409, 422), r.status_code
    assert "第九十九条" in r.text and "跟进检查记录缺失" in r.text and any(w in text_of(r.text) for w in ("未能办理", "填写的内容有误"))
    good = {**bad, "article": "第十二条"}
    _location(pages.post("member", f"/inspections/{iid}/events/record_finding", good))
    page = pages.get("member", f"/inspections/{iid}").text
    fid = int(re.search(r'href="/findings/(\d+)"', page).group(1))  # type: ignore[union-attr]
    assert "补充跟进检查记录" in page and "整改中" in page
    # the community sees its finding on its to-do page, as a page, and rectifies it there
    assert f'href="/findings/{fid}"' in pages.get("secretary", "/").text
    finding = pages.get("secretary", f"/findings/{fid}").text
    # the community may not open the inspection (第十九条): its page links none; the committee's does
    assert f'href="/inspections/{iid}"' not in finding and 'href="/inspections"' not in finding.split("<main")[-1]
    assert f'href="/inspections/{iid}"' in pages.get("member", f"/findings/{fid}").text
    assert "提交整改情况" in finding and "第十二条" in finding
    _location(pages.post("secretary", f"/findings/{fid}/events/submit_rectification",
                         {"text": "已补充三月份跟进检查记录并归档"}))
    # the member who recorded it may not verify it: a second person does (第十九条)
    r = pages.post("member", f"/findings/{fid}/events/verify_rectification", {})
    assert r.status_code == 409 and "未能办理" in text_of(r.text)
    assert _location(pages.post("member2", f"/findings/{fid}/events/verify_rectification", {})) \
        == f"/findings/{fid}?done=verify_rectification"
    done = text_of(pages.get("member2", f"/findings/{fid}?done=verify_rectification").text)
    assert "已整改销号" in done and "已补充三月份跟进检查记录并归档" in done


def test_inspections_are_the_area_s_and_a_form_needs_its_token(pages: Pages, world: World, clock_at: Clock) -> None:
    clock_at.set(on("2026-04-01"))
    iid = _plan(pages, world)
    assert pages.get("finance", f"/inspections/{iid}").status_code == 200  # finance reads (第十八条)
    for who in ("secretary", "other_community", "other_area_wsec"):
        r = pages.get(who, f"/inspections/{iid}")
        assert r.status_code == 403 and "第十九条" in r.text, who
    assert "安排定期检查" not in pages.get("finance", "/inspections").text  # finance reads, does not plan
    r = pages.post("member", f"/inspections/{iid}/events/start_inspection", {}, csrf=False)
    assert r.status_code == 403
    assert "检查中" not in pages.get("member", f"/inspections/{iid}").text


def test_red_flags_are_listed_for_the_area_and_dismissed_only_with_a_reason(pages: Pages, world: World,
                                                                          drv: Driver) -> None:
    # one payee on no-invoice vouchers in three projects (rules.redflags: repeated individual payee)
    for n in range(3):
        drv.new_project("closed", amount="3000.00", title=f"困难老人助餐服务{n}", category="hardship",
                        contractor="张桂兰", contractor_kind="individual", is_aid=True)
    html = pages.get("member", "/flags?year=2026").text
    assert "张桂兰" in text_of(html) and "第十三条" in html and "排除此疑点" in html
    keys = re.findall(r'action="/flags/([A-Z0-9]+)/2026/([a-z_]+-[0-9a-f]{16})/dismiss"', html)
    assert keys, text_of(html)[:1500]
    area, key = keys[0]
    assert pages.get("secretary", "/flags").status_code == 403  # communities do not read the flags
    r = pages.post("member", f"/flags/{area}/2026/{key}/dismiss", {"reason": ""})
    assert r.status_code == 422 and "须填写理由" in text_of(r.text) and "第十九条" in text_of(r.text)
    r = pages.post("member", f"/flags/{area}/2026/{key}/dismiss", {"reason": "均为经联席会议决定的困难群众帮扶"})
    assert _location(r) == f"/flags?area={area}&year=2026&done=dismiss"
    after = text_of(pages.get("member", f"/flags?area={area}&year=2026&done=dismiss").text)
    assert "已排除" in after and "均为经联席会议决定的困难群众帮扶" in after
    assert pages.get("finance", f"/flags?area={area}&year=2026").status_code == 200


def test_the_to_do_pages_and_the_overview_show_what_inspection_asks(pages: Pages, world: World, drv: Driver,
                                                                    clock_at: Clock) -> None:
    """The working committee sees the inspections it must carry out, finance the audits it owes after settlement
    (事后审计), and the overview each community's findings not yet verified, linking to its inspections."""
    closed = drv.new_project("closed")
    clock_at.set(on("2026-04-01"))
    # finance owes an audit of the settled project until it records one (第十八条)
    todo = pages.get("finance", "/").text
    assert "事后审计并登记审计结论" in todo and f'href="/projects/{closed}#act-record_audit"' in todo
    _location(pages.post("finance", f"/projects/{closed}/events/record_audit",
                         {"outcome": "compliant", "conclusion": "账实相符,票据齐全"}))
    assert f'href="/projects/{closed}#act-record_audit"' not in pages.get("finance", "/").text
    # a planned inspection is on the committee's to-do page until it is completed (第十九条)
    iid = _plan(pages, world)
    todo = text_of(pages.get("member", "/").text)
    assert "开始检查" in todo and f"定期检查 #{iid} 一季度定期检查" in todo
    _location(pages.post("member", f"/inspections/{iid}/events/start_inspection", {}))
    todo = text_of(pages.get("wsec", "/").text)
    assert "记录检查发现并完成检查" in todo and f"定期检查 #{iid}" in todo
    _location(pages.post("member", f"/inspections/{iid}/events/record_finding",
                         {"article": "第十二条", "description": "跟进检查记录缺失", "requirement": "补充跟进检查记录",
                          "workdays": "5"}))
    # the overview counts the community's finding until it is verified, and links to its inspections
    overview = pages.get("wsec", "/overview?year=2026&sort=findings&order=desc").text
    assert "整改未销号" in overview
    row = re.search(r'<a href="/fund-years/(\d+)/2026">[^<]*</a>.*?</tr>', overview, re.S)
    assert row and int(row.group(1)) == world.c0, "the community with a finding sorts first"
    assert f'<a href="/inspections?community={world.c0}">1</a>' in row.group(0)
    listed = pages.get("wsec", f"/inspections?community={world.c0}").text
    assert f'href="/inspections/{iid}"' in listed
    assert f'href="/inspections/{iid}"' not in pages.get("wsec", f"/inspections?community={world.c1}").text
    # the city administrator sees the count but has no inspections to open
    city = pages.get("admin", "/overview?year=2026").text
    assert "整改未销号" in city and "/inspections?community=" not in city
    _location(pages.post("member", f"/inspections/{iid}/events/complete_inspection", {"summary": "已检查一季度项目"}))
    assert f"定期检查 #{iid}" not in text_of(pages.get("member", "/").text)
