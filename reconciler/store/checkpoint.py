"""Checkpoints of the state's write-ahead log, run on a thread beside the engine.

In WAL mode a commit appends the pages it changed to the log; a checkpoint copies them into the
database file and syncs it. SQLite runs that copy inside whichever commit crosses
``wal_autocheckpoint``, so the engine waited for it: at 100,000 people it was half the commit time of
a full synchronization. A checkpoint is one call into SQLite, which releases the GIL for all of it,
so a thread with a connection of its own runs it on the second core while the engine goes on.

PASSIVE checkpoints never block the engine's writes. The engine's connection keeps its own
autocheckpoint as the bound on the log, should this thread fall behind or fail. A kill during a
checkpoint loses nothing: SQLite's log stays valid until the copy is complete.
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
from pathlib import Path

#: rows written since the last checkpoint that make the next commit wake the thread (a run of small
#: commits, most of the test suite, never starts it)
WAKE_AFTER_ROWS = 2_000


class Checkpointer:
    """A daemon thread that runs a PASSIVE checkpoint of one state file each time it is woken."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._wake = threading.Event()
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name="reconciler-checkpoint", daemon=True)
        self._thread.start()

    def wake(self) -> None:
        self._wake.set()

    def stop(self) -> None:
        """Finish the checkpoint in progress, if any, and end the thread (its connection closes first, so
        the engine's connection is the last one and its close takes the log away)."""
        self._stopping = True
        self._wake.set()
        self._thread.join()

    def _run(self) -> None:
        try:
            conn = sqlite3.connect(str(self._path), isolation_level=None, check_same_thread=False)
        except sqlite3.Error:
            return  # the engine's own autocheckpoint does the work
        try:
            while True:
                self._wake.wait()
                self._wake.clear()
                if self._stopping:
                    return
                # busy, or the file went away: the next wake or the engine's own autocheckpoint tries
                with contextlib.suppress(sqlite3.Error):
                    conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
        finally:
            conn.close()
