"""deadlines: the entity index names the kind and status too, so its plan does not hang on statistics

Revision ID: 0016
Revises: 0015
Create Date: 2026-11-23

The engine clears a step's deadline with ``UPDATE deadlines … WHERE entity_type = ? AND entity_id = ?
AND kind = ? AND status = 'open'``. With the old entity index on ``(entity_type, entity_id)`` only, SQLite
without ``ANALYZE`` statistics (the embedded default) preferred ``ix_deadlines_open_due (status, due_at)``
and walked every open deadline: ~160 ms per transition with 1,000,000 open ones. On
``(entity_type, entity_id, kind, status)`` every term of those statements is an equality on the index,
which the planner takes whatever the statistics say; reads on ``(entity_type, entity_id)`` use its prefix.
"""
from __future__ import annotations

from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("deadlines", schema=None) as b:
        b.drop_index("ix_deadlines_entity")
        b.create_index("ix_deadlines_entity", ["entity_type", "entity_id", "kind", "status"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("deadlines", schema=None) as b:
        b.drop_index("ix_deadlines_entity")
        b.create_index("ix_deadlines_entity", ["entity_type", "entity_id"], unique=False)
