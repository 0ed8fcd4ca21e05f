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
    assert {"publicity", "completion", "voucher_payment"} <= kinds


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
