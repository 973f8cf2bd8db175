"""`reconciler drift`."""

from __future__ import annotations

import sys

import click

from reconciler.cli.common import EXIT_CHANGES, format_option, handle_errors
from reconciler.cli.plan_cmd import emit, output_format, use_color
from reconciler.engine.gcpause import gc_paused


@click.command("drift")
@click.argument("playbook", type=click.Path())
@format_option()
@handle_errors
@gc_paused  # one command's objects live until it ends: the collector's passes over them are wasted
def command(playbook, fmt, as_json) -> None:  # type: ignore[no-untyped-def]
    """Report where connected systems differ from the desired state (exit 2 on drift).

    Read-only: commits nothing. Lists values changed out of band, exports never confirmed, provisioned
    objects missing, objects that should be gone and pending changes, each with actual and desired
    values; unmanaged objects are listed for information and never count as drift.

    \b
    Example:
      reconciler drift playbook.yml --format html > drift.html
    """
    from reconciler.plan.compute import compute_drift
    from reconciler.plan.progress import Progress
    from reconciler.plan.render import render_drift
    from reconciler.plan.session import opened

    with opened(playbook) as (pb, store), Progress() as progress:
        report = compute_drift(pb, store, label=playbook, progress=progress)
    emit(render_drift(report, output_format(fmt, as_json), color=use_color()))
    if report.has_drift:
        sys.exit(EXIT_CHANGES)
