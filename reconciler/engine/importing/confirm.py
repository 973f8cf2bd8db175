"""The confirming import's light path: an object whose imported values are exactly its export memory.

Right after an export every object holds export memory, so the skip of unchanged objects does not
apply to it. When every entry of that memory is confirmed and nothing else changed, the import would
rewrite only the object's attributes, hash, key, export memory and export state: this module decides
that from the light row of ``cs_import_rows`` (no whole object is loaded), and the store writes only
those columns. Anything else (a value that differs, a pending import, a rename) takes the full path,
which flags unconfirmed values.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

from reconciler.connectors.base import ImportedObject
from reconciler.engine.objects import EXPORTED, IN_FLIGHT, NORMAL, CSObject
from reconciler.engine.values import same
from reconciler.store.rows import ImportRow, loads


@dataclass(slots=True)
class LightConfirm:
    """A confirmed object: ``cs`` holds only what the light write needs (never saved whole)."""

    cs: CSObject
    update: bool  # False: the content hash is the stored one, so only export memory changes


def light_confirm(
    connector: str, obj: ImportedObject, row: ImportRow, attrs: dict[str, Any], digest: str,
    key_norm: str | None, write_only: Collection[str], refs: Mapping[str, Any],
) -> LightConfirm | None:  # fmt: skip
    """What ImportStage._batch would do with this object matched by anchor, when that is a light write;
    None when it needs the full path."""
    cs_id, old_hash, kind, object_type, dn, _, pending_import, import_error, export_state, old_text, mem_text = row
    if (kind != NORMAL or object_type != obj.object_type or dn != obj.dn or pending_import is not None
            or import_error is not None or mem_text is None):  # fmt: skip
        return None
    memory = loads(mem_text)
    if not memory:
        return None  # an empty memory is not compared at all
    confirmed: set[str] = set()
    kept: dict[str, Any] = {}
    # the comparison of ImportStage._confirm, except that a difference sends the object the full way
    for attr, entry in memory.items():
        if attr in write_only:
            continue
        if attr in refs and "v" not in entry:
            kept[attr] = entry
            continue
        v = entry.get("v")
        # equal non-empty text is the same value (values.same, without its conversions)
        if not ((v.__class__ is str and v and v == attrs.get(attr)) or same(v, attrs.get(attr))):
            return None
        confirmed.add(attr)
    memory = kept
    # positional, in CSObject's field order (a confirming import of 100,000 makes as many)
    cs = CSObject(connector, obj.object_type, obj.dn, cs_id, "", obj.anchor, key_norm, NORMAL, attrs, digest, None,
                  None, None, memory or None, export_state)  # fmt: skip
    if old_hash == digest:
        return LightConfirm(cs, False)
    if not confirmed:
        return None
    old = loads(old_text)
    if any(old.get(k) != attrs.get(k) for k in (old.keys() | attrs.keys()) - confirmed):
        return None  # a change the system made besides what we exported: synchronization must see it
    if export_state == IN_FLIGHT:
        cs.export_state = EXPORTED
    return LightConfirm(cs, True)
