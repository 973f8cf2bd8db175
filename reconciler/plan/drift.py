"""Drift: where the connected systems differ from the desired state, classified from the plan's causes.

Classes (DESIGN.md "Plan and apply"), in report order:

- ``out-of-band``   a value the rules own was changed in its system
- ``unconfirmed``   an export the next import never showed
- ``missing``       an object the rules provision is not in its system (never created, or vanished)
- ``deprovision``   a linked object that should be gone is still there
- ``pending``       the desired value moved (a source system or the rules changed) and was not applied yet;
                    not an edit in the target, but the target differs from the desired state, so it
                    counts as drift (exit 2) — run apply to converge

Unmanaged objects (disconnectors in a target) are listed apart for information and never make drift exit 2.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Any

from reconciler import __version__
from reconciler.plan.digest import jsonable
from reconciler.plan.model import ImportSummary, PlannedChange, UnmanagedObject

DRIFT_FORMAT_VERSION = 1
CLASSES: dict[str, str] = {
    "out-of-band": "Changed out of band",
    "unconfirmed": "Export never confirmed",
    "missing": "Provisioned object missing",
    "deprovision": "Should have been deprovisioned",
    "pending": "Pending change (desired state moved)",
}
_FROM_CAUSE = {
    "out-of-band": "out-of-band",
    "unconfirmed": "unconfirmed",
    "missing": "missing",
    "provision": "missing",
    "deprovision": "deprovision",
    "source": "pending",
}
PRESENT = "(present)"
ABSENT = "(absent)"


@dataclass
class DriftItem:
    """One difference: an object (and an attribute of it, when the difference is a value)."""

    drift_class: str
    connector: str
    object_type: str
    dn: str
    anchor: str | None
    attribute: str | None
    actual: Any
    desired: Any
    rule: str | None = None
    sensitive: bool = False


@dataclass
class DriftReport:
    items: list[DriftItem]
    unmanaged: list[UnmanagedObject] = field(default_factory=list)
    playbook: str = ""
    imports: list[ImportSummary] = field(default_factory=list)
    tool_version: str = __version__
    created_at: str = field(default_factory=lambda: dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"))

    @property
    def has_drift(self) -> bool:
        return bool(self.items)

    def counts(self) -> dict[str, int]:
        seen = Counter(i.drift_class for i in self.items)
        return {k: seen.get(k, 0) for k in CLASSES}

    def objects(self) -> int:
        return len({(i.connector, i.dn.lower()) for i in self.items})

    def summary_line(self) -> str:
        if not self.items:
            return "No drift."
        parts = ", ".join(f"{n} {k}" for k, n in self.counts().items() if n)
        return f"Drift: {len(self.items)} differences on {self.objects()} objects ({parts})."

    def by_class(self) -> dict[str, list[DriftItem]]:
        return {k: [i for i in self.items if i.drift_class == k] for k in CLASSES}

    def to_document(self) -> dict[str, Any]:
        return {
            "kind": "reconciler-drift",
            "format_version": DRIFT_FORMAT_VERSION,
            "tool_version": self.tool_version,
            "created_at": self.created_at,
            "playbook": self.playbook,
            "drift": bool(self.items),
            "summary": self.counts(),
            "summary_line": self.summary_line(),
            "objects": self.objects(),
            "items": [
                {**asdict(i), "actual": jsonable(i.actual), "desired": jsonable(i.desired)}
                for i in self.items
            ],
            "unmanaged": [asdict(u) for u in self.unmanaged],
            "imports": [asdict(i) for i in self.imports],
        }


def drift_class(cause: str) -> str:
    return _FROM_CAUSE.get(cause, "pending")


def _item(
    c: PlannedChange, klass: str, attribute: str | None, actual: Any, desired: Any, **kw: Any
) -> DriftItem:
    kw.setdefault("rule", c.rule)
    return DriftItem(klass, c.connector, c.object_type, c.dn, c.anchor, attribute, actual, desired, **kw)


def classify(changes: list[PlannedChange]) -> list[DriftItem]:
    """Drift items from (redacted) planned changes, ordered by class, connector, DN, attribute."""
    items: list[DriftItem] = []
    for c in changes:
        if c.op == "add":
            items.append(
                _item(c, "unconfirmed" if c.cause == "unconfirmed" else "missing", None, ABSENT, PRESENT)
            )
        elif c.op == "delete":
            items.append(_item(c, "deprovision", None, PRESENT, ABSENT))
        else:
            if c.op == "rename":
                items.append(_item(c, drift_class(c.cause), "(dn)", c.dn, c.new_dn))
            for d in c.attributes:
                klass = drift_class(d.cause)
                items.append(
                    _item(c, klass, d.name, d.before, d.after, rule=d.rule or c.rule, sensitive=d.sensitive)
                )
    order = list(CLASSES)
    items.sort(
        key=lambda i: (order.index(i.drift_class), i.connector, i.dn.lower(), (i.attribute or "").lower())
    )
    return items


def build_report(
    changes: list[PlannedChange],
    unmanaged: list[UnmanagedObject] | None = None,
    *,
    playbook: str = "",
    imports: list[ImportSummary] | None = None,
) -> DriftReport:
    return DriftReport(
        items=classify(changes),
        unmanaged=sorted(unmanaged or [], key=lambda u: (u.connector, u.dn.lower())),
        playbook=playbook,
        imports=list(imports or []),
    )
