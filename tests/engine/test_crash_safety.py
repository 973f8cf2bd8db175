"""A run killed at any batch boundary converges, on rerun, to the state of an uninterrupted run.

The engine ends the process with ``os._exit(137)`` at the n-th boundary of a stage when
``RECONCILER_CRASH_AT=<stage>:<n>`` is set (no cleanup, no commit: what SIGKILL does). Each crash runs
in a forked child so the test stays fast; the rerun happens in another child, as a new run would.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

import pytest
from crash_lab import kill_everywhere, run_cycle
from engine_lab import Lab, write_csv

PLAYBOOK = """
version: 1
state: state/state.db
metaverse:
  person:
    employeeId: {type: string}
    displayName: {type: string}
    manager: {type: reference}
  group:
    groupId: {type: string}
    member: {type: reference, multivalued: true}
connectors:
  hr:
    type: csv
    path: hr.csv
    object_type: person
    anchor: employeeId
    references: {manager: employeeId}
  groups:
    type: csv
    path: groups.csv
    object_type: group
    anchor: groupId
    references: {member: {connector: hr, key: employeeId}}
  dir:
    type: csv
    path: dir.csv
    object_type: person
    anchor: uid
    references: {manager: uid}
  dirgroups:
    type: json
    path: dirgroups.json
    object_type: group
    anchor: cn
    references: {member: {connector: dir, key: uid}}
sync_rules:
  - {name: In from HR, connector: hr, direction: inbound, cs_type: person, mv_type: person, precedence: 100,
     scope: [[{attribute: status, op: EQUAL, value: active}]],
     join: [[{cs: employeeId, mv: employeeId}]], project: true,
     flows: [{mv: employeeId, cs: employeeId}, {mv: displayName, cs: name}, {mv: manager, cs: manager}]}
  - {name: In from groups, connector: groups, direction: inbound, cs_type: group, mv_type: group,
     precedence: 100, join: [[{cs: groupId, mv: groupId}]], project: true,
     flows: [{mv: groupId, cs: groupId}, {mv: member, cs: member}]}
  - {name: Out to dir, connector: dir, direction: outbound, mv_type: person, cs_type: person, precedence: 100,
     provision: true, flows: [{cs: uid, mv: employeeId}, {cs: cn, mv: displayName}, {cs: manager, mv: manager}]}
  - {name: Out to groups, connector: dirgroups, direction: outbound, mv_type: group, cs_type: group,
     precedence: 100, provision: true, flows: [{cs: cn, mv: groupId}, {cs: member, mv: member}]}
"""

N = 10
BATCH = 3


def hr_rows(changed: bool) -> list[dict[str, str]]:
    rows = []
    for i in range(1, N + 1):
        status = "gone" if changed and i == 4 else "active"
        name = f"Person {i}" + (" Jr" if changed and i % 3 == 0 else "")
        # managers come before their reports, but 2's (9) comes in a later batch: provisioned ahead of it
        manager = "" if i == 1 else "9" if i == 2 else str((i - 1) // 2 or 1)
        rows.append({"employeeId": str(i), "name": name, "manager": manager, "status": status})
    if changed:
        rows.append({"employeeId": "99", "name": "New Person", "manager": "1", "status": "active"})
    return rows


def groups_rows(changed: bool) -> list[dict[str, str]]:
    members = ";".join(str(i) for i in range(1, N + 1, 2))
    if changed:
        members += ";99"
    return [{"groupId": "odd", "member": members}, {"groupId": "all", "member": "1;2;3"}]


def snapshot(root: Path) -> dict[str, object]:
    """The end state a user would notice: the target files and what the state holds."""
    out: dict[str, object] = {
        "dir.csv": (root / "dir.csv").read_text(),
        "dirgroups.json": json.loads((root / "dirgroups.json").read_text()),
    }
    conn = sqlite3.connect(root / "state" / "state.db")
    out["mv"] = sorted(
        (t, json.dumps({k: v for k, v in json.loads(a).items() if k not in ("manager", "member")}, sort_keys=True))
        for t, a in conn.execute("SELECT object_type, attrs FROM mv")
    )
    out["cs"] = sorted(conn.execute(
        "SELECT connector, dn, kind, anchor, pending_export IS NULL, export_memory IS NULL, mv_id IS NULL FROM cs"
    ).fetchall())  # fmt: skip
    conn.close()
    return out


def prepare(root: Path, changed: bool) -> None:
    write_csv(root / "hr.csv", hr_rows(changed))
    write_csv(root / "groups.csv", groups_rows(changed))


@pytest.mark.parametrize("phase", ["first-apply", "changes"])
def test_a_rerun_after_a_kill_at_any_batch_boundary_converges(tmp_path: Path, phase: str) -> None:
    base = tmp_path / "base"
    base.mkdir()
    Lab(base).playbook(PLAYBOOK)
    prepare(base, changed=False)
    if phase == "changes":
        assert run_cycle(base, BATCH) == 0
        prepare(base, changed=True)
    reference = tmp_path / "reference"
    shutil.copytree(base, reference)
    assert run_cycle(reference, BATCH) == 0
    assert run_cycle(reference, BATCH) == 0  # settles the confirming import's pending work
    expected = snapshot(reference)
    assert kill_everywhere(tmp_path, base, expected, snapshot, BATCH, sigkill=False) >= 10
