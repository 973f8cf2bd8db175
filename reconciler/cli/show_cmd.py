"""`reconciler show`."""

from __future__ import annotations

import click

from reconciler.cli.common import format_option, handle_errors, not_yet


@click.command("show")
@click.argument("planfile", type=click.Path())
@format_option()
@handle_errors
def command(planfile, fmt, as_json) -> None:  # type: ignore[no-untyped-def]
    """Render a saved plan file.

    \b
    Example:
      reconciler show plan.json --format md
    """
    not_yet("show")
