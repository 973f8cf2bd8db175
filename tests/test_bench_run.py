"""bench/run.py: every stage of a cycle timed, with the engine's own CPU time, written as JSON."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

STAGES = ["import", "full-sync", "export", "confirming-import", "plan-1pct", "cycle-1pct"]


def test_the_benchmark_times_every_stage_of_a_small_run(tmp_path: Path) -> None:
    out = tmp_path / "engine.json"
    done = subprocess.run([sys.executable, str(ROOT / "bench" / "run.py"), "--sizes", "300", "--out", str(out)],
                          capture_output=True, text=True, timeout=300)  # fmt: skip
    assert done.returncode == 0, done.stderr
    (result,) = json.loads(out.read_text())["results"]
    assert result["n"] == 300 and result["cycle_1pct_errors"] == 0
    assert [s["stage"] for s in result["stages"]] == STAGES
    for s in result["stages"]:
        # the engine's thread cannot run longer than the wall clock it was timed by
        assert 0 < s["engine_cpu_seconds"] <= s["seconds"] + 0.01, s
    # 1 % of 300 people change department: a change planned for each one provisioned (the terminated are
    # not), and a cycle cheaper than the first
    assert result["changed_1pct"] == 3 and 1 <= result["planned_changes_1pct"] <= 3
    assert result["cycle_1pct_share_of_first"] < 1
    assert set(result["cli_first_apply"]) == {"apply_auto_approve", "plan_out", "apply_planfile"}
