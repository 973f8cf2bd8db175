"""What validation reports: diagnostics pointing at FILE:LINE:COL, and the report that gathers them."""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from reconciler.playbook.model import Mark, Playbook

Severity = Literal["error", "warning"]


@dataclass(frozen=True)
class Diagnostic:
    """One finding; ``line``/``column`` are 1-based and None when only the file is known."""

    severity: Severity
    message: str
    file: str | None = None
    line: int | None = None
    column: int | None = None

    @classmethod
    def at(cls, mark: Mark | None, message: str, severity: Severity = "error") -> Diagnostic:
        if mark is None:
            return cls(severity, message)
        return cls(severity, message, mark.file, mark.line, mark.column)

    @property
    def where(self) -> str:
        if not self.file:
            return ""
        parts = [self.file]
        if self.line is not None:
            parts.append(str(self.line))
            if self.column is not None:
                parts.append(str(self.column))
        return ":".join(parts)

    def __str__(self) -> str:
        text = self.message if self.severity == "error" else f"warning: {self.message}"
        return f"{self.where}: {text}" if self.where else text

    def to_json(self) -> dict[str, Any]:
        return {
            "severity": self.severity,
            "message": self.message,
            "file": self.file,
            "line": self.line,
            "column": self.column,
        }

    def sort_key(self) -> tuple[str, int, int]:
        return (self.file or "", self.line or 0, self.column or 0)


@dataclass
class ValidationReport:
    """The outcome of validating a playbook; ``playbook`` is None when it could not be built."""

    path: Path
    diagnostics: list[Diagnostic] = field(default_factory=list)
    playbook: Playbook | None = None

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.severity == "error"]

    @property
    def warnings(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.severity == "warning"]

    @property
    def valid(self) -> bool:
        return not self.errors

    def to_json(self) -> dict[str, Any]:
        return {
            "valid": self.valid,
            "error_count": len(self.errors),
            "diagnostics": [d.to_json() for d in self.diagnostics],
        }


def did_you_mean(name: str, candidates: Iterable[str]) -> str:
    """`` (did you mean 'x'?)`` for the closest candidate, or ``""`` when none is close."""
    options = [c for c in candidates if c != name]
    folded = {c.lower(): c for c in options}
    if name.lower() in folded:  # a difference of case is the commonest slip
        return f" (did you mean '{folded[name.lower()]}'?)"
    close = difflib.get_close_matches(name, options, n=1, cutoff=0.6)
    if not close and len(name) >= 3:  # an abbreviation: ref → reference
        close = [c for c in options if c.lower().startswith(name.lower())][:1]
    return f" (did you mean '{close[0]}'?)" if close else ""
