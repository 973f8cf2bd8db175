"""The engine benchmark: every stage of a cycle on generated people and groups, at several sizes.

    python bench/run.py [--sizes 100000,1000000] [--out bench/results/engine.json]

For each size N a fresh child process (so that peak memory is that size's own) copies
``bench/playbook``, generates N people and N/100 groups (``bench/generate.py``) and runs, timing each
stage with the wall clock (and the CPU time of the engine's own thread, ``engine_cpu_seconds``, which
leaves out the state's checkpoint thread) and reading the process's peak RSS after it:

- ``import``: full import of both HR files into an empty state;
- ``full-sync``: full synchronization (inbound projection and flows, outbound provisioning);
- ``export`` and ``confirming-import``: the first export to the directory files and the import that
  confirms it;
- ``plan-1pct``: 1 % of the people change department; the plan of that (dry run, nothing committed);
- ``cycle-1pct``: the delta cycle that applies it (import, delta sync, export, confirming import);
- before those, ``apply (CLI)``: the first ``reconciler apply --auto-approve`` of the same data in a child
  process, as a user runs it (the plan computed and shown, then export and confirming import).

Past FULL_CYCLE_UP_TO people ``import`` and ``full-sync`` run (the targets' stages), then 1,000 people
change: ``import-1k-changed`` reads the file again and ``delta-sync-1k`` synchronizes only them. (A
file connector's export rewrites its whole file in memory, so the export stages stop at that size.)

The targets (DESIGN.md): import + full sync of 100,000 under 10 s; of 1,000,000 under 2 minutes within
1 GB; a cycle after 1 % changed costs a small fraction of the first.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))


# the file connectors rewrite a whole file in memory on export: past this size only import and sync run
FULL_CYCLE_UP_TO = 200_000


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def change_departments(path: Path, share: float) -> int:
    """Move every (1/share)-th person to another department, in place; returns how many changed."""
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    header = lines[0].rstrip("\n").split(",")
    col = header.index("department")
    step = max(1, round(1 / share))
    n = 0
    for i in range(1, len(lines), step):
        cells = lines[i].rstrip("\n").split(",")
        cells[col] = "Research" if cells[col] != "Research" else "Sales"
        lines[i] = ",".join(cells) + "\n"
        n += 1
    path.write_text("".join(lines), encoding="utf-8")
    return n


# runs the CLI in this child and leaves its own peak RSS (kB) in the file named by its first argument
_PEAK = ("import atexit, resource, sys\n"
         "out = sys.argv.pop(1)\n"
         "atexit.register(lambda: open(out, 'w').write(str(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)))\n"
         "from reconciler.cli import main\n"
         "main()\n")  # fmt: skip


def cli(work: Path, *args: str) -> dict[str, float]:
    """One `reconciler` command as a user runs it, in a child process: seconds and the child's peak RSS."""
    peak_file = work / "peak.txt"
    t = time.perf_counter()
    subprocess.run([sys.executable, "-c", _PEAK, str(peak_file), *args], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    seconds = time.perf_counter() - t
    peak = int(peak_file.read_text()) / 1024
    return {"seconds": round(seconds, 3), "peak_rss_mb": round(peak, 1)}


def cli_runs(work: Path) -> dict[str, dict[str, float]]:
    """The first apply as users run it, each on a fresh copy of the playbook and data: `apply
    --auto-approve` (plans, shows, exports, confirms), and the reviewed way, `plan --out` then
    `apply PLANFILE`."""
    out: dict[str, dict[str, float]] = {}
    for way in ("auto", "reviewed"):
        fresh = work / f"cli-{way}"
        fresh.mkdir()
        shutil.copy(work / "playbook.yml", fresh / "playbook.yml")
        shutil.copytree(work / "data", fresh / "data")
        if way == "auto":
            out["apply_auto_approve"] = cli(work, "apply", str(fresh), "--auto-approve")
        else:
            out["plan_out"] = cli(work, "plan", str(fresh), "--out", str(fresh / "plan.json"))
            out["apply_planfile"] = cli(work, "apply", str(fresh), str(fresh / "plan.json"))
        shutil.rmtree(fresh)
    return out


def measure(n: int) -> dict[str, Any]:
    """All stages at one size, in this process."""
    from generate import generate

    from reconciler.engine import Engine
    from reconciler.engine.core import open_state
    from reconciler.plan.compute import compute_plan
    from reconciler.playbook import load_playbook
    from reconciler.store.sqlite_mode import multithread_for_process

    # as the command line sets SQLite up for its process (this child's stages stand for it)
    unset = multithread_for_process()
    sqlite_mode = "multi-thread" if unset is None else f"serialized: {unset}"

    work = Path(tempfile.mkdtemp(prefix=f"bench-{n}-"))
    try:
        shutil.copy(HERE / "playbook" / "playbook.yml", work / "playbook.yml")
        generate(n, work / "data")
        commands = None
        if n <= FULL_CYCLE_UP_TO:
            commands = cli_runs(work)
            for name, run in commands.items():
                print(f"  {n:>9,} {name + ' (CLI)':<24} {run['seconds']:8.2f} s  {'':>4}       "
                      f"peak {run['peak_rss_mb']:7.1f} MB", file=sys.stderr, flush=True)  # fmt: skip
        playbook = load_playbook(work / "playbook.yml")
        stages: list[dict[str, Any]] = []

        def stage(name: str, objects: int, fn: Any) -> Any:
            t, cpu = time.perf_counter(), time.thread_time()
            out = fn()
            seconds, cpu = time.perf_counter() - t, time.thread_time() - cpu
            stages.append({
                "stage": name, "seconds": round(seconds, 3), "engine_cpu_seconds": round(cpu, 3), "objects": objects,
                "objects_per_second": round(objects / seconds) if seconds else None,
                "peak_rss_mb": round(peak_mb(), 1),
            })  # fmt: skip
            print(f"  {n:>9,} {name:<18} {seconds:8.2f} s  {objects / seconds:>10,.0f} obj/s  "
                  f"cpu {cpu:6.2f} s  peak {peak_mb():7.1f} MB", file=sys.stderr, flush=True)  # fmt: skip
            return out

        groups = max(1, n // 100)
        store = open_state(playbook)
        with Engine(playbook, store) as engine:
            stage("import", n + groups, lambda: (engine.import_connector("hr", True),
                                                 engine.import_connector("hr_groups", True)))  # fmt: skip
            stage("full-sync", n + groups, lambda: engine.synchronize_all(True))
            if n > FULL_CYCLE_UP_TO:
                # cost grows with changes: 1,000 people change, then a delta sync of just them
                changed = change_departments(work / "data" / "hr.csv", 1000 / n)
                stage("import-1k-changed", n, lambda: engine.import_connector("hr", None))
                stage("delta-sync-1k", changed, lambda: engine.synchronize_all(None))
                store.close()
                return {"n": n, "groups": groups, "sqlite_mode": sqlite_mode, "peak_rss_mb": round(peak_mb(), 1),
                        "import_plus_full_sync_seconds": round(stages[0]["seconds"] + stages[1]["seconds"], 3),
                        "stages": stages, "note": f"export and later stages measured up to {FULL_CYCLE_UP_TO:,} people"}  # fmt: skip
            stage("export", n + groups, lambda: engine.export_all())
            stage("confirming-import", n + groups, lambda: (engine.import_connector("directory", None),
                                                           engine.import_connector("directory_groups", None)))  # fmt: skip
        changed = change_departments(work / "data" / "hr.csv", 0.01)
        plan = stage("plan-1pct", changed, lambda: compute_plan(playbook, store, label="bench"))
        planned = len(plan.changes)
        with Engine(playbook, store) as engine:
            cycle = stage("cycle-1pct", changed, lambda: engine.cycle("delta"))
        store.close()
        first = sum(s["seconds"] for s in stages[:4])
        return {
            "n": n,
            "groups": groups,
            "sqlite_mode": sqlite_mode,
            "changed_1pct": changed,
            "planned_changes_1pct": planned,
            "cycle_1pct_errors": sum(r.errors for r in cycle.runs),
            "import_plus_full_sync_seconds": round(stages[0]["seconds"] + stages[1]["seconds"], 3),
            "first_cycle_seconds": round(first, 3),
            "cycle_1pct_share_of_first": round(stages[5]["seconds"] / first, 4),
            "cli_first_apply": commands,
            "peak_rss_mb": round(peak_mb(), 1),
            "stages": stages,
        }
    finally:
        shutil.rmtree(work, ignore_errors=True)


def compiled_modules() -> dict[str, Any]:
    """How many of the hot modules the runs used compiled (reconciler.accel): the figures depend on it."""
    from reconciler import accel

    current, _, _ = accel.status()
    return {"compiled": 0 if accel.pure_requested() else len(current), "of": len(accel.COMPILED)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="100000,1000000", help="comma-separated numbers of people")
    parser.add_argument("--out", type=Path, default=HERE / "results" / "engine.json")
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)  # child process: one size, JSON on stdout
    args = parser.parse_args(argv)
    if args.one:
        print(json.dumps(measure(args.one)))
        return 0
    results = []
    for n in (int(s) for s in args.sizes.split(",") if s.strip()):
        proc = subprocess.run([sys.executable, __file__, "--one", str(n)], capture_output=False,
                              stdout=subprocess.PIPE, text=True, check=True)  # fmt: skip
        results.append(json.loads(proc.stdout))
    report = {
        "benchmark": "bench/run.py",
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform(),
                    "interpreter": os.path.realpath(sys.executable)},
        "compiled_modules": compiled_modules(),
        "targets": {"import_plus_full_sync_100k_seconds": 10, "import_plus_full_sync_1m_seconds": 120,
                    "peak_rss_1m_mb": 1024},
        "results": results,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
