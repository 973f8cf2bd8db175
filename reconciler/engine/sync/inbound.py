"""Inbound synchronization of one connector: scope → join → projection → import attribute flow.

Per batch, in one transaction (so a crash leaves whole batches only):

1. links: every CS object to process (pending import, or all in a full sync) is
   deleted, disconnected, joined or projected;
2. flows: the MV objects of those CS objects are recomputed from all their links
   (precedence), with the CS objects of the batch still in memory, and the
   pending imports are cleared. An MV object whose reference names an object
   not linked yet (a manager in a later batch) is marked ``dirty=2``;

then, after the last batch:

3. the MV objects marked ``dirty=2`` (lost a link, references moved or waiting
   for a later batch) are recomputed; one with no inbound link left is deleted,
   and the objects it was provisioned to are deprovisioned.
"""

from __future__ import annotations

from typing import Any

from reconciler.engine.context import Context
from reconciler.engine.idset import IdSet
from reconciler.engine.objects import (
    INBOUND_LINKS,
    JOIN,
    NORMAL,
    PLACEHOLDER,
    PROJECT,
    PROVISION,
    CSObject,
    MVObject,
    new_guid,
)
from reconciler.engine.runs import COMPLETED_SYNC_ERRORS, RunResult
from reconciler.engine.sync.join import JoinIndex, exact_match, join_candidates
from reconciler.engine.sync.precedence import (
    ALL,
    FlowErrors,
    compute_attributes,
    in_scope_rules,
    ref_value,
    reference_flows,
)
from reconciler.errors import ReconcilerError

RECOMPUTE = 2  # mv.dirty level: recompute from links, then outbound


class Inbound:
    def __init__(self, ctx: Context, index: JoinIndex, result: RunResult, full: bool,
                 full_connectors: set[str]) -> None:  # fmt: skip
        self.ctx = ctx
        self.store: Any = ctx.store
        self.index = index
        self.result = result
        self.full = full
        self.full_connectors = full_connectors
        self.done_mv = IdSet()
        # pass 3: MV objects marked only because a reference named an object not linked yet (one
        # contributor), and those marked for anything else in this run (a full recompute)
        self.refs_only = IdSet()
        self.must_full = IdSet()

    # ----------------------------------------------------------- pass 1: links
    def link_pass(self, connector: str) -> None:
        which = "all" if self.full else "pending"
        linked_here = IdSet(self.store.linked_mv_ids(connector)) if self.full else None
        # a batch holds some 200,000 references at most: groups of hundreds of members come fewer at a time
        per = self.store.refs_per_object(connector) if connector in self._ref_connectors() else 0.0
        size = max(100, min(self.ctx.batch, int(self.ctx.batch * 10 / per))) if per > 1 else self.ctx.batch
        stage, total, done = f"sync {connector}", self.store.count_cs(connector, which), 0
        for batch in self.store.iter_cs(connector, which, size):
            changed: dict[int, CSObject] = {}
            linked: dict[int, CSObject] = {}
            deleted: list[int] = []
            link_moved: list[int] = []
            recompute: set[int] = set()
            new_mv: list[MVObject] = []
            for cs in batch:
                assert cs.id is not None
                if cs.kind == PLACEHOLDER:
                    if cs.pending_import or cs.resync:
                        cs.pending_import, cs.resync = None, False
                        changed[cs.id] = cs
                    continue
                if not self.full or cs.pending_import:
                    self.result.total += 1
                pi = cs.pending_import
                if pi in ("delete", "delete-add") and cs.mv_id is not None:
                    self._unlink(cs, recompute, link_moved, missing=(pi == "delete"))
                    changed[cs.id] = cs
                if pi == "delete":
                    self._delete(cs, changed, deleted)
                    continue
                try:
                    rules = in_scope_rules(self.ctx, cs)
                except ReconcilerError as exc:
                    self._sync_error(cs, exc.one_line(), changed)
                    continue
                if not rules and cs.mv_id is None and cs.sync_error is None:
                    if pi is not None:
                        self.result.filtered += 1
                    continue
                if cs.mv_id is not None:
                    if cs.link_kind in INBOUND_LINKS and not rules:
                        self._unlink(cs, recompute, link_moved, missing=False)
                        changed[cs.id] = cs
                        self.result.deleted += 1
                    elif pi is not None and not self.full:
                        # a joined object changed in its system: re-evaluate the flows into it too
                        recompute.add(cs.mv_id)
                    continue
                if not rules:
                    if cs.sync_error is not None:
                        cs.sync_error = None
                        changed[cs.id] = cs
                    continue
                error = self._join_or_project(cs, rules, new_mv, linked_here)
                if error is not None:
                    self._sync_error(cs, error, changed)
                elif cs.mv_id is not None:
                    cs.sync_error = None
                    linked[cs.id] = cs  # only the link columns changed: a light update
                    link_moved.append(cs.id)
                    if cs.link_kind == JOIN:
                        recompute.add(cs.mv_id)
                    if linked_here is not None:
                        linked_here.add(cs.mv_id)
                elif cs.sync_error is not None:
                    cs.sync_error = None
                    changed[cs.id] = cs
            # projected MV objects are written once, by pass 2 below, with their attributes
            fresh = {mv.id: mv for mv in new_mv}
            self.store.save_cs(changed.values())
            light = [cs for i, cs in linked.items() if i not in changed]
            self.store.save_cs_links(light, clear_pending=True)  # their pending import is processed below
            if deleted:
                self.store.delete_cs(deleted)
            if link_moved and not (self.full and self.full_connectors >= self._ref_connectors()):
                # MV objects whose references name these objects (those a full sync reaches anyway aside)
                excl = self.full_connectors if self.full else set()
                recompute |= self.store.referrer_mv_ids(link_moved, excl)
            if recompute:
                self.store.set_mv_dirty_level(recompute, RECOMPUTE)
                self.must_full.update(recompute)
            # pass 2 for this batch, in the same transaction: flows into the MV objects now linked
            gone = set(deleted)
            kept = {cs.id: cs for cs in batch if cs.id not in gone}
            self.recompute({cs.mv_id for cs in kept.values() if cs.mv_id is not None} - self.done_mv,
                           known=kept, mark_unresolved=True, fresh=fresh)  # type: ignore[arg-type]  # fmt: skip
            self.store.clear_pending_import([i for i in kept if i not in linked or i in changed])
            self.index.flush()
            self.store.commit()
            done += len(batch)
            self.ctx.report(stage, min(done, total), total)
            self.ctx.crash.boundary("sync")

    def _join_or_project(self, cs: CSObject, rules: list[Any], new_mv: list[MVObject],
                         linked_here: IdSet | None) -> str | None:  # fmt: skip
        for rule in rules:
            for group in rule.joins:
                found = join_candidates(self.index, rule, group, cs.attrs)
                if not found:
                    continue
                # never take an MV object already joined to another CS object of this connector
                taken = linked_here & found if linked_here is not None else (
                    self.store.mv_linked_in(cs.connector, found))
                found = found - taken
                if any(c.case_sensitive for c in group) and found:
                    mvs = self.store.mv_by_ids(found)
                    found = {i for i, m in mvs.items() if exact_match(group, cs.attrs, m)}
                if len(found) > 1:
                    return (
                        f"sync rule {rule.name!r}: the join matched {len(found)} metaverse objects; "
                        "make the join rule unique (add a condition) or fix the duplicate values"
                    )
                if len(found) == 1:
                    cs.mv_id = next(iter(found))
                    cs.link_kind, cs.link_rule = JOIN, rule.name
                    self.result.changed += 1
                    return None
        for rule in rules:
            if rule.rule.project:
                mv = MVObject(rule.rule.mv_type, self.store.new_mv_ids(1)[0], new_guid(), {}, {}, True)
                new_mv.append(mv)
                cs.mv_id = mv.id
                cs.link_kind, cs.link_rule = PROJECT, rule.name
                self.result.added += 1
                return None
        return None

    def _unlink(self, cs: CSObject, recompute: set[int], link_moved: list[int], *, missing: bool) -> None:
        assert cs.mv_id is not None and cs.id is not None
        mv_id = cs.mv_id
        if cs.link_kind == PROVISION and missing:
            # an object the rules provisioned vanished from its system: provision it again
            mv = self.ctx.load_mvs([mv_id]).get(mv_id)
            if mv is not None:
                mv.retry = sorted(set(mv.retry or ()) | {cs.connector})
                self.store.save_mv([mv])
        recompute.add(mv_id)
        link_moved.append(cs.id)
        cs.mv_id, cs.link_kind, cs.link_rule = None, None, None

    def _delete(self, cs: CSObject, changed: dict[int, CSObject], deleted: list[int]) -> None:
        assert cs.id is not None
        if self.store.referrers([cs.id]):
            # others still name it: it stays as a placeholder so the links survive its return
            cs.kind, cs.attrs, cs.hash, cs.anchor = PLACEHOLDER, {}, None, None
            cs.pending_import, cs.pi_attrs, cs.export_memory, cs.export_state = None, None, None, None
            cs.pending_export, cs.resync = None, False
            changed[cs.id] = cs
        else:
            changed.pop(cs.id, None)
            deleted.append(cs.id)

    def _sync_error(self, cs: CSObject, message: str, changed: dict[int, CSObject]) -> None:
        assert cs.id is not None
        cs.sync_error = message
        changed[cs.id] = cs
        self.result.error(cs.dn, message, anchor=cs.anchor, kind="sync-error")

    # ----------------------------------------------------------- pass 2: flows
    def flow_pass(self, connector: str) -> None:
        """Objects the link pass left pending (none unless a run died between the two)."""
        for batch in self.store.iter_cs_links(connector, "pending", self.ctx.batch):
            mv_ids = {mv_id for _, mv_id in batch if mv_id is not None} - self.done_mv
            self.recompute(mv_ids)
            self.store.clear_pending_import([i for i, _ in batch])
            self.index.flush()
            self.store.commit()
            self.ctx.crash.boundary("sync")

    def recompute_marked(self) -> None:
        """Pass 3: MV objects marked for recomputation (lost a link, references moved); those marked in
        this run only because a reference waited for a later batch get their references alone."""
        while True:
            ids = self.store.mv_ids_dirty(RECOMPUTE)
            if not ids:
                return
            light = self.must_full.not_among(self.refs_only.among(ids))
            if light:
                self.must_full.update(light)  # marked again later, for whatever reason: recomputed whole
                lighter = set(light)
                ids = [i for i in ids if i not in lighter]
            for i in range(0, len(light), self.ctx.batch):
                self.recompute_refs(light[i : i + self.ctx.batch])
                self.index.flush()
                self.store.commit()
                self.ctx.crash.boundary("sync")
            for i in range(0, len(ids), self.ctx.batch):
                self.recompute(set(ids[i : i + self.ctx.batch]), force_outbound=True)
                self.index.flush()
                self.store.commit()
                self.ctx.crash.boundary("sync")

    def recompute_refs(self, mv_ids: list[int]) -> None:
        """The reference attributes of MV objects with one contributor, evaluated again now that the
        objects they name are linked: the rest of their attributes came from the same CS object, unchanged
        since, so neither it nor its other flows are read again. An object whose rule has another flow
        to a reference's target is recomputed whole."""
        store = self.store
        mvs = self.ctx.load_mvs(mv_ids)
        rules = {r.name: r for rs in self.ctx.rules.inbound.values() for r in rs}
        todo: list[tuple[MVObject, int, list[tuple[Any, str, bool | None]]]] = []
        whole: set[int] = set()
        for mv_id in mv_ids:
            mv = mvs.get(mv_id)
            if mv is None:
                continue
            who = mv.contrib.get(ALL)
            rule = rules.get(who[0]) if who else None
            flows = reference_flows(self.ctx, rule) if rule is not None else None
            if who is None or flows is None:
                whole.add(mv_id)
            else:
                todo.append((mv, who[1], flows))
        refs = store.refs_of([cs_id for _, cs_id, _ in todo])
        ref_mv = store.mv_ids_of_cs({d for rows in refs.values() for _, d in rows})
        changed: list[MVObject] = []
        for mv, cs_id, flows in todo:
            old_entries = self.index.entries_for(mv)
            attrs = dict(mv.attrs)
            for flow, target, multivalued in flows:
                value = ref_value(flow, multivalued, cs_id, refs, ref_mv)
                if value is None:
                    attrs.pop(target, None)
                else:
                    attrs[target] = value
            mv.attrs, mv.dirty = attrs, True  # outbound follows, as after a whole recompute
            changed.append(mv)
            self.index.update(mv, old_entries)
        store.save_mv(changed)
        self.ctx.cache_mvs(changed)
        if whole:
            self.recompute(whole, force_outbound=True)

    def recompute(self, mv_ids: set[int], force_outbound: bool = False,
                  known: dict[int, CSObject] | None = None, mark_unresolved: bool = False,
                  fresh: dict[int, MVObject] | None = None) -> None:  # fmt: skip
        """MV objects recomputed from their inbound links; ``known``: CS objects already in memory.

        ``mark_unresolved``: an MV object with a reference to an object not linked yet (a manager
        in a later batch) is marked for pass 3, in the same transaction, to resolve it then.
        ``fresh``: MV objects projected by this batch, not stored yet: their only links are CS objects
        of ``known`` (nothing else ran since they were made), and they are inserted here, once.
        """
        if not mv_ids:
            return
        store = self.store
        known = known or {}
        fresh = fresh or {}
        old_ids = mv_ids - fresh.keys() if fresh else mv_ids
        mvs = self.ctx.load_mvs(old_ids)
        inbound = self.ctx.rules.inbound
        rows = store.cs_ids_by_mv(old_ids, inbound) if old_ids else []
        if fresh:
            mvs.update((i, m) for i, m in fresh.items() if i in mv_ids)
            rows += [(cs.mv_id, i, cs.connector, cs.kind) for i, cs in known.items()
                     if cs.mv_id in fresh and cs.connector in inbound]  # fmt: skip
        loaded = store.cs_by_ids([r[1] for r in rows if r[1] not in known])
        linked: dict[int, list[CSObject]] = {}
        for mv_id, cs_id, _, _ in sorted(rows, key=lambda r: r[1]):
            cs = known.get(cs_id) or loaded.get(cs_id)
            if cs is not None:
                linked.setdefault(mv_id, []).append(cs)
        all_cs = [cs for objs in linked.values() for cs in objs]
        refs = store.refs_of([cs.id for cs in all_cs if cs.connector in self._ref_connectors()])
        ref_mv = store.mv_ids_of_cs({d for rows in refs.values() for _, d in rows})
        errors = FlowErrors()
        changed_mv: list[MVObject] = []
        deleted: list[int] = []
        for mv_id in sorted(mv_ids):
            mv = mvs.get(mv_id)
            if mv is None:
                continue
            self.done_mv.add(mv_id)
            links = [cs for cs in linked.get(mv_id, ()) if cs.kind == NORMAL]
            old_entries = self.index.entries_for(mv)
            if not any([cs.link_kind in INBOUND_LINKS for cs in links]):
                links = [cs for cs in store.cs_by_mv([mv_id]).get(mv_id, []) if cs.kind == NORMAL]
                self._delete_mv(mv, links)
                self.index.remove(mv_id, old_entries)
                deleted.append(mv_id)
                continue
            attrs, contrib = compute_attributes(self.ctx, mv, links, refs, ref_mv, errors)
            was = mv.dirty
            moved = attrs != mv.attrs
            if moved or contrib != mv.contrib or was or force_outbound or self.full:
                mv.dirty = moved or bool(was) or force_outbound or self.full
                mv.attrs, mv.contrib = attrs, contrib
                changed_mv.append(mv)
                self.index.update(mv, old_entries)
        for mv in changed_mv:
            mv.dirty = bool(mv.dirty)
        gone = set(deleted)
        if fresh:
            store.save_mv([m for i, m in fresh.items() if i not in gone], new=True)
            changed_mv = [m for m in changed_mv if m.id not in fresh]
        store.save_mv(changed_mv)
        if mark_unresolved and refs:
            waiting = {cs.mv_id for cs in all_cs for _, d in refs.get(cs.id, ()) if ref_mv.get(d) is None}  # type: ignore[arg-type]
            waiting.discard(None)
            if waiting:
                store.set_mv_dirty_level(waiting - gone, RECOMPUTE)
                if not self.ctx.uses_membership:  # with ISMEMBEROF scopes, links may move scope: whole
                    self.refs_only.update(i for i in waiting - gone if i in mvs and ALL in mvs[i].contrib)
        self.ctx.cache_mvs(m for m in mvs.values() if m.id not in gone)
        if deleted:
            store.delete_mv([i for i in deleted if i not in fresh])  # a fresh one was never written
            for i in deleted:
                self.ctx.mv_cache.pop(i, None)
        if errors.items:
            by_id = {cs.id: cs for cs, _ in errors.items}
            stored = store.cs_by_ids(by_id)
            for cs, message in errors.items:
                f = stored.get(cs.id)  # type: ignore[arg-type]
                if f is not None:
                    f.sync_error = message
                self.result.error(cs.dn, message, anchor=cs.anchor, kind="sync-error")
            store.save_cs(stored.values())
            self.result.status = COMPLETED_SYNC_ERRORS

    def _ref_connectors(self) -> set[str]:
        cached: set[str] | None = getattr(self, "_refc", None)
        if cached is None:
            cached = {n for n in self.ctx.playbook.connectors if self.ctx.ref_attrs(n)}
            self._refc = cached
        return cached

    def _delete_mv(self, mv: MVObject, links: list[CSObject]) -> None:
        """The MV object lost its last inbound link: deprovision what it was provisioned to."""
        from reconciler.engine.sync.outbound import deprovision

        self.result.deleted += 1
        changed: list[CSObject] = []
        deleted: list[int] = []
        for cs in links:
            deprovision(self.ctx, cs, changed, deleted, rule_name=cs.link_rule)
        if changed:
            self.store.save_cs(changed)
        if deleted:
            self.store.delete_cs(deleted)
        # MV objects referring to this one must drop the reference
        referrers = self.store.referrer_mv_ids([c.id for c in links]) - {mv.id}
        self.store.set_mv_dirty_level(referrers, RECOMPUTE)
        self.must_full.update(referrers)
