"""Plan and drift as JSON: the documents of schemas/plan.schema.json and schemas/drift.schema.json."""

from __future__ import annotations

import json as _json
from typing import Any

from reconciler.plan.drift import DriftReport
from reconciler.plan.planfile import Plan


def dump(doc: dict[str, Any]) -> str:
    """A document indented for reading, each element of its long lists on one compact line.

    ``json.dumps(indent=…)`` falls back to the pure-Python encoder (26 s for 100,000 changes); the
    C encoder per element keeps a plan of that size to a second or two, and the file still diffs
    line by line.
    """
    lines = ["{"]
    last = len(doc) - 1
    for i, (key, value) in enumerate(doc.items()):
        if isinstance(value, list) and value:
            items = ",\n".join("    " + _json.dumps(v, ensure_ascii=False) for v in value)
            text = f"[\n{items}\n  ]"
        else:
            text = _json.dumps(value, indent=2, ensure_ascii=False).replace("\n", "\n  ")
        lines.append(f"  {_json.dumps(key)}: {text}{',' if i < last else ''}")
    lines.append("}")
    return "\n".join(lines) + "\n"


def render_plan(plan: Plan) -> str:
    return dump(plan.to_document())


def render_drift(report: DriftReport) -> str:
    return dump(report.to_document())
