"""The export side of the connector-space tables: pending exports read for an export or a plan, the
results an export writes back, and what references to exported objects show."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from reconciler.engine.objects import CSObject
from reconciler.store.rows import chunks, dumps_opt, in_id_order, loads


class ExportTables:
    """Export queries; the store class provides the connection and the transaction."""

    conn: sqlite3.Connection

    def _w(self) -> sqlite3.Connection:
        raise NotImplementedError

    def cs_ref_views(self, ids: Iterable[int], keys: Sequence[str]
                     ) -> Iterator[tuple[int, str, str | None, int, str | None, dict[str, Any]]]:  # fmt: skip
        """(id, dn, anchor, kind, pending new DN, {key: value}) of objects: each key's value as imported,
        else as pending export, else as exported and not yet confirmed (what a reference to the object
        shows and sends)."""
        cols = "".join(
            f", COALESCE(NULLIF(json_extract(attrs, '$.\"{k}\"'), ''), "
            f"NULLIF(json_extract(pending_export, '$.attrs.\"{k}\"'), ''), json_extract(export_memory, '$.\"{k}\".v'))"
            for k in keys
        )
        for chunk in chunks(set(ids)):
            q = (f"SELECT id, dn, anchor, kind, json_extract(pending_export, '$.new_dn'){cols} FROM cs "
                 f"WHERE id IN ({','.join('?' * len(chunk))})")  # fmt: skip
            for r in self.conn.execute(q, chunk):
                yield r[0], r[1], r[2], r[3], r[4], {k: v for k, v in zip(keys, r[5:]) if v is not None}

    def save_cs_export_state(self, objs: Iterable[CSObject]) -> None:
        """Objects whose export state (in flight or not) and anchor alone changed."""
        self._w().executemany(
            "UPDATE cs SET export_state=?, anchor=? WHERE id=?",
            [(o.export_state, o.anchor, o.id) for o in in_id_order(objs)],
        )

    def save_cs_exported(self, objs: Iterable[CSObject]) -> None:
        """Objects an export changed: DN, anchor, pending export, export memory, state and error."""
        self._w().executemany(
            "UPDATE cs SET dn=?, dn_norm=?, anchor=?, pending_export=?, export_memory=?, export_state=?, "
            "export_error=? WHERE id=?",
            [(o.dn, o.dn_norm, o.anchor, dumps_opt(o.pending_export), dumps_opt(o.export_memory), o.export_state,
              o.export_error, o.id) for o in in_id_order(objs)],
        )  # fmt: skip

    _EXPORT_COLUMNS = ("id, connector, guid, object_type, dn, anchor, key_norm, kind, pending_export, export_memory, "
                       "export_state, mv_id, export_error")

    def _pending_rows(self, columns: str, connector: str, batch: int) -> Iterator[list[Any]]:
        """``columns`` (id first) of a connector's objects with a pending export, in id order, a batch of rows
        at a time (each query resumes after the last id: no offset to skip)."""
        q = (f"SELECT {columns} FROM cs INDEXED BY cs_pending_export WHERE connector=? AND "
             "pending_export IS NOT NULL AND id > ? ORDER BY id LIMIT ?")  # fmt: skip
        last = 0
        while True:
            rows = self.conn.execute(q, (connector, last, batch)).fetchall()
            if not rows:
                return
            last = rows[-1][0]
            yield rows

    def iter_cs_exports(self, connector: str, batch: int) -> Iterator[list[CSObject]]:
        """A connector's objects with a pending export, in id order, a batch at a time, as an export reads
        them: without attributes, and without what only a plan shows of the pending export (``acause``,
        ``arule``). Written back only through the export's own writes below, never ``save_cs``."""
        for rows in self._pending_rows(self._EXPORT_COLUMNS, connector, batch):
            yield [_export_object(r) for r in rows]

    def cs_exports_by_ids(self, ids: Iterable[int]) -> dict[int, CSObject]:
        """Objects with a pending export, by id, as ``iter_cs_exports`` reads them."""
        out: dict[int, CSObject] = {}
        for chunk in chunks(sorted(set(ids))):
            q = (f"SELECT {self._EXPORT_COLUMNS} FROM cs WHERE pending_export IS NOT NULL AND id IN "
                 f"({','.join('?' * len(chunk))})")  # fmt: skip
            for r in self.conn.execute(q, chunk):
                out[r[0]] = _export_object(r)
        return out

    def iter_cs_export_order(self, connector: str, batch: int
                             ) -> Iterator[tuple[int, str, str, str | None, list[int] | None]]:  # fmt: skip
        """(id, guid, dn, op, deps) of a connector's objects with a pending export, in id order: what
        export order needs, for an export that reads each batch's pending exports when it sends it."""
        columns = "id, guid, dn, json_extract(pending_export, '$.op'), json_extract(pending_export, '$.deps')"
        for rows in self._pending_rows(columns, connector, batch):
            for id_, guid, dn, op, deps in rows:
                yield id_, guid, dn, op, None if deps is None else loads(deps)

    def iter_cs_planned(self, connector: str, batch: int
                        ) -> Iterator[list[tuple[int, str, str, str, str | None, int | None, str, str]]]:  # fmt: skip
        """(id, guid, object_type, dn, anchor, mv_id, pending export, attributes) of a connector's objects
        with a pending export, in id order, a batch at a time; the last two as stored (JSON text): a plan
        keeps the text of a change and decodes it only when the change's details are read."""
        yield from self._pending_rows("id, guid, object_type, dn, anchor, mv_id, pending_export, attrs", connector,
                                      batch)  # fmt: skip

    def save_cs_export_sent(self, objs: Iterable[CSObject]) -> None:
        """Objects an export sent whose DN and anchor are as stored: pending export, export memory, state
        and error (``save_cs_exported`` without the indexed DN and anchor columns)."""
        self._w().executemany(
            "UPDATE cs SET pending_export=?, export_memory=?, export_state=?, export_error=? WHERE id=?",
            [(dumps_opt(o.pending_export), dumps_opt(o.export_memory), o.export_state, o.export_error, o.id)
             for o in in_id_order(objs)],
        )  # fmt: skip

    def save_cs_export_failed(self, objs: Iterable[CSObject]) -> None:
        """Objects an export could not send: anchor, state and error (the pending export stays)."""
        self._w().executemany(
            "UPDATE cs SET anchor=?, export_state=?, export_error=? WHERE id=?",
            [(o.anchor, o.export_state, o.export_error, o.id) for o in in_id_order(objs)],
        )

    def count_pending_deletes(self, connector: str) -> int:
        # instr first: most pending exports are no delete, and a substring test is cheaper than parsing
        q = ("SELECT COUNT(*) FROM cs INDEXED BY cs_pending_export WHERE connector=? AND pending_export IS NOT NULL "
             "AND instr(pending_export, 'delete') AND json_extract(pending_export, '$.op')='delete'")
        return int(self.conn.execute(q, (connector,)).fetchone()[0])


def _export_object(row: Any) -> CSObject:
    (id_, conn, guid, object_type, dn, anchor, key_norm, kind, pe_text, memory, export_state, mv_id,
     export_error) = row  # fmt: skip
    pe = loads(pe_text)
    pe.pop("acause", None)  # in Python, not SQL's json_remove: that parsed and wrote every add again
    pe.pop("arule", None)
    return CSObject(conn, object_type, dn, id_, guid, anchor, key_norm, kind, {}, None, None, None, pe,
                    None if memory is None else loads(memory), export_state, mv_id, None, None, None,
                    export_error)  # fmt: skip
