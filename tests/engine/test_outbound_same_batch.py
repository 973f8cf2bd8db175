"""Outbound sync stages an object's export in the batch that provisions it; an MV object it refers to in
a later batch of the run is provisioned (or deprovisioned) ahead of that batch first, and a reference to
one not through provisioning in this run waits for the end of the run. These tests pin the cases where
staging early would be wrong, at every batch size."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path
from typing import Any

import pytest

from reconciler.engine import Engine
from reconciler.engine.core import open_state
from reconciler.playbook import load_playbook

BENCH = Path(__file__).resolve().parents[2] / "bench" / "playbook"
HEADER = ["employeeId", "givenName", "sn", "department", "title", "manager", "status", "startDate", "location"]


def _write_people(path: Path, people: list[dict[str, str]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=HEADER)
        w.writeheader()
        for p in people:
            w.writerow({k: p.get(k, "") for k in HEADER})


def _person(emp: str, manager: str = "", status: str = "active", title: str = "Clerk") -> dict[str, str]:
    return {"employeeId": emp, "givenName": "Ann", "sn": f"Lee{emp[-1]}", "department": "Sales", "title": title,
            "manager": manager, "status": status, "startDate": "2020-01-01", "location": "Oslo"}  # fmt: skip


def _bench_copy(root: Path, batch: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """The bench playbook in ``root``, with no groups, run in batches of ``batch``."""
    shutil.copytree(BENCH, root)
    (root / "data").mkdir()
    (root / "data" / "groups.csv").write_text("groupId,displayName,description,member\n", encoding="utf-8")
    monkeypatch.setenv("RECONCILER_BATCH_SIZE", str(batch))


def _sync_errors(root: Path) -> list[Any]:
    """Import, sync and export the playbook in ``root`` once; the errors the sync reported (each counted
    once: the runs' counts agree with their lists)."""
    playbook = load_playbook(root)
    store = open_state(playbook)
    with Engine(playbook, store) as engine:
        engine.import_all(None)
        runs = engine.synchronize_all(None)
        engine.export_all()
    store.close()
    errors = [e for r in runs for e in r.error_list]
    assert len(errors) == sum(r.errors for r in runs)
    return errors


def _directory_rows(root: Path, people: list[list[dict[str, str]]], batch: int,
                    monkeypatch: pytest.MonkeyPatch) -> dict[str, dict[str, Any]]:  # fmt: skip
    """Apply each version of the HR file in turn (import, sync; export only after the last) and
    return the directory file's rows by uid."""
    _bench_copy(root, batch, monkeypatch)
    playbook = load_playbook(root)
    store = open_state(playbook)
    with Engine(playbook, store) as engine:
        for version in people:
            _write_people(root / "data" / "hr.csv", version)
            engine.import_all(None)
            engine.synchronize_all(None)
        engine.export_all()
    store.close()
    with (root / "out" / "directory.csv").open(encoding="utf-8") as f:
        return {r["uid"]: r for r in csv.DictReader(f)}


@pytest.mark.parametrize("batch", [1, 2, 1000])
def test_a_manager_deprovisioned_later_in_the_run_is_not_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, batch: int
) -> None:
    # E1 reports to E2; both are provisioned but never exported. Then E2 is terminated (its staged
    # add is dropped: it never reached the directory) while E1 changes too, in the same run.
    # E1's row comes first, so with small batches E1 is handled before E2's object is removed.
    first = [_person("E1", manager="E2"), _person("E2")]
    second = [_person("E1", manager="E2", title="Analyst"), _person("E2", status="terminated")]
    rows = _directory_rows(tmp_path / "d", [first, second], batch, monkeypatch)
    assert set(rows) == {"E1"}
    assert rows["E1"]["title"] == "Analyst"
    assert rows["E1"]["manager"] == ""  # never the uid of an object that is not in the directory


@pytest.mark.parametrize("batch", [1, 2, 1000])
def test_a_manager_provisioned_later_in_the_run_is_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, batch: int
) -> None:
    # E1 comes first and names E3, provisioned in a later batch of the same run; E2 names E1 (earlier).
    people = [_person("E1", manager="E3"), _person("E2", manager="E1"), _person("E3")]
    rows = _directory_rows(tmp_path / "d", [people], batch, monkeypatch)
    assert {u: r["manager"] for u, r in rows.items()} == {"E1": "E3", "E2": "E1", "E3": ""}


@pytest.mark.parametrize("batch", [1, 1000])
def test_a_manager_coming_back_in_scope_is_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, batch: int) -> None:
    # E2 is out of scope at first (not provisioned); E1 names it, so E1's manager stays empty. Then E2
    # comes back: it is provisioned, and E1 (unchanged in HR) names it in the same run.
    first = [_person("E1", manager="E2"), _person("E2", status="terminated")]
    second = [_person("E1", manager="E2"), _person("E2")]
    rows = _directory_rows(tmp_path / "d", [first, second], batch, monkeypatch)
    assert {u: r["manager"] for u, r in rows.items()} == {"E1": "E2", "E2": ""}


@pytest.mark.parametrize("batch", [1, 1000])
def test_a_manager_that_cannot_be_provisioned_is_reported_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, batch: int
) -> None:
    # The directory already holds an object at E2's DN that no rule joins: provisioning E2 fails. E1
    # names E2, so with small batches E2's provisioning is tried ahead of its batch; once, not twice.
    root = tmp_path / "d"
    _bench_copy(root, batch, monkeypatch)
    (root / "out").mkdir()
    (root / "out" / "directory.csv").write_text("uid,displayName\nE2,Someone Else\n", encoding="utf-8")
    _write_people(root / "data" / "hr.csv", [_person("E1", manager="E2"), _person("E2")])
    errors = _sync_errors(root)
    assert len(errors) == 1
    assert "uid=E2" in errors[0].error and errors[0].kind == "provision-error"


@pytest.mark.parametrize("batch", [1, 1000])
def test_a_manager_provisioned_ahead_cannot_take_a_dn_its_report_took(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, batch: int
) -> None:
    # The directory's uid comes from sn here, and E1 and its manager E3 share one: E1, first, gets the
    # DN; E3's provisioning (ahead of its batch when batches are small) is refused, once.
    root = tmp_path / "d"
    _bench_copy(root, batch, monkeypatch)
    text = (root / "playbook.yml").read_text(encoding="utf-8")
    (root / "playbook.yml").write_text(text.replace("{cs: uid, mv: employeeId}", "{cs: uid, mv: sn}"),
                                       encoding="utf-8")  # fmt: skip
    people = [_person("E1", manager="E3"), _person("E2"), _person("E3")]
    people[0]["sn"] = people[2]["sn"] = "Lee"
    _write_people(root / "data" / "hr.csv", people)
    errors = _sync_errors(root)
    assert [e.kind for e in errors] == ["provision-error"] and "uid=Lee," in errors[0].error
    with (root / "out" / "directory.csv").open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert sorted(r["uid"] for r in rows) == ["Lee", "Lee2"]
