"""Compiles a syntax tree into nested Python closures, and the public ``Expression``.

Every node becomes a function ``fn(attrs, ctx) -> value``; no tree is walked
at evaluation time and no node type is dispatched on. ``compile_expression``
parses, checks and compiles once per distinct text (an LRU cache), so a
playbook that repeats an expression pays for it once.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from reconciler.errors import Bug, ExpressionEvalError, ExpressionSyntaxError, ReconcilerError
from reconciler.expressions import functions
from reconciler.expressions import operators as ops
from reconciler.expressions.nodes import Attribute, BinaryOp, Call, Literal, Negate, Node, Parameter, Variable
from reconciler.expressions.parser import parse
from reconciler.expressions.values import Sentinel, fail, is_truthy, normalize

Fn = Callable[[Mapping[str, Any], "Context"], Any]


class Context:
    """Per-evaluation state other than the attributes: parameters, imported values, the clock, variables."""

    __slots__ = ("imported", "now", "params", "vars")

    def __init__(
        self,
        params: Mapping[str, str] | None = None,
        imported: Mapping[str, Any] | None = None,
        now: datetime | None = None,
    ) -> None:
        self.params = params
        self.imported = imported
        self.now = now
        self.vars: dict[str, Any] = {}


_EMPTY_CONTEXT = Context()
_CHECK_TEXT = functions.CHECKERS["str"]  # text arguments: returns a str (or None) as it is
_MISSING = object()


def _lookup_ci(attrs: Mapping[str, Any], name: str) -> Any:
    """Case-insensitive fallback for an attribute not found under its exact name."""
    lower = name.lower()
    for key in attrs:
        if key.lower() == lower:
            return normalize(attrs[key])
    return None


def lookup_attribute(attrs: Mapping[str, Any], name: str) -> Any:
    value = attrs.get(name, _MISSING)
    if value is _MISSING:
        return _lookup_ci(attrs, name)
    if type(value) is str:
        return value
    return normalize(value)


# -- leaves --------------------------------------------------------------------
def _compile_literal(node: Literal) -> Fn:
    value = node.value

    def literal(attrs: Mapping[str, Any], ctx: Context) -> Any:
        return value

    return literal


def _compile_attribute(node: Attribute) -> Fn:
    name = node.name
    missing = _MISSING

    def attribute(attrs: Mapping[str, Any], ctx: Context) -> Any:
        value = attrs.get(name, missing)
        if type(value) is str:
            return value
        if value is missing:
            return _lookup_ci(attrs, name)
        return normalize(value)

    return attribute


def _compile_parameter(node: Parameter) -> Fn:
    name = node.name

    def parameter(attrs: Mapping[str, Any], ctx: Context) -> Any:
        params = ctx.params
        if params is not None:
            value = params.get(name, _MISSING)
            if value is not _MISSING:
                return value
            lower = name.lower()
            for key, value in params.items():
                if key.lower() == lower:
                    return value
        raise ExpressionEvalError(
            f"parameter %{name}% is not defined", hint=f"pass it, e.g. --param {name}=VALUE"
        )

    return parameter


def _compile_variable(node: Variable) -> Fn:
    name = node.name

    def variable(attrs: Mapping[str, Any], ctx: Context) -> Any:
        return ctx.vars[name]

    return variable


# -- operators -----------------------------------------------------------------
def _compile_binary(node: BinaryOp, scope: frozenset[str]) -> Fn:
    left = compile_node(node.left, scope)
    right = compile_node(node.right, scope)
    op = node.op
    fn = ops.BINARY[op]
    broadcast = ops.broadcast

    if op == "&":
        concat = ops.concat
        if isinstance(node.right, Literal) and isinstance(node.right.value, str):
            const = node.right.value

            def concat_const(attrs: Mapping[str, Any], ctx: Context) -> Any:
                a = left(attrs, ctx)
                if type(a) is str:
                    return a + const
                if type(a) is list:
                    return broadcast("&", concat, a, const)
                return concat(a, const)

            return concat_const

        def concat_any(attrs: Mapping[str, Any], ctx: Context) -> Any:
            a = left(attrs, ctx)
            b = right(attrs, ctx)
            if type(a) is str and type(b) is str:
                return a + b
            if type(a) is list or type(b) is list:
                return broadcast("&", concat, a, b)
            return concat(a, b)

        return concat_any

    if op in ("&&", "||"):
        truth = ops.truth
        is_and = op == "&&"

        def logical(attrs: Mapping[str, Any], ctx: Context) -> Any:
            a = left(attrs, ctx)
            if type(a) is list:
                return broadcast(op, fn, a, right(attrs, ctx))
            ta = truth(op, a)
            if ta is not is_and:  # short-circuit: False && …, True || …
                return ta
            b = right(attrs, ctx)
            if type(b) is list:
                return broadcast(op, fn, a, b)
            return truth(op, b)

        return logical

    def binary(attrs: Mapping[str, Any], ctx: Context) -> Any:
        a = left(attrs, ctx)
        b = right(attrs, ctx)
        if type(a) is list or type(b) is list:
            return broadcast(op, fn, a, b)
        return fn(a, b)

    return binary


def _negate_one(v: Any) -> Any:
    if v is None:
        return None
    return ops.sub(0, v)


def _compile_negate(node: Negate, scope: frozenset[str]) -> Fn:
    operand = compile_node(node.operand, scope)

    def negate(attrs: Mapping[str, Any], ctx: Context) -> Any:
        v = operand(attrs, ctx)
        if type(v) is list:
            return [r for r in (_negate_one(x) for x in v) if r is not None]
        return _negate_one(v)

    return negate


# -- function calls ------------------------------------------------------------
def _compile_call(node: Call, scope: frozenset[str]) -> Fn:
    spec = functions.lookup(node.name)
    if spec is None:  # the parser already rejected unknown names
        raise Bug(f"function {node.name} vanished from the registry")
    if spec.special:
        from reconciler.expressions import special

        return special.compile_special(node, scope, spec)
    consts = [a.value if isinstance(a, Literal) else _MISSING for a in node.args]
    return make_call(spec, [compile_node(a, scope) for a in node.args], consts)


def make_call(spec: functions.FunctionSpec, argfns: list[Fn], consts: list[Any] | None = None) -> Fn:
    """A closure calling ``spec`` on its compiled arguments, checking types and mapping over multi-values;
    ``consts``: per argument its literal value (``_MISSING`` for any other argument)."""
    name = spec.name
    impl = spec.impl
    assert impl is not None
    n = len(argfns)
    kinds = [spec.kind_at(i) for i in range(n)]
    checkers = [functions.CHECKERS[k] for k in kinds]
    checked = [(i, c) for i, c in enumerate(checkers) if c is not None]
    scalar = [i for i, k in enumerate(kinds) if k in functions.SCALAR_KINDS]
    propagate_null = not spec.nulls

    def invoke(args: list[Any]) -> Any:
        if propagate_null:
            for i in scalar:
                if args[i] is None:
                    return None
        for i, check in checked:
            args[i] = check(name, i, args[i])
        return impl(*args)

    def run_broadcast(args: list[Any], lists: list[int]) -> list[Any]:
        length = len(args[lists[0]])
        for i in lists[1:]:
            if len(args[i]) != length:
                fail(
                    name,
                    f"multi-valued arguments {lists[0] + 1} and {i + 1} have different numbers of values",
                )
        out: list[Any] = []
        for j in range(length):
            one = list(args)
            for i in lists:
                one[i] = args[i][j]
            r = invoke(one)
            if r is None:
                continue
            if type(r) is list:
                out.extend(r)
            else:
                out.append(r)
        return out

    if n == 1 and scalar == [0]:
        f0 = argfns[0]
        check0 = checkers[0]
        assert check0 is not None

        text_ok = check0 is _CHECK_TEXT  # the check passes text as it is: no call for it

        def call1(attrs: Mapping[str, Any], ctx: Context) -> Any:
            a = f0(attrs, ctx)
            if text_ok and type(a) is str:
                return impl(a)
            if type(a) is list:
                return run_broadcast([a], [0])
            if a is None and propagate_null:
                return None
            return impl(check0(name, 0, a))

        return call1

    if n in (2, 3) and scalar == list(range(n)):
        # two or three single-valued arguments (Replace, Left, Mid, IIF's kin): the common calls of
        # flows, without building argument lists when no value is multi-valued
        f0, f1 = argfns[0], argfns[1]
        f2 = argfns[2] if n == 3 else None
        c0, c1 = checkers[0], checkers[1]
        c2 = checkers[2] if n == 3 else None

        fixed = _checked_constants(name, consts, checkers, n) if consts is not None else None
        if fixed is not None:
            # Replace([x], " ", ""), Left([x], 1), Mid([x], 1, 7): the literal arguments are checked once,
            # here, and only the first is computed per value
            k1, k2, raw = fixed
            text0 = c0 is _CHECK_TEXT

            def call_consts(attrs: Mapping[str, Any], ctx: Context) -> Any:
                a = f0(attrs, ctx)
                if text0 and type(a) is str:
                    return impl(a, k1) if f2 is None else impl(a, k1, k2)
                if type(a) is list:
                    return run_broadcast([a, *raw], [0])
                if a is None and propagate_null:
                    return None
                if c0 is not None:
                    a = c0(name, 0, a)
                return impl(a, k1) if f2 is None else impl(a, k1, k2)

            return call_consts

        def call_n(attrs: Mapping[str, Any], ctx: Context) -> Any:
            a = f0(attrs, ctx)
            b = f1(attrs, ctx)
            c = f2(attrs, ctx) if f2 is not None else None
            if type(a) is list or type(b) is list or type(c) is list:
                args = [a, b] if f2 is None else [a, b, c]
                return run_broadcast(args, [i for i in scalar if type(args[i]) is list])
            if propagate_null and (a is None or b is None or (f2 is not None and c is None)):
                return None
            if c0 is not None:
                a = c0(name, 0, a)
            if c1 is not None:
                b = c1(name, 1, b)
            if f2 is None:
                return impl(a, b)
            if c2 is not None:
                c = c2(name, 2, c)
            return impl(a, b, c)

        return call_n

    def call(attrs: Mapping[str, Any], ctx: Context) -> Any:
        args = [f(attrs, ctx) for f in argfns]
        lists = [i for i in scalar if type(args[i]) is list]
        if lists:
            return run_broadcast(args, lists)
        return invoke(args)

    return call


def _checked_constants(name: str, consts: list[Any], checkers: list[Any], n: int
                       ) -> tuple[Any, Any, list[Any]] | None:  # fmt: skip
    """The second (and third) arguments of a call as its function receives them, and as written, when
    they are literals that pass their checks (a literal that fails one is left to fail when the call is
    evaluated, as any argument does); None otherwise."""
    out = []
    for i in range(1, n):
        value = consts[i]
        if value is _MISSING or value is None or type(value) is list:
            return None
        check = checkers[i]
        if check is not None:
            try:
                value = check(name, i, value)
            except ReconcilerError:
                return None
        out.append(value)
    return out[0], (out[1] if n == 3 else None), consts[1:n]


def compile_node(node: Node, scope: frozenset[str] = frozenset()) -> Fn:
    """The closure computing ``node``; ``scope`` holds the variables bound around it."""
    if isinstance(node, Literal):
        return _compile_literal(node)
    if isinstance(node, Attribute):
        return _compile_attribute(node)
    if isinstance(node, BinaryOp):
        return _compile_binary(node, scope)
    if isinstance(node, Call):
        return _compile_call(node, scope)
    if isinstance(node, Parameter):
        return _compile_parameter(node)
    if isinstance(node, Variable):
        if node.name.lower() not in scope:
            raise ExpressionSyntaxError(
                f"syntax error at column {node.column}: variable ${node.name} is not defined here",
                column=node.column,
                hint="variables are bound by Where, Select and With",
            )
        return _compile_variable(Variable(node.column, node.name.lower()))
    if isinstance(node, Negate):
        return _compile_negate(node, scope)
    raise Bug(f"unknown syntax node {type(node).__name__}")


# -- the public object ----------------------------------------------------------
def _collect(node: Node, attrs: set[str], params: set[str], imported: set[str]) -> bool:
    """Fill the referenced names; True when the expression binds variables."""
    uses_vars = False
    if isinstance(node, Attribute):
        attrs.add(node.name)
    elif isinstance(node, Parameter):
        params.add(node.name)
    elif isinstance(node, BinaryOp):
        uses_vars |= _collect(node.left, attrs, params, imported)
        uses_vars |= _collect(node.right, attrs, params, imported)
    elif isinstance(node, Negate):
        uses_vars |= _collect(node.operand, attrs, params, imported)
    elif isinstance(node, Call):
        if node.name in ("Where", "Select", "With"):
            uses_vars = True
        if node.name == "ImportedValue" and node.args and isinstance(node.args[0], Literal):
            imported.add(str(node.args[0].value))
        for arg in node.args:
            uses_vars |= _collect(arg, attrs, params, imported)
    return uses_vars


class Expression:
    """A compiled expression: parse once, evaluate many times.

    ``attributes`` names the attributes referenced with ``[…]``,
    ``imported_attributes`` those read with ``ImportedValue("…")``, and
    ``parameters`` the ``%…%`` parameters.
    """

    __slots__ = ("_needs_context", "_run", "attributes", "imported_attributes", "parameters", "plain", "text")

    def __init__(self, text: str) -> None:
        self.text = text
        tree = parse(text)
        attrs: set[str] = set()
        params: set[str] = set()
        imported: set[str] = set()
        self._needs_context = _collect(tree, attrs, params, imported)
        self.attributes: frozenset[str] = frozenset(attrs)
        self.parameters: frozenset[str] = frozenset(params)
        self.imported_attributes: frozenset[str] = frozenset(imported)
        try:
            fn = compile_node(tree)
        except ExpressionSyntaxError as exc:
            exc.expression = text
            raise
        self._run = _runner(fn, text)
        # evaluate(attrs) for the engine's flows, which pass nothing else: without the checks for a context
        self.plain: Callable[[Mapping[str, Any]], Any] = self.evaluate if self._needs_context else self._run

    def __repr__(self) -> str:
        return f"Expression({self.text!r})"

    def evaluate(
        self,
        attrs: Mapping[str, Any],
        params: Mapping[str, str] | None = None,
        *,
        imported: Mapping[str, Any] | None = None,
        now: datetime | None = None,
    ) -> Any:
        """The value of the expression for one object.

        Returns None (no value), a single value, a list (multi-valued, never
        empty) or one of the sentinels; raises ``ExpressionEvalError``.
        """
        if params is None and imported is None and now is None and not self._needs_context:
            return self._run(attrs, _EMPTY_CONTEXT)
        if now is not None:
            now = now.replace(tzinfo=UTC) if now.tzinfo is None else now.astimezone(UTC)
        return self._run(attrs, Context(params, imported, now))


def _runner(fn: Fn, text: str) -> Callable[..., Any]:
    """``fn`` as ``Expression.evaluate`` returns its value: errors translated, a list without NULLs."""

    def run(attrs: Mapping[str, Any], ctx: Context = _EMPTY_CONTEXT) -> Any:
        try:
            result = fn(attrs, ctx)
        except ReconcilerError:
            raise
        except RecursionError as exc:
            raise ExpressionEvalError(f"expression too deeply nested: {text}") from exc
        except Exception as exc:  # a defect in a function: never a traceback for the user
            raise Bug(f"evaluating {text!r} failed: {type(exc).__name__}: {exc}") from exc
        if type(result) is list:
            result = [v for v in result if v is not None]
            if not result:
                return None
            if len(result) == 1 and isinstance(result[0], Sentinel):
                return result[0]
        return result

    return run


@functools.lru_cache(maxsize=4096)
def compile_expression(text: str) -> Expression:
    """Parse, check and compile ``text`` (cached by text); raises ``ExpressionSyntaxError``."""
    return Expression(text)


def evaluate_condition(expression: Expression, attrs: Mapping[str, Any], **kw: Any) -> bool:
    """Evaluate ``expression`` as a condition (scoping): True, False, NULL is False."""
    return is_truthy("condition", expression.evaluate(attrs, **kw))
