"""org admin: closing organisations, one-time activation codes for accounts loaded by a roster

Revision ID: 0006
Revises: 0003
Create Date: 2026-11-23

Additive only. ``organisations.closed_on`` is the day the city administrator closed an area or a
community (NULL while it exists); ``activation_tokens`` keeps the sha256 of the one-time codes with
which people loaded by ``fundflow org import`` set their own password.
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import store.models

revision = "0006"
down_revision = "0003"
branch_labels = None
depends_on = None

_BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table("organisations", schema=None) as b:
        b.add_column(sa.Column("closed_on", sa.Date(), nullable=True))
    op.create_table(
        "activation_tokens",
        sa.Column("id", _BIG_ID, nullable=False),
        sa.Column("person_id", _BIG_ID, nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", store.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", store.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("used_at", store.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_by", _BIG_ID, nullable=True),
        sa.ForeignKeyConstraint(["person_id"], ["people.id"]),
        sa.ForeignKeyConstraint(["created_by"], ["people.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token_hash"),
    )
    with op.batch_alter_table("activation_tokens", schema=None) as b:
        b.create_index("ix_activation_tokens_person", ["person_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("activation_tokens", schema=None) as b:
        b.drop_index("ix_activation_tokens_person")
    op.drop_table("activation_tokens")
    with op.batch_alter_table("organisations", schema=None) as b:
        b.drop_column("closed_on")
