"""Helpers for engine tests: a playbook folder with CSV files, an engine over its state."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import reconciler.playbook  # noqa: F401 - before the engine (playbook and connectors import each other)
from reconciler.engine import Engine, open_state
from reconciler.playbook import load_playbook


def write_csv(path: Path, rows: list[dict[str, Any]], columns: list[str] | None = None) -> None:
    cols = columns or list(dict.fromkeys(k for r in rows for k in r))
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=cols, lineterminator="\n")
    w.writeheader()
    for r in rows:
        w.writerow({k: r.get(k, "") for k in cols})
    path.write_text(buf.getvalue(), encoding="utf-8")


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8") as f:
        return list(csv.DictReader(f))


class Lab:
    """A playbook folder and the engine over its state."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def playbook(self, text: str) -> None:
        (self.root / "playbook.yml").write_text(text, encoding="utf-8")

    def csv(self, name: str, rows: list[dict[str, Any]], columns: list[str] | None = None) -> None:
        write_csv(self.root / name, rows, columns)

    def rows(self, name: str) -> list[dict[str, str]]:
        return read_csv(self.root / name)

    def load(self) -> Any:
        return load_playbook(self.root / "playbook.yml")

    @contextmanager
    def engine(self) -> Iterator[Engine]:
        pb = self.load()
        store = open_state(pb)
        try:
            with store.lock(), Engine(pb, store) as eng:
                yield eng
        finally:
            store.close()

    def cycle(self, **kw: Any) -> Any:
        with self.engine() as eng:
            return eng.cycle("delta", **kw)

    def plan(self) -> list[Any]:
        """What a plan would show: import and sync in a dry run, then the pending exports."""
        with self.engine() as eng, eng.store.dry_run():
            eng.import_all()
            eng.synchronize_all()
            return eng.planned_changes()

