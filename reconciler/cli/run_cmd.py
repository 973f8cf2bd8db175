"""`reconciler run`."""

from __future__ import annotations

import click

from reconciler.cli.common import format_option, handle_errors, not_yet  # noqa: F401


@click.command("run")
@click.argument("playbook", type=click.Path())
@click.argument("connector", required=False)
@click.argument("profile", required=False)
@click.option("--cycle", type=click.Choice(["full", "delta"]), help="Run every enabled connector in order.")
@click.option("--watch", type=float, help="With --cycle: repeat every SECONDS.")
@handle_errors
def command(playbook, connector, profile, cycle, watch) -> None:  # type: ignore[no-untyped-def]
    """Run one run profile on a connector, or a whole cycle.

    PROFILE is one of: full-import, delta-import, full-sync, delta-sync, export
    (or "Full Import", "Delta Synchronization", ...).

    \b
    Example:
      reconciler run playbook.yml hr full-import
      reconciler run playbook.yml --cycle delta --watch 300
    """
    not_yet("run")
