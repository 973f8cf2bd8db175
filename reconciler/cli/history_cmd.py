"""`reconciler history`."""

from __future__ import annotations

import csv
import sys

import click

from reconciler.cli.common import handle_errors


@click.command("history")
@click.argument("playbook", type=click.Path())
@click.option("--connector", help="Only this connector's runs.")
@click.option("--csv", "as_csv", is_flag=True, help="Print as CSV.")
@click.option("--limit", type=int, default=None, help="Only the last N runs.")
@handle_errors
def command(playbook, connector, as_csv, limit) -> None:  # type: ignore[no-untyped-def]
    """Show the sync history of runs.

    \b
    Example:
      reconciler history playbook.yml --connector hr
      reconciler history playbook.yml --csv > runs.csv
    """
    from reconciler.cli.runs_view import COLUMNS, print_rows
    from reconciler.playbook import load_playbook
    from reconciler.store import SqliteStore

    pb = load_playbook(playbook)
    if connector is not None and connector not in pb.connectors:
        raise click.BadParameter(f"no connector named {connector!r} in the playbook", param_hint="--connector")
    if not pb.state_path.exists():
        rows = []
    else:
        store = SqliteStore(pb.state_path)  # reading needs no lock: WAL readers never block a run
        try:
            rows = store.history(connector, limit)
        finally:
            store.close()
    if as_csv:
        w = csv.writer(sys.stdout, lineterminator="\n")
        w.writerow(COLUMNS)
        for r in rows:
            w.writerow(["" if r.get(c) is None else r.get(c) for c in COLUMNS])
        return
    print_rows(rows, title="Sync history")
