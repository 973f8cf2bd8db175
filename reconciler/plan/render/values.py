"""How a value looks in text, Markdown and HTML: one function so every format agrees."""

from __future__ import annotations

import json
from typing import Any

from reconciler.plan.digest import jsonable
from reconciler.plan.model import AttributeDelta

NONE = "(none)"
_MAX = 300  # characters of one value before it is shortened in human formats


def show(value: Any) -> str:
    """A value for a person: strings quoted, lists bracketed, binary as a size, absent as (none)."""
    value = jsonable(value)
    if value is None or value == []:
        return NONE
    if isinstance(value, dict) and set(value) == {"base64"}:
        return f"<binary, {len(value['base64']) * 3 // 4} bytes>"
    if isinstance(value, str) and value.startswith("(") and value.endswith(")") and value in _MARKERS:
        return value
    if isinstance(value, list):
        text = "[" + ", ".join(show(v) for v in value) + "]"
    else:
        text = json.dumps(value, ensure_ascii=False, default=str)
    if len(text) > _MAX:
        text = text[: _MAX - 1] + "…"
    return text


_MARKERS = {"(sensitive)", "(secret)", "(present)", "(absent)"}


def added_removed(delta: AttributeDelta) -> tuple[list[Any], list[Any]]:
    """The values a multi-valued change adds and removes (computed from before/after when not given)."""
    if delta.added is not None or delta.removed is not None:
        return list(delta.added or []), list(delta.removed or [])
    before = _as_list(delta.before)
    after = _as_list(delta.after)
    key = lambda v: json.dumps(jsonable(v), sort_keys=True, default=str)  # noqa: E731
    b = {key(v) for v in before}
    a = {key(v) for v in after}
    return [v for v in after if key(v) not in b], [v for v in before if key(v) not in a]


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    if isinstance(value, list | tuple | set | frozenset):
        return list(value)
    return [value]


def edit(delta: AttributeDelta) -> str:
    """One attribute's edit: `before → after`, or `+a +b −c` for multi-values."""
    if delta.multivalued:
        added, removed = added_removed(delta)
        if added or removed:
            parts = [f"+{show(v)}" for v in added] + [f"-{show(v)}" for v in removed]
            return " ".join(parts)
    return f"{show(delta.before)} → {show(delta.after)}"
