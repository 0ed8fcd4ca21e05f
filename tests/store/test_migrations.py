"""The Alembic migrations build exactly the schema the models describe, on both databases."""
from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

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
