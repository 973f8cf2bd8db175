"""The metaverse tables of the SQLite store: objects, their dirty marks, and the join index."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator
from typing import Any

from reconciler.engine.objects import MVObject
from reconciler.store.rows import MV_COLS, chunks, dumps, dumps_opt, id_runs, mv_from_row, rows_by_ids


class MetaverseTables:
    """Metaverse queries; the store class provides the connection and the transaction."""

    conn: sqlite3.Connection
    _next_mv: int

    def _w(self) -> sqlite3.Connection:
        raise NotImplementedError

    def new_mv_ids(self, n: int) -> list[int]:
        start = self._next_mv
        self._next_mv += n
        return list(range(start, start + n))

    def mv_by_ids(self, ids: Iterable[int]) -> dict[int, MVObject]:
        return {r[0]: mv_from_row(r) for r in rows_by_ids(self.conn, f"SELECT {MV_COLS} FROM mv", "id", ids)}

    def mv_guids(self, ids: Iterable[int]) -> dict[int, str]:
        """id -> GUID, without loading the objects."""
        out: dict[int, str] = {}
        for chunk in chunks(set(ids)):
            q = f"SELECT id, guid FROM mv WHERE id IN ({','.join('?' * len(chunk))})"
            out.update((r[0], r[1]) for r in self.conn.execute(q, chunk))
        return out

    def mv_by_guid(self, guid: str) -> MVObject | None:
        r = self.conn.execute(f"SELECT {MV_COLS} FROM mv WHERE guid=?", (guid,)).fetchone()
        return None if r is None else mv_from_row(r)

    def save_mv(self, objs: Iterable[MVObject], *, new: bool = False) -> None:
        c = self._w()
        if new:
            c.executemany(
                f"INSERT INTO mv ({MV_COLS}) VALUES (?,?,?,?,?,?,?)",
                [(o.id, o.guid, o.object_type, dumps(o.attrs), dumps(o.contrib), int(o.dirty),
                  dumps_opt(o.retry)) for o in objs],
            )  # fmt: skip
        else:
            c.executemany(
                "UPDATE mv SET object_type=?, attrs=?, contrib=?, dirty=?, retry=? WHERE id=?",
                [(o.object_type, dumps(o.attrs), dumps(o.contrib), int(o.dirty), dumps_opt(o.retry), o.id)
                 for o in objs],
            )  # fmt: skip

    def clear_mv_marks(self, ids: Iterable[int]) -> None:
        """Outbound sync is done with these MV objects: not dirty, nothing to provision again."""
        # one statement per run of consecutive ids (a batch of a full sync is one or a few): a third
        # cheaper than one per object
        self._w().executemany("UPDATE mv SET dirty=0, retry=NULL WHERE id BETWEEN ? AND ? AND (dirty<>0 OR retry "
                              "IS NOT NULL)", id_runs(ids))  # fmt: skip

    def delete_mv(self, ids: Iterable[int]) -> None:
        rows = [(i,) for i in ids]
        c = self._w()
        c.executemany("DELETE FROM mv WHERE id=?", rows)
        c.executemany("DELETE FROM mv_index WHERE mv_id=?", rows)

    def dirty_mv_ids(self) -> list[int]:
        # through the partial index: only the marked objects, whatever the metaverse's size
        return [r[0] for r in self.conn.execute("SELECT id FROM mv INDEXED BY mv_dirty WHERE dirty>0 ORDER BY id")]

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
                q, p = f"SELECT {MV_COLS} FROM mv WHERE id > ? ORDER BY id LIMIT ?", [last, batch]
            else:
                q = f"SELECT {MV_COLS} FROM mv WHERE object_type=? AND id > ? ORDER BY id LIMIT ?"
                p = [mv_type, last, batch]
            rows = [mv_from_row(r) for r in self.conn.execute(q, p)]
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
        for chunk in chunks(set(values)):
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

    def index_clear(self) -> None:
        """Drop every join index row (the join attributes changed: the index is built again)."""
        self._w().execute("DELETE FROM mv_index")

    def index_set(self, entries: dict[int, list[tuple[str, str, str]]], unindexed: Iterable[int] = ()) -> None:
        """Replace the index rows of each MV object with (mv_type, attr, value) entries; ``unindexed``:
        those known to have no rows yet."""
        c = self._w()
        skip = set(unindexed)
        c.executemany("DELETE FROM mv_index WHERE mv_id=?", [(i,) for i in entries if i not in skip])
        c.executemany(
            "INSERT INTO mv_index (mv_type, attr, value, mv_id) VALUES (?, ?, ?, ?)",
            [(t, a, v, i) for i, rows in entries.items() for t, a, v in rows],
        )

    def mv_ids_dirty(self, level: int) -> list[int]:
        q = "SELECT id FROM mv INDEXED BY mv_dirty WHERE dirty=? AND dirty>0 ORDER BY id"
        return [r[0] for r in self.conn.execute(q, (level,))]

    def set_mv_dirty_level(self, ids: Iterable[int], level: int) -> None:
        """Raise (never lower) the dirty level: 1 outbound needed, 2 recompute from links first."""
        self._w().executemany("UPDATE mv SET dirty=? WHERE id=? AND dirty<?", [(level, i, level) for i in ids])

    def mark_all_mv_dirty(self) -> None:
        self._w().execute("UPDATE mv SET dirty=1 WHERE dirty=0")

    def all_mv_dirty(self) -> bool:
        """Is every MV object marked dirty (a full or first sync)? Stops at the first clean one, so a
        delta sync does not count a million rows to learn it."""
        return self.conn.execute("SELECT 1 FROM mv WHERE dirty = 0 LIMIT 1").fetchone() is None

    def count_mv(self, mv_type: str | None = None) -> int:
        if mv_type is None:
            return int(self.conn.execute("SELECT COUNT(*) FROM mv").fetchone()[0])
        return int(self.conn.execute("SELECT COUNT(*) FROM mv WHERE object_type=?", (mv_type,)).fetchone()[0])
