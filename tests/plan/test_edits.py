"""--explain's playbook edits: the rules now against the rules last applied, with file:line."""

from __future__ import annotations

from pathlib import Path

from reconciler.plan.edits import rule_edits, snapshot
from reconciler.plan.redact import Redactor
from reconciler.playbook import load_playbook

from .gitops import Workspace


def test_a_changed_flow_is_named_with_its_line(tmp_path: Path) -> None:
    ws = Workspace(tmp_path)
    applied = snapshot(load_playbook(ws.playbook))
    assert rule_edits(load_playbook(ws.playbook), applied) == {}
    ws.write_playbook(department="displayName")
    edits = rule_edits(load_playbook(ws.playbook), applied)
    line = next(
        n for n, text in enumerate(ws.playbook.read_text().splitlines(), 1) if "{cs: department" in text
    )
    assert edits == {
        "Out to directory": [
            f'playbook.yml:{line}: flow to department changed: {{"cs": "department", "mv": "department"}} '
            f'→ {{"cs": "department", "mv": "displayName"}}'
        ]
    }
    assert rule_edits(load_playbook(ws.playbook), None) == {}  # nothing applied yet: no edits to name


def test_sensitive_attributes_follow_their_flows(tmp_path: Path) -> None:
    redactor = Redactor.for_playbook(load_playbook(Workspace(tmp_path).playbook))
    assert ("dir", "nationalid") in redactor.sensitive
