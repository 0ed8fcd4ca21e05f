"""What every entry point (CLI, API, scheduler) runs first: migrate, then seed reference data."""
from __future__ import annotations

from store.db import Database


def prepare(database: Database) -> None:
    """Apply migrations, then (in one unit of work) load the holiday calendar on first start, then refresh
    the planner's statistics (SQLite keeps none by itself)."""
    from store.calendar import ensure_seeded

    database.upgrade()
    with database.uow(write=True) as uow:
        ensure_seeded(uow.session)
        uow.commit()
    database.refresh_statistics()
