"""Python's cyclic garbage collector paused while a stage runs.

A run allocates millions of small objects that live for a batch or for the whole run (the MV
cache), and the collector's full passes walk all of them again and again: a 100,000-person full
sync spent a third of its time there. The engine's objects hold no reference cycles, so each stage
runs with the collector off; it is switched back on (and catches up) when the stage ends.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import wraps
from typing import Any, TypeVar

F = TypeVar("F", bound=Callable[..., Any])


@contextmanager
def paused_gc() -> Iterator[None]:
    if not gc.isenabled():  # nested, or the host program manages the collector itself
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def gc_paused(fn: F) -> F:
    """Decorator form of ``paused_gc`` for the engine's stage entry points."""

    @wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with paused_gc():
            return fn(*args, **kwargs)

    return wrapper  # type: ignore[return-value]
