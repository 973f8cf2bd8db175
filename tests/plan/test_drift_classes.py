"""Drift classification and its renderings, on hand-made changes."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema

from reconciler.plan.drift import build_report
from reconciler.plan.model import AttributeDelta, PlannedChange, UnmanagedObject
from reconciler.plan.render import json as jsonr
from reconciler.plan.render import markdown, text

from .samples import update

SCHEMA = json.loads((Path(__file__).resolve().parents[2] / "schemas" / "drift.schema.json").read_text())


def changes() -> list[PlannedChange]:
    return [
        update("uid=carol,ou=people", AttributeDelta("department", "Legal", "Sales", cause="out-of-band")),
        update("uid=erin,ou=people", AttributeDelta("title", "Eng", "Lead", cause="unconfirmed")),
        PlannedChange("corp", "add", "person", "uid=dave,ou=people", cause="missing", rule="Out to corp"),
        PlannedChange("corp", "delete", "person", "uid=bob,ou=people", anchor="b-1", cause="deprovision"),
        update("uid=finn,ou=people", AttributeDelta("mail", "f@old", "f@new", cause="source")),
    ]


def test_each_class_with_object_attribute_actual_and_desired() -> None:
    report = build_report(changes(), [UnmanagedObject("corp", "person", "uid=svc-backup,ou=people", "s-1")])
    assert report.counts() == {
        "out-of-band": 1,
        "unconfirmed": 1,
        "missing": 1,
        "deprovision": 1,
        "pending": 1,
    }
    first = report.items[0]
    assert (first.drift_class, first.dn, first.attribute, first.actual, first.desired) == (
        "out-of-band",
        "uid=carol,ou=people",
        "department",
        "Legal",
        "Sales",
    )
    out = text.render_drift(report)
    assert "Changed out of band (out-of-band): 1" in out
    assert 'department: actual "Legal", desired "Sales"' in out
    assert "uid=bob,ou=people (anchor b-1): actual (present), desired (absent)" in out
    assert "Unmanaged (for information, never touched): 1" in out
    assert out.rstrip().endswith(
        "Drift: 5 differences on 5 objects (1 out-of-band, 1 unconfirmed, 1 missing, 1 deprovision, 1 pending)."
    )


def test_unmanaged_alone_is_not_drift() -> None:
    report = build_report([], [UnmanagedObject("corp", "person", "uid=svc,ou=people")])
    assert not report.has_drift
    assert text.render_drift(report).rstrip().endswith("No drift.")
    doc = json.loads(jsonr.render_drift(report))
    jsonschema.validate(doc, SCHEMA)
    assert doc["drift"] is False and len(doc["unmanaged"]) == 1


def test_json_and_markdown() -> None:
    report = build_report(changes())
    doc = json.loads(jsonr.render_drift(report))
    jsonschema.validate(doc, SCHEMA)
    assert doc["drift"] is True and doc["summary"]["out-of-band"] == 1
    md = markdown.render_drift(report)
    assert '| corp | `uid=carol,ou=people` | carol | department | "Legal" | "Sales" |' in md
