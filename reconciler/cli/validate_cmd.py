"""`reconciler validate`: schema and meaning checks, one line per finding as FILE:LINE:COL."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import click

from reconciler.cli.common import EXIT_ERROR, EXIT_OK, handle_errors

if TYPE_CHECKING:
    from reconciler.playbook import ValidationReport


@click.command("validate")
@click.argument("playbook", type=click.Path())
@click.option("--json", "as_json", is_flag=True, help="Print diagnostics as JSON.")
@handle_errors
def command(playbook: str, as_json: bool) -> None:
    """Check a playbook: schema and meaning, errors as FILE:LINE:COL.

    Never connects to a system. Warnings (a secret's variable not set here, a dn that a file
    connector ignores) do not fail validation; any error exits 1.

    \b
    Example:
      reconciler validate playbooks/demo/
      reconciler validate playbook.yml --json
    """
    from reconciler.playbook import validate_playbook

    report = validate_playbook(playbook)
    if as_json:
        click.echo(json.dumps(report.to_json(), indent=2))
    else:
        for diagnostic in report.diagnostics:
            click.echo(str(diagnostic))
        click.echo(_summary(playbook, report))
    raise SystemExit(EXIT_OK if report.valid else EXIT_ERROR)


def _summary(playbook: str, report: ValidationReport) -> str:
    errors, warnings = len(report.errors), len(report.warnings)
    noted = f", {_count(warnings, 'warning')}" if warnings else ""
    if not report.valid:
        later = (
            " (rules are checked against each other once these are fixed)" if report.playbook is None else ""
        )
        return f"{playbook}: {_count(errors, 'error')}{noted}{later}"
    pb = report.playbook
    if pb is None:  # pragma: no cover - a valid report always carries its playbook
        return f"{playbook}: valid{noted}"
    return (
        f"{playbook}: valid ({_count(len(pb.files), 'file')}, {_count(len(pb.connectors), 'connector')}, "
        f"{_count(len(pb.sync_rules), 'sync rule')}{noted})"
    )


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'s' if n != 1 else ''}"
