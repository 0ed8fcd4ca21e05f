"""Signed roots anchor the audit chains outside the database (issue 12, point 9), on both databases.

The tamper tests act as someone with write access to the database but not to the signing key: they
rewrite an event and recompute every later hash and the row's head (``audit.verify`` alone passes), append
forged events, edit business rows and delete roots; ``verify_all`` (``fundflow audit verify``) names each.
"""
from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import delete, select, text, update
from sqlalchemy.orm import Session

from store.db import Database
from store.models import (
    Approval,
    AuditEvent,
    AuditRoot,
    AuditRootLeaf,
    Payment,
    PaymentItem,
    Project,
    SignOff,
)
from workflow import anchors, audit, clock
from workflow.anchors import Settings, generate_key_file, sign_root, verify_all
from workflow.audit import GENESIS, event_hash
from workflow.demo import Driver


@pytest.fixture
def keys(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """A signing key in a file outside the database, the witness log beside it (what ``make run`` sets up)."""
    key_file = tmp_path / "keys" / "audit-signing.key"
    generate_key_file(key_file)
    monkeypatch.setenv("FUNDFLOW_AUDIT_KEY_FILE", str(key_file))
    monkeypatch.delenv("FUNDFLOW_AUDIT_KEY", raising=False)
    monkeypatch.delenv("FUNDFLOW_AUDIT_PUBLIC_KEYS", raising=False)
    monkeypatch.delenv("FUNDFLOW_AUDIT_ROOTS_LOG", raising=False)
    return Settings.from_env()


@pytest.fixture
def at(driver: Driver) -> Iterator[Driver]:
    """The business clock follows the driver (its events are dated from 2026-03-02)."""
    clock.set_clock(lambda: driver.now)
    yield driver
    clock.reset_clock()


@pytest.fixture
def paid(at: Driver) -> int:
    """A project approved by both leaders, with an invoice signed three times and paid, signed off."""
    return at.new_project("completion_publicity")


def check(db: Database, settings: Settings | None = None, **kw: object) -> anchors.FullResult:
    with db.uow(write=False) as uow:
        return verify_all(uow.session, settings, **kw)  # type: ignore[arg-type]


def chain(s: Session, pid: int) -> list[AuditEvent]:
    return list(s.execute(select(AuditEvent).where(AuditEvent.entity_type == "project", AuditEvent.entity_id == pid)
                          .order_by(AuditEvent.seq)).scalars())


def rewrite_consistently(db: Database, pid: int, index: int, **changes: object) -> None:
    """Edit one event and recompute its hash, every later link and the row's head: the chain holds again."""
    with db.uow() as uow:
        s = uow.session
        events = chain(s, pid)
        for key, value in changes.items():
            setattr(events[index], key, value)
        prev = events[index - 1].hash if index else GENESIS
        for ev in events[index:]:
            ev.prev_hash = prev
            ev.hash = event_hash(ev)
            prev = ev.hash
        s.execute(update(Project).where(Project.id == pid).values(audit_head=prev))
        uow.commit()


def forge_append(db: Database, pid: int, event: str, to_state: str, **payload: object) -> int:
    """Append a well-formed event to the project's chain and advance its row, as a forger would."""
    with db.uow() as uow:
        s = uow.session
        last = chain(s, pid)[-1]
        forged = AuditEvent(entity_type="project", entity_id=pid, seq=last.seq + 1, actor_id=last.actor_id,
                            actor_label=last.actor_label, post_id=last.post_id, role=last.role, event=event,
                            from_state=last.to_state, to_state=to_state, payload=audit.normalise_payload(payload),
                            reason="", at=last.at + dt.timedelta(minutes=5), prev_hash=last.hash, hash="")
        forged.hash = event_hash(forged)
        s.add(forged)
        s.execute(update(Project).where(Project.id == pid)
                  .values(version=forged.seq, audit_head=forged.hash, state=to_state))
        uow.commit()
        return forged.seq


# --------------------------------------------------------------------------------------- signing


def test_a_signed_root_covers_every_chain_and_verifies(db: Database, keys: Settings, paid: int) -> None:
    signed = sign_root(db, settings=keys)
    with db.uow(write=False) as uow:
        s = uow.session
        root = s.get(AuditRoot, signed.seq)
        assert root is not None
        heads = anchors.current_heads(s)
        events = audit.verify(s).checked
        leaves = s.execute(select(AuditRootLeaf).where(AuditRootLeaf.root_seq == root.seq)).scalars().all()
    assert root.seq == 1 and root.prev_hash == GENESIS and root.chains == len(heads) and root.events == events
    assert root.state_root == anchors.tree_root((t, i, v, h) for (t, i), (v, h) in heads.items())
    assert {(lf.entity_type, lf.entity_id): (lf.seq, lf.head) for lf in leaves} == heads
    message = anchors.message_of(root)
    key = anchors.load_signing_key(keys)
    assert anchors.signature_ok(key.public_raw, message, root.signature)
    assert not anchors.signature_ok(key.public_raw, message.replace(b"|1|", b"|2|", 1), root.signature)
    result = check(db, keys)
    assert result.ok, result.problems
    assert result.roots == 1 and result.anchored_events == events == result.checked


def test_the_next_root_keeps_only_what_changed_and_chains_to_the_previous(db: Database, keys: Settings,
                                                                          at: Driver) -> None:
    first, second = at.new_project("publicity"), at.new_project("draft")
    one = sign_root(db, settings=keys)
    at.fire(second, "submit_preliminary", at.a("secretary", 0))
    two = sign_root(db, settings=keys)
    three = sign_root(db, settings=keys)
    with db.uow(write=False) as uow:
        s = uow.session
        rows = {r.seq: r for r in s.execute(select(AuditRoot)).scalars()}
        delta = s.execute(select(AuditRootLeaf.entity_type, AuditRootLeaf.entity_id)
                          .where(AuditRootLeaf.root_seq == two.seq)).all()
    assert rows[2].prev_hash == rows[1].record_hash and rows[3].prev_hash == rows[2].record_hash
    assert [tuple(d) for d in delta] == [("project", second)] and rows[3].delta_count == 0
    assert rows[3].state_root == rows[2].state_root != rows[1].state_root
    assert (one.seq, two.seq, three.seq) == (1, 2, 3) and first != second
    assert check(db, keys, full=True).ok


def test_inclusion_proof_leads_from_a_chain_to_the_signed_root(db: Database, keys: Settings, at: Driver) -> None:
    pids = [at.new_project("draft") for _ in range(3)]
    signed = sign_root(db, settings=keys)
    with db.uow(write=False) as uow:
        heads = anchors.current_heads(uow.session)
    leaves = [(t, i, v, h) for (t, i), (v, h) in heads.items()]
    import hashlib

    for pid in pids:
        path = anchors.inclusion_proof(leaves, "project", pid)
        assert path is not None
        node = anchors.leaf_hash("project", pid, *heads[("project", pid)])
        for side, sibling in path:
            pair = bytes.fromhex(sibling) + node if side == "L" else node + bytes.fromhex(sibling)
            node = hashlib.sha256(b"\x01" + pair).digest()
        assert node.hex() == signed.state_root
    assert anchors.inclusion_proof(leaves, "project", 10**9) is None


def test_signing_needs_a_key_that_is_not_in_the_database(db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                         at: Driver) -> None:
    at.new_project("draft")
    monkeypatch.setenv("FUNDFLOW_AUDIT_KEY_FILE", str(tmp_path / "none.key"))
    monkeypatch.delenv("FUNDFLOW_AUDIT_KEY", raising=False)
    with pytest.raises(anchors.KeyError_, match="none.key 不存在"):
        sign_root(db)
    assert anchors.sign_if_due(db) is None  # the scheduler job logs and skips
    (tmp_path / "bad.key").write_text("not a key", encoding="ascii")
    with pytest.raises(anchors.KeyError_, match="审计签名密钥无效"):
        sign_root(db, settings=Settings(key_file=tmp_path / "bad.key"))
    # the key as an environment setting (hex seed) instead of a file
    monkeypatch.setenv("FUNDFLOW_AUDIT_KEY", "11" * 32)
    assert sign_root(db).seq == 1


def test_the_daily_job_signs_once_and_the_catch_up_only_a_missed_day(db: Database, keys: Settings, at: Driver) -> None:
    from workflow.jobs import JOBS

    spec = JOBS["sign_audit_root"]
    assert (spec.trigger, spec.trigger_args) == ("cron", {"hour": 23, "minute": 50})
    at.new_project("draft")
    assert anchors.sign_if_due(db, catch_up=True) is not None  # no root at all yet
    assert anchors.sign_if_due(db, catch_up=True) is None
    assert spec.func(db, lambda: False) == 0  # within the hour of the last root: one root, not two
    at.after_days(1)
    assert spec.func(db, lambda: False) == 2
    at.after_days(1)
    assert anchors.sign_if_due(db, catch_up=True) is None  # yesterday's root exists
    at.after_days(2)
    assert anchors.sign_if_due(db, catch_up=True) is not None  # the daily root was missed


# ------------------------------------------------------------------------------------ tampering


def test_a_consistent_rewrite_of_a_signed_event_is_caught(db: Database, keys: Settings, paid: int) -> None:
    sign_root(db, settings=keys)
    with db.uow(write=False) as uow:
        events = chain(uow.session, paid)
    target = next(i for i, ev in enumerate(events) if ev.event == "approve")
    rewrite_consistently(db, paid, target, reason="改写的审批意见", payload={"payload": {"comment": "同意"}})
    with db.uow(write=False) as uow:
        assert audit.verify(uow.session).ok  # the chain alone holds: hashes and head were recomputed
    result = check(db, keys)
    assert not result.ok
    # the chain signed with events 1 … n no longer ends in the signed head: the rewrite lies in that stretch
    assert any(f"project #{paid} 第 {len(events)} 条审计事件" in p and f"第 1–{len(events)} 条中有事件在签名后被改写" in p
               for p in result.problems), result.problems
    assert target + 1 < len(events)


def test_a_forged_event_appended_after_the_root_is_caught_by_the_business_tables(db: Database, keys: Settings,
                                                                                 at: Driver) -> None:
    pid = at.new_project("pending_approval")
    sign_root(db, settings=keys)
    seq = forge_append(db, pid, "approve", "in_progress", payload={"comment": "同意"})
    with db.uow(write=False) as uow:
        assert audit.verify(uow.session).ok  # well-formed, and the row's head follows it
    result = check(db, keys)
    assert any(f"project #{pid} 第 {seq} 条审计事件(approve" in p and "没有对应的审批记录" in p
               for p in result.problems), result.problems


def test_a_forged_event_inside_the_signed_history_is_caught(db: Database, keys: Settings, at: Driver) -> None:
    pid = at.new_project("preliminary_review")
    sign_root(db, settings=keys)
    with db.uow(write=False) as uow:
        n = len(chain(uow.session, pid))
    # a grant inserted before the last signed event: every later link recomputed, the head too
    with db.uow() as uow:
        s = uow.session
        events = chain(s, pid)
        for ev in reversed(events[1:]):
            ev.seq += 1
            s.flush()
        like = events[0]
        forged = AuditEvent(entity_type="project", entity_id=pid, seq=2, actor_id=like.actor_id,
                            actor_label=like.actor_label, post_id=like.post_id, role=like.role, event="record_followup",
                            from_state="draft", to_state="draft", payload={}, reason="补记", at=like.at,
                            prev_hash=like.hash, hash="")
        forged.hash = event_hash(forged)
        s.add(forged)
        s.flush()
        prev = forged.hash
        for ev in events[1:]:
            ev.prev_hash = prev
            ev.hash = event_hash(ev)
            prev = ev.hash
        s.execute(update(Project).where(Project.id == pid).values(version=n + 1, audit_head=prev))
        uow.commit()
    with db.uow(write=False) as uow:
        assert audit.verify(uow.session).ok
    result = check(db, keys)
    assert any(f"project #{pid} 第 {n} 条审计事件" in p and "签名后被改写" in p for p in result.problems), result.problems


def test_rows_without_events_and_events_without_rows(db: Database, keys: Settings, paid: int) -> None:
    sign_root(db, settings=keys)
    assert check(db, keys).problems == ()
    with db.uow() as uow:
        s = uow.session
        approval = s.execute(select(Approval).where(Approval.project_id == paid)).scalars().first()
        assert approval is not None
        # an approval row nobody gave (no event), a payment deleted (its event stays), a sign-off moved in time
        s.add(Approval(project_id=paid, round=approval.round, person_id=approval.person_id, post_id=approval.post_id,
                       role=approval.role, decision="approve", comment="补录", at=approval.at + dt.timedelta(hours=1)))
        payment = s.execute(select(Payment).join(PaymentItem, PaymentItem.id == Payment.payment_item_id)
                            .where(PaymentItem.project_id == paid)).scalars().first()
        assert payment is not None
        s.execute(delete(Payment).where(Payment.id == payment.id))
        signoff = s.execute(select(SignOff).where(SignOff.project_id == paid)).scalars().first()
        assert signoff is not None
        signoff.at = signoff.at - dt.timedelta(days=1)
        s.execute(update(Project).where(Project.id == paid).values(state="closed"))
        uow.commit()
    problems = check(db, keys).problems
    text_ = "\n".join(problems)
    assert f"project #{paid}: 审批记录" in text_ and "没有对应的审计事件" in text_, problems
    assert "(pay," in text_ and "没有对应的付款记录" in text_, problems
    assert "监督签核" in text_ and "(signoff," in text_, problems
    assert f"project #{paid}: 状态为 closed" in text_, problems


# -------------------------------------------------------------------------------- the roots themselves


def test_altered_deleted_and_foreign_roots_are_caught(db: Database, keys: Settings, at: Driver,
                                                      tmp_path: Path) -> None:
    pid = at.new_project("draft")
    for _ in range(3):
        at.fire(pid, "submit_preliminary", at.a("secretary", 0))
        at.fire(pid, "return_for_revision", at.a("working_member1"), reason="补充材料")
        sign_root(db, settings=keys)
    assert check(db, keys).ok

    def problems_after(*sql: str, **params: object) -> list[str]:
        with db.engine.connect() as conn:
            trans = conn.begin()
            for statement in sql:
                conn.execute(text(statement), params)
            with Session(bind=conn) as s:
                found = list(verify_all(s, keys).problems)
            trans.rollback()
        return found

    found = problems_after("UPDATE audit_roots SET state_root = :r WHERE seq = 2", r="a" * 64)
    assert any("签名根 #2" in p and "记录哈希与内容不符" in p for p in found), found
    found = problems_after("UPDATE audit_root_leaves SET head = :h WHERE root_seq = 2", h="b" * 64)
    assert any("签名根 #2" in p and "叶子被改动" in p for p in found), found
    found = problems_after("DELETE FROM audit_root_leaves WHERE root_seq = 2")
    assert any("叶子被改动" in p for p in found), found
    found = problems_after("DELETE FROM audit_root_leaves WHERE root_seq = 2", "DELETE FROM audit_roots WHERE seq = 2")
    assert any("签名根 #2–#2 缺失" in p for p in found) and any("前一签名根哈希不符" in p for p in found), found
    found2 = problems_after("DELETE FROM audit_root_leaves WHERE root_seq = 3", "DELETE FROM audit_roots WHERE seq = 3")
    # the last root gone: no gap in the chain of roots, but the witness log beside the key still has it
    assert any("签名根 #3" in p and "数据库中却没有" in p for p in found2), found2
    # a forger's own key signs a root: not a trusted key
    other = tmp_path / "other.key"
    generate_key_file(other)
    sign_root(db, settings=Settings(key_file=other, roots_log=tmp_path / "forger.jsonl"))
    found = check(db, keys).problems
    assert any("签名根 #4" in p and "不在受信任的公钥之列" in p for p in found), found


def test_a_deleted_roots_table_is_noticed(db: Database, keys: Settings, at: Driver, tmp_path: Path) -> None:
    at.new_project("draft")
    sign_root(db, settings=keys)
    published = tmp_path / "board-copy.json"
    with db.uow(write=False) as uow:
        published.write_text(json.dumps({"items": anchors.roots(uow.session)}), encoding="utf-8")
    with db.engine.begin() as conn:
        conn.execute(delete(AuditRootLeaf))
        conn.execute(delete(AuditRoot))
    # the witness log beside the key, and a copy saved from the public board, both still know root #1
    no_log = Settings(key_file=keys.key_file, roots_log=None)
    assert any("签名根 #1" in p and "数据库中却没有" in p for p in check(db, keys).problems)
    found = check(db, no_log, published=[published]).problems
    assert any("签名根 #1" in p and "board-copy.json" in p for p in found), found
    # with no copy at all: events older than the signing rhythm and no root
    at.after_days(3)
    found = check(db, no_log).problems
    assert any("没有任何签名根" in p for p in found), found


def test_a_stale_latest_root_is_reported(db: Database, keys: Settings, at: Driver) -> None:
    pid = at.new_project("draft")
    sign_root(db, settings=keys)
    at.after_days(4)
    assert check(db, keys).ok  # nothing happened since: an old root is not a problem
    at.fire(pid, "submit_preliminary", at.a("secretary", 0))
    found = check(db, keys).problems
    assert any("最近的签名根 #1" in p and "超过 50 小时" in p for p in found), found


def test_verify_without_any_trusted_key_fails_closed(db: Database, keys: Settings, at: Driver,
                                                     monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    at.new_project("draft")
    signed = sign_root(db, settings=keys)
    verifier = Settings(key_file=tmp_path / "absent.key", roots_log=None)
    assert any("未配置审计签名公钥" in p for p in check(db, verifier).problems)
    # a verifier holding only the public key (an inspector)
    public = anchors.load_signing_key(keys).public_hex
    assert check(db, Settings(key_file=tmp_path / "absent.key", roots_log=None, public_keys=(public,))).ok
    assert signed.key_id == anchors.key_id(bytes.fromhex(public))


# ------------------------------------------------------------------------------------- CLI and API


def _cli(db: Database, *args: str) -> tuple[int, str]:
    import cli

    runner = CliRunner()
    result = runner.invoke(cli.main, list(args), env={"DATABASE_URL": db.url})
    return result.exit_code, result.output


def test_cli_keygen_sign_roots_and_verify(db: Database, at: Driver, tmp_path: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    key_file = tmp_path / "k" / "audit-signing.key"
    monkeypatch.setenv("FUNDFLOW_AUDIT_KEY_FILE", str(key_file))
    monkeypatch.delenv("FUNDFLOW_AUDIT_KEY", raising=False)
    pid = at.new_project("publicity")
    code, out = _cli(db, "audit", "sign")
    assert code == 2 and "不存在" in out and "fundflow audit keygen" in out
    code, out = _cli(db, "audit", "keygen")
    assert code == 0 and str(key_file) in out and oct(key_file.stat().st_mode & 0o777) == "0o600"
    code, out = _cli(db, "audit", "keygen", "--if-missing")
    assert code == 0 and "已存在" in out
    code, out = _cli(db, "audit", "keygen")
    assert code == 1 and "不覆盖" in out
    code, out = _cli(db, "audit", "sign")
    assert code == 0 and "已签署签名根 #1" in out, out
    code, out = _cli(db, "audit", "roots", "--json")
    assert code == 0 and json.loads(out)[0]["seq"] == 1
    code, out = _cli(db, "audit", "verify")
    assert code == 0 and "签名根 1 个" in out, out
    rewrite_consistently(db, pid, 1, reason="改写")
    code, out = _cli(db, "audit", "verify")
    assert code == 1 and f"project #{pid} 第" in out and "签名后被改写" in out, out


def test_public_roots_route(db: Database, keys: Settings, at: Driver) -> None:
    from fastapi.testclient import TestClient

    from api.app import create_app

    at.new_project("draft")
    sign_root(db, settings=keys)
    at.after_days(1)
    sign_root(db, settings=keys)
    with TestClient(create_app(database=db)) as client:
        r = client.get("/api/v1/public/audit/roots", params={"limit": 1})
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["total"] == 2 and [i["seq"] for i in body["items"]] == [2] and body["algorithm"] == "Ed25519"
        key = anchors.load_signing_key(keys)
        assert body["public_keys"] == [{"key_id": key.key_id, "public_key": key.public_hex}]
        item = body["items"][0]
        assert anchors.signature_ok(bytes.fromhex(item["public_key"]), item["message"].encode("ascii"), item["signature"])
        day = item["day"]
        r = client.get("/api/v1/public/audit/roots", params={"until": day, "since": day})
        assert [i["seq"] for i in r.json()["items"]] == [2]
        assert client.get("/api/v1/public/audit/roots", params={"limit": 0}).status_code == 422
