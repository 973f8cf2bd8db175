"""An export to a connector that takes a batch at a time (LDAP, Graph) reads each batch's pending exports
when it sends that batch: until then it holds only what their order needs."""

from __future__ import annotations

import dataclasses
import tracemalloc
from collections.abc import Sequence
from typing import Any, ClassVar

import pytest
from engine_lab import Lab

from reconciler.connectors.base import Capabilities, ExportChange, ExportResult
from reconciler.connectors.files.csv_connector import CsvConnector
from reconciler.engine import Engine, open_state

PLAYBOOK = """
version: 1
metaverse:
  person: {employeeId: {type: string}, note: {type: string}, manager: {type: reference}}
connectors:
  hr: {type: csv, path: hr.csv, object_type: person, anchor: employeeId, references: {manager: employeeId}}
  dir: {type: csv, path: dir.csv, object_type: person, anchor: employeeId, references: {manager: employeeId},
        delete_threshold: 100000}
sync_rules:
  - {name: In, connector: hr, direction: inbound, cs_type: person, mv_type: person, precedence: 100,
     join: [[{cs: employeeId, mv: employeeId}]], project: true,
     flows: [{mv: employeeId, cs: employeeId}, {mv: note, cs: note}, {mv: manager, cs: manager}]}
  - {name: Out, connector: dir, direction: outbound, mv_type: person, cs_type: person, precedence: 100,
     provision: true, flows: [{cs: employeeId, mv: employeeId}, {cs: note, mv: note}, {cs: manager, mv: manager}]}
"""

PEOPLE = 3000
NOTE = 2000  # bytes a person: 6 MB of notes in all


class Batched(CsvConnector):
    """Takes a batch at a time, as LDAP does, and keeps only the order of what it was sent (no file)."""

    capabilities: ClassVar[Capabilities] = dataclasses.replace(CsvConnector.capabilities, whole_file=False)

    def __init__(self, config: Any) -> None:
        super().__init__(config)
        self.sent: list[tuple[str, str | None]] = []  # (employeeId, manager) in the order sent
        self.batches = 0

    def export(self, changes: Sequence[ExportChange]) -> list[ExportResult]:
        self.batches += 1
        out = []
        for ch in changes:
            uid = ch.attributes["employeeId"]
            manager = ch.attributes.get("manager")  # a reference: a list of the names it translates to
            self.sent.append((uid, manager[0] if manager else None))
            out.append(ExportResult(ch.key, ok=True, anchor=uid, dn=ch.dn))
        return out


def test_a_batched_export_holds_one_batch_of_pending_exports(lab: Lab, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RECONCILER_BATCH_SIZE", "200")
    lab.playbook(PLAYBOOK)
    # each person's manager comes later in the file and has a larger id: the export must send managers first
    lab.csv("hr.csv", [{"employeeId": f"E{i:05d}", "note": f"{i}" + "n" * NOTE,
                        "manager": f"E{i + 1 + i % 7:05d}" if i + 1 + i % 7 < PEOPLE else ""}
                       for i in range(PEOPLE)])  # fmt: skip
    pb = lab.load()
    store = open_state(pb)
    target = Batched(pb.connectors["dir"])
    try:
        with Engine(pb, store, connectors={"dir": target}) as eng:
            eng.import_connector("hr", True)
            eng.synchronize_all(True)
            tracemalloc.start()
            try:
                eng.export_connector("dir")
                peak = tracemalloc.get_traced_memory()[1]
            finally:
                tracemalloc.stop()
    finally:
        store.close()
    assert len(target.sent) == PEOPLE and target.batches >= PEOPLE // 200
    # every pending export was read, but never all at once: the notes alone are 6 MB
    assert peak < PEOPLE * NOTE / 2, f"{peak / 1e6:.1f} MB held during the export"
    position = {uid: n for n, (uid, _) in enumerate(target.sent)}
    for uid, manager in target.sent:
        if manager:
            assert position[manager] < position[uid], f"{uid} was sent before its manager {manager}"
