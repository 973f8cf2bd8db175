"""Playbooks: YAML loading with line marks, schema and meaning validation, and the typed model.

>>> from reconciler.playbook import load_playbook, validate_playbook
>>> playbook = load_playbook("playbooks/demo")          # raises PlaybookError at FILE:LINE:COL
>>> report = validate_playbook("playbooks/demo")        # every diagnostic, never raises
>>> report.valid, [str(d) for d in report.diagnostics]
"""

from __future__ import annotations

from reconciler.playbook.diagnostics import Diagnostic, ValidationReport
from reconciler.playbook.model import Playbook
from reconciler.playbook.schema import playbook_schema
from reconciler.playbook.validate import load_playbook, validate_playbook

__all__ = [
    "Diagnostic",
    "Playbook",
    "ValidationReport",
    "load_playbook",
    "playbook_schema",
    "validate_playbook",
]
