"""Every stage of a long run reports its progress per connector, so a user watching a million-object
apply sees where it is: import, each connector's synchronization, outbound sync, export."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from engine_lab import Lab

from reconciler.engine import Engine, open_state

PLAYBOOK = """
version: 1
state: state/state.db
metaverse:
  person: {employeeId: {type: string}, name: {type: string}}
connectors:
  hr: {type: csv, path: hr.csv, object_type: person, anchor: employeeId}
  dir: {type: csv, path: dir.csv, object_type: person, anchor: uid}
sync_rules:
  - {name: In, connector: hr, direction: inbound, cs_type: person, mv_type: person, precedence: 1,
     join: [[{cs: employeeId, mv: employeeId}]], project: true,
     flows: [{mv: employeeId, cs: employeeId}, {mv: name, cs: name}]}
  - {name: Out, connector: dir, direction: outbound, mv_type: person, cs_type: person, precedence: 1,
     provision: true, flows: [{cs: uid, mv: employeeId}, {cs: cn, mv: name}]}
"""


def test_each_stage_reports_progress_per_connector(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RECONCILER_BATCH_SIZE", "2")
    lab = Lab(tmp_path)
    lab.playbook(PLAYBOOK)
    lab.csv("hr.csv", [{"employeeId": str(i), "name": f"P{i}"} for i in range(5)])
    calls: list[tuple[str, int, Any]] = []
    pb = lab.load()
    store = open_state(pb)
    with Engine(pb, store, progress=lambda stage, done, total: calls.append((stage, done, total))) as eng:
        eng.cycle("delta")
    store.close()
    by_stage: dict[str, list[tuple[int, Any]]] = {}
    for stage, done, total in calls:
        by_stage.setdefault(stage, []).append((done, total))
    # batches of two: the counts grow a batch at a time and end at the whole
    assert by_stage["import hr"] == [(2, None), (4, None), (5, None)]
    assert by_stage["sync hr"] == [(2, 5), (4, 5), (5, 5)]
    assert by_stage["sync outbound"] == [(2, 5), (4, 5), (5, 5)]
    assert by_stage["export dir"][-1] == (5, None)
    assert "import dir" in by_stage  # the confirming import
