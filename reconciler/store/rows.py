"""How objects become SQLite rows and back: column lists, JSON codecs (orjson), IN-list chunks."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, datetime
from operator import attrgetter
from typing import Any

import orjson

from reconciler.engine.objects import CSObject, MVObject

CS_COLS = (
    "id, connector, guid, object_type, dn, dn_norm, anchor, key_norm, kind, attrs, hash, pending_import, "
    "pi_attrs, pending_export, export_memory, export_state, mv_id, link_kind, link_rule, import_error, "
    "export_error, sync_error, resync"
)
CS_INSERT = f"INSERT INTO cs ({CS_COLS}) VALUES ({','.join('?' * 23)})"
CS_UPDATE = (
    "UPDATE cs SET connector=?, guid=?, object_type=?, dn=?, dn_norm=?, anchor=?, key_norm=?, kind=?, attrs=?, "
    "hash=?, pending_import=?, pi_attrs=?, pending_export=?, export_memory=?, export_state=?, mv_id=?, "
    "link_kind=?, link_rule=?, import_error=?, export_error=?, sync_error=?, resync=? WHERE id=?"
)
# What an import reads of an object it may skip or confirm without loading it (sqlite_cs.cs_import_rows):
# (id, hash, kind, object_type, dn, busy, pending_import, import_error, export_state, attrs, export_memory);
# busy as in cs_light_by_anchors; attrs and export_memory (JSON text) only when export memory is held.
IMPORT_ROW_COLS = (
    "id, hash, kind, object_type, dn, (pending_import IS NOT NULL OR export_memory IS NOT NULL OR import_error IS "
    "NOT NULL OR export_state = 'in-flight'), pending_import, import_error, export_state, "
    "CASE WHEN export_memory IS NOT NULL THEN attrs END, export_memory"
)
ImportRow = tuple[Any, ...]
# an object whose later columns (pending export onwards) hold their defaults: NULL, and resync 0
CS_INSERT_IMPORTED = (
    "INSERT INTO cs (id, connector, guid, object_type, dn, dn_norm, anchor, key_norm, kind, attrs, hash, "
    f"pending_import, pi_attrs) VALUES ({','.join('?' * 13)})"
)
# an object a synchronization just provisioned: linked, a pending export, nothing imported or exported yet
CS_INSERT_PROVISIONED = (
    "INSERT INTO cs (id, connector, guid, object_type, dn, dn_norm, kind, attrs, pending_export, mv_id, link_kind, "
    f"link_rule) VALUES ({','.join('?' * 12)})"
)
MV_COLS = "id, guid, object_type, attrs, contrib, dirty, retry"
CHUNK = 900  # parameters per IN (...) list


# orjson: the state's JSON columns are encoded and decoded on every object a run touches, and
# the standard library's json is ten times slower at it
loads = orjson.loads


def dumps(value: Any) -> str:
    try:
        return orjson.dumps(value).decode()
    except orjson.JSONEncodeError:  # integers past 64 bits: the standard library takes them
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def dumps_opt(value: Any) -> str | None:
    return None if value is None else dumps(value)


def loads_opt(text: str | None) -> Any:
    return None if text is None else orjson.loads(text)


def cs_from_row(r: Sequence[Any]) -> CSObject:
    # positional, in CSObject's field order: half the cost of keywords, on every object a run reads
    (id_, connector, guid, object_type, dn, _, anchor, key_norm, kind, attrs, hash_, pending_import, pi_attrs,
     pending_export, export_memory, export_state, mv_id, link_kind, link_rule, import_error, export_error,
     sync_error, resync) = r
    return CSObject(
        connector, object_type, dn, id_, guid, anchor, key_norm, kind, loads(attrs), hash_, pending_import,
        None if pi_attrs is None else loads(pi_attrs), None if pending_export is None else loads(pending_export),
        None if export_memory is None else loads(export_memory), export_state, mv_id, link_kind, link_rule,
        import_error, export_error, sync_error, bool(resync),
    )  # fmt: skip


def cs_values(o: CSObject) -> tuple[Any, ...]:
    return (
        o.connector, o.guid, o.object_type, o.dn, o.dn_norm, o.anchor, o.key_norm, o.kind, dumps(o.attrs),
        o.hash, o.pending_import, dumps_opt(o.pi_attrs), dumps_opt(o.pending_export),
        dumps_opt(o.export_memory), o.export_state, o.mv_id, o.link_kind, o.link_rule, o.import_error,
        o.export_error, o.sync_error, 1 if o.resync else 0,
    )  # fmt: skip


def cs_imported_values(o: CSObject) -> tuple[Any, ...]:
    """The values of CS_INSERT_IMPORTED."""
    return (
        o.id, o.connector, o.guid, o.object_type, o.dn, o.dn_norm, o.anchor, o.key_norm, o.kind, dumps(o.attrs),
        o.hash, o.pending_import, dumps_opt(o.pi_attrs),
    )  # fmt: skip


def cs_provisioned_values(o: CSObject) -> tuple[Any, ...]:
    """The values of CS_INSERT_PROVISIONED."""
    return (
        o.id, o.connector, o.guid, o.object_type, o.dn, o.dn_norm, o.kind, dumps(o.attrs),
        dumps_opt(o.pending_export), o.mv_id, o.link_kind, o.link_rule,
    )  # fmt: skip


def mv_from_row(r: Sequence[Any]) -> MVObject:
    id_, guid, object_type, attrs, contrib, dirty, retry = r  # positional, as in cs_from_row
    return MVObject(object_type, id_, guid, loads(attrs), loads(contrib), bool(dirty),
                    None if retry is None else loads(retry))  # fmt: skip


def chunks(values: Iterable[Any]) -> Iterator[list[Any]]:
    # callers pass strings sorted: neighbouring keys share index and table pages, so lookups stay in cache
    buf: list[Any] = []
    for v in values:
        buf.append(v)
        if len(buf) >= CHUNK:
            yield buf
            buf = []
    if buf:
        yield buf


def id_runs(ids: Iterable[int]) -> list[tuple[int, int]]:
    """(first, last) of each run of consecutive ids, in order."""
    runs: list[tuple[int, int]] = []
    first = last = None
    for i in sorted(set(ids)):
        if last is not None and i == last + 1:
            last = i
            continue
        if first is not None:
            runs.append((first, last))  # type: ignore[arg-type]
        first = last = i
    if first is not None:
        runs.append((first, last))  # type: ignore[arg-type]
    return runs


SPAN = 64  # consecutive ids from which one range query reads them, rather than an IN list


def spans(ids: Iterable[int]) -> tuple[list[tuple[int, int]], list[int]]:
    """The runs of at least SPAN consecutive ids, (first, last), and the other ids."""
    ranges: list[tuple[int, int]] = []
    scattered: list[int] = []
    for first, last in id_runs(ids):
        if last - first + 1 >= SPAN:
            ranges.append((first, last))
        else:
            scattered.extend(range(first, last + 1))
    return ranges, scattered


def rows_by_ids(conn: Any, select: str, column: str, ids: Iterable[int]) -> Iterator[Any]:
    """The rows of ``select`` (no WHERE) whose ``column`` is one of ``ids``: runs of ids by range, in order
    (every batch of a full sync), the rest by IN lists."""
    ranges, scattered = spans(ids)
    for first, last in ranges:
        yield from conn.execute(f"{select} WHERE {column} BETWEEN ? AND ?", (first, last))
    for chunk in chunks(scattered):
        yield from conn.execute(f"{select} WHERE {column} IN ({','.join('?' * len(chunk))})", chunk)


def now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def in_id_order(objs: Iterable[CSObject]) -> list[CSObject]:
    """Objects in id (table) order: an export holds them in dependency order, and updates in table
    order touch each page once instead of thrashing a cache smaller than the table."""
    return sorted(objs, key=_ID)


_ID = attrgetter("id")
