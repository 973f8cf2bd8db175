"""The typed playbook: what the loader builds and every stage reads.

Every object that came from YAML keeps a ``Mark`` (file, line, column) so a
meaning error, an expression error or a runtime error on a rule can point at
the line that caused it.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from reconciler.errors import SecretError

AttributeType = Literal["string", "integer", "boolean", "reference", "binary", "datetime"]
ATTRIBUTE_TYPES: tuple[str, ...] = ("string", "integer", "boolean", "reference", "binary", "datetime")
SCOPE_OPERATORS: tuple[str, ...] = (
    "EQUAL", "NOTEQUAL", "LESSTHAN", "LESSTHAN_OR_EQUAL", "GREATERTHAN", "GREATERTHAN_OR_EQUAL",
    "ISNULL", "ISNOTNULL", "STARTSWITH", "NOTSTARTSWITH", "ENDSWITH", "NOTENDSWITH",
    "CONTAINS", "NOTCONTAINS", "ISIN", "ISNOTIN", "ISBITSET", "ISNOTBITSET",
    "ISMEMBEROF", "NOTISMEMBEROF",
)  # fmt: skip
CONNECTOR_TYPES: tuple[str, ...] = ("csv", "ldif", "json", "ldap", "graph")
FILE_CONNECTOR_TYPES: frozenset[str] = frozenset({"csv", "ldif", "json"})


@dataclass(frozen=True)
class Mark:
    """Where a value was written: file, 1-based line and column."""

    file: str
    line: int
    column: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"


class Secret:
    """A secret named by ``{env: NAME}`` or ``{file: PATH}``; resolved only when a connector opens.

    Its repr and str are masked so that a secret can never be printed by accident.
    """

    __slots__ = ("base_dir", "kind", "mark", "ref")

    def __init__(
        self, kind: Literal["env", "file"], ref: str, base_dir: Path, mark: Mark | None = None
    ) -> None:
        self.kind = kind
        self.ref = ref
        self.base_dir = base_dir
        self.mark = mark

    def reveal(self) -> str:
        """The secret's value; raises SecretError naming the variable or file (never a value)."""
        where = f"{self.mark}: " if self.mark else ""
        if self.kind == "env":
            value = os.environ.get(self.ref)
            if value is None:
                raise SecretError(
                    f"{where}environment variable {self.ref} is not set",
                    hint=f"export {self.ref}=… before running",
                )
            return value
        path = Path(self.ref)
        if not path.is_absolute():
            path = self.base_dir / path
        try:
            return path.read_text(encoding="utf-8").rstrip("\r\n")
        except OSError as exc:
            raise SecretError(
                f"{where}secret file {path} cannot be read: {exc.strerror}",
                hint="check the path and its permissions",
            ) from exc

    def describe(self) -> str:
        """A printable description that names the source, never the value."""
        return f"{{{self.kind}: {self.ref}}}"

    def __repr__(self) -> str:
        return f"Secret({self.kind}={self.ref!r}, value=***)"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and (self.kind, self.ref) == (other.kind, other.ref)

    def __hash__(self) -> int:
        return hash((self.kind, self.ref))


@dataclass
class AttributeDef:
    """A metaverse attribute: its type, whether multi-valued, whether redacted in output."""

    name: str
    type: str = "string"
    multivalued: bool = False
    sensitive: bool = False
    mark: Mark | None = None


@dataclass
class ObjectTypeDef:
    """A metaverse object type and its attributes."""

    name: str
    attributes: dict[str, AttributeDef] = field(default_factory=dict)
    mark: Mark | None = None


@dataclass
class ReferenceDef:
    """A file connector's reference attribute: its values name objects by ``key`` (in ``connector``)."""

    attribute: str
    key: str
    connector: str | None = None  # None: the same connector
    mark: Mark | None = None


@dataclass
class ConnectorConfig:
    """One connector's settings; ``options`` holds the type-specific keys (path, uri, tenant, …)."""

    name: str
    type: str
    enabled: bool = True
    delete_threshold: int = 500
    anchor: list[str] = field(default_factory=list)
    object_types: dict[str, list[str]] = field(default_factory=dict)
    # file connectors
    object_type: str | None = None
    dn: str | None = None
    multivalue_separator: str = ";"
    columns: list[str] | None = None
    references: dict[str, ReferenceDef] = field(default_factory=dict)
    # everything else of the connector's mapping (path, uri, bind_dn, password, base_dn, containers,
    # tenant, cloud, client_id, client_secret, certificate, endpoint, authority, ca_file, …)
    options: dict[str, Any] = field(default_factory=dict)
    base_dir: Path = field(default_factory=Path.cwd)
    mark: Mark | None = None

    @property
    def is_file(self) -> bool:
        return self.type in FILE_CONNECTOR_TYPES

    def option(self, key: str, default: Any = None) -> Any:
        return self.options.get(key, default)

    def path_option(self, key: str) -> Path | None:
        """A path option resolved against the playbook's folder."""
        value = self.options.get(key)
        if value is None:
            return None
        p = Path(str(value))
        return p if p.is_absolute() else self.base_dir / p

    def secret(self, key: str) -> str | None:
        """Reveal a secret option (``password``, ``client_secret``…) at the moment a connector opens."""
        value = self.options.get(key)
        if value is None:
            return None
        if isinstance(value, Secret):
            return value.reveal()
        return str(value)

    def cs_types(self) -> list[str]:
        """The connector-space object types this connector holds."""
        if self.is_file:
            return [self.object_type] if self.object_type else []
        return list(self.object_types)


@dataclass
class Condition:
    """One scoping-filter condition: ``attribute op value``."""

    attribute: str
    op: str
    value: Any = None
    case_sensitive: bool = False
    mark: Mark | None = None


@dataclass
class JoinCondition:
    """One join condition: the CS attribute (or expression) must equal the MV attribute."""

    mv: str
    cs: str | None = None
    expression: str | None = None
    case_sensitive: bool = False
    mark: Mark | None = None


@dataclass
class Flow:
    """One attribute flow; ``target`` is the MV attribute (inbound) or CS attribute (outbound).

    The source is a plain attribute (``source``) or an ``expression``.
    """

    target: str
    source: str | None = None
    expression: str | None = None
    initial_only: bool = False
    mark: Mark | None = None


Direction = Literal["inbound", "outbound"]


@dataclass
class SyncRule:
    """An inbound (CS → MV) or outbound (MV → CS) synchronization rule."""

    name: str
    connector: str
    direction: str
    cs_type: str
    mv_type: str
    precedence: int
    scope: list[list[Condition]] = field(default_factory=list)  # OR of AND-groups; empty = all
    join: list[list[JoinCondition]] = field(default_factory=list)  # tried in order
    project: bool = False
    provision: bool = False
    dn: str | None = None
    deprovision: str = "delete"  # delete | disconnect
    flows: list[Flow] = field(default_factory=list)
    enabled: bool = True
    mark: Mark | None = None

    @property
    def inbound(self) -> bool:
        return self.direction == "inbound"


@dataclass
class Playbook:
    """A loaded, validated playbook."""

    version: int
    base_dir: Path
    files: list[Path]
    state_path: Path
    metaverse: dict[str, ObjectTypeDef]
    connectors: dict[str, ConnectorConfig]
    sync_rules: list[SyncRule]
    raw: dict[str, Any] = field(default_factory=dict)  # the merged mapping, secrets as Secret objects

    def rules_for(self, connector: str, direction: str | None = None) -> list[SyncRule]:
        return [
            r
            for r in self.sync_rules
            if r.enabled and r.connector == connector and (direction is None or r.direction == direction)
        ]

    def sensitive_attributes(self) -> set[str]:
        """Names of MV attributes marked sensitive (in any object type)."""
        return {a.name for t in self.metaverse.values() for a in t.attributes.values() if a.sensitive}

    def digest(self) -> str:
        """A digest of the whole playbook's meaning (stale-plan detection)."""
        return _digest(self.raw)

    def rules_digest(self) -> str:
        """A digest of what decides synchronization (metaverse, rules, connector shapes): a change forces a full sync."""
        conns = {
            n: {
                k: v for k, v in c.items() if k not in ("password", "client_secret", "certificate", "enabled")
            }
            for n, c in (self.raw.get("connectors") or {}).items()
            if isinstance(c, dict)
        }
        return _digest(
            {"metaverse": self.raw.get("metaverse"), "rules": self.raw.get("sync_rules"), "c": conns}
        )


def _digest(value: Any) -> str:
    def default(o: Any) -> Any:
        if isinstance(o, Secret):
            return o.describe()
        return str(o)

    data = json.dumps(value, sort_keys=True, default=default, separators=(",", ":"))
    return hashlib.sha256(data.encode()).hexdigest()
