"""No public page and no public JSON answer of the demo city shows an unmasked phone, ID or bank number, or the
full name of a resident (aid recipients, objectors, residents who posted needs, resident representatives) or of
any person with an account. The scan walks every notice, project timeline, disclosure and receipt anonymously."""
from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from rules.privacy import find_leaks
from store.models import FundYear, Need, Objection, PaymentItem, Person, Project
from workflow import demo_data
from workflow.demo import build_demo


@pytest.fixture
def demo(db: Any) -> Any:
    build_demo(db)
    return db


def _private(session: Any) -> set[str]:
    names = {p.contractor_name for p in session.execute(select(Project).where(
        Project.is_aid.is_(True), Project.contractor_kind == "individual")).scalars()}
    names |= set(session.execute(select(PaymentItem.payee).join(Project, Project.id == PaymentItem.project_id)
                                 .where(Project.is_aid.is_(True))).scalars())
    names |= set(session.execute(select(Objection.author_name)).scalars())
    names |= set(session.execute(select(Need.author_name)).scalars())
    names |= set(session.execute(select(Person.display_name)).scalars())
    names |= set(demo_data.RESIDENT_REPS)
    names.discard("市委组织部管理员")
    return {n for n in names if len(n) >= 2 and "*" not in n}


def _public_texts(db: Any) -> list[tuple[str, str]]:
    from api.app import create_app

    with db.uow(write=False) as uow:
        s = uow.session
        codes = list(s.execute(select(Project.code).where(Project.state != "draft")).scalars())
        receipts = [c for c in s.execute(select(Need.receipt_code)).scalars() if c]
        receipts += [c for c in s.execute(select(getattr(Objection, "receipt_code", Objection.text))).scalars()
                     if hasattr(Objection, "receipt_code") and c]
        years = s.execute(select(FundYear.community_id, FundYear.year)).all()
    out: list[tuple[str, str]] = []
    with TestClient(create_app(database=db, scheduler_mode="never")) as c:
        def get(url: str, allowed: tuple[int, ...] = (200,)) -> None:
            r = c.get(url)
            assert r.status_code in allowed, (url, r.status_code)
            out.append((url, r.text))

        get("/gongshi")
        get("/api/v1/public/communities")
        notices = c.get("/api/v1/public/notices", params={"limit": 200}).json()["items"]
        assert len(notices) >= 8
        for n in notices:
            get(f"/gongshi/notice/{n['id']}")
            get(f"/api/v1/public/notices/{n['id']}")
        for cid in {n["community_id"] for n in notices}:
            get(f"/gongshi?community={cid}")
        for code in codes:
            get(f"/gongshi/project/{code}")
            get(f"/api/v1/public/projects/{code}/timeline")
        for cid, year in years:
            get(f"/gongshi/disclosure/{cid}/{year}", (200, 404))
            get(f"/api/v1/public/disclosures/{cid}/{year}", (200, 404))
        for code in receipts:
            get(f"/gongshi/huizhi/{code}")
            get(f"/api/v1/public/needs/receipt/{code}")
        get("/gongshi/need")
    return out


def test_no_public_page_or_answer_leaks_personal_data(demo: Any) -> None:
    with demo.uow(write=False) as uow:
        names = _private(uow.session)
        contacts = {c for c in uow.session.execute(select(Need.contact)).scalars() if c}
        contacts |= {c for c in uow.session.execute(select(Objection.contact)).scalars() if c}
    assert {"张桂兰", "刘秀英", "王先生", "刘玉梅", "赵淑华"} <= names and len(contacts) >= 5
    pages = _public_texts(demo)
    assert len(pages) > 80
    everything = "\n".join(t for _u, t in pages)
    # what residents should see is there, masked ...
    assert "建议先改造5号楼2单元" in everything and "王**" in everything and "张**" in everything
    # ... and nothing personal is
    for url, text in pages:
        assert find_leaks(text, names) == [], url
    for contact in contacts:
        assert contact not in everything


def test_the_scan_catches_a_leak(demo: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """With the board's masking switched off, the same scan fails: it is not a scan that cannot fail."""
    import api.public

    monkeypatch.setattr(api.public, "public", lambda text, names=(): text or "")
    monkeypatch.setattr(api.public, "resident", lambda name: name or "匿名")
    with demo.uow(write=False) as uow:
        names = _private(uow.session)
    leaks = [u for u, text in _public_texts(demo) if find_leaks(text, names)]
    assert leaks, "unmasked receipts and timelines must be caught"
