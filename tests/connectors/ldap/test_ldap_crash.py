"""A real SIGKILL at every batch boundary of a cycle into a real slapd, then a rerun: it ends as an
uninterrupted run does, nothing lost and nothing added twice.

The file connectors' crash tests (tests/engine) kill a cycle between a file's rename and the state's
commit. Here the hard case is a directory that has taken adds, modifies, renames and deletes whose
results the state never committed: the in-flight marks and the next import (by entryUUID, else by
DN) must resolve them. Each kill runs in an OU of its own, so every run starts from the same directory.
"""

from __future__ import annotations

import shutil
import sqlite3
import sys
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest

from .slapd import ADMIN, BASE, PASSWORD_ENV, Slapd

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "engine"))
from crash_lab import STAGES, run_cycle
from engine_lab import write_csv

PLAYBOOK = """
version: 1
state: state/state.db
metaverse:
  person:
    employeeId: {type: string}
    login: {type: string}
    displayName: {type: string}
    manager: {type: reference}
connectors:
  hr: {type: csv, path: hr.csv, object_type: person, anchor: employeeId, references: {manager: employeeId}}
  corp:
    type: ldap
    uri: %(uri)s
    bind_dn: %(admin)s
    password: {env: %(env)s}
    base_dn: %(base)s
    containers: ["%(ou)s"]
    object_types:
      inetOrgPerson: [uid, cn, sn, employeeNumber, manager]
    anchor: entryUUID
sync_rules:
  - {name: In from HR, connector: hr, direction: inbound, cs_type: person, mv_type: person, precedence: 100,
     scope: [[{attribute: status, op: EQUAL, value: active}]],
     join: [[{cs: employeeId, mv: employeeId}]], project: true,
     flows: [{mv: employeeId, cs: employeeId}, {mv: login, cs: login}, {mv: displayName, cs: name},
             {mv: manager, cs: manager}]}
  - {name: Out to corp, connector: corp, direction: outbound, mv_type: person, cs_type: inetOrgPerson,
     precedence: 100, provision: true, deprovision: delete,
     dn: '"uid=" & [login] & ",%(ou)s"',
     flows: [{cs: uid, mv: login}, {cs: employeeNumber, mv: employeeId}, {cs: cn, mv: displayName},
             {cs: sn, mv: login}, {cs: manager, mv: manager}]}
"""

N = 7
BATCH = 2


def hr_rows(changed: bool) -> list[dict[str, str]]:
    rows = []
    for i in range(1, N + 1):
        login = f"user{i}" + ("x" if changed and i == 4 else "")  # a rename: 7 reports to 4
        name = f"Person {i}" + (" Jr" if changed and i % 3 == 0 else "")  # updates
        status = "gone" if changed and i == 5 else "active"  # a delete
        manager = "" if i == 1 else ("2" if changed and i == 6 else "4" if i == 7 else "1")
        rows.append({"employeeId": str(i), "login": login, "name": name, "manager": manager, "status": status})
    if changed:
        rows.append({"employeeId": "99", "login": "new", "name": "New Person", "manager": "4", "status": "active"})
    return rows


class Runs:
    """Playbook folders, each over an OU of its own in the one slapd."""

    def __init__(self, tmp_path: Path, slapd: Slapd) -> None:
        self.tmp_path = tmp_path
        self.slapd = slapd

    def folder(self, name: str, rows: list[dict[str, str]]) -> tuple[Path, str]:
        ou = self.slapd.add_ou(f"c{uuid.uuid4().hex[:10]}")
        root = self.tmp_path / name
        root.mkdir()
        (root / "playbook.yml").write_text(PLAYBOOK % {"uri": self.slapd.uri, "admin": ADMIN, "env": PASSWORD_ENV,
                                                       "base": BASE, "ou": ou})  # fmt: skip
        write_csv(root / "hr.csv", rows)
        return root, ou

    def snapshot(self, root: Path, ou: str) -> dict[str, object]:
        """The directory's entries and the state's connector space, with the OU's name taken out."""
        entries = {}
        for dn in self.slapd.children(ou):
            e = self.slapd.entry(dn) or {}
            entries[dn.replace(ou, "OU")] = (e.get("cn"), e.get("employeeNumber"),
                                             [m.replace(ou, "OU") for m in e.get("manager", [])])  # fmt: skip
        conn = sqlite3.connect(root / "state" / "state.db")
        cs = sorted((c, dn.replace(ou, "OU"), kind, anchor is not None, pe, mem) for c, dn, kind, anchor, pe, mem in
                    conn.execute("SELECT connector, dn, kind, anchor, pending_export IS NULL, export_memory IS NULL "
                                 "FROM cs"))  # fmt: skip
        mv = conn.execute("SELECT COUNT(*) FROM mv").fetchone()
        conn.close()
        return {"entries": entries, "cs": cs, "mv": mv}


def converge_after_kills(runs: Runs, prepare: Callable[[Path], None], rows: list[dict[str, str]],
                         expected: dict[str, object]) -> int:  # fmt: skip
    kills = 0
    for stage in STAGES:
        n = 1
        while True:
            root, ou = runs.folder(f"{stage}-{n}", rows)
            prepare(root)
            code = run_cycle(root, BATCH, f"{stage}:{n}", sigkill=True)
            if code == 0:
                break  # no boundary n in this stage: every one was tried
            assert code == -9, f"{stage}:{n} failed instead of dying"
            kills += 1
            assert run_cycle(root, BATCH) == 0
            assert run_cycle(root, BATCH) == 0  # settles the confirming import's pending work
            got = runs.snapshot(root, ou)
            assert got == expected, f"killed at {stage}:{n}, the rerun did not converge: {got} != {expected}"
            runs.slapd.delete_tree(ou)
            shutil.rmtree(root)
            n += 1
    return kills


@pytest.mark.parametrize("phase", ["first-apply", "changes"])
def test_sigkill_at_any_batch_boundary_then_rerun_converges(tmp_path: Path, slapd: Slapd, phase: str) -> None:
    runs = Runs(tmp_path, slapd)

    def prepare(root: Path) -> None:
        if phase == "changes":  # the directory and the state as two clean cycles left them, then HR changes
            assert run_cycle(root, BATCH) == 0
            assert run_cycle(root, BATCH) == 0
            write_csv(root / "hr.csv", hr_rows(True))

    reference, ou = runs.folder("reference", hr_rows(False))
    prepare(reference)
    assert run_cycle(reference, BATCH) == 0
    assert run_cycle(reference, BATCH) == 0
    expected = runs.snapshot(reference, ou)
    entries = expected["entries"]
    assert isinstance(entries, dict)
    if phase == "changes":  # the uninterrupted run renamed, updated, added and deleted
        assert "uid=user4x,OU" in entries and "uid=user4,OU" not in entries and "uid=user5,OU" not in entries
        assert entries["uid=user7,OU"][2] == ["uid=user4x,OU"] and entries["uid=new,OU"][2] == ["uid=user4x,OU"]
        assert entries["uid=user3,OU"][0] == ["Person 3 Jr"]
    else:
        assert len(entries) == N
    assert converge_after_kills(runs, prepare, hr_rows(False), expected) >= 6
