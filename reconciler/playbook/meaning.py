"""Meaning checks: what the schema cannot see.

A rule names a connector, object types and attributes that must exist; two rules of equal precedence
may not write one attribute; a reference flows only into a reference; every expression compiles and
reads attributes its source side has. Nothing here connects to a system: connector attributes come
from the playbook, the files that exist, and (hook) a server schema cached by ``connector schema``.
"""

from __future__ import annotations

import importlib.util
import os
import re
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from reconciler.connectors.base import ConnectorSchema
from reconciler.errors import ExpressionError, ExpressionSyntaxError
from reconciler.playbook.attributes import AttributeSet, connector_attributes, file_attributes
from reconciler.playbook.diagnostics import Diagnostic, Severity, did_you_mean
from reconciler.playbook.loader import PathKey, SourceMap
from reconciler.playbook.model import ConnectorConfig, Mark, ObjectTypeDef, Playbook, Secret, SyncRule

_NO_VALUE_OPS = frozenset({"ISNULL", "ISNOTNULL"})
_LIST_OPS = frozenset({"ISIN", "ISNOTIN"})
_INT_OPS = frozenset({"ISBITSET", "ISNOTBITSET"})
#: File types whose DN is always the connector's own (LDIF records carry theirs, set by a rule's dn).
_OWN_DN_TYPES = frozenset({"csv", "json"})
_SYNTAX_PREFIX = re.compile(r"^syntax error at column \d+: ")


def _compiler() -> Callable[[str], Any] | None:
    """``compile_expression``, or None while the expressions package is not there."""
    try:
        from reconciler.expressions import compile_expression
    except ImportError:  # pragma: no cover - only before the expressions package existed
        return None
    return compile_expression


def meaning_diagnostics(
    playbook: Playbook, marks: SourceMap, schemas: Mapping[str, ConnectorSchema] | None = None
) -> list[Diagnostic]:
    """Every meaning error and warning of a schema-valid playbook."""
    checker = _Checker(playbook, marks, schemas or {})
    checker.run()
    return checker.out


class _Checker:
    def __init__(self, playbook: Playbook, marks: SourceMap, schemas: Mapping[str, ConnectorSchema]) -> None:
        self.pb = playbook
        self.marks = marks
        self.schemas = schemas
        self.out: list[Diagnostic] = []
        self.compile = _compiler()
        self.file_names = {
            name: file_attributes(c) for name, c in playbook.connectors.items() if c.is_file
        }  # read each file once
        self.written: dict[str, set[str]] = {}
        for rule in playbook.sync_rules:
            if not rule.inbound:
                self.written.setdefault(rule.connector, set()).update(f.target for f in rule.flows)

    # -- reporting ---------------------------------------------------------------------------
    def report(self, mark: Mark | None, message: str, severity: Severity = "error") -> None:
        self.out.append(Diagnostic.at(mark, message, severity))

    def at(self, path: PathKey) -> Mark | None:
        return self.marks.value(path)

    # -- the checks --------------------------------------------------------------------------
    def run(self) -> None:
        for name, config in self.pb.connectors.items():
            self.check_connector(name, config)
        seen: dict[str, int] = {}
        for index, rule in enumerate(self.pb.sync_rules):
            path: PathKey = ("sync_rules", index)
            if rule.name in seen:
                first = self.at(("sync_rules", seen[rule.name], "name"))
                self.report(
                    self.at((*path, "name")), f"rule name '{rule.name}' is used twice (first at {first})"
                )
            else:
                seen[rule.name] = index
            self.check_rule(index, rule)
        self.check_precedence()

    def cs_attributes(self, config: ConnectorConfig, cs_type: str, *, write: bool = False) -> AttributeSet:
        return connector_attributes(
            config,
            cs_type,
            write=write,
            cached=self.schemas.get(config.name),
            written=self.written.get(config.name, ()),
            file_names=self.file_names.get(config.name),
        )

    def check_connector(self, name: str, config: ConnectorConfig) -> None:
        path: PathKey = ("connectors", name)
        for key in ("password", "client_secret", "certificate"):
            secret = config.options.get(key)
            if isinstance(secret, Secret):
                self.check_secret(name, key, secret, (*path, key))
        if config.type == "graph" and importlib.util.find_spec("msgraph") is None:
            self.report(
                config.mark,
                f"connector {name}: the graph extra is not installed; "
                "pip install 'reconciler[graph]' before running it",
                "warning",
            )
        ca = config.path_option("ca_file")
        if ca is not None and not ca.is_file():
            self.report(
                self.at((*path, "ca_file")), f"connector {name}: ca_file {ca} does not exist", "warning"
            )
        for cs_type in config.cs_types():
            attrs = self.cs_attributes(config, cs_type)
            for anchor in config.anchor:
                if attrs.names is not None and not attrs.has(anchor):
                    self.report(
                        self.at((*path, "anchor")),
                        f"connector {name}: anchor '{anchor}' is not among {attrs.origin}"
                        + did_you_mean(anchor, attrs.names),
                    )
            self.check_server_schema(name, config, cs_type)
        if config.dn:
            attrs = self.cs_attributes(config, config.object_type or "")
            self.check_expression(config.dn, (*path, "dn"), f"connector {name}: dn", attrs.has, attrs)
        for attr, ref in config.references.items():
            rpath: PathKey = (*path, "references", attr)
            target = config
            if ref.connector is not None:
                other = self.pb.connectors.get(ref.connector)
                if other is None:
                    self.report(
                        self.at((*rpath, "connector")),
                        f"connector {name}: references.{attr} names unknown connector '{ref.connector}'"
                        + did_you_mean(ref.connector, self.pb.connectors),
                    )
                    continue
                target = other
            for cs_type in target.cs_types():
                key_attrs = self.cs_attributes(target, cs_type)
                if not key_attrs.has(ref.key):
                    self.report(
                        self.at((*rpath, "key")) if ref.connector else self.at(rpath),
                        f"connector {name}: references.{attr} names key '{ref.key}', "
                        f"which is not among {key_attrs.origin}"
                        + did_you_mean(ref.key, key_attrs.names or ()),
                    )

    def check_secret(self, connector: str, key: str, secret: Secret, path: PathKey) -> None:
        where = f"connector {connector}: {key}"
        if secret.kind == "env" and secret.ref not in os.environ:
            self.report(
                self.at(path),
                f"{where}: environment variable {secret.ref} is not set (needed when the connector opens)",
                "warning",
            )
        elif secret.kind == "file":
            file = Path(secret.ref)
            file = file if file.is_absolute() else self.pb.base_dir / file
            if not file.is_file():
                self.report(self.at(path), f"{where}: secret file {file} does not exist", "warning")

    def check_server_schema(self, name: str, config: ConnectorConfig, cs_type: str) -> None:
        """The hook for a cached server schema: declared attributes must exist on the server."""
        cached = self.schemas.get(name)
        if cached is None or config.is_file:
            return
        path: PathKey = ("connectors", name, "object_types", cs_type)
        server = cached.object_types.get(cs_type)
        if server is None:
            self.report(
                self.marks.key(path),
                f"connector {name}: the server has no object type '{cs_type}'"
                + did_you_mean(cs_type, cached.object_types),
            )
            return
        folded = {a.lower() for a in server} if config.type == "ldap" else set(server)
        for i, attr in enumerate(config.object_types.get(cs_type, [])):
            if (attr.lower() if config.type == "ldap" else attr) not in folded:
                self.report(
                    self.at((*path, i)),
                    f"connector {name}: the server's {cs_type} has no attribute '{attr}'"
                    + did_you_mean(attr, server),
                )

    # -- rules -------------------------------------------------------------------------------
    def check_rule(self, index: int, rule: SyncRule) -> None:
        path: PathKey = ("sync_rules", index)
        who = f"rule '{rule.name}'"
        config = self.pb.connectors.get(rule.connector)
        if config is None:
            self.report(
                self.at((*path, "connector")),
                f"{who}: unknown connector '{rule.connector}'"
                + did_you_mean(rule.connector, self.pb.connectors),
            )
        elif rule.cs_type not in config.cs_types():
            self.report(
                self.at((*path, "cs_type")),
                f"{who}: connector {config.name} holds no object type '{rule.cs_type}' "
                f"(it holds: {', '.join(config.cs_types()) or 'none'})"
                + did_you_mean(rule.cs_type, config.cs_types()),
            )
            config = None
        mv = self.pb.metaverse.get(rule.mv_type)
        if mv is None:
            self.report(
                self.at((*path, "mv_type")),
                f"{who}: the metaverse has no object type '{rule.mv_type}'"
                + did_you_mean(rule.mv_type, self.pb.metaverse),
            )
        cs_read = self.cs_attributes(config, rule.cs_type) if config else AttributeSet.of(None, "")
        cs_write = (
            self.cs_attributes(config, rule.cs_type, write=True) if config else AttributeSet.of(None, "")
        )
        mv_attrs = _mv_set(mv)

        if not rule.inbound:
            if rule.dn is not None and config is not None and config.type in _OWN_DN_TYPES:
                self.report(
                    self.at((*path, "dn")),
                    f"{who}: dn is ignored for {config.type} connector {config.name} "
                    "(its DN comes from the connector's dn, or anchor=value)",
                    "warning",
                )
            elif rule.provision and rule.dn is None and config is not None and not config.is_file:
                self.report(
                    self.marks.key(path),
                    f"{who}: provision needs a dn expression for {config.type} connector {config.name}",
                )
            if rule.dn is not None:
                self.check_expression(rule.dn, (*path, "dn"), f"{who}: dn", mv_attrs.has, mv_attrs)

        # scoping filters read the source side: the CS object inbound, the MV object outbound
        scope_attrs = cs_read if rule.inbound else mv_attrs
        for g, group in enumerate(rule.scope):
            for i, cond in enumerate(group):
                cpath: PathKey = (*path, "scope", g, i)
                self.check_name(scope_attrs, cond.attribute, (*cpath, "attribute"), f"{who}: scope")
                self.check_condition_value(who, cond.op, cond.value, cpath)
        for g, jgroup in enumerate(rule.join):
            for i, join in enumerate(jgroup):
                jpath: PathKey = (*path, "join", g, i)
                self.check_name(mv_attrs, join.mv, (*jpath, "mv"), f"{who}: join")
                if join.cs is not None:
                    self.check_name(cs_read, join.cs, (*jpath, "cs"), f"{who}: join")
                if join.expression is not None:
                    self.check_expression(
                        join.expression, (*jpath, "expression"), f"{who}: join", cs_read.has, cs_read
                    )
        targets: dict[str, int] = {}
        for i, flow in enumerate(rule.flows):
            fpath: PathKey = (*path, "flows", i)
            target_key = "mv" if rule.inbound else "cs"
            source_key = "cs" if rule.inbound else "mv"
            target_set, source_set = (mv_attrs, cs_read) if rule.inbound else (cs_write, mv_attrs)
            if flow.target in targets:
                self.report(
                    self.at((*fpath, target_key)),
                    f"{who}: {flow.target} is written twice (also by flows[{targets[flow.target]}])",
                )
            targets.setdefault(flow.target, i)
            self.check_name(target_set, flow.target, (*fpath, target_key), f"{who}: flows[{i}]")
            if flow.source is not None:
                self.check_name(source_set, flow.source, (*fpath, source_key), f"{who}: flows[{i}]")
                self.check_reference_flow(who, rule, flow.target, flow.source, mv, cs_read, cs_write, fpath)
            if flow.expression is not None:
                self.check_expression(
                    flow.expression, (*fpath, "expression"), f"{who}: flows[{i}]", source_set.has, source_set
                )

    def check_name(self, attrs: AttributeSet, name: str, path: PathKey, who: str) -> None:
        if not attrs.has(name):
            self.report(
                self.at(path),
                f"{who}: '{name}' is not among {attrs.origin}" + did_you_mean(name, attrs.names or ()),
            )

    def check_condition_value(self, who: str, op: str, value: Any, path: PathKey) -> None:
        if op in _NO_VALUE_OPS:
            if value is not None:
                self.report(self.at((*path, "value")), f"{who}: {op} takes no value", "warning")
        elif op in _LIST_OPS:
            if not isinstance(value, list):
                self.report(self.at(path), f"{who}: {op} takes a list of values, e.g. value: [a, b]")
        elif value is None or isinstance(value, list):
            self.report(self.at(path), f"{who}: {op} takes one value")
        elif op in _INT_OPS and not isinstance(value, int):
            self.report(self.at((*path, "value")), f"{who}: {op} takes an integer mask")

    def check_reference_flow(
        self,
        who: str,
        rule: SyncRule,
        target: str,
        source: str,
        mv: ObjectTypeDef | None,
        cs_read: AttributeSet,
        cs_write: AttributeSet,
        path: PathKey,
    ) -> None:
        mv_name = target if rule.inbound else source
        cs_name = source if rule.inbound else target
        mv_attr = mv.attributes.get(mv_name) if mv else None
        if mv_attr is None:
            return
        cs_ref = (cs_read if rule.inbound else cs_write).is_reference(cs_name)
        mv_ref = mv_attr.type == "reference"
        if cs_ref and not mv_ref:
            self.report(
                self.at(path),
                f"{who}: {cs_name} of connector {rule.connector} is a reference, but metaverse "
                f"attribute {mv_name} is of type {mv_attr.type} (declare it {{type: reference}})",
            )
        elif mv_ref and cs_ref is False:
            self.report(
                self.at(path),
                f"{who}: metaverse attribute {mv_name} is a reference, but {cs_name} of connector "
                f"{rule.connector} is not (declare it under the connector's references)",
            )

    def check_expression(
        self, text: str, path: PathKey, who: str, known: Callable[[str], bool], attrs: AttributeSet
    ) -> None:
        if self.compile is None:
            return
        try:
            compiled = self.compile(text)
        except ExpressionSyntaxError as exc:
            message = _SYNTAX_PREFIX.sub("", exc.one_line())
            self.report(self.marks.in_text(path, exc.column, text), f"{who}: expression: {message}")
            return
        except ExpressionError as exc:
            self.report(self.marks.in_text(path, 1, text), f"{who}: expression: {exc.one_line()}")
            return
        names: Iterable[str] = [
            *getattr(compiled, "attributes", ()),
            *getattr(compiled, "imported_attributes", ()),
        ]
        for name in sorted(set(names)):
            if not known(name):
                col = text.find(f"[{name}]") + 1 or 1
                self.report(
                    self.marks.in_text(path, col, text),
                    f"{who}: expression reads [{name}], which is not among {attrs.origin}"
                    + did_you_mean(name, attrs.names or ()),
                )

    def check_precedence(self) -> None:
        """Two enabled rules of equal precedence may not write one attribute (either direction)."""
        owners: dict[tuple[str, ...], dict[int, tuple[str, Mark | None]]] = {}
        for index, rule in enumerate(self.pb.sync_rules):
            if not rule.enabled:
                continue
            for i, flow in enumerate(rule.flows):
                if rule.inbound:
                    key: tuple[str, ...] = ("mv", rule.mv_type, flow.target)
                    what = f"metaverse attribute {rule.mv_type}.{flow.target}"
                else:
                    key = ("cs", rule.connector, rule.cs_type, flow.target)
                    what = f"{rule.connector} attribute {rule.cs_type}.{flow.target}"
                mark = self.at(("sync_rules", index, "flows", i))
                by_precedence = owners.setdefault(key, {})
                first = by_precedence.get(rule.precedence)
                if first is not None and first[0] != rule.name:
                    self.report(
                        mark,
                        f"rule '{rule.name}': rules '{first[0]}' (at {first[1]}) and '{rule.name}' both write "
                        f"{what} with precedence {rule.precedence}; give one of them another precedence",
                    )
                else:
                    by_precedence.setdefault(rule.precedence, (rule.name, mark))


def _mv_set(mv: ObjectTypeDef | None) -> AttributeSet:
    if mv is None:
        return AttributeSet.of(None, "")
    refs = [a.name for a in mv.attributes.values() if a.type == "reference"]
    return AttributeSet.of(
        mv.attributes, f"the attributes of metaverse type {mv.name}", references=refs, references_known=True
    )
