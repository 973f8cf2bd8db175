"""Evaluation: IsBitSet, IsDate, IsEmpty, IsGuid, IsNull, IsNullOrEmpty, IsNumeric, IsPresent, IsString.

The ``Is…`` functions that take *var* look at the whole value: a multi-valued
attribute is NULL when it has no values, present when one value is present.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from reconciler.expressions.functions import function
from reconciler.expressions.functions.conversion import GUID_PATTERN, parse_num
from reconciler.expressions.functions.datetime_fns import parse_date
from reconciler.expressions.values import Sentinel


def _values(value: Any) -> list[Any]:
    if value is None:
        return []
    if type(value) is list:
        return value
    return [value]


@function("IsBitSet", "num, num", group="Evaluation")
def is_bit_set(value: int, flag: int) -> bool:
    """True when every bit of the mask ``flag`` is set in ``value`` (IsBitSet(&HF, 4) is True)."""
    return (value & flag) == flag


@function("IsDate", "var", group="Evaluation")
def is_date(value: Any) -> bool:
    vals = _values(value)
    return bool(vals) and all(
        isinstance(v, datetime) or (isinstance(v, str) and parse_date(v) is not None) for v in vals
    )


@function("IsEmpty", "var", group="Evaluation")
def is_empty(value: Any) -> bool:
    """True when the value is present but an empty string."""
    vals = _values(value)
    return bool(vals) and all(v == "" for v in vals)


@function("IsGuid", "var", group="Evaluation")
def is_guid(value: Any) -> bool:
    vals = _values(value)
    return bool(vals) and all(isinstance(v, str) and GUID_PATTERN.match(v.strip()) for v in vals)


@function("IsNull", "var", group="Evaluation")
def is_null(value: Any) -> bool:
    return value is None or value == []


@function("IsNullOrEmpty", "var", group="Evaluation")
def is_null_or_empty(value: Any) -> bool:
    return all(v == "" for v in _values(value))


@function("IsPresent", "var", group="Evaluation")
def is_present(value: Any) -> bool:
    if isinstance(value, Sentinel):
        return False
    return not is_null_or_empty(value)


@function("IsNumeric", "var", group="Evaluation")
def is_numeric(value: Any) -> bool:
    vals = _values(value)
    return bool(vals) and all(
        (isinstance(v, int) and not isinstance(v, bool)) or (isinstance(v, str) and parse_num(v) is not None)
        for v in vals
    )


@function("IsString", "var", group="Evaluation")
def is_string(value: Any) -> bool:
    """True when CStr can convert the value."""
    vals = _values(value)
    return bool(vals) and all(isinstance(v, str | int | datetime) for v in vals)
