"""Imported references: resolve each value to a CS object, creating placeholders for the missing ones.

A reference is stored as a link from the referring CS object to the CS object
it names (``cs_ref``). When the target is not (yet) imported a placeholder
stands for it; the real object takes the placeholder's place (same row) when
it arrives, so links made earlier stay valid.
"""

from __future__ import annotations

from typing import Any

from reconciler.engine.context import Context, RefTarget
from reconciler.engine.objects import PLACEHOLDER, CSObject, normalize_dn


def lookup_key(target: RefTarget, value: str) -> str:
    if target.by == "dn":
        return normalize_dn(value)
    if target.by == "key":
        return value.casefold()
    return value


class ReferenceResolver:
    """Resolves the reference values of one batch, reusing placeholders made earlier in the run."""

    def __init__(self, ctx: Context, importing: str | None = None) -> None:
        self.ctx = ctx
        self.importing = importing  # the connector being imported
        self.store = ctx.store
        self.new_placeholders: list[CSObject] = []
        # (connector, by) -> lookup key -> cs id, for this batch (one map per target: no tuple per value)
        self.known: dict[tuple[str, str], dict[str, int]] = {}
        self._own: dict[str, tuple[dict[str, int], dict[str, int], dict[str, int]]] = {}  # remember's maps
        # another connector's maps, read whole once a batch names a good share of its objects (a full
        # import of groups names most people): kept for the run, as nothing this import does changes
        # that connector but the placeholders it adds, which go into the map too
        self.whole: set[tuple[str, str]] = set()
        self._sizes: dict[str, int] = {}

    def _map(self, connector: str, by: str) -> dict[str, int]:
        found = self.known.get((connector, by))
        if found is None:
            found = self.known[(connector, by)] = {}
        return found

    def forget(self) -> None:
        """The batch is stored: later batches find its objects in the store."""
        kept = {where: self.known[where] for where in self.whole}
        self.known.clear()
        self.known.update(kept)
        self._own.clear()

    def remember(self, obj: CSObject) -> None:
        """An object of this batch is a possible target for references in the same batch."""
        assert obj.id is not None
        c = obj.connector
        maps = self._own.get(c)
        if maps is None:
            maps = self._own[c] = (self._map(c, "dn"), self._map(c, "anchor"), self._map(c, "key"))
        by_dn, by_anchor, by_key = maps
        by_dn[obj.dn_norm] = obj.id
        if obj.anchor is not None:
            by_anchor[obj.anchor] = obj.id
        if obj.key_norm is not None:
            by_key[obj.key_norm] = obj.id

    def resolve(self, pending: list[tuple[CSObject, dict[str, RefTarget]]]) -> dict[int, list[tuple[str, int]]]:
        """cs_ref rows for every object in ``pending`` (its old rows are replaced)."""
        wanted: dict[tuple[str, str], set[str]] = {}
        todo: list[tuple[int, list[tuple[str, RefTarget, list[str], list[str]]]]] = []
        maps: dict[tuple[str, str], dict[str, int]] = {}  # the targets' maps, found once a batch
        for obj, refs in pending:
            items = []
            attrs = obj.attrs
            for attr, target in refs.items():
                values = _values(attrs.get(attr))
                if not values:
                    continue
                by = target.by
                keys = [v.casefold() for v in values] if by == "key" else [lookup_key(target, v) for v in values]
                where = (target.connector, by)
                known = maps.get(where)
                if known is None:
                    known = maps[where] = self._map(target.connector, by)
                missing = [k for k in keys if k not in known]
                if missing:
                    wanted.setdefault(where, set()).update(missing)
                items.append((attr, target, values, keys))
            todo.append((obj.id, items))  # type: ignore[arg-type]
        for (connector, by), wanted_keys in wanted.items():
            if (connector, by) in self.whole:
                continue  # not there: a placeholder below
            column = {"dn": "dn_norm", "key": "key_norm", "anchor": "anchor"}[by]
            if self._read_whole(connector, len(wanted_keys)):
                known = self._map(connector, by)
                found = self.store.cs_ids_all(connector, column)
                found.update(known)  # this batch's own, not stored yet
                known.clear()
                known.update(found)
                self.whole.add((connector, by))
            else:
                self._map(connector, by).update(self.store.cs_ids_by(connector, column, wanted_keys))
        out: dict[int, list[tuple[str, int]]] = {}
        for obj_id, items in todo:
            rows: list[tuple[str, int]] = []
            for attr, target, values, keys in items:
                known = maps[(target.connector, target.by)]
                for v, k in zip(values, keys):
                    dst = known.get(k)
                    if dst is None:
                        dst = self._placeholder(target, v, k)
                    rows.append((attr, dst))
            out[obj_id] = rows
        return out

    def deleted(self, connector: str) -> None:
        """Placeholders of ``connector`` were deleted: its maps read whole no longer hold, and are dropped
        (later batches look their values up again)."""
        for where in [w for w in self.whole if w[0] == connector]:
            self.whole.discard(where)
            self.known.pop(where, None)
        self._own.pop(connector, None)

    def _read_whole(self, connector: str, wanted: int) -> bool:
        """Whether to read another connector's map whole: when this batch alone names at least one in
        twenty of its objects, a walk of one index costs less than looking each value up (at a million
        people, two million group members took six seconds of lookups, the walk one). A delta names few."""
        if connector == self.importing:
            return False  # this import's own objects change as it runs
        size = self._sizes.get(connector)
        if size is None:
            size = self._sizes[connector] = self.store.count_cs(connector)
        return wanted * 20 >= size

    def _placeholder(self, target: RefTarget, value: str, k: str) -> int:
        if target.by == "key":
            dn = f"{target.key}={value}"
            ph = CSObject(connector=target.connector, object_type="", dn=dn, key_norm=k, kind=PLACEHOLDER)
        elif target.by == "anchor":
            ph = CSObject(connector=target.connector, object_type="", dn=value, anchor=value, kind=PLACEHOLDER)
        else:
            ph = CSObject(connector=target.connector, object_type="", dn=value, kind=PLACEHOLDER)
        ph.id = self.store.new_cs_ids(1)[0]
        self.new_placeholders.append(ph)
        self.remember(ph)
        self._map(target.connector, target.by)[k] = ph.id
        return ph.id

    def parent_placeholders(self, connector: str, dns: list[str], base: str | None) -> None:
        """Placeholders for missing parents of hierarchical DNs, up to the connector's base DN."""
        base_norm = normalize_dn(base) if base else None
        parents: dict[str, str] = {}
        for dn in dns:
            parts = dn.split(",")
            for i in range(1, len(parts) - 1):
                parent = ",".join(parts[i:])
                pn = normalize_dn(parent)
                if base_norm is not None and (pn == base_norm or not pn.endswith(base_norm)):
                    break
                parents.setdefault(pn, parent)
        known = self._map(connector, "dn")
        todo = {pn: p for pn, p in parents.items() if pn not in known}
        if not todo:
            return
        found = self.store.cs_by_dns(connector, todo)
        for pn, parent in todo.items():
            if pn in found:
                known[pn] = found[pn][0].id  # type: ignore[assignment]
            else:
                self._placeholder(RefTarget(connector, "dn"), parent, pn)


def _values(value: Any) -> list[str]:
    if type(value) is str:  # one text value, mostly
        return [value] if value else []
    if value is None or value == "":
        return []
    if isinstance(value, list):
        return [str(v) for v in value if v not in (None, "")]
    return [str(value)]
