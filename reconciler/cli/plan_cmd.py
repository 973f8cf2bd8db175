"""`reconciler plan`."""

from __future__ import annotations

import os
import sys

import click

from reconciler.cli.common import EXIT_CHANGES, format_option, handle_errors
from reconciler.engine.gcpause import gc_paused


def output_format(fmt: str, as_json: bool) -> str:
    return "json" if as_json else fmt


def use_color() -> bool:
    return sys.stdout.isatty() and "NO_COLOR" not in os.environ


def emit(text: str) -> None:
    click.echo(text, nl=False)


@click.command("plan")
@click.argument("playbook", type=click.Path())
@click.option("--out", type=click.Path(dir_okay=False), help="Save the plan to FILE for a later apply.")
@format_option()
@click.option("--detailed-exitcode", is_flag=True, help="Exit 2 when there are changes, 0 when none.")
@click.option(
    "--explain", is_flag=True, help="Show the rule and flow behind each change, and the playbook edit."
)
@click.option("--full", is_flag=True, help="Show every object in detail (no clustering of identical edits).")
@handle_errors
@gc_paused  # one command's objects live until it ends: the collector's passes over them are wasted
def command(playbook, out, fmt, as_json, detailed_exitcode, explain, full) -> None:  # type: ignore[no-untyped-def]
    """Show what would change; writes nothing to the state or any system.

    Imports (connected systems are only read), synchronizes with the playbook as it is and lists every
    pending export per connector, destructive changes first, ending with
    `Plan: N to add, N to change, N to rename, N to delete.` or `No changes.`

    \b
    Example:
      reconciler plan playbook.yml --out plan.json --detailed-exitcode
      reconciler plan playbook.yml --format md > plan.md
    """
    from reconciler.plan.compute import compute_plan
    from reconciler.plan.planfile import write_plan
    from reconciler.plan.progress import Progress
    from reconciler.plan.render import plan_pieces
    from reconciler.plan.session import opened

    fmt = output_format(fmt, as_json)
    with opened(playbook) as (pb, store), Progress() as progress:
        plan = compute_plan(pb, store, label=playbook, progress=progress)
    if out:
        write_plan(plan, out)
    for piece in plan_pieces(plan, fmt, explain=explain, full=full, color=use_color(), artifact=out):
        emit(piece)
    if out and fmt == "text":
        click.echo(
            f"Saved the plan to {out}; apply exactly this plan with: reconciler apply {playbook} {out}",
            err=True,
        )
    if detailed_exitcode and plan.changes:
        sys.exit(EXIT_CHANGES)
