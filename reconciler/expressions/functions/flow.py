"""Program flow: Error, IIF, Select, Switch, Where, With (plus ImportedValue and the Coalesce extension).

These are compiled by ``reconciler.expressions.special`` because they evaluate
their arguments lazily or bind variables; the registry entries below give
their names and argument counts to the parser.
"""

from __future__ import annotations

from typing import Any

from reconciler.expressions.functions import function


def _compiled_elsewhere(*args: Any) -> Any:  # pragma: no cover - never called
    raise NotImplementedError


function("Error", "str", group="Program Flow", special=True, pure=False)(_compiled_elsewhere)
function("IIF", "lazy, lazy, lazy", group="Program Flow", special=True, usage="condition, ifTrue, ifFalse")(
    _compiled_elsewhere
)
function(
    "Switch", "lazy, lazy", group="Program Flow", special=True, variadic=True, usage="condition, value, …"
)(_compiled_elsewhere)
function("Select", "variable, mv, lazy", group="Program Flow", special=True, usage="$item, mv, expression")(
    _compiled_elsewhere
)
function("Where", "variable, mv, lazy", group="Program Flow", special=True, usage="$item, mv, condition")(
    _compiled_elsewhere
)
function(
    "With",
    "variable, lazy, lazy",
    group="Program Flow",
    special=True,
    usage="$var, subExpression, expression",
)(_compiled_elsewhere)
function("ImportedValue", "name", group="Program Flow", special=True)(_compiled_elsewhere)
function("Coalesce", "lazy", group="Program Flow", special=True, variadic=True, extension=True)(
    _compiled_elsewhere
)
