"""The binary operators on single values; the compiler maps them over multi-valued operands.

Types are checked (the language is strongly typed): ``+ - * /`` take numbers,
``&`` takes strings, numbers and booleans (converted as CStr does), the
comparisons take two values of one type. NULL propagates through arithmetic and
ordering comparisons; ``&`` treats NULL as an empty string unless both sides
are NULL; ``=`` and ``<>`` compare presence (NULL = NULL is True).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from reconciler.expressions.values import check_int64, fail, type_name

_PRIORITY_HINT = (
    "all operators have the same priority and are evaluated left to right; "
    "add parentheses, for example (a = 1) && (b = 2)"
)


def _is_num(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def to_text(op: str, v: Any) -> str:
    """A value as ``&`` concatenates it."""
    if isinstance(v, str):
        return v
    if v is True:
        return "True"
    if v is False:
        return "False"
    if _is_num(v):
        return str(v)
    fail(f"operator {op}", f"cannot concatenate a {type_name(v)} value (convert it with a function first)")


def concat(a: Any, b: Any) -> Any:
    if a is None:
        if b is None:
            return None
        return to_text("&", b)
    if b is None:
        return to_text("&", a)
    return to_text("&", a) + to_text("&", b)


def _numbers(op: str, a: Any, b: Any) -> None:
    if not (_is_num(a) and _is_num(b)):
        hint = ""
        if op == "+" and isinstance(a, str) and isinstance(b, str):
            hint = " (concatenate strings with &)"
        elif isinstance(a, bool) or isinstance(b, bool):
            hint = f" ({_PRIORITY_HINT})"
        fail(f"operator {op}", f"needs two numbers, got {type_name(a)} and {type_name(b)}{hint}")


def add(a: Any, b: Any) -> Any:
    if a is None or b is None:
        return None
    _numbers("+", a, b)
    return check_int64("operator +", a + b)


def sub(a: Any, b: Any) -> Any:
    if a is None or b is None:
        return None
    _numbers("-", a, b)
    return check_int64("operator -", a - b)


def mul(a: Any, b: Any) -> Any:
    if a is None or b is None:
        return None
    _numbers("*", a, b)
    return check_int64("operator *", a * b)


def div(a: Any, b: Any) -> Any:
    """Integer division truncating toward zero (the language's numbers are 64-bit integers)."""
    if a is None or b is None:
        return None
    _numbers("/", a, b)
    if b == 0:
        fail("operator /", "division by zero")
    q = abs(a) // abs(b)
    return check_int64("operator /", q if (a >= 0) == (b >= 0) else -q)


def _comparable(op: str, a: Any, b: Any) -> None:
    if isinstance(a, str) and isinstance(b, str):
        return
    if _is_num(a) and _is_num(b):
        return
    if isinstance(a, bool) and isinstance(b, bool):
        return
    if isinstance(a, datetime) and isinstance(b, datetime):
        return
    if isinstance(a, bytes) and isinstance(b, bytes):
        return
    hint = f" ({_PRIORITY_HINT})" if isinstance(a, bool) != isinstance(b, bool) else ""
    fail(f"operator {op}", f"cannot compare {type_name(a)} with {type_name(b)}{hint}")


def eq(a: Any, b: Any) -> Any:
    if a is None or b is None:
        return a is None and b is None
    _comparable("=", a, b)
    return a == b


def ne(a: Any, b: Any) -> Any:
    if a is None or b is None:
        return not (a is None and b is None)
    _comparable("<>", a, b)
    return a != b


def _ordered(op: str, a: Any, b: Any) -> None:
    _comparable(op, a, b)
    if isinstance(a, bytes):
        fail(f"operator {op}", "binary values can only be compared with = and <>")


def lt(a: Any, b: Any) -> Any:
    if a is None or b is None:
        return None
    _ordered("<", a, b)
    return a < b


def le(a: Any, b: Any) -> Any:
    if a is None or b is None:
        return None
    _ordered("<=", a, b)
    return a <= b


def gt(a: Any, b: Any) -> Any:
    if a is None or b is None:
        return None
    _ordered(">", a, b)
    return a > b


def ge(a: Any, b: Any) -> Any:
    if a is None or b is None:
        return None
    _ordered(">=", a, b)
    return a >= b


def truth(op: str, v: Any) -> bool:
    """The truth of an operand of && or ||: a boolean, NULL (false) or a number (non-zero)."""
    if v is True:
        return True
    if v is False or v is None:
        return False
    if _is_num(v):
        return v != 0
    fail(f"operator {op}", f"needs boolean operands, got {type_name(v)} ({_PRIORITY_HINT})")


def and_(a: Any, b: Any) -> bool:
    return truth("&&", a) and truth("&&", b)


def or_(a: Any, b: Any) -> bool:
    return truth("||", a) or truth("||", b)


BINARY: dict[str, Callable[[Any, Any], Any]] = {
    "&": concat,
    "+": add,
    "-": sub,
    "*": mul,
    "/": div,
    "=": eq,
    "<>": ne,
    "<": lt,
    "<=": le,
    ">": gt,
    ">=": ge,
    "&&": and_,
    "||": or_,
}


def broadcast(op: str, fn: Callable[[Any, Any], Any], a: Any, b: Any) -> list[Any]:
    """Apply a binary operator value by value when one or both operands are multi-valued."""
    if type(a) is list and type(b) is list:
        if len(a) != len(b):
            fail(
                f"operator {op}",
                f"the multi-valued operands have {len(a)} and {len(b)} values; they must have as many",
            )
        pairs: Any = zip(a, b)
    elif type(a) is list:
        pairs = ((x, b) for x in a)
    else:
        pairs = ((a, y) for y in b)
    out = []
    for x, y in pairs:
        r = fn(x, y)
        if r is not None:
            out.append(r)
    return out
