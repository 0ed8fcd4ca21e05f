"""The audit trail: per-entity hash chains, ``audit.verify`` and ``fundflow audit verify``, on both databases.

Tampering is done inside a unit of work that is rolled back (``verify`` reads the same session), or,
for the command, with committed SQL.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import delete, func, select, text, update
from sqlalchemy.orm import Session

from store.db import Database
from store.models import AuditChain, AuditEvent, FundYear, Project
from workflow import audit, clock
from workflow.audit import GENESIS, compute_hash, event_hash, verify
from workflow.demo import City, Driver

T0 = dt.datetime(2026, 3, 2, 9, 0, tzinfo=clock.SHANGHAI)


def chain_of(s: Session, entity_type: str, entity_id: int) -> list[AuditEvent]:
    return list(s.execute(select(AuditEvent).where(AuditEvent.entity_type == entity_type,
                                                   AuditEvent.entity_id == entity_id)
                          .order_by(AuditEvent.seq)).scalars())


@pytest.fixture
def project(driver: Driver) -> int:
    """A project with a chain of several events (create … record_meeting … publicity)."""
    return driver.new_project("publicity")


@pytest.fixture
def tx(db: Database) -> Iterator[Session]:
    """A session whose changes are never committed."""
    with db.uow() as uow:
        yield uow.session


# ------------------------------------------------------------------------------------------ append


def test_append_links_each_event_to_the_previous_one(db: Database, city: City) -> None:
    with db.uow() as uow:
        s = uow.session
        for i in range(3):
            audit.record(s, "org", city.city_id, event=f"rename_{i}", at=T0 + dt.timedelta(minutes=i),
                         actor_label="admin", payload={"name": f"市{i}", "when": T0}, reason="测试")
        uow.commit()
    with db.uow(write=False) as uow:
        s = uow.session
        events = chain_of(s, "org", city.city_id)
        head = s.execute(select(AuditChain).where(AuditChain.entity_type == "org",
                                                  AuditChain.entity_id == city.city_id)).scalar_one()
        assert [e.seq for e in events] == [1, 2, 3]
        assert events[0].prev_hash == GENESIS
        assert [e.prev_hash for e in events[1:]] == [e.hash for e in events[:-1]]
        assert all(event_hash(e) == e.hash for e in events)
        assert (head.version, head.audit_head) == (3, events[-1].hash)
        assert events[0].payload == {"name": "市0", "when": str(T0)}  # what survives JSON on every database
        result = verify(s)
    assert result.ok and result.broken == ""
    assert result.checked == s.execute(select(func.count()).select_from(AuditEvent)).scalar_one()


def test_engine_events_carry_who_what_when_and_chain_on_the_row(db: Database, driver: Driver, project: int) -> None:
    with db.uow(write=False) as uow:
        s = uow.session
        p = s.get(Project, project)
        assert p is not None
        events = chain_of(s, "project", project)
        assert p.version == len(events) and p.audit_head == events[-1].hash
        assert events[0].event == "create" and events[0].to_state == "draft"
        assert events[-1].to_state == "publicity"
        for prev, ev in zip(events, events[1:], strict=False):
            assert ev.from_state == prev.to_state
            assert ev.prev_hash == prev.hash
        moved = [e for e in events if e.event == "submit_preliminary"]
        assert moved and moved[0].actor_id is not None and moved[0].post_id is not None
        assert moved[0].role == "community_secretary" and moved[0].actor_label
        assert verify(s).ok


def test_the_hash_is_independent_of_time_zone_and_key_order() -> None:
    common = dict(entity_type="project", entity_id=1, seq=1, actor_id=None, actor_label="system", post_id=None,
                  role="system", event="publicity_elapsed", from_state="publicity", to_state="ready_to_submit",
                  reason="")
    a = compute_hash(GENESIS, payload={"a": 1, "b": [1, 2]}, at=T0, **common)
    b = compute_hash(GENESIS, payload={"b": [1, 2], "a": 1}, at=T0.astimezone(dt.UTC), **common)
    assert a == b
    assert compute_hash(GENESIS, payload={"a": 1, "b": [1, 2]}, at=T0 + dt.timedelta(microseconds=1), **common) != a
    assert compute_hash("1" * 64, payload={"a": 1, "b": [1, 2]}, at=T0, **common) != a


def test_verify_on_an_empty_database(db: Database) -> None:
    with db.uow(write=False) as uow:
        result = verify(uow.session)
    assert result.ok and result.checked == 0 and result.chains == 0


# -------------------------------------------------------------------------------------- detection

HASHED_COLUMNS = ["entity_id", "actor_id", "actor_label", "post_id", "role", "event", "from_state", "to_state",
                  "payload", "reason", "at", "prev_hash", "hash"]


def _edit(ev: AuditEvent, column: str, project: int) -> None:
    if column == "entity_id":
        ev.entity_id = project + 1000  # moved to another (non-existent) chain
    elif column == "actor_id":
        ev.actor_id = None
    elif column == "post_id":
        ev.post_id = None if ev.post_id is not None else 1
    elif column == "payload":
        ev.payload = {**ev.payload, "amount": "99999.00"}
    elif column == "at":
        ev.at = ev.at + dt.timedelta(seconds=1)
    elif column in ("prev_hash", "hash"):
        setattr(ev, column, "e" * 64)
    else:
        setattr(ev, column, getattr(ev, column) + "x")


def test_verify_detects_an_edit_of_any_column(db: Database, project: int) -> None:
    for column in HASHED_COLUMNS:
        for index in (1, -1):  # a link in the middle, and the last one
            with db.uow() as uow:  # rolled back
                s = uow.session
                ev = chain_of(s, "project", project)[index]
                seq = ev.seq
                _edit(ev, column, project)
                s.flush()
                result = verify(s)
            assert not result.ok, f"an edit of {column} (link {seq}) went unnoticed"
            assert f"project #{project}" in result.broken, (column, result.broken)
            # the edited link, the next one (whose back-link no longer matches), or the chain's missing end
            named = (f"第 {seq} 条", f"第 {seq + 1} 条", f"版本 {seq} ")
            assert any(n in result.broken for n in named), (column, result.broken)
    with db.uow(write=False) as uow:
        assert verify(uow.session).ok


def test_verify_detects_a_deleted_event_in_the_middle(db: Database, project: int, tx: Session) -> None:
    ev = chain_of(tx, "project", project)[2]
    tx.execute(delete(AuditEvent).where(AuditEvent.id == ev.id))
    result = verify(tx)
    assert not result.ok
    assert f"project #{project} 第 {ev.seq + 1} 条" in result.broken and "序号不连续" in result.broken, result.broken


def test_verify_detects_a_deleted_last_event(db: Database, project: int, tx: Session) -> None:
    ev = chain_of(tx, "project", project)[-1]
    tx.execute(delete(AuditEvent).where(AuditEvent.id == ev.id))
    result = verify(tx)
    assert not result.ok
    assert f"project #{project}" in result.broken and f"第 {ev.seq - 1} 条" in result.broken, result.broken
    assert f"版本 {ev.seq}" in result.broken, result.broken


def test_verify_detects_a_deleted_chain(db: Database, project: int, tx: Session) -> None:
    tx.execute(delete(AuditEvent).where(AuditEvent.entity_type == "project", AuditEvent.entity_id == project))
    result = verify(tx)
    assert not result.ok and f"project #{project}" in result.broken and "没有审计事件" in result.broken


def _forge(tx: Session, like: AuditEvent, seq: int, prev_hash: str, **changes: object) -> AuditEvent:
    values = {c: getattr(like, c) for c in ("entity_type", "entity_id", "actor_id", "actor_label", "post_id", "role",
                                            "event", "from_state", "to_state", "payload", "reason", "at")}
    values.update(changes)
    forged = AuditEvent(seq=seq, prev_hash=prev_hash, hash="", **values)  # type: ignore[arg-type]
    forged.hash = event_hash(forged)  # a well-formed link: the forger knows the algorithm
    tx.add(forged)
    tx.flush()
    return forged


def test_verify_detects_an_appended_event_the_row_does_not_know(db: Database, project: int, tx: Session) -> None:
    last = chain_of(tx, "project", project)[-1]
    _forge(tx, last, last.seq + 1, last.hash, event="approve", to_state="in_progress")
    result = verify(tx)
    assert not result.ok and f"project #{project}" in result.broken, result.broken
    assert f"第 {last.seq + 1} 条" in result.broken, result.broken


def test_verify_detects_an_inserted_event_in_the_middle(db: Database, project: int, tx: Session) -> None:
    events = chain_of(tx, "project", project)
    # make room at seq 3 and insert a well-formed link after seq 2
    for ev in reversed(events[2:]):
        ev.seq += 1
        tx.flush()
    _forge(tx, events[1], 3, events[1].hash, reason="补记")
    result = verify(tx)
    assert not result.ok and f"project #{project}" in result.broken, result.broken
    assert "第 4 条" in result.broken, result.broken


def test_verify_detects_reordered_events(db: Database, project: int, tx: Session) -> None:
    events = chain_of(tx, "project", project)
    a, b = events[1], events[2]
    seq_a, seq_b = a.seq, b.seq
    a.seq = -1
    tx.flush()
    b.seq = seq_a
    tx.flush()
    a.seq = seq_b
    tx.flush()
    result = verify(tx)
    assert not result.ok and f"project #{project} 第 {seq_a} 条" in result.broken, result.broken


def test_verify_detects_a_chain_without_its_row(db: Database, project: int, tx: Session) -> None:
    prev = GENESIS
    for ev in chain_of(tx, "project", project)[:2]:  # a well-formed chain of a project that does not exist
        prev = _forge(tx, ev, ev.seq, prev, entity_id=project + 5000).hash
    result = verify(tx)
    assert not result.ok and f"project #{project + 5000}" in result.broken and "没有对应的记录" in result.broken


def test_verify_detects_an_edited_row_head(db: Database, project: int, tx: Session) -> None:
    tx.execute(update(Project).where(Project.id == project).values(version=Project.version + 1))
    result = verify(tx)
    assert not result.ok and f"project #{project}" in result.broken


def test_verify_covers_fund_years_and_other_chains(db: Database, city: City, tx: Session) -> None:
    fy = tx.execute(select(FundYear).where(FundYear.community_id == city.community(0).id)).scalar_one()
    (ev,) = chain_of(tx, "fund_year", fy.id)
    ev.payload = {**ev.payload, "allocation": "999999.00"}
    tx.flush()
    result = verify(tx)
    assert not result.ok and f"fund_year #{fy.id} 第 1 条" in result.broken
    tx.rollback()
    policy = chain_of(tx, "policy", city.city_id)
    assert policy
    policy[0].reason = "改过的说明"
    tx.flush()
    result = verify(tx)
    assert not result.ok and f"policy #{city.city_id} 第 1 条" in result.broken


# -------------------------------------------------------------------------------------------- CLI


def cli_verify(db: Database, monkeypatch: pytest.MonkeyPatch) -> tuple[int, str]:
    import cli

    made: list[Database] = []
    real = cli._db

    def tracked() -> Database:
        made.append(real())
        return made[-1]

    with monkeypatch.context() as m:
        m.setattr(cli, "_db", tracked)
        result = CliRunner().invoke(cli.main, ["audit", "verify"], env={"DATABASE_URL": db.url})
    for database in made:
        assert database.url == db.url, "the command must use DATABASE_URL"
        database.dispose()
    return result.exit_code, result.output


def anchor(db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A signing key outside the database and today's signed root (the command checks the chains against it)."""
    from workflow.anchors import generate_key_file, sign_root

    key_file = tmp_path / "audit-signing.key"
    generate_key_file(key_file)
    monkeypatch.setenv("FUNDFLOW_AUDIT_KEY_FILE", str(key_file))
    sign_root(db)


def test_cli_exit_codes(db: Database, project: int, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    anchor(db, tmp_path, monkeypatch)
    code, out = cli_verify(db, monkeypatch)
    assert code == 0 and "审计链完整" in out, out
    with db.uow(write=False) as uow:
        ev = chain_of(uow.session, "project", project)[1]
    with db.engine.begin() as conn:
        conn.execute(text("UPDATE audit_events SET reason = 'x' WHERE id = :id"), {"id": ev.id})
    code, out = cli_verify(db, monkeypatch)
    assert code == 1, out
    assert "审计链断裂" in out and f"project #{project} 第 {ev.seq} 条" in out and f"id={ev.id}" in out, out
    with db.engine.begin() as conn:
        conn.execute(text("UPDATE audit_events SET reason = :r WHERE id = :id"), {"id": ev.id, "r": ev.reason})
    code, out = cli_verify(db, monkeypatch)
    assert code == 0, out


def test_cli_names_the_first_broken_link_only(db: Database, driver: Driver, monkeypatch: pytest.MonkeyPatch,
                                              tmp_path: Path) -> None:
    first, second = driver.new_project("joint_meeting"), driver.new_project("joint_meeting")
    anchor(db, tmp_path, monkeypatch)
    with db.engine.begin() as conn:
        for pid in (first, second):
            conn.execute(text("UPDATE audit_events SET to_state = 'closed' "
                              "WHERE entity_type = 'project' AND entity_id = :p AND seq = 2"), {"p": pid})
    code, out = cli_verify(db, monkeypatch)
    assert code == 1
    assert f"project #{first} 第 2 条" in out and f"project #{second}" not in out, out
