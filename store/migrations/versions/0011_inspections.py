"""inspections, findings and finance's three steps (issue 13, 第十八条、第十九条)

Revision ID: 0011
Revises: 0016
Create Date: 2026-11-23

``inspections`` (定期检查 of a community over a period) and ``findings`` (检查发现 with their rectification)
each run a workflow of their own with an audit chain (state, version, audit_head); ``finance_checks`` holds
finance's budget reviews, in-process checks and audits of projects.
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import store.models

revision = "0011"
down_revision = "0016"
branch_labels = None
depends_on = None

_BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_UTC = store.models.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "inspections",
        sa.Column("id", _BIG_ID, nullable=False),
        sa.Column("area_id", _BIG_ID, nullable=False),
        sa.Column("community_id", _BIG_ID, nullable=False),
        sa.Column("policy_version_id", _BIG_ID, nullable=False),
        sa.Column("period_from", sa.Date(), nullable=False),
        sa.Column("period_to", sa.Date(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("state", sa.String(length=32), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("audit_head", sa.String(length=64), nullable=False),
        sa.Column("planned_by", _BIG_ID, nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("created_at", _UTC, nullable=False),
        sa.ForeignKeyConstraint(["area_id"], ["organisations.id"]),
        sa.ForeignKeyConstraint(["community_id"], ["organisations.id"]),
        sa.ForeignKeyConstraint(["policy_version_id"], ["policy_versions.id"]),
        sa.ForeignKeyConstraint(["planned_by"], ["people.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_inspections_community", "inspections", ["community_id"])
    op.create_index("ix_inspections_area", "inspections", ["area_id"])
    op.create_table(
        "findings",
        sa.Column("id", _BIG_ID, nullable=False),
        sa.Column("inspection_id", _BIG_ID, nullable=False),
        sa.Column("community_id", _BIG_ID, nullable=False),
        sa.Column("policy_version_id", _BIG_ID, nullable=False),
        sa.Column("project_id", _BIG_ID, nullable=True),
        sa.Column("state", sa.String(length=32), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("audit_head", sa.String(length=64), nullable=False),
        sa.Column("article", sa.String(length=32), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("requirement", sa.Text(), nullable=False),
        sa.Column("workdays", sa.Integer(), nullable=False),
        sa.Column("recorded_by", _BIG_ID, nullable=False),
        sa.Column("created_at", _UTC, nullable=False),
        sa.Column("rectification", sa.Text(), nullable=False),
        sa.Column("submitted_by", _BIG_ID, nullable=True),
        sa.Column("submitted_at", _UTC, nullable=True),
        sa.Column("verified_by", _BIG_ID, nullable=True),
        sa.Column("verified_at", _UTC, nullable=True),
        sa.Column("rejections", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["inspection_id"], ["inspections.id"]),
        sa.ForeignKeyConstraint(["community_id"], ["organisations.id"]),
        sa.ForeignKeyConstraint(["policy_version_id"], ["policy_versions.id"]),
        sa.ForeignKeyConstraint(["project_id"], ["projects.id"]),
        sa.ForeignKeyConstraint(["recorded_by"], ["people.id"]),
        sa.ForeignKeyConstraint(["submitted_by"], ["people.id"]),
        sa.ForeignKeyConstraint(["verified_by"], ["people.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_findings_inspection", "findings", ["inspection_id"])
    op.create_index("ix_findings_community_state", "findings", ["community_id", "state"])
    op.create_table(
        "finance_checks",
        sa.Column("id", _BIG_ID, nullable=False),
        sa.Column("project_id", _BIG_ID, nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("round", sa.Integer(), nullable=False),
        sa.Column("person_id", _BIG_ID, nullable=False),
        sa.Column("created_at", _UTC, nullable=False),
        sa.ForeignKeyConstraint(["project_id"], ["projects.id"]),
        sa.ForeignKeyConstraint(["person_id"], ["people.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_finance_checks_project", "finance_checks", ["project_id", "kind"])


def downgrade() -> None:
    op.drop_index("ix_finance_checks_project", table_name="finance_checks")
    op.drop_table("finance_checks")
    op.drop_index("ix_findings_community_state", table_name="findings")
    op.drop_index("ix_findings_inspection", table_name="findings")
    op.drop_table("findings")
    op.drop_index("ix_inspections_area", table_name="inspections")
    op.drop_index("ix_inspections_community", table_name="inspections")
    op.drop_table("inspections")
