"""The objects the engine works on: connector-space objects and metaverse objects.

Values inside ``attrs`` are JSON-able: str, int, bool, lists of those; datetimes
are ISO strings and binaries base64 (see ``values.to_stored``). A CS object's
``attrs`` is what its system was last seen to hold; what the engine wants to
change is in ``pending_export``; what it sent and has not yet seen again is in
``export_memory``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

# CS object kinds
NORMAL = 0
PLACEHOLDER = 1
TRANSIENT = 2
KIND_NAMES = {NORMAL: "normal", PLACEHOLDER: "placeholder", TRANSIENT: "transient"}

# link kinds: inbound links (join, project) keep an MV object alive; provisioned links do not
JOIN = "join"
PROJECT = "project"
PROVISION = "provision"
INBOUND_LINKS = frozenset({JOIN, PROJECT})

# export memory entry states
AWAITING = "a"  # exported, no import has been seen since
UNCONFIRMED = "u"  # an import did not show the exported value: export again

# export_state
IN_FLIGHT = "in-flight"  # an add was handed to the connector; its result is not committed yet
EXPORTED = "exported"


_VARIANT = "89ab" * 4  # the variant nibble (10xx) from a random hex digit
_guids: list[str] = []  # made a few thousand at a time from the OS's random bytes; pop() is atomic


def _more_guids(n: int = 4096) -> list[str]:
    h = os.urandom(16 * n).hex()
    return [f"{h[i:i + 8]}-{h[i + 8:i + 12]}-4{h[i + 13:i + 16]}-{_VARIANT[int(h[i + 16], 16)]}{h[i + 17:i + 20]}-"
            f"{h[i + 20:i + 32]}" for i in range(0, 32 * n, 32)]  # fmt: skip


os.register_at_fork(after_in_child=_guids.clear)  # a forked child must not hand out its parent's


def new_guid() -> str:
    """A random version-4 UUID in its usual text form (a third of uuid4()'s cost: a first sync makes
    one per object)."""
    try:
        return _guids.pop()
    except IndexError:
        _guids.extend(_more_guids())
        return _guids.pop()


@dataclass(slots=True)
class CSObject:
    """A connector-space object (staging object, placeholder or transient)."""

    connector: str
    object_type: str
    dn: str
    id: int | None = None
    guid: str = field(default_factory=new_guid)
    anchor: str | None = None
    key_norm: str | None = None
    kind: int = NORMAL
    attrs: dict[str, Any] = field(default_factory=dict)
    hash: str | None = None
    pending_import: str | None = None  # add | update | delete | delete-add
    pi_attrs: list[str] | None = None  # attributes the pending import changed
    pending_export: dict[str, Any] | None = None  # see engine.sync.outbound.PendingExport layout
    export_memory: dict[str, Any] | None = None  # attr -> {"v": value, "s": AWAITING|UNCONFIRMED}
    export_state: str | None = None
    mv_id: int | None = None
    link_kind: str | None = None
    link_rule: str | None = None
    import_error: str | None = None
    export_error: str | None = None
    sync_error: str | None = None
    resync: bool = False

    @property
    def dn_norm(self) -> str:
        return normalize_dn(self.dn)

    @property
    def is_placeholder(self) -> bool:
        return self.kind == PLACEHOLDER

    @property
    def joined(self) -> bool:
        return self.mv_id is not None


@dataclass(slots=True)
class MVObject:
    """A metaverse object: typed attributes and, per attribute, the rule that contributed it."""

    object_type: str
    id: int | None = None
    guid: str = field(default_factory=new_guid)
    attrs: dict[str, Any] = field(default_factory=dict)
    contrib: dict[str, list[Any]] = field(default_factory=dict)  # attr (or "*": all) -> [rule, cs_id]
    dirty: bool = False
    retry: list[str] | None = None  # connectors to provision again ("missing" objects)


def normalize_dn(dn: str) -> str:
    """DNs compare case-insensitively and without spaces around separators."""
    if " " not in dn or ("," not in dn and "=" not in dn):
        return dn.casefold()  # nothing to strip: the common case
    parts = []
    for rdn in dn.split(","):
        k, sep, v = rdn.partition("=")
        parts.append(f"{k.strip()}{sep}{v.strip()}")
    return ",".join(parts).casefold()
