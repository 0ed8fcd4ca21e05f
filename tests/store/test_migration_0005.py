"""Migration 0005's data steps (issue 11), on both databases: existing objections get unique receipt codes
(those resolved under the old rule are marked ``legacy``); a fund year in the removed ``evaluated`` state
moves back to ``reported`` with an audit event on its chain, and the chain still verifies."""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import sqlalchemy as sa

from store.db import Database, alembic_config, upgrade
from store.models import JSONType, UTCDateTime
from tests.conftest import drop_pg_database, new_database_url
from workflow import audit
from workflow.receipts import ALPHABET, LENGTH

AT = dt.datetime(2026, 11, 25, 2, 0, tzinfo=dt.UTC)


def _before_0005() -> str:
    from alembic.script import ScriptDirectory

    return str(ScriptDirectory.from_config(alembic_config()).get_revision("0005").down_revision)


def _t(name: str, *cols: str, **typed: sa.types.TypeEngine) -> sa.TableClause:  # type: ignore[type-arg]
    return sa.table(name, *(sa.column(c) for c in cols), *(sa.column(c, t) for c, t in typed.items()))


def _seed(conn: sa.Connection) -> int:
    """A community with an evaluated fund year (one audit event on its chain) and two objections."""
    orgs = _t("organisations", "id", "code", "name", "level", "parent_id")
    conn.execute(orgs.insert(), [
        {"id": 1, "code": "C01", "name": "xx市", "level": "city", "parent_id": None},
        {"id": 2, "code": "A01", "name": "xx大社区", "level": "area", "parent_id": 1},
        {"id": 3, "code": "S01", "name": "幸福社区", "level": "community", "parent_id": 2}])
    conn.execute(_t("policy_versions", "id", "city_id", "version", "effective_from", "note",
                    data=JSONType, created_at=UTCDateTime()).insert(),
                 {"id": 1, "city_id": 1, "version": 1, "effective_from": dt.date(2020, 1, 1), "note": "", "data": {},
                  "created_at": AT})
    payload = audit.normalise_payload({"rating": "good"})
    digest = audit.compute_hash(audit.GENESIS, entity_type="fund_year", entity_id=1, seq=1, actor_id=None,
                                actor_label="gw_shuji", post_id=None, role="working_secretary", event="evaluate",
                                from_state="reported", to_state="evaluated", payload=payload, reason="", at=AT)
    conn.execute(_t("fund_years", "id", "community_id", "year", "state", "version", "audit_head", "policy_version_id",
                    "allocation_fen", "carry_in_fen", "committed_fen", "paid_fen", "small_group_committed_fen",
                    report=JSONType).insert(),
                 {"id": 1, "community_id": 3, "year": 2026, "state": "evaluated", "version": 1, "audit_head": digest,
                  "policy_version_id": 1, "allocation_fen": 20_000_000, "carry_in_fen": 0, "committed_fen": 0,
                  "paid_fen": 0, "small_group_committed_fen": 0, "report": {"evaluated_at": AT.isoformat()}})
    conn.execute(_t("audit_events", "entity_type", "entity_id", "seq", "actor_id", "actor_label", "post_id", "role",
                    "event", "from_state", "to_state", "reason", "prev_hash", "hash", payload=JSONType,
                    at=UTCDateTime()).insert(),
                 {"entity_type": "fund_year", "entity_id": 1, "seq": 1, "actor_id": None, "actor_label": "gw_shuji",
                  "post_id": None, "role": "working_secretary", "event": "evaluate", "from_state": "reported",
                  "to_state": "evaluated", "reason": "", "prev_hash": audit.GENESIS, "hash": digest,
                  "payload": payload, "at": AT})
    conn.execute(_t("notices", "id", "community_id", "kind", "title", "body", "provisional",
                    starts_at=UTCDateTime(), ends_at=UTCDateTime()).insert(),
                 {"id": 1, "community_id": 3, "kind": "publicity", "title": "公示", "body": "正文", "provisional": False,
                  "starts_at": AT, "ends_at": AT + dt.timedelta(days=5)})
    conn.execute(_t("objections", "id", "notice_id", "author_name", "contact", "text", "answer", "resolved",
                    created_at=UTCDateTime()).insert(), [
        {"id": 1, "notice_id": 1, "author_name": "", "contact": "", "text": "意见一", "answer": "已答复",
         "resolved": True, "created_at": AT},
        {"id": 2, "notice_id": 1, "author_name": "", "contact": "", "text": "意见二", "answer": "", "resolved": False,
         "created_at": AT}])
    return 1


def test_0005_moves_evaluated_years_back_and_gives_every_objection_a_receipt(backend: str, tmp_path: Path) -> None:
    url = new_database_url(backend, tmp_path)
    database = Database(url)
    try:
        upgrade(database.engine, _before_0005())
        with database.engine.begin() as conn:
            fid = _seed(conn)
        upgrade(database.engine)
        with database.engine.connect() as conn:
            state, version = conn.execute(sa.text("SELECT state, version FROM fund_years WHERE id = :i"),
                                          {"i": fid}).one()
            last = conn.execute(sa.text("SELECT event, from_state, to_state, actor_label FROM audit_events "
                                        "WHERE entity_type = 'fund_year' AND entity_id = :i ORDER BY seq DESC"),
                                {"i": fid}).first()
            objections = conn.execute(sa.text("SELECT id, receipt_code, resolution FROM objections ORDER BY id")).all()
        assert (state, version) == ("reported", 2)
        assert tuple(last) == ("migrate_state", "evaluated", "reported", "system")
        with database.uow(write=False) as uow:
            result = audit.verify(uow.session)
        assert result.ok and result.chains == 1, result.broken
        codes = [c for _i, c, _r in objections]
        assert len(set(codes)) == 2 and all(len(c) == LENGTH and set(c) <= set(ALPHABET) for c in codes)
        assert [r for _i, _c, r in objections] == ["legacy", ""]
        # the code is unique in the database itself
        with database.engine.connect() as conn:
            try:
                conn.execute(sa.text("UPDATE objections SET receipt_code = :c WHERE id = 2"), {"c": codes[0]})
            except sa.exc.IntegrityError:
                pass
            else:
                raise AssertionError("receipt codes must be unique")
    finally:
        database.dispose()
        if backend == "postgresql":
            drop_pg_database(url)
