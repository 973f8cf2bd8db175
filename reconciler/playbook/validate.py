"""Validation as one pass: read (YAML + merge) → schema → build the model → meaning checks."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from reconciler.connectors.base import ConnectorSchema
from reconciler.errors import Bug, PlaybookError
from reconciler.playbook.build import build_playbook
from reconciler.playbook.diagnostics import Diagnostic, ValidationReport
from reconciler.playbook.loader import read_source
from reconciler.playbook.meaning import meaning_diagnostics
from reconciler.playbook.model import Playbook
from reconciler.playbook.schema import schema_diagnostics


def validate_playbook(
    path: str | Path, *, schemas: Mapping[str, ConnectorSchema] | None = None
) -> ValidationReport:
    """Every error and warning of the playbook at ``path`` (a file or a folder); never raises for bad input.

    ``schemas`` maps connector names to server schemas cached by ``connector schema``; rules are then
    also checked against what the servers hold.
    """
    path = Path(path)
    report = ValidationReport(path=path)
    try:
        source = read_source(path)
    except PlaybookError as exc:
        report.diagnostics.append(_from_error(exc))
        return report
    report.diagnostics.extend(_from_error(e) for e in source.errors)
    schema_errors = schema_diagnostics(source.data, source.marks)
    report.diagnostics.extend(schema_errors)
    if not schema_errors and source.complete:
        playbook = build_playbook(source)
        report.playbook = playbook
        report.diagnostics.extend(meaning_diagnostics(playbook, source.marks, schemas))
    report.diagnostics.sort(key=Diagnostic.sort_key)
    return report


def load_playbook(path: str | Path) -> Playbook:
    """The typed playbook at ``path``; raises PlaybookError (its first error, at FILE:LINE:COL) if invalid."""
    report = validate_playbook(path)
    errors = report.errors
    if errors:
        first = errors[0]
        hint = None
        if len(errors) > 1:
            hint = f"and {len(errors) - 1} more; `reconciler validate {path}` lists them all"
        raise PlaybookError(first.message, file=first.file, line=first.line, column=first.column, hint=hint)
    if report.playbook is None:  # pragma: no cover - no errors means the model was built
        raise Bug(f"validated playbook {path} has no model")
    return report.playbook


def _from_error(exc: PlaybookError) -> Diagnostic:
    return Diagnostic("error", exc.message if not exc.hint else f"{exc.message} ({exc.hint})", exc.file,
                      exc.line, exc.column)  # fmt: skip
