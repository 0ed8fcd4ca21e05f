"""The PostgreSQL cursor that reuses ``description`` lists (store.db._described_cursor)."""
from __future__ import annotations

import pytest

from store.db import Database

pytestmark = pytest.mark.parametrize("backend", ["postgresql"])


def test_description_follows_each_result_shape(db: Database) -> None:
    with db.engine.connect() as conn:
        cur = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        cur.execute("SELECT 1 AS a, 'x'::varchar(5) AS b")
        first = cur.description
        cur.execute("SELECT 'y'::text AS a, 2::bigint AS b")
        other = cur.description
        cur.execute("SELECT 3 AS a, 'z'::varchar(5) AS b")
        again = cur.description
        assert [(c.name, c.type_code) for c in first] == [("a", 23), ("b", 1043)]
        assert [(c.name, c.type_code) for c in other] == [("a", 25), ("b", 20)]
        assert [(c.name, c.type_code, c.internal_size) for c in again] == [
            (c.name, c.type_code, c.internal_size) for c in first]
        first.clear()  # a caller changing its list changes nothing for the next one
        cur.execute("SELECT 4 AS a, 'w'::varchar(5) AS b")
        assert [c.name for c in cur.description] == ["a", "b"]
        cur.execute("SELECT 1 AS a, 'x'::varchar(9) AS b")  # another modifier: its own entry
        assert cur.description[1].display_size == 9
        cur.execute("CREATE TEMP TABLE described_probe (x int)")
        assert cur.description is None
        cur.execute("SELECT FROM described_probe")
        assert cur.description == []
