"""The SQLite state store: one file in WAL mode, explicit transactions, batch commits.

Writes open a transaction lazily; ``commit()`` ends it (a batch boundary) and
moves the state version. Inside ``dry_run()`` the whole block is one
transaction that ``commit()`` leaves open and the end rolls back, so plan and
drift can run the real pipeline and write nothing.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar

import orjson

from reconciler.engine.objects import CSObject, MVObject
from reconciler.errors import StateError, StateVersionError
from reconciler.store.base import StateStore
from reconciler.store.lock import RunLock
from reconciler.store.schema import MIGRATIONS, SCHEMA_VERSION

_CS_COLS = (
    "id, connector, guid, object_type, dn, dn_norm, anchor, key_norm, kind, attrs, hash, pending_import, "
    "pi_attrs, pending_export, export_memory, export_state, mv_id, link_kind, link_rule, import_error, "
    "export_error, sync_error, resync"
)
_CS_INSERT = f"INSERT INTO cs ({_CS_COLS}) VALUES ({','.join('?' * 23)})"
_CS_UPDATE = (
    "UPDATE cs SET connector=?, guid=?, object_type=?, dn=?, dn_norm=?, anchor=?, key_norm=?, kind=?, attrs=?, "
    "hash=?, pending_import=?, pi_attrs=?, pending_export=?, export_memory=?, export_state=?, mv_id=?, "
    "link_kind=?, link_rule=?, import_error=?, export_error=?, sync_error=?, resync=? WHERE id=?"
)
_MV_COLS = "id, guid, object_type, attrs, contrib, dirty, retry"
_CHUNK = 900  # parameters per IN (...) list


# orjson: the state's JSON columns are encoded and decoded on every object a run touches, and
# the standard library's json is ten times slower at it
_loads = orjson.loads


def _dumps(value: Any) -> str:
    try:
        return orjson.dumps(value).decode()
    except orjson.JSONEncodeError:  # integers past 64 bits: the standard library takes them
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def _dumps_opt(value: Any) -> str | None:
    return None if value is None else _dumps(value)


def _loads_opt(text: str | None) -> Any:
    return None if text is None else orjson.loads(text)


def _cs_from_row(r: Sequence[Any]) -> CSObject:
    return CSObject(
        id=r[0], connector=r[1], guid=r[2], object_type=r[3], dn=r[4], anchor=r[6], key_norm=r[7],
        kind=r[8], attrs=_loads(r[9]), hash=r[10], pending_import=r[11], pi_attrs=_loads_opt(r[12]),
        pending_export=_loads_opt(r[13]), export_memory=_loads_opt(r[14]), export_state=r[15], mv_id=r[16],
        link_kind=r[17], link_rule=r[18], import_error=r[19], export_error=r[20], sync_error=r[21],
        resync=bool(r[22]),
    )  # fmt: skip


def _cs_values(o: CSObject) -> tuple[Any, ...]:
    return (
        o.connector, o.guid, o.object_type, o.dn, o.dn_norm, o.anchor, o.key_norm, o.kind, _dumps(o.attrs),
        o.hash, o.pending_import, _dumps_opt(o.pi_attrs), _dumps_opt(o.pending_export),
        _dumps_opt(o.export_memory), o.export_state, o.mv_id, o.link_kind, o.link_rule, o.import_error,
        o.export_error, o.sync_error, 1 if o.resync else 0,
    )  # fmt: skip


def _mv_from_row(r: Sequence[Any]) -> MVObject:
    return MVObject(
        id=r[0], guid=r[1], object_type=r[2], attrs=_loads(r[3]), contrib=_loads(r[4]),
        dirty=bool(r[5]), retry=_loads_opt(r[6]),
    )  # fmt: skip


def _chunks(values: Iterable[Any]) -> Iterator[list[Any]]:
    buf: list[Any] = []
    for v in values:
        buf.append(v)
        if len(buf) >= _CHUNK:
            yield buf
            buf = []
    if buf:
        yield buf


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class SqliteStore(StateStore):
    """The state in one SQLite file."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self.conn = sqlite3.connect(str(self.path), isolation_level=None, check_same_thread=False)
            self.conn.execute("PRAGMA journal_mode=WAL")
            self.conn.execute("PRAGMA synchronous=NORMAL")
            self.conn.execute("PRAGMA foreign_keys=OFF")
            self.conn.execute("PRAGMA cache_size=-65536")
            self.conn.execute("PRAGMA temp_store=MEMORY")
            # checkpoint every ~64 MB of WAL rather than 4 MB: fewer fsyncs in a long run
            self.conn.execute("PRAGMA wal_autocheckpoint=16384")
        except sqlite3.DatabaseError as exc:
            raise StateError(
                f"the state {self.path} cannot be opened: {exc}",
                hint="is it a reconciler state file? move it away to start from an empty state",
            ) from exc
        self._lock = RunLock(self.path.with_name(self.path.name + ".lock"))
        self._dry = 0
        self._changes_at_commit = self.conn.total_changes
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
                c.execute("INSERT INTO migrations (name, applied_at) VALUES (?, ?)", (name, _now()))
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
        self._changes_at_commit = self.conn.total_changes

    def rollback(self) -> None:
        if not self._dry and self.conn.in_transaction:
            self.conn.execute("ROLLBACK")
            self._next_cs = self._max_id("cs") + 1
            self._next_mv = self._max_id("mv") + 1

    def close(self) -> None:
        if self.conn.in_transaction:
            self.conn.execute("ROLLBACK" if self._dry else "COMMIT")
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
                "schema": _loads_opt(row[3]), "schema_at": row[4]}  # fmt: skip

    def set_connector_state(self, name: str, **fields: Any) -> None:
        cols = {"watermark": "watermark", "full_scan_next_run": "full_scan_next_run", "imported": "imported",
                "schema": "schema_json", "schema_at": "schema_at"}  # fmt: skip
        c = self._w()
        c.execute("INSERT OR IGNORE INTO connector_state (name) VALUES (?)", (name,))
        for key, value in fields.items():
            if key == "schema":
                value = _dumps_opt(value)
            elif isinstance(value, bool):
                value = int(value)
            c.execute(f"UPDATE connector_state SET {cols[key]}=? WHERE name=?", (value, name))

    # ----------------------------------------------------------- connector space
    def new_cs_ids(self, n: int) -> list[int]:
        start = self._next_cs
        self._next_cs += n
        return list(range(start, start + n))

    def _select_cs(self, where: str, params: Sequence[Any]) -> list[CSObject]:
        return [_cs_from_row(r) for r in self.conn.execute(f"SELECT {_CS_COLS} FROM cs WHERE {where}", params)]

    def cs_by_ids(self, ids: Iterable[int]) -> dict[int, CSObject]:
        out: dict[int, CSObject] = {}
        for chunk in _chunks(set(ids)):
            for o in self._select_cs(f"id IN ({','.join('?' * len(chunk))})", chunk):
                out[o.id] = o  # type: ignore[index]
        return out

    def cs_by_anchors(self, connector: str, anchors: Iterable[str]) -> dict[str, CSObject]:
        out: dict[str, CSObject] = {}
        for chunk in _chunks(set(anchors)):
            q = f"connector=? AND anchor IN ({','.join('?' * len(chunk))})"
            for o in self._select_cs(q, [connector, *chunk]):
                out[o.anchor] = o  # type: ignore[index]
        return out

    def cs_by_dns(self, connector: str, dn_norms: Iterable[str]) -> dict[str, list[CSObject]]:
        out: dict[str, list[CSObject]] = {}
        for chunk in _chunks(set(dn_norms)):
            q = f"connector=? AND dn_norm IN ({','.join('?' * len(chunk))})"
            for o in self._select_cs(q, [connector, *chunk]):
                out.setdefault(o.dn_norm, []).append(o)
        return out

    def cs_light_by_anchors(self, connector: str, anchors: Iterable[str]
                            ) -> dict[str, tuple[int, str | None, int, str, str, bool]]:  # fmt: skip
        """anchor -> (id, hash, kind, object_type, dn, busy) without loading objects; ``busy``: a pending
        import, export memory or an import error waits on the object."""
        out: dict[str, tuple[int, str | None, int, str, str, bool]] = {}
        for chunk in _chunks(set(anchors)):
            q = ("SELECT anchor, id, hash, kind, object_type, dn, (pending_import IS NOT NULL OR export_memory IS "
                 "NOT NULL OR import_error IS NOT NULL OR export_state = 'in-flight') FROM cs WHERE connector=? "
                 f"AND anchor IN ({','.join('?' * len(chunk))})")  # fmt: skip
            for r in self.conn.execute(q, [connector, *chunk]):
                out[r[0]] = (r[1], r[2], r[3], r[4], r[5], bool(r[6]))
        return out

    def cs_by_keys(self, connector: str, keys: Iterable[str], placeholders: bool = False) -> dict[str, CSObject]:
        out: dict[str, CSObject] = {}
        for chunk in _chunks(set(keys)):
            q = f"connector=? AND key_norm IN ({','.join('?' * len(chunk))})"
            if placeholders:
                q += " AND kind = 1"
            for o in self._select_cs(q, [connector, *chunk]):
                # a real object wins over a placeholder holding the same key
                prev = out.get(o.key_norm)  # type: ignore[arg-type]
                if prev is None or prev.kind != 0:
                    out[o.key_norm] = o  # type: ignore[index]
        return out

    def cs_by_mv(self, mv_ids: Iterable[int], connectors: Iterable[str] | None = None) -> dict[int, list[CSObject]]:
        """Linked CS objects per MV object (only those of ``connectors`` when given)."""
        out: dict[int, list[CSObject]] = {}
        conns = sorted(connectors) if connectors is not None else None
        if conns is not None and not conns:
            return out
        for chunk in _chunks(set(mv_ids)):
            q = f"mv_id IN ({','.join('?' * len(chunk))})"
            params: list[Any] = list(chunk)
            if conns is not None:
                # "+connector": look up by mv_id; SQLite would otherwise walk the connector's DN index
                q += f" AND +connector IN ({','.join('?' * len(conns))})"
                params += conns
            for o in self._select_cs(q, params):
                out.setdefault(o.mv_id, []).append(o)  # type: ignore[arg-type]
        return out

    def iter_cs_links(self, connector: str, which: str, batch: int) -> Iterator[list[tuple[int, int | None]]]:
        """(id, mv_id) of a connector's objects, a batch at a time, without loading them."""
        cond = self._WHICH[which]
        last = 0
        while True:
            q = f"SELECT id, mv_id FROM cs WHERE connector=? AND {cond} AND id > ? ORDER BY id LIMIT ?"
            rows = [(r[0], r[1]) for r in self.conn.execute(q, (connector, last, batch))]
            if not rows:
                return
            last = rows[-1][0]
            yield rows

    def clear_pending_import(self, ids: Iterable[int]) -> None:
        """Synchronization has processed these objects' pending imports."""
        self._w().executemany(
            "UPDATE cs SET pending_import=NULL, resync=0 WHERE id=? AND (pending_import IS NOT NULL OR resync=1)",
            [(i,) for i in ids],
        )

    def cs_by_guid(self, guid: str) -> CSObject | None:
        found = self._select_cs("guid=?", [guid])
        return found[0] if found else None

    def cs_anchor_ids(self, connector: str) -> list[tuple[int, bool, int, str | None]]:
        """(id, ever imported, kind, export_state) of every object of a connector: a full import's
        vanish check."""
        q = "SELECT id, hash IS NOT NULL, kind, export_state FROM cs WHERE connector=?"
        return [(r[0], bool(r[1]), r[2], r[3]) for r in self.conn.execute(q, (connector,))]

    _WHICH: ClassVar[dict[str, str]] = {
        "all": "1=1",
        "pending": "(pending_import IS NOT NULL OR resync = 1)",
        "pending_export": "pending_export IS NOT NULL",
        "import_error": "import_error IS NOT NULL",
        "export_error": "export_error IS NOT NULL",
        "joined": "mv_id IS NOT NULL",
        "disconnector": "mv_id IS NULL AND kind = 0",
        "placeholder": "kind = 1",
        "transient": "kind = 2",
        "error": "(import_error IS NOT NULL OR export_error IS NOT NULL OR sync_error IS NOT NULL)",
        "unconfirmed": "export_memory LIKE '%\"s\":\"u\"%'",
        "sync_error": "sync_error IS NOT NULL",
    }

    def iter_cs(self, connector: str | None, which: str, batch: int) -> Iterator[list[CSObject]]:
        """Objects in id order, a batch at a time (keyset paging: safe while rows change)."""
        cond = self._WHICH[which]
        last = 0
        while True:
            if connector is None:
                rows = self._select_cs(f"{cond} AND id > ? ORDER BY id LIMIT ?", [last, batch])
            else:
                rows = self._select_cs(f"connector=? AND {cond} AND id > ? ORDER BY id LIMIT ?",
                                       [connector, last, batch])  # fmt: skip
            if not rows:
                return
            last = rows[-1].id  # type: ignore[assignment]
            yield rows

    def count_cs(self, connector: str | None, which: str = "all") -> int:
        cond = self._WHICH[which]
        if connector is None:
            return int(self.conn.execute(f"SELECT COUNT(*) FROM cs WHERE {cond}").fetchone()[0])
        return int(
            self.conn.execute(f"SELECT COUNT(*) FROM cs WHERE connector=? AND {cond}", (connector,)).fetchone()[0]
        )

    def save_cs(self, objs: Iterable[CSObject], *, new: bool = False) -> None:
        c = self._w()
        if new:
            c.executemany(_CS_INSERT, [(o.id, *_cs_values(o)) for o in objs])
        else:
            c.executemany(_CS_UPDATE, [(*_cs_values(o), o.id) for o in objs])

    def save_cs_links(self, objs: Iterable[CSObject]) -> None:
        """Objects whose link (metaverse object, kind, rule) and sync error alone changed."""
        self._w().executemany(
            "UPDATE cs SET mv_id=?, link_kind=?, link_rule=?, sync_error=? WHERE id=?",
            [(o.mv_id, o.link_kind, o.link_rule, o.sync_error, o.id) for o in objs],
        )

    def save_cs_pending(self, objs: Iterable[CSObject]) -> None:
        """Objects whose pending export (and the attribute names of their pending import) alone changed."""
        self._w().executemany(
            "UPDATE cs SET pending_export=?, pi_attrs=? WHERE id=?",
            [(_dumps_opt(o.pending_export), _dumps_opt(o.pi_attrs), o.id) for o in objs],
        )

    def delete_cs(self, ids: Iterable[int]) -> None:
        c = self._w()
        rows = [(i,) for i in ids]
        c.executemany("DELETE FROM cs WHERE id=?", rows)
        c.executemany("DELETE FROM cs_ref WHERE src=?", rows)

    def clear_connector_space(self, connector: str) -> int:
        c = self._w()
        c.execute("DELETE FROM cs_ref WHERE src IN (SELECT id FROM cs WHERE connector=?)", (connector,))
        n = c.execute("DELETE FROM cs WHERE connector=?", (connector,)).rowcount
        c.execute("UPDATE connector_state SET watermark=NULL, imported=0 WHERE name=?", (connector,))
        return int(n)

    # ----------------------------------------------------------- references
    def refs_of(self, src_ids: Iterable[int]) -> dict[int, list[tuple[str, int]]]:
        out: dict[int, list[tuple[str, int]]] = {}
        for chunk in _chunks(set(src_ids)):
            q = f"SELECT src, attr, dst FROM cs_ref WHERE src IN ({','.join('?' * len(chunk))})"
            for src, attr, dst in self.conn.execute(q, chunk):
                out.setdefault(src, []).append((attr, dst))
        return out

    def set_refs(self, refs: dict[int, list[tuple[str, int]]]) -> None:
        c = self._w()
        c.executemany("DELETE FROM cs_ref WHERE src=?", [(s,) for s in refs])
        c.executemany(
            "INSERT INTO cs_ref (src, attr, dst) VALUES (?, ?, ?)",
            [(s, a, d) for s, pairs in refs.items() for a, d in pairs],
        )

    def referrers(self, dst_ids: Iterable[int]) -> set[int]:
        out: set[int] = set()
        for chunk in _chunks(set(dst_ids)):
            q = f"SELECT src FROM cs_ref WHERE dst IN ({','.join('?' * len(chunk))})"
            out.update(r[0] for r in self.conn.execute(q, chunk))
        return out

    def mark_resync(self, cs_ids: Iterable[int]) -> None:
        self._w().executemany("UPDATE cs SET resync=1 WHERE id=?", [(i,) for i in cs_ids])

    # ----------------------------------------------------------- metaverse
    def new_mv_ids(self, n: int) -> list[int]:
        start = self._next_mv
        self._next_mv += n
        return list(range(start, start + n))

    def mv_by_ids(self, ids: Iterable[int]) -> dict[int, MVObject]:
        out: dict[int, MVObject] = {}
        for chunk in _chunks(set(ids)):
            q = f"SELECT {_MV_COLS} FROM mv WHERE id IN ({','.join('?' * len(chunk))})"
            for r in self.conn.execute(q, chunk):
                out[r[0]] = _mv_from_row(r)
        return out

    def mv_by_guid(self, guid: str) -> MVObject | None:
        r = self.conn.execute(f"SELECT {_MV_COLS} FROM mv WHERE guid=?", (guid,)).fetchone()
        return None if r is None else _mv_from_row(r)

    def save_mv(self, objs: Iterable[MVObject], *, new: bool = False) -> None:
        c = self._w()
        if new:
            c.executemany(
                f"INSERT INTO mv ({_MV_COLS}) VALUES (?,?,?,?,?,?,?)",
                [(o.id, o.guid, o.object_type, _dumps(o.attrs), _dumps(o.contrib), int(o.dirty),
                  _dumps_opt(o.retry)) for o in objs],
            )  # fmt: skip
        else:
            c.executemany(
                "UPDATE mv SET object_type=?, attrs=?, contrib=?, dirty=?, retry=? WHERE id=?",
                [(o.object_type, _dumps(o.attrs), _dumps(o.contrib), int(o.dirty), _dumps_opt(o.retry), o.id)
                 for o in objs],
            )  # fmt: skip

    def clear_mv_marks(self, ids: Iterable[int]) -> None:
        """Outbound sync is done with these MV objects: not dirty, nothing to provision again."""
        self._w().executemany("UPDATE mv SET dirty=0, retry=NULL WHERE id=? AND (dirty<>0 OR retry IS NOT NULL)",
                              [(i,) for i in ids])  # fmt: skip

    def delete_mv(self, ids: Iterable[int]) -> None:
        rows = [(i,) for i in ids]
        c = self._w()
        c.executemany("DELETE FROM mv WHERE id=?", rows)
        c.executemany("DELETE FROM mv_index WHERE mv_id=?", rows)

    def dirty_mv_ids(self) -> list[int]:
        return [r[0] for r in self.conn.execute("SELECT id FROM mv WHERE dirty>0 ORDER BY id")]

    def set_mv_dirty(self, ids: Iterable[int], dirty: bool) -> None:
        if dirty:
            self.set_mv_dirty_level(ids, 1)
        else:
            self._w().executemany("UPDATE mv SET dirty=0 WHERE id=?", [(i,) for i in ids])

    def iter_mv(self, mv_type: str | None, batch: int) -> Iterator[list[MVObject]]:
        last = 0
        while True:
            p: list[Any]
            if mv_type is None:
                q, p = f"SELECT {_MV_COLS} FROM mv WHERE id > ? ORDER BY id LIMIT ?", [last, batch]
            else:
                q = f"SELECT {_MV_COLS} FROM mv WHERE object_type=? AND id > ? ORDER BY id LIMIT ?"
                p = [mv_type, last, batch]
            rows = [_mv_from_row(r) for r in self.conn.execute(q, p)]
            if not rows:
                return
            last = rows[-1].id  # type: ignore[assignment]
            yield rows

    def mv_ids_where(self, mv_type: str | None) -> list[int]:
        if mv_type is None:
            return [r[0] for r in self.conn.execute("SELECT id FROM mv ORDER BY id")]
        return [r[0] for r in self.conn.execute("SELECT id FROM mv WHERE object_type=? ORDER BY id", (mv_type,))]

    # ----------------------------------------------------------- join index
    def index_lookup(self, mv_type: str, attr: str, values: Iterable[str]) -> dict[str, set[int]]:
        out: dict[str, set[int]] = {}
        for chunk in _chunks(set(values)):
            q = (
                "SELECT value, mv_id FROM mv_index WHERE mv_type=? AND attr=? AND value IN "
                f"({','.join('?' * len(chunk))})"
            )
            for value, mv_id in self.conn.execute(q, [mv_type, attr, *chunk]):
                out.setdefault(value, set()).add(mv_id)
        return out

    def index_load(self, mv_type: str, attr: str) -> dict[str, set[int]]:
        out: dict[str, set[int]] = {}
        q = "SELECT value, mv_id FROM mv_index WHERE mv_type=? AND attr=?"
        for value, mv_id in self.conn.execute(q, (mv_type, attr)):
            out.setdefault(value, set()).add(mv_id)
        return out

    def index_set(self, entries: dict[int, list[tuple[str, str, str]]]) -> None:
        """Replace the index rows of each MV object with (mv_type, attr, value) entries."""
        c = self._w()
        c.executemany("DELETE FROM mv_index WHERE mv_id=?", [(i,) for i in entries])
        c.executemany(
            "INSERT INTO mv_index (mv_type, attr, value, mv_id) VALUES (?, ?, ?, ?)",
            [(t, a, v, i) for i, rows in entries.items() for t, a, v in rows],
        )

    # ----------------------------------------------------------- history
    _HIST: ClassVar[tuple[str, ...]] = ("start", "end", "connector", "profile", "object_type", "total", "added", "changed", "deleted",
             "filtered", "errors", "status", "details")  # fmt: skip

    def add_history(self, row: dict[str, Any]) -> int:
        values = [row.get(k) for k in self._HIST]
        values[-1] = _dumps_opt(row.get("details"))
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
            d["details"] = _loads_opt(d["details"])
            rows.append(d)
        rows.reverse()
        return rows

    # ----------------------------------------------------------- helpers for sync and export
    def referrer_mv_ids(self, dst_ids: Iterable[int], exclude_connectors: Iterable[str] = ()) -> set[int]:
        """MV objects whose linked CS objects reference any of ``dst_ids``."""
        out: set[int] = set()
        excl = list(exclude_connectors)
        for chunk in _chunks(set(dst_ids)):
            q = (
                "SELECT DISTINCT c.mv_id FROM cs_ref r JOIN cs c ON c.id = r.src WHERE r.dst IN "
                f"({','.join('?' * len(chunk))}) AND c.mv_id IS NOT NULL"
            )
            params: list[Any] = list(chunk)
            if excl:
                q += f" AND c.connector NOT IN ({','.join('?' * len(excl))})"
                params += excl
            out.update(r[0] for r in self.conn.execute(q, params))
        return out

    def mv_ids_of_cs(self, cs_ids: Iterable[int]) -> dict[int, int | None]:
        out: dict[int, int | None] = {}
        for chunk in _chunks(set(cs_ids)):
            q = f"SELECT id, mv_id FROM cs WHERE id IN ({','.join('?' * len(chunk))})"
            out.update((r[0], r[1]) for r in self.conn.execute(q, chunk))
        return out

    def cs_ids_by(self, connector: str, column: str, values: Iterable[str]) -> dict[str, int]:
        """value -> id of a connector's objects by anchor, dn_norm or key_norm (a real object before a
        placeholder), without loading them."""
        assert column in ("anchor", "dn_norm", "key_norm")
        out: dict[str, int] = {}
        for chunk in _chunks(set(values)):
            q = (f"SELECT {column}, id FROM cs WHERE connector=? AND {column} IN ({','.join('?' * len(chunk))}) "
                 "ORDER BY kind = 1 DESC, id DESC")  # fmt: skip
            for value, cs_id in self.conn.execute(q, [connector, *chunk]):
                out[value] = cs_id  # the last row wins: real objects, then the oldest
        return out

    def cs_ids_by_mv(self, mv_ids: Iterable[int]) -> list[tuple[int, int, str, int]]:
        """(mv_id, cs id, connector, kind) of the CS objects linked to these MV objects (no row loading)."""
        out: list[tuple[int, int, str, int]] = []
        for chunk in _chunks(set(mv_ids)):
            q = f"SELECT mv_id, id, connector, kind FROM cs WHERE mv_id IN ({','.join('?' * len(chunk))})"
            out.extend((r[0], r[1], r[2], r[3]) for r in self.conn.execute(q, chunk))
        return out

    def linked_mv_ids(self, connector: str) -> set[int]:
        q = "SELECT mv_id FROM cs WHERE connector=? AND mv_id IS NOT NULL"
        return {r[0] for r in self.conn.execute(q, (connector,))}

    def mv_linked_in(self, connector: str, mv_ids: Iterable[int]) -> set[int]:
        out: set[int] = set()
        for chunk in _chunks(set(mv_ids)):
            q = f"SELECT mv_id FROM cs WHERE +connector=? AND mv_id IN ({','.join('?' * len(chunk))})"
            out.update(r[0] for r in self.conn.execute(q, [connector, *chunk]))
        return out

    def mv_ids_dirty(self, level: int) -> list[int]:
        return [r[0] for r in self.conn.execute("SELECT id FROM mv WHERE dirty=? ORDER BY id", (level,))]

    def set_mv_dirty_level(self, ids: Iterable[int], level: int) -> None:
        """Raise (never lower) the dirty level: 1 outbound needed, 2 recompute from links first."""
        self._w().executemany("UPDATE mv SET dirty=? WHERE id=? AND dirty<?", [(level, i, level) for i in ids])

    def mark_all_mv_dirty(self) -> None:
        self._w().execute("UPDATE mv SET dirty=1 WHERE dirty=0")

    def count_pending_deletes(self, connector: str) -> int:
        q = "SELECT COUNT(*) FROM cs WHERE connector=? AND pending_export IS NOT NULL AND json_extract(pending_export, '$.op')='delete'"
        return int(self.conn.execute(q, (connector,)).fetchone()[0])

    def count_mv(self, mv_type: str | None = None) -> int:
        if mv_type is None:
            return int(self.conn.execute("SELECT COUNT(*) FROM mv").fetchone()[0])
        return int(self.conn.execute("SELECT COUNT(*) FROM mv WHERE object_type=?", (mv_type,)).fetchone()[0])
