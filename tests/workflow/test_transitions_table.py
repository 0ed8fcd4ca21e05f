"""Every event from every state, on both databases (issue 2, acceptance: the table-driven test).

For each project state S (15) and each project trigger T (30), and for each fund-year state (6) and
fund-year trigger (5):

* T declared from S: every actor without an allowed post is refused with 403 ``auth.no_post``; every
  actor with an allowed post, with a valid payload, either succeeds along a declared transition or is
  refused by a rule (409). The pairs the main path uses are listed in ``EXPECTED_OK`` and must succeed;
  the declared pairs that the state alone cannot satisfy are listed in ``EXPECTED_REFUSED``, so the
  table is complete.
* T not declared from S: 409 ``workflow.invalid_state`` with a Chinese message.
* Every refusal writes nothing: the session holds no pending change, and every table (row counts and
  content) is as it was, read inside the refused transaction.

Each state is built once per test by firing real events (``Driver.new_project``); every firing then
runs in its own transaction that is rolled back, and the project row is re-read afterwards.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import re
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from store.db import Database
from store.models import AuditEvent, Base, FundYear, Project
from workflow import engine
from workflow.demo import City, Driver
from workflow.engine import PUBLIC, SYSTEM, Actor, Outcome
from workflow.machines import workflow_for
from workflow.services import fire_event

CHINESE = re.compile(r"[\u4e00-\u9fff]")
PROJECT_WF = workflow_for("project")
FUND_YEAR_WF = workflow_for("fund_year")
PROJECT_STATES = PROJECT_WF.states
PROJECT_TRIGGERS = PROJECT_WF.triggers()

#: the project every state is built from: an individual contractor, so that the no-invoice voucher
#: (Art. 13) as well as the invoice path can be exercised in ``settlement``.
PROJECT_KIND: dict[str, Any] = {"title": "小区路灯维修", "contractor": "王师傅", "contractor_kind": "individual"}


# ------------------------------------------------------------------------------------ snapshots

_COUNT_ONLY = {"calendar_days", "calendar_years"}


def snapshot(session: Session) -> dict[str, tuple[int, str]]:
    """Row count and a digest of the content of every table of ``store.models`` (calendar: count only).

    Read through the session's own connection, so that inside a transaction it sees that transaction.
    """
    tables = Base.metadata.sorted_tables
    conn = session.connection()
    out: dict[str, tuple[int, str]] = {}
    if conn.dialect.name == "postgresql":
        parts = []
        for t in tables:
            digest = ("''" if t.name in _COUNT_ONLY
                      else "md5(coalesce(string_agg(x::text, '|' ORDER BY x::text), ''))")
            parts.append(f"SELECT '{t.name}', count(*), {digest} FROM {t.name} x")
        for name, n, digest in conn.exec_driver_sql(" UNION ALL ".join(parts)):
            out[name] = (int(n), str(digest))
        return out
    for t in tables:
        if t.name in _COUNT_ONLY:
            out[t.name] = (int(conn.exec_driver_sql(f"SELECT count(*) FROM {t.name}").scalar_one()), "")
            continue
        rows = sorted(repr(r) for r in conn.exec_driver_sql(f"SELECT * FROM {t.name}").fetchall())
        out[t.name] = (len(rows), hashlib.sha256("|".join(rows).encode()).hexdigest())
    return out


def counts(session: Session) -> dict[str, int]:
    """Row counts of every table in one statement (the cheap check for early refusals)."""
    sql = " UNION ALL ".join(f"SELECT '{t.name}', count(*) FROM {t.name}" for t in Base.metadata.sorted_tables)
    return {name: int(n) for name, n in session.connection().exec_driver_sql(sql)}


def db_snapshot(db: Database) -> dict[str, tuple[int, str]]:
    with db.uow(write=False) as uow:
        return snapshot(uow.session)


def changed_tables(before: dict[str, tuple[int, str]], after: dict[str, tuple[int, str]]) -> list[str]:
    return sorted(k for k in set(before) | set(after) if before.get(k) != after.get(k))


def assert_session_clean(session: Session, what: str) -> None:
    """A refused firing leaves nothing pending in the session."""
    assert not session.new, f"{what}: refused but added {list(session.new)}"
    modified = [o for o in session.dirty if session.is_modified(o)]
    assert not modified, f"{what}: refused but modified {modified}"
    assert not session.deleted, f"{what}: refused but deleted {list(session.deleted)}"


def row_of(session: Session, entity_type: str, entity_id: int) -> tuple[str, int, str, int]:
    """(state, version, audit head, number of audit events) of one project or fund year."""
    model = Project if entity_type == "project" else FundYear
    events = (select(func.count()).select_from(AuditEvent)
              .where(AuditEvent.entity_type == entity_type, AuditEvent.entity_id == entity_id).scalar_subquery())
    state, version, head, n = session.execute(select(model.state, model.version, model.audit_head, events)
                                              .where(model.id == entity_id)).one()
    return str(state), int(version), str(head), int(n)


# --------------------------------------------------------------------------------------- actors

AREA_KEYS = ["working_secretary", "working_member1", "working_member2", "director", "finance"]
COMMUNITY_KEYS = ["secretary", "staff", "supervisor1", "supervisor2"]
AREA_ROLE = {"working_secretary": "working_secretary", "working_member1": "working_member",
             "working_member2": "working_member", "director": "construction_director", "finance": "finance_officer"}
COMMUNITY_ROLE = {"secretary": "community_secretary", "staff": "community_staff", "supervisor1": "supervisor",
                  "supervisor2": "supervisor"}

#: every actor of the test city: area people, the people of community 0 and 1, the city admin, public, system.
ACTOR_KEYS = (AREA_KEYS + [f"{k}@0" for k in COMMUNITY_KEYS] + [f"{k}@1" for k in COMMUNITY_KEYS]
              + ["admin", "public", "system"])


def actor(city: City, key: str) -> Actor:
    if key == "public":
        return PUBLIC
    if key == "system":
        return SYSTEM
    if key == "admin":
        assert city.admin is not None
        return city.admin
    if key in city.area_people:
        return city.area_people[key]
    name, index = key.split("@")
    return city.communities[int(index)].people[name]


def role_of(key: str) -> str:
    if key in ("public", "system", "admin"):
        return key
    return AREA_ROLE.get(key) or COMMUNITY_ROLE[key.split("@")[0]]


def has_post(key: str, roles: list[str], community: int = 0) -> bool:
    """Whether the actor may fire an event allowed to ``roles`` on an entity of ``community``."""
    if key == "system":
        return "system" in roles
    if "public" in roles:
        return True  # anyone is a resident
    if key in ("public", "admin"):
        return False
    if key in AREA_ROLE:
        return AREA_ROLE[key] in roles
    name, index = key.split("@")
    return int(index) == community and COMMUNITY_ROLE[name] in roles


# ------------------------------------------------------------------------ firing in a rolled-back tx


@dataclass
class Tx:
    """One transaction on one entity, never committed: setup firings plus the firing under test."""

    session: Session
    city: City
    entity_type: str
    entity_id: int
    state: str
    now: dt.datetime
    meeting: Callable[..., dict[str, Any]]
    board: Callable[[], dict[str, Any]]
    acceptance: Callable[[int], dict[str, Any]]

    def tick(self, minutes: int = 1) -> dt.datetime:
        self.now = self.now + dt.timedelta(minutes=minutes)
        return self.now

    def fire(self, trigger: str, key: str, payload: dict[str, Any] | None = None, reason: str = "",
             now: dt.datetime | None = None) -> Outcome:
        return engine.fire(self.session, self.entity_type, self.entity_id, trigger, actor(self.city, key), payload,
                           reason=reason, now=now or self.tick())

    def setup(self, trigger: str, key: str, payload: dict[str, Any] | None = None, reason: str = "") -> Outcome | None:
        """A preparatory firing; None when it does not apply in this state (the test then expects a refusal)."""
        out = self.fire(trigger, key, payload, reason)
        return out if out.ok else None


@dataclass
class Variant:
    """A way of firing a trigger: who fires it (designated right post), with what, after which setup."""

    name: str
    key: str
    build: Callable[[Tx], tuple[dict[str, Any] | None, str, dt.datetime | None]]
    """Runs the setup firings and returns (payload, reason, now for the firing under test)."""


def _plain(payload: dict[str, Any] | None = None, reason: str = "") -> Callable[[Tx], Any]:
    return lambda tx: (dict(payload or {}), reason, None)


OBJECTION = {"author_name": "王先生", "contact": "13912345678", "text": "建议先维修三号楼的灯,那里最暗。"}
MISSING_ID = 987654321


def _later(days: int) -> Callable[[Tx], Any]:
    return lambda tx: ({}, "", tx.now + dt.timedelta(days=days))


def _objected_then_later(tx: Tx) -> Any:
    tx.setup("object", "public", OBJECTION)
    return {}, "", tx.now + dt.timedelta(days=30)


def _answer(tx: Tx) -> Any:
    made = tx.setup("object", "public", OBJECTION)
    oid = made.data["objection_id"] if made else MISSING_ID
    return {"objection_id": oid, "answer": "已安排先行维修三号楼路灯。"}, "", None


def _answered(tx: Tx) -> int:
    made = tx.setup("object", "public", OBJECTION)
    oid = made.data["objection_id"] if made else MISSING_ID
    tx.setup("answer_objection", "secretary@0", {"objection_id": oid, "answer": "已安排先行维修三号楼路灯。"})
    return int(oid)


def _confirm(tx: Tx) -> Any:
    return {"objection_id": _answered(tx), "comment": "答复属实"}, "", None


def _accept_answer(tx: Tx) -> Any:
    from store.models import Objection

    oid = _answered(tx)
    code = tx.session.execute(select(Objection.receipt_code).where(Objection.id == oid)).scalar() or "ABCDEFGHJK"
    return {"objection_id": oid, "receipt_code": code}, "", None


def _flagged_item(tx: Tx) -> Any:
    """A keyword-flagged line item added in the transaction, for the committee to decide on."""
    from store.models import LineItem

    item = LineItem(project_id=tx.entity_id, description="活动室办公椅", quantity=1, unit_price_fen=0, amount_fen=0,
                    catalog_item="", flagged_keywords=["办公", "办公椅"])
    tx.session.add(item)
    tx.session.flush()
    return {"line_item_id": item.id, "decision": "cleared", "note": "活动室用椅,不属于办公开支"}, "", None


def _existing_item(tx: Tx) -> Any:
    from store.models import LineItem

    item = tx.session.execute(select(LineItem.id).where(LineItem.project_id == tx.entity_id)).scalars().first()
    return {"line_item_id": item or MISSING_ID, "decision": "cleared", "note": "经核实不属于禁止用途"}, "", None


TERMINATION = "承办方无法继续履约,经研究决定终止"


def _first_termination_then(tx: Tx) -> Any:
    tx.setup("terminate", "working_secretary", reason=TERMINATION)
    return {}, "同意终止", None


def _signoff(tx: Tx) -> Any:
    stage = {"acceptance": "acceptance", "completion_publicity": "write_off"}.get(tx.state, "declaration")
    return {"stage": stage, "comment": "经核查属实"}, "", None


def _resolve(tx: Tx) -> Any:
    made = tx.setup("raise_concern", "supervisor1@0", {"text": "请补充预算明细"})
    cid = made.data["concern_id"] if made else MISSING_ID
    return {"concern_id": cid, "resolution": "已补充预算明细"}, "", None


def _board_then(tx: Tx) -> Any:
    tx.setup("record_board_meeting", "working_member1", tx.board())
    return {}, "", None


def _board_first_approval_then(tx: Tx) -> Any:
    tx.setup("record_board_meeting", "working_member1", tx.board())
    tx.setup("approve", "working_secretary")
    return {}, "", None


def _board_then_reason(tx: Tx) -> Any:
    tx.setup("record_board_meeting", "working_member1", tx.board())
    return {}, "预算依据不足,不予批准", None


def _followup_then(tx: Tx) -> Any:
    tx.setup("record_followup", "working_member1", FOLLOWUP)
    return {"summary": "项目已完工"}, "", None


def _accept(tx: Tx) -> Any:
    tx.setup("signoff", "supervisor1@0", {"stage": "acceptance"})
    return tx.acceptance(0), "", None


def _fail(tx: Tx) -> Any:
    return tx.acceptance(0), "部分路灯亮度不达标,需整改", None


INVOICE = {"kind": "invoice", "amount": "100.00", "payee": "王师傅", "invoice_no": "INV-0001"}
VOUCHER = {"kind": "voucher", "amount": "100.00", "payee": "王师傅"}
FOLLOWUP = {"visited_on": "2026-03-20", "notes": "现场查看,施工进度正常。"}


def _item(tx: Tx, payload: dict[str, Any]) -> int:
    made = tx.setup("add_payment_item", "finance", payload)
    return int(made.data["payment_item_id"]) if made else MISSING_ID


def _sign(tx: Tx) -> Any:
    return {"payment_item_id": _item(tx, INVOICE)}, "", None


def _evidence(tx: Tx) -> Any:
    return {"payment_item_id": _item(tx, VOUCHER), "kind": "meeting_decision", "note": "两委会议决定以收款人签字结算"}, "", None


def _voucher_ready(tx: Tx) -> int:
    item = _item(tx, VOUCHER)
    for kind in ("meeting_decision", "inprocess_proof", "payee_signature"):
        tx.setup("record_voucher_evidence", "secretary@0", {"payment_item_id": item, "kind": kind, "note": f"{kind} 材料"})
    return item


def _pay(tx: Tx) -> Any:
    return {"payment_item_id": _voucher_ready(tx), "idempotency_key": uuid.uuid4().hex}, "", None


def _settle(tx: Tx) -> Any:
    """Pay the whole approved amount on a voucher with all its evidence, then close the settlement."""
    amount = tx.session.execute(select(Project.amount_fen - Project.paid_fen).where(
        Project.id == tx.entity_id)).scalar_one()
    item = _item(tx, {**VOUCHER, "amount": f"{amount // 100}.{amount % 100:02d}"})
    for kind in ("meeting_decision", "inprocess_proof", "payee_signature"):
        tx.setup("record_voucher_evidence", "secretary@0", {"payment_item_id": item, "kind": kind, "note": f"{kind} 材料"})
    tx.setup("pay", "finance", {"payment_item_id": item, "idempotency_key": uuid.uuid4().hex})
    tx.setup("record_voucher_evidence", "secretary@0", {"payment_item_id": item, "kind": "post_notice", "note": "已公示"})
    return {}, "", None


def _cancel(reason: str) -> Callable[[Tx], Any]:
    def build(tx: Tx) -> Any:
        return {"payment_item_id": _item(tx, INVOICE)}, reason, None
    return build


def _cancel_paid(tx: Tx) -> Any:
    item = _voucher_ready(tx)
    tx.setup("pay", "finance", {"payment_item_id": item, "idempotency_key": uuid.uuid4().hex})
    return {"payment_item_id": item}, "收款人信息有误", None


def _write_off_then_later(tx: Tx) -> Any:
    tx.setup("signoff", "supervisor2@0", {"stage": "write_off"})
    return {}, "", tx.now + dt.timedelta(days=30)


PROJECT_VARIANTS: dict[str, list[Variant]] = {
    "submit_preliminary": [Variant("", "secretary@0", _plain())],
    "withdraw": [Variant("", "secretary@0", _plain(reason="居民需求已由其他渠道解决"))],
    "grant_preliminary": [Variant("", "working_member1", _plain())],
    "return_for_revision": [Variant("", "working_member1", _plain(reason="申请材料不全,请补充")),
                            Variant("no_reason", "working_member1", _plain())],
    "record_meeting": [Variant("passed", "secretary@0", lambda tx: (tx.meeting(), "", None)),
                       Variant("divided", "secretary@0", lambda tx: (tx.meeting(passed=False, divided=True), "", None)),
                       Variant("voted_down", "secretary@0", lambda tx: (tx.meeting(passed=False), "", None))],
    "resume": [Variant("", "secretary@0", _plain(reason="分歧已经协调一致"))],
    "publicity_elapsed": [Variant("", "system", _later(30)), Variant("objected", "system", _objected_then_later),
                          Variant("early", "system", _plain())],
    "submit": [Variant("", "secretary@0", _plain())],
    "approve": [Variant("first", "working_secretary", _board_then),
                Variant("second", "director", _board_first_approval_then),
                Variant("no_board", "working_secretary", _plain())],
    "reject": [Variant("", "working_secretary", _board_then_reason)],
    "request_change": [Variant("", "secretary@0", _plain({"changes": {"planned_end": "2026-12-20"}},
                                                        "材料到货延迟,申请延长工期"))],
    "approve_change": [Variant("", "working_secretary", _plain())],
    "reject_change": [Variant("", "working_secretary", _plain(reason="理由不充分,不同意变更"))],
    "report_completion": [Variant("", "secretary@0", _followup_then),
                          Variant("no_followup", "secretary@0", _plain({"summary": "项目已完工"}))],
    "accept": [Variant("", "working_member1", _accept)],
    "fail_acceptance": [Variant("", "working_member1", _fail)],
    "close_settlement": [Variant("", "finance", _settle), Variant("unpaid", "finance", _plain())],
    "completion_elapsed": [Variant("", "system", _write_off_then_later), Variant("early", "system", _plain())],
    "object": [Variant("", "public", _plain(OBJECTION))],
    "answer_objection": [Variant("", "secretary@0", _answer)],
    "signoff": [Variant("", "supervisor1@0", _signoff)],
    "raise_concern": [Variant("", "supervisor1@0", _plain({"text": "请补充预算明细"}))],
    "resolve_concern": [Variant("", "supervisor2@0", _resolve)],
    "record_board_meeting": [Variant("", "working_member1", lambda tx: (tx.board(), "", None))],
    "record_followup": [Variant("", "working_member1", _plain(FOLLOWUP))],
    "add_payment_item": [Variant("", "finance", _plain(INVOICE))],
    "sign_invoice": [Variant("", "secretary@0", _sign)],
    "record_voucher_evidence": [Variant("", "secretary@0", _evidence)],
    "pay": [Variant("", "finance", _pay)],
    "cancel_payment_item": [Variant("", "secretary@0", _cancel("发票抬头有误,作废后重新登记")),
                            Variant("no_reason", "secretary@0", _cancel("")),
                            Variant("paid", "secretary@0", _cancel_paid)],
    "edit": [Variant("", "secretary@0", _plain({"description": "按居民意见调整后的项目内容。"}))],
    "decide_flag": [Variant("", "working_member1", _flagged_item), Variant("unflagged", "working_member1", _existing_item)],
    "terminate": [Variant("first", "working_secretary", _plain(reason=TERMINATION)),
                  Variant("second", "director", _first_termination_then),
                  Variant("no_reason", "working_secretary", _plain())],
    "confirm_answer": [Variant("", "supervisor1@0", _confirm)],
    "accept_answer": [Variant("", "public", _accept_answer)],
    # issue 13: finance's three steps (第十八条)
    "review_budget": [Variant("", "finance", _plain({"outcome": "passed", "note": "预算依据充分"}))],
    "record_finance_check": [Variant("", "finance", _plain({"outcome": "normal", "note": "资金按进度使用"}))],
    "record_audit": [Variant("", "finance", _plain({"outcome": "compliant", "conclusion": "账实相符"}))],
}

#: triggers whose refusal in an undeclared state says why (a state rule), instead of workflow.invalid_state
UNDECLARED_CODES = {"edit": "proposal.plan_frozen"}

_OPEN = [s for s in PROJECT_STATES if s not in ("closed", "rejected", "withdrawn", "terminated")]
_TERMINABLE = ("in_progress", "change_review", "settlement")
_SUPERVISION = {(s, t, ""): None for s in _OPEN for t in ("raise_concern", "resolve_concern")}

#: (state, trigger, variant) → destination (None: the action keeps the state). These must succeed.
EXPECTED_OK: dict[tuple[str, str, str], str | None] = {
    **_SUPERVISION,
    ("draft", "submit_preliminary", ""): "preliminary_review",
    ("draft", "withdraw", ""): "withdrawn",
    ("preliminary_review", "grant_preliminary", ""): "joint_meeting",
    ("preliminary_review", "return_for_revision", ""): "draft",
    ("preliminary_review", "signoff", ""): None,
    ("joint_meeting", "record_meeting", "passed"): "publicity",
    ("joint_meeting", "record_meeting", "divided"): "shelved",
    ("joint_meeting", "record_meeting", "voted_down"): "draft",
    ("joint_meeting", "signoff", ""): None,
    ("shelved", "resume", ""): "joint_meeting",
    ("shelved", "withdraw", ""): "withdrawn",
    ("publicity", "publicity_elapsed", ""): "ready_to_submit",
    ("publicity", "publicity_elapsed", "objected"): "joint_meeting",
    ("publicity", "object", ""): None,
    ("publicity", "answer_objection", ""): None,
    ("publicity", "signoff", ""): None,
    ("ready_to_submit", "submit", ""): "pending_approval",
    ("pending_approval", "record_board_meeting", ""): None,
    ("pending_approval", "approve", "first"): None,
    ("pending_approval", "approve", "second"): "in_progress",
    ("pending_approval", "reject", ""): "rejected",
    ("pending_approval", "return_for_revision", ""): "draft",
    ("in_progress", "request_change", ""): "change_review",
    ("in_progress", "report_completion", ""): "acceptance",
    ("in_progress", "record_followup", ""): None,
    ("change_review", "approve_change", ""): "in_progress",
    ("change_review", "reject_change", ""): "in_progress",
    ("change_review", "record_followup", ""): None,
    ("acceptance", "accept", ""): "settlement",
    ("acceptance", "fail_acceptance", ""): "in_progress",
    ("acceptance", "signoff", ""): None,
    ("settlement", "close_settlement", ""): "completion_publicity",
    ("settlement", "add_payment_item", ""): None,
    ("settlement", "sign_invoice", ""): None,
    ("settlement", "record_voucher_evidence", ""): None,
    ("settlement", "pay", ""): None,
    ("settlement", "cancel_payment_item", ""): None,
    ("completion_publicity", "completion_elapsed", ""): "closed",
    ("pending_approval", "review_budget", ""): None,
    ("in_progress", "record_finance_check", ""): None,
    ("change_review", "record_finance_check", ""): None,
    ("acceptance", "record_finance_check", ""): None,
    ("settlement", "record_finance_check", ""): None,
    ("completion_publicity", "record_audit", ""): None,
    ("closed", "record_audit", ""): None,
    ("terminated", "record_audit", ""): None,
    ("completion_publicity", "object", ""): None,
    ("completion_publicity", "answer_objection", ""): None,
    ("completion_publicity", "signoff", ""): None,
    # issue 11
    ("draft", "edit", ""): None,
    ("preliminary_review", "decide_flag", ""): None,
    **{(s, "terminate", "first"): None for s in _TERMINABLE},
    **{(s, "terminate", "second"): "terminated" for s in _TERMINABLE},
    **{(s, t, ""): None for s in ("publicity", "completion_publicity") for t in ("confirm_answer", "accept_answer")},
}

#: declared (state, trigger, variant) that a rule refuses for the designated right post → verdict code.
EXPECTED_REFUSED: dict[tuple[str, str, str], str] = {
    ("preliminary_review", "return_for_revision", "no_reason"): "workflow.reason_missing",
    ("pending_approval", "return_for_revision", "no_reason"): "workflow.reason_missing",
    ("publicity", "publicity_elapsed", "early"): "deadline.not_reached",
    ("completion_publicity", "completion_elapsed", "early"): "deadline.not_reached",
    ("pending_approval", "approve", "no_board"): "approval.no_board_meeting",
    ("in_progress", "report_completion", "no_followup"): "",
    ("settlement", "close_settlement", "unpaid"): "",
    # the declaration was signed off on the way out of the notice (the driver's main path)
    ("ready_to_submit", "signoff", ""): "supervision.already_signed",
    # a supervisor signs a stage only while the project is at that stage
    **{(s, "signoff", ""): "supervision.stage_invalid"
       for s in ("draft", "shelved", "pending_approval", "in_progress", "change_review", "settlement")},
    # no objection was raised before the meeting in this history
    ("joint_meeting", "answer_objection", ""): "notice.objection_not_found",
    # the voucher item is paid and complete on the way into the completion notice
    ("completion_publicity", "record_voucher_evidence", ""): "payment.item_not_found",
    # a reason is required, and what was paid stays paid (issue 11)
    ("settlement", "cancel_payment_item", "no_reason"): "workflow.reason_missing",
    ("settlement", "cancel_payment_item", "paid"): "payment.cancel_paid",
    # issue 11
    ("preliminary_review", "decide_flag", "unflagged"): "forbidden.flag_not_flagged",
    **{(s, "terminate", "no_reason"): "workflow.reason_missing" for s in _TERMINABLE},
    ("joint_meeting", "confirm_answer", ""): "notice.objection_not_found",
    ("joint_meeting", "accept_answer", ""): "notice.receipt_invalid",
}


def _expected(state: str, trigger: str, variant: str) -> tuple[str, Any]:
    key = (state, trigger, variant)
    if key in EXPECTED_OK:
        return "ok", EXPECTED_OK[key]
    if key in EXPECTED_REFUSED:
        return "refused", EXPECTED_REFUSED[key]
    return "any", None


# ----------------------------------------------------------------------------------- the checker


@dataclass
class Table:
    """Runs firings against one built entity and records what happened."""

    db: Database
    city: City
    entity_type: str
    entity_id: int
    state: str
    now: dt.datetime
    driver: Driver | None = None
    baseline_row: tuple[str, int, str, int] = ("", 0, "", 0)
    baseline: dict[str, tuple[int, str]] = field(default_factory=dict)
    fired: int = 0

    def __post_init__(self) -> None:
        with self.db.uow(write=False) as uow:
            self.baseline_row = row_of(uow.session, self.entity_type, self.entity_id)
            self.baseline = snapshot(uow.session)
        assert self.baseline_row[0] == self.state

    @contextmanager
    def tx(self) -> Iterator[Tx]:
        drv = self.driver
        with self.db.uow() as uow:
            yield Tx(session=uow.session, city=self.city, entity_type=self.entity_type, entity_id=self.entity_id,
                     state=self.state, now=self.now,
                     meeting=drv.meeting if drv else (lambda **_: {}), board=drv.board if drv else (lambda: {}),
                     acceptance=drv.acceptance if drv else (lambda _c: {}))
            # leaving without commit: the unit of work rolls back
        with self.db.uow(write=False) as uow:
            assert row_of(uow.session, self.entity_type, self.entity_id) == self.baseline_row, "rollback failed"
        self.fired += 1

    def _check_success(self, tx: Tx, outcome: Outcome, trigger: str, row_before: Any, what: str) -> None:
        tx.session.flush()
        row_after = row_of(tx.session, self.entity_type, self.entity_id)
        wf = workflow_for(self.entity_type)
        dests = {t["dest"] or self.state for t in wf.candidates(trigger, self.state)}
        assert outcome.from_state == self.state, what
        assert outcome.to_state in dests, f"{what}: moved to undeclared {outcome.to_state}"
        assert row_after[0] == outcome.to_state, what
        if not outcome.replayed:
            assert row_after[1] == row_before[1] + 1, f"{what}: version not bumped once"
            assert row_after[3] == row_before[3] + 1, f"{what}: not exactly one audit event"

    def _check_refusal(self, tx: Tx, outcome: Outcome, row_before: Any, before: dict[str, Any],
                       take: Callable[[Session], dict[str, Any]], what: str) -> None:
        assert_session_clean(tx.session, what)
        tx.session.flush()
        assert row_of(tx.session, self.entity_type, self.entity_id) == row_before, f"{what}: row changed"
        after = take(tx.session)
        assert not changed_tables(before, after), f"{what}: refused but changed {changed_tables(before, after)}"
        assert outcome.verdict.code and CHINESE.search(outcome.verdict.message), f"{what}: {outcome.verdict}"

    def fire(self, trigger: str, key: str, build: Callable[[Tx], Any]) -> tuple[Outcome, str]:
        """Fire once in a rolled-back transaction; check the refusal (every table) or success invariants."""
        return self.fire_all(trigger, [key], build, deep=True)[0]

    def fire_all(self, trigger: str, keys: list[str], build: Callable[[Tx], Any],
                 deep: bool = False) -> list[tuple[Outcome, str]]:
        """Fire for each actor in one rolled-back transaction after one setup.

        Only the first firing may succeed (it ends the group); refusals write nothing, so the next actor
        sees the same data. ``deep`` compares the content of every table, else the row counts.
        """
        take = snapshot if deep else counts
        results = []
        with self.tx() as tx:
            payload, reason, when = build(tx)
            for key in keys:
                what = f"{self.entity_type} {self.state} --{trigger}--> by {key}"
                before = take(tx.session)
                row_before = row_of(tx.session, self.entity_type, self.entity_id)
                outcome = tx.fire(trigger, key, payload, reason, when)
                results.append((outcome, what))
                if outcome.ok:
                    self._check_success(tx, outcome, trigger, row_before, what)
                    break
                self._check_refusal(tx, outcome, row_before, before, take, what)
        return results

    def check_untouched(self) -> None:
        assert db_snapshot(self.db) == self.baseline, f"{self.entity_type} {self.state}: the database changed"


def run_table(table: Table, workflow_triggers: list[str], variants: dict[str, list[Variant]],
              expected: Callable[[str, str, str], tuple[str, Any]], community: int = 0) -> dict[str, int]:
    wf = workflow_for(table.entity_type)
    stats = {"invalid_state": 0, "no_post": 0, "ok": 0, "rule_refused": 0}
    state = table.state
    for trigger in workflow_triggers:
        declared = bool(wf.candidates(trigger, state))
        all_roles = sorted({r for t in wf.transitions if t["trigger"] == trigger for r in t["roles"]})
        trigger_variants = variants[trigger]
        if not declared:
            # a right post for this event (in some state), but the wrong state: invalid_state, nothing written
            v = trigger_variants[0]
            assert has_post(v.key, all_roles, community), (trigger, v.key)
            for outcome, what in table.fire_all(trigger, [v.key], v.build):
                want_code = UNDECLARED_CODES.get(trigger, "workflow.invalid_state") if table.entity_type == "project" \
                    else "workflow.invalid_state"
                assert outcome.status == 409 and outcome.verdict.code == want_code, f"{what}: {outcome}"
                assert not outcome.ok
                assert CHINESE.search(outcome.verdict.message) and outcome.verdict.article, outcome.verdict
            stats["invalid_state"] += 1
            continue
        roles = wf.roles_for(trigger, state)
        wrong = [k for k in ACTOR_KEYS if not has_post(k, roles, community)]
        right = [k for k in ACTOR_KEYS if has_post(k, roles, community)]
        one_per_role = list({role_of(k): k for k in reversed(right)}.values())
        assert right, (state, trigger)
        # (a) no allowed post on that day: 403 auth.no_post, nothing written
        fired = table.fire_all(trigger, wrong, trigger_variants[0].build)
        assert len(fired) == len(wrong)
        for outcome, what in fired:
            assert not outcome.ok and outcome.status == 403, f"{what}: {outcome.status} {outcome.verdict}"
            assert outcome.verdict.code == "auth.no_post", f"{what}: {outcome.verdict}"
            stats["no_post"] += 1
        # (b) the right posts, valid payloads
        for v in trigger_variants:
            kind, want = expected(state, trigger, v.name)
            assert has_post(v.key, roles, community), (state, trigger, v.key)
            # the designated post, then (first variant) one actor of each other allowed post
            keys = [v.key] + ([k for k in one_per_role if role_of(k) != role_of(v.key)]
                              if v is trigger_variants[0] else [])
            for key in keys:
                outcome, what = table.fire(trigger, key, v.build)
                what = f"{what} [{v.name or 'valid'}]"
                if outcome.ok:
                    stats["ok"] += 1
                else:
                    assert outcome.status == 409, f"{what}: a right post must not get {outcome.status} {outcome.verdict}"
                    assert outcome.verdict.code != "workflow.invalid_state", what
                    stats["rule_refused"] += 1
                if key != v.key:
                    continue
                if kind == "ok":
                    assert outcome.ok, f"{what}: expected success, got {outcome.status} {outcome.verdict}"
                    assert outcome.to_state == (want or state), f"{what}: went to {outcome.to_state}"
                elif kind == "refused":
                    assert not outcome.ok, f"{what}: expected a refusal ({want}), it succeeded"
                    if want:
                        assert outcome.verdict.code == want, f"{what}: {outcome.verdict}"
                else:
                    raise AssertionError(f"{what}: declared pair missing from EXPECTED_OK / EXPECTED_REFUSED "
                                         f"(got {outcome.status} {outcome.verdict.code})")
        table.check_untouched()
    return stats


# ------------------------------------------------------------------------------------ project table


def test_expectation_tables_cover_exactly_the_declared_pairs() -> None:
    declared = {(s, t, v.name) for s in PROJECT_STATES for t in PROJECT_TRIGGERS if PROJECT_WF.candidates(t, s)
                for v in PROJECT_VARIANTS[t]}
    listed = set(EXPECTED_OK) | set(EXPECTED_REFUSED)
    assert not set(EXPECTED_OK) & set(EXPECTED_REFUSED)
    assert listed == declared, (sorted(declared - listed), sorted(listed - declared))
    assert set(PROJECT_VARIANTS) == set(PROJECT_TRIGGERS)
    # every state-changing transition of the definitions is shown to succeed somewhere
    moves: set[tuple[str, str, str]] = set()
    for t in PROJECT_WF.transitions:
        srcs = t["source"] if isinstance(t["source"], list) else [t["source"]]
        for s in srcs:
            if t["dest"] is not None:
                moves.add((s, t["trigger"], t["dest"]))
    shown = {(s, t, d) for (s, t, _v), d in EXPECTED_OK.items() if d is not None}
    assert moves == shown, sorted(moves ^ shown)


@pytest.mark.slow
@pytest.mark.parametrize("state", PROJECT_STATES)
def test_every_project_event_from_every_state(db: Database, city: City, driver: Driver, state: str) -> None:
    pid = driver.new_project(state, **PROJECT_KIND)
    table = Table(db, city, "project", pid, state, now=driver.tick(1), driver=driver)
    stats = run_table(table, PROJECT_TRIGGERS, PROJECT_VARIANTS, _expected)
    declared = [t for t in PROJECT_TRIGGERS if PROJECT_WF.candidates(t, state)]
    assert stats["invalid_state"] == len(PROJECT_TRIGGERS) - len(declared)
    if declared:
        assert stats["ok"] > 0 and stats["no_post"] > 0
    table.check_untouched()


# ---------------------------------------------------------------------------------- fund-year table

FY_STATES = FUND_YEAR_WF.states
FY_TRIGGERS = FUND_YEAR_WF.triggers()
SHANGHAI = dt.timezone(dt.timedelta(hours=8))
#: when each fund-year event is fired to build the states (a disclosure runs 5 working days).
FY_PATH = [
    ("submit_report", "secretary@0", {"summary": "全年经费使用情况良好,项目均按期完成。"},
     dt.datetime(2026, 11, 20, 10, 0, tzinfo=SHANGHAI)),
    ("start_disclosure", "secretary@0", {}, dt.datetime(2026, 12, 1, 10, 0, tzinfo=SHANGHAI)),
    ("disclosure_elapsed", "system", {}, dt.datetime(2026, 12, 20, 10, 0, tzinfo=SHANGHAI)),
    ("close_year", "finance", {}, dt.datetime(2027, 1, 5, 10, 0, tzinfo=SHANGHAI)),
]

FY_VARIANTS: dict[str, list[Variant]] = {
    "submit_report": [Variant("", "secretary@0", _plain(FY_PATH[0][2])),
                      Variant("too_short", "secretary@0", _plain({"summary": "很好"}))],
    "evaluate": [Variant("", "working_secretary", _plain({"rating": "good"})),
                 Variant("twice", "working_secretary", lambda tx: (
                     tx.setup("evaluate", "working_secretary", {"rating": "fair"}) and {"rating": "good"}, "", None))],
    "start_disclosure": [Variant("", "secretary@0", _plain())],
    "disclosure_elapsed": [Variant("", "system", _later(30)), Variant("early", "system", _plain())],
    "close_year": [Variant("", "finance", lambda tx: ({}, "", dt.datetime(2027, 1, 5, 11, tzinfo=SHANGHAI))),
                   Variant("system", "system", lambda tx: ({}, "", dt.datetime(2027, 1, 5, 11, tzinfo=SHANGHAI))),
                   Variant("in_the_year", "finance", lambda tx: ({}, "", dt.datetime(2026, 12, 31, 10, tzinfo=SHANGHAI))),
                   Variant("evaluated", "system", lambda tx: (
                       tx.setup("evaluate", "working_secretary", {"rating": "good"}) and {}, "",
                       dt.datetime(2027, 1, 5, 11, tzinfo=SHANGHAI)))],
}

FY_EXPECTED_OK: dict[tuple[str, str, str], str | None] = {
    ("open", "submit_report", ""): "reported",
    ("reported", "start_disclosure", ""): "disclosing",
    ("disclosing", "disclosure_elapsed", ""): "disclosed",
    # the evaluation runs alongside the disclosure (Art. 16): it keeps the state
    **{(s, "evaluate", ""): None for s in ("reported", "disclosing", "disclosed")},
    ("disclosed", "close_year", "evaluated"): "closed",
}
FY_EXPECTED_REFUSED: dict[tuple[str, str, str], str] = {
    ("open", "submit_report", "too_short"): "year.report_incomplete",
    ("disclosing", "disclosure_elapsed", "early"): "deadline.not_reached",
    ("disclosed", "close_year", "in_the_year"): "year.not_ended",
    **{(s, "evaluate", "twice"): "year.already_evaluated" for s in ("reported", "disclosing", "disclosed")},
    # the path to ``disclosed`` has no evaluation: the close waits for it, whatever the date
    ("disclosed", "close_year", ""): "year.evaluation_missing",
    ("disclosed", "close_year", "system"): "year.evaluation_missing",
}


def _fy_expected(state: str, trigger: str, variant: str) -> tuple[str, Any]:
    key = (state, trigger, variant)
    if key in FY_EXPECTED_OK:
        return "ok", FY_EXPECTED_OK[key]
    if key in FY_EXPECTED_REFUSED:
        return "refused", FY_EXPECTED_REFUSED[key]
    return "any", None


def build_fund_year(db: Database, city: City, state: str) -> tuple[int, dt.datetime]:
    """Community 0's 2026 fund year, carried to ``state`` by firing its events."""
    with db.uow(write=False) as uow:
        fid = uow.session.execute(select(FundYear.id).where(FundYear.community_id == city.community(0).id,
                                                            FundYear.year == 2026)).scalar_one()
    now = dt.datetime(2026, 11, 1, 10, 0, tzinfo=SHANGHAI)
    for trigger, key, payload, when in FY_PATH[:FY_STATES.index(state)]:
        if trigger == "close_year":  # the working committee's evaluation is on record before the close
            out = fire_event(db, "fund_year", fid, "evaluate", actor(city, "working_secretary"), {"rating": "good"},
                             now=when - dt.timedelta(days=1))
            assert out.ok, out.verdict
        out = fire_event(db, "fund_year", fid, trigger, actor(city, key), payload, now=when)
        assert out.ok, (trigger, out.status, out.verdict)
        now = when
    return fid, now + dt.timedelta(hours=1)


def test_fund_year_expectations_cover_exactly_the_declared_pairs() -> None:
    declared = {(s, t, v.name) for s in FY_STATES for t in FY_TRIGGERS if FUND_YEAR_WF.candidates(t, s)
                for v in FY_VARIANTS[t]}
    assert set(FY_EXPECTED_OK) | set(FY_EXPECTED_REFUSED) == declared


@pytest.mark.parametrize("state", FY_STATES)
def test_every_fund_year_event_from_every_state(db: Database, city: City, state: str) -> None:
    fid, now = build_fund_year(db, city, state)
    table = Table(db, city, "fund_year", fid, state, now=now)
    stats = run_table(table, FY_TRIGGERS, FY_VARIANTS, _fy_expected)
    declared = [t for t in FY_TRIGGERS if FUND_YEAR_WF.candidates(t, state)]
    assert stats["invalid_state"] == len(FY_TRIGGERS) - len(declared)
    table.check_untouched()


def test_unknown_event_and_missing_row_are_404(db: Database, city: City, driver: Driver) -> None:
    pid = driver.propose()
    before = db_snapshot(db)
    with db.uow() as uow:
        out = engine.fire(uow.session, "project", pid, "teleport", actor(city, "secretary@0"), {})
        assert (out.ok, out.status, out.verdict.code, out.verdict.article) == (
            False, 404, "workflow.unknown_event", "第七条第(三)项")
        out = engine.fire(uow.session, "project", pid + 1000, "submit_preliminary", actor(city, "secretary@0"), {})
        assert (out.ok, out.status, out.verdict.code, out.verdict.article) == (
            False, 404, "workflow.not_found", "第七条第(三)项")
        assert_session_clean(uow.session, "404")
    assert db_snapshot(db) == before


def test_stale_version_is_412_and_bad_payload_is_422(db: Database, city: City, driver: Driver) -> None:
    pid = driver.new_project("joint_meeting", **PROJECT_KIND)
    before = db_snapshot(db)
    with db.uow() as uow:
        version = uow.session.execute(select(Project.version).where(Project.id == pid)).scalar_one()
        out = engine.fire(uow.session, "project", pid, "record_meeting", actor(city, "secretary@0"), driver.meeting(),
                          expected_version=version - 1)
        assert (out.ok, out.status, out.verdict.code) == (False, 412, "workflow.version_mismatch")
        bad = {**driver.meeting(), "votes_for": "nine"}
        out = engine.fire(uow.session, "project", pid, "record_meeting", actor(city, "secretary@0"), bad)
        assert (out.ok, out.status, out.verdict.code) == (False, 422, "payload.invalid")
        out = engine.fire(uow.session, "project", pid, "record_meeting", actor(city, "secretary@0"),
                          {**driver.meeting(), "extra": 1})
        assert (out.ok, out.status) == (False, 422)
        assert_session_clean(uow.session, "412/422")
    assert db_snapshot(db) == before


def test_a_post_ended_yesterday_gives_no_right_today(db: Database, city: City, driver: Driver) -> None:
    """Rights come from the posts held on the day of the action (SPEC section 1)."""
    from store.models import Post

    pid = driver.new_project("preliminary_review", **PROJECT_KIND)
    member = city.area_people["working_member1"]
    when = driver.tick(24)
    with db.uow() as uow:
        post = uow.session.execute(select(Post).where(Post.person_id == member.person_id)).scalar_one()
        post.valid_to = (when - dt.timedelta(days=1)).date()
        uow.session.flush()
        out = engine.fire(uow.session, "project", pid, "grant_preliminary", member, {}, now=when)
        assert (out.ok, out.status, out.verdict.code) == (False, 403, "auth.no_post")
        out = engine.fire(uow.session, "project", pid, "grant_preliminary", member, {},
                          now=when - dt.timedelta(days=1))
        assert out.ok and out.to_state == "joint_meeting"
