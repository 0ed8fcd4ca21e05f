"""Every document drawn from plain data: its Chinese text, amounts and dates read back from the PDF, the CJK
font embedded and used for every character, pages that are not blank, the same bytes for the same data."""
from __future__ import annotations

import dataclasses
import hashlib
import io

import openpyxl
import pytest

import documents
from documents import codes, fonts, notices, samples
from documents.excel import area_summary, ledger
from documents.text import cn_date, yuan_in_words
from tests.documents.helpers import CJK, flat, fonts_drawn, ink, page_count, pdffonts, rasterise, text

URL = "http://127.0.0.1:8000/v/"
EVERY = samples.every_pdf()


def draw(doc: object) -> tuple[bytes, str]:
    return documents.pdf(doc, lambda code: URL + code)


@pytest.mark.parametrize("name", sorted(EVERY))
def test_every_document_embeds_the_cjk_font_and_draws_every_character_with_it(name: str) -> None:
    pdf, _code = draw(EVERY[name])
    listed = pdffonts(pdf)
    cjk = [f for f in listed if CJK in f["name"]]
    assert cjk and all(f["emb"] == "yes" for f in cjk), listed
    assert fonts_drawn(pdf) and all(CJK in f for f in fonts_drawn(pdf)), fonts_drawn(pdf)


@pytest.mark.parametrize("name", sorted(EVERY))
def test_every_document_is_ink_on_paper_where_its_title_and_footer_are(name: str) -> None:
    pdf, _code = draw(EVERY[name])
    pages = rasterise(pdf, name)
    assert len(pages) == page_count(pdf)
    first = pages[0]
    # the title band, the body, and the footer (code, QR, page number) each carry ink
    assert ink(first, (0.1, 0.02, 0.9, 0.10)) > 0.01, "the title is blank"
    assert ink(first, (0.05, 0.15, 0.95, 0.70)) > 0.01, "the body is blank"
    assert ink(first, (0.75, 0.86, 0.95, 0.97)) > 0.10, "the QR code is missing"
    # a page with nothing drawn is white: the check can fail
    from PIL import Image

    assert ink(Image.new("L", first.size, 255), (0.1, 0.02, 0.9, 0.10)) == 0


@pytest.mark.parametrize("name", sorted(EVERY))
def test_same_data_same_bytes_and_a_change_gives_another_code(name: str) -> None:
    doc = EVERY[name]
    first, code = draw(doc)
    again, code_again = draw(dataclasses.replace(doc))
    assert hashlib.sha256(first).hexdigest() == hashlib.sha256(again).hexdigest()
    assert code == code_again
    changed = dataclasses.replace(doc, issuer=doc.issuer + "(更正)")  # type: ignore[attr-defined]
    other, other_code = draw(changed)
    assert other_code != code and other != first


@pytest.mark.parametrize("name", sorted(EVERY))
def test_every_page_is_numbered_and_carries_the_code(name: str) -> None:
    pdf, code = draw(EVERY[name])
    pages = page_count(pdf)
    body = flat(pdf)
    for n in range(1, pages + 1):
        assert f"第{n}页共{pages}页" in body
    assert body.count(f"核验码{codes.display(code)}") >= pages
    assert URL + code in text(pdf)


def test_application_form_says_everything_the_proposal_and_its_steps_recorded() -> None:
    f = samples.application_form()
    body = flat(draw(f)[0])
    for phrase in ("社区党组织服务群众专项经费使用申请审批表", "申请单位:幸福社区党委", f.project_code, f.title,
                   "18600.00元", "人民币壹万捌仟陆佰元整", "LED路灯", "700.00", "16800.00", "1800.00",
                   "C1902维修和保养", "3号楼楼道灯不亮", "入户走访", "2026年2月25日召开",
                   "赞成9票、反对1票、弃权1票:通过", "2026年2月25日10:00起至2026年3月2日24:00止", "不少于3个工作日",
                   "建议先修三号楼的灯", "社区党工委委员李红梅于2026年2月23日09:00初步同意",
                   "王建国于2026年3月6日15:00审批同意:同意实施", "社区建设管理委员会主任意见", "(尚未审批)",
                   "填表日期:2026年3月4日", "班子会议", "2026年3月6日召开", "社区工作者工资、补贴"):
        assert phrase in body, phrase
    # hand signatures: one blank line per block that the regulation wants signed
    assert body.count("签字:________________日期:______年____月____日") == 4


def test_notice_reads_as_posted_with_its_period_in_working_days_and_dates() -> None:
    n = samples.notice()
    pdf, code = draw(n)
    body = flat(pdf)
    for phrase in ("幸福社区党组织服务群众专项经费使用项目公示", "项目公示·项目编号S01-2026-003", "经费金额18600.00元",
                   "直接受益300人(小区居民)", "公示期2026年2月25日起至2026年3月2日24:00止(3个工作日)",
                   "居民群众如有异议", "扫码查看公示原文、核验真伪,公示期内可在线提出异议", "幸福社区党委",
                   "2026年2月25日"):
        assert phrase in body, phrase
    # the posted period line (raw instants) is replaced by the Chinese dates
    assert "2026-03-0300:00" not in body
    # large type for the notice board: the body is at least 14 pt
    import pdfplumber

    with pdfplumber.open(io.BytesIO(pdf)) as doc:
        sizes = [round(c["size"]) for c in doc.pages[0].chars if c["text"] == "经"]
    assert sizes and min(sizes) >= 14


def test_a_new_kind_of_notice_needs_only_its_line_of_data() -> None:
    n = dataclasses.replace(samples.notice(), notice_kind="termination", kind_label=notices.KINDS["termination"].label,
                            article=notices.KINDS["termination"].article,
                            body="幸福社区服务项目终止公示\n\n项目编号:S01-2026-003\n已支付:5000.00 元;释放:13600.00 元\n"
                                 "终止理由:承办方无法继续履约。\n")
    body = flat(draw(n)[0])
    for phrase in ("幸福社区服务项目终止公示", "项目终止公示", "已支付5000.00元", "释放13600.00元", "终止理由承办方无法继续履约。"):
        assert phrase in body, phrase


def test_notice_text_is_read_as_fields_items_and_paragraphs() -> None:
    heading, parts = notices.blocks("标题\n\n项目编号:S01\n批准金额:1.00 元;实际支付:0.50 元\n付款明细:\n- 发票 甲 1.00 元\n"
                                    "- 发票 乙 2.00 元\n公示期:x 至 y。欢迎监督。\n普通的一段话,没有冒号\n")
    assert heading == "标题"
    assert parts == [("fields", [("项目编号", "S01"), ("批准金额", "1.00 元"), ("实际支付", "0.50 元"), ("付款明细", "")]),
                     ("items", ["发票 甲 1.00 元", "发票 乙 2.00 元"]), ("text", "欢迎监督。"),
                     ("text", "普通的一段话,没有冒号")]


def test_records_carry_their_facts() -> None:
    checks = {
        "minutes": ("社区“两委”和居民代表联席会议记录", "共11人,其中社区“两委”成员5人、居民代表6人", "赞成9票、反对1票、弃权1票",
                    "居民代表6", "2026年2月25日"),
        "board_record": ("社区党工委班子会议记录", "王建国、李红梅、赵志强、陈立新(共4人)", "收到申请2026年3月4日",
                         "18600.00元"),
        "acceptance_record": ("服务项目综合验收记录", "验收通过", "95%", "工程质量合格", "社区议事监督委员会成员王芳2026年5月10日09:00",
                              "2026年4月2日", "现场查看"),
        "change_filing": ("服务项目变更备案表", "2026年11月30日", "2026年12月20日", "18600.00", "19800.00",
                          "材料到货延迟", "已同意并备案", "社区党工委书记王建国2026年4月12日09:00"),
        "invoice_voucher": ("社区党组织服务群众专项经费付款审批单", "发票结算", "INV000003", "人民币壹万捌仟陆佰元整",
                            "第1签社区党委书记", "已于2026年5月12日09:00由张明签字确认", "第2签社区建设管理委员会主任",
                            "已于2026年5月12日14:00由陈立新签字确认", "第3签社区党工委书记", "已于2026年5月13日09:00由王建国签字确认",
                            "已于2026年5月14日10:00由周敏与承办方直接结算"),
        "no_invoice_voucher": ("无发票结算(收款人签字凭证)", "事前会议集体讨论决定", "事中签字证明", "收款人签字", "事后公示(待补)",
                               "收款人张桂兰确认收到人民币玖仟元整(9000.00元)"),
    }
    for name, phrases in checks.items():
        body = flat(draw(EVERY[name])[0])
        for phrase in phrases:
            assert phrase in body, (name, phrase)
    # the invoice's three blocks stand in the regulation's order
    body = flat(draw(EVERY["invoice_voucher"])[0])
    assert body.index("第1签社区党委书记") < body.index("第2签社区建设管理委员会主任") < body.index("第3签社区党工委书记")


def test_annual_report_and_disclosure_give_totals_categories_the_small_group_line_and_every_project() -> None:
    r = samples.annual(12)
    body = flat(draw(r)[0])
    from rules.money import format_yuan

    for phrase in (f"年度拨付{format_yuan(r.allocation_fen)}元", f"上年结转{format_yuan(r.carry_in_fen)}元",
                   f"经费合计{format_yuan(r.total_fen)}元", f"已支付{format_yuan(r.paid_fen)}元",
                   f"结余{format_yuan(r.balance_fen)}元", f"上限{format_yuan(r.cap_fen)}元", "上限20.0%(第七条第(二)项)",
                   "特困群体服务", "各类别占用(元)", "年度工作总结", "评议等次:好", "报告单位(社区党委书记)"):
        assert phrase in body, phrase
    for p in r.projects:
        assert p.code in body and format_yuan(p.amount_fen) in body
    d = samples.annual(12, disclosure=True)
    public = flat(draw(d)[0])
    assert "年度党组织服务群众专项经费使用情况公示" in public and "年度工作总结" not in public
    assert "公示期2026年12月8日起至2026年12月14日24:00止(5个工作日)" in public


def test_the_annual_report_of_500_projects_runs_over_pages_with_its_header_repeated() -> None:
    pdf, _ = draw(samples.annual(500))
    pages = page_count(pdf)
    assert pages > 10
    body = flat(pdf)
    assert "S01-2026-500" in body and f"第{pages}页共{pages}页" in body
    assert body.count("项目编号项目名称使用范围办理结果金额(元)已支付(元)") >= pages - 3


def test_money_in_capital_figures_and_dates_in_chinese() -> None:
    assert yuan_in_words(1_860_000) == "壹万捌仟陆佰元整"
    assert yuan_in_words(1_234_567) == "壹万贰仟叁佰肆拾伍元陆角柒分"
    assert yuan_in_words(100_000_001) == "壹佰万元零壹分"
    assert yuan_in_words(10_010_000) == "壹拾万零壹佰元整"
    assert yuan_in_words(5) == "伍分"
    assert yuan_in_words(0) == "零元整"
    import datetime as dt

    assert cn_date(dt.date(2026, 11, 23)) == "2026年11月23日"
    # an instant is dated in Asia/Shanghai: 16:30 UTC is the next day there
    assert cn_date(dt.datetime(2026, 11, 22, 16, 30, tzinfo=dt.UTC)) == "2026年11月23日"


def test_codes_are_short_and_forgiving_to_type() -> None:
    code = documents.document_code(samples.notice())
    assert len(code) == 12 and set(code) <= set(codes.ALPHABET)
    shown = codes.display(code)
    assert codes.normalise(shown.lower()) == code
    assert codes.normalise(" ".join(shown.split("-"))) == code
    assert codes.normalise(code.replace("0", "O").replace("1", "l")) == code
    assert codes.normalise("NOT-A-CODE") is None and codes.normalise("") is None
    assert codes.code_of_digest(codes.data_sha256(samples.notice())) == code


def test_a_missing_font_fails_with_a_message_naming_the_debian_package(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fonts, "_registered", False)
    monkeypatch.setenv("FUNDFLOW_CJK_FONT", "/nonexistent/wqy-zenhei.ttc")
    with pytest.raises(fonts.FontMissing) as caught:
        draw(samples.notice())
    assert "fonts-wqy-zenhei" in str(caught.value) and "缺少中文字体" in str(caught.value)
    assert "install the Debian package" in str(caught.value)


def test_ledger_workbook_has_one_row_per_entry_with_running_figures_and_its_document() -> None:
    book = samples.ledger()
    content = ledger(book)
    assert content == ledger(dataclasses.replace(book)), "the same data gives the same bytes"
    ws = openpyxl.load_workbook(io.BytesIO(content)).active
    rows = list(ws.iter_rows(min_row=4, values_only=True))
    assert len(rows) == len(book.rows)
    first, commitment, payment, release = rows
    assert first[2] == "年度拨付" and first[6] == 200000 and first[10] == 200000
    assert commitment[3] == "S01-2026-003" and commitment[8] == 18600 and commitment[10] == 181400
    assert payment[9] == 18000 and payment[8] == 600
    assert release[10] == 182000 and release[11] == "settlement-S01-2026-003.txt" and release[12] == "d" * 64
    assert ws.cell(row=5, column=7).number_format == "#,##0.00"
    props = openpyxl.load_workbook(io.BytesIO(content)).properties
    assert props.creator == "fundflow" and props.modified.year == 2026


def test_area_summary_has_one_row_per_community_and_the_totals() -> None:
    s = samples.area_summary()
    content = area_summary(s)
    assert content == area_summary(dataclasses.replace(s))
    ws = openpyxl.load_workbook(io.BytesIO(content)).active
    rows = list(ws.iter_rows(min_row=4, values_only=True))
    assert [r[0] for r in rows] == ["S01", "S02", "S03", "S04", "S05", "合计"]
    s3 = rows[2]
    assert s3[3] == 200000 and s3[4] == 3000 and s3[5] == 203000 and s3[8] == 203000 - 30000 - 15000
    assert rows[-1][3] == 5 * 200000 and rows[-1][13] == sum(r.projects for r in s.rows)
