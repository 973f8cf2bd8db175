"""The connector-space tables of the SQLite store: objects, their references, and the light
lookups the pipeline uses to avoid loading whole objects."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from operator import itemgetter
from typing import Any, ClassVar

from reconciler.engine.objects import CSObject
from reconciler.store.link_memo import LinkMemo
from reconciler.store.rows import (
    CS_COLS,
    CS_INSERT,
    CS_INSERT_IMPORTED,
    CS_INSERT_PROVISIONED,
    CS_UPDATE,
    IMPORT_ROW_COLS,
    ImportRow,
    chunks,
    cs_from_row,
    cs_imported_values,
    cs_provisioned_values,
    cs_values,
    dumps,
    dumps_opt,
    in_id_order,
    rows_by_ids,
)

_DST = itemgetter(2)  # of a cs_ref row (src, attr, dst)


class ConnectorSpaceTables:
    """Connector-space queries; the store class provides the connection and the transaction."""

    conn: sqlite3.Connection
    _next_cs: int
    _next_mv: int
    _links: LinkMemo | None = None  # on while a synchronization runs (link_memo.py)

    def remember_links(self, on: bool) -> None:
        """Keep (or stop keeping) the links of the CS objects written, for ``mv_ids_of_cs``,
        ``cs_ids_by_mv`` and ``cs_by_mv`` (link_memo.py)."""
        self._links = LinkMemo(self._first_new_mv()) if on else None

    def _forget_links(self) -> None:
        """The transaction was rolled back: what the memo was told may not be in the store."""
        if self._links is not None:
            self._links = LinkMemo(self._first_new_mv())

    def _first_new_mv(self) -> int:
        """The first MV id no stored link names: from it on, the memo sees every link (a rollback may
        lower the next id, never below a stored link)."""
        top = self.conn.execute("SELECT MAX(mv_id) FROM cs WHERE mv_id IS NOT NULL").fetchone()[0]  # cs_mv
        return max(self._next_mv, (top or 0) + 1)

    def _w(self) -> sqlite3.Connection:
        raise NotImplementedError

    def new_cs_ids(self, n: int) -> list[int]:
        start = self._next_cs
        self._next_cs += n
        return list(range(start, start + n))

    def _select_cs(self, where: str, params: Sequence[Any], source: str = "cs") -> list[CSObject]:
        return [cs_from_row(r) for r in self.conn.execute(f"SELECT {CS_COLS} FROM {source} WHERE {where}", params)]

    def cs_by_ids(self, ids: Iterable[int]) -> dict[int, CSObject]:
        return {r[0]: cs_from_row(r) for r in rows_by_ids(self.conn, f"SELECT {CS_COLS} FROM cs", "id", ids)}

    def cs_by_anchors(self, connector: str, anchors: Iterable[str]) -> dict[str, CSObject]:
        out: dict[str, CSObject] = {}
        for chunk in chunks(sorted(set(anchors))):
            q = f"connector=? AND anchor IN ({','.join('?' * len(chunk))})"
            for o in self._select_cs(q, [connector, *chunk]):
                out[o.anchor] = o  # type: ignore[index]
        return out

    def cs_by_dns(self, connector: str, dn_norms: Iterable[str]) -> dict[str, list[CSObject]]:
        out: dict[str, list[CSObject]] = {}
        for chunk in chunks(sorted(set(dn_norms))):
            q = f"connector=? AND dn_norm IN ({','.join('?' * len(chunk))})"
            for o in self._select_cs(q, [connector, *chunk]):
                out.setdefault(o.dn_norm, []).append(o)
        return out

    def cs_light_by_anchors(self, connector: str, anchors: Iterable[str]
                            ) -> dict[str, tuple[int, str | None, int, str, str, bool]]:  # fmt: skip
        """anchor -> (id, hash, kind, object_type, dn, busy) without loading objects; ``busy``: a pending
        import, export memory or an import error waits on the object."""
        out: dict[str, tuple[int, str | None, int, str, str, bool]] = {}
        for chunk in chunks(sorted(set(anchors))):
            q = ("SELECT anchor, id, hash, kind, object_type, dn, (pending_import IS NOT NULL OR export_memory IS "
                 "NOT NULL OR import_error IS NOT NULL OR export_state = 'in-flight') FROM cs WHERE connector=? "
                 f"AND anchor IN ({','.join('?' * len(chunk))})")  # fmt: skip
            for r in self.conn.execute(q, [connector, *chunk]):
                out[r[0]] = (r[1], r[2], r[3], r[4], r[5], bool(r[6]))
        return out

    def cs_import_rows(self, connector: str, anchors: Iterable[str]) -> tuple[dict[str, ImportRow], set[str]]:
        """anchor -> ImportRow (see rows.py) without loading objects, and the anchors more than one object
        holds. The light row of ``cs_light_by_anchors`` plus, for objects with export memory only, what a
        confirming import compares (attributes and export memory, as JSON text)."""
        out: dict[str, ImportRow] = {}
        dups: set[str] = set()
        for chunk in chunks(sorted(set(anchors))):
            q = (f"SELECT anchor, {IMPORT_ROW_COLS} FROM cs WHERE connector=? "
                 f"AND anchor IN ({','.join('?' * len(chunk))})")  # fmt: skip
            for r in self.conn.execute(q, [connector, *chunk]):
                if r[0] in out:
                    dups.add(r[0])
                out[r[0]] = r[1:]
        return out, dups

    def cs_by_keys(self, connector: str, keys: Iterable[str], placeholders: bool = False) -> dict[str, CSObject]:
        out: dict[str, CSObject] = {}
        for chunk in chunks(sorted(set(keys))):
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
        if self._links is not None:
            # an MV object new in this run with no link the memo saw has none: no query for it
            known, unknown = self._links.cs_ids(set(mv_ids), conns)
            mv_ids = unknown + sorted({m for m, _, _, _ in known})
        for chunk in chunks(set(mv_ids)):
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
            q = f"SELECT id, mv_id FROM {self._source(which)} WHERE connector=? AND {cond} AND id > ? ORDER BY id LIMIT ?"
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

    def cs_anchor_ids(self, connector: str, batch: int = 10_000) -> Iterator[list[tuple[int, int, int, str | None]]]:
        """(id, ever imported (0 or 1), kind, export_state) of every object of a connector but placeholders,
        ``batch`` rows at a time: a full import's vanish check. Streamed (a million rows as a list cost
        ~150 MB): read it to the end before writing."""
        q = "SELECT id, hash IS NOT NULL, kind, export_state FROM cs WHERE connector=? AND kind <> 1"
        rows = self.conn.execute(q, (connector,))
        while chunk := rows.fetchmany(batch):
            yield chunk

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

    # A connector's pending objects are found through their partial index; without statistics SQLite
    # would rather walk every object of the connector in id order (a delta would cost the state's size)
    _INDEX: ClassVar[dict[str, str]] = {
        "all": "cs_connector",
        "pending": "cs_pending_import",
        "pending_export": "cs_pending_export",
    }

    def _source(self, which: str) -> str:
        index = self._INDEX.get(which)
        return f"cs INDEXED BY {index}" if index else "cs"

    def iter_cs(self, connector: str | None, which: str, batch: int) -> Iterator[list[CSObject]]:
        """Objects in id order, a batch at a time (keyset paging: safe while rows change)."""
        cond = self._WHICH[which]
        last = 0
        while True:
            if connector is None:
                rows = self._select_cs(f"{cond} AND id > ? ORDER BY id LIMIT ?", [last, batch])
            else:
                rows = self._select_cs(f"connector=? AND {cond} AND id > ? ORDER BY id LIMIT ?",
                                       [connector, last, batch], self._source(which))  # fmt: skip
            if not rows:
                return
            last = rows[-1].id  # type: ignore[assignment]
            yield rows

    def count_cs(self, connector: str | None, which: str = "all") -> int:
        cond = self._WHICH[which]
        if connector is None:
            return int(self.conn.execute(f"SELECT COUNT(*) FROM cs WHERE {cond}").fetchone()[0])
        return int(
            self.conn.execute(f"SELECT COUNT(*) FROM {self._source(which)} WHERE connector=? AND {cond}",
                              (connector,)).fetchone()[0]
        )

    def save_cs(self, objs: Iterable[CSObject], *, new: bool = False) -> None:
        c = self._w()
        objs = list(objs)
        if self._links is not None:
            self._links.wrote(objs)
        if new:
            # the two common new objects, an import's (nothing synchronized or exported yet) and a
            # synchronization's (provisioned, nothing imported yet), leave the other columns to their
            # defaults: binding ten NULLs per row cost a third of the insert
            imported: list[CSObject] = []
            provisioned: list[CSObject] = []
            other: list[CSObject] = []
            for o in objs:
                (imported if _untouched(o) else provisioned if _just_provisioned(o) else other).append(o)
            if imported:
                c.executemany(CS_INSERT_IMPORTED, [cs_imported_values(o) for o in imported])
            if provisioned:
                c.executemany(CS_INSERT_PROVISIONED, [cs_provisioned_values(o) for o in provisioned])
            if other:
                c.executemany(CS_INSERT, [(o.id, *cs_values(o)) for o in other])
        else:
            c.executemany(CS_UPDATE, [(*cs_values(o), o.id) for o in objs])

    def save_cs_links(self, objs: Iterable[CSObject], clear_pending: bool = False) -> None:
        """Objects whose link (metaverse object, kind, rule) and sync error alone changed;
        ``clear_pending``: and synchronization has processed their pending import (one write, not two)."""
        clear = ", pending_import=NULL, resync=0" if clear_pending else ""
        if self._links is not None:
            objs = list(objs)
            self._links.wrote(objs)
        self._w().executemany(
            f"UPDATE cs SET mv_id=?, link_kind=?, link_rule=?, sync_error=?{clear} WHERE id=?",
            [(o.mv_id, o.link_kind, o.link_rule, o.sync_error, o.id) for o in objs],
        )

    def save_cs_pending(self, objs: Iterable[CSObject]) -> None:
        """Objects whose pending export (and the attribute names of their pending import) alone changed."""
        self._w().executemany(
            "UPDATE cs SET pending_export=?, pi_attrs=? WHERE id=?",
            [(dumps_opt(o.pending_export), dumps_opt(o.pi_attrs), o.id) for o in objs],
        )

    def delete_cs(self, ids: Iterable[int]) -> None:
        c = self._w()
        rows = [(i,) for i in ids]
        if self._links is not None:
            self._links.deleted(i for i, in rows)
        c.executemany("DELETE FROM cs WHERE id=?", rows)
        c.executemany("DELETE FROM cs_ref WHERE src=?", rows)

    def clear_connector_space(self, connector: str) -> int:
        c = self._w()
        self._forget_links()
        c.execute("DELETE FROM cs_ref WHERE src IN (SELECT id FROM cs WHERE connector=?)", (connector,))
        n = c.execute("DELETE FROM cs WHERE connector=?", (connector,)).rowcount
        c.execute("UPDATE connector_state SET watermark=NULL, imported=0 WHERE name=?", (connector,))
        return int(n)

    # ----------------------------------------------------------- references
    def refs_of(self, src_ids: Iterable[int]) -> dict[int, list[tuple[str, int]]]:
        out: dict[int, list[tuple[str, int]]] = {}
        for src, attr, dst in rows_by_ids(self.conn, "SELECT src, attr, dst FROM cs_ref", "src", src_ids):
            out.setdefault(src, []).append((attr, dst))
        return out

    def set_refs(self, refs: dict[int, list[tuple[str, int]]]) -> None:
        c = self._w()
        c.executemany("DELETE FROM cs_ref WHERE src=?", [(s,) for s in refs])
        c.executemany(
            "INSERT INTO cs_ref (src, attr, dst) VALUES (?, ?, ?)",
            [(s, a, d) for s, pairs in refs.items() for a, d in pairs],
        )

    def add_refs(self, refs: dict[int, list[tuple[str, int]]]) -> None:
        """cs_ref rows of objects that have none yet (created in this batch): no old rows to delete."""
        rows = [(s, a, d) for s, pairs in refs.items() for a, d in pairs]
        # in target order: the target index takes them in one sweep rather than a random page each (a
        # million people's groups imported in 11 s instead of 13.6 s); every reader sorts a source's targets
        rows.sort(key=_DST)
        self._w().executemany("INSERT INTO cs_ref (src, attr, dst) VALUES (?, ?, ?)", rows)

    def save_cs_confirmed(self, objs: Iterable[CSObject], memory_only: Iterable[CSObject] = ()) -> None:
        """Objects a confirming import changed only in attributes, hash, key, export memory and export
        state (what it imported is what was exported); ``memory_only``: in export memory alone."""
        c = self._w()
        c.executemany(
            "UPDATE cs SET attrs=?, hash=?, key_norm=?, export_memory=?, export_state=? WHERE id=?",
            [(dumps(o.attrs), o.hash, o.key_norm, dumps_opt(o.export_memory), o.export_state, o.id)
             for o in in_id_order(objs)],
        )
        c.executemany(
            "UPDATE cs SET export_memory=? WHERE id=?", [(dumps_opt(o.export_memory), o.id) for o in in_id_order(memory_only)]
        )

    def referrers(self, dst_ids: Iterable[int]) -> set[int]:
        out: set[int] = set()
        for chunk in chunks(set(dst_ids)):
            q = f"SELECT src FROM cs_ref WHERE dst IN ({','.join('?' * len(chunk))})"
            out.update(r[0] for r in self.conn.execute(q, chunk))
        return out

    def retarget_refs(self, moves: dict[int, int]) -> None:
        """References to each old id name the new one instead (a placeholder's, when its object arrives)."""
        self._w().executemany("UPDATE cs_ref SET dst=? WHERE dst=?", [(new, old) for old, new in moves.items()])

    def refs_to(self, dst_ids: Iterable[int]) -> list[tuple[int, str, int]]:
        """(src, attr, dst) of every reference to ``dst_ids``."""
        out: list[tuple[int, str, int]] = []
        for chunk in chunks(set(dst_ids)):
            q = f"SELECT src, attr, dst FROM cs_ref WHERE dst IN ({','.join('?' * len(chunk))})"
            out.extend(self.conn.execute(q, chunk))
        return out

    def retarget_ref_rows(self, rows: Iterable[tuple[int, str, int, int]]) -> None:
        """(src, attr, old dst, new dst): those references name the new target."""
        self._w().executemany("UPDATE cs_ref SET dst=? WHERE src=? AND attr=? AND dst=?",
                              [(new, src, attr, old) for src, attr, old, new in rows])  # fmt: skip

    def mark_resync(self, cs_ids: Iterable[int]) -> None:
        self._w().executemany("UPDATE cs SET resync=1 WHERE id=?", [(i,) for i in cs_ids])

    # ----------------------------------------------------------- helpers for sync and export
    def referrer_mv_ids(self, dst_ids: Iterable[int], exclude_connectors: Iterable[str] = ()) -> set[int]:
        """MV objects whose linked CS objects reference any of ``dst_ids``."""
        out: set[int] = set()
        excl = list(exclude_connectors)
        for chunk in chunks(set(dst_ids)):
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
        if self._links is not None:
            out, cs_ids = self._links.mv_ids(set(cs_ids))
        for chunk in chunks(set(cs_ids)):
            q = f"SELECT id, mv_id FROM cs WHERE id IN ({','.join('?' * len(chunk))})"
            out.update((r[0], r[1]) for r in self.conn.execute(q, chunk))
        return out

    def cs_ids_by(self, connector: str, column: str, values: Iterable[str]) -> dict[str, int]:
        """value -> id of a connector's objects by anchor, dn_norm or key_norm (a real object before a
        placeholder), without loading them."""
        assert column in ("anchor", "dn_norm", "key_norm")
        out: dict[str, int] = {}
        for chunk in chunks(sorted(set(values))):
            q = (f"SELECT {column}, id FROM cs WHERE connector=? AND {column} IN ({','.join('?' * len(chunk))}) "
                 "ORDER BY kind = 1 DESC, id DESC")  # fmt: skip
            for value, cs_id in self.conn.execute(q, [connector, *chunk]):
                out[value] = cs_id  # the last row wins: real objects, then the oldest
        return out

    def cs_ids_all(self, connector: str, column: str) -> dict[str, int]:
        """``cs_ids_by`` for every value the connector's objects hold in ``column``: one walk of the
        column's index (which holds the value, kind and id) instead of a lookup per value."""
        assert column in ("anchor", "dn_norm", "key_norm")
        real: dict[str, int] = {}
        placeholders: dict[str, int] = {}
        q = f"SELECT {column}, id, kind FROM cs WHERE connector=? AND {column} IS NOT NULL"
        for value, cs_id, kind in self.conn.execute(q, (connector,)):
            into = placeholders if kind == 1 else real
            held = into.get(value)
            if held is None or cs_id < held:  # the oldest, as cs_ids_by
                into[value] = cs_id
        placeholders.update(real)  # a real object before a placeholder
        return placeholders

    def cs_ids_by_mv(self, mv_ids: Iterable[int], connectors: Iterable[str] | None = None
                     ) -> list[tuple[int, int, str, int]]:  # fmt: skip
        """(mv_id, cs id, connector, kind) of the CS objects linked to these MV objects (no row loading);
        only those of ``connectors`` when given."""
        out: list[tuple[int, int, str, int]] = []
        conns = sorted(connectors) if connectors is not None else None
        if conns is not None and not conns:
            return out
        tail = f" AND +connector IN ({','.join('?' * len(conns))})" if conns else ""
        if self._links is not None:
            out, mv_ids = self._links.cs_ids(set(mv_ids), conns)
        for chunk in chunks(set(mv_ids)):
            q = f"SELECT mv_id, id, connector, kind FROM cs WHERE mv_id IN ({','.join('?' * len(chunk))}){tail}"
            out.extend(self.conn.execute(q, [*chunk, *conns] if conns else chunk))
        return out

    def refs_per_object(self, connector: str, sample: int = 1000) -> float:
        """The average number of references an object of the connector holds, over its first ``sample``
        objects (what sizes a batch of groups with hundreds of members each)."""
        q = ("SELECT COUNT(*) FROM cs_ref WHERE src IN "
             "(SELECT id FROM cs INDEXED BY cs_connector WHERE connector=? ORDER BY id LIMIT ?)")  # fmt: skip
        n = int(self.conn.execute(q, (connector, sample)).fetchone()[0])
        return n / sample

    def linked_mv_ids(self, connector: str) -> set[int]:
        q = "SELECT mv_id FROM cs WHERE connector=? AND mv_id IS NOT NULL"
        return {r[0] for r in self.conn.execute(q, (connector,))}

    def mv_linked_in(self, connector: str, mv_ids: Iterable[int]) -> set[int]:
        out: set[int] = set()
        for chunk in chunks(set(mv_ids)):
            q = f"SELECT mv_id FROM cs WHERE +connector=? AND mv_id IN ({','.join('?' * len(chunk))})"
            out.update(r[0] for r in self.conn.execute(q, [connector, *chunk]))
        return out

def _just_provisioned(o: CSObject) -> bool:
    """Only the columns of rows.CS_INSERT_PROVISIONED hold values."""
    return (o.anchor is None and o.key_norm is None and o.hash is None and o.pending_import is None
            and o.pi_attrs is None and o.export_memory is None and o.export_state is None and o.import_error is None
            and o.export_error is None and o.sync_error is None and not o.resync)  # fmt: skip


def _untouched(o: CSObject) -> bool:
    """The columns after ``pi_attrs`` hold their defaults (see rows.CS_INSERT_IMPORTED)."""
    return (o.pending_export is None and o.export_memory is None and o.export_state is None and o.mv_id is None
            and o.link_kind is None and o.link_rule is None and o.import_error is None and o.export_error is None
            and o.sync_error is None and not o.resync)  # fmt: skip
