"""Building the typed playbook from a mapping that passed the schema.

The schema has already checked every type, so this module only maps keys to fields, fills defaults,
and hands each object the mark of the YAML that produced it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from reconciler.playbook.loader import PathKey, Source, SourceMap
from reconciler.playbook.model import (
    AttributeDef,
    Condition,
    ConnectorConfig,
    Flow,
    JoinCondition,
    Mark,
    ObjectTypeDef,
    Playbook,
    ReferenceDef,
    Secret,
    SyncRule,
)
from reconciler.playbook.schema import SECRET_KEYS

DEFAULT_STATE = ".reconciler/state.db"
#: Connector keys that have a field of their own in ConnectorConfig; the rest go to ``options``.
_CONNECTOR_FIELDS = frozenset(
    {
        "type", "enabled", "delete_threshold", "anchor", "object_types", "object_type", "dn",
        "multivalue_separator", "columns", "references",
    }
)  # fmt: skip
#: Anchors that connectors of these types always have, whether or not the playbook names them.
_DEFAULT_ANCHORS = {"graph": ["id"]}


def build_playbook(source: Source) -> Playbook:
    """The typed playbook of a schema-valid ``source``; secrets in ``source.data`` become ``Secret``s."""
    data = source.data
    marks = source.marks
    base_dir = source.base_dir
    _wrap_secrets(data, marks, base_dir)
    state = Path(str(data.get("state") or DEFAULT_STATE))
    return Playbook(
        version=int(data.get("version", 1)),
        base_dir=base_dir,
        files=list(source.files),
        state_path=state if state.is_absolute() else base_dir / state,
        metaverse={
            name: _object_type(name, attrs or {}, marks)
            for name, attrs in (data.get("metaverse") or {}).items()
        },
        connectors={
            name: _connector(name, spec, marks, base_dir)
            for name, spec in (data.get("connectors") or {}).items()
        },
        sync_rules=[_rule(i, spec, marks) for i, spec in enumerate(data.get("sync_rules") or [])],
        raw=data,
    )


def _wrap_secrets(data: dict[str, Any], marks: SourceMap, base_dir: Path) -> None:
    for name, spec in (data.get("connectors") or {}).items():
        for key in SECRET_KEYS & set(spec):
            value = spec[key]
            if isinstance(value, dict):
                kind, ref = next(iter(value.items()))
                spec[key] = Secret(kind, str(ref), base_dir, marks.value(("connectors", name, key)))


def _object_type(name: str, attrs: dict[str, Any], marks: SourceMap) -> ObjectTypeDef:
    path: PathKey = ("metaverse", name)
    return ObjectTypeDef(
        name=name,
        attributes={
            attr: AttributeDef(
                name=attr,
                type=(spec or {}).get("type", "string"),
                multivalued=bool((spec or {}).get("multivalued", False)),
                sensitive=bool((spec or {}).get("sensitive", False)),
                mark=marks.key((*path, attr)),
            )
            for attr, spec in attrs.items()
        },
        mark=marks.key(path),
    )


def _connector(name: str, spec: dict[str, Any], marks: SourceMap, base_dir: Path) -> ConnectorConfig:
    path: PathKey = ("connectors", name)
    ctype = spec["type"]
    anchor = spec.get("anchor", _DEFAULT_ANCHORS.get(ctype, []))
    config = ConnectorConfig(
        name=name,
        type=ctype,
        enabled=spec.get("enabled", True),
        delete_threshold=spec.get("delete_threshold", 500),
        anchor=[anchor] if isinstance(anchor, str) else list(anchor),
        object_types={t: list(attrs) for t, attrs in (spec.get("object_types") or {}).items()},
        object_type=spec.get("object_type"),
        dn=spec.get("dn"),
        multivalue_separator=spec.get("multivalue_separator", ";"),
        columns=list(spec["columns"]) if spec.get("columns") else None,
        references={
            attr: _reference(attr, ref, marks.value((*path, "references", attr)))
            for attr, ref in (spec.get("references") or {}).items()
        },
        options={k: v for k, v in spec.items() if k not in _CONNECTOR_FIELDS},
        base_dir=base_dir,
        mark=marks.key(path),
    )
    return config


def _reference(attr: str, ref: str | dict[str, Any], mark: Mark | None) -> ReferenceDef:
    if isinstance(ref, str):
        return ReferenceDef(attribute=attr, key=ref, mark=mark)
    return ReferenceDef(attribute=attr, key=ref["key"], connector=ref.get("connector"), mark=mark)


def _rule(index: int, spec: dict[str, Any], marks: SourceMap) -> SyncRule:
    path: PathKey = ("sync_rules", index)
    inbound = spec["direction"] == "inbound"
    return SyncRule(
        name=spec["name"],
        connector=spec["connector"],
        direction=spec["direction"],
        cs_type=spec["cs_type"],
        mv_type=spec["mv_type"],
        precedence=spec["precedence"],
        scope=[
            [_condition(c, marks.value((*path, "scope", g, i))) for i, c in enumerate(group)]
            for g, group in enumerate(spec.get("scope") or [])
        ],
        join=[
            [_join(c, marks.value((*path, "join", g, i))) for i, c in enumerate(group)]
            for g, group in enumerate(spec.get("join") or [])
        ],
        project=bool(spec.get("project", False)),
        provision=bool(spec.get("provision", False)),
        dn=spec.get("dn"),
        deprovision=spec.get("deprovision", "delete"),
        flows=[
            _flow(f, inbound, marks.value((*path, "flows", i))) for i, f in enumerate(spec.get("flows") or [])
        ],
        enabled=spec.get("enabled", True),
        mark=marks.value(path),
    )


def _condition(spec: dict[str, Any], mark: Mark | None) -> Condition:
    return Condition(
        attribute=spec["attribute"],
        op=str(spec["op"]).upper(),
        value=spec.get("value"),
        case_sensitive=bool(spec.get("case_sensitive", False)),
        mark=mark,
    )


def _join(spec: dict[str, Any], mark: Mark | None) -> JoinCondition:
    return JoinCondition(
        mv=spec["mv"],
        cs=spec.get("cs"),
        expression=spec.get("expression"),
        case_sensitive=bool(spec.get("case_sensitive", False)),
        mark=mark,
    )


def _flow(spec: dict[str, Any], inbound: bool, mark: Mark | None) -> Flow:
    if inbound:
        return Flow(target=spec["mv"], source=spec.get("cs"), expression=spec.get("expression"), mark=mark)
    return Flow(
        target=spec["cs"],
        source=spec.get("mv"),
        expression=spec.get("expression"),
        initial_only=bool(spec.get("initial_only", False)),
        mark=mark,
    )
