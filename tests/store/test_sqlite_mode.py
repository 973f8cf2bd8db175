"""SQLite set up for the reconciler's own process: multi-thread mode without memory statistics, only when
no connection is open (each case in a fresh interpreter: the settings are process-wide)."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="the settings are made on Linux only")

PRELUDE = """
import ctypes, sqlite3, _sqlite3
from reconciler.store.sqlite_mode import multithread_for_process
lib = ctypes.CDLL(_sqlite3.__file__)
lib.sqlite3_memory_used.restype = ctypes.c_int64
"""


def run(code: str, tmp_path: Path) -> list[str]:
    done = subprocess.run([sys.executable, "-c", PRELUDE + textwrap.dedent(code)], capture_output=True, text=True,
                          cwd=tmp_path, timeout=60)  # fmt: skip
    assert done.returncode == 0, done.stderr
    return done.stdout.splitlines()


def test_a_fresh_process_is_set_up_and_the_engine_runs_in_it(tmp_path: Path) -> None:
    out = run("""
        print(multithread_for_process())
        from reconciler.store import SqliteStore
        store = SqliteStore(__import__("pathlib").Path("state.db"))
        store.set_meta("k", "v"); store.commit()
        print(store.get_meta("k"), lib.sqlite3_memory_used())  # statistics off: nothing is counted
        store.close()
        print(multithread_for_process())  # once per process
    """, tmp_path)  # fmt: skip
    assert out == ["None", "v 0", "None"]


def test_an_open_connection_is_left_alone(tmp_path: Path) -> None:
    out = run("""
        conn = sqlite3.connect("other.db")
        conn.execute("CREATE TABLE t (x)")
        print(multithread_for_process())
        conn.execute("INSERT INTO t VALUES (1)")  # still works: the library was not shut down under it
        print(conn.execute("SELECT count(*) FROM t").fetchone()[0], lib.sqlite3_memory_used() > 0)
    """, tmp_path)  # fmt: skip
    assert out == ["a connection was already open", "1 True"]
