"""Project proposal rules: categories (第八条), forbidden uses (第四条), the small-group mark (第七条第(二)项)
and the content of a proposal (第九条, 一事一议).

Pure functions of plain data; every refusal cites its article.
"""
from __future__ import annotations

import unicodedata
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import date

from rules.money import format_yuan
from rules.verdict import OK, Verdict, first_refusal, refuse

ART_FORBIDDEN = "第四条"
ART_SMALL_GROUP = "第七条第(二)项"
ART_CATEGORY = "第八条"
ART_PROPOSAL = "第九条"

#: Art. 8: the six categories of use.
CATEGORIES: dict[str, str] = {
    "hardship": "特困群体服务",
    "convenience": "便民利民服务",
    "employment": "就业创业服务",
    "property": "物业管理服务",
    "culture": "文体活动服务",
    "other": "其他方面服务",
}

#: Art. 4: what the fund must never pay for; the proposer declares each one explicitly.
FORBIDDEN_USES: dict[str, str] = {
    "office": "社区办公开支",
    "worker_pay": "社区工作者工资、补贴",
    "government_service": "政府公共服务支出",
    "city_funded": "市委、市政府已有资金安排的服务项目",
    "property_company": "应由物业单位承担的费用",
}

#: the two kinds of contractor (承办方) a proposal may name.
CONTRACTOR_KINDS: dict[str, str] = {
    "organisation": "单位",
    "individual": "个人",
}

#: an "other" category proposal explains itself in at least this many characters.
MIN_JUSTIFICATION_CHARS = 10


# --------------------------------------------------------------------------------------------------
# Category (Art. 8)
# --------------------------------------------------------------------------------------------------

def check_category(category: str, justification: str) -> Verdict:
    """The category is one of the six of Art. 8; "other" needs a written justification (≥10 characters)."""
    if category not in CATEGORIES:
        allowed = "、".join(f"{label}({key})" for key, label in CATEGORIES.items())
        return refuse("category.invalid",
                      f"使用范围“{category}”不在第八条规定的六类之内,应为:{allowed}。", ART_CATEGORY)
    if category == "other" and len((justification or "").strip()) < MIN_JUSTIFICATION_CHARS:
        return refuse("category.other_needs_justification",
                      f"选择“其他方面服务”须书面说明属于社区群众迫切需要的服务事项的理由"
                      f"(至少 {MIN_JUSTIFICATION_CHARS} 个字)。", ART_CATEGORY)
    return OK


# --------------------------------------------------------------------------------------------------
# Forbidden uses (Art. 4)
# --------------------------------------------------------------------------------------------------

def check_forbidden_declaration(declaration: Mapping[str, bool]) -> Verdict:
    """Every forbidden use of Art. 4 must be declared explicitly False ("this project is not such a use").

    A use declared True is refused (``forbidden.declared_use``); a use not declared, or declared with
    anything but a boolean, is refused as undeclared (``forbidden.undeclared``). Unknown keys are ignored.
    """
    declared = [label for key, label in FORBIDDEN_USES.items() if declaration.get(key) is True]
    if declared:
        return refuse("forbidden.declared_use",
                      f"专项经费不得用于{'、'.join(declared)},该项目不能使用本经费。", ART_FORBIDDEN)
    missing = [label for key, label in FORBIDDEN_USES.items() if declaration.get(key) is not False]
    if missing:
        return refuse("forbidden.undeclared",
                      f"请逐项声明本项目不属于以下禁止用途:{'、'.join(missing)}。", ART_FORBIDDEN)
    return OK


def _normalise(text: str) -> str:
    return unicodedata.normalize("NFKC", text).casefold()


def screen_line_item(description: str, keywords: Sequence[str]) -> list[str]:
    """The keywords (from policy) that occur in a line item's description, in keyword order, no repeats.

    Full-width and half-width forms are treated alike (NFKC), so "（" matches "(".
    """
    text = _normalise(description or "")
    found: list[str] = []
    for word in keywords:
        w = _normalise(word).strip()
        if w and w in text and word not in found:
            found.append(word)
    return found


def check_flags_answered(flagged: Sequence[tuple[str, list[str]]], answer: str) -> Verdict:
    """A line item flagged by the keyword screen needs a written answer before submission (Art. 4).

    ``flagged`` holds (line item description, words found); items with no words are not flagged.
    """
    hits = [(desc, words) for desc, words in flagged if words]
    if hits and not (answer or "").strip():
        listed = ";".join(f"“{desc}”(含“{'”“'.join(words)}”)" for desc, words in hits)
        return refuse("forbidden.flag_unanswered",
                      f"以下明细可能属于禁止用途,须书面说明后方可报送:{listed}。", ART_FORBIDDEN)
    return OK


def flags_warning(flagged: Sequence[tuple[str, list[str]]], answer: str) -> Verdict:
    """At proposal and edit, an unanswered flag is a warning (the refusal comes at submission)."""
    v = check_flags_answered(flagged, answer)
    return OK if v.ok else Verdict(ok=True, code=v.code, message=v.message, article=v.article, warning=True)


#: the working committee's decision on a flagged line item (Art. 4), recorded in preliminary review.
FLAG_DECISIONS: dict[str, str] = {"cleared": "不属于禁止用途(解除提示)", "upheld": "属于禁止用途(维持提示)"}
MIN_FLAG_NOTE = 2


def check_flag_decision(found: bool, flagged_words: Sequence[str], decision: str, note: str) -> Verdict:
    """A flag decision names a flagged line item of the project, one of the two decisions, and why."""
    if not found:
        return refuse("forbidden.flag_item_not_found", "该项目没有此项支出明细", ART_FORBIDDEN)
    if not flagged_words:
        return refuse("forbidden.flag_not_flagged", "该明细没有禁止用途关键词提示,无需认定", ART_FORBIDDEN)
    if decision not in FLAG_DECISIONS:
        return refuse("forbidden.flag_decision_invalid", "认定结论须为解除提示(cleared)或维持提示(upheld)",
                      ART_FORBIDDEN)
    if len((note or "").strip()) < MIN_FLAG_NOTE:
        return refuse("forbidden.flag_note_missing", "请写明认定理由(已阅读社区的书面说明)", ART_FORBIDDEN)
    return OK


def check_flags_decided(items: Sequence[tuple[str, list[str], str]]) -> Verdict:
    """Preliminary consent needs the working committee's explicit decision on every flagged line item, and
    none of them upheld (Art. 4). ``items``: (description, words found, decision '' | cleared | upheld).

    The community's written explanation is what the committee reads; it clears nothing by itself."""
    flagged = [(desc, words, decision) for desc, words, decision in items if words]
    upheld = [desc for desc, _w, decision in flagged if decision == "upheld"]
    if upheld:
        return refuse("forbidden.flag_upheld",
                      f"以下明细经党工委认定属于第四条禁止用途,须退回修改后重新报送:{'、'.join(upheld)}。",
                      ART_FORBIDDEN)
    undecided = [f"“{desc}”(含“{'”“'.join(words)}”)" for desc, words, decision in flagged if decision != "cleared"]
    if undecided:
        return refuse("forbidden.flag_undecided",
                      f"以下明细有禁止用途关键词提示,须由党工委逐项认定(解除或维持)后方可初步同意:{';'.join(undecided)}。",
                      ART_FORBIDDEN)
    return OK


# --------------------------------------------------------------------------------------------------
# The plan, frozen from preliminary consent on (Art. 10)
# --------------------------------------------------------------------------------------------------

ART_NOTICE = "第十条"
#: after approval the plan changes only by an approved change request (Art. 11).
APPROVED_STATES = frozenset({"in_progress", "change_review", "acceptance", "settlement", "completion_publicity"})
ENDED_STATES = frozenset({"closed", "rejected", "withdrawn", "terminated"})


def check_plan_editable(state: str, state_label: str) -> Verdict:
    """The community edits its plan only while it is a draft (new, returned for revision, or voted down).

    From the working committee's preliminary consent on, the meeting, the notice and the approval all see
    the same plan: changing it means having it returned for revision."""
    if state == "draft":
        return OK
    if state in ENDED_STATES:
        how = "项目已结束,方案不能再修改"
    elif state in APPROVED_STATES:
        how = "项目已批准实施,方案不能直接修改;实施中确需变更的,须申请变更并经社区党工委同意(第十一条)"
    else:
        how = "方案已报党工委初步同意,联席会议、公示和审批须针对同一方案;如需修改,须由党工委退回修改"
    return refuse("proposal.plan_frozen", f"项目当前为「{state_label}」,{how}。", ART_NOTICE)


def check_edit_changes(changed: Collection[str]) -> Verdict:
    """An edit changes at least one field of the plan."""
    if changed:
        return OK
    return refuse("proposal.nothing_changed", "修改内容与现有方案相同,没有需要修改的内容。", ART_PROPOSAL)


# --------------------------------------------------------------------------------------------------
# Small-group mark (Art. 7(2))
# --------------------------------------------------------------------------------------------------

def is_small_group(beneficiaries: int, threshold: int, marked: bool) -> bool:
    """A project is small-group when its direct beneficiaries are below the threshold, or when marked so."""
    return beneficiaries < threshold or marked


def check_unmark(beneficiaries: int, threshold: int, currently_small_group: bool, wants_marked: bool) -> Verdict:
    """The committee may mark any project small-group, but may not take the status away from a project
    whose direct beneficiaries are below the threshold: there the status follows from the count.

    Refuses ``cap.cannot_unmark`` when ``beneficiaries < threshold`` and ``wants_marked`` is False.
    ``currently_small_group`` is the status before the change; it only shapes the message.
    """
    if beneficiaries < threshold and not wants_marked:
        state = "属于" if currently_small_group else "应属于"
        return refuse("cap.cannot_unmark",
                      f"该项目直接受益人数 {beneficiaries} 人,少于 {threshold} 人,{state}受益群体较小的项目,"
                      f"不能取消“受益群体较小”标记。", ART_SMALL_GROUP)
    return OK


# --------------------------------------------------------------------------------------------------
# Proposal (Art. 9)
# --------------------------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class LineItemData:
    description: str
    quantity: int
    unit_price_fen: int
    amount_fen: int
    #: the government procurement catalog item the purchase falls under (第十二条); may be filled later.
    catalog_item: str = ""


@dataclass(frozen=True, slots=True)
class Proposal:
    title: str
    description: str
    category: str
    justification: str
    amount_fen: int
    beneficiaries_count: int
    beneficiaries_desc: str
    contractor_name: str
    contractor_kind: str
    is_aid: bool
    planned_start: date | None
    planned_end: date | None
    line_items: tuple[LineItemData, ...]
    need_ids: tuple[int, ...]


def _is_int(v: object) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def check_line_items(amount_fen: int, line_items: Sequence[LineItemData]) -> Verdict:
    """Each line item is quantity × unit price, and the line items add up to the project's amount."""
    if not line_items:
        return refuse("proposal.line_items_mismatch",
                      f"经费使用方案须列明支出明细,明细合计应等于申请金额 {format_yuan(amount_fen)} 元。",
                      ART_PROPOSAL)
    for n, item in enumerate(line_items, start=1):
        name = item.description.strip() if item.description else ""
        if not name:
            return refuse("proposal.line_item_invalid", f"第 {n} 项明细缺少名称。", ART_PROPOSAL)
        if not _is_int(item.quantity) or item.quantity < 1:
            return refuse("proposal.line_item_invalid",
                          f"明细“{name}”的数量应为正整数,当前为 {item.quantity}。", ART_PROPOSAL)
        if not _is_int(item.unit_price_fen) or item.unit_price_fen < 0 or not _is_int(item.amount_fen):
            return refuse("proposal.line_item_invalid",
                          f"明细“{name}”的单价和金额应为非负的整数分。", ART_PROPOSAL)
        if item.amount_fen != item.quantity * item.unit_price_fen:
            return refuse("proposal.line_items_mismatch",
                          f"明细“{name}”金额 {format_yuan(item.amount_fen)} 元不等于数量 {item.quantity} × "
                          f"单价 {format_yuan(item.unit_price_fen)} 元 = "
                          f"{format_yuan(item.quantity * item.unit_price_fen)} 元。", ART_PROPOSAL)
    total = sum(item.amount_fen for item in line_items)
    if total != amount_fen:
        return refuse("proposal.line_items_mismatch",
                      f"支出明细合计 {format_yuan(total)} 元,与申请金额 {format_yuan(amount_fen)} 元不一致。",
                      ART_PROPOSAL)
    return OK


def check_proposal(p: Proposal) -> Verdict:
    """The content of a proposal (Art. 9, with the category of Art. 8). Returns the first refusal."""
    checks: list[Verdict] = []
    if not p.need_ids:
        checks.append(refuse("proposal.no_need",
                             "项目须采取一事一议方式,关联至少一条收集到的群众需求。", ART_PROPOSAL))
    if not (p.title or "").strip():
        checks.append(refuse("proposal.title_missing", "请填写项目名称。", ART_PROPOSAL))
    checks.append(check_category(p.category, p.justification))
    if not _is_int(p.amount_fen) or p.amount_fen <= 0:
        shown = format_yuan(p.amount_fen) if _is_int(p.amount_fen) else repr(p.amount_fen)
        checks.append(refuse("proposal.amount_not_positive",
                             f"申请金额须大于 0 元,当前为 {shown} 元。", ART_PROPOSAL))
    else:
        checks.append(check_line_items(p.amount_fen, p.line_items))
    if not _is_int(p.beneficiaries_count) or p.beneficiaries_count < 1:
        checks.append(refuse("proposal.beneficiaries_invalid",
                             f"直接受益人数须至少为 1 人,当前为 {p.beneficiaries_count}。", ART_PROPOSAL))
    if p.planned_start is not None and p.planned_end is not None and p.planned_end < p.planned_start:
        checks.append(refuse("proposal.dates_invalid",
                             f"计划完成日期 {p.planned_end.isoformat()} 早于计划开始日期 "
                             f"{p.planned_start.isoformat()}。", ART_PROPOSAL))
    if p.contractor_kind not in CONTRACTOR_KINDS:
        checks.append(refuse("proposal.contractor_kind_invalid",
                             f"承办方类型“{p.contractor_kind}”无效,应为单位(organisation)或个人(individual)。",
                             ART_PROPOSAL))
    return first_refusal(*checks)
