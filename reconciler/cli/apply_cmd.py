"""`reconciler apply`."""

from __future__ import annotations

import click

from reconciler.cli.common import format_option, handle_errors, not_yet  # noqa: F401


@click.command("apply")
@click.argument("playbook", type=click.Path())
@click.argument("planfile", type=click.Path(), required=False)
@click.option("--auto-approve", is_flag=True, help="Do not ask for confirmation.")
@click.option("--allow-deletes", type=int, help="Raise every connector's delete threshold to N for this run.")
@handle_errors
def command(playbook, planfile, auto_approve, allow_deletes) -> None:  # type: ignore[no-untyped-def]
    """Export the planned changes and confirm them by importing again.

    \b
    Example:
      reconciler apply playbook.yml plan.json
      reconciler apply playbook.yml --auto-approve
    """
    not_yet("apply")
