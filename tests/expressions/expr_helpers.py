"""Shared helpers of the expression tests (a uniquely named module: tests/ has no packages)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from reconciler.expressions import compile_expression

FIXED_NOW = datetime(2024, 5, 17, 12, 30, 45, tzinfo=UTC)


def ev(text: str, attrs: Mapping[str, Any] | None = None, **kw: Any) -> Any:
    """Evaluate ``text`` against ``attrs`` with a fixed clock unless ``now`` is given."""
    kw.setdefault("now", FIXED_NOW)
    return compile_expression(text).evaluate(attrs or {}, **kw)
