"""The links a synchronization remembers (store/link_memo.py) never change an answer of the store.

Any sequence of writes, deletes, commits, rollbacks and dry runs, with the memo on, leaves ``mv_ids_of_cs``,
``cs_ids_by_mv`` and ``cs_by_mv`` answering exactly what the tables say; and what the run wrote is answered
without a query, which is what makes reference lookups at a million people cheap.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from reconciler.engine.objects import NORMAL, PLACEHOLDER, CSObject
from reconciler.store import SqliteStore

CONNECTORS = ["hr", "ad", "groups"]

# (operation, connector or object pick, MV pick, kind)
OPS = st.lists(
    st.tuples(
        st.sampled_from(["new", "new", "link", "save", "delete", "mv", "commit", "rollback", "dry"]),
        st.integers(0, 50),
        st.integers(-1, 50),  # -1: no MV object
        st.sampled_from([NORMAL, NORMAL, PLACEHOLDER]),
    ),
    max_size=40,
)


def _truth(store: SqliteStore, call: Any, *args: Any) -> Any:
    """The answer from the tables alone."""
    memo, store._links = store._links, None
    try:
        return call(*args)
    finally:
        store._links = memo


def _check(store: SqliteStore, cs_top: int, mv_top: int) -> None:
    cs_ids = list(range(1, cs_top + 3))
    assert store.mv_ids_of_cs(cs_ids) == _truth(store, store.mv_ids_of_cs, cs_ids)
    mv_ids = list(range(1, mv_top + 3))
    for conns in (None, ["hr"], ["ad", "groups"], CONNECTORS):
        got = sorted(store.cs_ids_by_mv(mv_ids, conns))
        assert got == sorted(_truth(store, store.cs_ids_by_mv, mv_ids, conns)), conns
        whole = {m: sorted(o.id for o in objs) for m, objs in store.cs_by_mv(mv_ids, conns).items()}  # type: ignore[misc]
        truth = _truth(store, store.cs_by_mv, mv_ids, conns)
        assert whole == {m: sorted(o.id for o in objs) for m, objs in truth.items()}, conns


@settings(max_examples=80, deadline=None)
@given(OPS)
def test_any_writes_leave_the_answers_of_the_tables(ops: list[tuple[str, int, int, int]]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        store = SqliteStore(Path(tmp) / "state.db")
        # links older than the run: the memo must ask the store about these MV objects
        old_mv = store.new_mv_ids(3)
        store.save_cs([CSObject(connector=c, object_type="user", dn=f"cn=old{i}", id=store.new_cs_ids(1)[0],
                                mv_id=old_mv[i % 3]) for i, c in enumerate(CONNECTORS * 2)], new=True)  # fmt: skip
        store.commit()
        store.remember_links(True)
        mvs = list(old_mv) + store.new_mv_ids(2)
        objs: dict[int, CSObject] = {}
        for op, pick, mv_pick, kind in ops:
            mv_id = None if mv_pick < 0 else mvs[mv_pick % len(mvs)]
            ids = sorted(objs)
            cs = objs[ids[pick % len(ids)]] if ids else None
            if op == "new" or cs is None:
                cs = CSObject(connector=CONNECTORS[pick % 3], object_type="user", dn=f"cn={pick}",
                              id=store.new_cs_ids(1)[0], mv_id=mv_id, kind=kind)  # fmt: skip
                store.save_cs([cs], new=True)
                objs[cs.id] = cs  # type: ignore[index]
            elif op == "link":
                cs.mv_id = mv_id
                store.save_cs_links([cs])
            elif op == "save":
                cs.mv_id, cs.kind = mv_id, kind
                store.save_cs([cs])
            elif op == "delete":
                store.delete_cs([cs.id])  # type: ignore[list-item]
                del objs[cs.id]  # type: ignore[arg-type]
            elif op == "mv":
                mvs += store.new_mv_ids(1)
            elif op == "commit":
                store.commit()
            elif op == "dry":  # a plan: written, read, rolled back
                with store.dry_run():
                    cs.mv_id = mv_id
                    store.save_cs_links([cs])
                    _check(store, store._next_cs, store._next_mv)
                objs = {i: o for i, o in store.cs_by_ids(list(objs)).items()}
            else:
                store.rollback()
                objs = {i: o for i, o in store.cs_by_ids(list(objs)).items()}
                mvs = [m for m in mvs if m < store._next_mv] or list(old_mv)
            _check(store, store._next_cs, store._next_mv)
        store.close()


def test_what_the_run_wrote_is_answered_without_a_query(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "state.db")
    store.remember_links(True)
    people = store.new_mv_ids(3)
    objs = [CSObject(connector=c, object_type="user", dn=f"cn={c}{m}", id=store.new_cs_ids(1)[0], mv_id=m)
            for m in people for c in ("hr", "ad")]  # fmt: skip
    store.save_cs(objs, new=True)
    statements: list[str] = []
    store.conn.set_trace_callback(statements.append)
    assert store.mv_ids_of_cs([o.id for o in objs]) == {o.id: o.mv_id for o in objs}  # type: ignore[misc]
    assert sorted(store.cs_ids_by_mv(people, ["ad"])) == sorted(
        (o.mv_id, o.id, "ad", NORMAL) for o in objs if o.connector == "ad")  # fmt: skip
    assert statements == []
    store.remember_links(False)
    assert store.mv_ids_of_cs([o.id for o in objs]) == {o.id: o.mv_id for o in objs}  # type: ignore[misc]
    assert statements, "without the memo the store asks its tables"
    store.close()
