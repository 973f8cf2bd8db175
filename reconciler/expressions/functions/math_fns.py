"""Math: BitAnd, BitOr, RandomNum."""

from __future__ import annotations

import random

from reconciler.expressions.functions import function
from reconciler.expressions.values import fail

_random = random.SystemRandom()


@function("BitAnd", "num, num", group="Math")
def bit_and(value1: int, value2: int) -> int:
    return value1 & value2


@function("BitOr", "num, num", group="Math")
def bit_or(value1: int, value2: int) -> int:
    return value1 | value2


@function("RandomNum", "num, num", group="Math", pure=False)
def random_num(start: int, end: int) -> int:
    """A random integer from start to end, both included."""
    if end < start:
        fail("RandomNum", f"the end ({end}) is below the start ({start})")
    return _random.randint(start, end)
