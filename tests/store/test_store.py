"""The state store: migrations, the run lock across processes, dry runs, the state version."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from itertools import pairwise
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from reconciler.engine.objects import CSObject, MVObject
from reconciler.errors import StateLockedError, StateVersionError
from reconciler.store import SqliteStore
from reconciler.store.rows import SPAN, id_runs, spans
from reconciler.store.schema import MIGRATIONS, SCHEMA_VERSION

HOLD = """
import sys, time
from pathlib import Path
from reconciler.store import SqliteStore
s = SqliteStore(Path(sys.argv[1]))
s.lock().acquire()
print("locked", flush=True)
time.sleep(60)
"""


def _holder(state: Path) -> subprocess.Popen[str]:
    proc = subprocess.Popen([sys.executable, "-c", HOLD, str(state)], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "locked"
    return proc


def test_migrations_run_once_and_are_recorded(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    store = SqliteStore(path)
    assert store.applied_migrations() == [name for name, _ in MIGRATIONS]
    assert store.get_meta("schema_version") == str(SCHEMA_VERSION)
    store.close()
    again = SqliteStore(path)
    assert again.migrate() == []  # nothing left to apply
    mode = again.conn.execute("PRAGMA journal_mode").fetchone()[0]
    assert mode == "wal"
    again.close()


def test_a_state_from_a_newer_reconciler_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    SqliteStore(path).close()
    conn = sqlite3.connect(path)
    conn.execute("INSERT INTO migrations VALUES ('9999_future', 'now')")
    conn.commit()
    conn.close()
    with pytest.raises(StateVersionError, match="newer reconciler"):
        SqliteStore(path)


def test_second_run_is_refused_naming_the_holder(tmp_path: Path) -> None:
    state = tmp_path / "state.db"
    proc = _holder(state)
    try:
        store = SqliteStore(state)
        with pytest.raises(StateLockedError) as info:
            store.lock().acquire()
        msg = info.value.one_line()
        assert f"pid {proc.pid}" in msg and "since" in msg and os.uname().nodename in msg
        assert info.value.exit_code == 1
        assert info.value.pid == proc.pid and info.value.host == os.uname().nodename
        assert info.value.since is not None and info.value.since.endswith("Z")
    finally:
        proc.kill()
        proc.wait()


def test_a_killed_holder_never_blocks_the_next_run(tmp_path: Path) -> None:
    state = tmp_path / "state.db"
    proc = _holder(state)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    store = SqliteStore(state)
    with store.lock():  # acquired at once: the kernel released the dead process's lock
        assert store.lock().held
    assert not store.lock().held


def test_dry_run_commits_nothing_and_keeps_the_state_version(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "state.db")
    cs = CSObject(connector="hr", object_type="person", dn="employeeId=1", anchor="1", attrs={"a": "x"})
    cs.id = store.new_cs_ids(1)[0]
    store.save_cs([cs], new=True)
    store.commit()
    version = store.state_version()
    assert version >= 1
    with store.dry_run():
        mv = MVObject(object_type="person", attrs={"a": "x"})
        mv.id = store.new_mv_ids(1)[0]
        store.save_mv([mv], new=True)
        store.commit()  # a batch boundary inside a dry run commits nothing
        cs.attrs = {"a": "changed"}
        store.save_cs([cs])
        store.commit()
        assert store.count_mv() == 1
    assert store.count_mv() == 0
    assert store.cs_by_ids([cs.id])[cs.id].attrs == {"a": "x"}
    assert store.state_version() == version
    # ids handed out in the dry run are handed out again afterwards
    assert store.new_mv_ids(1) == [1]


def test_state_version_moves_on_every_committed_change(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "state.db")
    v0 = store.state_version()
    store.set_meta("x", "1")
    store.commit()
    v1 = store.state_version()
    store.commit()  # nothing changed
    assert store.state_version() == v1 > v0
    store.set_meta("x", "2")
    store.commit()
    assert store.state_version() == v1 + 1


def test_lookups_by_anchor_dn_key_and_link(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "state.db")
    objs = []
    for i, ident in enumerate(store.new_cs_ids(3)):
        o = CSObject(
            connector="hr",
            object_type="person",
            dn=f"CN=User {i}, OU=People",
            anchor=str(i),
            key_norm=f"k{i}",
            mv_id=100 + i,
        )
        o.id = ident
        objs.append(o)
    store.save_cs(objs, new=True)
    store.commit()
    assert store.cs_by_anchors("hr", ["1"])["1"].dn == "CN=User 1, OU=People"
    assert list(store.cs_by_dns("hr", ["cn=user 2,ou=people"])) == ["cn=user 2,ou=people"]
    assert store.cs_by_keys("hr", ["k0"])["k0"].anchor == "0"
    assert [o.anchor for o in store.cs_by_mv([101])[101]] == ["1"]
    assert store.cs_by_anchors("other", ["1"]) == {}


def test_lock_is_fast_to_acquire_and_release(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "state.db")
    start = time.perf_counter()
    for _ in range(50):
        with store.lock():
            pass
    assert time.perf_counter() - start < 1


@pytest.mark.parametrize("shape", ["imported", "provisioned", "any"])
def test_an_object_reads_back_as_it_was_written(tmp_path: Path, shape: str) -> None:
    # every column comes back into its own field, whichever insert shape stored it (rows.py)
    store = SqliteStore(tmp_path / "state.db")
    full = CSObject(connector="ldap", object_type="user", dn="CN=Ann,DC=x", id=7, guid="g-1", anchor="a-1",
                    key_norm="k-1", kind=0, attrs={"cn": "Ann", "n": [1, 2]}, hash="h-1", pending_import="update",
                    pi_attrs=["cn"], pending_export={"op": "update", "attrs": {"cn": "Bo"}},
                    export_memory={"cn": {"v": "Bo", "s": "a"}}, export_state="exported", mv_id=3,
                    link_kind="join", link_rule="In", import_error="ie", export_error="ee", sync_error="se",
                    resync=True)  # fmt: skip
    if shape == "imported":
        obj = CSObject(connector="hr", object_type="person", dn="e=1", id=8, guid="g-2", anchor="1", key_norm="k",
                       attrs={"e": "1"}, hash="h", pending_import="add", pi_attrs=["e"])  # fmt: skip
    elif shape == "provisioned":
        obj = CSObject(connector="dir", object_type="user", dn="uid=1", id=9, guid="g-3",
                       pending_export={"op": "add", "rule": "Out"}, mv_id=4, link_kind="provision",
                       link_rule="Out")  # fmt: skip
    else:
        obj = full
    store.save_cs([obj], new=True)
    store.commit()
    assert store.cs_by_ids([obj.id]) == {obj.id: obj}  # type: ignore[dict-item]
    store.close()


@given(st.sets(st.integers(min_value=1, max_value=60)))
def test_id_runs_cover_exactly_the_ids(ids: set[int]) -> None:
    runs = id_runs(ids)
    assert [i for first, last in runs for i in range(first, last + 1)] == sorted(ids)
    assert all(later[0] > earlier[1] + 1 for earlier, later in pairwise(runs))  # neither touch nor overlap


def test_clearing_marks_clears_those_objects_only(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "state.db")
    store.save_mv([MVObject("person", id=i, dirty=True) for i in range(1, 11)], new=True)
    store.clear_mv_marks([2, 3, 4, 7, 9])
    store.commit()
    assert store.dirty_mv_ids() == [1, 5, 6, 8, 10]
    store.close()


@given(st.sets(st.integers(min_value=1, max_value=3 * SPAN)))
def test_spans_split_ids_into_long_runs_and_the_rest(ids: set[int]) -> None:
    ranges, scattered = spans(ids)
    assert sorted([i for first, last in ranges for i in range(first, last + 1)] + scattered) == sorted(ids)
    assert all(last - first + 1 >= SPAN for first, last in ranges)


def test_metaverse_objects_read_by_ids_in_runs_and_alone(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "state.db")
    store.save_mv([MVObject("person", id=i, attrs={"n": i}) for i in range(1, 3 * SPAN)], new=True)
    wanted = [*range(5, 5 + SPAN + 10), 2 * SPAN + 3, 2 * SPAN + 7, 10**6]  # a long run, two alone, one missing
    got = store.mv_by_ids(wanted)
    assert sorted(got) == wanted[:-1]
    assert all(mv.attrs == {"n": i} for i, mv in got.items())
    store.close()


def test_objects_and_references_read_by_ids_in_runs_and_alone(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "state.db")
    n = 3 * SPAN
    store.save_cs([CSObject("hr", "person", f"e={i}", id=i, guid=f"g{i}", attrs={"n": str(i)}) for i in range(1, n)],
                  new=True)  # fmt: skip
    store.add_refs({i: [("manager", i + 1), ("member", 1)] for i in range(1, n - 1)})
    wanted = [*range(5, 5 + SPAN + 10), 2 * SPAN + 3, 2 * SPAN + 7, 10**6]  # a long run, two alone, one missing
    got = store.cs_by_ids(wanted)
    assert sorted(got) == wanted[:-1] and all(o.attrs == {"n": str(i)} for i, o in got.items())
    refs = store.refs_of(wanted)
    assert {i: sorted(r) for i, r in refs.items()} == {i: [("manager", i + 1), ("member", 1)] for i in wanted[:-1]}
    store.close()
