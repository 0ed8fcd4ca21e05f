"""api: login sessions (bearer tokens and cookie sessions) and rate-limit counters

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-21

Additive only. ``auth_sessions`` keeps the sha256 of every issued token (revoked on logout);
``rate_limit_hits`` counts failed logins per username and IP and public objections per IP.
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import store.models

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

_BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "auth_sessions",
        sa.Column("id", _BIG_ID, nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("person_id", _BIG_ID, nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("csrf_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", store.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", store.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", store.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column("ip", sa.String(length=64), nullable=False),
        sa.Column("user_agent", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(["person_id"], ["people.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token_hash"),
    )
    with op.batch_alter_table("auth_sessions", schema=None) as b:
        b.create_index("ix_auth_sessions_person", ["person_id"], unique=False)
    op.create_table(
        "rate_limit_hits",
        sa.Column("id", _BIG_ID, nullable=False),
        sa.Column("bucket", sa.String(length=16), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("at", store.models.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("rate_limit_hits", schema=None) as b:
        b.create_index("ix_rate_limit_hits_key", ["bucket", "key", "at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("rate_limit_hits", schema=None) as b:
        b.drop_index("ix_rate_limit_hits_key")
    op.drop_table("rate_limit_hits")
    with op.batch_alter_table("auth_sessions", schema=None) as b:
        b.drop_index("ix_auth_sessions_person")
    op.drop_table("auth_sessions")
