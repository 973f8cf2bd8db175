"""Functions the compiler builds itself: lazy branches, variables and context.

* ``IIF`` and ``Switch`` evaluate only the branch they choose (``IIF`` given a
  multi-valued condition picks value by value);
* ``Where``, ``Select`` and ``With`` bind a ``$variable``;
* ``ImportedValue("attr")`` reads the imported (confirmed) value;
* ``Now()`` reads the evaluation's clock; ``Coalesce`` is lazy too.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from reconciler.errors import ExpressionSyntaxError
from reconciler.expressions.compiler import Context, Fn, compile_node, lookup_attribute
from reconciler.expressions.nodes import Call, Literal, Variable
from reconciler.expressions.values import fail, is_truthy, type_name

if TYPE_CHECKING:
    from reconciler.expressions.functions import FunctionSpec

_UNSET = object()


def _unbind(variables: dict[str, Any], name: str, saved: Any) -> None:
    """Give ``name`` back the value it had outside Where/Select/With (or none)."""
    if saved is _UNSET:
        variables.pop(name, None)
    else:
        variables[name] = saved


def _syntax(node: Any, message: str, hint: str | None = None) -> ExpressionSyntaxError:
    return ExpressionSyntaxError(
        f"syntax error at column {node.column}: {message}", column=node.column, hint=hint
    )


def compile_special(node: Call, scope: frozenset[str], spec: FunctionSpec) -> Fn:
    builder = _BUILDERS[spec.name]
    return builder(node, scope)


def _iif(node: Call, scope: frozenset[str]) -> Fn:
    cond, if_true, if_false = (compile_node(a, scope) for a in node.args)

    def iif(attrs: Mapping[str, Any], ctx: Context) -> Any:
        c = cond(attrs, ctx)
        if type(c) is not list:
            if is_truthy("IIF", c):
                return if_true(attrs, ctx)
            return if_false(attrs, ctx)
        truths = [is_truthy("IIF", x) for x in c]
        t = if_true(attrs, ctx) if any(truths) else None
        f = if_false(attrs, ctx) if not all(truths) else None
        out = []
        for j, chosen in enumerate(truths):
            branch = t if chosen else f
            if type(branch) is list:
                if len(branch) != len(truths):
                    fail(
                        "IIF",
                        f"the condition has {len(truths)} values but the chosen value has {len(branch)}",
                    )
                v = branch[j]
            else:
                v = branch
            if v is not None:
                out.append(v)
        return out

    return iif


def _switch(node: Call, scope: frozenset[str]) -> Fn:
    fns = [compile_node(a, scope) for a in node.args]
    pairs = list(zip(fns[0::2], fns[1::2]))

    def switch(attrs: Mapping[str, Any], ctx: Context) -> Any:
        for n, (cond, value) in enumerate(pairs, start=1):
            c = cond(attrs, ctx)
            if type(c) is list:
                fail("Switch", f"condition {n} is multi-valued; use Where or IIF for value-by-value choices")
            if is_truthy("Switch", c):
                return value(attrs, ctx)
        return None

    return switch


def _coalesce(node: Call, scope: frozenset[str]) -> Fn:
    fns = [compile_node(a, scope) for a in node.args]

    def coalesce(attrs: Mapping[str, Any], ctx: Context) -> Any:
        for f in fns:
            v = f(attrs, ctx)
            if v is not None and v != "" and v != []:
                return v
        return None

    return coalesce


def _bound(node: Call, scope: frozenset[str]) -> tuple[str, frozenset[str]]:
    var = node.args[0]
    if not isinstance(var, Variable):
        raise _syntax(var, f"the first argument of {node.name} must be a variable", "for example $item")
    name = var.name.lower()
    return name, scope | {name}


def _where(node: Call, scope: frozenset[str]) -> Fn:
    name, inner = _bound(node, scope)
    source = compile_node(node.args[1], scope)
    cond = compile_node(node.args[2], inner)

    def where(attrs: Mapping[str, Any], ctx: Context) -> Any:
        values = source(attrs, ctx)
        if values is None:
            return []
        if type(values) is not list:
            values = [values]
        saved = ctx.vars.get(name, _UNSET)
        out = []
        try:
            for v in values:
                ctx.vars[name] = v
                c = cond(attrs, ctx)
                if type(c) is list:
                    fail("Where", "the condition gave several values for one item")
                if is_truthy("Where", c):
                    out.append(v)
        finally:
            _unbind(ctx.vars, name, saved)
        return out

    return where


def _select(node: Call, scope: frozenset[str]) -> Fn:
    name, inner = _bound(node, scope)
    source = compile_node(node.args[1], scope)
    mapper = compile_node(node.args[2], inner)

    def select(attrs: Mapping[str, Any], ctx: Context) -> Any:
        values = source(attrs, ctx)
        if values is None:
            return []
        if type(values) is not list:
            values = [values]
        saved = ctx.vars.get(name, _UNSET)
        out: list[Any] = []
        try:
            for v in values:
                ctx.vars[name] = v
                r = mapper(attrs, ctx)
                if r is None:
                    continue
                if type(r) is list:
                    out.extend(r)
                else:
                    out.append(r)
        finally:
            _unbind(ctx.vars, name, saved)
        return out

    return select


def _with(node: Call, scope: frozenset[str]) -> Fn:
    name, inner = _bound(node, scope)
    sub = compile_node(node.args[1], scope)
    body = compile_node(node.args[2], inner)

    def with_(attrs: Mapping[str, Any], ctx: Context) -> Any:
        saved = ctx.vars.get(name, _UNSET)
        ctx.vars[name] = sub(attrs, ctx)
        try:
            return body(attrs, ctx)
        finally:
            _unbind(ctx.vars, name, saved)

    return with_


def _imported_value(node: Call, scope: frozenset[str]) -> Fn:
    arg = node.args[0]
    if not (isinstance(arg, Literal) and isinstance(arg.value, str) and not arg.enum):
        raise _syntax(
            arg,
            "ImportedValue takes the attribute name as a string literal",
            'for example ImportedValue("proxyAddresses")',
        )
    attr = arg.value

    def imported_value(attrs: Mapping[str, Any], ctx: Context) -> Any:
        source = ctx.imported if ctx.imported is not None else attrs
        return lookup_attribute(source, attr)

    return imported_value


def _now(node: Call, scope: frozenset[str]) -> Fn:
    def now(attrs: Mapping[str, Any], ctx: Context) -> Any:
        return ctx.now if ctx.now is not None else datetime.now(UTC)

    return now


def _error(node: Call, scope: frozenset[str]) -> Fn:
    message = compile_node(node.args[0], scope)

    def error(attrs: Mapping[str, Any], ctx: Context) -> Any:
        text = message(attrs, ctx)
        if type(text) is list:
            text = " ".join(str(t) for t in text)
        if text is not None and not isinstance(text, str):
            fail("Error", f"argument 1 must be a string, got {type_name(text)}")
        fail("Error", text or "(no message)")

    return error


_BUILDERS = {
    "IIF": _iif,
    "Switch": _switch,
    "Coalesce": _coalesce,
    "Where": _where,
    "Select": _select,
    "With": _with,
    "ImportedValue": _imported_value,
    "Now": _now,
    "Error": _error,
}
