"""indexes for the public notice board across every community (issue 9, page speed)

Revision ID: 0015
Revises: 0004
Create Date: 2026-11-23

The board of all communities (/gongshi, /api/v1/public/notices) lists the notices running now in the order
they end and the past ones newest first, with their counts; without a community to narrow by, each list
read every notice of the city. ``ix_notices_ends`` serves "running now" and "ended" (a range on
``ends_at``), ``ix_notices_starts`` walks the past notices newest first and stops after a page.
"""
from __future__ import annotations

from alembic import op

revision = "0015"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_notices_ends", "notices", ["ends_at", "id"])
    op.create_index("ix_notices_starts", "notices", ["starts_at", "id"])


def downgrade() -> None:
    op.drop_index("ix_notices_starts", table_name="notices")
    op.drop_index("ix_notices_ends", table_name="notices")
