"""The connector interface: a few methods, capabilities declared as data.

A connector talks to one connected system and knows nothing of the engine.
It yields what the system holds (``ImportedObject``), applies a batch of
changes (``ExportChange`` → ``ExportResult``), and declares what it can do in
``Capabilities``. Errors from client libraries are translated here, at the
boundary, into ``reconciler.errors.ConnectorError`` subclasses (``raise … from exc``).

Built-in connectors are registered through the ``reconciler.connectors``
entry-point group, exactly as a third-party connector would be; a connector's
heavy SDK is imported only inside its methods.
"""

from __future__ import annotations

import abc
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Literal

if TYPE_CHECKING:  # only a type here: importing the playbook package at run time would be circular
    from reconciler.playbook.model import ConnectorConfig

ChangeType = Literal["add", "update", "delete"]
ExportOp = Literal["add", "update", "rename", "delete"]


@dataclass(frozen=True)
class Capabilities:
    """What a connector can do; the engine plans around these, never around the connector's type."""

    delta_import: bool = False
    export: bool = True
    rename: bool = True
    hierarchical: bool = False  # DNs have parents (LDAP) → placeholders for missing parents
    reference_style: Literal["dn", "key", "id"] = "dn"  # how a reference value names its target
    assigns_anchor: bool = False  # the system creates the anchor on add (entryUUID, Graph id)
    whole_file: bool = False  # export rewrites the whole store (files): batches must hold every change
    write_only: frozenset[str] = frozenset()  # attributes never returned by the system


@dataclass
class ImportedObject:
    """One object as the connected system holds it.

    ``attributes`` maps attribute name → value (``list`` when multi-valued); values are
    already typed where the connector knows the type (bool, int, bytes, datetime), strings otherwise.
    For a delta import, ``change`` says what happened; a ``delete`` may carry only the anchor or DN.
    ``error`` reports a per-object problem (bad row, unparsable value): the engine records it on the
    object and goes on.
    """

    dn: str
    object_type: str
    anchor: str | None
    attributes: dict[str, Any] = field(default_factory=dict)
    change: ChangeType | None = None  # None in a full import
    error: str | None = None
    line: int | None = None  # where a file record starts, for error messages
    # a stable digest of the record as the system holds it (file connectors): the engine skips an
    # object whose digest equals the one it stored at the last import
    content_hash: str | None = None


@dataclass
class ImportResult:
    """An import in progress: iterate ``objects``; then ``watermark`` holds the value for the next delta."""

    objects: Iterator[ImportedObject]
    full: bool = True  # False: only changes since the watermark were returned
    watermark: str | None = None  # set (or updated) by the connector once ``objects`` is exhausted
    note: str | None = None  # why a delta asked for is full (the log purged, the token expired): shown to users


@dataclass
class AttributeChange:
    """A change of one attribute: ``replace`` sets the whole value; ``add``/``remove`` edit a multi-value."""

    name: str
    replace: Any = None  # the new value (None with no add/remove: clear the attribute)
    add: list[Any] | None = None
    remove: list[Any] | None = None
    is_replace: bool = True


@dataclass
class ExportChange:
    """One pending export handed to a connector.

    For ``add`` ``attributes`` holds every attribute of the new object; for ``update`` ``changes``
    holds the attribute-level changes; ``rename`` moves ``dn`` to ``new_dn`` (and may carry changes);
    ``delete`` needs only dn/anchor. Reference values are already in the target's terms (DN, key or id).
    ``attributes`` on update/rename also carries the object's full desired attributes (file
    connectors rewrite whole records). A connector reads a change, never changes it: the engine records
    export memory from the same dictionaries.
    """

    op: ExportOp
    dn: str
    object_type: str
    anchor: str | None = None
    new_dn: str | None = None
    attributes: dict[str, Any] = field(default_factory=dict)
    changes: list[AttributeChange] = field(default_factory=list)
    key: int | None = None  # the engine's id for the CS object; echoed in the result


@dataclass
class ExportResult:
    """The outcome of one ``ExportChange``: ok, or an error; on add, the anchor the system gave."""

    key: int | None
    ok: bool
    anchor: str | None = None
    dn: str | None = None
    error: str | None = None
    retryable: bool = False


@dataclass
class AttributeSchema:
    name: str
    type: str = "string"
    multivalued: bool = False
    reference: bool = False
    write_only: bool = False


@dataclass
class ConnectorSchema:
    """What the connected system says it holds: object types → attributes."""

    object_types: dict[str, dict[str, AttributeSchema]] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            t: {a.name: {"type": a.type, "multivalued": a.multivalued, "reference": a.reference,
                         "write_only": a.write_only} for a in attrs.values()}
            for t, attrs in self.object_types.items()
        }  # fmt: skip

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ConnectorSchema:
        return cls(
            {t: {n: AttributeSchema(n, **spec) for n, spec in attrs.items()} for t, attrs in data.items()}
        )


class Connector(abc.ABC):
    """The interface every connector implements."""

    capabilities: ClassVar[Capabilities] = Capabilities()

    def __init__(self, config: ConnectorConfig) -> None:
        self.config = config
        self.name = config.name

    @abc.abstractmethod
    def test(self) -> str:
        """Check that the system can be reached with the configured credentials; return a one-line summary."""

    @abc.abstractmethod
    def schema(self) -> ConnectorSchema:
        """Read the object types and attributes the system holds."""

    @abc.abstractmethod
    def full_import(self) -> ImportResult:
        """Every in-scope object of the system."""

    def delta_import(self, watermark: str | None) -> ImportResult:
        """The changes since ``watermark``; connectors without delta support fall back to a full import."""
        return self.full_import()

    @abc.abstractmethod
    def export(self, changes: Sequence[ExportChange]) -> list[ExportResult]:
        """Apply a batch of changes; one result per change, in order. Per-object failures are results,
        not exceptions; an exception means the whole batch failed (nothing of it can be assumed applied)."""

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release connections."""

    def __enter__(self) -> Connector:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
