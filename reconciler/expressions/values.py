"""Values of the expression language and the helpers that check and convert them.

The language's types map onto Python values:

==========  =====================================================
NULL        ``None`` (no value; an absent attribute)
str         ``str`` (``Reference`` for a value typed *ref*)
num         ``int``, a 64-bit signed integer
bool        ``bool``
bin         ``bytes``
dt          ``datetime`` (timezone-aware, UTC)
mv…         ``list`` of the above (a multi-valued attribute)
==========  =====================================================

``AUTHORITATIVE_NULL`` and ``IGNORE_THIS_FLOW`` are the two special literals a
flow may return; they are singletons and never valid arguments to a function.
"""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from typing import Any, Final, NoReturn

from reconciler.errors import ExpressionEvalError

INT64_MIN: Final = -(2**63)
INT64_MAX: Final = 2**63 - 1


class Sentinel:
    """A special flow result (``AuthoritativeNull``, ``IgnoreThisFlow``); one instance per name."""

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return self.name

    def __reduce__(self) -> str:
        # pickling returns the module-level singleton
        return "AUTHORITATIVE_NULL" if self.name == "AuthoritativeNull" else "IGNORE_THIS_FLOW"


AUTHORITATIVE_NULL: Final = Sentinel("AuthoritativeNull")
IGNORE_THIS_FLOW: Final = Sentinel("IgnoreThisFlow")


class Reference(str):
    """A value typed *ref* (a DN naming another object); behaves as its string everywhere."""

    __slots__ = ()

    def __repr__(self) -> str:
        return f"Reference({str.__repr__(self)})"


def type_name(value: Any) -> str:
    """The language's name for the type of ``value``, for error messages."""
    if value is None:
        return "NULL"
    if isinstance(value, Sentinel):
        return value.name
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, Reference):
        return "reference"
    if isinstance(value, str):
        return "string"
    if isinstance(value, int):
        return "number"
    if isinstance(value, float):
        return "non-integer number"
    if isinstance(value, bytes | bytearray):
        return "binary"
    if isinstance(value, datetime):
        return "date/time"
    if isinstance(value, list):
        return "multi-valued"
    return type(value).__name__


def fail(function: str, message: str) -> NoReturn:
    """Raise an evaluation error that names the function."""
    raise ExpressionEvalError(f"{function}: {message}")


def wrong_type(function: str, index: int, expected: str, value: Any) -> NoReturn:
    """Raise the error for an argument of the wrong type (``index`` is 0-based)."""
    fail(function, f"argument {index + 1} must be {expected}, got {type_name(value)}")


def check_int64(function: str, value: int) -> int:
    """``value`` if it fits a 64-bit signed integer, else an overflow error."""
    if INT64_MIN <= value <= INT64_MAX:
        return value
    fail(function, f"result {value} overflows a 64-bit integer")


def normalize(value: Any) -> Any:
    """An attribute value as the language sees it.

    A tuple or list is multi-valued (an empty one is NULL); a naive datetime is
    UTC; ``bytearray``/``memoryview`` become ``bytes``.
    """
    t = type(value)
    if t is str or t is int or t is bool or value is None:
        return value
    if t is list or t is tuple or t is set or t is frozenset:
        if not value:
            return None
        return [normalize(v) for v in value]
    if isinstance(value, datetime):
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)
    if isinstance(value, bytearray | memoryview):
        return bytes(value)
    return value


def is_truthy(function: str, value: Any) -> bool:
    """A condition's truth: a boolean, NULL (false) or a number (non-zero is true)."""
    if value is True:
        return True
    if value is False or value is None:
        return False
    if type(value) is int:
        return value != 0
    fail(function, f"the condition must be a boolean, got {type_name(value)}")


def format_datetime_iso(value: datetime) -> str:
    """ISO-8601 in UTC ending in ``Z`` (fractions only when present)."""
    if value.tzinfo is not None:
        value = value.astimezone(UTC)
    text = value.strftime("%Y-%m-%dT%H:%M:%S")
    if value.microsecond:
        text += f".{value.microsecond:06d}".rstrip("0")
    return text + "Z"


def to_json_value(value: Any) -> Any:
    """A value made JSON-able for the CLI.

    NULL → ``None``; a DateTime → ISO-8601 UTC string ending in ``Z``; binary →
    base64 string; the sentinels → their names; a multi-valued value → a list.
    """
    if value is None or type(value) in (str, int, bool, float):
        return value
    if isinstance(value, Sentinel):
        return value.name
    if isinstance(value, str):
        return str(value)
    if isinstance(value, list | tuple):
        return [to_json_value(v) for v in value]
    if isinstance(value, datetime):
        return format_datetime_iso(value)
    if isinstance(value, bytes | bytearray):
        return base64.b64encode(bytes(value)).decode("ascii")
    if isinstance(value, int):
        return int(value)
    return str(value)
