"""bench/compare.py: two versions run in turns on the same data, medians printed and written, nothing left behind."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_compare_runs_both_versions_and_removes_its_worktree(tmp_path: Path, head_revision: str) -> None:
    head = head_revision
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
