"""Opening a playbook and its state for one command, holding the run lock for its whole duration."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from reconciler.playbook.model import Playbook


@contextmanager
def opened(path: str) -> Iterator[tuple[Playbook, Any]]:
    """(playbook, store) with the state locked; the lock is released and the store closed at the end."""
    from reconciler.engine import open_state
    from reconciler.playbook import load_playbook

    playbook = load_playbook(path)
    store = open_state(playbook)
    try:
        with store.lock():
            yield playbook, store
    finally:
        store.close()
