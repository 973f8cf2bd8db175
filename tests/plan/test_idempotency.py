"""After apply, planning again with nothing changed gives `No changes.` — on every golden scenario.

Each scenario of tests/scenarios/ is played and applied in-process (as test_scenarios does, for speed),
then `plan --detailed-exitcode` runs as a real process: it must exit 0 and say `No changes.` A scenario
that fails its own expectations is reported by test_scenarios, not here.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from scenario_runner import PLAYBOOK_NAME, invoke_in_process, load_scenario, run_scenario, scenario_paths

PATHS = scenario_paths()


def cli(workdir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "reconciler", *args],
        cwd=workdir,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "NO_COLOR": "1"},
    )


@pytest.mark.parametrize("path", PATHS, ids=[p.stem for p in PATHS])
def test_plan_after_apply_says_no_changes(path: Path, tmp_path: Path) -> None:
    scenario = load_scenario(path)
    try:
        run_scenario(scenario, tmp_path)
    except AssertionError as exc:
        pytest.skip(f"the scenario itself fails (see test_scenarios): {str(exc).splitlines()[0]}")
    applied = invoke_in_process(
        ["apply", PLAYBOOK_NAME, "--auto-approve", "--allow-deletes", "1000000"], tmp_path, {}
    )
    if applied.exit_code != 0:
        pytest.skip(f"the scenario ends where apply cannot succeed: {applied.output.strip()[-200:]}")
    plan = cli(tmp_path, "plan", PLAYBOOK_NAME, "--detailed-exitcode")
    assert plan.returncode == 0, f"{path.name}: plan after apply\n{plan.stdout}{plan.stderr}"
    assert plan.stdout.rstrip().endswith("No changes."), plan.stdout
