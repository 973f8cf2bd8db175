"""The state's log is checkpointed on a thread of its own once a run writes in large batches."""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

from reconciler.engine.objects import CSObject
from reconciler.store import SqliteStore
from reconciler.store.checkpoint import WAKE_AFTER_ROWS


def _write(store: SqliteStore, n: int, tag: str = "p") -> None:
    ids = store.new_cs_ids(n)
    store.save_cs([CSObject("hr", "person", f"uid={tag}{i}", i, attrs={"cn": f"{tag}{i}", "note": "x" * 300})
                   for i in ids], new=True)  # fmt: skip
    store.commit()


def _checkpoint_threads() -> int:
    return sum(1 for t in threading.enumerate() if t.name == "reconciler-checkpoint" and t.is_alive())


def test_a_large_batch_reaches_the_database_file_without_the_engine_copying_it(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    store = SqliteStore(path)
    try:
        before = path.stat().st_size
        _write(store, WAKE_AFTER_ROWS + 500)
        # in WAL mode only a checkpoint writes the database file, and this commit is far below the
        # engine's own autocheckpoint (64 MB of log): the thread copied it
        deadline = time.monotonic() + 20
        while path.stat().st_size < before + 500_000 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert path.stat().st_size >= before + 500_000
        wal_pages = store.conn.execute("PRAGMA wal_autocheckpoint").fetchone()[0]
        assert wal_pages * 4096 > 100 * 1024 * 1024  # the engine's own checkpoint is the bound only
    finally:
        store.close()


def test_small_commits_start_no_thread_and_close_ends_it(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    running = _checkpoint_threads()
    store = SqliteStore(path)
    for k in range(3):
        _write(store, 10, tag=f"s{k}")
    assert _checkpoint_threads() == running
    _write(store, WAKE_AFTER_ROWS, tag="big")
    assert _checkpoint_threads() == running + 1
    store.close()
    assert _checkpoint_threads() == running
    # the engine's connection closed last, so the log was folded in and removed
    assert not path.with_name("state.db-wal").exists()
    again = SqliteStore(path)
    try:
        assert again.conn.execute("SELECT COUNT(*) FROM cs").fetchone()[0] == 30 + WAKE_AFTER_ROWS
    finally:
        again.close()


WRITER = """
import sys
from pathlib import Path
from reconciler.engine.objects import CSObject
from reconciler.store import SqliteStore
store = SqliteStore(Path(sys.argv[1]))
batch = int(sys.argv[2])
for k in range(1000):
    ids = store.new_cs_ids(batch)
    store.save_cs([CSObject("hr", "person", f"uid={k}.{i}", i, attrs={"note": "y" * 400}) for i in ids], new=True)
    store.commit()
    print(k, flush=True)
"""


def test_a_kill_while_the_thread_checkpoints_leaves_whole_batches(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    batch = 5_000
    proc = subprocess.Popen([sys.executable, "-c", WRITER, str(path), str(batch)], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    committed = 0
    for line in proc.stdout:
        committed = int(line) + 1
        if committed >= 6:  # the thread has been woken five times: some checkpoint is likely under way
            break
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    conn = sqlite3.connect(path)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        rows = conn.execute("SELECT COUNT(*) FROM cs").fetchone()[0]
    finally:
        conn.close()
    assert rows % batch == 0 and rows >= committed * batch  # nothing committed lost, no half batch
