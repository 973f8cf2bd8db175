"""bench/compare.py: two versions run in turns on the same data, medians printed and written, nothing left behind."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _git(*args: str) -> str:
    return subprocess.run(["git", "-C", str(ROOT), *args], capture_output=True, text=True, check=True).stdout


def test_compare_runs_both_versions_and_removes_its_worktree(tmp_path: Path) -> None:
    try:
        head = _git("rev-parse", "HEAD").strip()
    except (OSError, subprocess.CalledProcessError):
        pytest.skip("not a git checkout")
    before = _git("worktree", "list")
    out = tmp_path / "compare.json"
    done = subprocess.run([sys.executable, str(ROOT / "bench" / "compare.py"), head, "--n", "300", "--rounds", "2",
                           "--out", str(out)], capture_output=True, text=True, timeout=300)  # fmt: skip
    assert done.returncode == 0, done.stderr
    result = json.loads(out.read_text())
    assert set(result["runs"]) == {"working tree", head}
    assert result["working_tree"].startswith(head[:7])
    assert all(len(runs) == 2 and all(r["import"] > 0 and r["sync"] > 0 for r in runs)
               for runs in result["runs"].values())  # fmt: skip
    assert f"median  {head}" in done.stdout and "median  working tree" in done.stdout
    assert _git("worktree", "list") == before
