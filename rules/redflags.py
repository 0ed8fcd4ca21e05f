"""Red flags (疑点): where the working committee's regular inspection (第十九条) and finance's supervision
(第十八条) should look. Pure functions over plain facts of one area's year; each flag has a stable code, the
articles it concerns (第十八/十九条 and the article the behaviour strains), a Chinese message with its figures,
and the evidence it found. A flag is a question to ask, not a refusal: thresholds come from policy data.

Not to be confused with the keyword flags of 第四条 (``LineItem.flagged_keywords``), which screen one
proposal's line items for forbidden uses.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import re
import unicodedata
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from functools import lru_cache

from rules.money import format_yuan
from rules.policy import Policy
from rules.verdict import OK, Verdict, refuse

ART_INSPECTION = "第十九条"
ART_FINANCE = "第十八条"

# ------------------------------------------------------------------------------------------ the answer


@dataclass(frozen=True)
class Evidence:
    """One reference a flag points to: ``kind`` (project, payment_item, line_item, meeting, followup,
    acceptance, approval, objection, post, audit_event, document, amount) and ``ref`` (an id, a project code,
    a sha256, or a yuan string), with a short Chinese label."""

    kind: str
    ref: str
    label: str = ""


@dataclass(frozen=True)
class Dismissal:
    """Who dismissed a flag, when, why, and the audit event that records it."""

    person_id: int
    person_name: str
    at: dt.datetime
    reason: str
    event_id: int


@dataclass
class FoundFlag:
    code: str
    article: str
    title: str
    message: str
    community_id: int | None
    """The community concerned; None for a flag over the whole area (e.g. a payee across communities)."""
    evidence: list[Evidence]
    key: str
    """Stable across recomputation: derived from the code and the records that make the flag, never from
    figures that move (a dismissal of the flag holds while the same records make it)."""
    dismissal: Dismissal | None = None

    @property
    def dismissed(self) -> bool:
        return self.dismissal is not None


@dataclass(frozen=True)
class FlagKind:
    code: str
    article: str
    title: str


KINDS: dict[str, FlagKind] = {k.code: k for k in [
    FlagKind("flag.split_project", "第九条、第十二条、第十九条", "疑似拆分项目"),
    FlagKind("flag.contractor_concentration", "第七条第(四)项、第十九条", "收款方集中"),
    FlagKind("flag.repeated_voucher_payee", "第十三条、第十九条", "同一个人多次无发票收款"),
    FlagKind("flag.price_out_of_line", "第十二条、第十八条", "单价明显偏高"),
    FlagKind("flag.rushed_objection", "第十条、第十九条", "异议仓促办结"),
    FlagKind("flag.last_day_approval", "第十一条、第十九条", "习惯在期限最后一天审批"),
    FlagKind("flag.december_spending", "第十三条、第十八条", "支出集中在十二月"),
    FlagKind("flag.backdated_record", "第十条、第十二条、第十九条", "记录日期远早于录入时间"),
    FlagKind("flag.entered_and_signed", "第十三条、第十九条", "同一人提出并签字付款"),
    FlagKind("flag.supervisor_paid", "第十四条、第十九条", "监督者收款"),
    FlagKind("flag.separate_posts", "第十四条、第十九条", "一人兼任应分离的岗位"),
    FlagKind("flag.low_satisfaction", "第十二条、第十九条", "验收满意度偏低"),
    FlagKind("flag.acceptance_without_followup", "第十二条、第十九条", "验收前无实施期间的跟进检查"),
]}

#: projects that never were a plan the fund pays for
DEAD_STATES = frozenset({"withdrawn", "rejected"})


def flag_key(code: str, community_id: int | None, subject: Iterable[str]) -> str:
    """``split_project-1a2b3c4d5e6f7a8b``: the code's name and a digest of what makes the flag (URL-safe)."""
    body = "|".join([code, str(community_id or 0), *sorted(subject)])
    return f"{code.removeprefix('flag.')}-{hashlib.sha256(body.encode('utf-8')).hexdigest()[:16]}"


def make_flag(code: str, community_id: int | None, subject: Iterable[str], message: str,
              evidence: Sequence[Evidence], article: str = "") -> FoundFlag:
    kind = KINDS[code]
    return FoundFlag(code=code, article=article or kind.article, title=kind.title, message=message,
                     community_id=community_id, evidence=list(evidence), key=flag_key(code, community_id, subject))


# ------------------------------------------------------------------------------------------ the facts


@dataclass(frozen=True)
class ProjectFact:
    id: int
    code: str
    community_id: int
    title: str
    category: str
    contractor_name: str
    contractor_kind: str
    amount_fen: int
    state: str
    proposed_at: dt.datetime
    proposer_id: int


@dataclass(frozen=True)
class YearFact:
    community_id: int
    total_fen: int
    """The community-year's funds: allocation + carry-in."""


@dataclass(frozen=True)
class PaymentFact:
    """A paid payment item."""

    item_id: int
    project_id: int
    community_id: int
    kind: str
    """``invoice`` | ``voucher``."""
    payee: str
    amount_fen: int
    paid_on: dt.date
    """Asia/Shanghai day of the payment."""
    entered_by: int | None
    """Who added the payment item (the ``add_payment_item`` event's actor)."""
    signer_ids: tuple[int, ...] = ()
    """The invoice's live signatures, in order."""


@dataclass(frozen=True)
class LineItemFact:
    id: int
    project_id: int
    community_id: int
    catalog_item: str
    description: str
    unit_price_fen: int
    quantity: int


@dataclass(frozen=True)
class ObjectionFact:
    id: int
    project_id: int
    community_id: int
    created_at: dt.datetime
    answered_at: dt.datetime | None
    resolved_at: dt.datetime | None
    resolution: str


@dataclass(frozen=True)
class ApprovalFact:
    id: int
    project_id: int
    community_id: int
    person_id: int
    person_name: str
    on: dt.date
    """Asia/Shanghai day of the approval."""
    last_day: dt.date | None
    """The last working day of the period (第十一条) the approval fell in; None when unknown."""


@dataclass(frozen=True)
class StatedDateFact:
    """A record that states its own date: a joint or board meeting's ``held_on``, a follow-up's ``visited_on``."""

    kind: str
    """``joint_meeting`` | ``board_meeting`` | ``followup``."""
    id: int
    project_id: int
    community_id: int
    stated_on: dt.date
    entered_on: dt.date
    """Asia/Shanghai day the record was entered."""


@dataclass(frozen=True)
class PostFact:
    id: int
    person_id: int
    person_name: str
    organisation_id: int
    role: str
    valid_from: dt.date
    valid_to: dt.date | None

    def held_on(self, day: dt.date) -> bool:
        return self.valid_from <= day and (self.valid_to is None or day <= self.valid_to)


@dataclass(frozen=True)
class ActFact:
    """An audited act by a person under a post (an audit event)."""

    event_id: int
    person_id: int
    post_id: int | None
    on: dt.date
    community_id: int


@dataclass(frozen=True)
class AcceptanceFact:
    id: int
    project_id: int
    community_id: int
    satisfaction: int
    on: dt.date
    approved_on: dt.date | None
    """The day the project was approved (works began); None when unknown."""
    visits: tuple[tuple[int, dt.date], ...] = ()
    """The project's follow-ups: (id, visited on)."""


@dataclass
class AreaFacts:
    """Everything the flags read of one area's year."""

    year: int
    area_id: int
    communities: dict[int, str] = field(default_factory=dict)
    """id → name."""
    projects: list[ProjectFact] = field(default_factory=list)
    years: list[YearFact] = field(default_factory=list)
    payments: list[PaymentFact] = field(default_factory=list)
    line_items: list[LineItemFact] = field(default_factory=list)
    objections: list[ObjectionFact] = field(default_factory=list)
    approvals: list[ApprovalFact] = field(default_factory=list)
    stated_dates: list[StatedDateFact] = field(default_factory=list)
    posts: list[PostFact] = field(default_factory=list)
    """The posts of the area and its communities."""
    acts: list[ActFact] = field(default_factory=list)
    """Acts of people who hold (at some time of the year) two posts that must be separate."""
    acceptances: list[AcceptanceFact] = field(default_factory=list)


# ------------------------------------------------------------------------------------------ helpers


@lru_cache(maxsize=65536)
def normalise_name(name: str) -> str:
    """A payee's or contractor's name as compared: NFKC, no spaces or punctuation, case-folded."""
    text = unicodedata.normalize("NFKC", name or "").casefold()
    return "".join(ch for ch in text if ch.isalnum())


_PARENS = re.compile(r"[((][^))]*[))]")


@lru_cache(maxsize=65536)
def normalise_item(description: str) -> str:
    """A line item's description as compared across projects: no parenthesised detail, spaces or punctuation."""
    return normalise_name(_PARENS.sub("", unicodedata.normalize("NFKC", description or "")))


def _pct(part: int, whole: int) -> str:
    if not whole:
        return "—"
    tenths = (part * 2000 + whole) // (2 * whole)  # per mille, rounded half up
    return f"{tenths // 10}.{tenths % 10}%"


def _fmt_fraction(f: Fraction) -> str:
    return _pct(f.numerator, f.denominator)


def _median(values: Sequence[int]) -> Fraction:
    ordered = sorted(values)
    n = len(ordered)
    mid = n // 2
    return Fraction(ordered[mid]) if n % 2 else Fraction(ordered[mid - 1] + ordered[mid], 2)


def _project_ev(p: ProjectFact) -> Evidence:
    return Evidence("project", str(p.id), f"{p.code} {p.title}({format_yuan(p.amount_fen)} 元)")


def _amount_ev(fen: int, label: str) -> Evidence:
    return Evidence("amount", format_yuan(fen), label)


# ------------------------------------------------------------------------------------------ the flags


def split_projects(f: AreaFacts, policy: Policy) -> list[FoundFlag]:
    """Projects of one community with the same category or contractor, proposed within the window, each under
    the procurement threshold while together above it (第九条 一事一议, 第十二条 purchases)."""
    window = dt.timedelta(days=policy.flag_split_window_days)
    limit = policy.flag_split_threshold_fen
    groups: dict[tuple[int, str, str], list[ProjectFact]] = defaultdict(list)
    for p in f.projects:
        if p.state in DEAD_STATES or p.amount_fen >= limit:
            continue
        groups[(p.community_id, "category", p.category)].append(p)
        if normalise_name(p.contractor_name):
            groups[(p.community_id, "contractor", normalise_name(p.contractor_name))].append(p)
    found: list[FoundFlag] = []
    seen: list[frozenset[int]] = []
    for (community, by, _value), members in sorted(groups.items(), key=lambda kv: (kv[0][0], kv[0][1] != "contractor",
                                                                                  kv[0][2])):
        members.sort(key=lambda p: (p.proposed_at, p.id))
        for i, first in enumerate(members):
            run = [p for p in members[i:] if p.proposed_at - first.proposed_at <= window]
            total = sum(p.amount_fen for p in run)
            ids = frozenset(p.id for p in run)
            if len(run) < 2 or total <= limit or any(ids <= s for s in seen):
                continue
            seen.append(ids)
            what = (f"同一承办方「{run[0].contractor_name}」" if by == "contractor"
                    else f"同一类别「{_CATEGORY_LABELS.get(run[0].category, run[0].category)}」")
            days = (run[-1].proposed_at - run[0].proposed_at).days
            message = (f"{f.communities.get(community, '')}在 {days} 天内提议了 {len(run)} 个{what}的项目,"
                       f"每个都低于采购限额 {format_yuan(limit)} 元,合计 {format_yuan(total)} 元超过限额,"
                       "疑似将一事拆分为多个项目。")
            found.append(make_flag("flag.split_project", community, [f"project:{i}" for i in ids], message,
                                   [*(_project_ev(p) for p in run), _amount_ev(total, "合计"),
                                    _amount_ev(limit, "采购限额")]))
    return found


_CATEGORY_LABELS = {"hardship": "特困群体服务", "convenience": "便民利民服务", "employment": "就业创业服务",
                    "property": "物业管理服务", "culture": "文体活动服务", "other": "其他方面服务"}


def contractor_concentration(f: AreaFacts, policy: Policy) -> list[FoundFlag]:
    """One payee paid more than a share of a community's year, or of the area's year across communities."""
    totals = {y.community_id: y.total_fen for y in f.years}
    by_community: dict[tuple[int, str], list[PaymentFact]] = defaultdict(list)
    by_area: dict[str, list[PaymentFact]] = defaultdict(list)
    for pay in f.payments:
        name = normalise_name(pay.payee)
        if name:
            by_community[(pay.community_id, name)].append(pay)
            by_area[name].append(pay)
    found: list[FoundFlag] = []
    share = policy.flag_payee_share_community
    for (community, name), pays in sorted(by_community.items()):
        paid, total = sum(p.amount_fen for p in pays), totals.get(community, 0)
        if total <= 0 or Fraction(paid, total) <= share:
            continue
        message = (f"{f.communities.get(community, '')}本年度向「{pays[0].payee}」支付 {format_yuan(paid)} 元,"
                   f"占该社区年度经费 {format_yuan(total)} 元的 {_pct(paid, total)},超过 {_fmt_fraction(share)}。")
        found.append(make_flag("flag.contractor_concentration", community, [f"payee:{name}"], message,
                               [*_payment_evs(pays), _amount_ev(paid, "支付合计"), _amount_ev(total, "社区年度经费")]))
    area_total = sum(totals.values())
    share = policy.flag_payee_share_area
    for name, pays in sorted(by_area.items()):
        communities = {p.community_id for p in pays}
        paid = sum(p.amount_fen for p in pays)
        if len(communities) < 2 or area_total <= 0 or Fraction(paid, area_total) <= share:
            continue
        message = (f"本大社区本年度有 {len(communities)} 个社区向「{pays[0].payee}」支付,合计 {format_yuan(paid)} 元,"
                   f"占大社区年度经费 {format_yuan(area_total)} 元的 {_pct(paid, area_total)},"
                   f"超过 {_fmt_fraction(share)}。")
        found.append(make_flag("flag.contractor_concentration", None, [f"area-payee:{name}"], message,
                               [*_payment_evs(pays), _amount_ev(paid, "支付合计"), _amount_ev(area_total, "大社区年度经费")]))
    return found


def _payment_evs(pays: Iterable[PaymentFact]) -> list[Evidence]:
    return [Evidence("payment_item", str(p.item_id),
                     f"{'发票' if p.kind == 'invoice' else '无发票凭证'} {format_yuan(p.amount_fen)} 元 "
                     f"付给「{p.payee}」({p.paid_on.isoformat()})") for p in sorted(pays, key=lambda p: p.item_id)]


def repeated_voucher_payees(f: AreaFacts, policy: Policy) -> list[FoundFlag]:
    """One payee on no-invoice vouchers (第十三条: only for an individual or aid) across several projects, or in
    more than one community."""
    by_name: dict[str, list[PaymentFact]] = defaultdict(list)
    for pay in f.payments:
        if pay.kind == "voucher" and normalise_name(pay.payee):
            by_name[normalise_name(pay.payee)].append(pay)
    found: list[FoundFlag] = []
    for name, pays in sorted(by_name.items()):
        projects = {p.project_id for p in pays}
        communities = {p.community_id for p in pays}
        if len(projects) < policy.flag_voucher_payee_projects and len(communities) < 2:
            continue
        paid = sum(p.amount_fen for p in pays)
        where = f"{len(communities)} 个社区" if len(communities) > 1 else f.communities.get(next(iter(communities)), "")
        message = (f"「{pays[0].payee}」本年度在{where}的 {len(projects)} 个项目中以无发票凭证(收款人签字)收款 "
                   f"{len(pays)} 笔,合计 {format_yuan(paid)} 元。")
        community = next(iter(communities)) if len(communities) == 1 else None
        found.append(make_flag("flag.repeated_voucher_payee", community, [f"voucher-payee:{name}"], message,
                               [*_payment_evs(pays), _amount_ev(paid, "合计")]))
    return found


def prices_out_of_line(f: AreaFacts, policy: Policy) -> list[FoundFlag]:
    """A line item's unit price above ``flag_price_ratio`` × the area's median for the same item (the same
    procurement-catalogue code and the same description, 第十二条)."""
    live = {p.id: p for p in f.projects if p.state not in DEAD_STATES}
    groups: dict[tuple[str, str], list[LineItemFact]] = defaultdict(list)
    for item in f.line_items:
        if item.project_id in live and item.catalog_item and normalise_item(item.description):
            groups[(item.catalog_item, normalise_item(item.description))].append(item)
    found: list[FoundFlag] = []
    for (catalog, _desc), items in sorted(groups.items()):
        if len(items) < policy.flag_price_min_samples:
            continue
        median = _median([i.unit_price_fen for i in items])
        for item in items:
            if median <= 0 or item.unit_price_fen <= median * policy.flag_price_ratio:
                continue
            p = live[item.project_id]
            tenths = int(Fraction(item.unit_price_fen * 10) / median)
            message = (f"{p.code}「{item.description}」单价 {format_yuan(item.unit_price_fen)} 元,是本大社区同一品目"
                       f"({catalog}){len(items)} 条明细中位数 {format_yuan(int(median))} 元的 {tenths // 10}.{tenths % 10} 倍。")
            found.append(make_flag("flag.price_out_of_line", p.community_id, [f"line_item:{item.id}"], message,
                                   [_project_ev(p), Evidence("line_item", str(item.id), item.description),
                                    _amount_ev(item.unit_price_fen, "单价"), _amount_ev(int(median), "中位数")]))
    return found


def rushed_objections(f: AreaFacts, policy: Policy) -> list[FoundFlag]:
    """An objection to a notice answered and settled by a supervisor's confirmation within hours of being raised
    (第十条: objections are answered before the notice is over; 第十四条: the supervisor checks the answer)."""
    limit = dt.timedelta(hours=policy.flag_rushed_objection_hours)
    projects = {p.id: p for p in f.projects}
    found: list[FoundFlag] = []
    for o in f.objections:
        if o.resolution != "confirmed" or o.resolved_at is None or o.resolved_at - o.created_at > limit:
            continue
        p = projects.get(o.project_id)
        minutes = int((o.resolved_at - o.created_at).total_seconds() // 60)
        message = (f"{p.code if p else ''} 公示期间的居民异议 #{o.id} 在提出后 {minutes // 60} 小时 {minutes % 60} 分钟内"
                   "即被答复并确认办结。")
        found.append(make_flag("flag.rushed_objection", o.community_id, [f"objection:{o.id}"], message,
                               [*([_project_ev(p)] if p else []), Evidence("objection", str(o.id), "居民异议")]))
    return found


def last_day_approvals(f: AreaFacts, policy: Policy) -> list[FoundFlag]:
    """A main leader who approves on the last day of the period (第十一条) as a habit: at least the policy's count
    and share of the person's approvals of the year."""
    by_person: dict[int, list[ApprovalFact]] = defaultdict(list)
    for a in f.approvals:
        if a.last_day is not None:
            by_person[a.person_id].append(a)
    found: list[FoundFlag] = []
    for person, approvals in sorted(by_person.items()):
        late = [a for a in approvals if a.on >= a.last_day]  # type: ignore[operator]
        if len(late) < policy.flag_last_day_min_count or Fraction(len(late), len(approvals)) < policy.flag_last_day_share:
            continue
        message = (f"{approvals[0].person_name}本年度的 {len(approvals)} 次审批中有 {len(late)} 次在审批期限的最后一个"
                   "工作日才作出。")
        found.append(make_flag("flag.last_day_approval", None, [f"approver:{person}"], message,
                               [Evidence("approval", str(a.id), f"项目 #{a.project_id} {a.on.isoformat()} 审批"
                                         f"(期限 {a.last_day.isoformat() if a.last_day else '—'})")
                                for a in late]))
    return found


def december_spending(f: AreaFacts, policy: Policy) -> list[FoundFlag]:
    """A community-year whose payments are concentrated in December (第十三条: a balance carries over, there is no
    reason to spend before the year ends)."""
    by_community: dict[int, list[PaymentFact]] = defaultdict(list)
    for pay in f.payments:
        by_community[pay.community_id].append(pay)
    found: list[FoundFlag] = []
    for community, pays in sorted(by_community.items()):
        december = [p for p in pays if p.paid_on.month == 12 and p.paid_on.year == f.year]
        paid, dec = sum(p.amount_fen for p in pays), sum(p.amount_fen for p in december)
        if (len(december) < policy.flag_december_min_payments or not paid
                or Fraction(dec, paid) <= policy.flag_december_share):
            continue
        message = (f"{f.communities.get(community, '')}本年度支付 {format_yuan(paid)} 元,其中 {format_yuan(dec)} 元"
                   f"({_pct(dec, paid)},{len(december)} 笔)在十二月支付,超过 {_fmt_fraction(policy.flag_december_share)}。")
        found.append(make_flag("flag.december_spending", community, [f"december:{community}"], message,
                               [*_payment_evs(december), _amount_ev(dec, "十二月支付"), _amount_ev(paid, "全年支付")]))
    return found


_STATED = {"joint_meeting": ("联席会议", "召开日期", "第十条、第十九条"),
           "board_meeting": ("党工委班子会议", "召开日期", "第十一条、第十九条"),
           "followup": ("跟进检查", "检查日期", "第十二条、第十九条")}


def backdated_records(f: AreaFacts, policy: Policy) -> list[FoundFlag]:
    """A record whose stated date (meeting held on, visited on) is much earlier than the day it was entered."""
    projects = {p.id: p for p in f.projects}
    found: list[FoundFlag] = []
    for r in f.stated_dates:
        gap = (r.entered_on - r.stated_on).days
        if gap <= policy.flag_backdate_days:
            continue
        what, field_label, article = _STATED[r.kind]
        p = projects.get(r.project_id)
        message = (f"{p.code if p else ''} 的{what}记录所载{field_label}为 {r.stated_on.isoformat()},"
                   f"却在 {r.entered_on.isoformat()} 才录入,相隔 {gap} 天(超过 {policy.flag_backdate_days} 天)。")
        kind = "followup" if r.kind == "followup" else "meeting"
        found.append(make_flag("flag.backdated_record", r.community_id, [f"{r.kind}:{r.id}"], message,
                               [*([_project_ev(p)] if p else []), Evidence(kind, str(r.id), what)], article=article))
    return found


def entered_and_signed(f: AreaFacts, policy: Policy) -> list[FoundFlag]:
    """The same person adding a payment item (proposing the payment) and signing its invoice (第十三条)."""
    projects = {p.id: p for p in f.projects}
    names = {p.person_id: p.person_name for p in f.posts}
    found: list[FoundFlag] = []
    for pay in f.payments:
        if pay.entered_by is None or pay.entered_by not in pay.signer_ids:
            continue
        p = projects.get(pay.project_id)
        who = names.get(pay.entered_by, f"#{pay.entered_by}")
        message = (f"{p.code if p else ''} 的付款事项 #{pay.item_id}({format_yuan(pay.amount_fen)} 元)由{who}提出,"
                   "又由其本人在发票上签字。")
        found.append(make_flag("flag.entered_and_signed", pay.community_id, [f"payment_item:{pay.item_id}"], message,
                               [*([_project_ev(p)] if p else []), *_payment_evs([pay])]))
    return found


#: the posts that watch or inspect a community's projects (第十二条、第十四条)
SUPERVISING_ROLES = frozenset({"supervisor", "working_member", "working_secretary"})


def supervisor_paid(f: AreaFacts, policy: Policy) -> list[FoundFlag]:
    """A payee whose name is that of a person who, on the day of the payment, supervised the community's
    projects (a supervisor of the community, a member of the area's working committee). Payees are recorded by
    name only, so the match is by name."""
    area_posts = [p for p in f.posts if p.role in SUPERVISING_ROLES]
    by_name: dict[str, list[PostFact]] = defaultdict(list)
    for post in area_posts:
        by_name[normalise_name(post.person_name)].append(post)
    projects = {p.id: p for p in f.projects}
    found: list[FoundFlag] = []
    for pay in f.payments:
        posts = [p for p in by_name.get(normalise_name(pay.payee), [])
                 if p.held_on(pay.paid_on) and p.organisation_id in (pay.community_id, f.area_id)]
        if not posts:
            continue
        p = projects.get(pay.project_id)
        post = posts[0]
        message = (f"{p.code if p else ''} 向「{pay.payee}」支付 {format_yuan(pay.amount_fen)} 元;付款之日同名人员"
                   f"担任{_ROLE_LABELS.get(post.role, post.role)},负责监督或检查该社区的项目。")
        found.append(make_flag("flag.supervisor_paid", pay.community_id, [f"payment_item:{pay.item_id}"], message,
                               [*([_project_ev(p)] if p else []), *_payment_evs([pay]),
                                *(Evidence("post", str(x.id), _ROLE_LABELS.get(x.role, x.role)) for x in posts)]))
    return found


_ROLE_LABELS = {"community_secretary": "社区党委书记", "community_staff": "社区党委委员/社区工作者",
                "supervisor": "社区议事监督委员会成员", "working_member": "社区党工委委员",
                "working_secretary": "社区党工委书记", "construction_director": "社区建设管理委员会主任",
                "finance_officer": "党工委财务管理人员", "city_admin": "市委组织部/财政"}

#: posts one person must not hold at once: the supervisors and the supervised (第十四条), finance and the people
#: whose invoices it pays (第十三条), the two main leaders whose two approvals are one check each (第十一条)
SEPARATE_POSTS: tuple[tuple[str, str], ...] = (
    ("supervisor", "community_secretary"),
    ("supervisor", "community_staff"),
    ("finance_officer", "community_secretary"),
    ("finance_officer", "construction_director"),
    ("finance_officer", "working_secretary"),
    ("working_secretary", "construction_director"),
)


def separate_posts(f: AreaFacts, policy: Policy) -> list[FoundFlag]:
    """A person holding two posts that must be separate, and acting while holding both."""
    by_person: dict[int, list[PostFact]] = defaultdict(list)
    for post in f.posts:
        by_person[post.person_id].append(post)
    acts: dict[int, list[ActFact]] = defaultdict(list)
    for act in f.acts:
        acts[act.person_id].append(act)
    found: list[FoundFlag] = []
    for person, posts in sorted(by_person.items()):
        for a, b in SEPARATE_POSTS:
            for pa in (p for p in posts if p.role == a):
                for pb in (p for p in posts if p.role == b):
                    if pa.id == pb.id:
                        continue
                    during = [x for x in acts.get(person, []) if pa.held_on(x.on) and pb.held_on(x.on)]
                    if not during:
                        continue
                    community = next((x.organisation_id for x in (pa, pb) if x.organisation_id in f.communities), None)
                    message = (f"{pa.person_name}同时担任{_ROLE_LABELS.get(a, a)}和{_ROLE_LABELS.get(b, b)},"
                               f"并在兼任期间办理了 {len(during)} 项事务。")
                    found.append(make_flag("flag.separate_posts", community, [f"posts:{pa.id}:{pb.id}"], message,
                                           [Evidence("post", str(pa.id), _ROLE_LABELS.get(a, a)),
                                            Evidence("post", str(pb.id), _ROLE_LABELS.get(b, b)),
                                            *(Evidence("audit_event", str(x.event_id), x.on.isoformat())
                                              for x in during[:20])]))
    return found


_ONE_DAY = dt.timedelta(days=1)


def thin_acceptance(f: AreaFacts, policy: Policy) -> list[FoundFlag]:
    """An acceptance (第十二条) with resident satisfaction under the policy's line, or with no follow-up visit
    during the works (every recorded visit dated before the approval or after the acceptance)."""
    projects = {p.id: p for p in f.projects}
    found: list[FoundFlag] = []
    for acc in f.acceptances:
        p = projects.get(acc.project_id)
        base = [*([_project_ev(p)] if p else []), Evidence("acceptance", str(acc.id), f"综合验收 {acc.on.isoformat()}")]
        if acc.satisfaction < policy.flag_satisfaction_line:
            message = (f"{p.code if p else ''} 综合验收的群众满意度为 {acc.satisfaction}%,低于 "
                       f"{policy.flag_satisfaction_line}%,仍判定为验收通过。")
            found.append(make_flag("flag.low_satisfaction", acc.community_id, [f"acceptance:{acc.id}"], message, base))
        start = acc.approved_on
        # a stated date is a day someone wrote down: a visit dated the day before the approval still counts
        during = [v for v in acc.visits if (start is None or v[1] >= start - _ONE_DAY) and v[1] <= acc.on]
        if not during:
            message = (f"{p.code if p else ''} 在 {acc.on.isoformat()} 综合验收,实施期间"
                       f"{'(自 ' + start.isoformat() + ' 批准起)' if start else ''}没有跟进检查记录。")
            found.append(make_flag("flag.acceptance_without_followup", acc.community_id, [f"acceptance:{acc.id}"],
                                   message, [*base, *(Evidence("followup", str(i), f"跟进检查 {d.isoformat()}")
                                                      for i, d in acc.visits)]))
    return found


RULES: tuple[Callable[[AreaFacts, Policy], list[FoundFlag]], ...] = (
    split_projects, contractor_concentration, repeated_voucher_payees, prices_out_of_line, rushed_objections,
    last_day_approvals, december_spending, backdated_records, entered_and_signed, supervisor_paid, separate_posts,
    thin_acceptance,
)


def find_flags(facts: AreaFacts, policy: Policy) -> list[FoundFlag]:
    """Every flag of the area's year, in a stable order (community, code, key)."""
    found = [flag for rule in RULES for flag in rule(facts, policy)]
    found.sort(key=lambda x: (x.community_id or 0, x.code, x.key))
    return found


# ------------------------------------------------------------------------------------------ dismissal


#: who dismisses a flag: the area's working committee, which inspects (第十九条)
DISMISSERS: tuple[str, ...] = ("working_secretary", "working_member")


def check_dismisser(role: str) -> Verdict:
    if role in DISMISSERS:
        return OK
    return refuse("flag.dismiss_not_allowed", "只有本大社区的党工委书记或委员可以排除疑点。", ART_INSPECTION)


def check_dismissal(reason: str, found: bool, already: bool) -> Verdict:
    """A flag is dismissed only with a reason (第十九条), once, and only a flag that is there."""
    if not found:
        return refuse("flag.not_found", "没有这个疑点(可能数据已变化,请刷新疑点列表)。", ART_INSPECTION)
    if already:
        return refuse("flag.already_dismissed", "该疑点已经排除过了。", ART_INSPECTION)
    if not (reason or "").strip():
        return refuse("flag.reason_required", "排除疑点须写明理由。", ART_INSPECTION)
    return OK
