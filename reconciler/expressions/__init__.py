"""The expression language of Entra Connect Sync's declarative provisioning.

    >>> from reconciler.expressions import compile_expression
    >>> compile_expression('[givenName] & " " & [sn]').evaluate({"givenName": "Ada", "sn": "Lovelace"})
    'Ada Lovelace'

``compile_expression`` parses and checks once (unknown functions, argument
counts) and caches by text; ``Expression.evaluate`` runs the compiled closures
against one object's attributes. See docs/expressions.md for the language.
"""

from __future__ import annotations

from reconciler.expressions.compiler import Expression, compile_expression, evaluate_condition
from reconciler.expressions.values import (
    AUTHORITATIVE_NULL,
    IGNORE_THIS_FLOW,
    Reference,
    Sentinel,
    to_json_value,
)

__all__ = [
    "AUTHORITATIVE_NULL",
    "IGNORE_THIS_FLOW",
    "Expression",
    "Reference",
    "Sentinel",
    "compile_expression",
    "evaluate_condition",
    "to_json_value",
]
