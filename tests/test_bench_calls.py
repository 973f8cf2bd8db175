"""bench/calls.py: named functions timed per call during one stage; a bad name is a one-line error."""

from __future__ import annotations

import csv
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CALLS = ROOT / "bench" / "calls.py"


def test_counts_every_call_of_the_stage_timed(tmp_path: Path) -> None:
    data = tmp_path / "data"
    subprocess.run([sys.executable, str(ROOT / "bench" / "generate.py"), "300", str(data)], check=True,
                   capture_output=True)  # fmt: skip
    with open(data / "hr.csv", encoding="utf-8", newline="") as f:
        people = [r for r in csv.DictReader(f) if r["status"] != "terminated"]  # the outbound rule's scope
    with open(data / "groups.csv", encoding="utf-8", newline="") as f:
        groups = list(csv.DictReader(f))
    done = subprocess.run([sys.executable, str(CALLS), "sync", "--data", str(data),
                           "reconciler.engine.sync.staging:Staging._stage",
                           "reconciler.store.sqlite:SqliteStore.commit"],
                          capture_output=True, text=True, timeout=120)  # fmt: skip
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith("sync: ")
    by_name = {line.split()[-1]: line.split() for line in lines[1:]}
    # one staged pending export per provisioned object, and only the sync's calls (not the import's)
    assert int(by_name["Staging._stage"][2]) == len(people) + len(groups)
    assert int(by_name["SqliteStore.commit"][2]) >= 1


def test_the_plan_stage_writes_one_change_a_provisioned_object(tmp_path: Path) -> None:
    data = tmp_path / "data"
    subprocess.run([sys.executable, str(ROOT / "bench" / "generate.py"), "200", str(data)], check=True,
                   capture_output=True)  # fmt: skip
    with open(data / "hr.csv", encoding="utf-8", newline="") as f:
        people = [r for r in csv.DictReader(f) if r["status"] != "terminated"]
    with open(data / "groups.csv", encoding="utf-8", newline="") as f:
        groups = list(csv.DictReader(f))
    done = subprocess.run([sys.executable, str(CALLS), "plan", "--data", str(data),
                           "reconciler.plan.planfile:_change_doc", "reconciler.engine.sync.staging:Staging._stage"],
                          capture_output=True, text=True, timeout=120)  # fmt: skip
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith("plan: ")
    by_name = {line.split()[-1]: line.split() for line in lines[1:]}
    assert int(by_name["_change_doc"][2]) == len(people) + len(groups)  # one written change an add
    assert "Staging._stage (not called)" in done.stdout  # the sync runs before, untimed


def test_a_function_that_does_not_exist_is_one_line(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, str(CALLS), "import", "--n", "50",
                           "reconciler.engine.sync.staging:Staging._no_such"],
                          capture_output=True, text=True, timeout=120)  # fmt: skip
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == ["calls.py: reconciler.engine.sync.staging:Staging._no_such: no function "
                                                "_no_such there"]  # fmt: skip
