"""`reconciler validate`."""

from __future__ import annotations

import click

from reconciler.cli.common import format_option, handle_errors, not_yet  # noqa: F401


@click.command("validate")
@click.argument("playbook", type=click.Path())
@click.option("--json", "as_json", is_flag=True, help="Print diagnostics as JSON.")
@handle_errors
def command(playbook, as_json) -> None:  # type: ignore[no-untyped-def]
    """Check a playbook: schema and meaning, errors as FILE:LINE:COL.

    \b
    Example:
      reconciler validate playbooks/demo/
    """
    not_yet("validate")
