"""public side of issue 9: residents' needs posted on the public form, their receipts and answers

Revision ID: 0012
Revises: 0008
Create Date: 2026-11-24

``needs.recorded_by`` becomes nullable (a need a resident posts on the public form 居民点单 has no staff
author); ``needs`` gains the resident's receipt code (unique), name and contact (never public), and the
committee's answer; ``app_secrets`` holds server secrets shared by every worker (the key that signs the
public forms' CSRF tokens).
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import store.models

revision = "0012"
down_revision = "0008"
branch_labels = None
depends_on = None

_BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table("needs", schema=None) as b:
        b.alter_column("recorded_by", existing_type=_BIG_ID, nullable=True)
        b.add_column(sa.Column("receipt_code", sa.String(length=16), nullable=True))
        b.add_column(sa.Column("author_name", sa.String(length=64), server_default="", nullable=False))
        b.add_column(sa.Column("contact", sa.String(length=64), server_default="", nullable=False))
        b.add_column(sa.Column("answer", sa.Text(), server_default="", nullable=False))
        b.add_column(sa.Column("answered_by", _BIG_ID, nullable=True))
        b.add_column(sa.Column("answered_at", store.models.UTCDateTime(timezone=True), nullable=True))
        b.create_unique_constraint("uq_needs_receipt_code", ["receipt_code"])
        b.create_foreign_key("fk_needs_answered_by", "people", ["answered_by"], ["id"])
    op.create_table(
        "app_secrets",
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("value", sa.String(length=128), nullable=False),
        sa.Column("created_at", store.models.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )


def downgrade() -> None:
    op.drop_table("app_secrets")
    with op.batch_alter_table("needs", schema=None) as b:
        b.drop_constraint("fk_needs_answered_by", type_="foreignkey")
        b.drop_constraint("uq_needs_receipt_code", type_="unique")
        for column in ("answered_at", "answered_by", "answer", "contact", "author_name", "receipt_code"):
            b.drop_column(column)
        b.alter_column("recorded_by", existing_type=_BIG_ID, nullable=False)
