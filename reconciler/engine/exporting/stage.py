"""The export stage: push pending exports to a connected system, record export memory.

Order: adds (parents before children, by DN depth), then updates and renames,
then deletes. A reference to an object that gets its id only when it is
created (Graph) is sent in a follow-up update once that object exists, so a
cycle of references still exports. Before a batch is handed to the connector
its adds are marked *in flight* and committed; a run killed after the
connector wrote but before the results were committed is resolved by the
next import, which finds the objects by their anchor (files) or DN. Per-object
errors are kept on the object and retried next run.
"""

from __future__ import annotations

from typing import Any

import reconciler.playbook  # noqa: F401 - first: playbook and connectors.base import each other
from reconciler.connectors.base import AttributeChange, ExportChange, ExportResult
from reconciler.engine.context import Context
from reconciler.engine.objects import AWAITING, EXPORTED, IN_FLIGHT, PLACEHOLDER, CSObject, normalize_dn
from reconciler.engine.planning import RefTargetView, ref_targets
from reconciler.engine.renames import take_over_placeholders
from reconciler.engine.runs import COMPLETED_EXPORT_ERRORS, STOPPED_CONNECTIVITY, RunResult, now_iso
from reconciler.errors import ConnectorError, DeletionThresholdError

_ORDER = {"add": 0, "update": 1, "rename": 1, "delete": 2}


def change_key(cs: CSObject) -> str:
    """The key PlannedChange uses for this object (reconciler.plan.model.PlannedChange.key)."""
    return key_of(cs.connector, cs.guid, cs.dn)


def key_of(connector: str, guid: str | None, dn: str) -> str:
    return f"{connector}\x00{guid or dn}"


def check_thresholds(ctx: Context, names: list[str], allow_deletes: int | None) -> None:
    """Raise DeletionThresholdError, before anything is written, if any connector's deletes exceed its
    threshold (``allow_deletes`` raises every threshold for this run)."""
    over = []
    for name in names:
        cfg = ctx.config(name)
        limit = allow_deletes if allow_deletes is not None else cfg.delete_threshold
        n = ctx.store.count_pending_deletes(name)  # type: ignore[attr-defined]
        if n > limit:
            over.append((name, n, limit))
    if over:
        what = ", ".join(f"{n} deletes in {name} (threshold {limit})" for name, n, limit in over)
        raise DeletionThresholdError(
            f"nothing was exported: {what}",
            hint=f"review them with `reconciler plan`; to allow them once: --allow-deletes {max(n for _, n, _ in over)}",
        )


#: what export order needs of one pending export: (rank of its op, DN depth, normalized DN, id, ids it
#: depends on); the first four are its place before dependencies are counted
Placed = tuple[int, int, str, int, list[int] | None]


def placed(op: str | None, dn: str, cs_id: int, deps: list[int] | None) -> Placed:
    return _ORDER.get(op or "", 1), dn.count(","), normalize_dn(dn), cs_id, deps


def export_order(items: list[Placed]) -> list[int]:
    """Ids in export order: adds first (parents, then what others reference, before those that refer to
    them), then updates and renames, then deletes; a reference cycle is broken by DN (the follow-up update
    sets the rest). The same objects come in the same order whatever ids they were given."""
    # by DN within a depth, not by id: ids follow the order objects were provisioned in, which batches change
    items.sort(key=_place_key)
    adds = {t[3]: t for t in items if t[0] == 0}
    if not adds:
        return [t[3] for t in items]
    ordered: list[int] = []
    state: dict[int, int] = {}  # 1 visiting, 2 done
    for start in adds:
        stack: list[tuple[int, bool]] = [(start, False)]  # iterative DFS: deep chains of managers
        while stack:
            node, expanded = stack.pop()
            if expanded:
                if state.get(node) != 2:
                    state[node] = 2
                    ordered.append(node)
                continue
            if state.get(node):
                continue
            state[node] = 1
            stack.append((node, True))
            deps = [d for d in adds[node][4] or () if d in adds]
            if len(deps) > 1:
                deps.sort(key=lambda d: (adds[d][2], d))
            for dep in reversed(deps):
                if not state.get(dep):
                    stack.append((dep, False))
    return ordered + [t[3] for t in items if t[0] != 0]


def _place_key(t: Placed) -> tuple[int, int, str, int]:
    return t[0], t[1], t[2], t[3]


def dependency_order(objs: list[CSObject]) -> list[CSObject]:
    """``export_order`` of objects with their pending exports."""
    by_id = {o.id: o for o in objs}
    return [by_id[i] for i in export_order([placed((o.pending_export or {}).get("op"), o.dn, o.id,  # type: ignore[arg-type]
                                                   (o.pending_export or {}).get("deps")) for o in objs])]  # fmt: skip


def _name_order(value: Any) -> tuple[str, str]:
    text = str(value)
    return text.casefold(), text


_SENT = ExportChange("update", "", "")  # stands for a change whose result is recorded (its details dropped)


class ExportStage:
    def __init__(self, ctx: Context, name: str, only: set[str] | None = None) -> None:
        self.ctx = ctx
        self.store: Any = ctx.store
        self.name = name
        self.only = only
        self.connector = ctx.connector(name)
        self.caps = self.connector.capabilities
        self.refs = ctx.ref_attrs(name)
        self._renamed: list[int] = []  # objects this export renamed

    def run(self) -> RunResult:
        result = RunResult(self.name, "export")
        cfg = self.ctx.config(self.name)
        result.object_type = cfg.object_type or ",".join(cfg.object_types) or None
        self.result = result
        try:
            if self.caps.whole_file:
                # light objects (no attributes, no plan-only members): every write of this stage names its
                # columns; a file is rewritten once, with every change
                pending: list[CSObject] = []
                for batch in self.store.iter_cs_exports(self.name, self.ctx.batch):
                    pending.extend(o for o in batch if self.only is None or change_key(o) in self.only)
                pending = dependency_order(pending)
                result.total = len(pending)
                self._send(pending)
                del pending
            else:
                # a batch at a time, each read when it is sent: until then only its order is held (a
                # first export of a million objects held every one's attributes)
                order = export_order([placed(op, dn, i, deps) for i, guid, dn, op, deps in
                                      self.store.iter_cs_export_order(self.name, self.ctx.batch)
                                      if self.only is None or key_of(self.name, guid, dn) in self.only])  # fmt: skip
                result.total = len(order)
                for i in range(0, len(order), self.ctx.batch):
                    ids = order[i : i + self.ctx.batch]
                    loaded = self.store.cs_exports_by_ids(ids)
                    self._send([loaded[j] for j in ids if j in loaded])
                    del loaded
            self._send_followups()
        except ConnectorError as exc:
            result.status = STOPPED_CONNECTIVITY
            result.messages.append(exc.one_line())
            result.error(self.name, exc.one_line(), kind="connector")
        if self.caps.whole_file and (result.added or result.changed or result.deleted):
            # we rewrote the file: the next import reads it whole, even if it comes back as it was
            self.store.set_connector_state(self.name, watermark=None)
        if result.errors and result.status == "success":
            result.status = COMPLETED_EXPORT_ERRORS
        result.end = now_iso()
        result.history_id = self.store.add_history(result.row())
        self.store.commit()
        return result

    # ----------------------------------------------------------- translation
    def _targets(self, objs: list[CSObject]) -> dict[int, RefTargetView]:
        ids = {i for o in objs for ids in ((o.pending_export or {}).get("refs") or {}).values() for i in ids}
        return ref_targets(self.store, self.refs, ids) if ids else {}

    def _translate(self, cs: CSObject, targets: dict[int, RefTargetView], defer: dict[str, list[int]]
                   ) -> dict[str, Any]:  # fmt: skip
        out: dict[str, Any] = {}
        for attr, ids in ((cs.pending_export or {}).get("refs") or {}).items():
            values = []
            rt = self.refs.get(attr)
            by = rt.by if rt else "dn"
            key = rt.key if rt else None
            for i in ids:
                t = targets.get(i)
                if t is None or (by == "anchor" and t.kind == PLACEHOLDER):
                    continue
                # the target as this connector names it: its key (imported, else pending, else exported and
                # not yet confirmed), its anchor, or its DN (the new one when a rename is pending)
                if by == "key":
                    v = t.keys.get(key) if key else None
                elif by == "anchor":
                    v = t.anchor
                else:
                    v = t.new_dn or t.dn
                if v is None:
                    defer.setdefault(attr, []).append(i)  # created later in this export: set it then
                    continue
                values.append(v)
            # in the order of the names, not of the objects' ids (which depend on the order they were
            # provisioned in): a rewritten file or a plan diff lists a group's members the same way each time
            out[attr] = sorted(values, key=_name_order) if len(values) > 1 else values
        return out

    # ----------------------------------------------------------- sending
    def _change(self, cs: CSObject, targets: dict[int, RefTargetView], defer: dict[str, list[int]]
                ) -> ExportChange:  # fmt: skip
        pe = cs.pending_export or {}
        op = pe.get("op", "update")
        if op == "delete":
            return ExportChange("delete", cs.dn, cs.object_type, anchor=cs.anchor, key=cs.id)
        refs = self._translate(cs, targets, defer) if pe.get("refs") else {}
        attrs = pe.get("attrs") or {}
        if op == "add":
            # the pending export's own dict, not a copy (an export of 100,000 adds held both): the references
            # added to it are in ``refs`` too, which export memory records after the attributes (_apply)
            full = attrs if None not in attrs.values() else {k: v for k, v in attrs.items() if v is not None}
            for k, v in refs.items():
                if v:
                    full[k] = v
            return ExportChange("add", cs.dn, cs.object_type, anchor=cs.anchor, attributes=full, key=cs.id)
        changes = [AttributeChange(k, replace=v) for k, v in attrs.items()]
        changes += [AttributeChange(k, replace=v or None) for k, v in refs.items()]
        return ExportChange(op, cs.dn, cs.object_type, anchor=cs.anchor, new_dn=pe.get("new_dn"),
                            attributes={k: v for k, v in attrs.items() if v is not None}, changes=changes,
                            key=cs.id)  # fmt: skip

    def _send(self, objs: list[CSObject]) -> None:
        if not objs:
            return
        targets = self._targets(objs)
        changes: list[ExportChange] = []
        deferred: dict[int, dict[str, list[int]]] = {}
        in_flight: list[CSObject] = []
        anchor_of = getattr(self.connector, "anchor_of", None)
        for cs in objs:
            defer: dict[str, list[int]] = {}
            ch = self._change(cs, targets, defer)
            if defer:
                deferred[cs.id] = defer  # type: ignore[index]
            changes.append(ch)
            if ch.op == "add":
                cs.export_state = IN_FLIGHT
                if cs.anchor is None and anchor_of is not None and not self.caps.assigns_anchor:
                    cs.anchor = anchor_of(ch.attributes)
                    ch.anchor = cs.anchor
                in_flight.append(cs)
        if in_flight:
            self.store.save_cs_export_state(in_flight)  # only the mark and the anchor changed
            self.store.commit()  # the in-flight marks survive a kill during the connector's write
        try:
            results = self.connector.export(changes)
            # a kill here (the system written, the results not committed) is the hard case:
            # the next import resolves it through the in-flight marks
            self.ctx.crash.boundary("export")
        except ConnectorError:
            for cs in in_flight:
                cs.export_state = None
            self.store.save_cs_export_state(in_flight)
            self.store.commit()
            raise
        by_key = {r.key: r for r in results}
        del results
        followups: list[CSObject] = []
        # the results are recorded a batch at a time, in one transaction: each object's export memory is
        # written and then dropped with its pending export, so a whole file of 100,000 adds never holds a
        # hundred thousand memories at once
        for i in range(0, len(objs), self.ctx.batch):
            part = range(i, min(i + self.ctx.batch, len(objs)))
            renamed_ids = {c.key for c in changes[i : i + self.ctx.batch] if c.op == "rename"}
            stored = {objs[j].id: (objs[j].dn, objs[j].anchor) for j in part}  # DN and anchor as stored now
            saved: list[CSObject] = []
            whole: list[CSObject] = []
            deleted: list[int] = []
            for j in part:
                cs, ch = objs[j], changes[j]
                res = by_key.get(cs.id) or ExportResult(cs.id, ok=False, error="the connector returned no result")
                self._apply(cs, ch, res, deferred.get(cs.id), saved, whole, deleted, followups)  # type: ignore[arg-type]
            # results touch only the export columns (the fewer, the cheaper), except a deleted object kept as
            # a placeholder, which _apply read whole
            if whole:
                self.store.save_cs(whole)
            if saved:
                self.store.save_cs_export_failed([cs for cs in saved if cs.export_error is not None])
                done = [cs for cs in saved if cs.export_error is None]
                self.store.save_cs_export_sent([cs for cs in done if stored[cs.id] == (cs.dn, cs.anchor)])
                self.store.save_cs_exported([cs for cs in done if stored[cs.id] != (cs.dn, cs.anchor)])
            if deleted:
                self.store.delete_cs(deleted)
            renamed = [objs[j] for j in part if objs[j].id in renamed_ids] if renamed_ids else []
            if renamed:  # a referrer may have reached the new DN first (engine.renames)
                take_over_placeholders(self.store, self.name, renamed)
            for cs in saved:
                cs.export_memory = None  # written; a follow-up reads its object again
            for j in part:
                changes[j] = _SENT
        # in the transaction of the renames' results: a run killed after it still sends the new DNs
        self._restage_referrers_of_renamed()
        self.store.commit()
        self.ctx.report(f"export {self.name}", self.result.added + self.result.changed + self.result.deleted, None)
        self.ctx.crash.boundary("export")
        self._followups = getattr(self, "_followups", []) + followups

    def _apply(self, cs: CSObject, ch: ExportChange, res: ExportResult, defer: dict[str, list[int]] | None,
               saved: list[CSObject], whole: list[CSObject], deleted: list[int], followups: list[CSObject]
               ) -> None:  # fmt: skip
        pe = cs.pending_export or {}
        if not res.ok:
            cs.export_error = res.error or "export failed"
            anchor = cs.anchor
            if ch.op == "add":
                # not in the system: no anchor either, or the next import would match this object to
                # whatever record holds that anchor
                cs.export_state, cs.anchor = None, None
            self.result.error(cs.dn, cs.export_error, anchor=anchor, kind="export-error")
            saved.append(cs)
            return
        cs.export_error = None
        if ch.op == "delete":
            self.result.deleted += 1
            if self.store.referrers([cs.id]):
                cs = self.store.cs_by_ids([cs.id])[cs.id]  # the whole object: it is written whole
                cs.kind, cs.attrs, cs.hash, cs.anchor, cs.pending_export = PLACEHOLDER, {}, None, None, None
                cs.export_memory, cs.export_state, cs.mv_id, cs.link_kind = None, None, None, None
                cs.export_error = None
                whole.append(cs)
            else:
                deleted.append(cs.id)  # type: ignore[arg-type]
            return
        memory = dict(cs.export_memory or {})
        write_only = self.caps.write_only
        for k, v in (pe.get("attrs") or {}).items():
            if k not in write_only:
                memory[k] = {"v": v, "s": AWAITING}
        sent = ch.attributes
        if ch.changes:  # an update: what it sent is its changes over its attributes (an add has none)
            sent = dict(sent)
            for c in ch.changes:
                sent[c.name] = c.replace
        for k, ids in (pe.get("refs") or {}).items():
            if k not in write_only:
                v = sent.get(k)
                memory[k] = {"r": sorted(ids), "v": v if v else None, "s": AWAITING}
        cs.export_memory = memory or None
        if ch.op == "add":
            self.result.added += 1
            cs.export_state = EXPORTED
            cs.anchor = res.anchor or cs.anchor
            if res.dn:
                cs.dn = res.dn
        else:
            self.result.changed += 1
            if ch.op == "rename" and ch.new_dn:
                cs.dn = res.dn or ch.new_dn
                self._renamed.append(cs.id)  # type: ignore[arg-type]
        if defer:
            cs.pending_export = {"op": "update", "attrs": {}, "refs": {k: pe["refs"][k] for k in defer},
                                 "rule": pe.get("rule"), "cause": pe.get("cause")}  # fmt: skip
            followups.append(cs)
        else:
            cs.pending_export = None
        saved.append(cs)

    def _restage_referrers_of_renamed(self) -> None:
        """Objects of this connector that name a renamed object by DN hold its old DN: a file does not
        follow renames as a directory server's referential integrity does, so their references are
        sent again (with the new DN) in this export."""
        if not self._renamed or self.caps.reference_style != "dn" or not self.refs:
            return
        renamed = set(self._renamed)
        self._renamed = []
        # objects sent in this export too: a change of their own did not carry a reference it left alone
        referrers = self.store.referrers(renamed) - renamed
        objs = [o for o in self.store.cs_by_ids(referrers).values() if o.connector == self.name and o.kind == 0]
        held = self.store.refs_of([o.id for o in objs])
        for cs in objs:
            by_attr: dict[str, list[int]] = {}
            for attr, dst in held.get(cs.id, ()):  # type: ignore[arg-type]
                by_attr.setdefault(attr, []).append(dst)
            refs = {a: sorted(ids) for a, ids in by_attr.items() if renamed & set(ids) and a in self.refs}
            pe = cs.pending_export or {"op": "update", "attrs": {}, "refs": {}, "rule": cs.link_rule,
                                       "cause": "source"}  # fmt: skip
            pe.setdefault("refs", {})
            for a, ids in refs.items():
                pe["refs"].setdefault(a, ids)
            cs.pending_export = pe
        if objs:
            self.store.save_cs_pending(objs)  # committed by the caller with the results of the renames
            self._followups = getattr(self, "_followups", []) + objs

    def _send_followups(self) -> None:
        """References to objects created in this export, now that they exist."""
        rounds = 0
        while getattr(self, "_followups", None) and rounds < 3:
            todo, self._followups = self._followups, []
            fresh = self.store.cs_by_ids([c.id for c in todo])
            self._send([fresh[c.id] for c in todo if c.id in fresh])  # type: ignore[index]
            rounds += 1
