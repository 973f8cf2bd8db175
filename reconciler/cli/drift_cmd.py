"""`reconciler drift`."""

from __future__ import annotations

import click

from reconciler.cli.common import format_option, handle_errors, not_yet


@click.command("drift")
@click.argument("playbook", type=click.Path())
@format_option()
@handle_errors
def command(playbook, fmt, as_json) -> None:  # type: ignore[no-untyped-def]
    """Report where connected systems differ from the desired state (exit 2 on drift).

    \b
    Example:
      reconciler drift playbook.yml --format html > drift.html
    """
    not_yet("drift")
