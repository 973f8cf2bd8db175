"""Rendering run results and history rows for the terminal (run, apply, history)."""

from __future__ import annotations

import sys
from collections.abc import Iterable
from typing import Any

import click

COLUMNS = ("start", "end", "connector", "profile", "object_type", "total", "added", "changed", "deleted",
           "filtered", "errors", "status")  # fmt: skip


def row_of(run: Any) -> dict[str, Any]:
    return run.row() if hasattr(run, "row") else dict(run)


def print_rows(rows: Iterable[dict[str, Any]], *, title: str | None = None) -> None:
    """A table on a terminal (rich), tab-separated lines otherwise."""
    rows = list(rows)
    if not rows:
        click.echo("no runs")
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title, show_lines=False)
    for col in COLUMNS:
        table.add_column(col.replace("_", " "), justify="right" if col in ("total", "added", "changed",
                         "deleted", "filtered", "errors") else "left", no_wrap=col in ("start", "end"))  # fmt: skip
    for r in rows:
        table.add_row(*[_cell(r.get(c)) for c in COLUMNS])
    Console(width=None if sys.stdout.isatty() else 200).print(table)


def print_errors(runs: Iterable[Any], limit: int = 20) -> None:
    shown = 0
    for run in runs:
        for e in getattr(run, "error_list", []):
            if shown >= limit:
                click.echo("  … more in `reconciler history`", err=True)
                return
            if e.kind == "connector":  # the connector as a whole: its error names it already
                click.echo(f"  {run.profile}: {e.error}", err=True)
            else:
                where = f"{e.connector}: " if e.connector else ""
                click.echo(f"  {e.kind}: {where}{e.dn}: {e.error}", err=True)
            shown += 1


def _cell(v: Any) -> str:
    return "" if v is None else str(v)
