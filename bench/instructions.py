"""The instructions one stage of the engine executes, for the working tree and a git revision.

    python bench/instructions.py REV [--stage import|sync|export|plan] [--n 2000] [--out FILE]

On a shared machine the same code runs up to a tenth faster or slower from one run to the next, so a
change of a few percent needs the medians of ``bench/compare.py``'s rounds, and one of 1 % cannot be
told at all. The instructions a run executes, counted by valgrind's callgrind, repeat to within 0.05 %:
one run per version shows a 1 % change. (They count work, not waiting: a change in I/O or in the page
cache's hits shows only in time.)

For each version (the working tree, and REV checked out in a temporary worktree) a child runs the stages
before STAGE and then STAGE under callgrind, and a second child stops before STAGE; the difference is the
stage's own instructions (start-up, the data and the earlier stages cancel out). The stages are those of
``bench/calls.py`` (``plan`` follows ``sync``), on generated data; PYTHONHASHSEED is fixed, so set and
dict orders, and with them the work, are the same in every run. A run of 2,000 people takes about a
minute under callgrind.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

from calls import BEFORE, STAGES  # noqa: E402
from compare import describe_working_tree, revision_tree  # noqa: E402

# one run, in a child: the version's code first on the path, bench/ (for the stages) after it
_RUN = """
import shutil, sys
from pathlib import Path
sys.path.insert(0, sys.argv[1])
sys.path.insert(1, sys.argv[2])
from calls import stage_steps
from reconciler.engine import Engine
from reconciler.engine.core import open_state
from reconciler.playbook import load_playbook
work = Path(sys.argv[3])
shutil.rmtree(work / "state", ignore_errors=True)
shutil.rmtree(work / "out", ignore_errors=True)
playbook = load_playbook(work / "playbook.yml")
store = open_state(playbook)
with Engine(playbook, store) as engine:
    steps = stage_steps(playbook, engine, work)
    for name in sys.argv[4:]:
        steps[name]()
store.close()
"""

_COLLECTED = re.compile(r"Collected\s*:\s*(\d+)")


def _env(work: Path) -> dict[str, str]:
    # pure Python in both versions (an older revision has no compiled modules; see reconciler.accel); the
    # bytecode of both in a cache of the run's own, which a first run fills (_warm): a module the stage
    # imports is otherwise read from the working tree's __pycache__ but compiled afresh in the checkout
    env = {**os.environ, "PYTHONHASHSEED": "0", "RECONCILER_PURE_PYTHON": "1",
           "PYTHONPYCACHEPREFIX": str(work.parent / "pycache")}  # fmt: skip
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def _warm(source: Path, work: Path, stages: list[str]) -> None:
    """One run of ``stages`` without valgrind, which compiles every module they import into the cache."""
    done = subprocess.run([sys.executable, "-c", _RUN, str(source), str(HERE), str(work), *stages],
                          capture_output=True, text=True, env=_env(work))  # fmt: skip
    if done.returncode:
        raise _failed(done, source, stages)


def count(source: Path, work: Path, stages: list[str]) -> int:
    """Instructions of a child that runs ``stages`` with the code at ``source``."""
    done = subprocess.run(["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", sys.executable,
                           "-c", _RUN, str(source), str(HERE), str(work), *stages],
                          capture_output=True, text=True, env=_env(work))  # fmt: skip
    found = _COLLECTED.search(done.stderr)
    if done.returncode or found is None:
        raise _failed(done, source, stages)
    return int(found.group(1))


def _failed(done: subprocess.CompletedProcess[str], source: Path, stages: list[str]) -> RuntimeError:
    last = (done.stderr.strip().splitlines() or ["no output"])[-1]
    return RuntimeError(f"the run of {', '.join(stages) or 'nothing'} with {source} failed: {last}")


def stage_instructions(source: Path, work: Path, stage: str) -> int:
    before = list(BEFORE[stage])
    _warm(source, work, [*before, stage])
    return count(source, work, [*before, stage]) - count(source, work, before)


def main(argv: list[str] | None = None) -> int:
    from generate import generate

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("rev", help="the git revision to compare the working tree with")
    ap.add_argument("--stage", choices=STAGES, default="sync")
    ap.add_argument("--n", type=int, default=2000, help="people (and n/100 groups)")
    ap.add_argument("--out", type=Path, help="write the counts here as JSON")
    args = ap.parse_args(argv)
    if shutil.which("valgrind") is None:
        print("instructions.py: valgrind is not installed (Debian: apt-get install valgrind)", file=sys.stderr)
        return 2
    tmp = Path(tempfile.mkdtemp(prefix="bench-instructions-"))
    try:
        work = tmp / "work"
        work.mkdir()
        shutil.copy(HERE / "playbook" / "playbook.yml", work / "playbook.yml")
        generate(args.n, work / "data")
        with revision_tree(args.rev, tmp / "old") as old:
            counts = {"working tree": stage_instructions(ROOT, work, args.stage),
                      args.rev: stage_instructions(old, work, args.stage)}  # fmt: skip
    except ValueError as exc:  # the revision
        print(f"instructions.py: {exc}", file=sys.stderr)
        return 2
    except RuntimeError as exc:  # a run
        print(f"instructions.py: {exc}", file=sys.stderr)
        return 1
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    new, base = counts["working tree"], counts[args.rev]
    for name, n in counts.items():
        print(f"{args.stage}  {name:<14} {n / 1e6:12.1f} M instructions")
    change = (new - base) / base * 100 if base else 0.0
    print(f"{args.stage}  working tree against {args.rev}: {change:+.2f} %")
    if args.out:
        out = {"stage": args.stage, "n": args.n, "working_tree": describe_working_tree(), "instructions": counts,
               "change_percent": round(change, 2)}  # fmt: skip
        args.out.write_text(json.dumps(out, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
