"""The pieces of an explanation: attribute views, rule checks, pending exports, reasons for a disconnector.

Reads the state and evaluates scoping filters and join lookups for one object at a time; never writes.
Reference values are read a bounded number at a time (``REF_SHOWN``): a group with a hundred thousand
members is explained without loading them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from reconciler.engine.context import Context
from reconciler.engine.objects import (
    INBOUND_LINKS,
    NORMAL,
    PLACEHOLDER,
    TRANSIENT,
    UNCONFIRMED,
    CSObject,
    MVObject,
)
from reconciler.engine.planning import planned_change  # one object's pending export as a plan shows it
from reconciler.engine.rules import CompiledRule
from reconciler.engine.sync.join import JoinIndex, join_candidates
from reconciler.engine.sync.precedence import in_scope_rules
from reconciler.engine.sync.scoping import condition_holds
from reconciler.engine.values import to_expression
from reconciler.errors import ReconcilerError
from reconciler.expressions import IGNORE_THIS_FLOW
from reconciler.plan.digest import jsonable
from reconciler.plan.model import AttributeDelta
from reconciler.plan.redact import Redactor, mask
from reconciler.plan.render.values import show
from reconciler.playbook.model import Playbook

REF_SHOWN = 25  # reference values named per attribute; the rest are counted


@dataclass
class AttributeView:
    """One attribute's value (masked when sensitive) and where it comes from."""

    name: str
    value: Any
    sensitive: bool = False
    refs: list[str] | None = None  # a reference's targets as a person reads them (DN, GUID and displayName)
    more_refs: int = 0  # targets not named
    rule: str | None = None  # MV: the contributing inbound rule; target CS: the outbound rule that owns it
    connector: str | None = None  # MV: the contributing connector
    flow: str | None = None  # the flow, as `target <- source or expression`
    source: str | None = None  # MV: the contributing CS object, CONNECTOR:DN
    precedence: int | None = None
    initial_only: bool = False
    also: list[str] = field(default_factory=list)  # MV: other in-scope rules flowing it, which lost
    note: str | None = None


@dataclass
class RuleCheck:
    """A sync rule that reads (inbound) or writes (outbound) an object, and whether its scope takes it."""

    rule: str
    precedence: int
    in_scope: bool
    failing: list[str] = field(default_factory=list)  # out of scope: the conditions that fail, with values


@dataclass
class ExportView:
    """A pending export, as a plan shows it (the same deltas, the same redaction)."""

    op: str
    rule: str | None
    cause: str
    new_dn: str | None = None
    changes: list[AttributeDelta] = field(default_factory=list)


@dataclass
class Helpers:
    """What building one explanation shares: the run context, the redactor, references read once."""

    ctx: Context
    playbook: Playbook
    store: Any
    redactor: Redactor
    cs_refs: dict[int, list[tuple[str, int]]] = field(default_factory=dict)  # src -> (attr, dst), bounded
    ref_counts: dict[tuple[int, str], int] = field(default_factory=dict)  # (src, attr) -> all its targets
    ref_views: dict[int, str] = field(default_factory=dict)  # cs id -> how a reference to it reads

    @classmethod
    def of(cls, ctx: Context) -> Helpers:
        return cls(ctx, ctx.playbook, ctx.store, Redactor.for_sources(ctx.playbook))

    # --------------------------------------------------------------- values
    def attribute(self, name: str, connector: str, value: Any) -> AttributeView:
        sensitive = self.redactor.is_sensitive(connector, AttributeDelta(name))
        return AttributeView(name, self.value(value, sensitive), sensitive)

    def value(self, value: Any, sensitive: bool) -> Any:
        return jsonable(mask(value) if sensitive else self.redactor.scrub(value))

    def inbound_rule(self, name: str) -> CompiledRule | None:
        for rules in self.ctx.rules.inbound.values():
            for r in rules:
                if r.name == name:
                    return r
        return None

    # --------------------------------------------------------------- references
    def load_refs(self, objs: list[CSObject]) -> None:
        """The references the objects hold (cs_ref) and those their export memory names, with how their
        targets read (pending exports read theirs as a plan does: ``export_view``)."""
        rows = self.store.refs_of([o.id for o in objs if o.id is not None])
        wanted: set[int] = set()
        for src, pairs in rows.items():
            kept: list[tuple[str, int]] = []
            for attr, dst in sorted(pairs):
                n = self.ref_counts.get((src, attr), 0)
                self.ref_counts[(src, attr)] = n + 1
                if n < REF_SHOWN:
                    kept.append((attr, dst))
                    wanted.add(dst)
            self.cs_refs[src] = kept
        for o in objs:
            for entry in (o.export_memory or {}).values():
                wanted.update((entry.get("r") or [])[:REF_SHOWN])
        for dst, dn, _anchor, kind, _new_dn, _keys in self.store.cs_ref_views(wanted, []):
            text = self.redactor.scrub(dn)
            if kind != NORMAL:
                text += " (placeholder)" if kind == PLACEHOLDER else " (transient)"
            self.ref_views[dst] = text

    def cs_ref_display(self, cs_id: int, attr: str) -> tuple[list[str], int] | None:
        pairs = [d for a, d in self.cs_refs.get(cs_id, ()) if a == attr]
        if not pairs:
            return None
        total = self.ref_counts.get((cs_id, attr), len(pairs))
        return [self.ref_views.get(d, f"#{d}") for d in pairs], total - len(pairs)

    def mv_ref_display(self, value: Any) -> tuple[list[str | None], list[str], int]:
        """MV reference values (the state's MV ids) as the targets' GUIDs and as GUID with displayName, the
        first REF_SHOWN of them, and how many more there are."""
        ids = value if isinstance(value, list) else [value]
        head = [i for i in ids[:REF_SHOWN] if isinstance(i, int)]
        mvs = self.store.mv_by_ids(head)
        masked = self.redactor.is_sensitive("", AttributeDelta("displayName"))
        guids: list[str | None] = []
        shown = []
        for i in head:
            m = mvs.get(i)
            guids.append(m.guid if m is not None else None)
            if m is None:
                shown.append("a metaverse object that is gone")
                continue
            name = m.attrs.get("displayName")
            shown.append(f"{m.guid} ({self.value(name, masked)})" if name not in (None, "") else m.guid)
        return guids, shown, max(0, len(ids) - len(head))

    # --------------------------------------------------------------- precedence
    def scoped_inbound(self, linked: list[CSObject], mv: MVObject) -> list[tuple[CSObject, CompiledRule]]:
        """(CS object, inbound rule) pairs that flow into ``mv`` now, as precedence.compute_attributes
        takes them: linked normal objects of connectors with inbound rules, rules in scope."""
        out: list[tuple[CSObject, CompiledRule]] = []
        for cs in linked:
            if cs.mv_id != mv.id or cs.kind != NORMAL or cs.connector not in self.ctx.rules.inbound:
                continue
            try:
                rules = in_scope_rules(self.ctx, cs)
            except ReconcilerError:
                continue
            out.extend((cs, r) for r in rules if r.rule.mv_type == mv.object_type)
        return out

    def other_contributors(self, scoped: list[tuple[CSObject, CompiledRule]], name: str, rule: str | None,
                           cs_id: int | None) -> list[str]:  # fmt: skip
        """The in-scope rules that flow ``name`` too but did not win it (precedence, or no value)."""
        out = []
        for cs, r in scoped:
            if (r.name, cs.id) == (rule, cs_id):
                continue
            flows = [f for f in r.flows if f.target == name]
            if not flows:
                continue
            text = f"{cs.connector} / {r.name} (precedence {r.rule.precedence})"
            if all(f.expr is not None or f.source not in self.ctx.ref_attrs(cs.connector) for f in flows):
                try:
                    empty = all(f.evaluate(cs.attrs) in (None, IGNORE_THIS_FLOW) for f in flows)
                except (ReconcilerError, ValueError):
                    empty = False
                if empty:
                    text += ": gives no value"
            out.append(text)
        return out


# ----------------------------------------------------------------------------- scope
def _failing(h: Helpers, scope: list[list[Any]], attrs: dict[str, Any], member_of: Any,
             connector: str) -> list[str]:  # fmt: skip
    """Per AND-group, the conditions that do not hold, each with the value the object holds."""
    out = []
    for i, group in enumerate(scope, 1):
        bad = []
        for c in group:
            if condition_holds(c, attrs, member_of):
                continue
            if c.op.upper() in ("ISMEMBEROF", "NOTISMEMBEROF"):
                bad.append(f"{c.op} {c.value!r}")
                continue
            sensitive = h.redactor.is_sensitive(connector, AttributeDelta(c.attribute))
            held = show(h.value(attrs.get(c.attribute), sensitive))
            bad.append(f"{c.attribute} {c.op}{'' if c.value is None else ' ' + show(c.value)} (holds {held})")
        prefix = f"group {i}: " if len(scope) > 1 else ""
        out.append(prefix + "; ".join(bad))
    return out


def inbound_checks(h: Helpers, cs: CSObject) -> list[RuleCheck]:
    """The inbound rules that read the object's connector and type, scoped on its values."""
    if cs.kind == PLACEHOLDER:
        return []
    ctx = h.ctx

    def member_of(dn: str) -> bool:
        return cs.id in ctx.members(dn)

    out = []
    for rule in ctx.rules.inbound_for(cs.connector, cs.object_type):
        try:
            ok = rule.in_scope(cs.attrs, member_of)
        except ReconcilerError as exc:
            out.append(RuleCheck(rule.name, rule.rule.precedence, False, [exc.one_line()]))
            continue
        failing = [] if ok else _failing(h, rule.rule.scope, cs.attrs, member_of, cs.connector)
        out.append(RuleCheck(rule.name, rule.rule.precedence, ok, failing))
    return out


def outbound_owners(h: Helpers, cs: CSObject, mv: MVObject
                    ) -> tuple[list[RuleCheck], dict[str, tuple[str, str, bool]]]:  # fmt: skip
    """The outbound rules writing the object's connector and type, scoped on the MV object, and per CS
    attribute the (rule, flow, initial only) that owns it: the in-scope rule of lowest precedence number."""
    ctx = h.ctx
    rules = [r for r in ctx.rules.outbound.get(mv.object_type, ())
             if r.rule.connector == cs.connector and r.rule.cs_type == cs.object_type]  # fmt: skip
    if not rules:
        return [], {}
    typedef = h.playbook.metaverse.get(mv.object_type)
    types = {n: a.type for n, a in typedef.attributes.items()} if typedef else {}
    attrs = {k: to_expression(v, types.get(k)) for k, v in mv.attrs.items()}

    def member_of(dn: str) -> bool:
        return mv.id in ctx.member_mvs(dn)

    checks: list[RuleCheck] = []
    owners: dict[str, tuple[str, str, bool]] = {}
    for rule in rules:  # in precedence order (compile_rules sorts them)
        try:
            ok = rule.in_scope(attrs, member_of)
        except ReconcilerError as exc:
            checks.append(RuleCheck(rule.name, rule.rule.precedence, False, [exc.one_line()]))
            continue
        checks.append(RuleCheck(rule.name, rule.rule.precedence, ok,
                                [] if ok else _failing(h, rule.rule.scope, attrs, member_of, "")))  # fmt: skip
        if ok:
            for flow in rule.flows:
                owners.setdefault(flow.target, (rule.name, flow.label, flow.initial_only))
    return checks, owners


# ----------------------------------------------------------------------------- one CS object
def cs_parts(h: Helpers, cs: CSObject, owners: dict[str, tuple[str, str, bool]]
             ) -> tuple[list[AttributeView], ExportView | None, list[dict[str, Any]]]:  # fmt: skip
    """The object's attributes (with the outbound flow owning each), its pending export and export memory."""
    attrs = []
    for name in sorted(set(cs.attrs) | set(owners), key=str.lower):
        view = h.attribute(name, cs.connector, cs.attrs.get(name))
        refs = h.cs_ref_display(cs.id, name) if cs.id is not None else None
        if refs is not None:
            view.refs, view.more_refs = refs
        owner = owners.get(name)
        if owner is not None:
            view.rule, view.flow, view.initial_only = owner
        attrs.append(view)
    memory = []
    for name, entry in sorted((cs.export_memory or {}).items()):
        sensitive = h.redactor.is_sensitive(cs.connector, AttributeDelta(name))
        item: dict[str, Any] = {
            "attribute": name,
            "value": h.value(entry.get("v"), sensitive),
            "state": "not confirmed by the last import: exported again" if entry.get("s") == UNCONFIRMED
            else "exported, awaiting confirmation by an import",
        }
        if entry.get("r"):
            item["refs"] = [h.ref_views.get(d, f"#{d}") for d in entry["r"][:REF_SHOWN]]
        memory.append(item)
    return attrs, export_view(h, cs), memory


def export_view(h: Helpers, cs: CSObject) -> ExportView | None:
    """The object's pending export with the deltas and redaction of a plan (engine.planning builds them)."""
    pe = cs.pending_export
    if not pe or cs.id is None:
        return None
    ctx = h.ctx
    change = h.redactor.change(planned_change(ctx, cs))
    deltas = [AttributeDelta(d.name, jsonable(d.before), jsonable(d.after), jsonable(d.added),
                             jsonable(d.removed), d.multivalued, d.sensitive, d.rule, d.flow, d.cause)
              for d in change.attributes]  # fmt: skip
    return ExportView(change.op, change.rule, change.cause, change.new_dn, deltas)


# ----------------------------------------------------------------------------- why not joined
def disconnected_notes(h: Helpers, cs: CSObject, checks: list[RuleCheck]) -> list[str]:
    """Why an object is not joined, as far as the state and a look at its rules tell (nothing is run)."""
    ctx = h.ctx
    if cs.kind == PLACEHOLDER:
        n = len(h.store.referrers([cs.id]))
        return [f"a placeholder: it stands for an object that {n} other object(s) reference (or a parent) and "
                "that was never imported; it is never synchronized"]  # fmt: skip
    notes = []
    if cs.kind == TRANSIENT:
        notes.append("transient: another object took its DN with another anchor; the next import of its "
                     "system resolves the rename or the delete")  # fmt: skip
    if cs.pending_import:
        notes.append(f"a pending import ({cs.pending_import}) waits for the next synchronization")
    if cs.sync_error:
        notes.append(f"the last synchronization failed on it: {h.redactor.scrub(cs.sync_error)}")
    if not checks:
        if cs.connector in ctx.rules.outbound_connectors:
            notes.append(f"no inbound rule reads {cs.connector} {cs.object_type} objects and no outbound rule "
                         "provisioned it: unmanaged, which plan and drift list for information and never "
                         "touch")  # fmt: skip
        else:
            notes.append(f"no inbound sync rule reads {cs.connector} objects of type {cs.object_type}")
        return notes
    scoped = [c for c in checks if c.in_scope]
    if not scoped:
        needs = [f"{c.rule!r} needs {' or '.join(c.failing) or 'nothing it has'}" for c in checks]
        notes.append("in the scope of no inbound rule: " + "; ".join(needs))
        return notes
    if cs.sync_error or cs.pending_import:
        return notes
    notes.extend(_join_notes(h, cs, [c.rule for c in scoped]))
    return notes


def _join_notes(h: Helpers, cs: CSObject, scoped: list[str]) -> list[str]:
    """What each in-scope rule's join rules find for the object now, and whether a rule projects."""
    ctx = h.ctx
    index = JoinIndex(h.store, ctx.rules.join_attrs, preload=False)
    rules = [r for r in ctx.rules.inbound_for(cs.connector, cs.object_type) if r.name in scoped]
    notes = []
    for rule in rules:
        for group in rule.joins:
            conds = " and ".join(f"{j.cs or 'expression'} = MV {j.mv}" for j in group)
            try:
                found = join_candidates(index, rule, group, cs.attrs)
            except ReconcilerError as exc:
                notes.append(f"{rule.name!r} join on {conds}: {exc.one_line()}")
                continue
            if found is None:
                notes.append(f"{rule.name!r} join on {conds}: the object has no value to join on")
            elif not found:
                notes.append(f"{rule.name!r} join on {conds}: no metaverse object matches")
            else:
                notes.append(_join_found(h, cs, rule, conds, found))
    projector = next((r for r in rules if r.rule.project), None)
    if projector is not None:
        notes.append(f"{projector.name!r} projects: the next synchronization creates a metaverse object for it "
                     "unless a join matches first")  # fmt: skip
    else:
        notes.append("no rule in scope projects, so it stays a disconnector until a join rule matches")
    return notes


def _join_found(h: Helpers, cs: CSObject, rule: CompiledRule, conds: str, found: set[int]) -> str:
    guids = h.store.mv_guids(found)
    taken = h.store.cs_by_mv(found, [cs.connector])
    holders = [f"{o.connector}:{h.redactor.scrub(o.dn)}" for objs in taken.values() for o in objs
               if o.id != cs.id and o.link_kind in INBOUND_LINKS | {"provision"}]  # fmt: skip
    names = ", ".join(sorted(guids.values()))
    if len(found) > 1:
        return (f"{rule.name!r} join on {conds}: matches {len(found)} metaverse objects ({names}); a join must "
                "match one: add a condition or fix the duplicate values")  # fmt: skip
    if holders:
        return (f"{rule.name!r} join on {conds}: matches metaverse object {names}, which is already joined to "
                f"{', '.join(holders)} (one object per connector)")  # fmt: skip
    return f"{rule.name!r} join on {conds}: matches metaverse object {names}; the next synchronization joins it"
