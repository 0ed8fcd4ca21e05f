"""The Alembic migrations build exactly the schema the models describe, on both databases."""
from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from store.db import alembic_config
from store.models import Base


def test_migrated_schema_matches_the_models(db):
    with db.engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": False})
        diff = [d for d in compare_metadata(ctx, Base.metadata)
                # tables the tests or the benchmarks may add are not part of the product
                if not (d[0] in ("remove_table",) and d[1].name.startswith("bench_"))]
    assert diff == [], f"models and migrations differ; add a migration: {diff}"


def test_upgrade_is_idempotent(db):
    db.upgrade()
    db.upgrade()
    from alembic.script import ScriptDirectory

    from store.db import alembic_config

    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    with db.engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar() == head


def test_0004_keeps_what_was_there_and_normalises_it(backend, tmp_path):
    """Down to before 0004 and up again over real data: invoice numbers get their city-wide key (a repeat of an
    earlier live item is left for review, so the index can be built), catalogue entries written as
    "code name" keep the code."""
    from alembic import command
    from sqlalchemy import select, text

    from store.bootstrap import prepare
    from store.db import Database
    from store.models import LineItem, PaymentItem
    from tests.conftest import drop_pg_database, new_database_url
    from tests.workflow.test_money import Flow
    from tests.workflow.test_payment_integrity import item, settled
    from workflow.demo import Driver, create_city, open_years

    url = new_database_url(backend, tmp_path)
    db = Database(url)
    try:
        prepare(db)
        city = create_city(db, communities=1, password=None)
        open_years(db, city, [2026])
        flow = Flow(Driver(db, city))
        pid = settled(flow)
        first = item(flow, pid, "100.00", invoice_no="inv 0001").data["payment_item_id"]
        from alembic.script import ScriptDirectory

        before_0004 = ScriptDirectory.from_config(alembic_config()).get_revision("0004").down_revision
        with db.engine.begin() as conn:
            cfg = alembic_config()
            cfg.attributes["connection"] = conn
            command.downgrade(cfg, str(before_0004))  # (the migrations after 0004, if any, and 0004)
        with db.engine.begin() as conn:
            for number, status in (("INV0001", "open"), ("INV0001", "cancelled"), ("ｉｎｖ 0002", "paid")):
                conn.execute(text(
                    "INSERT INTO payment_items (project_id, kind, amount_fen, payee, payee_account, invoice_no, "
                    "status, created_at) VALUES (:p, 'invoice', 100, 'x', '', :n, :s, CURRENT_TIMESTAMP)"),
                    {"p": pid, "n": number, "s": status})
            conn.execute(text("UPDATE line_items SET catalog_item = 'c1902 维修和保养服务'"))
        db.upgrade()
        with db.uow(write=False) as uow:
            rows = uow.session.execute(select(PaymentItem.invoice_no, PaymentItem.status, PaymentItem.invoice_no_norm)
                                       .order_by(PaymentItem.id)).all()
            assert rows[0] == ("inv 0001", "open", "INV0001") and uow.session.get(PaymentItem, first) is not None
            assert rows[1:] == [("INV0001", "open", None), ("INV0001", "cancelled", "INV0001"),
                                ("ｉｎｖ 0002", "paid", "INV0002")]
            assert set(uow.session.execute(select(LineItem.catalog_item)).scalars()) == {"C1902"}
    finally:
        db.dispose()
        if backend == "postgresql":
            drop_pg_database(url)
