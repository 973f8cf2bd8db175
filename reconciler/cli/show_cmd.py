"""`reconciler show`."""

from __future__ import annotations

import click

from reconciler.cli.common import format_option, handle_errors
from reconciler.cli.plan_cmd import emit, output_format, use_color
from reconciler.engine.gcpause import gc_paused


@click.command("show")
@click.argument("planfile", type=click.Path())
@format_option()
@click.option("--explain", is_flag=True, help="Show the rule and flow behind each change.")
@click.option("--full", is_flag=True, help="Show every object in detail (no clustering of identical edits).")
@handle_errors
@gc_paused  # one command's objects live until it ends: the collector's passes over them are wasted
def command(planfile, fmt, as_json, explain, full) -> None:  # type: ignore[no-untyped-def]
    """Render a saved plan file (it is checked: checksum and format version).

    \b
    Example:
      reconciler show plan.json --format md
    """
    from reconciler.plan.planfile import read_plan
    from reconciler.plan.render import plan_pieces

    plan = read_plan(planfile)
    fmt = output_format(fmt, as_json)
    for piece in plan_pieces(plan, fmt, explain=explain, full=full, color=use_color(), artifact=planfile):
        emit(piece)
