"""hardening: race-free counters (project codes)

Revision ID: 0007
Revises: 0012
Create Date: 2026-11-23

Additive only. ``counters`` holds one row per named counter, drawn with a single upsert
(``store.counters.next_value``); project codes are numbered by ``project:<fund year id>``. A fund year
numbered before this migration continues from its count of projects when its counter is first drawn.
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "counters",
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("value", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )


def downgrade() -> None:
    op.drop_table("counters")
