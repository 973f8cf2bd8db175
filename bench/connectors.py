"""Connector time of the file connectors on generated data (no engine, no state).

    python bench/connectors.py [N] [--repeat R]

Generates N people (default 100,000) with ``bench/generate.py`` into a temporary folder, then for
CSV, JSON and LDIF measures: a full import (every object consumed, none kept, as the engine's
batches do), a delta import of the unchanged file, an export of N adds into a new file, and an export
of N/100 updates into the N-record file. Times are CPU seconds of this process (best of R), which a
busy machine disturbs less than wall-clock time.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))

from generate import generate

from reconciler.connectors.base import AttributeChange, ExportChange
from reconciler.connectors.registry import open_connector
from reconciler.playbook.model import ConnectorConfig, ReferenceDef


def best(repeat: int, fn: Callable[[], Any], setup: Callable[[], Any] | None = None) -> float:
    times = []
    for _ in range(repeat):
        if setup is not None:
            setup()
        t = time.process_time()
        fn()
        times.append(time.process_time() - t)
    return min(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("n", type=int, nargs="?", default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="reconciler-bench-"))
    try:
        generate(args.n, work)

        def config(fmt: str, path: str) -> ConnectorConfig:
            return ConnectorConfig(
                name="hr", type=fmt, anchor=["employeeId"], object_type="person", options={"path": path},
                base_dir=work, references={"manager": ReferenceDef("manager", "employeeId")},
                dn='"uid=" & [employeeId] & ",ou=people,dc=example,dc=org"' if fmt == "ldif" else None,
            )  # fmt: skip

        source = open_connector(config("csv", "hr.csv"))
        people = [o.attributes for o in source.full_import().objects]
        adds = [ExportChange("add", "", "person", attributes=a, key=i) for i, a in enumerate(people)]
        title = [AttributeChange("title", replace="Lead")]
        updates = [
            ExportChange("update", "", "person", anchor=a["employeeId"], changes=title, key=i)
            for i, a in enumerate(people[:: 100])
        ]  # fmt: skip
        print(f"{args.n} people; CPU seconds, best of {args.repeat}")
        print(
            f"{'format':6} {'full import':>12} {'delta (same)':>13} {'export adds':>12} {'export 1% upd':>14}"
        )
        for fmt in ("csv", "json", "ldif"):
            path = work / f"out.{fmt}"
            conn = open_connector(config(fmt, path.name))
            t_add = best(args.repeat, lambda c=conn: c.export(adds), lambda p=path: p.unlink(missing_ok=True))
            t_imp = best(args.repeat, lambda c=conn: sum(1 for _ in c.full_import().objects))
            result = conn.full_import()
            for _ in result.objects:
                pass
            t_delta = best(args.repeat, lambda c=conn, w=result.watermark: list(c.delta_import(w).objects))
            t_upd = best(args.repeat, lambda c=conn: c.export(updates))
            print(f"{fmt:6} {t_imp:12.3f} {t_delta:13.3f} {t_add:12.3f} {t_upd:14.3f}")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
