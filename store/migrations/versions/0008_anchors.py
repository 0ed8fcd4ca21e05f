"""audit anchors: signed daily roots of the audit chains, their leaves, and the signer's working copy

Revision ID: 0008
Revises: 0003
Create Date: 2026-11-22

Additive only (issue 12, point 9): ``audit_roots`` (one signed root per signing), ``audit_root_leaves``
(the chains each root saw change) and ``audit_anchored`` (where each chain stood at the latest root).
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import store.models

revision = "0008"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "audit_roots",
        sa.Column("seq", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("signed_at", store.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("chains", sa.Integer(), nullable=False),
        sa.Column("events", sa.BigInteger(), nullable=False),
        sa.Column("state_root", sa.String(length=64), nullable=False),
        sa.Column("delta_root", sa.String(length=64), nullable=False),
        sa.Column("delta_count", sa.Integer(), nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("record_hash", sa.String(length=64), nullable=False),
        sa.Column("key_id", sa.String(length=16), nullable=False),
        sa.Column("public_key", sa.String(length=64), nullable=False),
        sa.Column("signature", sa.String(length=128), nullable=False),
        sa.PrimaryKeyConstraint("seq"),
        sa.UniqueConstraint("record_hash"),
    )
    with op.batch_alter_table("audit_roots", schema=None) as b:
        b.create_index("ix_audit_roots_day", ["day"], unique=False)
    op.create_table(
        "audit_root_leaves",
        sa.Column("root_seq", sa.Integer(), nullable=False),
        sa.Column("entity_type", sa.String(length=16), nullable=False),
        sa.Column("entity_id", sa.BigInteger(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("head", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(["root_seq"], ["audit_roots.seq"]),
        sa.PrimaryKeyConstraint("root_seq", "entity_type", "entity_id"),
    )
    with op.batch_alter_table("audit_root_leaves", schema=None) as b:
        b.create_index("ix_audit_root_leaves_chain", ["entity_type", "entity_id", "seq"], unique=False)
    op.create_table(
        "audit_anchored",
        sa.Column("entity_type", sa.String(length=16), nullable=False),
        sa.Column("entity_id", sa.BigInteger(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("head", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("entity_type", "entity_id"),
    )


def downgrade() -> None:
    op.drop_table("audit_anchored")
    with op.batch_alter_table("audit_root_leaves", schema=None) as b:
        b.drop_index("ix_audit_root_leaves_chain")
    op.drop_table("audit_root_leaves")
    with op.batch_alter_table("audit_roots", schema=None) as b:
        b.drop_index("ix_audit_roots_day")
    op.drop_table("audit_roots")
