"""Example data of every document (plain data, no database): what the tests draw and check, and what
``bench/documents.py`` times. ``annual(projects=500)`` is the annual report of a large community."""
from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from documents.model import (
    AcceptanceRecord,
    AnnualDisclosure,
    AnnualReport,
    ApplicationForm,
    AreaSummary,
    Attendee,
    BoardRecord,
    CategoryRow,
    Change,
    ChangeFiling,
    CommunityYearRow,
    Evidence,
    LedgerBook,
    LedgerRow,
    LineItemRow,
    MeetingMinutes,
    MeetingResult,
    NeedRow,
    NoticeDoc,
    ObjectionRow,
    PaymentVoucher,
    Period,
    Person,
    ProjectRow,
    Visit,
)

SH = ZoneInfo("Asia/Shanghai")


def at(day: str, hour: int = 9, minute: int = 0) -> dt.datetime:
    return dt.datetime.fromisoformat(day).replace(hour=hour, minute=minute, tzinfo=SH)


COMMUNITY = "幸福社区"
ISSUER = "幸福社区党委"
AREA_ISSUER = "xx大社区党工委"


def application_form() -> ApplicationForm:
    return ApplicationForm(
        community=COMMUNITY, issuer=ISSUER, project_code="S01-2026-003", title="老旧小区路灯维修",
        category="物业管理服务", category_justification="", description="更换小区内损坏路灯 24 盏,改善居民夜间出行安全。",
        amount_fen=1_860_000, beneficiaries_count=300, beneficiaries_desc="3 号至 9 号楼居民", small_group=False,
        aid=False, contractor="xx市照明工程有限公司", contractor_kind="单位", planned_start=dt.date(2026, 3, 1),
        planned_end=dt.date(2026, 11, 30), proposer=Person("张明", "社区党委书记", at("2026-02-20")),
        state="已办结", forbidden_uses_declared=("社区办公开支", "社区工作者工资、补贴", "政府公共服务支出"),
        line_items=(LineItemRow("LED 路灯", 24, 70_000, 1_680_000, "C1902 维修和保养服务"),
                    LineItemRow("安装人工", 1, 180_000, 180_000, "C1902 维修和保养服务")),
        needs=(NeedRow("3号楼楼道灯不亮", "入户走访", 20, at("2026-02-18")),),
        preliminary=Person("李红梅", "社区党工委委员", at("2026-02-23")),
        meeting=MeetingResult(dt.date(2026, 2, 25), 5, 6, 9, 1, 1, "通过"),
        notice=Period(at("2026-02-25", 10), at("2026-03-03", 0), 3),
        objections=(ObjectionRow(at("2026-02-26"), "建议先修三号楼的灯", "已列入第一批", True),),
        declaration_signoff=Person("王芳", "社区议事监督委员会成员", at("2026-02-26")),
        received_at=at("2026-03-04", 10), approval_round=1, board_meeting=dt.date(2026, 3, 6),
        approvals=(Person("王建国", "社区党工委书记", at("2026-03-06", 15), "审批同意:同意实施"),
                   Person("陈立新", "社区建设管理委员会主任", None)),
        issued_at=at("2026-03-06", 15))


def notice() -> NoticeDoc:
    body = ("幸福社区党组织服务群众专项经费使用项目公示\n\n项目编号:S01-2026-003\n项目名称:老旧小区路灯维修\n"
            "服务类别:物业管理服务\n经费金额:18600.00 元\n直接受益:300 人(小区居民)\n承办方:xx市照明工程有限公司\n"
            "联席会议:2026-02-25 召开,赞成 9 票、反对 1 票、弃权 1 票。\n\n"
            "公示期:2026-02-25 10:00 至 2026-03-03 00:00(不少于 3 个工作日)。\n"
            "居民群众如有异议,请在公示期内通过公示栏或本系统提出。(依据《细则》第十条)\n")
    return NoticeDoc(notice_id=7, notice_kind="publicity", kind_label="项目公示", community=COMMUNITY, issuer=ISSUER,
                     title="项目公示:老旧小区路灯维修", body=body, period=Period(at("2026-02-25", 10), at("2026-03-03", 0), 3),
                     article="第十条", project_code="S01-2026-003", issued_at=at("2026-02-25", 10))


def minutes() -> MeetingMinutes:
    attendees = tuple(Attendee(f"两委委员{i}", "社区“两委”成员") for i in range(1, 6)) + \
        tuple(Attendee(f"居民代表{i}", "居民代表") for i in range(1, 7))
    return MeetingMinutes(meeting_id=3, community=COMMUNITY, issuer=ISSUER, project_code="S01-2026-003",
                          project_title="老旧小区路灯维修", amount_fen=1_860_000, held_on=dt.date(2026, 2, 25),
                          attendees=attendees, votes_for=9, votes_against=1, votes_abstain=1, outcome="通过",
                          minutes="会议讨论了项目必要性、预算和实施方式。", recorded_by=Person("张明", "社区党委书记", at("2026-02-25", 10)),
                          issued_at=at("2026-02-25", 10))


def board_record() -> BoardRecord:
    return BoardRecord(meeting_id=4, community=COMMUNITY, issuer=AREA_ISSUER, project_code="S01-2026-003",
                       project_title="老旧小区路灯维修", amount_fen=1_860_000, received_at=at("2026-03-04", 10),
                       held_on=dt.date(2026, 3, 6), attendees=("王建国", "李红梅", "赵志强", "陈立新"),
                       minutes="班子会议研究了该项目申请,同意报主要领导审批。",
                       recorded_by=Person("李红梅", "社区党工委委员", at("2026-03-06", 11)), issued_at=at("2026-03-06", 11))


def acceptance_record() -> AcceptanceRecord:
    return AcceptanceRecord(acceptance_id=2, community=COMMUNITY, issuer=AREA_ISSUER, project_code="S01-2026-003",
                            project_title="老旧小区路灯维修", amount_fen=1_860_000, passed=True,
                            quality="工程质量合格,符合申请用途", satisfaction=95,
                            team=(Person("李红梅", "社区党工委委员"), Person("王芳", "社区议事监督委员会成员")),
                            supervisor_signoff=Person("王芳", "社区议事监督委员会成员", at("2026-05-10", 9)),
                            followups=(Visit(dt.date(2026, 4, 2), "李红梅", "现场查看,施工进度正常。"),),
                            recorded_by=Person("李红梅", "社区党工委委员", at("2026-05-10", 10)), issued_at=at("2026-05-10", 10))


def change_filing() -> ChangeFiling:
    return ChangeFiling(change_id=5, community=COMMUNITY, issuer=AREA_ISSUER, project_code="S01-2026-003",
                        project_title="老旧小区路灯维修", reason="材料到货延迟,申请延长工期",
                        changes=(Change("计划结束", "2026年11月30日", "2026年12月20日"),
                                 Change("金额(元)", "18600.00", "19800.00")),
                        requested_by=Person("张明", "社区党委书记", at("2026-04-10")), status="已同意并备案",
                        decided_by=Person("王建国", "社区党工委书记", at("2026-04-12")), issued_at=at("2026-04-12"))


def invoice_voucher() -> PaymentVoucher:
    return PaymentVoucher(payment_item_id=9, community=COMMUNITY, issuer=AREA_ISSUER, project_code="S01-2026-003",
                          project_title="老旧小区路灯维修", contractor="xx市照明工程有限公司", approved_fen=1_860_000,
                          invoice=True, amount_fen=1_860_000, payee="xx市照明工程有限公司",
                          payee_account="6222021234567890123", invoice_no="INV000003", status="已支付",
                          signatures=(Person("张明", "社区党委书记", at("2026-05-12", 9)),
                                      Person("陈立新", "社区建设管理委员会主任", at("2026-05-12", 14)),
                                      Person("王建国", "社区党工委书记", at("2026-05-13", 9))),
                          evidence=(), required_evidence=(), paid_by=Person("周敏", "党工委财务管理人员", at("2026-05-14", 10)),
                          issued_at=at("2026-05-14", 10))


def no_invoice_voucher() -> PaymentVoucher:
    kinds = ("事前会议集体讨论决定", "事中签字证明", "收款人签字", "事后公示")
    return PaymentVoucher(payment_item_id=10, community=COMMUNITY, issuer=AREA_ISSUER, project_code="S01-2026-004",
                          project_title="困难老人助餐服务", contractor="张*兰", approved_fen=900_000, invoice=False,
                          amount_fen=900_000, payee="张桂兰", payee_account="", invoice_no="", status="已支付",
                          signatures=(), evidence=tuple(Evidence(k, "张明", at("2026-05-12", 9 + i), f"材料 {i + 1:02d}ab34cd")
                                                        for i, k in enumerate(kinds[:3])),
                          required_evidence=kinds, paid_by=Person("周敏", "党工委财务管理人员", at("2026-05-14", 10)),
                          issued_at=at("2026-05-14", 10))


CATEGORY_NAMES = ("特困群体服务", "便民利民服务", "就业创业服务", "物业管理服务", "文体活动服务", "其他方面服务")
OUTCOMES = ("已办结", "实施中", "未批准", "已撤回", "建成公示中")


def annual(projects: int = 12, disclosure: bool = False) -> AnnualReport:
    rows = []
    for i in range(projects):
        amount = 300_000 + (i * 7_919) % 2_000_000
        outcome = OUTCOMES[i % len(OUTCOMES)]
        paid = amount if outcome == "已办结" else 0
        rows.append(ProjectRow(f"S01-2026-{i + 1:03d}", f"服务项目{i + 1}:老旧小区环境整治与便民服务", CATEGORY_NAMES[i % 6],
                               outcome, amount, paid, i % 9 == 0))
    cats = []
    for k, name in enumerate(CATEGORY_NAMES):
        mine = [r for r in rows if r.category == name]
        used = [r for r in mine if r.outcome in ("已办结", "实施中", "建成公示中")]
        cats.append(CategoryRow(name, len(mine), sum(r.amount_fen for r in used), sum(r.paid_fen for r in mine)))
        del k
    used_total = sum(c.used_fen for c in cats)
    paid_total = sum(c.paid_fen for c in cats)
    allocation = max(20_000_000, used_total + 1_000_000)
    small = sum(r.amount_fen for r in rows if r.small_group and r.outcome in ("已办结", "实施中", "建成公示中"))
    cls = AnnualDisclosure if disclosure else AnnualReport
    return cls(fund_year_id=2, community=COMMUNITY, issuer=ISSUER, year=2026, state="年度公示中",
               allocation_fen=allocation, carry_in_fen=123_456, committed_fen=used_total - paid_total, paid_fen=paid_total,
               carry_out_fen=None, small_group_fen=small, cap_fen=(allocation + 123_456) // 5, cap_ratio=(1, 5),
               categories=tuple(cats), projects=tuple(rows), summary="全年收集群众需求并开展服务项目,经费专款专用。",
               service_effect="群众对便民服务和环境整治总体满意。", evaluation="评议等次:好。程序规范。",
               submitted_at=at("2026-11-24"), issued_at=at("2026-12-08"),
               period=Period(at("2026-12-08"), at("2026-12-15", 0), 5) if disclosure else None)


def ledger() -> LedgerBook:
    rows = (LedgerRow(at("2026-01-01"), "allocation", "", "", "2026 年度拨付", 20_000_000, "allocation-S01-2026.txt", "a" * 64),
            LedgerRow(at("2026-03-06", 15), "commitment", "S01-2026-003", "老旧小区路灯维修", "S01-2026-003 批准", 1_860_000,
                      "approval-S01-2026-003-r1.txt", "b" * 64),
            LedgerRow(at("2026-05-14", 10), "payment", "S01-2026-003", "老旧小区路灯维修", "S01-2026-003 付款 #1 invoice",
                      1_800_000, "payment-1.txt", "c" * 64),
            LedgerRow(at("2026-05-15", 10), "release", "S01-2026-003", "老旧小区路灯维修", "S01-2026-003 结算结余释放",
                      60_000, "settlement-S01-2026-003.txt", "d" * 64))
    return LedgerBook(community=COMMUNITY, issuer=AREA_ISSUER, year=2026, rows=rows, issued_at=at("2026-05-15", 10))


def area_summary() -> AreaSummary:
    rows = tuple(CommunityYearRow(f"S0{i}", f"社区{i}", "执行中", 20_000_000, 100_000 * i, 1_000_000 * i, 500_000 * i,
                                  200_000 * i, 4_000_000, None, 3 + i, i, i % 2) for i in range(1, 6))
    return AreaSummary(area="xx大社区", issuer=AREA_ISSUER, year=2026, rows=rows, issued_at=at("2026-12-01"))


def every_pdf() -> dict[str, object]:
    """One example of every PDF document, by name."""
    return {"application_form": application_form(), "notice": notice(), "minutes": minutes(),
            "board_record": board_record(), "acceptance_record": acceptance_record(),
            "change_filing": change_filing(), "invoice_voucher": invoice_voucher(),
            "no_invoice_voucher": no_invoice_voucher(), "annual_report": annual(),
            "annual_disclosure": annual(disclosure=True)}
