"""Paging of the long lists (people and posts, fund years, the overview): page links that work without
JavaScript (plain links, followed here one after the other), the page size, one stable order across the
pages, totals of every row on every page, and an offset past the end showing the last page."""
from __future__ import annotations

import html
import re

import pytest
from sqlalchemy import select

from api.pages import reads
from store.models import Person
from tests.api.conftest import World
from tests.api.pages.conftest import Pages, text_of
from workflow.demo import Driver

PAGER = re.compile(r'<nav class="pager" aria-label="分页">(.*?)</nav>', re.S)
PERSON_ROW = re.compile(r"<tr>\s*<td>[^<]*(?:<span[^>]*>[^<]*</span>)?</td>\s*<td>([^<\s]+)", re.S)
YEAR_ROW = re.compile(r'<tr><td><a href="/fund-years/(\d+)/(\d+)">')
OVERVIEW_ROW = re.compile(r'<td><a href="/fund-years/(\d+)/2026">')


def _link(page: str, rel: str) -> str | None:
    """The address of the pager's ``rel`` link (first, prev, next, last), None when the page has none."""
    pager = PAGER.search(page)
    if pager is None:
        return None
    found = re.search(rf'<a href="([^"]+)" rel="{rel}">', pager.group(1))
    return html.unescape(found.group(1)) if found else None


def _walk(pages: Pages, who: str, url: str, row: re.Pattern[str]) -> list[list[str]]:
    """The rows of every page, following the 下一页 links from ``url`` to the last page."""
    out: list[list[str]] = []
    next_url: str | None = url
    while next_url is not None:
        r = pages.get(who, next_url)
        assert r.status_code == 200, r.text[:300]
        out.append(["/".join(m) if isinstance(m, tuple) else m for m in row.findall(r.text)])
        next_url = _link(r.text, "next")
        assert len(out) < 50, "the next links never end"
    return out


def _usernames(world: World) -> list[str]:
    with world.db.uow(write=False) as uow:
        return list(uow.session.execute(select(Person.username).order_by(Person.id)).scalars())


def test_people_are_paged_in_the_order_they_were_created(pages: Pages, world: World,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(reads, "PEOPLE_PAGE", 5)
    everyone = _usernames(world)
    assert len(everyone) > 10
    walked = _walk(pages, "admin", "/admin", PERSON_ROW)
    assert [len(p) for p in walked] == [5] * (len(everyone) // 5) + ([len(everyone) % 5] if len(everyone) % 5 else [])
    assert [u for p in walked for u in p] == everyone  # every person once, in one order
    first = pages.get("admin", "/admin").text
    pager = text_of(PAGER.search(first).group(1))  # type: ignore[union-attr]
    assert f"第 1 / {len(walked)} 页" in pager and f"每页 5 人,共 {len(everyone)} 人" in pager
    assert _link(first, "prev") is None and _link(first, "last") == f"/admin?offset={(len(walked) - 1) * 5}#people"
    # a page's own number is not a link; the others are
    assert '<strong aria-current="page">1</strong>' in first and 'href="/admin?offset=5#people">2</a>' in first
    # an offset past the end, or inside a page, shows the page that holds it
    last = pages.get("admin", "/admin?offset=100000").text
    assert PERSON_ROW.findall(last) == walked[-1] and _link(last, "next") is None
    assert PERSON_ROW.findall(pages.get("admin", "/admin?offset=7").text) == walked[1]
    # the appointment form still offers every person, whatever the page
    options = re.search(r'<select id="f-person_id" name="person_id">(.*?)</select>', last, re.S)
    assert options is not None and len(re.findall(r"<option value=\"\d+\"", options.group(1))) == len(everyone)


def test_a_short_list_has_no_page_links(pages: Pages, world: World) -> None:
    for url in ("/admin", "/fund-years", "/overview?year=2026"):
        assert PAGER.search(pages.get("admin", url).text) is None, url


def test_fund_years_are_paged_newest_year_first(pages: Pages, world: World, drv: Driver,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(reads, "FUND_YEAR_PAGE", 1)
    walked = _walk(pages, "admin", "/fund-years", YEAR_ROW)
    assert walked == [[f"{world.c0}/2026"], [f"{world.c1}/2026"]]
    # the year filter is kept in the page links
    page = pages.get("admin", "/fund-years?year=2026").text
    assert _link(page, "next") == "/fund-years?year=2026&offset=1"
    assert _walk(pages, "admin", "/fund-years?year=2025", YEAR_ROW) == [[]]


def test_the_overview_is_paged_in_its_sort_order_with_the_totals_of_every_row(
        pages: Pages, world: World, drv: Driver, monkeypatch: pytest.MonkeyPatch) -> None:
    drv.new_project("in_progress", community=1, amount="50000.00")
    monkeypatch.setattr(reads, "OVERVIEW_PAGE", 1)
    for order, expected in (("desc", [[str(world.c1)], [str(world.c0)]]), ("asc", [[str(world.c0)], [str(world.c1)]])):
        url = f"/overview?year=2026&sort=committed&order={order}"
        assert _walk(pages, "admin", url, OVERVIEW_ROW) == expected
        first = pages.get("admin", url).text
        # the sort is kept in the page links, and the totals are those of both communities on each page
        assert _link(first, "next") == f"/overview?year=2026&sort=committed&order={order}&offset=1"
        second = pages.get("admin", f"{url}&offset=1").text
        for page in (first, second):
            assert "合计(2 个社区)" in text_of(page) and "50,000.00" in text_of(page.split("<tfoot>")[1])
    # a sort link starts again from the first page
    second = pages.get("admin", "/overview?year=2026&sort=committed&order=desc&offset=1").text
    assert 'href="/overview?year=2026&amp;sort=paid&amp;order=desc"' in second
