"""Everything the demo puts on the notice board is free of personal data (SPEC section 4, privacy).

The demo has aid projects whose recipients are named, a resident's objection with a mobile number
and payees with bank accounts; none of it may appear unmasked in any notice or archived notice.
"""
from __future__ import annotations

import pytest
from sqlalchemy import select

from rules.privacy import find_leaks
from store.models import Document, DocumentLink, Notice, Objection, PaymentItem, Project
from workflow.demo import build_demo


@pytest.fixture
def demo(db):
    build_demo(db)
    return db


def _aid_names(session) -> set[str]:
    names: set[str] = set()
    for p in session.execute(select(Project).where(Project.is_aid.is_(True))).scalars():
        if p.contractor_kind == "individual":
            names.add(p.contractor_name)
    for payee in session.execute(select(PaymentItem.payee).join(Project, Project.id == PaymentItem.project_id)
                                 .where(Project.is_aid.is_(True))).scalars():
        names.add(payee)
    return {n for n in names if n}


def test_demo_has_private_data_to_protect(demo):
    with demo.uow(write=False) as uow:
        s = uow.session
        assert "张桂兰" in _aid_names(s)
        assert s.execute(select(Objection.contact)).scalars().first() == "13912345678"
        kinds = set(s.execute(select(Notice.kind)).scalars())
    assert {"publicity", "completion", "voucher_payment", "termination"} <= kinds


def test_no_notice_leaks_personal_data(demo):
    with demo.uow(write=False) as uow:
        s = uow.session
        names = _aid_names(s)
        notices = list(s.execute(select(Notice)).scalars())
        archived = list(s.execute(select(Document).join(DocumentLink, DocumentLink.document_sha256 == Document.sha256)
                                  .where(DocumentLink.role.like("notice_%"))).scalars())
    assert notices and archived
    for n in notices:
        assert find_leaks(f"{n.title}\n{n.body}", names) == [], n.title
    for d in archived:
        assert find_leaks(d.content.decode("utf-8"), names) == [], d.filename


def test_the_scan_would_catch_a_leak():
    assert find_leaks("收款人张桂兰,电话13912345678", {"张桂兰"})


def test_no_public_page_leaks_personal_data(demo):
    """Every public API page of the demo (notice board, each notice, each year's disclosure), anonymous."""
    from fastapi.testclient import TestClient

    from api.app import create_app
    from store.models import FundYear

    with demo.uow(write=False) as uow:
        names = _aid_names(uow.session)
        years = uow.session.execute(select(FundYear.community_id, FundYear.year)).all()
    pages: list[str] = []
    with TestClient(create_app(database=demo)) as client:
        communities = client.get("/api/v1/public/communities")
        assert communities.status_code == 200
        pages.append(communities.text)
        listing = client.get("/api/v1/public/notices", params={"limit": 200})
        assert listing.status_code == 200
        pages.append(listing.text)
        items = listing.json()["items"]
        assert len(items) >= 5
        for item in items:
            r = client.get(f"/api/v1/public/notices/{item['id']}")
            assert r.status_code == 200
            pages.append(r.text)
        disclosed = 0
        for community_id, year in years:
            r = client.get(f"/api/v1/public/disclosures/{community_id}/{year}")
            assert r.status_code in (200, 404)
            if r.status_code == 200:
                disclosed += 1
                pages.append(r.text)
    assert disclosed >= 1, "the demo discloses at least one year"
    everything = "\n".join(pages)
    assert "建议先改造5号楼2单元" in everything and "王**" in everything  # the objection is public ...
    for page in pages:
        assert find_leaks(page, names) == []  # ... but nothing personal is
    assert "13912345678" not in everything
