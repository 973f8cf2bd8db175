"""Plan and drift as JSON: the documents of schemas/plan.schema.json and schemas/drift.schema.json."""

from __future__ import annotations

import json as _json

from reconciler.plan.drift import DriftReport
from reconciler.plan.planfile import Plan


def render_plan(plan: Plan) -> str:
    return _json.dumps(plan.to_document(), indent=2, ensure_ascii=False) + "\n"


def render_drift(report: DriftReport) -> str:
    return _json.dumps(report.to_document(), indent=2, ensure_ascii=False) + "\n"
