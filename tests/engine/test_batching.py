"""Batches are an implementation detail: any batch size gives the same metaverse and the same exports.

The bench data puts managers after their reports as often as before them, so with small batches
many references name an object that is linked only in a later batch of the same full sync.
"""

from __future__ import annotations

import csv
import importlib.util
import shutil
from pathlib import Path
from typing import Any

import pytest

from reconciler.engine import Engine
from reconciler.engine.core import open_state
from reconciler.playbook import load_playbook

BENCH = Path(__file__).resolve().parents[2] / "bench"
PEOPLE = 600


def _generate(outdir: Path) -> None:
    spec = importlib.util.spec_from_file_location("bench_generate", BENCH / "generate.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.generate(PEOPLE, outdir)


def _first_cycle(root: Path, batch: int, monkeypatch: pytest.MonkeyPatch
                 ) -> tuple[dict[str, Any], list[str], list[tuple[Any, ...]], list[str]]:  # fmt: skip
    """Import and full sync with this batch size: MV people by employeeId, the directory's rows, the
    sync's counts as its history rows show them, and the two files the export wrote."""
    shutil.copytree(BENCH / "playbook", root)
    _generate(root / "data")
    monkeypatch.setenv("RECONCILER_BATCH_SIZE", str(batch))
    playbook = load_playbook(root)
    store = open_state(playbook)
    with Engine(playbook, store) as engine:
        engine.import_all(True)
        runs = engine.synchronize_all(True)
        counts = [(r.connector, r.total, r.added, r.changed, r.deleted, r.filtered, r.errors, r.status) for r in runs]
        engine.export_all()
        guid_to_emp = {}
        people: dict[str, Any] = {}
        for mvs in store.iter_mv("person", 1000):
            for mv in mvs:
                guid_to_emp[mv.id] = mv.attrs["employeeId"]
                people[mv.attrs["employeeId"]] = dict(mv.attrs)
        for attrs in people.values():  # MV ids differ between runs: compare managers by employeeId
            if "manager" in attrs:
                attrs["manager"] = guid_to_emp[attrs["manager"]]
    store.close()
    files = [(root / "out" / name).read_text(encoding="utf-8") for name in ("directory.csv", "groups.csv")]
    lines = sorted(files[0].splitlines()[1:])
    return people, lines, counts, files


def test_small_batches_give_the_result_of_one_batch(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from reconciler.engine.sync.inbound import Inbound
    from reconciler.engine.sync.outbound import Outbound

    one, one_file, one_counts, one_files = _first_cycle(tmp_path / "one", 100_000, monkeypatch)
    # people whose manager comes in a later batch get their references alone evaluated again at the end
    refs_only: list[int] = []
    real = Inbound.recompute_refs

    def spy(self: Inbound, mv_ids: list[int]) -> None:
        refs_only.extend(mv_ids)
        real(self, mv_ids)

    monkeypatch.setattr(Inbound, "recompute_refs", spy)
    # and outbound provisions the managers of later batches ahead of theirs, once each
    ahead: list[int] = []
    real_ahead = Outbound._phase_a_ahead

    def spy_ahead(self: Outbound, *args: Any) -> set[int]:
        before = len(args[3])
        out = real_ahead(self, *args)
        ahead.extend([len(args[3]) - before])
        return out

    monkeypatch.setattr(Outbound, "_phase_a_ahead", spy_ahead)
    small, small_file, small_counts, small_files = _first_cycle(tmp_path / "small", 37, monkeypatch)
    assert len(refs_only) >= PEOPLE // 10  # 83 of the 600 bench people, with batches of 37
    assert sum(ahead) >= PEOPLE // 20
    assert small == one
    assert small_file == one_file
    assert small_counts == one_counts  # nothing counted twice: each object is provisioned once
    assert small_files == one_files  # byte for byte: rows and group members in the same order
    with (tmp_path / "one" / "data" / "hr.csv").open(encoding="utf-8") as f:
        rows = {r["employeeId"]: r for r in csv.DictReader(f)}
    # every person's manager reached the metaverse, whichever batch the manager was in
    assert {e: a.get("manager") for e, a in small.items()} == {e: r["manager"] or None for e, r in rows.items()}
    # and the directory names the manager of everyone provisioned whose manager is provisioned too
    header = (tmp_path / "small" / "out" / "directory.csv").read_text(encoding="utf-8").splitlines()[0].split(",")
    col = header.index("manager")
    with_manager = sum(1 for line in small_file if line.split(",")[col])
    kept = [r for r in rows.values() if r["status"] != "terminated"]
    assert with_manager == sum(1 for r in kept if r["manager"] and rows[r["manager"]]["status"] != "terminated")
