"""Multi-valued: Contains, Count, Item, ItemOrNull, Join, RemoveDuplicates, Split.

Their *mv* parameters take the whole attribute (a single value counts as one
value, NULL as none). Indexes are 1-based, as ``Contains`` returns them.
"""

from __future__ import annotations

from typing import Any

from reconciler.expressions.functions import function
from reconciler.expressions.operators import to_text
from reconciler.expressions.values import Reference, fail, type_name

_CASES = ("CaseInsensitive", "CaseSensitive")


@function("Contains", "mv, str, enum?", group="Multi-valued", enums={2: _CASES})
def contains(values: list[Any], search: str, case: str | None = None) -> int:
    """The 1-based index of the first value containing ``search`` (a reference must equal it); 0 if none."""
    insensitive = False
    if case is not None:
        key = case.lower()
        if key not in ("caseinsensitive", "casesensitive"):
            fail("Contains", f"the case type must be CaseInsensitive or CaseSensitive, got {case!r}")
        insensitive = key == "caseinsensitive"
    needle = search.lower() if insensitive else search
    for index, value in enumerate(values, start=1):
        if not isinstance(value, str):
            fail("Contains", f"argument 1 must hold strings or references, got {type_name(value)}")
        hay = value.lower() if insensitive else value
        if isinstance(value, Reference):
            if hay == needle:
                return index
        elif needle in hay:
            return index
    return 0


@function("Count", "mv", group="Multi-valued")
def count(values: list[Any]) -> int:
    return len(values)


@function("Item", "mv, num", group="Multi-valued")
def item(values: list[Any], index: int) -> Any:
    if not 1 <= index <= len(values):
        fail("Item", f"index {index} is out of bounds (the attribute has {len(values)} values)")
    return values[index - 1]


@function("ItemOrNull", "mv, num", group="Multi-valued")
def item_or_null(values: list[Any], index: int) -> Any:
    if not 1 <= index <= len(values):
        return None
    return values[index - 1]


@function("Join", "mv, str?", group="Multi-valued", nulls=True)
def join(values: list[Any], delimiter: str | None = " ") -> str | None:
    """The values joined by ``delimiter`` (a space when omitted, nothing when NULL or "")."""
    if not values:
        return None
    return (delimiter or "").join(to_text("Join", v) for v in values)


@function("RemoveDuplicates", "mv", group="Multi-valued")
def remove_duplicates(values: list[Any]) -> list[Any]:
    seen: set[Any] = set()
    out = []
    for value in values:
        if value not in seen:
            seen.add(value)
            out.append(value)
    return out


@function("Split", "str, str, num?", group="Multi-valued")
def split(value: str, delimiter: str, limit: int | None = None) -> list[str]:
    """The parts of ``value`` between delimiters; with ``limit``, at most that many (the last keeps the rest)."""
    if limit is not None and limit < 1:
        fail("Split", f"limit must be 1 or more, got {limit}")
    if not delimiter:
        return [value]
    if limit is None:
        return value.split(delimiter)
    return value.split(delimiter, limit - 1)
