"""`reconciler run`."""

from __future__ import annotations

import time

import click

from reconciler.cli.common import EXIT_ERROR, handle_errors


@click.command("run")
@click.argument("playbook", type=click.Path())
@click.argument("connector", required=False)
@click.argument("profile", required=False)
@click.option("--cycle", type=click.Choice(["full", "delta"]), help="Run every enabled connector in order.")
@click.option("--watch", type=float, help="With --cycle: repeat every SECONDS.")
@click.option("--allow-deletes", type=int, help="Raise every connector's delete threshold to N for this run.")
@handle_errors
def command(playbook, connector, profile, cycle, watch, allow_deletes) -> None:  # type: ignore[no-untyped-def]
    """Run one run profile on a connector, or a whole cycle.

    PROFILE is one of: full-import, delta-import, full-sync, delta-sync, export
    (or "Full Import", "Delta Synchronization", ...).

    \b
    Example:
      reconciler run playbook.yml hr full-import
      reconciler run playbook.yml --cycle delta --watch 300
    """
    from reconciler.cli.runs_view import print_errors, print_rows
    from reconciler.engine import Engine, open_state
    from reconciler.playbook import load_playbook

    if cycle is None and (connector is None or profile is None):
        raise click.UsageError("give CONNECTOR and PROFILE, or --cycle full|delta")
    if cycle is not None and connector is not None:
        raise click.UsageError("--cycle runs every connector: give no CONNECTOR/PROFILE with it")
    if watch is not None and cycle is None:
        raise click.UsageError("--watch needs --cycle")
    pb = load_playbook(playbook)
    while True:
        store = open_state(pb)
        try:
            with store.lock(), Engine(pb, store) as engine:
                if cycle is not None:
                    result = engine.cycle(cycle, allow_deletes=allow_deletes)
                    runs = result.runs
                else:
                    if profile.strip().lower() == "export" and allow_deletes is not None:
                        runs = [engine.export_connector(connector, allow_deletes)]
                    else:
                        runs = [engine.run_profile(connector, profile)]
        finally:
            store.close()
        print_rows([r.row() for r in runs])
        print_errors(runs)
        failed = any(r.errors or r.status != "success" for r in runs)
        if watch is None:
            if failed:
                raise SystemExit(EXIT_ERROR)
            return
        time.sleep(max(watch, 0.0))
