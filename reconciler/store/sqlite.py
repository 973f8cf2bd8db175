"""The SQLite state store: one file in WAL mode, explicit transactions, batch commits.

Writes open a transaction lazily; ``commit()`` ends it (a batch boundary) and
moves the state version. Inside ``dry_run()`` the whole block is one
transaction that ``commit()`` leaves open and the end rolls back, so plan and
drift can run the real pipeline and write nothing. Once a run commits large
batches, a thread copies the log into the file beside it (``checkpoint``).
The tables' queries live in ``sqlite_cs`` (connector spaces), ``sqlite_export``
(their export side) and ``sqlite_mv`` (metaverse).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, ClassVar

from reconciler.errors import StateError, StateVersionError
from reconciler.store.base import StateStore
from reconciler.store.checkpoint import WAKE_AFTER_ROWS, Checkpointer
from reconciler.store.lock import RunLock
from reconciler.store.rows import dumps_opt, loads_opt, now
from reconciler.store.schema import MIGRATIONS, SCHEMA_VERSION
from reconciler.store.sqlite_cs import ConnectorSpaceTables
from reconciler.store.sqlite_export import ExportTables
from reconciler.store.sqlite_mv import MetaverseTables

AUTOCHECKPOINT_PAGES = 16_384  # 64 MB of log
WAL_BOUND_PAGES = 65_536  # 256 MB: the engine's own checkpoint, when the checkpoint thread is running


class SqliteStore(ConnectorSpaceTables, ExportTables, MetaverseTables, StateStore):
    """The state in one SQLite file."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self.conn = sqlite3.connect(str(self.path), isolation_level=None, check_same_thread=False)
            self.conn.execute("PRAGMA journal_mode=WAL")
            self.conn.execute("PRAGMA synchronous=NORMAL")
            self.conn.execute("PRAGMA foreign_keys=OFF")
            # 160 MB of pages at most (used as a run needs them): at a million people, import + sync took
            # 132 s with it against 142 s with 64 MB, for a peak of 800 MB against 700 MB
            self.conn.execute("PRAGMA cache_size=-163840")
            self.conn.execute("PRAGMA temp_store=MEMORY")
            # checkpoint every ~64 MB of WAL rather than 4 MB: fewer fsyncs in a long run (and once a
            # large run has started the checkpoint thread, only should that thread fall behind)
            self.conn.execute(f"PRAGMA wal_autocheckpoint={AUTOCHECKPOINT_PAGES}")
        except sqlite3.DatabaseError as exc:
            raise StateError(
                f"the state {self.path} cannot be opened: {exc}",
                hint="is it a reconciler state file? move it away to start from an empty state",
            ) from exc
        self._lock = RunLock(self.path.with_name(self.path.name + ".lock"))
        self._dry = 0
        self._changes_at_commit = self.conn.total_changes
        self._checkpointer: Checkpointer | None = None  # started by the first large commit
        self._changes_at_checkpoint = self.conn.total_changes
        self.migrate()
        self._next_cs = self._max_id("cs") + 1
        self._next_mv = self._max_id("mv") + 1

    # ----------------------------------------------------------- transactions
    def _w(self) -> sqlite3.Connection:
        """The connection, inside a write transaction."""
        if not self.conn.in_transaction:
            self.conn.execute("BEGIN")
        return self.conn

    def migrate(self) -> list[str]:
        """Apply the migrations not yet applied, each in its own transaction; return their names."""
        c = self.conn
        c.execute("CREATE TABLE IF NOT EXISTS migrations (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)")
        done = {r[0] for r in c.execute("SELECT name FROM migrations")}
        known = {name for name, _ in MIGRATIONS}
        unknown = done - known
        if unknown:
            raise StateVersionError(
                f"the state {self.path} was written by a newer reconciler (migration {sorted(unknown)[-1]})",
                hint="upgrade reconciler to use this state",
            )
        applied = []
        for name, statements in MIGRATIONS:
            if name in done:
                continue
            try:
                c.execute("BEGIN IMMEDIATE")
                for stmt in statements:
                    c.execute(stmt)
                c.execute("INSERT INTO migrations (name, applied_at) VALUES (?, ?)", (name, now()))
                c.execute(
                    "INSERT OR REPLACE INTO meta (key, value) VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),)
                )
                c.execute("COMMIT")
            except BaseException:
                c.execute("ROLLBACK")
                raise
            applied.append(name)
        self._changes_at_commit = self.conn.total_changes
        return applied

    def applied_migrations(self) -> list[str]:
        return [r[0] for r in self.conn.execute("SELECT name FROM migrations ORDER BY name")]

    def _max_id(self, table: str) -> int:
        return int(self.conn.execute(f"SELECT COALESCE(MAX(id), 0) FROM {table}").fetchone()[0])

    def lock(self) -> RunLock:
        return self._lock

    @property
    def in_dry_run(self) -> bool:
        return self._dry > 0

    @contextmanager
    def dry_run(self) -> Iterator[SqliteStore]:
        """Run the block in one transaction that is rolled back at the end (plan, drift)."""
        if self._dry:
            self._dry += 1
            try:
                yield self
            finally:
                self._dry -= 1
            return
        self.commit()
        next_cs, next_mv = self._next_cs, self._next_mv
        self._dry = 1
        self._w()
        try:
            yield self
        finally:
            self._dry = 0
            if self.conn.in_transaction:
                self.conn.execute("ROLLBACK")
            self._next_cs, self._next_mv = next_cs, next_mv
            self._forget_links()
            self._changes_at_commit = self.conn.total_changes

    def commit(self) -> None:
        """End a batch: commit (moving the state version when anything changed), unless in a dry run."""
        if self._dry or not self.conn.in_transaction:
            return
        if self.conn.total_changes != self._changes_at_commit:
            self.conn.execute(
                "INSERT INTO meta (key, value) VALUES ('state_version', '1') ON CONFLICT(key) DO UPDATE "
                "SET value = CAST(CAST(value AS INTEGER) + 1 AS TEXT)"
            )
        self.conn.execute("COMMIT")
        self._changes_at_commit = changes = self.conn.total_changes
        if changes - self._changes_at_checkpoint >= WAKE_AFTER_ROWS:
            # the log is copied into the file on the other core (checkpoint.py), not in a later commit
            if self._checkpointer is None:
                self.conn.execute(f"PRAGMA wal_autocheckpoint={WAL_BOUND_PAGES}")
                self._checkpointer = Checkpointer(self.path)
            self._checkpointer.wake()
            self._changes_at_checkpoint = changes

    def rollback(self) -> None:
        if not self._dry and self.conn.in_transaction:
            self.conn.execute("ROLLBACK")
            self._next_cs = self._max_id("cs") + 1
            self._next_mv = self._max_id("mv") + 1
            self._forget_links()

    def close(self) -> None:
        # work not committed is not at a batch boundary (an error interrupted it): dropped, as a kill
        # would drop it, so the state only ever holds whole batches
        if self.conn.in_transaction:
            self.conn.execute("ROLLBACK")
        if self._checkpointer is not None:
            self._checkpointer.stop()
            self._checkpointer = None
        self.conn.close()
        self._lock.release()

    def state_version(self) -> int:
        v = self.get_meta("state_version")
        return int(v) if v else 0

    def get_meta(self, key: str) -> str | None:
        row = self.conn.execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()
        return None if row is None else row[0]

    def set_meta(self, key: str, value: str | None) -> None:
        if value is None:
            self._w().execute("DELETE FROM meta WHERE key=?", (key,))
        else:
            self._w().execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, value))

    # ----------------------------------------------------------- connectors
    def connector_state(self, name: str) -> dict[str, Any]:
        row = self.conn.execute(
            "SELECT watermark, full_scan_next_run, imported, schema_json, schema_at FROM connector_state "
            "WHERE name=?",
            (name,),
        ).fetchone()
        if row is None:
            return {"watermark": None, "full_scan_next_run": False, "imported": False, "schema": None,
                    "schema_at": None}  # fmt: skip
        return {"watermark": row[0], "full_scan_next_run": bool(row[1]), "imported": bool(row[2]),
                "schema": loads_opt(row[3]), "schema_at": row[4]}  # fmt: skip

    def set_connector_state(self, name: str, **fields: Any) -> None:
        cols = {"watermark": "watermark", "full_scan_next_run": "full_scan_next_run", "imported": "imported",
                "schema": "schema_json", "schema_at": "schema_at"}  # fmt: skip
        c = self._w()
        c.execute("INSERT OR IGNORE INTO connector_state (name) VALUES (?)", (name,))
        for key, value in fields.items():
            if key == "schema":
                value = dumps_opt(value)
            elif isinstance(value, bool):
                value = int(value)
            c.execute(f"UPDATE connector_state SET {cols[key]}=? WHERE name=?", (value, name))

    # ----------------------------------------------------------- history
    _HIST: ClassVar[tuple[str, ...]] = ("start", "end", "connector", "profile", "object_type", "total", "added", "changed", "deleted",
             "filtered", "errors", "status", "details")  # fmt: skip

    def add_history(self, row: dict[str, Any]) -> int:
        values = [row.get(k) for k in self._HIST]
        values[-1] = dumps_opt(row.get("details"))
        cur = self._w().execute(
            f"INSERT INTO history ({', '.join(self._HIST)}) VALUES ({','.join('?' * len(self._HIST))})", values
        )
        return int(cur.lastrowid or 0)

    def history(self, connector: str | None = None, limit: int | None = None) -> list[dict[str, Any]]:
        q = f"SELECT id, {', '.join(self._HIST)} FROM history"
        params: list[Any] = []
        if connector:
            q += " WHERE connector=?"
            params.append(connector)
        q += " ORDER BY id DESC"
        if limit:
            q += " LIMIT ?"
            params.append(limit)
        rows = []
        for r in self.conn.execute(q, params):
            d = dict(zip(("id", *self._HIST), r))
            d["details"] = loads_opt(d["details"])
            rows.append(d)
        rows.reverse()
        return rows
