"""`reconciler history`."""

from __future__ import annotations

import click

from reconciler.cli.common import format_option, handle_errors, not_yet  # noqa: F401


@click.command("history")
@click.argument("playbook", type=click.Path())
@click.option("--connector", help="Only this connector's runs.")
@click.option("--csv", "as_csv", is_flag=True, help="Print as CSV.")
@handle_errors
def command(playbook, connector, as_csv) -> None:  # type: ignore[no-untyped-def]
    """Show the sync history of runs.

    \b
    Example:
      reconciler history playbook.yml --connector hr
    """
    not_yet("history")
