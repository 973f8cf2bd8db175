"""`reconciler plan`."""

from __future__ import annotations

import click

from reconciler.cli.common import format_option, handle_errors, not_yet


@click.command("plan")
@click.argument("playbook", type=click.Path())
@click.option("--out", type=click.Path(), help="Save the plan to FILE for a later apply.")
@format_option()
@click.option("--detailed-exitcode", is_flag=True, help="Exit 2 when there are changes.")
@click.option("--explain", is_flag=True, help="Show the rule and flow behind each change.")
@handle_errors
def command(playbook, out, fmt, as_json, detailed_exitcode, explain) -> None:  # type: ignore[no-untyped-def]
    """Show what would change; writes nothing to the state or any system.

    \b
    Example:
      reconciler plan playbook.yml --out plan.json --detailed-exitcode
    """
    not_yet("plan")
