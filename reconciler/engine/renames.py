"""References across a rename: what a reference names when its target's DN changes.

- A reference can reach a DN before the object does: a referrer imported while the object still held
  its old DN (the system renamed it in between, or an export added the referrer before it sent the
  rename and the run stopped there) gets a placeholder for the new DN. When the object's DN becomes
  that DN, on import or on export, the references to the placeholder point at the object, whose
  referrers are synchronized again, and the placeholder goes: as a new object takes over a
  placeholder's row (``take_over_placeholders``).
- The other way round, a referrer whose text still names the old DN after an import finds the object
  renamed (a file, or a directory without referential integrity, keeps it) no longer reaches the
  object: its reference names what stands at the old DN, so synchronization exports the new DN
  (``stale_references``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from reconciler.engine.objects import PLACEHOLDER, CSObject, normalize_dn


def take_over_placeholders(store: Any, connector: str, renamed: Iterable[CSObject],
                           unsaved: Iterable[CSObject] = ()) -> set[int]:  # fmt: skip
    """Point the references to placeholders at the renamed objects' new DNs to the objects, and delete
    the placeholders; ``unsaved`` are placeholders of this batch not stored yet (the caller drops the
    ones whose ids come back)."""
    wanted = {normalize_dn(cs.dn): cs.id for cs in renamed if cs.id is not None}
    if not wanted:
        return set()
    moves: dict[int, int] = {}
    for norm, found in store.cs_by_dns(connector, list(wanted)).items():
        for ph in found:
            if ph.kind == PLACEHOLDER and ph.id is not None and ph.id != wanted[norm]:
                moves[ph.id] = wanted[norm]
    fresh = {ph.id for ph in unsaved if ph.connector == connector and ph.id is not None and ph.dn_norm in wanted}
    for ph in unsaved:
        if ph.id in fresh:
            moves[ph.id] = wanted[ph.dn_norm]  # type: ignore[index]
    if moves:
        store.mark_resync(store.referrers(moves))  # their references now reach an object with a link
        store.retarget_refs(moves)
        store.delete_cs([i for i in moves if i not in fresh])
    return fresh  # type: ignore[return-value]


def stale_references(store: Any, renamed: Iterable[tuple[CSObject, str]], by_dn: Callable[[str, str], bool],
                     current: dict[int, CSObject]) -> set[int]:  # fmt: skip
    """``renamed``: objects an import found under a new DN, each with its old DN. A reference whose text
    still names the old DN (a file, or a directory without referential integrity, keeps it) no longer
    reaches the object: it names what stands at the old DN now, a placeholder if nothing does, and its
    object is synchronized again, which exports the new DN. ``by_dn(connector, attr)``: whether that
    reference names its target by DN; ``current``: objects of the batch, newer than the store. Returns the
    metaverse objects of the referrers: their outbound flows are to be evaluated again."""
    old_of = {cs.id: (cs, old) for cs, old in renamed if cs.id is not None and normalize_dn(old) != cs.dn_norm}
    if not old_of:
        return set()
    rows = [r for r in store.refs_to(old_of) if r[0] not in old_of]
    srcs = {i: current[i] for i in {r[0] for r in rows} if i in current}
    srcs.update(store.cs_by_ids({r[0] for r in rows} - srcs.keys()))
    stands: dict[tuple[str, str], int] = {}  # (connector, old DN) -> what names it now
    moves: list[tuple[int, str, int, int]] = []
    for src, attr, dst in rows:
        referrer = srcs.get(src)
        target, old = old_of[dst]
        if referrer is None or not by_dn(referrer.connector, attr):
            continue
        value = referrer.attrs.get(attr)
        texts = {normalize_dn(v) for v in (value if isinstance(value, list) else [value]) if isinstance(v, str)}
        old_norm = normalize_dn(old)
        if old_norm not in texts or target.dn_norm in texts:
            continue
        where = (target.connector, old_norm)
        if where not in stands:
            stands[where] = _standing_at(store, target, old, old_norm)
        moves.append((src, attr, dst, stands[where]))
    if not moves:
        return set()
    store.retarget_ref_rows(moves)
    return {mv for m in moves if (mv := srcs[m[0]].mv_id) is not None}


def _standing_at(store: Any, renamed: CSObject, old: str, old_norm: str) -> int:
    """The object at a DN the renamed object left (another took it, or a placeholder made for it)."""
    for o in store.cs_by_dns(renamed.connector, [old_norm]).get(old_norm, []):
        if o.id is not None and o.id != renamed.id:
            return int(o.id)
    ph = CSObject(connector=renamed.connector, object_type="", dn=old, kind=PLACEHOLDER)
    ph.id = store.new_cs_ids(1)[0]
    store.save_cs([ph], new=True)
    return int(ph.id)
