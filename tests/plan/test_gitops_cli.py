"""plan / show / apply / drift through the real command line (subprocesses) on CSV connectors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from .gitops import Workspace


@pytest.fixture
def ws(tmp_path: Path) -> Workspace:
    return Workspace(tmp_path)


def applied(ws: Workspace) -> Workspace:
    result = ws.run("apply", "playbook.yml", "--auto-approve")
    assert result.code == 0, result.out + result.err
    return ws


# -------------------------------------------------------------------------------------------- plan


def test_plan_writes_nothing_then_apply_then_no_changes(ws: Workspace) -> None:
    first = ws.run("plan", "playbook.yml", "--detailed-exitcode")
    assert first.code == 2, first.err
    assert first.out.rstrip().endswith("Plan: 3 to add, 0 to change, 0 to rename, 0 to delete.")
    assert "+ add" in first.out and "dir:" in first.out
    assert not (ws.root / "dir.csv").exists(), "plan must never create or touch a connected system"
    version = ws.state_version()
    assert ws.run("plan", "playbook.yml").code == 0
    assert ws.state_version() == version, "plan committed something to the state"

    result = ws.run("apply", "playbook.yml", "--auto-approve")
    assert result.code == 0, result.out + result.err
    assert "Apply complete: 3 exported, 3 confirmed by import, 0 not confirmed, 0 failed." in result.out
    assert set(ws.directory()) == {"1", "2", "3"}
    again = ws.run("plan", "playbook.yml", "--detailed-exitcode")
    assert again.code == 0, again.out + again.err
    assert again.out.strip().endswith("No changes.")


def test_sensitive_values_never_leave_in_clear(ws: Workspace) -> None:
    outputs = [
        ws.run("plan", "playbook.yml", "--out", "plan.json", "--format", f).out
        for f in ("text", "md", "json", "html")
    ]
    outputs.append((ws.root / "plan.json").read_text())
    outputs.append(ws.run("show", "plan.json", "--explain", "--full").out)
    outputs.append(ws.run("apply", "playbook.yml", "--auto-approve").out)
    for out in outputs:
        assert "NID-0001-SECRET" not in out
    assert "(sensitive)" in outputs[0]
    assert ws.directory()["1"]["nationalId"] == "NID-0001-SECRET"  # redacted in output, exported as is


def test_apply_without_a_terminal_or_auto_approve_refuses(ws: Workspace) -> None:
    result = ws.run("apply", "playbook.yml")
    assert result.code == 1
    assert result.err.startswith("error: apply needs a confirmation and there is no terminal")
    assert "Traceback" not in result.err
    assert not (ws.root / "dir.csv").exists()


# ------------------------------------------------------------------------------ saved plans, stale


def test_a_saved_plan_is_applied_exactly(ws: Workspace) -> None:
    plan = ws.run("plan", "playbook.yml", "--out", "plan.json")
    assert plan.code == 0
    shown = ws.run("show", "plan.json")
    assert shown.out == plan.out
    result = ws.run("apply", "playbook.yml", "plan.json")
    assert result.code == 0, result.out + result.err
    assert set(ws.directory()) == {"1", "2", "3"}
    assert ws.run("plan", "playbook.yml").out.strip().endswith("No changes.")


def test_stale_plan_playbook_changed(ws: Workspace) -> None:
    assert ws.run("plan", "playbook.yml", "--out", "plan.json").code == 0
    ws.write_playbook(department="displayName")
    result = ws.run("apply", "playbook.yml", "plan.json")
    assert result.code == 1
    assert "stale plan: the playbook changed since the plan was made" in result.err
    assert "reconciler plan playbook.yml --out PLANFILE" in result.err
    assert not (ws.root / "dir.csv").exists()


def test_stale_plan_state_moved_on(ws: Workspace) -> None:
    assert ws.run("plan", "playbook.yml", "--out", "plan.json").code == 0
    applied(ws)  # another apply ran in between
    result = ws.run("apply", "playbook.yml", "plan.json")
    assert result.code == 1
    assert "stale plan: the state moved on since the plan was made" in result.err


def test_stale_plan_objects_changed_in_their_systems(ws: Workspace) -> None:
    applied(ws)
    ws.people["2"]["department"] = "Marketing"
    ws.write_hr()
    assert ws.run("plan", "playbook.yml", "--out", "plan.json").code == 0
    rows = ws.directory()
    rows["2"]["department"] = "Legal"  # someone edits the target after the plan was made
    ws.write_directory(rows)
    result = ws.run("apply", "playbook.yml", "plan.json")
    assert result.code == 1, result.out + result.err
    assert "stale plan: objects changed in their systems since the plan was made: employeeId=2" in result.err
    assert ws.directory()["2"]["department"] == "Legal", "a stale plan exported something"


# ---------------------------------------------------------------------------- threshold, explain


def test_identical_edits_are_clustered_past_the_threshold(tmp_path: Path) -> None:
    ws = applied(Workspace(tmp_path, people=80))
    for person in ws.people.values():
        person["department"] = "Marketing"
    ws.write_hr()
    out = ws.run("plan", "playbook.yml").out
    assert '80 objects: department "Sales" → "Marketing"' in out
    assert len(out.splitlines()) < 15
    full = ws.run("plan", "playbook.yml", "--full").out
    assert full.count('department: "Sales" → "Marketing"') == 80
    md = ws.run("plan", "playbook.yml", "--format", "md").out
    assert "80 objects" in md and len(md) < 65_000
    doc = json.loads(ws.run("plan", "playbook.yml", "--json").out)
    assert len(doc["changes"]) == 80  # the full output keeps every object


def test_explain_names_the_rule_and_the_playbook_edit(ws: Workspace) -> None:
    applied(ws)
    ws.write_playbook(department="displayName")
    out = ws.run("plan", "playbook.yml", "--explain").out
    assert "rule 'Out to directory'" in out
    assert "playbook edit: playbook.yml:" in out and "flow to department changed" in out


def test_deletion_threshold_stops_apply_with_exit_3(tmp_path: Path) -> None:
    ws = applied(Workspace(tmp_path, people=4, threshold=1))
    del ws.people["1"], ws.people["2"]
    ws.write_hr()
    before = (ws.root / "dir.csv").read_text()
    result = ws.run("apply", "playbook.yml", "--auto-approve")
    assert result.code == 3, result.out + result.err
    assert (ws.root / "dir.csv").read_text() == before
    assert ws.run("apply", "playbook.yml", "--auto-approve", "--allow-deletes", "5").code == 0
    assert set(ws.directory()) == {"3", "4"}


def _apply_on_a_terminal(ws: Workspace, answer: str) -> tuple[int, str]:
    """Run apply with a pseudo-terminal as stdin/stdout and type ``answer`` at the question."""
    import os
    import pty
    import subprocess
    import sys
    import time

    master, slave = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "reconciler", "apply", "playbook.yml"],
        cwd=ws.root,
        stdin=slave,
        stdout=slave,
        stderr=slave,
        env={**os.environ, "NO_COLOR": "1", "TERM": "dumb"},
    )
    os.close(slave)
    seen = b""
    deadline = time.monotonic() + 60
    while b"Only 'yes' is accepted" not in seen and time.monotonic() < deadline:
        try:
            seen += os.read(master, 4096)
        except OSError:
            break
    os.write(master, answer.encode() + b"\n")
    while True:
        try:
            chunk = os.read(master, 4096)
        except OSError:
            break
        if not chunk:
            break
        seen += chunk
    code = proc.wait(timeout=60)
    os.close(master)
    return code, seen.decode(errors="replace")


def test_apply_asks_on_a_terminal(ws: Workspace) -> None:
    code, out = _apply_on_a_terminal(ws, "no")
    assert code == 1 and "apply cancelled; nothing was exported" in out
    assert "Plan: 3 to add" in out
    assert not (ws.root / "dir.csv").exists()
    code, out = _apply_on_a_terminal(ws, "yes")
    assert code == 0, out
    assert "Apply complete: 3 exported, 3 confirmed by import" in out
    assert set(ws.directory()) == {"1", "2", "3"}


EXPORT_ERROR_PLAYBOOK = """\
version: 1
metaverse:
  person:
    employeeId: {type: string}
    mail:       {type: string}
connectors:
  hr: {type: csv, path: hr.csv, object_type: person, anchor: employeeId}
  dir: {type: csv, path: dir.csv, object_type: person, anchor: mail, dn: '"CN=" & [employeeId]', columns: [mail, employeeId]}
sync_rules:
  - {name: In from HR, connector: hr, direction: inbound, cs_type: person, mv_type: person, precedence: 100,
     join: [[{cs: employeeId, mv: employeeId}]], project: true,
     flows: [{mv: employeeId, cs: employeeId}, {mv: mail, cs: mail}]}
  - {name: Out to directory, connector: dir, direction: outbound, mv_type: person, cs_type: person,
     precedence: 100, provision: true, flows: [{cs: employeeId, mv: employeeId}, {cs: mail, mv: mail}]}
"""


def test_per_object_export_errors_do_not_stop_the_others(ws: Workspace) -> None:
    ws.playbook.write_text(EXPORT_ERROR_PLAYBOOK)
    (ws.root / "hr.csv").write_text("employeeId,mail\n1,a@x\n2,\n3,c@x\n")  # 2 has no value for dir's anchor
    result = ws.run("apply", "playbook.yml", "--auto-approve")
    assert result.code == 1, result.out + result.err
    assert "Apply complete: 2 exported, 2 confirmed by import, 0 not confirmed, 1 failed." in result.out
    assert "error: 1 object failed to export (the others were exported):" in result.err
    assert "dir: CN=2: " in result.err and "no value for the anchor mail" in result.err
    assert (ws.root / "dir.csv").read_text().splitlines() == ["mail,employeeId", "a@x,1", "c@x,3"]
