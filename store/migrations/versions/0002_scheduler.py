"""scheduler: deadline retries and lazy keys, notification deliveries, people's e-mail

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22

Additive only. ``deadlines`` gains the columns the sweep needs (``ref`` for deadlines made once by
the scheduler, ``attempts`` / ``next_attempt_at`` / ``last_error`` for the backoff of refused timers,
``outcome``, ``flagged_at``) and three partial indexes (the open-due scan, the unique lazy key, the
provisional deadlines still to flag); ``notification_deliveries`` records every e-mail / webhook copy;
``people.email`` is where e-mail goes.
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import store.models

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

_BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table("deadlines", schema=None) as b:
        b.add_column(sa.Column("ref", sa.String(length=64), nullable=False, server_default=""))
        b.add_column(sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"))
        b.add_column(sa.Column("next_attempt_at", store.models.UTCDateTime(timezone=True), nullable=True))
        b.add_column(sa.Column("last_error", sa.Text(), nullable=False, server_default=""))
        b.add_column(sa.Column("outcome", sa.String(length=32), nullable=False, server_default=""))
        b.add_column(sa.Column("flagged_at", store.models.UTCDateTime(timezone=True), nullable=True))
    op.create_index("ix_deadlines_due_open", "deadlines", ["due_at", "id"],
                    postgresql_where=sa.text("status = 'open'"), sqlite_where=sa.text("status = 'open'"))
    op.create_index("ux_deadlines_ref", "deadlines", ["entity_type", "entity_id", "kind", "ref"], unique=True,
                    postgresql_where=sa.text("ref <> ''"), sqlite_where=sa.text("ref <> ''"))
    op.create_index("ix_deadlines_unflagged", "deadlines", ["id"],
                    postgresql_where=sa.text("provisional AND status = 'open' AND flagged_at IS NULL"),
                    sqlite_where=sa.text("provisional AND status = 'open' AND flagged_at IS NULL"))

    with op.batch_alter_table("people", schema=None) as b:
        b.add_column(sa.Column("email", sa.String(length=254), nullable=True))

    op.create_table(
        "notification_deliveries",
        sa.Column("id", _BIG_ID, nullable=False),
        sa.Column("notification_id", _BIG_ID, nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("target", sa.String(length=254), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", store.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column("claimed_at", store.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column("sent_at", store.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=False),
        sa.Column("created_at", store.models.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["notification_id"], ["notifications.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("notification_id", "channel"),
    )
    op.create_index("ix_deliveries_pending", "notification_deliveries", ["status", "next_attempt_at"])


def downgrade() -> None:
    op.drop_index("ix_deliveries_pending", table_name="notification_deliveries")
    op.drop_table("notification_deliveries")
    with op.batch_alter_table("people", schema=None) as b:
        b.drop_column("email")
    op.drop_index("ix_deadlines_unflagged", table_name="deadlines")
    op.drop_index("ux_deadlines_ref", table_name="deadlines")
    op.drop_index("ix_deadlines_due_open", table_name="deadlines")
    with op.batch_alter_table("deadlines", schema=None) as b:
        for name in ("flagged_at", "outcome", "last_error", "next_attempt_at", "attempts", "ref"):
            b.drop_column(name)
