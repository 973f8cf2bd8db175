"""Converting and comparing attribute values between connector spaces and the metaverse.

Stored values are JSON-able (str, int, bool; datetimes as ISO-8601 ``Z``
strings, binaries base64). The MV type decides the conversion of a CS value on
the way in; on the way out, a desired value is compared with what the system
holds after bringing the system's value to the desired value's type, so
``"true"`` in a CSV equals ``True``, and a change of case is a change.
"""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from typing import Any

from reconciler.errors import ExpressionEvalError
from reconciler.expressions.values import format_datetime_iso

_TRUE = frozenset({"true", "1", "yes", "y", "t"})
_FALSE = frozenset({"false", "0", "no", "n", "f", ""})


def to_stored(value: Any) -> Any:
    """A value as the state stores it (JSON-able); lists stay lists, an empty list is None."""
    if value is None or type(value) in (str, int, bool):
        return value
    if isinstance(value, list | tuple | set | frozenset):
        out = [to_stored(v) for v in value if v is not None]
        return out or None
    if isinstance(value, str):
        return str(value)
    if isinstance(value, datetime):
        return format_datetime_iso(value)  # the expression language's form: ISO-8601 UTC with Z
    if isinstance(value, bytes | bytearray | memoryview):
        return base64.b64encode(bytes(value)).decode("ascii")
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return str(value)


def parse_datetime(text: str) -> datetime:
    t = text.strip()
    if t.endswith("Z"):
        t = t[:-1] + "+00:00"
    dt = datetime.fromisoformat(t)
    return dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt.astimezone(UTC)


def convert(value: Any, mv_type: str) -> Any:
    """A (stored) value converted to an MV attribute type, in stored form; raises ValueError if it cannot."""
    if value is None:
        return None
    if isinstance(value, list):
        out = [convert(v, mv_type) for v in value]
        return [v for v in out if v is not None] or None
    if mv_type == "string" or mv_type == "reference":
        if isinstance(value, str):
            return value
        if isinstance(value, bool):
            return "true" if value else "false"
        stored = to_stored(value)
        return stored if isinstance(stored, str) else str(stored)
    if mv_type == "integer":
        if isinstance(value, bool):
            return int(value)
        if isinstance(value, int):
            return value
        s = str(value).strip()
        if s == "":
            return None
        return int(s, 0) if s.lower().startswith(("0x", "-0x")) else int(s)
    if mv_type == "boolean":
        if isinstance(value, bool):
            return value
        if isinstance(value, int):
            return value != 0
        s = str(value).strip().lower()
        if s in _TRUE:
            return True
        if s in _FALSE:
            return False
        raise ValueError(f"{value!r} is not a boolean")
    if mv_type == "datetime":
        if isinstance(value, datetime):
            return to_stored(value)
        return to_stored(parse_datetime(str(value)))
    if mv_type == "binary":
        return value if isinstance(value, str) else to_stored(value)
    return value


def to_expression(value: Any, mv_type: str | None) -> Any:
    """A stored MV value as the expression language sees it (datetimes and binaries typed)."""
    if value is None or mv_type in (None, "string", "integer", "boolean", "reference"):
        return value
    if isinstance(value, list):
        return [to_expression(v, mv_type) for v in value]
    if mv_type == "datetime" and isinstance(value, str):
        try:
            return parse_datetime(value)
        except ValueError:
            return value
    if mv_type == "binary" and isinstance(value, str):
        try:
            return base64.b64decode(value)
        except ValueError:
            return value
    return value


def _like(imported: Any, desired: Any) -> Any:
    """The imported value brought to the type of the desired value, when it can be."""
    if type(imported) is type(desired) or imported is None:
        return imported
    try:
        if isinstance(desired, bool):
            return convert(imported, "boolean")
        if isinstance(desired, int):
            return convert(imported, "integer")
        if isinstance(desired, str):
            return convert(imported, "string")
    except (ValueError, ExpressionEvalError):
        return imported
    return imported


def same(desired: Any, imported: Any) -> bool:
    """Exact comparison for change detection; a one-value set equals its value; lists compare as multisets."""
    if desired is None or desired == []:
        return imported is None or imported == [] or imported == ""
    if imported is None or imported == "":
        return False
    if isinstance(desired, list) or isinstance(imported, list):
        d = desired if isinstance(desired, list) else [desired]
        i = imported if isinstance(imported, list) else [imported]
        if len(d) != len(i):
            return False
        probe = d[0]
        return sorted(map(_key, d)) == sorted(_key(_like(v, probe)) for v in i)
    like = _like(imported, desired)
    return type(like) is type(desired) and like == desired


def _key(v: Any) -> str:
    return f"{type(v).__name__}:{v}"


def norm_ci(value: Any) -> str:
    """A value as joins and scoping filters compare it by default (case-insensitive)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value).casefold()
