"""Phase B of outbound synchronization for one object: the values the rules want in it, compared with
what its system holds (and export memory awaiting confirmation), staged as a pending export; and the
DN a rule gives an object (provisioning, renames)."""

from __future__ import annotations

from typing import Any

from reconciler.engine.context import Context
from reconciler.engine.objects import AWAITING, UNCONFIRMED, CSObject, MVObject
from reconciler.engine.rules import CompiledRule
from reconciler.engine.runs import COMPLETED_SYNC_ERRORS, RunResult
from reconciler.engine.sync.references import reference_ids
from reconciler.engine.values import same, to_stored
from reconciler.errors import ReconcilerError
from reconciler.expressions import AUTHORITATIVE_NULL, IGNORE_THIS_FLOW
from reconciler.playbook.model import Playbook


def never_exported(cs: CSObject) -> bool:
    return cs.export_state is None and cs.hash is None



class Staging:
    """What Outbound's phases share to compute an object's desired values, DN and pending export."""

    ctx: Context
    playbook: Playbook
    store: Any
    result: RunResult
    _plans: dict[str, list[tuple[int, Any, str, bool, bool, str | None]]]
    _partial: dict[tuple[str, frozenset[str]], list[tuple[int, Any, str, bool, bool, str | None]]]
    _unsaved: dict[int, CSObject]  # provisioned by the batch in hand, not stored yet

    def _dn(self, rule: CompiledRule, mv: MVObject, attrs: dict[str, Any]) -> str:
        cfg = self.ctx.config(rule.rule.connector)
        conn = self.ctx.connector(rule.rule.connector) if cfg.is_file else None
        if conn is not None and (rule.dn is None or not getattr(conn, "typed_records", False)):
            # a file's DN is its own (its dn expression or anchor=value); LDIF holds the rule's DN
            needed: Any = getattr(conn, "dn_attributes", None)
            desired = self._desired_plain([rule], mv, attrs, adding=True, only=needed)
            dn_for = getattr(conn, "dn_for", None)
            if dn_for is not None:
                return str(dn_for(desired))
            anchor = cfg.anchor[0] if cfg.anchor else None
            if anchor and desired.get(anchor) is not None:
                return f"{anchor}={desired[anchor]}"
        if rule.dn is None:
            raise ReconcilerError(f"sync rule {rule.name!r} provisions but has no `dn` expression")
        value = rule.dn.plain(attrs)
        if isinstance(value, list):
            value = value[0] if len(value) == 1 else None
        if value is None or value == "":
            raise ReconcilerError(f"sync rule {rule.name!r}: the `dn` expression gave no value")
        return str(value)

    def _desired_plain(self, rules: list[CompiledRule], mv: MVObject, attrs: dict[str, Any],
                       adding: bool, only: frozenset[str] | None = None) -> dict[str, Any]:  # fmt: skip
        out: dict[str, Any] = {}
        for target, (value, _, _, _) in self._desired(rules, mv, attrs, adding, {}, only).items():
            if value is not None and not isinstance(value, RefIds):
                out[target] = value
        return out

    def _error(self, mv: MVObject, connector: str, message: str) -> None:
        self.result.error(f"{mv.object_type} {mv.guid}", message, kind="provision-error")
        self.result.status = COMPLETED_SYNC_ERRORS

    def _desired(self, rules: list[CompiledRule], mv: MVObject, attrs: dict[str, Any], adding: bool,
                 ref_map: dict[int, int], only: frozenset[str] | None = None
                 ) -> dict[str, tuple[Any, str, int, bool]]:  # fmt: skip
        """target attribute -> (value, rule, flow, initial_only) by precedence (rules are sorted);
        ``only``: just these targets."""
        out: dict[str, tuple[Any, str, int, bool]] = {}
        for rule in rules:
            rname = rule.name
            for index, flow, target, initial_only, ref_source, copy in self._flow_plan(rule, only):
                if target in out:
                    continue  # a lower precedence number already owns it
                if initial_only and not adding:
                    continue
                if copy is not None:  # a plain copy: what flow.evaluate returns, without the calls
                    out[target] = (attrs.get(copy), rname, index, initial_only)
                    continue
                if ref_source:
                    out[target] = (RefIds(reference_ids(mv.attrs.get(flow.source), ref_map)),  # type: ignore[arg-type]
                                   rname, index, initial_only)  # fmt: skip
                    continue
                try:
                    value = flow.evaluate(attrs)
                except ReconcilerError as exc:
                    self.result.error(f"{mv.object_type} {mv.guid}", f"sync rule {rule.name!r}, flow to "
                                      f"{target}: {exc.one_line()}", kind="sync-error")  # fmt: skip
                    continue
                if value is IGNORE_THIS_FLOW:
                    continue
                if value is AUTHORITATIVE_NULL:
                    value = None
                out[target] = (value, rname, index, initial_only)
        return out

    def _flow_plan(self, rule: CompiledRule, only: frozenset[str] | None = None
                   ) -> list[tuple[int, Any, str, bool, bool, str | None]]:  # fmt: skip
        """(index, flow, target, initial_only, flows an MV reference as is, source of a plain copy or None)
        per flow of an outbound rule (``only``: of the flows to these targets)."""
        if only is not None:
            key = (rule.name, only)
            part = self._partial.get(key)
            if part is None:
                part = self._partial[key] = [f for f in self._flow_plan(rule) if f[2] in only]
            return part
        plan = self._plans.get(rule.name)
        if plan is None:
            typedef = self.playbook.metaverse.get(rule.rule.mv_type)
            plan = []
            for index, flow in enumerate(rule.flows):
                src = typedef.attributes.get(flow.source) if (typedef and flow.source) else None
                ref = src is not None and src.type == "reference" and flow.expr is None
                copy = flow.source if flow.expr is None and not ref else None
                plan.append((index, flow, flow.target, flow.initial_only, ref, copy))
            self._plans[rule.name] = plan
        return plan

    def _stage(self, cs: CSObject, mv: MVObject, rules: list[CompiledRule], attrs: dict[str, Any],
               ref_map: dict[int, int], imported_refs: dict[int, list[tuple[str, int]]]) -> dict[str, Any] | None:  # fmt: skip
        adding = never_exported(cs)
        # initial_only flows are computed too: an initial value the system never kept is sent again
        desired = self._desired(rules, mv, attrs, True, ref_map)
        target_refs = self.ctx.ref_attrs(cs.connector)
        if adding:
            own = cs.link_rule
            cause = "missing" if cs.connector in (mv.retry or ()) else "provision"
            values: dict[str, Any] = {}
            refs: dict[str, list[int]] = {}
            arule: dict[str, Any] = {}
            deps: set[int] = set()
            for name, (value, rule, flow, _) in desired.items():
                if isinstance(value, RefIds):
                    deps.update(value)
                    if name in target_refs:
                        if value:
                            refs[name] = list(value)
                        continue
                    value = self._ref_values(value)
                stored = value if type(value) is str else to_stored(value)  # text, mostly: stored as it is
                if stored is not None:
                    values[name] = stored
                if rule != own:  # its own rule's flow to an attribute goes without saying
                    arule[name] = [rule, flow]
            # an add's attributes share its cause and mostly come from its own rule: a first sync stages
            # one add per object, and an ``acause`` map and an empty ``arule`` were a quarter of each
            add: dict[str, Any] = {"attrs": values, "refs": refs}
            if arule:
                add["arule"] = arule
            add.update(mv=mv.id, op="add", rule=own, cause=cause)
            if deps:
                add["deps"] = sorted(deps)  # export order: what this object references goes first
            return add
        write_only = self.ctx.capabilities(cs.connector).write_only
        memory = {} if self.ctx.mutation == "ignore-export-memory" else (cs.export_memory or {})
        pe: dict[str, Any] = {"attrs": {}, "refs": {}, "acause": {}, "arule": {}, "mv": mv.id}
        held: dict[str, list[int]] = {}
        for a, d in imported_refs.get(cs.id, ()):  # type: ignore[arg-type]
            held.setdefault(a, []).append(d)
        causes: set[str] = set()
        for name, (value, rule, flow, initial_only) in desired.items():
            entry = memory.get(name)
            if name in write_only:
                continue  # never read back: sent on add only
            if initial_only and not (entry is not None and entry.get("s") == UNCONFIRMED):
                continue
            if isinstance(value, RefIds) and name in target_refs:
                have: Any = sorted(held.get(name, []))
                if entry is not None and entry.get("s") == AWAITING and "r" in entry:
                    have = sorted(entry["r"])
                want = sorted(value)
                if want == have:
                    continue
                pe["refs"][name] = want
                remembered = entry is not None and sorted(entry.get("r") or []) == want
            else:
                if isinstance(value, RefIds):
                    value = self._ref_values(value)
                want_v = to_stored(value)
                have = cs.attrs.get(name)
                if entry is not None and entry.get("s") == AWAITING and "v" in entry:
                    have = entry["v"]
                if same(want_v, have):
                    continue
                pe["attrs"][name] = want_v
                remembered = entry is not None and entry.get("s") == UNCONFIRMED and same(want_v, entry.get("v"))
            if remembered:
                c = "unconfirmed"
            elif name in (cs.pi_attrs or ()):
                c = "out-of-band"
            else:
                c = "source"
            pe["acause"][name] = c
            pe["arule"][name] = [rule, flow]
            causes.add(c)
        new_dn = None
        if self._can_rename(cs.connector):
            dn_rule = next((r for r in rules if r.name == cs.link_rule), None) or next(
                (r for r in rules if r.dn is not None), None)
            if dn_rule is not None and dn_rule.dn is not None:
                try:
                    dn = self._dn(dn_rule, mv, attrs)
                    if dn != cs.dn:  # exact: a change of case is a rename too
                        new_dn = dn
                except ReconcilerError as exc:
                    self._error(mv, cs.connector, exc.one_line())
        if not pe["attrs"] and not pe["refs"] and new_dn is None:
            return None
        pe["op"] = "rename" if new_dn else "update"
        if new_dn:
            pe["new_dn"] = new_dn
        pe["rule"] = own = cs.link_rule or (rules[0].name if rules else None)
        arule = pe["arule"]
        for name, (rule, flow) in arule.items():
            if rule == own:
                arule[name] = flow
        for c in ("unconfirmed", "out-of-band", "source"):
            if c in causes:
                pe["cause"] = c
                break
        else:
            pe["cause"] = "source"
        return pe

    def _can_rename(self, connector: str) -> bool:
        """Objects are renamed where the connector can (LDAP, LDIF), never in CSV or JSON files."""
        return self.ctx.capabilities(connector).rename

    def _ref_values(self, ids: RefIds) -> Any:
        """References into an attribute the target does not declare as one: the targets' DNs."""
        objs = self.store.cs_by_ids([i for i in ids if i not in self._unsaved])
        objs.update((i, self._unsaved[i]) for i in ids if i in self._unsaved)
        # a target with a rename staged is named by its new DN, which is what the export writes
        dns = sorted((o.pending_export or {}).get("new_dn") or o.dn for o in objs.values())
        return dns or None



class RefIds(list):  # type: ignore[type-arg]
    """Target CS ids of a reference value (a marker type among plain values)."""
