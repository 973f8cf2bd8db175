"""A state written by an older reconciler is brought forward by the migrations it lacks, keeping its data."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from reconciler.engine.objects import CSObject
from reconciler.store.schema import MIGRATIONS, SCHEMA_VERSION
from reconciler.store.sqlite import SqliteStore


def test_a_state_of_the_first_schema_is_migrated_and_keeps_its_objects(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    # the state as the first release wrote it: only migration 0001, one object
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE migrations (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)")
    name, statements = MIGRATIONS[0]
    for stmt in statements:
        conn.execute(stmt)
    conn.execute("INSERT INTO migrations VALUES (?, '2026-11-01T00:00:00Z')", (name,))
    conn.execute("INSERT INTO meta VALUES ('schema_version', '1')")
    conn.execute(
        "INSERT INTO cs (id, connector, guid, object_type, dn, dn_norm, anchor, attrs) "
        "VALUES (7, 'hr', 'g-7', 'person', 'uid=7', 'uid=7', '7', '{\"sn\":\"Lee\"}')"
    )
    conn.commit()
    conn.close()

    store = SqliteStore(path)
    assert store.applied_migrations() == sorted(n for n, _ in MIGRATIONS)
    assert store.get_meta("schema_version") == str(SCHEMA_VERSION)
    indexes = {r[0] for r in store.conn.execute("SELECT name FROM sqlite_master WHERE type='index'")}
    assert "cs_connector" in indexes
    (obj,) = store.cs_by_anchors("hr", ["7"]).values()
    assert isinstance(obj, CSObject) and obj.attrs == {"sn": "Lee"} and obj.id == 7
    # a full sync walks a connector in id order through the new index, not the DN index
    plan = " ".join(
        r[3]
        for r in store.conn.execute(
            "EXPLAIN QUERY PLAN SELECT id FROM cs WHERE connector=? AND id > ? ORDER BY id LIMIT 10",
            ("hr", 0),
        )
    )
    assert "cs_connector" in plan and "TEMP B-TREE" not in plan
    store.close()
