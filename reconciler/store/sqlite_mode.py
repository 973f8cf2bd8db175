"""How the SQLite library is set up for a whole reconciler process (the command line's, a benchmark's).

SQLite as distributions build it is *serialized*: every call on a connection (each step, each column
read) takes that connection's mutex, and every allocation takes a global one to keep memory
statistics. The reconciler never shares a connection between threads (the checkpoint thread opens its
own), so both locks are pure cost: a synchronization of 20,000 people took 4.7 million of them. Set
to *multi-thread* mode without memory statistics, import, synchronization, export and confirming
import ran 3 to 8 % faster.

Both settings are process-wide and can only change while the library holds no connection, so
``multithread_for_process`` is called first thing by the command line, never by the library on
import: an application embedding the reconciler keeps its SQLite as it set it up.
"""

from __future__ import annotations

import sys

_SHUTDOWN_OK = 0
SQLITE_CONFIG_MULTITHREAD = 2
SQLITE_CONFIG_MEMSTATUS = 9

_done: str | None = None  # why a first call left it alone, or "" once set


def multithread_for_process() -> str | None:
    """Put SQLite in multi-thread mode without memory statistics; None once done, else why not (left
    as it was: the reconciler works the same, a little slower)."""
    global _done
    if _done is not None:
        return _done or None
    _done = _configure()
    return _done or None


def _configure() -> str:
    if sys.platform != "linux" or sys.implementation.name != "cpython":
        # sqlite3_config takes variadic arguments, which ctypes passes as Linux's ABIs expect
        return "only done on Linux with CPython"
    try:
        import _sqlite3
        import ctypes

        lib = ctypes.CDLL(_sqlite3.__file__)  # the library this interpreter's sqlite3 module calls
        lib.sqlite3_memory_used.restype = ctypes.c_int64
        memory_used, config = lib.sqlite3_memory_used, lib.sqlite3_config
        shutdown, initialize = lib.sqlite3_shutdown, lib.sqlite3_initialize
    except (ImportError, OSError, AttributeError) as exc:
        return f"the SQLite library cannot be reached ({exc})"
    # memory in use means a connection is open somewhere in this process: shutting down would break it
    if memory_used() != 0:
        return "a connection was already open"
    if not _statistics_kept(memory_used):
        return "memory statistics are off, so open connections cannot be told"
    if shutdown() != _SHUTDOWN_OK:
        return "the library would not shut down"
    ok = config(SQLITE_CONFIG_MULTITHREAD) == 0 and config(SQLITE_CONFIG_MEMSTATUS, ctypes.c_int(0)) == 0
    initialize()
    return "" if ok else "the library refused the settings"


def _statistics_kept(memory_used: object) -> bool:
    """Whether the library counts its memory (the test above means nothing otherwise): a connection
    opened and closed here shows."""
    import sqlite3

    conn = sqlite3.connect(":memory:")
    try:
        conn.execute("SELECT 1").fetchone()
        return bool(memory_used())  # type: ignore[operator]
    finally:
        conn.close()
