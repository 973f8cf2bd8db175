"""Which playbook edits are behind a plan (``--explain``): the rules now against the rules last applied.

apply stores a snapshot of the sync rules it applied in the state (meta key ``plan.applied_rules``);
plan compares the playbook with it and names, per rule, what changed and where (file:line), so a
reviewer sees "this department change comes from the flow edited at playbook.yml:42".
"""

from __future__ import annotations

import contextlib
import json
from pathlib import Path
from typing import Any

from reconciler.playbook.model import Playbook, SyncRule

META_KEY = "plan.applied_rules"


def snapshot(playbook: Playbook) -> str:
    """The sync rules as applied, to store with the state after an apply."""
    rules = playbook.raw.get("sync_rules") or []
    return json.dumps(rules, sort_keys=True, default=str)


def _target_key(rule: dict[str, Any]) -> str:
    return "mv" if rule.get("direction") == "inbound" else "cs"


def _flows(rule: dict[str, Any]) -> dict[str, Any]:
    key = _target_key(rule)
    return {str(f.get(key)): f for f in rule.get("flows") or [] if isinstance(f, dict)}


def _short(value: Any) -> str:
    text = json.dumps(value, sort_keys=True, default=str)
    return text if len(text) <= 80 else text[:79] + "…"


def _where(rule: SyncRule | None, base: Path, target: str | None = None) -> str:
    """``file:line: `` of a flow (or of the rule), the file named relative to the playbook's folder."""
    if rule is None:
        return ""
    mark = rule.mark
    if target is not None:
        mark = next((f.mark for f in rule.flows if f.target == target and f.mark), mark)
    if mark is None:
        return ""
    file = Path(mark.file)
    with contextlib.suppress(ValueError):
        file = file.resolve().relative_to(base.resolve())
    return f"{file}:{mark.line}: "


def rule_edits(playbook: Playbook, applied: str | None) -> dict[str, list[str]]:
    """rule name → the edits made to it since the last apply (empty when nothing was applied yet)."""
    if not applied:
        return {}
    try:
        old_rules = json.loads(applied)
    except ValueError:
        return {}
    old = {str(r.get("name")): r for r in old_rules if isinstance(r, dict)}
    new = {str(r.get("name")): r for r in playbook.raw.get("sync_rules") or [] if isinstance(r, dict)}
    typed = {r.name: r for r in playbook.sync_rules}
    base = playbook.base_dir
    edits: dict[str, list[str]] = {}
    for name, rule in new.items():
        where = typed.get(name)
        before = old.get(name)
        if before is None:
            edits[name] = [f"{_where(where, base)}rule {name!r} was added"]
            continue
        found: list[str] = []
        for key in sorted(set(rule) | set(before)):
            if key in ("flows", "name") or json.dumps(rule.get(key), default=str) == json.dumps(
                before.get(key), default=str
            ):
                continue
            found.append(
                f"{_where(where, base)}{key} changed: {_short(before.get(key))} → {_short(rule.get(key))}"
            )
        flows_now, flows_then = _flows(rule), _flows(before)
        for target in sorted(set(flows_now) | set(flows_then)):
            a, b = flows_then.get(target), flows_now.get(target)
            if a == b:
                continue
            if a is None:
                found.append(f"{_where(where, base, target)}flow to {target} was added: {_short(b)}")
            elif b is None:
                found.append(f"{_where(where, base)}flow to {target} was removed (was {_short(a)})")
            else:
                found.append(
                    f"{_where(where, base, target)}flow to {target} changed: {_short(a)} → {_short(b)}"
                )
        if found:
            edits[name] = found
    for name in old.keys() - new.keys():
        edits[name] = [f"rule {name!r} was removed from the playbook"]
    return edits
