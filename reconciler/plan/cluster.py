"""Clustering: past a size, identical edits are shown once ("312 objects: department Sales → Marketing").

Below ``CLUSTER_THRESHOLD`` changes in a plan every change is shown in detail. Above it, updates that
make exactly the same edit (same attributes, same before → after) and adds made by the same rule are
folded into one line when at least ``MIN_CLUSTER`` objects share them; the per-object detail stays in
the full output (``--full``, the JSON plan file). Deletes and renames are destructive: they are never
folded, each keeps its own line.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from reconciler.plan.digest import jsonable
from reconciler.plan.model import AttributeDelta, PlannedChange

CLUSTER_THRESHOLD = 50  # changes in a plan past which identical edits are clustered
MIN_CLUSTER = 3  # objects that must share an edit for it to be folded
SAMPLE = 3  # DNs a cluster names as examples


@dataclass
class Detail:
    change: PlannedChange


@dataclass
class Cluster:
    op: str
    changes: list[PlannedChange] = field(default_factory=list)
    edits: list[AttributeDelta] = field(default_factory=list)  # the shared edit (updates)
    rule: str | None = None  # the shared rule (adds)
    object_type: str = ""

    @property
    def count(self) -> int:
        return len(self.changes)

    @property
    def sample(self) -> list[str]:
        return [c.dn for c in self.changes[:SAMPLE]]


Item = Detail | Cluster


def should_cluster(total: int, threshold: int = CLUSTER_THRESHOLD) -> bool:
    return total > threshold


def _edit_key(change: PlannedChange) -> str:
    parts = [
        (d.name.lower(), jsonable(d.before), jsonable(d.after), jsonable(d.added), jsonable(d.removed))
        for d in sorted(change.attributes, key=lambda d: d.name.lower())
    ]
    return json.dumps(parts, sort_keys=True, default=str)


def _key(change: PlannedChange) -> tuple[str, ...] | None:
    if change.op == "update" and change.attributes:
        return ("update", change.object_type, _edit_key(change))
    if change.op == "add":
        return ("add", change.object_type, change.rule or "")
    return None  # deletes and renames are never folded


def layout(changes: list[PlannedChange], clustered: bool, min_cluster: int = MIN_CLUSTER) -> list[Item]:
    """The items to render for one connector's ordered changes; clusters sit where their first member was."""
    if not clustered:
        return [Detail(c) for c in changes]
    groups: dict[tuple[str, ...], list[PlannedChange]] = {}
    for change in changes:
        key = _key(change)
        if key is not None:
            groups.setdefault(key, []).append(change)
    items: list[Item] = []
    placed: set[tuple[str, ...]] = set()
    for change in changes:
        key = _key(change)
        members = groups.get(key) if key is not None else None
        if key is None or members is None or len(members) < min_cluster:
            items.append(Detail(change))
            continue
        if key in placed:
            continue
        placed.add(key)
        first = members[0]
        items.append(
            Cluster(
                op=first.op,
                changes=members,
                edits=list(first.attributes) if first.op == "update" else [],
                rule=first.rule,
                object_type=first.object_type,
            )
        )
    return items
