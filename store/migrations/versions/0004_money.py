"""money: one invoice paid once in the city, cancelled payment items, lapsed signatures, catalogue codes

Revision ID: 0004
Revises: 0005
Create Date: 2026-11-23

``payment_items`` gains the normalised invoice number and the issuer's taxpayer id, with a unique index
over the items that are not cancelled (Art. 13, 17: one invoice is paid once in the whole city), and who
cancelled (作废) an unpaid item, when and why; ``signatures.lapsed_at`` marks the signatures of a
cancelled item. Data: existing invoice numbers are normalised (a number already held by an earlier live
item is left without its key, so the index can be built, and reported); line items whose catalogue entry
was written as "code name" (e.g. "C1902 维修和保养服务") keep the code only (Art. 12: named by code).
"""
from __future__ import annotations

import logging
import re

import sqlalchemy as sa
from alembic import op

import store.models

revision = "0004"
down_revision = "0005"
branch_labels = None
depends_on = None

_LIVE_INVOICE = "status <> 'cancelled' AND invoice_no_norm IS NOT NULL"
_CODE_THEN_NAME = re.compile(r"^\s*([A-Za-z][0-9A-Za-z]{1,15})\s+\S")
log = logging.getLogger("alembic.runtime.migration")


def upgrade() -> None:
    with op.batch_alter_table("payment_items", schema=None) as b:
        b.add_column(sa.Column("invoice_no_norm", sa.String(length=64), nullable=True))
        b.add_column(sa.Column("issuer_tax_id", sa.String(length=32), nullable=False, server_default=""))
        b.add_column(sa.Column("cancelled_at", store.models.UTCDateTime(timezone=True), nullable=True))
        b.add_column(sa.Column("cancelled_by", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True))
        b.add_column(sa.Column("cancel_reason", sa.Text(), nullable=True))
        b.create_foreign_key("fk_payment_items_cancelled_by", "people", ["cancelled_by"], ["id"])
    with op.batch_alter_table("signatures", schema=None) as b:
        b.add_column(sa.Column("lapsed_at", store.models.UTCDateTime(timezone=True), nullable=True))
    _backfill_invoice_numbers()
    op.create_index("uq_payment_items_invoice", "payment_items", ["invoice_no_norm", "issuer_tax_id"], unique=True,
                    postgresql_where=sa.text(_LIVE_INVOICE), sqlite_where=sa.text(_LIVE_INVOICE))
    _catalogue_codes()


def _backfill_invoice_numbers() -> None:
    from rules.payment import normalise_invoice_no

    conn = op.get_bind()
    rows = conn.execute(sa.text("SELECT id, invoice_no, status FROM payment_items WHERE kind = 'invoice' "
                                "ORDER BY id")).all()
    seen: set[str] = set()
    for item_id, number, status in rows:
        norm = normalise_invoice_no(number or "")
        if not norm:
            continue
        if status != "cancelled":
            if norm in seen:
                log.warning("payment item %s repeats invoice %s of an earlier item; left for review", item_id, norm)
                continue
            seen.add(norm)
        conn.execute(sa.text("UPDATE payment_items SET invoice_no_norm = :n WHERE id = :id"),
                     {"n": norm, "id": item_id})


def _catalogue_codes() -> None:
    conn = op.get_bind()
    for item_id, entry in conn.execute(sa.text("SELECT id, catalog_item FROM line_items")).all():
        m = _CODE_THEN_NAME.match(entry or "")
        if m:
            conn.execute(sa.text("UPDATE line_items SET catalog_item = :c WHERE id = :id"),
                         {"c": m.group(1).upper(), "id": item_id})


def downgrade() -> None:
    op.drop_index("uq_payment_items_invoice", table_name="payment_items")
    with op.batch_alter_table("signatures", schema=None) as b:
        b.drop_column("lapsed_at")
    with op.batch_alter_table("payment_items", schema=None) as b:
        b.drop_constraint("fk_payment_items_cancelled_by", type_="foreignkey")
        b.drop_column("cancel_reason")
        b.drop_column("cancelled_by")
        b.drop_column("cancelled_at")
        b.drop_column("issuer_tax_id")
        b.drop_column("invoice_no_norm")
