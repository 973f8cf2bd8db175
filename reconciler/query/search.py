"""Connector space search and metaverse search: Entra Connect Sync's "Search Connector Space" and
"Metaverse Search", read-only over the state.

A search is first checked against the playbook (``cs_query``, ``mv_query``), so a user's mistake is a
one-line UserError before the state is opened; then it runs (``search_cs``, ``search_mv``) as one SQL
query for the first ``limit`` objects through the state's indexes, plus a COUNT(*) only when more may
match: a search of a million objects neither loads them nor floods the terminal.

Matching rules (the CLI's help repeats them):
- cs ``dn``: the normalized DN (``normalize_dn``: case and spaces around separators ignored).
- cs ``rdn``: the DN's first RDN, case-insensitively; a VALUE without "=" matches the first RDN's value
  whatever its attribute type (``jdoe`` finds ``uid=jdoe,...`` and ``cn=jdoe,...``).
- cs ``anchor``: exact; when nothing matches exactly, case-insensitively (ASCII), for pasted GUIDs.
- cs ``subtree``: the container itself, when the space holds it, and every object under it at any
  depth, as an LDAP subtree search does.
- cs ``import-error``: import errors and synchronization errors (an inbound sync's error is an error
  of importing the object into the metaverse, as Entra Connect reports it); ``export-error``: export
  errors.
- mv ``--where attr=value``: AND of the conditions; a multi-valued attribute matches when any value
  does; strings compare case-insensitively (as joins and scoping filters do), binaries exactly, integers
  and booleans by value, datetimes as instants, references by the target's GUID; ``attr=`` (nothing
  after "=") matches objects without the attribute.
Sensitive and password-like attributes are masked with the plan's rules (``plan.redact``).
"""

from __future__ import annotations

import dataclasses
import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

import orjson

from reconciler.engine.objects import KIND_NAMES, NORMAL, PLACEHOLDER, TRANSIENT, normalize_dn
from reconciler.engine.values import norm_ci, parse_datetime, to_stored
from reconciler.errors import UserError
from reconciler.plan.model import AttributeDelta
from reconciler.plan.redact import REDACTED, Redactor, mask
from reconciler.playbook.model import Playbook
from reconciler.store import SqliteStore

DEFAULT_LIMIT = 100
VALUE_SCOPES = ("rdn", "dn", "anchor", "subtree")
# state scope -> (condition on cs, index to force); pending objects are found through their partial
# index, which SQLite would otherwise pass over for the DN index that gives the ORDER BY for free
STATE_SCOPES: dict[str, tuple[str, str | None]] = {
    "pending-import": ("pending_import IS NOT NULL", "cs_pending_import"),
    "pending-export": ("pending_export IS NOT NULL", "cs_pending_export"),
    "import-error": ("(import_error IS NOT NULL OR sync_error IS NOT NULL)", None),
    "export-error": ("export_error IS NOT NULL", None),
    "joined": ("mv_id IS NOT NULL", None),
    "disconnector": (f"mv_id IS NULL AND kind = {NORMAL}", None),
    "placeholder": (f"kind = {PLACEHOLDER}", None),
    "transient": (f"kind = {TRANSIENT}", None),
}
SCOPES = (*VALUE_SCOPES, *STATE_SCOPES)
_CS_COLS = ("id, guid, object_type, dn, anchor, kind, attrs, pending_import, pi_attrs, pending_export, "
            "export_state, mv_id, link_kind, link_rule, import_error, sync_error, export_error")  # fmt: skip
_CS_ORDER = "ORDER BY dn_norm, kind, id"  # the order of cs_dn (connector, dn_norm, kind): no sort
_FOLD = "reconciler_fold"  # SQL function: a stored JSON value as norm_ci folds it
_TRUE, _FALSE = frozenset({"true", "1", "yes"}), frozenset({"false", "0", "no"})

# --------------------------------------------------------------------------------------------- results


@dataclass(slots=True)
class CSHit:
    """One CS object as a search shows it (sensitive values masked)."""

    connector: str
    guid: str
    object_type: str
    dn: str
    anchor: str | None
    kind: str  # normal | placeholder | transient
    mv_guid: str | None  # the MV object it is joined to
    link: str | None  # join | project | provision
    link_rule: str | None
    pending_import: str | None  # add | update | delete | delete-add
    pending_import_attributes: list[str]
    pending_export: str | None  # add | update | rename | delete
    pending_export_attributes: list[str]
    pending_export_new_dn: str | None
    export_state: str | None
    import_error: str | None
    sync_error: str | None
    export_error: str | None
    attributes: dict[str, Any]

    def to_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def state(self) -> str:
        """A one-line summary: kind, pending changes and errors."""
        parts = [self.kind] if self.kind != KIND_NAMES[NORMAL] else []
        if self.mv_guid is None and self.kind == KIND_NAMES[NORMAL]:
            parts.append("disconnector")
        if self.pending_import:
            parts.append(_with_names(f"pending import {self.pending_import}", self.pending_import_attributes))
        if self.pending_export:
            new_dn = self.pending_export_new_dn
            op = self.pending_export + (f" to {new_dn}" if new_dn else "")
            parts.append(_with_names(f"pending export {op}", self.pending_export_attributes))
        for label, error in (("import", self.import_error), ("sync", self.sync_error),
                             ("export", self.export_error)):  # fmt: skip
            if error:
                parts.append(f"{label} error: {error}")
        return "; ".join(parts)


@dataclass(slots=True)
class LinkedCS:
    """A CS object linked to an MV object."""

    connector: str
    guid: str
    dn: str
    link: str | None
    rule: str | None


@dataclass(slots=True)
class MVHit:
    """One MV object: its links and attributes (references as the targets' GUIDs, sensitive masked)."""

    guid: str
    object_type: str
    connectors: list[LinkedCS]
    attributes: dict[str, Any]
    labels: dict[str, str] = field(default_factory=dict)  # referenced GUID -> display name (text only)

    def to_json(self) -> dict[str, Any]:
        links = [dataclasses.asdict(c) for c in self.connectors]
        return {"guid": self.guid, "object_type": self.object_type, "connectors": links,
                "attributes": self.attributes}  # fmt: skip


H = TypeVar("H", CSHit, MVHit)


@dataclass(slots=True)
class SearchResult(Generic[H]):
    hits: list[H]
    total: int  # how many objects match, shown or not
    notes: list[str] = field(default_factory=list)  # why a search could find nothing

    @property
    def more(self) -> int:
        return self.total - len(self.hits)


# --------------------------------------------------------------------------------------------- masking


class Masking:
    """What a search masks: the plan's rules, plus the CS attributes an inbound flow reads into a sensitive
    MV attribute (a plan never shows a source's values, a search does)."""

    def __init__(self, pb: Playbook) -> None:
        self.redactor = Redactor.for_sources(pb)
        self.anchors = {n: [a for a in c.anchor if self.hides(n, a)] for n, c in pb.connectors.items()}

    def hides(self, connector: str, name: str) -> bool:
        # connector "" for the metaverse: only names sensitive anywhere and password-like ones match
        return self.redactor.is_sensitive(connector, AttributeDelta(name))

    def value(self, connector: str, name: str, value: Any) -> Any:
        return mask(value) if self.hides(connector, name) else self.redactor.scrub(value)

    def text(self, value: str | None) -> str | None:
        return value if value is None else self.redactor.scrub(value)


# --------------------------------------------------------------------------------------------- cs search


@dataclass(frozen=True, slots=True)
class CSQuery:
    """A connector space search checked against the playbook: SQL after ``connector = ?``."""

    connector: str
    scope: str
    where: str
    params: tuple[Any, ...]
    source: str = "cs INDEXED BY cs_dn"  # without statistics SQLite may pick cs_connector and scan
    nocase_retry: bool = False  # anchor: retry case-insensitively when nothing matches exactly


def cs_query(pb: Playbook, connector: str, scope: str, value: str | None) -> CSQuery:
    """Check a connector space search; raises UserError (one line, with the fix) on a mistake."""
    if connector not in pb.connectors:
        raise UserError(f"no connector named {connector!r} in the playbook",
                        hint=f"its connectors: {', '.join(sorted(pb.connectors)) or 'none'}")  # fmt: skip
    if scope not in SCOPES:
        raise UserError(f"unknown scope {scope!r}", hint=f"use one of: {', '.join(SCOPES)}")
    if scope in STATE_SCOPES:
        if value is not None:
            raise UserError(f"--scope {scope} takes no VALUE (got {value!r})",
                            hint="drop it, or search by name: --scope rdn, dn, anchor or subtree")  # fmt: skip
        cond, index = STATE_SCOPES[scope]
        return CSQuery(connector, scope, cond, (), f"cs INDEXED BY {index}" if index else "cs")
    if value is None or not value.strip():
        what = {"rdn": "RDN (e.g. CN=jdoe)", "dn": "DN", "anchor": "anchor", "subtree": "container DN"}[scope]
        raise UserError(f"--scope {scope} needs a VALUE: the {what} to find",
                        hint=f"reconciler search cs PLAYBOOK {connector} --scope {scope} VALUE")  # fmt: skip
    if scope == "dn":
        return CSQuery(connector, scope, "dn_norm = ?", (normalize_dn(value),))
    if scope == "anchor":
        return CSQuery(connector, scope, "anchor = ?", (value,), "cs INDEXED BY cs_anchor", nocase_retry=True)
    if scope == "subtree":
        base = normalize_dn(value)
        # a suffix cannot use the DN index's order, but the scan reads the index alone (it covers dn_norm)
        suffix = "," + base
        cond = "(dn_norm = ? OR substr(dn_norm, ?) = ?)"
        return CSQuery(connector, scope, cond, (base, -len(suffix), suffix))
    rdn = normalize_dn(value)
    if "=" in rdn:
        # a prefix is a range of the DN index: [rdn, rdn + "-"), "-" being the character after ","
        cond = "dn_norm >= ? AND dn_norm < ? AND (dn_norm = ? OR substr(dn_norm, 1, ?) = ?)"
        return CSQuery(connector, scope, cond, (rdn, rdn + "-", rdn, len(rdn) + 1, rdn + ","))
    # a bare value: the first RDN's value, whatever its type (a scan of the DN index)
    first = "substr(dn_norm, instr(dn_norm, '=') + 1)"
    cond = f"instr(dn_norm, '=') > 0 AND ({first} = ? OR substr({first}, 1, ?) = ?)"
    return CSQuery(connector, scope, cond, (rdn, len(rdn) + 1, rdn + ","))


def search_cs(store: SqliteStore, pb: Playbook, query: CSQuery, limit: int | None = DEFAULT_LIMIT,
              masking: Masking | None = None) -> SearchResult[CSHit]:  # fmt: skip
    """The first ``limit`` objects (None or 0: all) of ``query`` in DN order, and how many match."""
    rows, total = _cs_rows(store.conn, query, limit)
    if not rows and query.nocase_retry:
        query = dataclasses.replace(query, where="anchor = ? COLLATE NOCASE", source="cs")  # a scan
        rows, total = _cs_rows(store.conn, query, limit)
    masking = masking or Masking(pb)
    mv_guids = store.mv_guids(r[11] for r in rows if r[11] is not None)
    hidden = masking.anchors.get(query.connector)
    hits = []
    for (_, guid, otype, dn, anchor, kind, attrs, pi, pi_attrs, pe, estate, mv_id, link, rule, ierr, serr,
         eerr) in rows:  # fmt: skip
        pe_doc = _loads(pe)
        hits.append(CSHit(
            connector=query.connector, guid=guid, object_type=otype, dn=masking.text(dn) or "",
            anchor=REDACTED if hidden and anchor else anchor, kind=KIND_NAMES.get(kind, str(kind)),
            mv_guid=mv_guids.get(mv_id) if mv_id is not None else None, link=link, link_rule=rule,
            pending_import=pi, pending_import_attributes=sorted(_loads(pi_attrs) or []) if pi else [],
            pending_export=pe_doc.get("op"),
            pending_export_attributes=sorted({*(pe_doc.get("attrs") or {}), *(pe_doc.get("refs") or {})}),
            pending_export_new_dn=masking.text(pe_doc.get("new_dn")), export_state=estate,
            import_error=masking.text(ierr), sync_error=masking.text(serr), export_error=masking.text(eerr),
            attributes={k: masking.value(query.connector, k, v) for k, v in sorted(_loads(attrs).items())},
        ))  # fmt: skip
    return SearchResult(hits, total)


def _cs_rows(conn: sqlite3.Connection, q: CSQuery, limit: int | None) -> tuple[list[Any], int]:
    where, params = f"FROM {q.source} WHERE connector = ? AND {q.where}", [q.connector, *q.params]
    rows = conn.execute(f"SELECT {_CS_COLS} {where} {_CS_ORDER} LIMIT ?", [*params, limit or -1]).fetchall()
    return rows, _total(conn, where, params, len(rows), limit)


def _total(conn: sqlite3.Connection, where: str, params: Sequence[Any], shown: int, limit: int | None) -> int:
    """How many match: counted (in SQL, on the same indexes) only when the limit may have cut the list."""
    if not limit or shown < limit:
        return shown
    return int(conn.execute(f"SELECT COUNT(*) {where}", params).fetchone()[0])


# --------------------------------------------------------------------------------------------- mv search


@dataclass(frozen=True, slots=True)
class Condition:
    """One ``--where attr=value``: ``key``, what a stored value must fold to (None: the attribute is absent)."""

    attr: str
    type: str
    key: str | None
    exact: bool = False  # binary: base64 is case-sensitive


@dataclass(frozen=True, slots=True)
class MVQuery:
    mv_type: str
    conditions: tuple[Condition, ...]


def mv_query(pb: Playbook, mv_type: str, where: Iterable[str]) -> MVQuery:
    """Check a metaverse search; raises UserError (one line, with the fix) on a mistake."""
    types = {t.lower(): t for t in pb.metaverse}
    name = types.get(mv_type.lower())
    if name is None:
        raise UserError(f"no metaverse object type {mv_type!r} in the playbook",
                        hint=f"its types: {', '.join(sorted(pb.metaverse)) or 'none'}")  # fmt: skip
    attrs = pb.metaverse[name].attributes
    by_lower = {a.lower(): a for a in attrs}
    conds = []
    for item in where:
        attr, sep, value = item.partition("=")
        if not sep or not attr.strip():
            raise UserError(f"--where {item!r} is not attr=value", hint="e.g. --where employeeId=1001")
        declared = by_lower.get(attr.strip().lower())
        if declared is None:
            raise UserError(f"{name} has no attribute {attr.strip()!r} (in --where {item!r})",
                            hint=f"its attributes: {', '.join(attrs)}")  # fmt: skip
        conds.append(_condition(declared, attrs[declared].type, value))
    return MVQuery(name, tuple(conds))


def _condition(attr: str, mv_type: str, value: str) -> Condition:
    if value == "":
        return Condition(attr, mv_type, None)
    if mv_type == "integer":
        try:
            return Condition(attr, mv_type, str(int(value.strip())))
        except ValueError:
            raise UserError(f"--where {attr}={value}: {attr} is an integer",
                            hint="give a whole number") from None  # fmt: skip
    if mv_type == "boolean":
        v = value.strip().lower()
        if v not in _TRUE | _FALSE:
            raise UserError(f"--where {attr}={value}: {attr} is a boolean", hint="give true or false")
        return Condition(attr, mv_type, "true" if v in _TRUE else "false")
    if mv_type == "datetime":
        try:  # as stored: ISO-8601 UTC ending in Z, so any spelling of the instant matches
            return Condition(attr, mv_type, norm_ci(to_stored(parse_datetime(value))))
        except ValueError:
            return Condition(attr, mv_type, norm_ci(value))
    if mv_type == "binary":
        return Condition(attr, mv_type, value, exact=True)
    return Condition(attr, mv_type, norm_ci(value))  # string; reference: the target's GUID, resolved later


def search_mv(store: SqliteStore, pb: Playbook, query: MVQuery, limit: int | None = DEFAULT_LIMIT,
              masking: Masking | None = None) -> SearchResult[MVHit]:  # fmt: skip
    """The first ``limit`` MV objects (None or 0: all) of ``query`` in creation order, and how many match."""
    conn = store.conn
    conn.create_function(_FOLD, 2, _fold, deterministic=True)
    keys: list[str | None] = []
    for c in query.conditions:
        key = c.key
        if c.type == "reference" and key is not None:
            row = conn.execute("SELECT id FROM mv WHERE guid = ?", (key,)).fetchone()  # no GUID index: a scan
            if row is None:
                return SearchResult([], 0, [f"no metaverse object has the GUID {key} (--where {c.attr}=…: "
                                            "a reference is searched by its target's GUID)"])
            key = str(row[0])  # references are stored as MV ids
        keys.append(key)
    synced = store.get_meta("rules_digest") == pb.rules_digest()
    indexed = _join_attrs(pb).get(query.mv_type, set()) if synced else set()
    where, params = _mv_where(query, keys, indexed)
    select = "SELECT id, guid, object_type, attrs {} ORDER BY id LIMIT ?"  # LIMIT -1: no limit
    rows = conn.execute(select.format(where), [*params, limit or -1]).fetchall()
    if not rows and indexed & {c.attr for c in query.conditions}:
        # the engine adds no rows for objects that predate a new join attribute: "none" is confirmed by a scan
        where, params = _mv_where(query, keys, set())
        rows = conn.execute(select.format(where), [*params, limit or -1]).fetchall()
    hits = _mv_hits(store, pb, rows, masking or Masking(pb))
    return SearchResult(hits, _total(conn, where, params, len(hits), limit))


def _mv_where(query: MVQuery, keys: list[str | None], indexed: set[str]) -> tuple[str, list[Any]]:
    """FROM and WHERE of a metaverse search; ``indexed``: the attributes to look up in the join index."""
    sql, params = ["object_type = ?"], [query.mv_type]
    for c, key in zip(query.conditions, keys):
        path = f'$."{c.attr}"'
        if key is None:
            sql.append("json_type(attrs, ?) IS NULL")
            params.append(path)
            continue
        if c.attr in indexed and not c.exact:
            sql.append("id IN (SELECT mv_id FROM mv_index WHERE mv_type = ? AND attr = ? AND value = ?)")
            params += [query.mv_type, c.attr, key]
        # with the index too: it gives candidates (its values are folded, and a stale row would match)
        test = "j.value = ?" if c.exact else f"{_FOLD}(j.value, j.type) = ?"
        sql.append(f"EXISTS (SELECT 1 FROM json_each(attrs, ?) AS j WHERE {test})")
        params += [path, key]
    return "FROM mv WHERE " + " AND ".join(sql), params


def _mv_hits(store: SqliteStore, pb: Playbook, rows: list[Any], masking: Masking) -> list[MVHit]:
    links: dict[int, list[LinkedCS]] = {}
    for chunk in _chunks([r[0] for r in rows]):
        q = (f"SELECT mv_id, connector, guid, dn, link_kind, link_rule FROM cs WHERE mv_id IN "
             f"({','.join('?' * len(chunk))}) ORDER BY connector, id")  # fmt: skip
        for mv_id, conn_name, guid, dn, link, rule in store.conn.execute(q, chunk):
            links.setdefault(mv_id, []).append(LinkedCS(conn_name, guid, masking.text(dn) or "", link, rule))
    decoded = [(r[0], r[1], r[2], _loads(r[3])) for r in rows]
    declared = {t: list(d.attributes) for t, d in pb.metaverse.items()}
    refs = {t: {n for n, a in d.attributes.items() if a.type == "reference"} for t, d in pb.metaverse.items()}
    targets = _ref_targets(store, {i for _, _, t, attrs in decoded for n in refs.get(t, set()) & attrs.keys()
                                   for i in _ids(attrs[n])})  # fmt: skip
    hits = []
    for mv_id, guid, otype, attrs in decoded:
        known = declared.get(otype, [])
        shown: dict[str, Any] = {}
        labels: dict[str, str] = {}
        for name in [*(n for n in known if n in attrs), *sorted(attrs.keys() - set(known))]:  # playbook order
            value = attrs[name]
            if name in refs.get(otype, ()):
                found = [targets.get(i, (None, None)) for i in _ids(value)]  # (None, None): a dangling id
                labels.update((g, label) for g, label in found if g is not None and label)
                value = [g for g, _ in found] if isinstance(value, list) else found[0][0] if found else None
            shown[name] = masking.value("", name, value)
        hits.append(MVHit(guid, otype, links.get(mv_id, []), shown, labels))
    return hits


def _ref_targets(store: SqliteStore, ids: set[int]) -> dict[int, tuple[str, str | None]]:
    """MV id -> (GUID, display name) of referenced objects, without loading them."""
    out: dict[int, tuple[str, str | None]] = {}
    for chunk in _chunks(sorted(ids)):
        marks = ",".join("?" * len(chunk))
        q = f"SELECT id, guid, json_extract(attrs, '$.displayName') FROM mv WHERE id IN ({marks})"
        out.update((i, (g, None if d is None else str(d))) for i, g, d in store.conn.execute(q, chunk))
    return out


def _join_attrs(pb: Playbook) -> dict[str, set[str]]:
    """MV type -> the attributes the join index holds: those of the enabled inbound rules' joins (as
    engine.rules.compile_rules gathers them, without compiling expressions). It holds them for the MV
    objects a synchronization wrote since the attribute became a join attribute: when a rule change makes
    one, objects whose values did not move get no rows, so the index may find fewer than a scan."""
    enabled = {n for n, c in pb.connectors.items() if c.enabled}
    out: dict[str, set[str]] = {}
    for rule in pb.sync_rules:
        if rule.enabled and rule.inbound and rule.connector in enabled:
            for group in rule.join:
                out.setdefault(rule.mv_type, set()).update(j.mv for j in group)
    return out


def _fold(value: Any, json_type: str) -> str | None:
    """A JSON value from json_each as norm_ci folds the stored value (SQLite gives booleans as 1 and 0)."""
    if json_type in ("true", "false"):
        return json_type
    return None if value is None else norm_ci(value)


# --------------------------------------------------------------------------------------------- rendering

CS_COLUMNS = ("DN", "TYPE", "ANCHOR", "LINK", "STATE")
MV_COLUMNS = ("GUID", "CONNECTORS", "ATTRIBUTES")


def cs_rows(result: SearchResult[CSHit], width: int = 60) -> list[tuple[str, ...]]:
    """Text table rows (values cut at ``width`` characters)."""
    return [(_cut(h.dn, 2 * width), h.object_type, _cut(h.anchor or "", width),
             f"{h.link} {h.mv_guid[:8]}" if h.mv_guid else "", h.state()) for h in result.hits]  # fmt: skip


def mv_rows(result: SearchResult[MVHit], width: int = 40) -> list[tuple[str, ...]]:
    rows: list[tuple[str, ...]] = []
    for h in result.hits:
        linked = ", ".join(f"{c.connector} ({c.link})" if c.link else c.connector for c in h.connectors)
        attrs = "; ".join(f"{k}={_cut(_show(v, h.labels), width)}" for k, v in h.attributes.items())
        rows.append((h.guid, linked, attrs))
    return rows


def summary(result: SearchResult[Any]) -> str:
    if not result.hits:
        return "no objects found"
    if result.more:
        return (f"showing {len(result.hits):,} of {result.total:,} objects: {result.more:,} more matched "
                "(raise --limit, or --limit 0 for all)")  # fmt: skip
    return f"{result.total:,} object{'s' if result.total != 1 else ''} found"


def _show(value: Any, labels: dict[str, str]) -> str:
    if isinstance(value, list):
        return ", ".join(_show(v, labels) for v in value)
    if value is None:
        return "(missing)"  # a reference to an object no longer in the metaverse
    if isinstance(value, bool):
        return "true" if value else "false"
    return labels.get(value, str(value)) if isinstance(value, str) else str(value)


def _cut(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def _with_names(text: str, names: Sequence[str]) -> str:
    return f"{text} ({', '.join(names)})" if names else text


def _loads(text: str | None) -> Any:
    return {} if text is None else orjson.loads(text)


def _ids(value: Any) -> list[int]:
    return [v for v in (value if isinstance(value, list) else [value]) if isinstance(v, int)]


def _chunks(values: Sequence[Any], size: int = 900) -> Iterable[Sequence[Any]]:
    for i in range(0, len(values), size):
        yield values[i : i + size]
