"""Join lookups: MV objects by the values of the MV attributes that join rules use.

The index lives in the store (``mv_index``, values casefolded); a full sync
preloads it per (MV type, attribute) and keeps it current in memory, a delta
sync asks the store per object. Changes made during a batch are visible to the
next lookup at once (an overlay) and written when the batch is flushed.
"""

from __future__ import annotations

import json
from typing import Any

from reconciler.engine.objects import MVObject
from reconciler.engine.rules import CompiledJoin, CompiledRule
from reconciler.engine.values import norm_ci
from reconciler.store.base import StateStore


def index_values(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, list):
        return [norm_ci(v) for v in value if v is not None]
    return [norm_ci(value)]


INDEXED_KEY = "join_index_attributes"  # meta: the MV attributes, per type, the join index holds


def ensure_index(store: StateStore, join_attrs: dict[str, set[str]], batch: int) -> None:
    """Build the join index again when the rules join on other attributes than it holds. It is kept
    up to date as MV objects change, so an object whose values a sync leaves alone would otherwise
    never be indexed under an attribute a new join rule uses, and that join would miss it."""
    want = json.dumps({t: sorted(a) for t, a in sorted(join_attrs.items()) if a})
    if store.get_meta(INDEXED_KEY) == want:
        return
    store.index_clear()
    index = JoinIndex(store, join_attrs, preload=False)
    for objs in store.iter_mv(None, batch):
        entries = {mv.id: index.entries_for(mv) for mv in objs if mv.id is not None}
        store.index_set({i: e for i, e in entries.items() if e}, unindexed=entries)
    store.set_meta(INDEXED_KEY, want)
    store.commit()  # with the rows: a run killed before this builds it again


class JoinIndex:
    def __init__(self, store: StateStore, join_attrs: dict[str, set[str]], preload: bool) -> None:
        self.store = store
        self.join_attrs = join_attrs
        self.preload = preload
        self._mem: dict[tuple[str, str], Table] = {}
        self._pending: dict[int, list[tuple[str, str, str]]] = {}  # to write
        self._unindexed: set[int] = set()  # of those, the ones with no rows in the store yet

    def _table(self, mv_type: str, attr: str) -> Table:
        key = (mv_type, attr)
        table = self._mem.get(key)
        if table is None:
            table = {}
            if self.preload:
                for value, ids in self.store.index_load(mv_type, attr).items():
                    for i in ids:
                        _add(table, value, i)
            self._mem[key] = table
        return table

    def lookup(self, mv_type: str, attr: str, value: str) -> set[int]:
        if self.preload:
            found = self._table(mv_type, attr).get(value)
            if found is None:
                return set()
            return {found} if isinstance(found, int) else set(found)
        found = set(self.store.index_lookup(mv_type, attr, [value]).get(value, ()))
        # the overlay: objects changed in this batch answer from their current entries
        found -= self._pending.keys()
        for mv_id, rows in self._pending.items():
            if (mv_type, attr, value) in rows:
                found.add(mv_id)
        return found

    def entries_for(self, mv: MVObject) -> list[tuple[str, str, str]]:
        attrs = self.join_attrs.get(mv.object_type, ())
        return [(mv.object_type, a, v) for a in sorted(attrs) for v in index_values(mv.attrs.get(a))]

    def update(self, mv: MVObject, old: list[tuple[str, str, str]] | None) -> None:
        """Record ``mv``'s current entries; ``old`` are the ones the store holds (None: compute unknown)."""
        assert mv.id is not None
        new = self.entries_for(mv)
        if old is not None and old == new:
            return
        if self.preload:
            for t, a, v in old or ():
                _discard(self._mem.get((t, a)), v, mv.id)
            for t, a, v in new:
                _add(self._table(t, a), v, mv.id)
        if old == [] and mv.id not in self._pending:
            self._unindexed.add(mv.id)  # nothing to delete first (a projected object)
        self._pending[mv.id] = new

    def remove(self, mv_id: int, old: list[tuple[str, str, str]]) -> None:
        if self.preload:
            for t, a, v in old:
                _discard(self._mem.get((t, a)), v, mv_id)
        self._pending[mv_id] = []
        self._unindexed.discard(mv_id)

    def flush(self) -> None:
        if self._pending:
            self.store.index_set(self._pending, self._unindexed)
            self._pending = {}
            self._unindexed = set()


# A preloaded table maps a value to one MV id (nearly always) or to a set of them: a million
# one-element sets would cost a few hundred megabytes.
Table = dict[str, "int | set[int]"]


def _add(table: Table, value: str, mv_id: int) -> None:
    found = table.get(value)
    if found is None:
        table[value] = mv_id
    elif isinstance(found, int):
        if found != mv_id:
            table[value] = {found, mv_id}
    else:
        found.add(mv_id)


def _discard(table: Table | None, value: str, mv_id: int) -> None:
    if table is None:
        return
    found = table.get(value)
    if found is None:
        return
    if isinstance(found, int):
        if found == mv_id:
            del table[value]
        return
    found.discard(mv_id)
    if len(found) == 1:
        table[value] = next(iter(found))
    elif not found:
        del table[value]


def join_candidates(index: JoinIndex, rule: CompiledRule, group: list[CompiledJoin],
                    attrs: dict[str, Any]) -> set[int] | None:  # fmt: skip
    """MV objects matching every condition of one join group; None when a CS value is missing."""
    result: set[int] | None = None
    for cond in group:
        value = cond.value(attrs)
        values = index_values(value)
        if not values:
            return None
        found: set[int] = set()
        for v in values:
            found |= index.lookup(rule.rule.mv_type, cond.mv, v)
        result = found if result is None else result & found
        if not result:
            return set()
    return result


def exact_match(group: list[CompiledJoin], attrs: dict[str, Any], mv: MVObject) -> bool:
    """Re-check case-sensitive conditions against the MV object's own values."""
    for cond in group:
        if not cond.case_sensitive:
            continue
        cs_vals = cond.value(attrs)
        cs_set = {str(v) for v in (cs_vals if isinstance(cs_vals, list) else [cs_vals]) if v is not None}
        mv_vals = mv.attrs.get(cond.mv)
        mv_set = {str(v) for v in (mv_vals if isinstance(mv_vals, list) else [mv_vals]) if v is not None}
        if not cs_set & mv_set:
            return False
    return True
