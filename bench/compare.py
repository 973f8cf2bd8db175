"""Two versions of the engine, back to back: import + full sync of the same generated data, alternately.

    python bench/compare.py REV [--n 100000] [--rounds 3] [--out FILE]

On a shared machine the same code runs a few percent (sometimes ten) faster or slower from one
quarter of an hour to the next, so figures from two separate ``bench/run.py`` runs cannot tell a 5 %
change apart. This runs the working tree and git revision REV (checked out in a temporary worktree)
in turns, each in a fresh child process on the same data, and prints each run and the medians.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

# one run, in a child: import both HR files into an empty state, then a full sync; prints JSON
_RUN = """
import json, shutil, sys, time
from pathlib import Path
sys.path.insert(0, sys.argv[1])
from reconciler.engine import Engine
from reconciler.engine.core import open_state
from reconciler.playbook import load_playbook
work = Path(sys.argv[2])
shutil.rmtree(work / "state", ignore_errors=True)
pb = load_playbook(work / "playbook.yml")
store = open_state(pb)
with Engine(pb, store) as e:
    t = time.perf_counter()
    e.import_connector("hr", True)
    e.import_connector("hr_groups", True)
    t1 = time.perf_counter()
    e.synchronize_all(True)
    t2 = time.perf_counter()
store.close()
print(json.dumps({"import": round(t1 - t, 2), "sync": round(t2 - t1, 2)}))
"""


def run_once(source: Path, work: Path) -> dict[str, float]:
    # both versions as pure Python: an older revision has no compiled modules (reconciler.accel)
    out = subprocess.run([sys.executable, "-c", _RUN, str(source), str(work)], capture_output=True, text=True,
                         check=True, env={**os.environ, "RECONCILER_PURE_PYTHON": "1"})  # fmt: skip
    result: dict[str, float] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


@contextlib.contextmanager
def revision_tree(rev: str, where: Path) -> Iterator[Path]:
    """Revision ``rev`` checked out at ``where`` (a temporary git worktree, removed afterwards); ValueError
    with git's one-line reason when it cannot be."""
    done = subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", str(where), rev],
                          capture_output=True, text=True)  # fmt: skip
    if done.returncode:
        reason = (done.stderr.strip().splitlines() or ["git worktree add failed"])[-1]
        raise ValueError(f"cannot check out {rev}: {reason}")
    try:
        yield where
    finally:
        subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(where)], capture_output=True)


def describe_working_tree() -> str:
    """HEAD's short hash, and whether the working tree differs from it."""
    git = ["git", "-C", str(ROOT)]
    head = subprocess.run([*git, "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    if subprocess.run([*git, "diff", "--quiet", "HEAD"]).returncode:
        head += " with uncommitted changes"
    return head


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("rev", help="the git revision to compare the working tree with")
    ap.add_argument("--n", type=int, default=100_000, help="people (and n/100 groups)")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--out", type=Path, help="write the runs and medians here as JSON")
    args = ap.parse_args(argv)
    tmp = Path(tempfile.mkdtemp(prefix="bench-compare-"))
    try:
        with revision_tree(args.rev, tmp / "old") as old:
            _compare(args, old, tmp / "work")
    except ValueError as exc:
        print(f"compare.py: {exc}", file=sys.stderr)
        return 2
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


def _compare(args: argparse.Namespace, old: Path, work: Path) -> None:
    from generate import generate

    work.mkdir()
    shutil.copy(HERE / "playbook" / "playbook.yml", work / "playbook.yml")
    generate(args.n, work / "data")
    runs: dict[str, list[dict[str, float]]] = {"working tree": [], args.rev: []}
    for r in range(args.rounds):
        for name, source in (("working tree", ROOT), (args.rev, old)):
            one = run_once(source, work)
            runs[name].append(one)
            print(f"  round {r + 1}  {name:<14} import {one['import']:7.2f} s  sync {one['sync']:7.2f} s",
                  file=sys.stderr, flush=True)  # fmt: skip
    medians = {name: {k: statistics.median(x[k] for x in rs) for k in ("import", "sync")}
               for name, rs in runs.items()}  # fmt: skip
    for name, m in medians.items():
        print(f"median  {name:<14} import {m['import']:7.2f} s  sync {m['sync']:7.2f} s  "
              f"together {m['import'] + m['sync']:7.2f} s")  # fmt: skip
    if args.out:
        out = {"n": args.n, "working_tree": describe_working_tree(), "runs": runs, "medians": medians}
        args.out.write_text(json.dumps(out, indent=2) + "\n")


if __name__ == "__main__":
    raise SystemExit(main())
