"""Where a stage's time goes, call by call: named functions timed per call during one run of it.

    python bench/calls.py STAGE [--n 100000] [--data DIR] FUNCTION [FUNCTION ...]

STAGE is ``import`` (both HR files into an empty state), ``sync`` (the full synchronization of that),
``export`` (the first export of that, with its confirming imports) or ``plan`` (the plan of that first
export written to a file, as ``plan --out`` writes it: its changes read, their deltas built, digested and
written); the stages before it run first, untimed (``plan`` follows ``sync``). FUNCTION is ``module:Qualified.name``, e.g. ``reconciler.engine.sync.staging:Staging._stage``
or ``reconciler.store.sqlite:SqliteStore.commit``.

Each function is wrapped to add up its own wall time and calls. Unlike a sampling profiler this gives
what one call costs, so two versions of a function compare by microseconds per call, where a change
smaller than the run-to-run noise of ``bench/compare.py`` still shows. The wrapper costs about half a
microsecond a call: wrap the functions in question, not the innermost ones. A function another module
imported by name (``from m import f``) is called there unwrapped: wrap a method, or the caller. A
generator function's figure is only the making of its generator.
"""

from __future__ import annotations

import argparse
import importlib
import shutil
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

STAGES = ("import", "sync", "export", "plan")
BEFORE = {"import": (), "sync": ("import",), "export": ("import", "sync"), "plan": ("import", "sync")}


def resolve(spec: str) -> tuple[Any, str]:
    """(owner, attribute name) of ``module:Qualified.name``; ValueError with a one-line reason."""
    module, _, qual = spec.partition(":")
    if not module or not qual:
        raise ValueError(f"{spec}: write it as module:Qualified.name")
    try:
        owner: Any = importlib.import_module(module)
    except ImportError as exc:
        raise ValueError(f"{spec}: no module {module} ({exc})") from exc
    *path, name = qual.split(".")
    for part in path:
        owner = getattr(owner, part, None)
        if owner is None:
            raise ValueError(f"{spec}: {module} has no {part}")
    if not callable(getattr(owner, name, None)):
        raise ValueError(f"{spec}: no function {name} there")
    return owner, name


def timed(fn: Callable[..., Any], label: str, seconds: dict[str, float], calls: Counter[str]) -> Callable[..., Any]:
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        t = time.perf_counter()
        try:
            return fn(*args, **kwargs)
        finally:
            seconds[label] += time.perf_counter() - t
            calls[label] += 1

    return wrapper


def run(stage: str, work: Path, specs: list[str]) -> tuple[float, dict[str, float], Counter[str]]:
    from reconciler.engine import Engine
    from reconciler.engine.core import open_state
    from reconciler.playbook import load_playbook

    targets = [resolve(s) for s in specs]  # before anything runs: a typo costs nothing
    seconds: dict[str, float] = defaultdict(float)
    calls: Counter[str] = Counter()
    shutil.rmtree(work / "state", ignore_errors=True)
    shutil.rmtree(work / "out", ignore_errors=True)
    playbook = load_playbook(work / "playbook.yml")
    store = open_state(playbook)
    try:
        with Engine(playbook, store) as engine:
            steps = stage_steps(playbook, engine, work)
            for name in BEFORE[stage]:
                steps[name]()
            for (owner, attr), spec in zip(targets, specs):
                setattr(owner, attr, timed(getattr(owner, attr), spec.partition(":")[2], seconds, calls))
            t = time.perf_counter()
            steps[stage]()
            total = time.perf_counter() - t
    finally:
        store.close()
    return total, seconds, calls


def stage_steps(playbook: Any, engine: Any, work: Path) -> dict[str, Callable[[], Any]]:
    """What each stage runs on the benchmark playbook in ``work`` (``bench/instructions.py`` runs them too)."""
    return {
        "import": lambda: (engine.import_connector("hr", True), engine.import_connector("hr_groups", True)),
        "sync": lambda: engine.synchronize_all(True),
        "export": lambda: (engine.export_all(), engine.import_connector("directory", None),
                           engine.import_connector("directory_groups", None)),
        "plan": lambda: write_plan(playbook, engine, work / "plan.json"),
    }  # fmt: skip


def write_plan(playbook: Any, engine: Any, path: Path) -> None:
    """The plan of the pending exports, written as ``plan --out`` writes it (after its dry run)."""
    from reconciler.plan.compute import Snapshot, make_plan
    from reconciler.plan.planfile import write_plan as write

    snapshot = Snapshot(list(engine.planned_changes()), [], [], {}, 0, False, None, [])
    write(make_plan(playbook, snapshot, "bench"), path)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("stage", choices=STAGES)
    ap.add_argument("functions", nargs="+", metavar="FUNCTION", help="module:Qualified.name")
    ap.add_argument("--n", type=int, default=100_000, help="people (and n/100 groups) to generate")
    ap.add_argument("--data", type=Path, help="a folder with hr.csv and groups.csv to use instead")
    args = ap.parse_args(argv)
    tmp = Path(tempfile.mkdtemp(prefix="bench-calls-"))
    try:
        shutil.copy(HERE / "playbook" / "playbook.yml", tmp / "playbook.yml")
        if args.data:
            shutil.copytree(args.data, tmp / "data")
        else:
            from generate import generate

            generate(args.n, tmp / "data")
        try:
            total, seconds, calls = run(args.stage, tmp, args.functions)
        except ValueError as exc:
            print(f"calls.py: {exc}", file=sys.stderr)
            return 2
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"{args.stage}: {total:.3f} s")
    for label in sorted(seconds, key=lambda k: -seconds[k]):
        s, n = seconds[label], calls[label]
        print(f"{s:9.3f} s {n:9d} calls {s / n * 1e6:10.1f} µs a call  {label}")
    for spec in args.functions:
        if spec.partition(":")[2] not in calls:
            print(f"{0:9.3f} s {0:9d} calls {'':>10}            {spec.partition(':')[2]} (not called)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
