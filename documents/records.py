"""The records a step leaves on paper: joint-meeting minutes (Art. 10), the board-meeting record
(Art. 11), the acceptance record (Art. 12), the change filing (备案, Art. 11) and the payment
voucher (付款审批单, Art. 13) — invoice with its three signatures in order, or no-invoice voucher
with its evidence."""
from __future__ import annotations

from typing import Any

from reportlab.platypus import Spacer

from documents.layout import Styles, closing, fields, grid, header, para, render, signature_block, wide
from documents.model import (
    AcceptanceRecord,
    BoardRecord,
    ChangeFiling,
    MeetingMinutes,
    PaymentVoucher,
    Person,
    Stamp,
)
from documents.text import cn_date, cn_datetime, yuan, yuan_in_words
from rules.money import format_yuan


def _person(p: Person | None) -> str:
    if p is None:
        return "—"
    return " ".join(x for x in (p.role, p.name, cn_datetime(p.at)) if x)


def _footer(issuer: str, code: str, title: str) -> str:
    return f"{issuer} · {code} {title}"


def minutes(m: MeetingMinutes, stamp: Stamp) -> bytes:
    st = Styles(12)
    title = "社区“两委”和居民代表联席会议记录"
    story: list[Any] = header(st, title, m.issuer)
    two = sum(1 for a in m.attendees if a.capacity == "社区“两委”成员")
    story.append(fields([
        ("会议日期", cn_date(m.held_on)), ("会议记录", _person(m.recorded_by)),
        ("议题", wide(f"{m.project_code} {m.project_title}(申请金额 {yuan(m.amount_fen)})")),
        ("出席人数", wide(f"共 {len(m.attendees)} 人,其中社区“两委”成员 {two} 人、居民代表 {len(m.attendees) - two} 人")),
        ("表决", wide(f"赞成 {m.votes_for} 票、反对 {m.votes_against} 票、弃权 {m.votes_abstain} 票")),
        ("会议结果", wide(m.outcome)),
    ], st))
    story.append(para("出席人员", st.heading))
    rows: list[list[Any]] = [["序号", "姓名", "身份", "签到"]]
    rows += [[str(i), a.name, a.capacity, ""] for i, a in enumerate(m.attendees, 1)]
    story.append(grid(rows, [30, 150, 180, 150], st, header=True))
    story.append(para("会议纪要", st.heading))
    story.append(para(m.minutes or "—", st.indented))
    story.append(Spacer(1, 8))
    story.append(signature_block("主持人", [], st))
    story.append(Spacer(1, 6))
    story.append(signature_block("记录人", [_person(m.recorded_by)], st))
    story += closing(st, m.issuer, cn_date(m.held_on))
    return render(story, title=f"{title} {m.project_code}", issuer=m.issuer, stamp=stamp,
                  footer=_footer(m.issuer, m.project_code, m.project_title) + "(依据《细则》第十条)")


def board_record(b: BoardRecord, stamp: Stamp) -> bytes:
    st = Styles(12)
    title = "社区党工委班子会议记录"
    story: list[Any] = header(st, title, b.issuer)
    story.append(fields([
        ("会议日期", cn_date(b.held_on)), ("收到申请", cn_date(b.received_at, "—")),
        ("研究事项", wide(f"{b.community} {b.project_code} {b.project_title}(申请金额 {yuan(b.amount_fen)})")),
        ("出席人员", wide("、".join(b.attendees) + f"(共 {len(b.attendees)} 人)")),
        ("会议记录", wide(_person(b.recorded_by))),
    ], st))
    story.append(para("会议研究情况", st.heading))
    story.append(para(b.minutes or "—", st.indented))
    story.append(Spacer(1, 8))
    story.append(signature_block("主持人(社区党工委书记)", [], st))
    story += closing(st, b.issuer, cn_date(b.held_on))
    return render(story, title=f"{title} {b.project_code}", issuer=b.issuer, stamp=stamp,
                  footer=_footer(b.issuer, b.project_code, b.project_title) + "(依据《细则》第十一条)")


def acceptance_record(a: AcceptanceRecord, stamp: Stamp) -> bytes:
    st = Styles(12)
    title = "服务项目综合验收记录"
    story: list[Any] = header(st, title, a.issuer)
    story.append(fields([
        ("项目", wide(f"{a.community} {a.project_code} {a.project_title}")),
        ("批准金额", yuan(a.amount_fen)), ("验收结论", "验收通过" if a.passed else "验收不通过"),
        ("项目质量", wide(a.quality)),
        ("群众满意度", f"{a.satisfaction}%"), ("验收日期", cn_date(a.issued_at)),
        ("监督签字", wide(_person(a.supervisor_signoff))),
        ("记录人", wide(_person(a.recorded_by))),
    ], st))
    story.append(para("验收组成员(第十二条)", st.heading))
    rows: list[list[Any]] = [["序号", "姓名", "职务", "签字"]]
    rows += [[str(i), p.name, p.role, ""] for i, p in enumerate(a.team, 1)]
    story.append(grid(rows, [30, 130, 220, 130], st, header=True))
    if a.followups:
        story.append(para("专人跟进检查记录", st.heading))
        visits: list[list[Any]] = [["日期", "检查人", "情况"]]
        visits += [[cn_date(v.visited_on), v.name, v.notes] for v in a.followups]
        story.append(grid(visits, [90, 90, 330], st, header=True))
    story += closing(st, a.issuer, cn_date(a.issued_at))
    return render(story, title=f"{title} {a.project_code}", issuer=a.issuer, stamp=stamp,
                  footer=_footer(a.issuer, a.project_code, a.project_title) + "(依据《细则》第十二条)")


def change_filing(c: ChangeFiling, stamp: Stamp) -> bytes:
    st = Styles(12)
    title = "服务项目变更备案表"
    story: list[Any] = header(st, title, c.issuer, f"备案编号:{c.project_code}-变更{c.change_id}")
    story.append(fields([
        ("项目", wide(f"{c.community} {c.project_code} {c.project_title}")),
        ("申请人", wide(_person(c.requested_by))),
        ("变更理由", wide(c.reason)),
        ("办理结果", wide(c.status)),
        ("社区党工委", wide(_person(c.decided_by))),
    ], st))
    story.append(para("变更内容", st.heading))
    rows: list[list[Any]] = [["事项", "变更前", "变更后"]]
    rows += [[ch.field, ch.before, ch.after] for ch in c.changes]
    story.append(grid(rows, [110, 200, 200], st, header=True))
    story.append(Spacer(1, 8))
    story.append(signature_block("社区党工委意见", [_person(c.decided_by)], st))
    story += closing(st, c.issuer, cn_date(c.issued_at))
    return render(story, title=f"{title} {c.project_code}", issuer=c.issuer, stamp=stamp,
                  footer=_footer(c.issuer, c.project_code, c.project_title) + "(依据《细则》第十一条)")


def payment_voucher(v: PaymentVoucher, stamp: Stamp) -> bytes:
    st = Styles(12)
    title = "社区党组织服务群众专项经费付款审批单"
    kind = "发票结算" if v.invoice else "无发票结算(收款人签字凭证)"
    story: list[Any] = header(st, title, v.issuer, f"{v.community} · 付款事项 {v.project_code}-{v.payment_item_id}")
    pairs: list[tuple[str, Any]] = [
        ("项目", wide(f"{v.project_code} {v.project_title}")),
        ("承办方", v.contractor or "—"), ("批准金额", yuan(v.approved_fen)),
        ("结算方式", kind), ("发票号码", v.invoice_no or "—"),
        ("收款人", v.payee), ("收款账号", v.payee_account or "—"),
        ("本次金额", yuan(v.amount_fen)), ("状态", v.status),
        ("金额大写", wide(f"人民币{yuan_in_words(v.amount_fen)}")),
    ]
    story.append(fields(pairs, st))
    if v.invoice:
        story.append(para("发票签字(第十三条:依次签字确认)", st.heading))
        for i, s in enumerate(v.signatures, 1):
            line = f"已于 {cn_datetime(s.at)} 由 {s.name} 签字确认" if s.at is not None else "(尚未签字)"
            story.append(signature_block(f"第 {i} 签 {s.role}", [line], st, height=6))
            story.append(Spacer(1, 4))
    else:
        story.append(para("结算凭证材料(第十三条:事前会议集体讨论决定、事中签字证明、事后及时公示)", st.heading))
        done = {e.kind for e in v.evidence}
        rows: list[list[Any]] = [["材料", "登记人", "登记时间", "凭证"]]
        rows += [[e.kind, e.recorded_by, cn_datetime(e.at), e.reference] for e in v.evidence]
        rows += [[k, "(待补)", "", ""] for k in v.required_evidence if k not in done]
        story.append(grid(rows, [150, 80, 120, 160], st, header=True))
        story.append(Spacer(1, 6))
        story.append(signature_block("收款人签字", [f"收款人 {v.payee} 确认收到人民币{yuan_in_words(v.amount_fen)}"
                                                   f"({format_yuan(v.amount_fen)} 元)"], st))
    story.append(Spacer(1, 6))
    paid = (f"已于 {cn_datetime(v.paid_by.at)} 由 {v.paid_by.name} 与承办方直接结算"
            if v.paid_by is not None and v.paid_by.at is not None else "(尚未支付)")
    story.append(signature_block("财务结算(党工委财务管理人员)", [paid], st, signer="经办"))
    story += closing(st, v.issuer, cn_date(v.issued_at))
    return render(story, title=f"{title} {v.project_code}-{v.payment_item_id}", issuer=v.issuer, stamp=stamp,
                  footer=_footer(v.issuer, v.project_code, v.project_title) + "(依据《细则》第十三条、第十七条)")
