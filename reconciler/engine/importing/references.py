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

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.store = ctx.store
        self.new_placeholders: list[CSObject] = []
        # (connector, by, lookup key) -> cs id, for this run
        self.known: dict[tuple[str, str, str], int] = {}

    def remember(self, obj: CSObject) -> None:
        """An object of this batch is a possible target for references in the same batch."""
        assert obj.id is not None
        self.known[(obj.connector, "dn", obj.dn_norm)] = obj.id
        if obj.anchor is not None:
            self.known[(obj.connector, "anchor", obj.anchor)] = obj.id
        if obj.key_norm is not None:
            self.known[(obj.connector, "key", obj.key_norm)] = obj.id

    def resolve(self, pending: list[tuple[CSObject, dict[str, RefTarget]]]) -> dict[int, list[tuple[str, int]]]:
        """cs_ref rows for every object in ``pending`` (its old rows are replaced)."""
        wanted: dict[tuple[str, str], set[str]] = {}
        for obj, refs in pending:
            for attr, target in refs.items():
                for v in _values(obj.attrs.get(attr)):
                    k = lookup_key(target, v)
                    if (target.connector, target.by, k) not in self.known:
                        wanted.setdefault((target.connector, target.by), set()).add(k)
        for (connector, by), keys in wanted.items():
            column = {"dn": "dn_norm", "key": "key_norm", "anchor": "anchor"}[by]
            for k, cs_id in self.store.cs_ids_by(connector, column, keys).items():
                self.known[(connector, by, k)] = cs_id
        out: dict[int, list[tuple[str, int]]] = {}
        for obj, refs in pending:
            rows: list[tuple[str, int]] = []
            for attr, target in refs.items():
                for v in _values(obj.attrs.get(attr)):
                    k = lookup_key(target, v)
                    dst = self.known.get((target.connector, target.by, k))
                    if dst is None:
                        dst = self._placeholder(target, v, k)
                    rows.append((attr, dst))
            out[obj.id] = rows  # type: ignore[index]
        return out

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
        self.known[(target.connector, target.by, k)] = ph.id
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
        todo = {pn: p for pn, p in parents.items() if (connector, "dn", pn) not in self.known}
        if not todo:
            return
        found = self.store.cs_by_dns(connector, todo)
        for pn, parent in todo.items():
            if pn in found:
                self.known[(connector, "dn", pn)] = found[pn][0].id  # type: ignore[assignment]
            else:
                self._placeholder(RefTarget(connector, "dn"), parent, pn)


def _values(value: Any) -> list[str]:
    if value is None or value == "":
        return []
    if isinstance(value, list):
        return [str(v) for v in value if v not in (None, "")]
    return [str(value)]
