"""Rendering plans: the summary line, order, edits, clustering, Markdown size, redaction — on hand-made changes."""

from __future__ import annotations

import dataclasses
import json
import re
import time
from pathlib import Path

import jsonschema
import pytest

from reconciler.plan.cluster import CLUSTER_THRESHOLD
from reconciler.plan.model import AttributeDelta, LazyChange, PlannedChange
from reconciler.plan.planfile import Plan
from reconciler.plan.redact import Redactor
from reconciler.plan.render import html, markdown, text
from reconciler.plan.render import json as jsonr

from .samples import mixed, same_edit, update

SCHEMAS = Path(__file__).resolve().parents[2] / "schemas"
SUMMARY = re.compile(r"^Plan: \d+ to add, \d+ to change, \d+ to rename, \d+ to delete\.$")


def plan_of(changes, **kw) -> Plan:  # type: ignore[no-untyped-def]
    return Plan.build(changes, playbook="pb.yml", playbook_digest="d" * 64, state_version=3, **kw)


def test_summary_line_has_one_shape_and_no_changes_says_so() -> None:
    out = text.render_plan(plan_of(mixed()))
    assert out.rstrip().splitlines()[-1] == "Plan: 1 to add, 2 to change, 1 to rename, 1 to delete."
    assert SUMMARY.match(out.rstrip().splitlines()[-1])
    assert text.render_plan(plan_of([])).strip() == "No changes."
    assert "**No changes.**" in markdown.render_plan(plan_of([]))


def test_grouped_by_connector_destructive_first() -> None:
    out = text.render_plan(plan_of(mixed()))
    lines = out.splitlines()
    ops = [ln.split()[1] for ln in lines if ln.startswith("  ") and ln.split()[0] in "-~+"]
    assert ops == ["delete", "rename", "update", "add", "update"]
    assert lines.index("corp: 1 delete, 1 rename, 1 update, 1 add") < lines.index("hrcopy: 1 update")


def test_edits_show_before_after_multivalue_diff_and_rename() -> None:
    out = text.render_plan(plan_of(mixed()))
    assert 'department: "Sales" → "Marketing"' in out
    assert '+"smtp:c@new.example" -"smtp:c@old.example"' in out
    assert "uid=al,ou=people  →  uid=alice,ou=people" in out
    assert 'cn = "Dave Smith"' in out


def test_explain_names_rule_flow_and_playbook_edit() -> None:
    plan = plan_of(mixed(), rule_edits={"Out to corp": ["pb.yml:31: flow department changed"]})
    out = text.render_plan(plan, explain=True)
    assert "rule 'Out to corp', flow department" in out
    assert "playbook edit: pb.yml:31: flow department changed" in out
    assert "why: rule 'Out to corp'; cause: deprovision" in out


def test_identical_edits_cluster_past_the_threshold() -> None:
    small = text.render_plan(plan_of(same_edit(10)))
    assert small.count('department: "Sales" → "Marketing"') == 10
    big = plan_of(same_edit(CLUSTER_THRESHOLD + 262))
    out = text.render_plan(big)
    assert f'{CLUSTER_THRESHOLD + 262} objects: department "Sales" → "Marketing"' in out
    assert out.count("uid=u") == 3  # a sample, not every object
    assert len(out.splitlines()) < 10
    full = text.render_plan(big, full=True)
    assert full.count('department: "Sales" → "Marketing"') == CLUSTER_THRESHOLD + 262
    # different edits stay apart; a pair below the minimum stays in detail
    odd = [update("uid=x,ou=people", AttributeDelta("department", before="Sales", after="Legal"))]
    out = text.render_plan(plan_of(same_edit(CLUSTER_THRESHOLD + 1) + odd))
    assert 'department: "Sales" → "Legal"' in out


def test_markdown_fits_a_pull_request_comment() -> None:
    changes = [
        update(f"uid=user{i:05d},ou=people", AttributeDelta("title", before=f"t{i}", after=f"new title {i}"))
        for i in range(5000)
    ]
    md = markdown.render_plan(plan_of(changes), artifact="plan.json")
    assert len(md) < 65_000
    assert "Plan: 0 to add, 5000 to change, 0 to rename, 0 to delete." in md
    assert "the full plan is `plan.json`" in md
    assert md.count("```") % 2 == 0  # every fence is closed
    small = markdown.render_plan(plan_of(mixed()))
    assert "```diff" in small and "\n- delete uid=bob,ou=people" in small


def test_json_plan_matches_schema() -> None:
    schema = json.loads((SCHEMAS / "plan.schema.json").read_text())
    doc = json.loads(jsonr.render_plan(plan_of(mixed(), watermarks={"corp": "csn-1", "hr": None})))
    jsonschema.validate(doc, schema)
    assert doc["summary"] == {"add": 1, "change": 2, "rename": 1, "delete": 1}
    jsonschema.validate(json.loads(jsonr.render_plan(plan_of([]))), schema)


def test_json_plan_is_the_document_one_change_a_line_and_fast() -> None:
    plan = plan_of(same_edit(20_000))
    started = time.perf_counter()
    out = jsonr.render_plan(plan)
    elapsed = time.perf_counter() - started
    assert json.loads(out) == plan.to_document()
    assert out.count('\n    {"connector": ') == 20_000  # one compact line per change: diffs cleanly
    assert elapsed < 5, f"json rendering of 20,000 changes took {elapsed:.1f} s"


@pytest.mark.parametrize("n", [0, 1, 2, 3, 5])
def test_json_plan_printed_in_pieces_is_the_same_document(n: int) -> None:
    plan = plan_of(same_edit(n) if n else [])
    for per in (1, 2, 3):
        out = "".join(jsonr.plan_pieces(plan, per))
        assert out == jsonr.dump(plan.to_document())  # checksum included, taken as the pieces went


def lazy(change: PlannedChange, built: list[str]) -> LazyChange:
    """The change as the engine makes it: deltas built when first read (each build noted in ``built``)."""
    deltas = change.attributes

    def build() -> list[AttributeDelta]:
        built.append(change.dn)
        return deltas

    fields = {f.name: getattr(change, f.name) for f in dataclasses.fields(change) if f.name != "attributes"}
    return LazyChange.of(build, tuple(d.name for d in deltas), fields, any(d.sensitive for d in deltas))


def test_a_shown_and_applied_plan_never_builds_its_adds_deltas() -> None:
    built: list[str] = []
    made = [
        PlannedChange("dir", "add", "user", f"uid=u{i},o=x", rule="Out", attributes=[AttributeDelta("cn", after=f"U {i}")])
        for i in range(200)
    ]
    adds = [lazy(c, built) for c in made]
    plan = plan_of(adds)
    out = text.render_plan(plan)
    assert "200 user objects to add" in out and built == []
    plan.release_details()
    assert built == [] and plan.changes[0].attributes == []
    # a saved plan digests every change: each is built once, with the same content as an eager one
    plan = plan_of([lazy(c, built) for c in mixed()])
    assert plan.digests == plan_of(mixed()).digests
    assert sorted(built) == sorted(c.dn for c in mixed())  # once each
    assert text.render_plan(plan, full=True) == text.render_plan(plan_of(mixed()), full=True)


@pytest.mark.parametrize("fmt", ["text", "md", "json", "html"])
@pytest.mark.parametrize("made", ["eager", "lazy"])
def test_sensitive_values_and_secrets_never_rendered(fmt: str, made: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from reconciler.playbook.model import Secret

    monkeypatch.setenv("CORP_PASSWORD", "hunter2-very-secret")
    changes = mixed()
    changes[1].attributes.append(
        AttributeDelta("description", before=None, after="pw is hunter2-very-secret")
    )
    if made == "lazy":
        changes = [lazy(c, []) for c in changes]
    redactor = Redactor(
        sensitive_anywhere={"nationalid"},
        secrets=[Secret("env", "CORP_PASSWORD", Path()).reveal()],
    )
    plan = plan_of(changes, redactor=redactor)
    out = {
        "text": lambda: text.render_plan(plan, explain=True, full=True),
        "md": lambda: markdown.render_plan(plan, explain=True, full=True),
        "json": lambda: jsonr.render_plan(plan),
        "html": lambda: html.render_plan(plan, explain=True),
    }[fmt]()
    assert "123-45-6789" not in out
    assert "hunter2-very-secret" not in out
    assert "(sensitive)" in out and "(secret)" in out


def test_digest_covers_sensitive_values_without_storing_them() -> None:
    a, b = mixed(), mixed()
    b[0].attributes[1].after = "999-99-9999"
    pa, pb = plan_of(a), plan_of(b)
    assert pa.changes[3].attributes[1].after == pb.changes[3].attributes[1].after == "(sensitive)"
    assert pa.digests[3] != pb.digests[3]
    assert pa.digests[:3] == pb.digests[:3]
