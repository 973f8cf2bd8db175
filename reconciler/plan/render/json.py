"""Plan and drift as JSON: the documents of schemas/plan.schema.json and schemas/drift.schema.json."""

from __future__ import annotations

import hashlib
import json as _json
from collections.abc import Iterator
from typing import Any

from reconciler.plan.digest import compact, compact_change
from reconciler.plan.drift import DriftReport
from reconciler.plan.planfile import Plan


def _member(key: str, value: Any) -> str:
    if isinstance(value, list) and value:
        items = ",\n".join("    " + _json.dumps(v, ensure_ascii=False) for v in value)
        text = f"[\n{items}\n  ]"
    else:
        text = _json.dumps(value, indent=2, ensure_ascii=False).replace("\n", "\n  ")
    return f"  {_json.dumps(key)}: {text}"


def dump(doc: dict[str, Any]) -> str:
    """A document indented for reading, each element of its long lists on one compact line.

    ``json.dumps(indent=…)`` falls back to the pure-Python encoder (26 s for 100,000 changes); the
    C encoder per element keeps a plan of that size to a second or two, and the file still diffs
    line by line.
    """
    return "{\n" + ",\n".join(_member(k, v) for k, v in doc.items()) + "\n}\n"


def plan_pieces(plan: Plan, per: int = 1000) -> Iterator[str]:
    """``dump(plan.to_document())`` in pieces of ``per`` changes, its checksum taken as they go: printing
    a plan of 100,000 changes never holds its whole document or text."""
    head, tail = plan._head(), plan._tail()
    hasher = hashlib.sha256((compact(head)[:-1] + ',"changes":[').encode("utf-8"))
    yield "{\n" + "".join(_member(k, v) + ",\n" for k, v in head.items())
    yield '  "changes": [' + ("\n" if plan.changes else "")
    shown: list[str] = []
    for i, doc in enumerate(plan.change_documents()):
        if i:
            hasher.update(b",")
        hasher.update(compact_change(doc))
        shown.append("    " + _json.dumps(doc, ensure_ascii=False))
        if len(shown) == per:
            yield ",\n".join(shown) + ("" if i + 1 == len(plan.changes) else ",\n")
            shown = []
    yield ",\n".join(shown) + ("\n  ],\n" if plan.changes else "],\n")
    hasher.update(("]," + compact(tail)[1:]).encode("utf-8"))
    yield "".join(_member(k, v) + ",\n" for k, v in tail.items())
    yield f'  "checksum": "{hasher.hexdigest()}"\n}}\n'


def render_plan(plan: Plan) -> str:
    return "".join(plan_pieces(plan))


def render_drift(report: DriftReport) -> str:
    return dump(report.to_document())
