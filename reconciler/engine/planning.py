"""Pending exports as the plan stage reads them (``PlannedChange``) and the unmanaged objects.

Reference values are shown in the target's terms (its DN, key or id) so a
plan reads like the system it changes; sensitive values are flagged (the
renderers redact them), never dropped.
"""

from __future__ import annotations

from functools import partial
from typing import Any

from reconciler.engine.context import Context
from reconciler.engine.objects import NORMAL, CSObject
from reconciler.plan.model import AttributeDelta, LazyChange, PlannedChange, UnmanagedObject
from reconciler.store.rows import dumps, loads


def _sensitive_flows(ctx: Context) -> set[tuple[str, str]]:
    """(rule, flow label) pairs whose value comes from a sensitive MV attribute."""
    sens = ctx.playbook.sensitive_attributes()
    out: set[tuple[str, str]] = set()
    for rules in ctx.rules.outbound.values():
        for r in rules:
            for f in r.flows:
                reads = {f.source} if f.source else set(getattr(f.expr, "attributes", ()) or ())
                if reads & sens:
                    out.add((r.name, f.label))
    return out


def _flow_labels(ctx: Context) -> dict[tuple[str, int], str]:
    """(outbound rule, flow index) -> the flow's label, as explain and plans name it."""
    if ctx.flow_labels is None:
        ctx.flow_labels = {(r.name, i): f.label for rules in ctx.rules.outbound.values() for r in rules
                           for i, f in enumerate(r.flows)}  # fmt: skip
    return ctx.flow_labels


def _as_list(v: Any) -> list[Any]:
    if v is None:
        return []
    return list(v) if isinstance(v, list) else [v]


class _Batch:
    """What the changes read in one batch share to build their deltas when asked: the reference targets
    (shown in the target's terms), the references the objects hold now, the sensitive flows.

    The targets and held references are read when a change of the batch is first built: a plan of
    100,000 adds that is only shown (as a few clustered lines) and applied never reads them. A dry run
    (plan, drift) reads them at once, since its rows are rolled back before the plan is rendered."""

    __slots__ = ("_held", "_targets", "ctx", "refdefs", "sens", "store", "target_ids", "updated")

    def __init__(self, ctx: Context, refdefs: dict[str, Any], target_ids: set[int], updated: list[int],
                 sens: set[tuple[str, str]]) -> None:  # fmt: skip
        self.ctx, self.refdefs, self.sens, self.store = ctx, refdefs, sens, ctx.store
        self.target_ids, self.updated = target_ids, updated
        self._held: dict[int, list[tuple[str, int]]] | None = None
        self._targets: dict[int, RefTargetView] | None = None
        if self.store.in_dry_run:
            self._read()

    def _read(self) -> None:
        store: Any = self.store
        held = store.refs_of(self.updated) if self.refdefs and self.updated else {}
        ids = self.target_ids | {d for refs in held.values() for _, d in refs}
        self._held, self._targets = held, ref_targets(store, self.refdefs, ids) if ids else {}

    @property
    def held(self) -> dict[int, list[tuple[str, int]]]:
        if self._held is None:
            self._read()
        return self._held  # type: ignore[return-value]

    @property
    def targets(self) -> dict[int, RefTargetView]:
        if self._targets is None:
            self._read()
        return self._targets  # type: ignore[return-value]


def planned_changes(ctx: Context) -> list[PlannedChange]:
    """Every pending export as a change; each keeps its pending export as stored (JSON text) and decodes it
    again when its deltas are first read: a plan of 100,000 adds holds 100,000 short strings, not a
    hundred thousand decoded dictionaries."""
    store: Any = ctx.store
    sens = _sensitive_flows(ctx)
    out: list[PlannedChange] = []
    for name in ctx.playbook.connectors:
        if not store.count_cs(name, "pending_export"):
            continue
        refdefs = ctx.ref_attrs(name)
        for rows in store.iter_cs_planned(name, ctx.batch):
            pes = [loads(r[6]) for r in rows]
            target_ids = {i for pe in pes for ids in (pe.get("refs") or {}).values() for i in ids}
            updated = [r[0] for r, pe in zip(rows, pes) if pe.get("refs") and pe.get("op") != "add"]
            shared = _Batch(ctx, refdefs, target_ids, updated, sens)
            mv_guids = store.mv_guids({r[5] for r in rows if r[5]})
            for row, pe in zip(rows, pes):
                out.append(_change(shared, name, row, pe, mv_guids))
    return out


def planned_change(ctx: Context, cs: CSObject) -> PlannedChange:
    """One object's pending export as a change, exactly as ``planned_changes`` shows it (``explain``)."""
    pe = cs.pending_export or {}
    row = (cs.id, cs.guid, cs.object_type, cs.dn, cs.anchor, cs.mv_id, dumps(pe), dumps(cs.attrs))
    target_ids = {i for ids in (pe.get("refs") or {}).values() for i in ids}
    updated = [cs.id] if cs.id is not None and pe.get("refs") and pe.get("op") != "add" else []
    shared = _Batch(ctx, ctx.ref_attrs(cs.connector), target_ids, updated, _sensitive_flows(ctx))
    mv_guids = ctx.store.mv_guids([cs.mv_id]) if cs.mv_id is not None else {}  # type: ignore[attr-defined]
    return _change(shared, cs.connector, row, pe, mv_guids)


class RefTargetView:
    """What a plan shows (and an export sends) of a reference's target: its DN, anchor, kind, pending new
    DN and key values, not the whole object."""

    __slots__ = ("anchor", "dn", "keys", "kind", "new_dn")

    def __init__(self, dn: str, anchor: str | None, kind: int, new_dn: str | None, keys: dict[str, Any]) -> None:
        self.dn, self.anchor, self.kind, self.new_dn, self.keys = dn, anchor, kind, new_dn, keys


def ref_targets(store: Any, refdefs: dict[str, Any], ids: set[int]) -> dict[int, RefTargetView]:
    """Reference targets by id, reading only the columns (and JSON members) shown or sent: a group with
    thousands of members must not load thousands of whole objects."""
    keys = sorted({rd.key for rd in refdefs.values() if rd.by == "key" and rd.key})
    return {i: RefTargetView(dn, anchor, kind, new_dn, values)
            for i, dn, anchor, kind, new_dn, values in store.cs_ref_views(ids, keys)}  # fmt: skip


def _ref_display(refdefs: dict[str, Any], attr: str, t: RefTargetView | None) -> Any:
    if t is None:
        return None
    rd = refdefs.get(attr)
    if rd is not None and rd.by == "key" and rd.key:
        v = t.keys.get(rd.key)
        return v if v is not None else t.dn
    if rd is not None and rd.by == "anchor":
        return t.anchor or t.dn
    return t.dn


def _change(shared: _Batch, connector: str, row: tuple[Any, ...], pe: dict[str, Any],
            mv_guids: dict[int, str]) -> PlannedChange:  # fmt: skip
    cs_id, guid, object_type, dn, anchor, mv_id, pe_text, attrs_text = row
    op = pe.get("op", "update")
    header: dict[str, Any] = {
        "connector": connector, "op": op, "object_type": object_type, "dn": dn, "anchor": anchor,
        "new_dn": pe.get("new_dn"), "rule": pe.get("rule"), "cause": pe.get("cause") or "source",
        "mv_guid": mv_guids.get(mv_id) if mv_id else None, "cs_guid": guid,
    }  # fmt: skip
    if op == "delete":
        return PlannedChange(**header)
    names = (*(pe.get("attrs") or ()), *(pe.get("refs") or ()))
    build = partial(_build, shared, cs_id, pe_text, None if op == "add" else attrs_text)
    return LazyChange.of(build, names, header, bool(shared.sens))


def _build(shared: _Batch, cs_id: int, pe_text: str, attrs_text: str | None) -> list[AttributeDelta]:
    """The deltas of one change, from its pending export and (but for an add) what its system holds."""
    pe = loads(pe_text)
    op, own, cause = pe.get("op", "update"), pe.get("rule"), pe.get("cause") or "source"
    attrs: dict[str, Any] = pe.get("attrs") or {}
    held_attrs = loads(attrs_text) if attrs_text is not None else None
    before = None if held_attrs is None else {name: held_attrs.get(name) for name in attrs}
    refdefs, targets = shared.refdefs, shared.targets
    shown: dict[str, tuple[Any, Any]] = {}
    was_by: dict[str, list[Any]] = {}
    for a, d in shared.held.get(cs_id, ()) if op != "add" else ():
        was_by.setdefault(a, []).append(_ref_display(refdefs, a, targets.get(d)))
    for name, ids in (pe.get("refs") or {}).items():
        after = sorted(str(v) for v in (_ref_display(refdefs, name, targets.get(i)) for i in ids) if v is not None)
        was = None if op == "add" else sorted(str(v) for v in was_by.get(name, []) if v is not None)
        shown[name] = (was or None, after or None)
    return _deltas(shared.ctx, attrs, before, shown, pe.get("arule") or {}, pe.get("acause") or {}, own, cause,
                   shared.sens)  # fmt: skip


def _deltas(ctx: Context, attrs: dict[str, Any], before: dict[str, Any] | None, refs: dict[str, tuple[Any, Any]],
            arule: dict[str, Any], acause: dict[str, str], own: str | None, cause: str,
            sens: set[tuple[str, str]]) -> list[AttributeDelta]:  # fmt: skip
    """A change's attribute deltas, by name: what ``LazyChange`` builds when they are first read."""
    labels = _flow_labels(ctx)
    own_rule = ctx.rules.outbound_rule(own) if own is not None else None
    unnamed = own_rule.flow_labels if own_rule is not None else {}  # the own rule's flows (see staging)
    if before is None:
        items = [(name, None, after) for name, after in attrs.items()]
    else:
        items = [(name, before.get(name), after) for name, after in attrs.items()]
    if refs:
        items += [(name, was, now) for name, (was, now) in refs.items()]
    items.sort(key=_by_name)
    out: list[AttributeDelta] = []
    for name, was, now in items:
        given = arule.get(name)
        rule: str | None
        flow: Any
        if given is None:
            rule, flow = (own, unnamed[name]) if name in unnamed else (None, None)
        elif isinstance(given, int):  # the flow's index in the change's own rule (see engine.sync.outbound)
            rule, flow = own, labels.get((own, given))  # type: ignore[arg-type]
        else:
            rule, flow = (given or [None, None])[:2]
            if isinstance(flow, int):  # the flow's index in its rule (see engine.sync.outbound)
                flow = labels.get((rule, flow))  # type: ignore[arg-type]
        multi = isinstance(now, list) or isinstance(was, list)
        # positional: a plan of 100,000 adds makes a million of these
        delta = AttributeDelta(name, was, now, None, None, multi, bool(sens) and (rule, flow) in sens,
                               rule, flow, acause.get(name, cause))  # type: ignore[arg-type]  # fmt: skip
        if multi:
            old, new = _as_list(was), _as_list(now)
            delta.added = [v for v in new if v not in old] if old else new
            delta.removed = [v for v in old if v not in new] if new else old
        out.append(delta)
    return out


def _by_name(item: tuple[str, Any, Any]) -> str:
    return item[0].lower()


def unmanaged(ctx: Context) -> list[UnmanagedObject]:
    """Disconnectors in connectors that outbound rules write to: listed, never touched."""
    store: Any = ctx.store
    out = []
    for name in sorted(ctx.rules.outbound_connectors):
        for batch in store.iter_cs(name, "disconnector", ctx.batch):
            for cs in batch:
                if cs.kind == NORMAL and cs.pending_export is None and cs.hash is not None:
                    out.append(UnmanagedObject(cs.connector, cs.object_type, cs.dn, cs.anchor))
    return out
