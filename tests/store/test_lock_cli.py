"""The run lock as a user meets it: a second run through the real CLI exits 1 naming the holder."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

DEMO = Path(__file__).resolve().parents[2] / "playbooks" / "demo"
CLI = str(Path(sys.executable).parent / "reconciler")
HOLD = """
import sys, time
from pathlib import Path
from reconciler.store import SqliteStore
s = SqliteStore(Path(sys.argv[1]))
s.lock().acquire()
print("locked", flush=True)
time.sleep(60)
"""


def _hold(state: Path) -> subprocess.Popen[str]:
    proc = subprocess.Popen([sys.executable, "-c", HOLD, str(state)], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None and proc.stdout.readline().strip() == "locked"
    return proc


def _apply(playbook: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [CLI, "apply", str(playbook), "--auto-approve"], capture_output=True, text=True, timeout=120
    )


def test_second_apply_exits_1_naming_the_holder_then_runs_once_it_is_killed(tmp_path: Path) -> None:
    playbook = tmp_path / "demo"
    shutil.copytree(DEMO, playbook)
    holder = _hold(playbook / ".reconciler" / "state.db")
    try:
        refused = _apply(playbook)
        assert refused.returncode == 1
        assert "Traceback" not in refused.stderr
        assert f"pid {holder.pid} on {os.uname().nodename} since " in refused.stderr
        assert len(refused.stderr.strip().splitlines()) == 1
    finally:
        os.kill(holder.pid, signal.SIGKILL)  # the kernel drops a dead process's flock
        holder.wait()
    done = _apply(playbook)
    assert done.returncode == 0, done.stderr
