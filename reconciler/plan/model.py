"""What a plan and a drift report are made of: the engine produces these, the plan stage renders them.

The engine fills ``PlannedChange`` from every pending export after a (rolled back) import and sync;
plan, show, apply and drift read nothing else.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

Op = Literal["add", "update", "rename", "delete"]

# Why a change is pending; drift maps these to its classes.
Cause = Literal[
    "provision",  # a new object the rules provision (never exported)
    "missing",  # an object the rules provisioned or joined has vanished from its system: it is re-added
    "source",  # the desired value moved (a source system or the rules changed)
    "out-of-band",  # the target's value was changed in its own system
    "unconfirmed",  # exported before, and the next import did not show it (exported-change-not-reimported)
    "deprovision",  # out of scope or its metaverse object is gone: delete
]


@dataclass(slots=True)
class AttributeDelta:
    """One attribute of a change: ``before`` is what the system holds, ``after`` what the rules want.

    Multi-valued attributes also carry the values ``added`` and ``removed``. ``rule``/``flow`` say which
    sync rule and flow produced the desired value (``--explain``).
    """

    name: str
    before: Any = None
    after: Any = None
    added: list[Any] | None = None
    removed: list[Any] | None = None
    multivalued: bool = False
    sensitive: bool = False
    rule: str | None = None
    flow: str | None = None
    cause: Cause = "source"


@dataclass(slots=True)
class PlannedChange:
    """One pending export on one CS object."""

    connector: str
    op: Op
    object_type: str
    dn: str
    anchor: str | None = None
    new_dn: str | None = None  # rename target
    attributes: list[AttributeDelta] = field(default_factory=list)
    rule: str | None = None  # the outbound rule that provisioned / deprovisioned / flowed
    cause: Cause = "source"
    mv_guid: str | None = None
    cs_guid: str | None = None

    @property
    def key(self) -> str:
        """Stable identity of the change's object within a plan."""
        return f"{self.connector}\x00{self.cs_guid or self.dn}"


class LazyChange(PlannedChange):
    """A change whose attribute deltas are built when first read.

    A plan of 100,000 adds is shown as a few clustered lines; building its million deltas up front cost
    seconds that a plan which is only shown and applied never needed. Redaction decides on ``names``
    (the attribute names) and ``sensitive`` (some delta may be flagged sensitive) without building them.
    """

    __slots__ = ("_build", "_deltas", "names", "sensitive")
    _deltas: list[AttributeDelta] | None
    _build: Callable[[], list[AttributeDelta]] | None
    names: tuple[str, ...]
    sensitive: bool

    @classmethod
    def of(cls, build: Callable[[], list[AttributeDelta]], names: tuple[str, ...], fields: dict[str, Any],
           sensitive: bool = False) -> LazyChange:  # fmt: skip
        """``fields``: every field of PlannedChange but ``attributes`` (set as they are: a plan makes one
        per pending export, and the generated ``__init__`` with its property setter cost a second per
        100,000). Slots: a plan of 100,000 adds holds 100,000 of these."""
        change = cls.__new__(cls)
        for name, value in fields.items():
            setattr(change, name, value)
        change._deltas, change._build, change.names, change.sensitive = None, build, names, sensitive
        return change

    @property  # type: ignore[override]
    def attributes(self) -> list[AttributeDelta]:
        if self._deltas is None:
            self._deltas = self._build() if self._build is not None else []
        return self._deltas

    @attributes.setter
    def attributes(self, value: list[AttributeDelta]) -> None:
        self._deltas, self._build = value, None

    def forget(self) -> None:
        """Drop the deltas built so far; read again, they are built again (a plan file is written, and its
        digests taken, one change at a time)."""
        if self._build is not None:
            self._deltas = None


@dataclass
class UnmanagedObject:
    """A CS object no rule manages (a disconnector in a target): listed for information, never touched."""

    connector: str
    object_type: str
    dn: str
    anchor: str | None = None


@dataclass
class ImportSummary:
    """What an import saw, per connector (plan prints it as context)."""

    connector: str
    added: int = 0
    updated: int = 0
    deleted: int = 0
    errors: int = 0
    full: bool = True
    messages: list[str] = field(default_factory=list)


@dataclass
class ObjectProblem:
    """A per-object error of the import or synchronization behind a plan: that object is left out."""

    connector: str
    dn: str
    error: str
    kind: str = "error"  # import-error, sync-error, export-error, …
