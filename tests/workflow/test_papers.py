"""Documents drawn from the records of a real year (both databases): what each PDF says is what the records
say; public papers are masked; a printed code verifies, and says when a newer version replaced it."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest
from sqlalchemy import select

from documents.codes import display
from documents.text import cn_date, cn_datetime
from rules.money import format_yuan
from rules.privacy import find_leaks
from store.db import Database
from store.models import (
    Approval,
    ChangeRequest,
    FundYear,
    LedgerEntry,
    Meeting,
    Notice,
    PaymentItem,
    Person,
    Project,
    Signature,
)
from tests.documents.helpers import CJK, flat, fonts_drawn, text
from workflow import papers
from workflow.demo import SYSTEM, Driver
from workflow.engine import PUBLIC


@dataclass
class Year:
    invoice: int
    aid: int
    republished: int
    fund_year: int


def _year(driver: Driver) -> Year:
    invoice = driver.new_project("in_progress", title="老旧小区路灯维修", amount="18600.00")
    driver.fire(invoice, "request_change", driver.a("secretary"), {"changes": {"planned_end": "2026-12-20"}},
                reason="材料到货延迟,申请延长工期")
    driver.fire(invoice, "approve_change", driver.a("working_secretary"))
    driver.drive(invoice, "closed")
    aid = driver.new_project("closed", title="困难老人助餐服务", category="hardship", amount="9000.00", beneficiaries=12,
                             is_aid=True, contractor="张桂兰", contractor_kind="individual")
    again = driver.new_project("publicity", title="楼道照明改造", amount="8800.00")
    driver.fire(again, "object", PUBLIC, {"author_name": "王先生", "contact": "13912345678", "text": "建议先修三号楼"})
    driver.after_days(12)
    driver.fire(again, "publicity_elapsed", SYSTEM)
    driver.drive(again, "publicity")
    with driver.db.uow(write=False) as uow:
        fy = uow.session.execute(select(FundYear.id).where(FundYear.community_id == driver.city.communities[0].id,
                                                           FundYear.year == 2026)).scalar_one()
    return Year(invoice, aid, again, fy)


@pytest.fixture
def year(driver: Driver) -> Year:
    return _year(driver)


def _print(db: Database, kind: str, object_id: int) -> papers.Printed:
    with db.uow(write=False) as uow:
        printed = papers.render(uow.session, kind, object_id)
    with db.uow() as uow:
        papers.register(uow.session, kind, object_id, printed.doc, printed.owner, printed.sha256)
        uow.commit()
    return printed


def test_every_document_of_the_projects_is_printed_in_the_cjk_font_with_its_code(db: Database, year: Year) -> None:
    with db.uow(write=False) as uow:
        refs = [r for pid in (year.invoice, year.aid, year.republished)
                for r in papers.project_documents(uow.session, pid)]
        refs += papers.fund_year_documents(uow.session, year.fund_year)
    kinds = {r["kind"] for r in refs}
    assert kinds >= {"application_form", "minutes", "board_record", "notice", "change_filing", "acceptance_record",
                     "payment_voucher", "annual_report"}
    for ref in refs:
        printed = _print(db, ref["kind"], ref["object_id"])
        body = flat(printed.content)
        assert all(CJK in f for f in fonts_drawn(printed.content)), ref
        assert f"核验码{display(printed.code)}" in body and "第1页共" in body, ref
        again = _print(db, ref["kind"], ref["object_id"])
        assert again.content == printed.content, f"{ref}: the same records must give the same bytes"


def test_application_form_matches_the_records(db: Database, year: Year) -> None:
    printed = _print(db, "application_form", year.invoice)
    body = flat(printed.content)
    with db.uow(write=False) as uow:
        s = uow.session
        p = s.get(Project, year.invoice)
        assert p is not None
        meeting = s.execute(select(Meeting).where(Meeting.project_id == p.id, Meeting.kind == "joint")).scalar_one()
        board = s.execute(select(Meeting).where(Meeting.project_id == p.id, Meeting.kind == "board")).scalar_one()
        notice = s.execute(select(Notice).where(Notice.project_id == p.id, Notice.kind == "publicity")).scalar_one()
        approvals = s.execute(select(Approval, Person.display_name).join(Person, Person.id == Approval.person_id)
                              .where(Approval.project_id == p.id).order_by(Approval.id)).all()
    assert f"项目编号:{p.code}" in body and p.title in body
    assert f"申请金额{format_yuan(p.amount_fen)}元" in body and "人民币壹万捌仟陆佰元整" in body
    assert f"{cn_date(meeting.held_on)}召开" in body and "赞成9票、反对1票、弃权1票:通过" in body
    assert cn_datetime(notice.starts_at).replace(" ", "") + "起至" in body
    assert f"{cn_date(board.held_on)}召开" in body
    assert len(approvals) == 2
    for a, name in approvals:
        assert f"{name}于{cn_datetime(a.at).replace(' ', '')}审批同意" in body
    assert "计划完成2026年12月20日" in body, "the approved change is on the form"


def test_payment_voucher_shows_the_three_signatures_in_order(db: Database, year: Year) -> None:
    with db.uow(write=False) as uow:
        item = uow.session.execute(select(PaymentItem).where(PaymentItem.project_id == year.invoice)).scalar_one()
        sigs = uow.session.execute(select(Signature, Person.display_name).join(Person, Person.id == Signature.person_id)
                                   .where(Signature.payment_item_id == item.id).order_by(Signature.seq)).all()
    body = flat(_print(db, "payment_voucher", item.id).content)
    assert f"本次金额{format_yuan(item.amount_fen)}元" in body and item.invoice_no in body
    positions = []
    for (s, name), label in zip(sigs, ("社区党委书记", "社区建设管理委员会主任", "社区党工委书记"), strict=True):
        phrase = f"{label}已于{cn_datetime(s.at).replace(' ', '')}由{name}签字确认"
        assert phrase in body, phrase
        positions.append(body.index(phrase))
    assert positions == sorted(positions)


def test_change_filing_shows_before_and_after(db: Database, year: Year) -> None:
    with db.uow(write=False) as uow:
        change = uow.session.execute(select(ChangeRequest).where(ChangeRequest.project_id == year.invoice)).scalar_one()
    body = flat(_print(db, "change_filing", change.id).content)
    assert "计划结束2026年11月30日2026年12月20日" in body
    assert "材料到货延迟,申请延长工期" in body and "已同意并备案" in body


def test_public_papers_mask_the_aid_recipient_and_internal_ones_keep_her(db: Database, year: Year) -> None:
    with db.uow(write=False) as uow:
        notices = uow.session.execute(select(Notice.id, Notice.kind).where(Notice.project_id == year.aid)).all()
        item = uow.session.execute(select(PaymentItem.id).where(PaymentItem.project_id == year.aid)).scalar_one()
    assert {k for _i, k in notices} >= {"publicity", "completion", "voucher_payment"}
    for nid, _kind in notices:
        printed = _print(db, "notice", nid)
        assert printed.owner.public
        assert find_leaks(text(printed.content), ["张桂兰"]) == [] and "张桂兰" not in flat(printed.content), nid
    voucher = flat(_print(db, "payment_voucher", item).content)
    assert "张桂兰" in voucher and "事前会议集体讨论决定" in voucher and "事后公示" in voucher


def test_a_printed_form_is_superseded_when_the_approval_lands(db: Database, driver: Driver) -> None:
    pid = driver.new_project("pending_approval")
    driver.fire(pid, "record_board_meeting", driver.a("working_member1"), driver.board())
    before = _print(db, "application_form", pid)
    answer = papers.verify(db, before.code)
    assert answer is not None and answer["current"] and answer["status"] == "current"
    assert answer["record"]["project_code"] == before.doc.project_code
    driver.fire(pid, "approve", driver.a("working_secretary"))
    driver.fire(pid, "approve", driver.a("director"))
    with db.uow(write=False) as uow:
        last = uow.session.execute(select(Approval.at).where(Approval.project_id == pid)
                                   .order_by(Approval.id.desc()).limit(1)).scalar_one()
    # nobody printed the new version yet: verifying the old paper finds that its data changed
    answer = papers.verify(db, display(before.code).lower())
    assert answer is not None and answer["genuine"] and not answer["current"]
    assert answer["status"] == "superseded" and answer["superseded_at"] == last.astimezone(answer["superseded_at"].tzinfo)
    after = _print(db, "application_form", pid)
    assert answer["superseded_by"] == display(after.code)
    assert "已失效" in answer["message"] and display(after.code) in answer["message"]
    current = papers.verify(db, after.code)
    assert current is not None and current["current"]
    assert {f["label"] for f in current["facts"]} >= {"项目编号", "金额", "文件日期"}


def test_a_notice_posted_again_supersedes_the_first_one(db: Database, year: Year) -> None:
    with db.uow(write=False) as uow:
        first, second = uow.session.execute(select(Notice.id).where(Notice.project_id == year.republished)
                                            .order_by(Notice.id)).scalars().all()
    old = _print(db, "notice", first)
    answer = papers.verify(db, old.code)
    assert answer is not None and not answer["current"]
    new = _print(db, "notice", second)
    assert answer["superseded_by"] == display(new.code)
    assert answer["links"]["current"].endswith(new.code)
    fresh = papers.verify(db, new.code)
    assert fresh is not None and fresh["current"] and fresh["public"]
    assert any(f["label"] == "公示期" for f in fresh["facts"])
    assert fresh["links"]["notice"].endswith(f"/public/notices/{second}")


def test_a_code_fundflow_never_issued_is_not_genuine(db: Database, year: Year) -> None:
    assert papers.verify(db, "ZZZZ-ZZZZ-ZZZZ") is None
    assert papers.verify(db, "not a code") is None


def test_ledger_and_area_summary_follow_the_ledger_entries(db: Database, year: Year, driver: Driver) -> None:
    with db.uow(write=False) as uow:
        s = uow.session
        book = papers.ledger_book(s, year.fund_year)
        entries = s.execute(select(LedgerEntry).where(LedgerEntry.fund_year_id == year.fund_year)).scalars().all()
        summary = papers.area_summary(s, driver.city.area_id, 2026)
        fy = s.get(FundYear, year.fund_year)
        assert fy is not None
    assert len(book.rows) == len(entries)
    assert sum(r.amount_fen for r in book.rows if r.kind == "payment") == fy.paid_fen
    assert all(r.document_sha256 for r in book.rows if r.kind in ("commitment", "payment", "release"))
    assert [r.code for r in summary.rows] == [c.code for c in driver.city.communities]
    mine = summary.rows[0]
    assert (mine.paid_fen, mine.committed_fen, mine.projects, mine.closed) == (fy.paid_fen, fy.committed_fen, 3, 2)


def test_the_annual_disclosure_exists_once_the_disclosure_started_and_is_masked(db: Database, year: Year,
                                                                                driver: Driver) -> None:
    with db.uow(write=False) as uow, pytest.raises(papers.Unavailable):
        papers.annual_disclosure(uow.session, year.fund_year)
    driver.now = dt.datetime(2026, 11, 24, 9, 0, tzinfo=driver.now.tzinfo)
    driver.fire(year.fund_year, "submit_report", driver.a("secretary"),
                {"summary": "全年收集群众需求,开展服务项目三个,经费专款专用。", "service_effect": "张桂兰等困难老人得到助餐服务。"}, entity_type="fund_year")
    driver.fire(year.fund_year, "evaluate", driver.a("working_secretary"), {"rating": "good", "comment": "程序规范"},
                entity_type="fund_year")
    driver.now = dt.datetime(2026, 12, 8, 9, 0, tzinfo=driver.now.tzinfo)
    driver.fire(year.fund_year, "start_disclosure", driver.a("secretary"), {}, entity_type="fund_year")
    printed = _print(db, "annual_disclosure", year.fund_year)
    body = flat(printed.content)
    with db.uow(write=False) as uow:
        fy = uow.session.get(FundYear, year.fund_year)
        assert fy is not None
        codes = uow.session.execute(select(Project.code, Project.amount_fen).where(Project.fund_year_id == fy.id)).all()
    assert f"已支付{format_yuan(fy.paid_fen)}元" in body and f"年度拨付{format_yuan(fy.allocation_fen)}元" in body
    for code, amount in codes:
        assert code in body and format_yuan(amount) in body
    assert "公示期2026年12月8日起至" in body and "(5个工作日)" in body
    # (the chart's axis labels next to the amounts read as a spaced-out number to find_leaks: names only here)
    assert "张桂兰" not in body and "張桂蘭" not in body and "张*" in body
    report = flat(_print(db, "annual_report", year.fund_year).content)
    assert "评议等次:好。程序规范" in report and "张桂兰等困难老人" in report


def test_a_notice_is_verifiable_from_the_moment_it_is_posted(db: Database, driver: Driver) -> None:
    pid = driver.new_project("publicity")
    with db.uow(write=False) as uow:
        nid = uow.session.execute(select(Notice.id).where(Notice.project_id == pid)).scalar_one()
        shown = papers.documents_of_notice(uow.session, nid)
    # nobody printed it yet: the board's page can show its code, and the code verifies
    answer = papers.verify(db, shown["code"])
    assert answer is not None and answer["current"] and answer["pdf_sha256"] is None
    with db.uow(write=False) as uow:
        ends = uow.session.get(Notice, nid).ends_at  # type: ignore[union-attr]
    from workflow import clock

    with clock.frozen(ends - dt.timedelta(hours=1)):
        assert "正在进行" in papers.verify(db, shown["code"])["message"]  # type: ignore[index]
    with clock.frozen(ends):
        assert "公示期已于" in papers.verify(db, shown["code"])["message"]  # type: ignore[index]
    printed = _print(db, "notice", nid)
    assert display(printed.code) == shown["code"] and shown["download"] == f"/api/v1/documents/notice/{nid}"
    assert papers.verify(db, printed.code)["pdf_sha256"] == printed.sha256  # type: ignore[index]


def test_notices_name_the_community_once(db: Database, year: Year) -> None:
    with db.uow(write=False) as uow:
        bodies = uow.session.execute(select(Notice.body)).scalars().all()
    assert bodies and all("社区社区" not in b for b in bodies)
    assert any(b.startswith("幸福社区党组织服务群众专项经费使用项目公示") for b in bodies)
