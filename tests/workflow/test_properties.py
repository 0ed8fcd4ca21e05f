"""Random event sequences (hypothesis), on both databases (issue 2, acceptance: the property test).

Each example gets a city of its own (no reset between examples), proposes a project and carries a
second one to a drawn starting state, then fires a drawn sequence of (project, trigger, actor,
payload variant, time step), mostly but not only events that are declared from the current state and
actors that hold an allowed post. After every step:

* a project's state changed only along a transition declared for that trigger (or not at all);
* a successful firing added exactly one audit event (to that project's chain) and bumped the
  version once; a refused one, or an idempotent replay, changed no row of any table;
* at the end the whole audit trail verifies, and editing any column of any of the example's audit
  rows (inside a transaction that is rolled back) is caught by ``audit.verify``, naming the link.

Then ``fundflow audit verify`` itself is run on committed SQL edits.
"""
from __future__ import annotations

import datetime as dt
import itertools
import json
import os
import re
import uuid
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select, text

from store.db import Database
from store.models import AuditEvent, Concern, LineItem, Objection, Payment, PaymentItem, Project
from tests.workflow.test_audit import anchor, cli_verify
from tests.workflow.test_transitions_table import ACTOR_KEYS, actor, counts, has_post
from workflow import clock
from workflow.audit import verify
from workflow.demo import City, Driver, create_city, open_years
from workflow.machines import workflow_for

WF = workflow_for("project")
TRIGGERS = WF.triggers()
ALL_ROLES = {t: sorted({r for s in WF.transitions if s["trigger"] == t for r in s["roles"]}) for t in TRIGGERS}
#: (trigger, from, to) of every declared transition; a state-keeping action goes from a state to itself.
DECLARED = {(t["trigger"], s, t["dest"] or s) for t in WF.transitions
            for s in (t["source"] if isinstance(t["source"], list) else [t["source"]])}
START_STATES = ["draft", "joint_meeting", "publicity", "pending_approval", "in_progress", "acceptance",
                "settlement", "completion_publicity"]
MISSING_ID = 987654321
ENDINGS = {"withdraw", "reject"}
_cities = itertools.count()


def fresh_city(db: Database) -> City:
    """A city of its own for one example: two communities, their people, the 2026 fund years."""
    with clock.frozen(dt.datetime(2025, 12, 28, 9, 0, tzinfo=clock.SHANGHAI)):
        city = create_city(db, communities=2, password=None, prefix=f"H{next(_cities)}-{uuid.uuid4().hex[:4]}-")
        open_years(db, city, [2026])
    return city


def _latest(db: Database, stmt: Any) -> Any:
    with db.uow(write=False) as uow:
        return uow.session.execute(stmt.limit(1)).scalar_one_or_none()


def _latest_row(db: Database, stmt: Any) -> Any:
    with db.uow(write=False) as uow:
        return uow.session.execute(stmt.limit(1)).first()


def payload_for(db: Database, drv: Driver, pid: int, trigger: str, draw: Any) -> dict[str, Any]:
    """A well-formed payload for the trigger, pointing at the project's current objections, concerns, items."""
    if trigger == "record_meeting":
        outcome = draw(st.sampled_from(["passed", "passed", "divided", "voted_down"]))
        return drv.meeting(passed=outcome == "passed", divided=outcome == "divided")
    if trigger == "signoff":
        return {"stage": draw(st.sampled_from(["declaration", "acceptance", "write_off"]))}
    if trigger == "object":
        return {"author_name": "李女士", "text": "希望施工时注意噪音。"}
    if trigger == "answer_objection":
        oid = _latest(db, select(Objection.id).where(Objection.project_id == pid, Objection.resolved.is_(False))
                      .order_by(Objection.id.desc()))
        return {"objection_id": oid or MISSING_ID, "answer": "已采纳并答复。"}
    if trigger in ("confirm_answer", "accept_answer"):
        found = _latest_row(db, select(Objection.id, Objection.receipt_code).where(
            Objection.project_id == pid, Objection.resolved.is_(False)).order_by(Objection.id.desc()))
        oid, code = found if found is not None else (MISSING_ID, "ABCDEFGHJK")
        return {"objection_id": oid, "comment": "已核实"} if trigger == "confirm_answer" else {
            "objection_id": oid, "receipt_code": code}
    if trigger == "decide_flag":
        item = _latest(db, select(LineItem.id).where(LineItem.project_id == pid).order_by(LineItem.id.desc()))
        return {"line_item_id": item or MISSING_ID, "decision": draw(st.sampled_from(["cleared", "upheld"])),
                "note": "已阅读社区的说明"}
    if trigger == "edit":
        return {"description": f"调整后的项目内容 {uuid.uuid4().hex[:6]}。"}
    if trigger == "raise_concern":
        return {"text": "请说明预算依据"}
    if trigger == "resolve_concern":
        cid = _latest(db, select(Concern.id).where(Concern.project_id == pid, Concern.resolved_at.is_(None))
                      .order_by(Concern.id.desc()))
        return {"concern_id": cid or MISSING_ID, "resolution": "已说明"}
    if trigger == "record_board_meeting":
        return drv.board()
    if trigger == "record_followup":
        return {"visited_on": drv.now.date().isoformat(), "notes": "现场查看,进度正常。"}
    if trigger == "request_change":
        return {"changes": {"planned_end": "2026-12-20"}}
    if trigger in ("report_completion",):
        return {"summary": "项目已完工"}
    if trigger in ("accept", "fail_acceptance"):
        return drv.acceptance(0)
    if trigger == "add_payment_item":
        kind = draw(st.sampled_from(["invoice", "voucher"]))
        amount = draw(st.sampled_from(["100.00", "rest"]))
        with db.uow(write=False) as uow:
            p = uow.session.get(Project, pid)
            assert p is not None
            fen = max(p.amount_fen - p.paid_fen, 1)
            contractor = p.contractor_name
        if amount == "rest":
            amount = f"{fen // 100}.{fen % 100:02d}"
        # the project's contractor (Art. 13), now and then somebody else, to be refused
        payee = draw(st.sampled_from([contractor] * 4 + ["路人甲"]))
        return {"kind": kind, "amount": amount, "payee": payee,
                **({"invoice_no": f"INV-{uuid.uuid4().hex[:6]}"} if kind == "invoice" else {})}
    if trigger in ("sign_invoice", "record_voucher_evidence", "pay", "cancel_payment_item"):
        kind = {"sign_invoice": "invoice", "record_voucher_evidence": "voucher"}.get(trigger)
        stmt = select(PaymentItem.id).where(PaymentItem.project_id == pid)
        if kind:
            stmt = stmt.where(PaymentItem.kind == kind)
        if trigger != "record_voucher_evidence":
            stmt = stmt.where(PaymentItem.status == "open")
        item = _latest(db, stmt.order_by(PaymentItem.id.desc())) or MISSING_ID
        if trigger in ("sign_invoice", "cancel_payment_item"):
            return {"payment_item_id": item}
        if trigger == "record_voucher_evidence":
            evidence = draw(st.sampled_from(["meeting_decision", "inprocess_proof", "payee_signature", "post_notice"]))
            return {"payment_item_id": item, "kind": evidence, "note": "材料已登记"}
        if draw(st.integers(0, 4)) == 0:  # an idempotent replay of the last payment, when there was one
            last = _latest(db, select(Payment).join(PaymentItem).where(PaymentItem.project_id == pid)
                           .order_by(Payment.id.desc()))
            if last is not None:
                return {"payment_item_id": last.payment_item_id, "idempotency_key": last.idempotency_key}
        return {"payment_item_id": item, "idempotency_key": uuid.uuid4().hex}
    return {}


def observe(db: Database, pids: list[int]) -> tuple[dict[str, int], dict[int, tuple[str, int, str, int]]]:
    """Row counts of every table, and (state, version, head, audit events) of each project: one read."""
    with db.uow(write=False) as uow:
        events = (select(func.count()).select_from(AuditEvent)
                  .where(AuditEvent.entity_type == "project", AuditEvent.entity_id == Project.id)
                  .correlate(Project).scalar_subquery())
        rows = uow.session.execute(select(Project.id, Project.state, Project.version, Project.audit_head, events)
                                   .where(Project.id.in_(pids))).all()
        return counts(uow.session), {r[0]: (str(r[1]), int(r[2]), str(r[3]), int(r[4])) for r in rows}


#: FUNDFLOW_PROPERTY_EXAMPLES=500 for a longer hunt.
PROPERTY_SETTINGS = settings(max_examples=int(os.environ.get("FUNDFLOW_PROPERTY_EXAMPLES", "20")), deadline=None, derandomize=False, print_blob=True,
                             suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


@pytest.mark.slow
@PROPERTY_SETTINGS
@given(data=st.data())
def test_random_event_sequences_move_only_along_declared_transitions(db: Database, data: st.DataObject) -> None:
    draw = data.draw
    city = fresh_city(db)
    drv = Driver(db, city)
    start = draw(st.sampled_from(START_STATES), label="start")
    kind = draw(st.sampled_from([{}, {"contractor": "王师傅", "contractor_kind": "individual"}]), label="kind")
    pids = [drv.propose(**kind), drv.new_project(start, **kind)]
    steps = draw(st.integers(8, 30), label="steps")
    succeeded = 0
    tables_after, rows_after = observe(db, pids)
    for _ in range(steps):
        tables_before, rows_before = tables_after, rows_after
        pid = draw(st.sampled_from(pids), label="project")
        state = rows_before[pid][0]
        declared = [t for t in TRIGGERS if WF.candidates(t, state)]
        # mostly declared events, and rarely the ones that end a project early (so that walks go deep)
        onward = [t for t in declared if t not in ENDINGS] or declared
        if declared and draw(st.integers(0, 7)) > 0:
            trigger = draw(st.sampled_from(onward if draw(st.integers(0, 5)) else declared), label="trigger")
        else:
            trigger = draw(st.sampled_from(TRIGGERS), label="trigger")
        roles = WF.roles_for(trigger, state) or ALL_ROLES[trigger]
        right = [k for k in ACTOR_KEYS if has_post(k, roles)]
        key = draw(st.sampled_from(right if right and draw(st.integers(0, 7)) > 0 else ACTOR_KEYS), label="actor")
        variant = draw(st.sampled_from(["valid"] * 5 + ["empty", "no_reason"]), label="payload")
        payload = {} if variant == "empty" else payload_for(db, drv, pid, trigger, draw)
        reason = "" if variant == "no_reason" else "经研究,理由如上"
        drv.now += dt.timedelta(hours=draw(st.sampled_from([0.1, 0.1, 3, 24 * 13]), label="hours later"))

        outcome = drv.fire(pid, trigger, actor(city, key), payload, reason, check=False)
        tables_after, rows_after = observe(db, pids)
        what = f"{trigger} by {key} on #{pid} in {state}: {outcome.status} {outcome.verdict.code}"

        for other in pids:
            if other != pid or not outcome.ok or outcome.replayed:
                assert rows_after[other] == rows_before[other], f"{what}: #{other} changed"
        if outcome.ok and not outcome.replayed:
            succeeded += 1
            event(f"moved: {trigger} {state} → {rows_after[pid][0]}")
            new_state, version, _head, events = rows_after[pid]
            assert (trigger, state, new_state) in DECLARED, f"{what}: {state} → {new_state} is not declared"
            assert (outcome.from_state, outcome.to_state) == (state, new_state), what
            assert version == rows_before[pid][1] + 1, f"{what}: version moved by {version - rows_before[pid][1]}"
            assert events == rows_before[pid][3] + 1, f"{what}: {events - rows_before[pid][3]} audit events"
            assert tables_after["audit_events"] == tables_before["audit_events"] + 1, f"{what}: other chains grew"
        else:
            assert tables_after == tables_before, f"{what}: refused or replayed, but rows changed"
            if not outcome.ok:
                assert outcome.status in (403, 409, 422), what
                assert re.search(r"[\u4e00-\u9fff]", outcome.verdict.message), what

    with db.uow(write=False) as uow:
        result = verify(uow.session)
    assert result.ok, result.broken
    assert result.checked >= succeeded

    # any edit of any of the example's audit rows is caught, naming the entity and the link
    with db.uow() as uow:
        s = uow.session
        ids = list(s.execute(select(AuditEvent.id).where(AuditEvent.entity_type == "project",
                                                         AuditEvent.entity_id.in_(pids)).order_by(AuditEvent.id))
                   .scalars())
        ev = s.get(AuditEvent, draw(st.sampled_from(ids), label="tampered event"))
        assert ev is not None
        column = draw(st.sampled_from(["reason", "payload", "event", "from_state", "to_state", "actor_label", "role",
                                       "at", "actor_id", "hash", "prev_hash"]), label="tampered column")
        tamper(s, ev, column)
        s.flush()
        broken = verify(s)
        assert not broken.ok, f"editing {column} of event {ev.id} went unnoticed"
        assert f"project #{ev.entity_id}" in broken.broken, broken.broken
        named = (f"第 {ev.seq} 条", f"第 {ev.seq + 1} 条", f"版本 {ev.seq} ")
        assert any(n in broken.broken for n in named), broken.broken
        # rolled back on leaving the unit of work


def tamper(session: Any, ev: AuditEvent, column: str) -> None:
    """Edit one column of an audit row as someone with SQL access would."""
    from store.models import Person

    if column == "payload":
        ev.payload = {**(ev.payload or {}), "amount": "99999.00"}
    elif column == "at":
        ev.at = ev.at + dt.timedelta(seconds=1)
    elif column == "actor_id":
        # another person appears as the actor (or one appears where the public or a timer acted)
        ev.actor_id = session.execute(select(Person.id).where(Person.id != (ev.actor_id or 0))
                                      .order_by(Person.id).limit(1)).scalar_one()
    elif column in ("hash", "prev_hash"):
        setattr(ev, column, "f" * 64)
    else:
        setattr(ev, column, (getattr(ev, column) or "") + "x")


# ---------------------------------------------------------------- ``fundflow audit verify`` on SQL edits


def _payload_sql(db: Database) -> str:
    return "CAST(:p AS jsonb)" if db.is_postgres else ":p"


@pytest.mark.parametrize("edit", ["reason", "payload", "delete_last", "to_state"])
def test_fundflow_audit_verify_catches_sql_edits(db: Database, city: City, driver: Driver, edit: str,
                                                 monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    pids = [driver.new_project("publicity"), driver.new_project("pending_approval")]
    anchor(db, tmp_path, monkeypatch)
    code, out = cli_verify(db, monkeypatch)
    assert code == 0, out
    pid = pids[1]
    with db.uow(write=False) as uow:
        ev = uow.session.execute(select(AuditEvent).where(AuditEvent.entity_type == "project",
                                                          AuditEvent.entity_id == pid)
                                 .order_by(AuditEvent.seq.desc() if edit == "delete_last" else AuditEvent.seq)
                                 .offset(0 if edit == "delete_last" else 2).limit(1)).scalar_one()
        original = {"reason": ev.reason, "payload": json.dumps(ev.payload, ensure_ascii=False),
                    "to_state": ev.to_state}
    statements = {
        "reason": ("UPDATE audit_events SET reason = 'x' WHERE id = :id", {}),
        "payload": (f"UPDATE audit_events SET payload = {_payload_sql(db)} WHERE id = :id",
                    {"p": json.dumps({"payload": {"amount": "99999.00"}})}),
        "to_state": ("UPDATE audit_events SET to_state = 'closed' WHERE id = :id", {}),
        "delete_last": ("DELETE FROM audit_events WHERE id = :id", {}),
    }
    sql, params = statements[edit]
    with db.engine.begin() as conn:
        assert conn.execute(text(sql), {"id": ev.id, **params}).rowcount == 1
    code, out = cli_verify(db, monkeypatch)
    assert code != 0, f"the {edit} edit went unnoticed: {out}"
    assert f"project #{pid}" in out, out
    if edit == "delete_last":
        # the chain now ends one link early: the last remaining link and the version it should reach
        assert f"第 {ev.seq - 1} 条" in out and f"版本 {ev.seq}" in out, out
    else:
        assert f"第 {ev.seq} 条" in out, out
        assert f"id={ev.id}" in out, out
        restore = {"reason": "UPDATE audit_events SET reason = :v WHERE id = :id",
                   "payload": f"UPDATE audit_events SET payload = {_payload_sql(db).replace(':p', ':v')} WHERE id = :id",
                   "to_state": "UPDATE audit_events SET to_state = :v WHERE id = :id"}[edit]
        with db.engine.begin() as conn:
            conn.execute(text(restore), {"id": ev.id, "v": original[edit]})
        code, out = cli_verify(db, monkeypatch)
        assert code == 0, f"restoring the original {edit} should verify again: {out}"
    with db.uow(write=False) as uow:
        assert uow.session.execute(select(func.count()).select_from(AuditEvent)).scalar_one() > 0
