"""The state store: connector spaces, metaverse, links, pending changes, export memory, run history."""

from __future__ import annotations

from pathlib import Path

from reconciler.store.base import StateStore
from reconciler.store.lock import RunLock
from reconciler.store.sqlite import SqliteStore

__all__ = ["RunLock", "SqliteStore", "StateStore", "open_store"]


def open_store(path: Path) -> SqliteStore:
    """Open (creating and migrating) the state at ``path``."""
    return SqliteStore(path)
