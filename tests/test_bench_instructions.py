"""bench/instructions.py: a stage's own instructions for two versions, counted by callgrind."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _git(*args: str) -> str:
    return subprocess.run(["git", "-C", str(ROOT), *args], capture_output=True, text=True, check=True).stdout


@pytest.mark.skipif(shutil.which("valgrind") is None, reason="valgrind is not installed (make test installs it)")
def test_the_same_code_counts_the_same_and_the_stage_alone(tmp_path: Path) -> None:
    try:
        head = _git("rev-parse", "HEAD").strip()
    except (OSError, subprocess.CalledProcessError):
        pytest.skip("not a git checkout")
    before = _git("worktree", "list")
    out = tmp_path / "instructions.json"
    done = subprocess.run([sys.executable, str(ROOT / "bench" / "instructions.py"), head, "--stage", "import",
                           "--n", "60", "--out", str(out)], capture_output=True, text=True, timeout=300)  # fmt: skip
    assert done.returncode == 0, done.stderr
    result = json.loads(out.read_text())
    counts = result["instructions"]
    assert set(counts) == {"working tree", head}
    # the import of 60 people alone, not the interpreter's start-up (several hundred million)
    assert all(0 < n < 200_000_000 for n in counts.values()), counts
    if not _git("status", "--porcelain", "--", "reconciler", "bench"):
        assert abs(result["change_percent"]) < 1  # the same code: the same work, to well within a percent
    assert f"import  working tree against {head}" in done.stdout
    assert _git("worktree", "list") == before


def test_a_revision_that_does_not_exist_is_one_line(tmp_path: Path) -> None:
    if shutil.which("valgrind") is None:
        pytest.skip("valgrind is not installed (make test installs it)")
    done = subprocess.run([sys.executable, str(ROOT / "bench" / "instructions.py"), "no-such-revision", "--n", "20"],
                          capture_output=True, text=True, timeout=120)  # fmt: skip
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("instructions.py: cannot check out no-such-revision: "), lines
