"""documents: verification codes of the documents fundflow prints (issue 10)

Revision ID: 0009
Revises: 0007
Create Date: 2026-11-23

Additive only: one new table, ``document_codes`` (code → the record a paper copy belongs to, and the
version that replaced it).
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import store.models

revision = "0009"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "document_codes",
        sa.Column("code", sa.String(length=16), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("object_id", sa.BigInteger(), nullable=False),
        sa.Column("subject", sa.String(length=64), nullable=False),
        sa.Column("entity_type", sa.String(length=16), nullable=False),
        sa.Column("entity_id", sa.BigInteger(), nullable=False),
        sa.Column("community_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("public", sa.Boolean(), nullable=False),
        sa.Column("data_sha256", sa.String(length=64), nullable=False),
        sa.Column("pdf_sha256", sa.String(length=64), nullable=True),
        sa.Column("as_of", store.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("issued_at", store.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("superseded_by", sa.String(length=16), nullable=True),
        sa.Column("superseded_at", store.models.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["community_id"], ["organisations.id"]),
        sa.PrimaryKeyConstraint("code"),
    )
    with op.batch_alter_table("document_codes", schema=None) as b:
        b.create_index("ix_document_codes_subject", ["subject"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("document_codes", schema=None) as b:
        b.drop_index("ix_document_codes_subject")
    op.drop_table("document_codes")
