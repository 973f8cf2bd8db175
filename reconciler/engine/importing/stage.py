"""The import stage: stage what a connected system holds in its connector space.

Each incoming object is matched by anchor, then by DN (then a placeholder by
key), and staged with a pending import (add, update, delete, delete-add); an
unchanged object (same content hash) costs a dictionary lookup. A full import
finds vanished objects. Imported values confirm export memory; values an
import did not show become unconfirmed, and the object's metaverse object is
marked so the next sync stages them again. Work is committed in batches.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from typing import Any

import orjson

import reconciler.playbook  # noqa: F401 - first: playbook and connectors.base import each other
from reconciler.connectors.base import ImportedObject
from reconciler.engine.context import Context
from reconciler.engine.idset import IdSet
from reconciler.engine.importing.confirm import LightConfirm, light_confirm
from reconciler.engine.importing.references import ReferenceResolver
from reconciler.engine.objects import (
    AWAITING,
    IN_FLIGHT,
    NORMAL,
    PLACEHOLDER,
    TRANSIENT,
    UNCONFIRMED,
    CSObject,
    new_guid,
    normalize_dn,
)
from reconciler.engine.renames import stale_references, take_over_placeholders
from reconciler.engine.runs import COMPLETED_IMPORT_ERRORS, STOPPED_CONNECTIVITY, RunResult, now_iso
from reconciler.engine.values import same, to_stored
from reconciler.errors import ConnectorError
from reconciler.plan.model import ImportSummary
from reconciler.store.rows import ImportRow


def content_hash(obj: ImportedObject, attrs: dict[str, Any]) -> str:
    try:
        data = orjson.dumps([obj.object_type, obj.dn, attrs], option=orjson.OPT_SORT_KEYS, default=str)
    except orjson.JSONEncodeError:  # integers past 64 bits
        data = json.dumps([obj.object_type, obj.dn, attrs], sort_keys=True, separators=(",", ":"),
                          default=str).encode()  # fmt: skip
    return hashlib.blake2b(data, digest_size=16).hexdigest()


class ImportStage:
    def __init__(self, ctx: Context, name: str) -> None:
        self.ctx = ctx
        self.store: Any = ctx.store  # the SQLite store: its light reads and writes are not in StateStore
        self.name = name
        self.config = ctx.config(name)
        self.connector = ctx.connector(name)
        caps = self.connector.capabilities
        self.write_only = caps.write_only
        self.hierarchical = caps.hierarchical
        self.refs = ctx.ref_attrs(name)
        self.key_attr = ctx.key_attr(name)
        self.resolver = ReferenceResolver(ctx, name)
        # which attributes an import changed tells an out-of-band edit in a system the rules write to; a
        # source the rules only read never needs it (a million people held it, unread, in every row)
        self.tracks_changes = name in ctx.rules.outbound_connectors
        self.seen = IdSet()  # ids of the objects this import saw (a bitmap: a million cost 125 kB)
        self.seen_anchors: set[str] = set()
        self.dirty_mv: set[int] = set()
        self.summary = ImportSummary(connector=name)

    # ----------------------------------------------------------- run
    def run(self, full: bool | None) -> RunResult:
        state = self.store.connector_state(self.name)
        if full is None:
            full = not state["imported"] or state["full_scan_next_run"]
        result = RunResult(self.name, "full-import" if full else "delta-import")
        result.object_type = self.config.object_type or ",".join(self.config.object_types) or None
        self.result = result
        try:
            imp = self.connector.full_import() if full else self.connector.delta_import(state["watermark"])
            is_full = imp.full
            batch: list[ImportedObject] = []
            # a batch also ends after so many reference values: ten thousand groups of two hundred
            # members each in one batch held two million references in memory at once
            ref_attrs = list(self.refs)
            max_refs = self.ctx.batch * 10
            refs = 0
            for obj in imp.objects:
                batch.append(obj)
                if ref_attrs:
                    attrs = obj.attributes
                    for a in ref_attrs:
                        v = attrs.get(a)
                        if type(v) is list:
                            refs += len(v)
                if len(batch) >= self.ctx.batch or refs >= max_refs:
                    self._batch(batch, is_full)
                    batch = []
                    refs = 0
            if batch:
                self._batch(batch, is_full)
        except ConnectorError as exc:
            self.store.commit()
            result.status = STOPPED_CONNECTIVITY
            result.error(self.name, exc.one_line(), kind="connector")
            result.messages.append(exc.one_line())
            return self._finish(result)
        if imp.note:
            self.result.messages.append(imp.note)  # a delta served as a full import says why
        if is_full:
            self._vanished()
        self.store.set_connector_state(
            self.name, watermark=imp.watermark, imported=True, full_scan_next_run=False
        )
        result.profile = "full-import" if is_full else "delta-import"
        self.summary.full = is_full
        return self._finish(result)

    def _finish(self, result: RunResult) -> RunResult:
        if self.dirty_mv:
            self.store.set_mv_dirty(self.dirty_mv, True)
        if result.errors and result.status == "success":
            result.status = COMPLETED_IMPORT_ERRORS
        result.end = now_iso()
        result.history_id = self.store.add_history(result.row())
        self.store.commit()
        s = self.summary
        s.added, s.updated, s.deleted, s.errors = result.added, result.changed, result.deleted, result.errors
        s.messages = [m for m in result.messages if m not in {e.error for e in result.error_list}][:5] + [
            e.error for e in result.error_list[:20]]
        return result

    # ----------------------------------------------------------- batches
    def _unchanged(self, objs: list[ImportedObject], rows: dict[str, ImportRow]) -> list[ImportedObject]:
        """Drop the objects whose stored copy has the same content and nothing waiting on it (no
        export memory to confirm, no error to clear), reading a few columns instead of whole objects:
        what makes a delta cost what changed."""
        if not rows:
            return objs
        rest = []
        seen, seen_anchors = self.seen, self.seen_anchors
        for obj in objs:
            row = rows.get(obj.anchor) if obj.anchor is not None else None
            if row is not None and obj.error is None and obj.change != "delete" and obj.anchor not in seen_anchors:
                cs_id, digest, kind, object_type, dn, busy = row[:6]
                if not busy and kind == NORMAL and object_type == obj.object_type and dn == obj.dn:
                    mine = getattr(obj, "content_hash", None) or content_hash(obj, _stored_attrs(obj))
                    if mine == digest:
                        self.result.total += 1
                        seen.add(cs_id)
                        seen_anchors.add(obj.anchor)  # type: ignore[arg-type]
                        continue
            rest.append(obj)
        return rest

    def _light(self, objs: list[ImportedObject], rows: dict[str, ImportRow], dups: set[str]
               ) -> dict[str, LightConfirm]:  # fmt: skip
        """The objects a confirming import writes lightly (see confirm.py), by anchor: matched by an anchor
        that one stored object and one record of this batch hold."""
        if self.ctx.mutation == "ignore-export-memory" or not any(r[10] is not None for r in rows.values()):
            return {}
        counts = Counter(o.anchor for o in objs)
        out: dict[str, LightConfirm] = {}
        for obj in objs:
            a = obj.anchor
            if a is None or obj.error is not None or obj.change == "delete" or counts[a] != 1:
                continue
            row = rows.get(a)
            if row is None or row[10] is None or a in dups or a in self.seen_anchors:
                continue
            attrs = _stored_attrs(obj)
            digest = getattr(obj, "content_hash", None) or content_hash(obj, attrs)
            key_norm = _key_of(attrs, self.key_attr) if self.key_attr else None
            lc = light_confirm(self.name, obj, row, attrs, digest, key_norm, self.write_only, self.refs)
            if lc is not None:
                out[a] = lc
        return out

    def _batch(self, objs: list[ImportedObject], full: bool) -> None:
        store = self.store
        rows, dups = store.cs_import_rows(self.name, [o.anchor for o in objs if o.anchor is not None])
        objs = self._unchanged(objs, rows)
        light = self._light(objs, rows, dups)
        # an anchor no stored object holds needs no lookup (an import into an empty space looks up none)
        anchors = [a for o in objs if (a := o.anchor) is not None and a in rows and a not in light]
        by_anchor = store.cs_by_anchors(self.name, anchors) if anchors else {}
        # each object's normalized DN and key, worked out once for the lookups here and the matching below
        norms = [normalize_dn(o.dn) if o.dn and (o.anchor is None or (
            o.anchor not in by_anchor and o.anchor not in light)) else None for o in objs]  # fmt: skip
        need_dn = [n for n in norms if n is not None]
        by_dn = store.cs_by_dns(self.name, need_dn) if need_dn else {}
        by_key: dict[str, CSObject] = {}
        key_attr = self.key_attr
        keys = [_key_of(o.attributes, key_attr) if key_attr and (o.anchor is None or o.anchor not in light) else None
                for o in objs]  # fmt: skip
        if key_attr:
            by_key = store.cs_by_keys(self.name, [k for k in keys if k is not None], placeholders=True)
        new: list[CSObject] = []
        new_ids: set[int] = set()  # objects created in this batch
        changed: dict[int, CSObject] = {}
        deleted_ids: list[int] = []
        ref_pending = []
        confirmed_light: list[CSObject] = []
        memory_light: list[CSObject] = []
        renamed: list[tuple[CSObject, str]] = []  # stored objects this batch renamed, with their old DNs
        self.result.total += len(objs)
        for i, obj in enumerate(objs):
            lc = light.get(obj.anchor) if light and obj.anchor is not None else None  # type: ignore[arg-type]
            if lc is not None:
                # what the full path below does with this object, without loading it (confirm.py)
                assert lc.cs.id is not None
                self.seen_anchors.add(obj.anchor)  # type: ignore[arg-type]
                self.seen.add(lc.cs.id)
                changed.pop(lc.cs.id, None)  # the full path would write the copy matched by anchor over it
                if lc.update:
                    confirmed_light.append(lc.cs)
                    ref_pending.append(lc.cs)
                    self.resolver.remember(lc.cs)
                else:
                    memory_light.append(lc.cs)
                continue
            if obj.error is not None:
                self._object_error(obj, by_anchor, changed)
                continue
            if obj.anchor is not None and obj.anchor in self.seen_anchors and obj.change != "delete":
                self.result.error(obj.dn, f"duplicate anchor {obj.anchor}", anchor=obj.anchor, kind="import-error")
                continue
            if obj.anchor is not None:
                self.seen_anchors.add(obj.anchor)
            cs = self._match(obj, by_anchor, by_dn, by_key, changed, deleted_ids, norms[i], keys[i])
            if obj.change == "delete":
                if cs is not None and cs.kind != PLACEHOLDER:
                    assert cs.id is not None
                    self.seen.add(cs.id)
                    cs.pending_import = "delete"
                    changed[cs.id] = cs
                    self.result.deleted += 1
                continue
            attrs = _stored_attrs(obj)
            digest = getattr(obj, "content_hash", None) or content_hash(obj, attrs)
            key_norm = _key_of(attrs, self.key_attr) if self.key_attr else None
            if cs is None:
                cid = store.new_cs_ids(1)[0]
                cs = CSObject(self.name, obj.object_type, obj.dn, cid, new_guid(), obj.anchor, key_norm, NORMAL, attrs,
                              digest, "add", sorted(attrs) if self.tracks_changes else None)  # fmt: skip
                self.seen.add(cid)
                new.append(cs)
                new_ids.add(cid)
                self.result.added += 1
                ref_pending.append(cs)
            else:
                assert cs.id is not None
                self.seen.add(cs.id)
                if cs.import_error is not None:
                    cs.import_error = None
                    changed[cs.id] = cs
                confirmed: set[str] = set()
                if cs.export_memory and self.ctx.mutation != "ignore-export-memory":
                    confirmed = self._confirm(cs, attrs)
                    changed[cs.id] = cs
                if cs.kind == NORMAL and cs.dn != obj.dn:
                    renamed.append((cs, cs.dn))  # renamed in the system: a placeholder may stand at its new DN
                if cs.hash == digest and cs.kind == NORMAL and cs.object_type == obj.object_type and (
                    cs.pending_import != "delete"
                ):
                    if cs.dn != obj.dn:
                        cs.dn = obj.dn
                        changed[cs.id] = cs
                    continue
                self._update(cs, obj, attrs, digest, key_norm, confirmed)
                changed[cs.id] = cs
                ref_pending.append(cs)
            self.resolver.remember(cs)
        # references, then parents of hierarchical DNs
        if self.refs and ref_pending:
            refs = self.resolver.resolve([(o, self.refs) for o in ref_pending])
            old = store.refs_of([i for i in refs if i not in new_ids])  # a new object has none
            if self.ctx.uses_membership:
                # ISMEMBEROF scopes: members that join or leave a group are evaluated again
                moved = {d for rows in (*old.values(), *refs.values()) for _, d in rows}
                store.mark_resync(moved)
            # rewrite only the objects whose references changed (a group's other attributes often do alone)
            store.set_refs({src: r for src, r in refs.items() if src in old and sorted(r) != sorted(old[src])})
            store.add_refs({src: r for src, r in refs.items() if src not in old and r})  # no rows to delete
            dropped = {d for rows in old.values() for _, d in rows} - {d for rows in refs.values() for _, d in rows}
            if dropped:
                # placeholders nothing names any more are not kept
                orphans = [i for i, o in store.cs_by_ids(dropped).items() if o.kind == PLACEHOLDER]
                orphans = [i for i in orphans if i not in changed and i not in self.seen and not store.referrers([i])]
                if orphans:
                    store.delete_cs(orphans)
                    for c in {t.connector for t in self.refs.values()}:
                        self.resolver.deleted(c)
        if renamed:
            self._take_over_placeholders(renamed, {**{o.id: o for o in new if o.id is not None}, **changed})
        if self.hierarchical and new:
            self.resolver.parent_placeholders(self.name, [o.dn for o in new], self.config.option("base_dn"))
        if self.resolver.new_placeholders:
            store.save_cs(self.resolver.new_placeholders, new=True)
            self.resolver.new_placeholders = []
        if deleted_ids:
            store.delete_cs(deleted_ids)
        store.save_cs(new, new=True)
        store.save_cs(changed.values())
        if confirmed_light or memory_light:
            store.save_cs_confirmed(confirmed_light, memory_light)
        if self.dirty_mv:
            store.set_mv_dirty(self.dirty_mv, True)
            self.dirty_mv = set()
        store.commit()
        # what later batches name is in the store now: a run-long map would hold every object
        self.resolver.forget()
        self.ctx.report(f"import {self.name}", self.result.total, None)
        self.ctx.crash.boundary("import")

    def _match(
        self,
        obj: ImportedObject,
        by_anchor: dict[str, CSObject],
        by_dn: dict[str, list[CSObject]],
        by_key: dict[str, CSObject],
        changed: dict[int, CSObject],
        deleted_ids: list[int],
        dn_norm: str | None,
        key: str | None,
    ) -> CSObject | None:
        """The stored object a record is: by anchor, else by DN, else a placeholder by key (``dn_norm`` and
        ``key``: the record's normalized DN and key, as _batch worked them out)."""
        if obj.anchor is not None:
            cs = by_anchor.get(obj.anchor)
            if cs is not None:
                return cs
        for cs in by_dn.get(dn_norm, []) if dn_norm else []:
            assert cs.id is not None
            if cs.id in self.seen or cs.kind == TRANSIENT:
                continue
            if cs.kind == PLACEHOLDER:
                return cs
            if obj.change == "delete":
                return cs
            if cs.anchor is None:
                if cs.export_state is not None:
                    return cs  # an add we exported (or sent) whose anchor we never learnt: it is ours
                # never exported: drop the export object, its MV object provisions again next sync
                deleted_ids.append(cs.id)
                by_dn[dn_norm] = [o for o in by_dn[dn_norm] if o.id != cs.id]  # type: ignore[index]
                if cs.mv_id is not None:
                    self.dirty_mv.add(cs.mv_id)
                continue
            # anchored under another anchor: renamed or deleted in the system; park it as transient
            cs.kind = TRANSIENT
            cs.dn = f"{cs.dn}#transient-{cs.guid}"
            changed[cs.id] = cs
            continue
        if key is not None and key in by_key and by_key[key].id not in self.seen:
            return by_key.pop(key)
        return None

    def _take_over_placeholders(self, renamed: list[tuple[CSObject, str]], current: dict[int, CSObject]) -> None:
        """Objects renamed onto DNs placeholders stand for take their places, and references that still
        name their old DNs name those now (see engine.renames)."""
        resolver = self.resolver
        objs = [cs for cs, _ in renamed]
        taken = take_over_placeholders(self.store, self.name, objs, resolver.new_placeholders)
        resolver.new_placeholders = [p for p in resolver.new_placeholders if p.id not in taken]
        for cs in objs:
            resolver.remember(cs)  # under its new DN, for the rest of the batch
        refs_by_dn = self.ctx.ref_attrs
        self.dirty_mv |= stale_references(
            self.store, renamed, lambda c, a: (t := refs_by_dn(c).get(a)) is not None and t.by == "dn", current)

    def _update(self, cs: CSObject, obj: ImportedObject, attrs: dict[str, Any], digest: str,
                key_norm: str | None, confirmed: set[str]) -> None:  # fmt: skip
        old = cs.attrs
        names = {k for k in set(old) | set(attrs) if old.get(k) != attrs.get(k)}
        if (confirmed and names <= confirmed and cs.kind == NORMAL and cs.object_type == obj.object_type
                and cs.pending_import is None and cs.dn == obj.dn):
            # the import shows exactly what we exported: nothing new for synchronization
            cs.attrs, cs.hash, cs.key_norm = attrs, digest, key_norm
            if obj.anchor is not None:
                cs.anchor = obj.anchor
            if cs.export_state == IN_FLIGHT:
                cs.export_state = "exported"
            return
        was_placeholder = cs.kind == PLACEHOLDER
        if was_placeholder:
            cs.pending_import = "add"
            self.result.added += 1
        elif cs.object_type != obj.object_type:
            cs.pending_import = "delete-add"
            self.result.changed += 1
        elif cs.pending_import in ("add", "delete-add"):
            self.result.changed += 1
        else:
            cs.pending_import = "update"
            self.result.changed += 1
        names -= confirmed  # what we exported coming back is not a change made in the system
        if not self.tracks_changes:
            cs.pi_attrs = None
        else:
            cs.pi_attrs = sorted(set(cs.pi_attrs or ()) | names) if cs.pending_import else sorted(names)
        cs.kind = NORMAL
        cs.object_type = obj.object_type
        cs.dn = obj.dn
        if obj.anchor is not None:
            cs.anchor = obj.anchor
        cs.attrs = attrs
        cs.hash = digest
        cs.key_norm = key_norm
        if cs.export_state == IN_FLIGHT:
            cs.export_state = "exported"

    def _confirm(self, cs: CSObject, attrs: dict[str, Any]) -> set[str]:
        """Compare imported values with export memory: confirm equal ones, flag the others;
        return the names confirmed."""
        memory = cs.export_memory or {}
        refs = self.refs
        unconfirmed = False
        confirmed: set[str] = set()
        for attr in list(memory):
            if attr in self.write_only:
                del memory[attr]  # never returned by the system: nothing to confirm
                continue
            entry = memory[attr]
            if attr in refs and "v" not in entry:
                continue  # nothing to compare with: sync compares the resolved links
            if same(entry.get("v"), attrs.get(attr)):
                del memory[attr]
                confirmed.add(attr)
            else:
                entry["s"] = UNCONFIRMED
                unconfirmed = True
        cs.export_memory = memory or None
        if unconfirmed and cs.mv_id is not None:
            self.dirty_mv.add(cs.mv_id)
        return confirmed

    def _object_error(self, obj: ImportedObject, by_anchor: dict[str, CSObject],
                      changed: dict[int, CSObject]) -> None:  # fmt: skip
        message = obj.error or "import error"
        self.result.error(obj.dn, message, anchor=obj.anchor, kind="import-error")
        cs = by_anchor.get(obj.anchor) if obj.anchor is not None else None
        if cs is not None and cs.id is not None:
            # keep the object (and do not treat it as vanished) until its record is readable again
            self.seen.add(cs.id)
            cs.import_error = message
            changed[cs.id] = cs

    # ----------------------------------------------------------- vanished
    def _vanished(self) -> None:
        gone: list[int] = []
        revert: list[int] = []
        for rows in self.store.cs_anchor_ids(self.name):
            unseen = set(self.seen.not_among([r[0] for r in rows]))  # a full import sees most of them
            if not unseen:
                continue
            for cs_id, imported, kind, export_state in rows:
                if cs_id not in unseen or kind == PLACEHOLDER:
                    continue
                if export_state == IN_FLIGHT:
                    revert.append(cs_id)  # sent but never written: still a pending add
                elif imported or export_state is not None or kind == TRANSIENT:
                    gone.append(cs_id)
        for i in range(0, len(gone), self.ctx.batch):
            objs = self.store.cs_by_ids(gone[i : i + self.ctx.batch])
            for cs in objs.values():
                cs.pending_import = "delete"
            self.store.save_cs(objs.values())
            self.result.deleted += len(objs)
            self.store.commit()
            self.ctx.crash.boundary("import")
        if revert:
            objs = self.store.cs_by_ids(revert)
            for cs in objs.values():
                cs.export_state = None
                for entry in (cs.export_memory or {}).values():
                    entry["s"] = AWAITING
            self.store.save_cs(objs.values())
            self.store.commit()


_TEXT_ONLY = {str}


def _stored_attrs(obj: ImportedObject) -> dict[str, Any]:
    attrs = obj.attributes
    if set(map(type, attrs.values())) <= _TEXT_ONLY:
        return dict(attrs)  # text only (CSV): already stored form, nothing to drop
    return {k: v for k, v in ((k, to_stored(v)) for k, v in attrs.items()) if v is not None}


def _key_of(attrs: dict[str, Any], key_attr: str | None) -> str | None:
    if key_attr is None:
        return None
    v = attrs.get(key_attr)
    if v is None or isinstance(v, list) or v == "":
        return None
    return str(v).casefold()
