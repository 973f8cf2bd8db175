"""Outbound synchronization: provisioning, renames, export attribute flow and deprovisioning.

Runs over the MV objects marked changed (``dirty``), in two phases so that a
reference to an object provisioned in the same run resolves in that run:

A. object level: provision a CS export object where an in-scope rule provisions
   and none is linked (DN from the rule's ``dn`` or, for a file connector, the
   connector's own DN rule), deprovision provisioned objects now out of scope;
B. attribute level: per target CS object, desired values by precedence among
   the in-scope rules, compared exactly with what the system holds (overlaid by
   export memory still awaiting its import), staged as a pending export.

Phase A of the MV objects a batch refers to in later batches of the run runs before the batch's phase
B (``_phase_a_ahead``), so that a reference rarely waits for the end of the run.

The pending export (``CSObject.pending_export``) is a dict:
``op`` (add, update, rename, delete), ``new_dn``, ``attrs`` (name → value;
None clears), ``refs`` (reference attributes: name → target CS ids), ``acause``
and ``arule`` (per attribute: cause, and [rule, index of the flow in the rule] — the index alone when
the rule is the change's ``rule``; an add has no ``acause``, its attributes share the change's cause,
and its ``arule`` names only the flows of other rules than its own), ``rule``, ``cause``. Compact on purpose: a first sync stages one per
object, and flow texts repeated in each would double the state and the export's memory.
"""

from __future__ import annotations

from array import array
from typing import Any

from reconciler.engine.context import Context
from reconciler.engine.idset import IdSet
from reconciler.engine.objects import (
    NORMAL,
    PLACEHOLDER,
    PROVISION,
    CSObject,
    MVObject,
    new_guid,
    normalize_dn,
)
from reconciler.engine.rules import CompiledRule
from reconciler.engine.runs import RunResult
from reconciler.engine.sync.staging import Staging, never_exported
from reconciler.engine.values import to_expression
from reconciler.errors import ReconcilerError


def deprovision(ctx: Context, cs: CSObject, changed: list[CSObject], deleted: list[int], *,
                rule_name: str | None, keep_link: bool = False) -> None:  # fmt: skip
    """Apply a provisioned object's rule's ``deprovision``: stage a delete, or disconnect."""
    assert cs.id is not None
    if cs.link_kind != PROVISION:
        cs.mv_id, cs.link_kind, cs.link_rule = None, None, None
        changed.append(cs)
        return
    action = "delete"
    for rule in ctx.playbook.sync_rules:
        if rule.name == rule_name and not rule.inbound:
            action = rule.deprovision
    if action == "disconnect":
        cs.mv_id, cs.link_kind, cs.link_rule = None, None, None
        cs.pending_export = None
        changed.append(cs)
        return
    if never_exported(cs):
        deleted.append(cs.id)  # never reached its system: nothing to delete there
        return
    cs.pending_export = {"op": "delete", "rule": rule_name, "cause": "deprovision"}
    if not keep_link:
        cs.mv_id, cs.link_kind = None, None
    changed.append(cs)


class Outbound(Staging):
    def __init__(self, ctx: Context, result: RunResult) -> None:
        self.ctx = ctx
        self.store: Any = ctx.store
        self.result = result
        self.playbook = ctx.playbook
        self._typed: dict[str, dict[str, str]] = {}
        # CS objects provisioned by the batch in hand and not stored yet (``_ref_values`` reads them)
        self._unsaved: dict[int, CSObject] = {}
        self._ref_targets: set[str] | None = None
        self._plans: dict[str, list[tuple[int, Any, str, bool, bool, str | None]]] = {}
        self._partial: dict[tuple[str, frozenset[str]], list[tuple[int, Any, str, bool, bool, str | None]]] = {}
        self._rule_groups: dict[str, dict[tuple[str, str], list[CompiledRule]]] = {}
        self._ref_names: dict[str, tuple[str, ...]] = {}
        # phase A's scoping of the batch in hand, for its phase B: (MV id, connector, CS type) -> rules
        self._scoped: dict[tuple[int, str, str], list[CompiledRule]] = {}

    def run(self) -> None:
        ids = array("q", self.store.dirty_mv_ids())  # 8 bytes an id: a million-object run holds them all
        if not ids:
            return
        # every MV object is in the first round (a first or full sync): none can be left to refer to
        # a newly provisioned object, so the referrer lookups are skipped
        everything = self.store.all_mv_dirty()
        done = IdSet()
        settled = IdSet()  # phase A done: their provisioned objects are final for this run
        todo = ids
        later = array("q")  # phase B waits until every round's phase A is done (a reference was open)
        renamed: set[int] = set()  # MV objects whose objects got a rename staged
        referrers: set[int] = set()  # MV objects referring to those, marked dirty as the renames were staged
        while todo:
            done.update(todo)
            this_round = IdSet(todo)
            ahead = IdSet()  # phase A ran ahead of their batch: an earlier batch refers to them
            more: set[int] = set()
            for i in range(0, len(todo), self.ctx.batch):
                batch = list(todo[i : i + self.ctx.batch])
                provisioned, linked, mvs = self._objects(batch, skip=ahead)
                settled.update(batch)
                provisioned |= self._phase_a_ahead(mvs, this_round, settled, ahead)
                # phase B in the same batch for the objects whose references are all settled
                staged, waiting = self._attributes(batch, linked, settled, mvs)
                del linked, mvs
                self._note_renames(staged, renamed, referrers)
                later.extend(waiting)
                if provisioned and not everything:
                    # MV objects referring to the newly provisioned ones (through objects that were
                    # placeholders) resolve those references now; asked per batch, not for the whole run
                    src = [cs_id for _, cs_id, _, _ in self.store.cs_ids_by_mv(provisioned)]
                    more |= self.store.referrer_mv_ids(src) - done
                self.store.commit()
                self.ctx.report("sync outbound", i + len(batch), len(todo))
                self.ctx.crash.boundary("sync")
            if more:
                self.store.set_mv_dirty(more, True)
            todo = array("q", sorted(more))
        for i in range(0, len(later), self.ctx.batch):
            staged = self._attributes(list(later[i : i + self.ctx.batch]))[0]
            self._note_renames(staged, renamed, referrers)
            self.store.commit()
            self.ctx.crash.boundary("sync")
        # values naming a renamed object by its DN follow it: evaluate the objects that refer to it again
        rounds = 0
        while renamed and rounds < 3:
            again = sorted(referrers - renamed)  # already marked dirty, with the staged renames
            renamed, referrers = set(), set()
            for i in range(0, len(again), self.ctx.batch):
                staged = self._attributes(again[i : i + self.ctx.batch])[0]
                self._note_renames(staged, renamed, referrers)
                self.store.commit()
                self.ctx.crash.boundary("sync")
            rounds += 1

    def _phase_a_ahead(self, mvs: dict[int, MVObject], this_round: IdSet, settled: IdSet,
                       ahead: IdSet) -> set[int]:  # fmt: skip
        """Phase A, now, for the MV objects of this round's later batches that these refer to: the batch's
        phase B then finds the objects they are provisioned to, instead of waiting for the end of the
        round (a person's manager is often in a later batch). Their objects are stored at once, with the
        pending export phase A gives; their own batch skips phase A and completes it in phase B."""
        # a round's batches come in id order: what this batch names at or below its own ids is settled
        top = max(mvs, default=0)
        later = [r for mv in mvs.values() for r in self._refs_in(mv) if r > top]
        wanted = sorted(set(settled.not_among(this_round.among(later)))) if later else []
        if not wanted:
            return set()
        batch_unsaved, batch_scoped = self._unsaved, self._scoped
        # the DNs the batch in hand provisioned are taken, though not stored yet
        provisioned, _, _ = self._objects(wanted, unstored=batch_unsaved)
        if self._unsaved:
            self.store.save_cs(self._unsaved.values(), new=True)
        self._unsaved, self._scoped = batch_unsaved, batch_scoped
        settled.update(wanted)
        ahead.update(wanted)
        return provisioned

    def _refs_in(self, mv: MVObject) -> list[int]:
        """The MV ids the object's reference attributes name."""
        names = self._ref_names.get(mv.object_type)
        if names is None:
            typedef = self.playbook.metaverse.get(mv.object_type)
            names = tuple(n for n, a in typedef.attributes.items() if a.type == "reference") if typedef else ()
            self._ref_names[mv.object_type] = names
        out: list[int] = []
        for name in names:
            v = mv.attrs.get(name)
            if isinstance(v, list):
                out.extend(v)
            elif v is not None:
                out.append(v)
        return out

    def _note_renames(self, staged: set[int], renamed: set[int], referrers: set[int]) -> None:
        """MV objects whose objects just got a rename staged join ``renamed``; those referring to them
        are marked dirty in the same transaction and join ``referrers``: the loop above evaluates them
        again at the end of the run, and if the run dies before that, the next run does (a value
        naming the old DN would otherwise stay)."""
        if staged:
            renamed |= staged
            src = [cs_id for _, cs_id, _, _ in self.store.cs_ids_by_mv(staged)]
            marked = self.store.referrer_mv_ids(src) - renamed
            self.store.set_mv_dirty(marked, True)
            referrers |= marked

    # ----------------------------------------------------------- helpers
    def _groups(self, mv: MVObject) -> dict[tuple[str, str], list[CompiledRule]]:
        """The outbound rules of the object's type by (connector, CS type), in precedence order."""
        groups = self._rule_groups.get(mv.object_type)
        if groups is None:
            groups = self._rule_groups[mv.object_type] = {}
            for rule in self.ctx.rules.outbound.get(mv.object_type, ()):
                groups.setdefault((rule.rule.connector, rule.rule.cs_type), []).append(rule)
        return groups

    def _expr_attrs(self, mv: MVObject) -> dict[str, Any]:
        """The MV object's values as expressions see them: only datetimes and binaries need typing."""
        typed = self._typed.get(mv.object_type)
        if typed is None:
            typedef = self.playbook.metaverse.get(mv.object_type)
            typed = {k: a.type for k, a in (typedef.attributes.items() if typedef else ())
                     if a.type in ("datetime", "binary")}  # fmt: skip
            self._typed[mv.object_type] = typed
        if not typed or typed.keys().isdisjoint(mv.attrs):
            return mv.attrs  # read only: flows never write into it
        out = dict(mv.attrs)
        for k, t in typed.items():
            if k in out:
                out[k] = to_expression(out[k], t)
        return out

    def _scope(self, rules: list[CompiledRule], attrs: dict[str, Any], mv: MVObject | None = None
               ) -> list[CompiledRule]:  # fmt: skip
        def member_of(dn: str) -> bool:
            return mv is not None and mv.id in self.ctx.member_mvs(dn)

        return [r for r in rules if r.in_scope(attrs, member_of)]

    # ----------------------------------------------------------- phase A
    def _objects(self, ids: list[int], skip: IdSet | None = None, unstored: dict[int, CSObject] | None = None
                 ) -> tuple[set[int], dict[int, list[CSObject]], dict[int, MVObject]]:  # fmt: skip
        """Phase A for these MV objects (but ``skip``: done ahead): the MV ids that provisioned, every object
        linked to them now (MV id -> CS objects of outbound connectors; those just provisioned are not
        stored yet: phase B stores them with their pending export), and the MV objects (phase B reuses
        them). ``unstored``: objects provisioned earlier and not stored yet, which hold their DNs too."""
        store = self.store
        mvs = self.ctx.load_mvs(ids)
        linked = store.cs_by_mv(ids, self.ctx.rules.outbound_connectors)
        changed: list[CSObject] = []
        deleted: list[int] = []
        provisioned: set[int] = set()
        wants: dict[str, list[tuple[MVObject, CompiledRule, str]]] = {}
        scoped_by = self._scoped = {}
        skipped = set(skip.among(ids)) if skip else ()
        for mv_id in ids:
            mv = mvs.get(mv_id)
            if mv is None or mv_id in skipped:
                continue
            attrs = self._expr_attrs(mv)
            links = linked.get(mv_id, [])
            for (connector, cs_type), rules in self._groups(mv).items():
                existing = None
                if links:  # a first sync provisions: nothing is linked yet
                    mine = [c for c in links if c.connector == connector and c.kind == NORMAL]
                    existing = next((c for c in mine if c.object_type == cs_type), None) or (
                        mine[0] if mine else None)
                try:
                    scoped = scoped_by[(mv_id, connector, cs_type)] = self._scope(rules, attrs, mv)
                except ReconcilerError as exc:
                    self.result.error(mv.guid, exc.one_line(), kind="sync-error")
                    continue
                if existing is None:
                    for prov in scoped:
                        if prov.rule.provision:
                            break
                    else:
                        continue
                    try:
                        dn = self._dn(prov, mv, attrs)
                    except ReconcilerError as exc:
                        self._error(mv, connector, exc.one_line())
                        continue
                    wants.setdefault(connector, []).append((mv, prov, dn))
                elif not scoped and existing.link_kind == PROVISION:
                    pe = existing.pending_export or {}
                    if pe.get("op") != "delete":
                        deprovision(self.ctx, existing, changed, deleted, rule_name=existing.link_rule,
                                    keep_link=True)  # fmt: skip
        fresh: dict[int, list[CSObject]] = {}
        for connector, items in wants.items():
            keys = [normalize_dn(dn) for _, _, dn in items]
            held = store.cs_by_dns(connector, keys)
            for o in (unstored or {}).values():
                if o.connector == connector:
                    held.setdefault(o.dn_norm, []).append(o)
            taken: set[str] = set()
            for (mv, rule, dn), key in zip(items, keys):
                if key in taken:
                    self._error(mv, connector, f"two metaverse objects provision onto the DN {dn}")
                    continue
                taken.add(key)
                holders = [o for o in held.get(key, []) if o.kind != 2]
                target = None
                problem = None
                for o in holders:
                    if o.kind == PLACEHOLDER:
                        target = o
                    elif o.mv_id is None:
                        problem = (
                            f"provisioning into {connector} by sync rule {rule.name!r}: the DN {dn} is held by an "
                            f"object that is not joined; add a join rule to an inbound rule of connector "
                            f"{connector} so it joins this metaverse object instead"
                        )
                    elif o.mv_id != mv.id:
                        problem = f"provisioning into {connector}: the DN {dn} belongs to another metaverse object"
                if problem is not None:
                    self._error(mv, connector, problem)
                    continue
                if target is None:
                    target = CSObject(connector, rule.rule.cs_type, dn, store.new_cs_ids(1)[0], new_guid(), None, None,
                                      NORMAL, {}, None, None, None, {"op": "add", "rule": rule.name}, None, None,
                                      mv.id, PROVISION, rule.name)  # fmt: skip
                    fresh.setdefault(mv.id, []).append(target)  # type: ignore[arg-type]
                else:
                    changed.append(target)
                    linked.setdefault(mv.id, []).append(target)  # type: ignore[arg-type]
                    target.kind, target.object_type, target.dn = NORMAL, rule.rule.cs_type, dn
                    target.mv_id, target.link_kind, target.link_rule = mv.id, PROVISION, rule.name
                    target.pending_export = {"op": "add", "rule": rule.name}
                provisioned.add(mv.id)  # type: ignore[arg-type]
                self.result.added += 1
        if changed:
            store.save_cs(changed)
        if deleted:
            store.delete_cs(deleted)
            gone = set(deleted)
            linked = {i: [c for c in objs if c.id not in gone] for i, objs in linked.items()}
        for i, objs in fresh.items():
            linked.setdefault(i, []).extend(objs)
        self._unsaved = {cs.id: cs for objs in fresh.values() for cs in objs}  # type: ignore[misc]
        return provisioned, linked, mvs

    # ----------------------------------------------------------- phase B
    def _attributes(self, ids: list[int], linked: dict[int, list[CSObject]] | None = None,
                    settled: IdSet | None = None, mvs: dict[int, MVObject] | None = None
                    ) -> tuple[set[int], list[int]]:  # fmt: skip
        """Phase B for these MV objects; returns those whose objects now have a rename staged, and
        (with ``settled``) those left for later: a reference names an MV object whose phase A has not
        run yet, so the object it is provisioned to may not exist yet. ``linked``: what phase A of the
        same batch returned (the objects it provisioned are stored here, once, with their pending
        export); without it the links are read from the store."""
        store = self.store
        if mvs is None:
            mvs = self.ctx.load_mvs(ids)
        if linked is None:
            linked = store.cs_by_mv(ids, self.ctx.rules.outbound_connectors)
            self._unsaved, self._scoped = {}, {}
        unsaved = self._unsaved
        scoped_by = self._scoped
        targets = [c for objs in linked.values() for c in objs if c.connector in self.ctx.rules.outbound_connectors]
        ref_conns = {n for n in self.ctx.rules.outbound_connectors if self.ctx.ref_attrs(n)}
        imported_refs = store.refs_of([c.id for c in targets if c.connector in ref_conns and c.id not in unsaved])
        # referenced MV objects -> their CS objects per connector
        wanted: set[int] = set()
        waiting: list[int] = []
        for one in mvs.values():
            mine = self._refs_in(one)
            if mine:
                wanted.update(mine)
                if settled is not None and settled.not_among(mine):
                    waiting.append(one.id)  # type: ignore[arg-type]
        ref_cs = store.cs_ids_by_mv(wanted, self._ref_target_connectors()) if wanted else []
        ref_cs += [(cs.mv_id, i, cs.connector, cs.kind) for i, cs in unsaved.items() if cs.mv_id in wanted]
        changed: list[CSObject] = []
        renamed: set[int] = set()
        ref_maps: dict[str, dict[int, int]] = {}
        later = set(waiting)
        for mv_id in ids:
            mv = mvs.get(mv_id)
            if mv is None or mv_id in later:
                continue
            attrs = self._expr_attrs(mv)
            links = linked.get(mv_id, [])
            for (connector, cs_type), rules in self._groups(mv).items():
                ref_map = self._ref_map(connector, ref_cs, ref_maps)
                for cs in links:
                    if cs.connector != connector or cs.object_type != cs_type or cs.kind != NORMAL:
                        continue
                    scoped = scoped_by.get((mv_id, connector, cs_type))
                    if scoped is None:
                        scoped = self._scope(rules, attrs, mv)
                    if not scoped:
                        continue
                    before = cs.pending_export
                    cs.pending_export = self._stage(cs, mv, scoped, attrs, ref_map, imported_refs)
                    if cs.pending_export != before or cs.pi_attrs:
                        cs.pi_attrs = None
                        changed.append(cs)
                        if cs.pending_export and cs.pending_export.get("op") == "rename":
                            renamed.add(mv_id)
            mv.dirty, mv.retry = False, None
        store.clear_mv_marks([i for i in mvs if i not in later])
        if unsaved:
            store.save_cs(unsaved.values(), new=True)
            changed = [cs for cs in changed if cs.id not in unsaved]
        self._unsaved, self._scoped = {}, {}
        if changed:
            store.save_cs_pending(changed)  # only the pending export (and pi_attrs) changed here
        return renamed, waiting

    def _ref_target_connectors(self) -> set[str]:
        """The connectors whose objects references of the outbound connectors name (see _ref_map)."""
        if self._ref_targets is None:
            self._ref_targets = set()
            for n in self.ctx.rules.outbound_connectors:
                self._ref_targets |= {t.connector for t in self.ctx.ref_attrs(n).values()} or {n}
        return self._ref_targets

    def _ref_map(self, connector: str, ref_cs: list[tuple[int, int, str, int]],
                 cache: dict[str, dict[int, int]]) -> dict[int, int]:  # fmt: skip
        """MV id -> CS id of the objects references of ``connector`` name: its own, or (for a file
        connector's ``references: {attr: {connector: other}}``) another connector's."""
        out = cache.get(connector)
        if out is not None:
            return out
        targets = {t.connector for t in self.ctx.ref_attrs(connector).values()} or {connector}
        out = {}
        for conn in sorted(targets, key=lambda c: c != connector):
            for mv_id, cs_id, c, kind in ref_cs:
                if c == conn and kind == NORMAL:
                    out.setdefault(mv_id, cs_id)
        cache[connector] = out
        return out

