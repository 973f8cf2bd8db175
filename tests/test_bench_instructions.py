"""bench/instructions.py: a stage's own instructions for two versions, counted by callgrind."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.skipif(shutil.which("valgrind") is None, reason="valgrind is not installed (make test installs it)")
def test_the_same_code_counts_the_same_and_the_stage_alone(tmp_path: Path, head_revision: str) -> None:
    head = head_revision
    out = tmp_path / "instructions.json"
    done = subprocess.run([sys.executable, str(ROOT / "bench" / "instructions.py"), head, "--stage", "import",
                           "--n", "60", "--out", str(out)], capture_output=True, text=True, timeout=300)  # fmt: skip
    assert done.returncode == 0, done.stderr
    result = json.loads(out.read_text())
    counts = result["instructions"]
    assert set(counts) == {"working tree", head}
    # the import of 60 people alone, not the interpreter's start-up (several hundred million)
    assert all(0 < n < 200_000_000 for n in counts.values()), counts
    clean = not subprocess.run(["git", "-C", str(ROOT), "status", "--porcelain", "--", "reconciler", "bench"],
                               capture_output=True, text=True).stdout
    if clean:
        assert abs(result["change_percent"]) < 1  # the same code: the same work, to well within a percent
    assert f"import  working tree against {head}" in done.stdout


def test_a_revision_that_does_not_exist_is_one_line(tmp_path: Path) -> None:
    if shutil.which("valgrind") is None:
        pytest.skip("valgrind is not installed (make test installs it)")
    done = subprocess.run([sys.executable, str(ROOT / "bench" / "instructions.py"), "no-such-revision", "--n", "20"],
                          capture_output=True, text=True, timeout=120)  # fmt: skip
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("instructions.py: cannot check out no-such-revision: "), lines
