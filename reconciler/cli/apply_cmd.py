"""`reconciler apply`: the library logic is in reconciler.plan.apply; this shows, asks and reports."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

import click

from reconciler.cli.common import EXIT_ERROR, handle_errors
from reconciler.cli.plan_cmd import emit, use_color
from reconciler.engine.gcpause import gc_paused

if TYPE_CHECKING:
    from reconciler.plan.apply import Outcome, Prepared
    from reconciler.plan.progress import Progress


@click.command("apply")
@click.argument("playbook", type=click.Path())
@click.argument("planfile", type=click.Path(), required=False)
@click.option("--auto-approve", is_flag=True, help="Do not ask for confirmation.")
@click.option("--allow-deletes", type=int, help="Raise every connector's delete threshold to N for this run.")
@handle_errors
@gc_paused  # one command's objects live until it ends: the collector's passes over them are wasted
def command(playbook, planfile, auto_approve, allow_deletes) -> None:  # type: ignore[no-untyped-def]
    """Export the planned changes and confirm them by importing again.

    With PLANFILE (from `plan --out`), exports exactly that plan, or refuses a stale one (the playbook,
    the state or the objects concerned changed since) and says what to run. Without it, plans, shows
    the plan and asks on a terminal (--auto-approve skips the question; with no terminal it refuses).

    \b
    Example:
      reconciler apply playbook.yml plan.json
      reconciler apply playbook.yml --auto-approve
    """
    from reconciler.errors import ApprovalRequired
    from reconciler.plan.apply import prepare, prepare_saved
    from reconciler.plan.planfile import read_plan
    from reconciler.plan.progress import Progress
    from reconciler.plan.session import opened

    ask = planfile is None and not auto_approve
    if ask and not sys.stdin.isatty():
        raise ApprovalRequired(
            "apply needs a confirmation and there is no terminal to ask on; nothing was done",
            hint=f"pass --auto-approve, or apply a reviewed plan: reconciler plan {playbook} --out plan.json, "
            f"then reconciler apply {playbook} plan.json",
        )
    # a bad file fails before the state is touched; its deltas are not read: the plan exported is the
    # one computed now, checked change by change against the file's digests
    saved = read_plan(planfile, details=False) if planfile else None
    progress = Progress()
    with opened(playbook) as (pb, store):
        with progress:
            if saved is not None:
                prepared = prepare_saved(pb, store, saved, label=playbook, progress=progress)
                saved = None  # checked equal to the plan just computed, which is the one shown and exported
            else:
                prepared = prepare(pb, store, label=playbook, progress=progress)
        try:
            outcome = _show_ask_export(prepared, planfile, ask, allow_deletes, progress)
        finally:
            prepared.close()
    _report(outcome)


def _show_ask_export(
    prepared: Prepared, planfile: str | None, ask: bool, allow_deletes: int | None, progress: Progress
) -> Outcome:
    from reconciler.plan.apply import execute
    from reconciler.plan.render import render_plan

    emit(render_plan(prepared.plan, "text", color=use_color()))
    if planfile is not None and prepared.plan.changes:
        click.echo(f"The saved plan {planfile} is still current: applying it.")
    if ask and prepared.plan.changes:
        answer = click.prompt("Export these changes? Only 'yes' is accepted", default="", show_default=False)
        if answer.strip().lower() != "yes":
            click.echo("error: apply cancelled; nothing was exported", err=True)
            sys.exit(EXIT_ERROR)
    with progress:
        return execute(prepared, allow_deletes=allow_deletes)


def _report(outcome: Outcome) -> None:
    if outcome.problems:
        # listed in the plan above; they were left out, the rest went on
        click.echo(
            f"error: {_objects(len(outcome.problems))} with import or synchronization errors", err=True
        )
    if not outcome.plan.changes:
        if outcome.problems:
            sys.exit(EXIT_ERROR)
        return
    click.echo(
        f"Apply complete: {outcome.exported} exported, {len(outcome.confirmed)} confirmed by import, "
        f"{len(outcome.unconfirmed)} not confirmed, {len(outcome.failed)} failed."
    )
    if outcome.unconfirmed:
        click.echo(
            "warning: exported but not confirmed by the import that followed (exported again next time):"
        )
        for u in outcome.unconfirmed:
            click.echo(f"  {u.connector}: {u.dn}: {u.error}")
    if outcome.failed:
        click.echo(
            f"error: {_objects(len(outcome.failed))} failed to export (the others were exported):", err=True
        )
        for f in outcome.failed:
            click.echo(f"  {f.connector}: {f.dn}: {f.error}" if f.dn else f"  {f.error}", err=True)
    if not outcome.ok:
        sys.exit(EXIT_ERROR)


def _objects(n: int) -> str:
    return f"{n} object" if n == 1 else f"{n} objects"
