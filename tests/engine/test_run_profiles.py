"""Run profiles and cycles through the real command line, the sync history they leave, export order,
and per-object export errors retried by the next run."""

from __future__ import annotations

import csv
import io
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from engine_lab import Lab

from reconciler.engine.exporting.stage import dependency_order
from reconciler.engine.objects import CSObject

DEMO = Path(__file__).resolve().parents[2] / "playbooks" / "demo"
HISTORY_FIELDS = ["start", "end", "connector", "profile", "object_type", "total", "added", "changed", "deleted",
                  "filtered", "errors", "status"]  # fmt: skip


def reconciler(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "reconciler", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=120)  # fmt: skip


def history(cwd: Path) -> list[dict[str, str]]:
    out = reconciler(cwd, "history", ".", "--csv")
    assert out.returncode == 0, out.stderr
    return list(csv.DictReader(io.StringIO(out.stdout)))


@pytest.fixture
def demo(tmp_path: Path) -> Path:
    shutil.copytree(DEMO, tmp_path / "demo")
    return tmp_path / "demo"


def test_each_run_profile_runs_alone_and_writes_a_history_row(demo: Path) -> None:
    steps = [("hr", "full-import"), ("groups", "Full Import"), ("hr", "Full Synchronization"),
             ("groups", "delta-sync"), ("directory", "export"), ("directory", "delta-import")]  # fmt: skip
    for connector, profile in steps:
        run = reconciler(demo, "run", ".", connector, profile)
        assert run.returncode == 0, (connector, profile, run.stdout, run.stderr)
    rows = history(demo)
    assert [r["connector"] for r in rows] == [c for c, _ in steps]
    # profiles are recorded by their canonical names; the first import of a connector is a full one
    assert [r["profile"] for r in rows] == ["full-import", "full-import", "full-sync", "delta-sync", "export",
                                            "full-import"]  # fmt: skip
    for row in rows:
        assert list(row) == HISTORY_FIELDS
        assert row["start"] <= row["end"] and row["status"] == "success" and row["object_type"]
    people = sum(1 for _ in csv.DictReader((demo / "hr.csv").open(encoding="utf-8")))
    assert int(rows[0]["total"]) == int(rows[0]["added"]) == people
    exported = rows[4]
    assert int(exported["total"]) == int(exported["added"]) > 0
    assert (demo / "directory.csv").exists()  # the export wrote the file
    assert int(rows[5]["total"]) == int(exported["added"])  # and the import read back what it wrote


def test_an_unknown_profile_or_connector_is_one_line_and_exit_1(demo: Path) -> None:
    bad = reconciler(demo, "run", ".", "hr", "full-export")
    assert bad.returncode == 1 and "unknown run profile 'full-export'" in bad.stderr
    assert "Traceback" not in bad.stderr and len(bad.stderr.strip().splitlines()) <= 2
    missing = reconciler(demo, "run", ".", "payroll", "full-import")
    assert missing.returncode == 1 and "no connector named 'payroll'" in missing.stderr


def test_cycles_full_and_delta_run_every_connector_and_converge(demo: Path) -> None:
    full = reconciler(demo, "run", ".", "--cycle", "full")
    assert full.returncode == 0, full.stderr
    profiles = [(r["connector"], r["profile"]) for r in history(demo)]
    for name in ("hr", "groups", "directory", "directory_groups"):
        assert (name, "full-import") in profiles
    assert ("directory", "export") in profiles and ("directory_groups", "export") in profiles
    before = len(profiles)
    delta = reconciler(demo, "run", ".", "--cycle", "delta")
    assert delta.returncode == 0, delta.stderr
    rows = history(demo)[before:]
    assert {r["profile"] for r in rows} <= {"delta-import", "full-import", "delta-sync"}  # nothing to export
    assert all(r["added"] == r["changed"] == r["deleted"] == "0" for r in rows)


def _add(i: int, deps: list[int] | None = None, dn: str | None = None) -> CSObject:
    pe = {"op": "add", **({"deps": deps} if deps else {})}
    return CSObject(connector="dir", object_type="user", dn=dn or f"cn={i},dc=x", id=i, pending_export=pe)


def test_export_order_puts_referenced_objects_and_parents_first() -> None:
    objs = [
        CSObject(connector="dir", object_type="user", dn="cn=9,dc=x", id=9, pending_export={"op": "delete"}),
        _add(1, deps=[2]),  # 1 references 2
        CSObject(connector="dir", object_type="user", dn="cn=8,dc=x", id=8, pending_export={"op": "update"}),
        _add(2, deps=[3]),
        _add(3),
        _add(4, dn="cn=4,ou=deep,dc=x"),
        _add(5, dn="ou=deep,dc=x"),
    ]
    order = [o.id for o in dependency_order(objs)]
    assert order.index(3) < order.index(2) < order.index(1)  # what is referenced goes first
    assert order.index(5) < order.index(4)  # a parent before its child
    assert order[-2:] == [8, 9]  # then updates, then deletes


def test_export_order_follows_the_objects_not_their_ids() -> None:
    # the ids objects get depend on the order they were provisioned in (batches change it): the same
    # objects, with the same references, are exported in the same order whatever their ids
    refs = {"e": ["b", "a"], "d": ["a"], "c": ["e", "d"], "b": [], "a": ["c"], "f": ["f"]}

    def order(ids: dict[str, int]) -> list[str]:
        objs = [_add(ids[n], deps=sorted(ids[d] for d in deps), dn=f"cn={n},dc=x") for n, deps in refs.items()]
        return [o.dn for o in dependency_order(objs)]

    first = order({n: i for i, n in enumerate("abcdef", 1)})
    assert order({n: i for i, n in enumerate("fedcba", 1)}) == first
    assert order({n: i for i, n in enumerate("cafbed", 10)}) == first


def test_a_reference_cycle_still_creates_every_object_once() -> None:
    objs = [_add(1, deps=[2]), _add(2, deps=[1]), _add(3, deps=[3])]
    order = [o.id for o in dependency_order(objs)]
    assert sorted(order) == [1, 2, 3]


EXPORT_ERROR_PLAYBOOK = """
version: 1
metaverse:
  person: {employeeId: {type: string}, mail: {type: string}}
connectors:
  hr: {type: csv, path: hr.csv, object_type: person, anchor: employeeId}
  dir: {type: csv, path: dir.csv, object_type: person, anchor: mail, dn: '"uid=" & [employeeId]',
        columns: [mail, employeeId]}
sync_rules:
  - {name: In, connector: hr, direction: inbound, cs_type: person, mv_type: person, precedence: 100,
     join: [[{cs: employeeId, mv: employeeId}]], project: true,
     flows: [{mv: employeeId, cs: employeeId}, {mv: mail, cs: mail}]}
  - {name: Out, connector: dir, direction: outbound, mv_type: person, cs_type: person, precedence: 100,
     provision: true, flows: [{cs: employeeId, mv: employeeId}, {cs: mail, mv: mail}]}
"""


def test_a_failed_export_is_kept_and_retried_by_the_next_run(lab: Lab) -> None:
    lab.playbook(EXPORT_ERROR_PLAYBOOK)
    # two people with one mail: the directory's anchor; the second add cannot be written
    lab.csv("hr.csv", [{"employeeId": "1", "mail": "a@x"}, {"employeeId": "2", "mail": "a@x"}])
    first = lab.cycle()
    errors = [e.error for r in first.runs if r.profile == "export" for e in r.error_list]
    assert len(errors) == 1 and "another record already has the anchor a@x" in errors[0]
    (kept,) = lab.rows("dir.csv")  # one of the two was written, whole
    loser = "2" if kept["employeeId"] == "1" else "1"
    with lab.engine() as eng:
        failed = [cs for b in eng.store.iter_cs("dir", "export_error", 100) for cs in b]
        assert [cs.dn for cs in failed] == [f"uid={loser}"]
        assert failed[0].pending_export is not None  # kept, to be sent again
    # the source is fixed: the next run sends the kept add again, now with the new value
    lab.csv("hr.csv", [{"employeeId": kept["employeeId"], "mail": "a@x"}, {"employeeId": loser, "mail": "b@x"}])
    second = lab.cycle()
    assert sum(r.errors for r in second.runs) == 0
    assert sorted(lab.rows("dir.csv"), key=lambda r: r["mail"]) == [
        {"mail": "a@x", "employeeId": kept["employeeId"]}, {"mail": "b@x", "employeeId": loser}]  # fmt: skip
    with lab.engine() as eng:
        assert eng.store.count_cs("dir", "export_error") == 0
