"""lifecycle (issue 11): flag decisions, objection receipts and their settlement, voided sign-offs; the
fund year without its ``evaluated`` state

Revision ID: 0005
Revises: 0007
Create Date: 2026-11-24

Schema (additive): ``line_items`` gets the working committee's decision on a keyword flag (who, when,
why); ``objections`` gets the resident's receipt code and how it was settled (a supervisor's
confirmation or the resident's acceptance); ``signoffs`` gets ``voided_at`` (a failed acceptance voids
that round's acceptance sign-off).

Data: every existing objection gets a receipt code; objections already resolved (by the committee's
answer alone, the old rule) are marked ``legacy``. A fund year in ``evaluated`` (a state that no
longer exists: the evaluation now runs alongside the disclosure) moves back to ``reported``, with an
audit event on its chain saying so, so that its history still explains its state.
"""
from __future__ import annotations

import datetime as dt
import secrets

import sqlalchemy as sa
from alembic import op

import store.models

revision = "0005"
down_revision = "0009"
branch_labels = None
depends_on = None

_BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
# the same alphabet as workflow.receipts (no 0/O, 1/I/L): a migration keeps its own copy of what it wrote
_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"


def upgrade() -> None:
    with op.batch_alter_table("line_items", schema=None) as b:
        b.add_column(sa.Column("flag_decision", sa.String(length=16), server_default="", nullable=False))
        b.add_column(sa.Column("flag_decided_by", _BIG_ID, nullable=True))
        b.add_column(sa.Column("flag_decided_at", store.models.UTCDateTime(timezone=True), nullable=True))
        b.add_column(sa.Column("flag_note", sa.Text(), server_default="", nullable=False))
        b.create_foreign_key("fk_line_items_flag_decided_by", "people", ["flag_decided_by"], ["id"])
    with op.batch_alter_table("signoffs", schema=None) as b:
        b.add_column(sa.Column("voided_at", store.models.UTCDateTime(timezone=True), nullable=True))
    with op.batch_alter_table("objections", schema=None) as b:
        b.add_column(sa.Column("receipt_code", sa.String(length=16), nullable=True))
        b.add_column(sa.Column("resolution", sa.String(length=16), server_default="", nullable=False))
        b.add_column(sa.Column("resolved_by", _BIG_ID, nullable=True))
        b.add_column(sa.Column("resolved_at", store.models.UTCDateTime(timezone=True), nullable=True))
        b.add_column(sa.Column("resolution_comment", sa.Text(), server_default="", nullable=False))
        b.create_foreign_key("fk_objections_resolved_by", "people", ["resolved_by"], ["id"])
    conn = op.get_bind()
    objections = sa.table("objections", sa.column("id", sa.Integer), sa.column("receipt_code", sa.String),
                          sa.column("resolved", sa.Boolean), sa.column("resolution", sa.String))
    used: set[str] = set()
    for (oid,) in conn.execute(sa.select(objections.c.id).order_by(objections.c.id)).all():
        code = ""
        while not code or code in used:
            code = "".join(secrets.choice(_ALPHABET) for _ in range(10))
        used.add(code)
        conn.execute(objections.update().where(objections.c.id == oid).values(receipt_code=code))
    conn.execute(objections.update().where(objections.c.resolved.is_(True)).values(resolution="legacy"))
    with op.batch_alter_table("objections", schema=None) as b:
        b.alter_column("receipt_code", existing_type=sa.String(length=16), nullable=False)
        b.create_unique_constraint("uq_objections_receipt_code", ["receipt_code"])
    _fund_years_out_of_evaluated(conn)


def _fund_years_out_of_evaluated(conn: sa.Connection) -> None:
    """``evaluated`` → ``reported``, one audit event each (the chain's hash as workflow.audit computes it)."""
    from workflow.audit import GENESIS, compute_hash, normalise_payload

    fund_years = sa.table("fund_years", sa.column("id", sa.Integer), sa.column("state", sa.String),
                          sa.column("version", sa.Integer), sa.column("audit_head", sa.String))
    events = sa.table("audit_events", *(sa.column(n) for n in (
        "entity_type", "entity_id", "seq", "actor_id", "actor_label", "post_id", "role", "event", "from_state",
        "to_state", "reason", "prev_hash", "hash")), sa.column("payload", store.models.JSONType),
        sa.column("at", store.models.UTCDateTime()))
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    reason = "流程调整:考核评议与年度公示并行进行,不再作为单独状态(评议记录保留在年度报告中)"
    payload = normalise_payload({"migration": revision})
    rows = conn.execute(sa.select(fund_years.c.id, fund_years.c.version, fund_years.c.audit_head)
                        .where(fund_years.c.state == "evaluated")).all()
    for fid, version, head in rows:
        seq, prev = int(version) + 1, head or GENESIS
        digest = compute_hash(prev, entity_type="fund_year", entity_id=int(fid), seq=seq, actor_id=None,
                              actor_label="system", post_id=None, role="system", event="migrate_state",
                              from_state="evaluated", to_state="reported", payload=payload, reason=reason, at=now)
        conn.execute(events.insert().values(
            entity_type="fund_year", entity_id=fid, seq=seq, actor_id=None, actor_label="system", post_id=None,
            role="system", event="migrate_state", from_state="evaluated", to_state="reported",
            payload=payload, reason=reason, at=now, prev_hash=prev, hash=digest))
        conn.execute(fund_years.update().where(fund_years.c.id == fid)
                     .values(state="reported", version=seq, audit_head=digest))


def downgrade() -> None:
    # fund years moved out of ``evaluated`` stay ``reported`` (their evaluation is still in the report)
    with op.batch_alter_table("objections", schema=None) as b:
        b.drop_constraint("uq_objections_receipt_code", type_="unique")
        b.drop_constraint("fk_objections_resolved_by", type_="foreignkey")
        b.drop_column("resolution_comment")
        b.drop_column("resolved_at")
        b.drop_column("resolved_by")
        b.drop_column("resolution")
        b.drop_column("receipt_code")
    with op.batch_alter_table("signoffs", schema=None) as b:
        b.drop_column("voided_at")
    with op.batch_alter_table("line_items", schema=None) as b:
        b.drop_constraint("fk_line_items_flag_decided_by", type_="foreignkey")
        b.drop_column("flag_note")
        b.drop_column("flag_decided_at")
        b.drop_column("flag_decided_by")
        b.drop_column("flag_decision")
