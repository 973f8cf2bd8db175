"""What the crash tests share: a delta cycle in a forked child that dies at a chosen batch boundary,
and the loop that kills a run at every boundary of every stage and checks that a rerun converges."""

from __future__ import annotations

import os
import shutil
import signal
from collections.abc import Callable
from pathlib import Path

from reconciler.engine import Engine, open_state
from reconciler.playbook import load_playbook

STAGES = ("import", "sync", "export")


def run_cycle(root: Path, batch: int, die_at: str | None = None, *, sigkill: bool = False) -> int:
    """One delta cycle in a forked child (a new run, as a rerun would be); its exit code.

    ``die_at`` = "<stage>:<n>": the child dies at that boundary, through the engine's own hook
    (``os._exit(137)``, no cleanup, no commit) or, with ``sigkill``, by sending itself SIGKILL (-9)."""
    pid = os.fork()
    if pid == 0:  # child
        code = 0
        try:
            os.environ.pop("RECONCILER_CRASH_AT", None)
            os.environ["RECONCILER_BATCH_SIZE"] = str(batch)
            if die_at and not sigkill:
                os.environ["RECONCILER_CRASH_AT"] = die_at
            elif die_at:
                from reconciler.engine import runs

                stage, _, n = die_at.partition(":")
                counts: dict[str, int] = {}

                def boundary(self: object, at: str) -> None:
                    counts[at] = counts.get(at, 0) + 1
                    if at == stage and counts[at] == int(n):
                        os.kill(os.getpid(), signal.SIGKILL)

                runs.CrashHook.boundary = boundary  # type: ignore[method-assign]
            pb = load_playbook(root / "playbook.yml")
            store = open_state(pb)
            with store.lock(), Engine(pb, store) as eng:
                eng.cycle("delta")
            store.close()
        except BaseException:
            import traceback

            traceback.print_exc()
            code = 1
        os._exit(code)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status)


def kill_everywhere(tmp_path: Path, base: Path, expected: object, snapshot: Callable[[Path], object],
                    batch: int, *, sigkill: bool) -> int:  # fmt: skip
    """From copies of ``base``, kill a cycle at each boundary of each stage in turn (until a stage has
    no boundary n), rerun it twice, and assert the end state is ``expected``; returns the kills."""
    died = -signal.SIGKILL if sigkill else 137
    kills = 0
    for stage in STAGES:
        n = 1
        while True:
            work = tmp_path / f"{stage}-{n}"
            shutil.copytree(base, work)
            code = run_cycle(work, batch, f"{stage}:{n}", sigkill=sigkill)
            if code == 0:
                break  # no boundary n in this stage: every one was tried
            assert code == died, f"{stage}:{n} failed instead of dying"
            kills += 1
            assert run_cycle(work, batch) == 0
            assert run_cycle(work, batch) == 0  # settles the confirming import's pending work
            assert snapshot(work) == expected, f"killed at {stage}:{n}, the rerun did not converge"
            shutil.rmtree(work)
            n += 1
    return kills
