"""Sync rules compiled once per run: expressions parsed, flows indexed, rules ordered by precedence."""

from __future__ import annotations

import functools
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from reconciler.engine.sync.scoping import compile_scope
from reconciler.errors import PlaybookError
from reconciler.playbook.model import Flow, JoinCondition, Playbook, SyncRule


def _compile(text: str, where: str, mark: Any) -> Any:
    from reconciler.expressions import compile_expression

    try:
        return compile_expression(text)
    except PlaybookError:
        raise
    except Exception as exc:  # ExpressionSyntaxError and friends: point at the rule
        msg = exc.one_line() if hasattr(exc, "one_line") else str(exc)
        raise PlaybookError(
            f"{where}: {msg}",
            file=getattr(mark, "file", None),
            line=getattr(mark, "line", None),
            column=getattr(mark, "column", None),
        ) from exc


@dataclass
class CompiledFlow:
    target: str
    source: str | None
    expr: Any  # reconciler.expressions.Expression | None
    initial_only: bool
    label: str  # how explain and plans name the flow

    def evaluate(self, attrs: Mapping[str, Any]) -> Any:
        if self.expr is None:
            return attrs.get(self.source)  # type: ignore[arg-type]
        return self.expr.plain(attrs)


@dataclass
class CompiledJoin:
    mv: str
    cs: str | None
    expr: Any
    case_sensitive: bool

    def value(self, attrs: Mapping[str, Any]) -> Any:
        if self.expr is None:
            return attrs.get(self.cs)  # type: ignore[arg-type]
        return self.expr.plain(attrs)


@dataclass
class CompiledRule:
    rule: SyncRule
    flows: list[CompiledFlow]
    joins: list[list[CompiledJoin]]
    dn: Any = None  # outbound: compiled dn expression
    order: int = 0  # position in the playbook, the tie-breaker after precedence
    scope_test: Any = None  # engine.sync.scoping.compile_scope of the rule's scope (None: all in scope)
    plan: Any = None  # inbound: per flow what precedence.compute_attributes needs, worked out once a run
    copies: Any = None  # inbound, with ``plan``: per flow the source of a plain copy into text, else None
    name: str = field(init=False)  # the rule's name: an attribute, read for every object of a run

    def __post_init__(self) -> None:
        self.name = self.rule.name

    def in_scope(self, attrs: Mapping[str, Any], member_of: Any = None) -> bool:
        test = self.scope_test
        return True if test is None else bool(test(attrs, member_of))

    @functools.cached_property
    def flow_index(self) -> dict[str, int]:
        """Target -> index of the rule's flow to it (a rule writes each target once): a pending add leaves
        the flows of its own rule unnamed (see engine.sync.staging)."""
        out: dict[str, int] = {}
        for index, flow in enumerate(self.flows):
            out.setdefault(flow.target, index)
        return out

    @functools.cached_property
    def flow_labels(self) -> dict[str, str]:
        """Target -> label of the rule's flow to it (what a plan names the flow an add leaves unnamed)."""
        return {target: self.flows[index].label for target, index in self.flow_index.items()}


@dataclass
class CompiledRules:
    inbound: dict[str, list[CompiledRule]] = field(default_factory=dict)  # connector -> rules
    outbound: dict[str, list[CompiledRule]] = field(default_factory=dict)  # mv_type -> rules
    outbound_connectors: set[str] = field(default_factory=set)
    join_attrs: dict[str, set[str]] = field(default_factory=dict)  # mv_type -> MV attributes used by joins

    _by_type: dict[tuple[str, str], list[CompiledRule]] = field(default_factory=dict)
    _unscoped: dict[tuple[str, str], bool] = field(default_factory=dict)
    _outbound_by_name: dict[str, CompiledRule] = field(default_factory=dict)

    def outbound_rule(self, name: str) -> CompiledRule | None:
        if not self._outbound_by_name:
            self._outbound_by_name.update((r.name, r) for rules in self.outbound.values() for r in rules)
        return self._outbound_by_name.get(name)

    def inbound_for(self, connector: str, cs_type: str) -> list[CompiledRule]:
        key = (connector, cs_type)
        found = self._by_type.get(key)
        if found is None:
            found = [r for r in self.inbound.get(connector, ()) if r.rule.cs_type == cs_type]
            self._by_type[key] = found
            self._unscoped[key] = all(r.scope_test is None for r in found)
        return found

    def unscoped(self, connector: str, cs_type: str) -> bool:
        """Every inbound rule of the connector's objects of this type takes them all (no scope)."""
        key = (connector, cs_type)
        if key not in self._unscoped:
            self.inbound_for(connector, cs_type)
        return self._unscoped[key]


def _flow_label(f: Flow) -> str:
    src = f.source if f.expression is None else f.expression
    return f"{f.target} <- {src}"


def _compile_join(j: JoinCondition, rule: SyncRule) -> CompiledJoin:
    expr = _compile(j.expression, f"sync rule {rule.name!r} join", j.mark) if j.expression else None
    return CompiledJoin(j.mv, j.cs, expr, j.case_sensitive)


def compile_rules(playbook: Playbook) -> CompiledRules:
    out = CompiledRules()
    enabled = {n for n, c in playbook.connectors.items() if c.enabled}
    for order, rule in enumerate(playbook.sync_rules):
        if not rule.enabled or rule.connector not in enabled:
            continue
        flows = []
        for f in rule.flows:
            expr = None
            if f.expression is not None:
                expr = _compile(f.expression, f"sync rule {rule.name!r} flow to {f.target}", f.mark or rule.mark)
            flows.append(CompiledFlow(f.target, f.source, expr, f.initial_only, _flow_label(f)))
        joins = [[_compile_join(j, rule) for j in group] for group in rule.join]
        dn = _compile(rule.dn, f"sync rule {rule.name!r} dn", rule.mark) if rule.dn else None
        cr = CompiledRule(rule, flows, joins, dn, order, compile_scope(rule.scope))
        if rule.inbound:
            out.inbound.setdefault(rule.connector, []).append(cr)
            for group in rule.join:
                out.join_attrs.setdefault(rule.mv_type, set()).update(j.mv for j in group)
        else:
            out.outbound.setdefault(rule.mv_type, []).append(cr)
            out.outbound_connectors.add(rule.connector)
    sign = -1 if os.environ.get("RECONCILER_TEST_MUTATION") == "reverse-precedence" else 1  # tests only
    for rules in (*out.inbound.values(), *out.outbound.values()):
        rules.sort(key=lambda r: (sign * r.rule.precedence, r.order))
    return out
