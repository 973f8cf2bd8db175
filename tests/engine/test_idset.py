"""IdSet answers like a set of ids (it replaces sets of millions of ints in full syncs)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from reconciler.engine.idset import IdSet

ids = st.lists(st.integers(min_value=0, max_value=5000), max_size=200)


@given(ids, ids)
def test_idset_behaves_like_a_set(added: list[int], probe: list[int]) -> None:
    s = IdSet(added[: len(added) // 2])
    s.update(added[len(added) // 2 :])
    ref = set(added)
    assert len(s) == len(ref)
    assert all((i in s) == (i in ref) for i in probe + added + [-1, 10**9])
    assert set(probe) - s == set(probe) - ref
    assert set(probe) & s == set(probe) & ref


@given(ids, st.lists(st.integers(min_value=-3, max_value=6000), max_size=200))
def test_the_bulk_tests_keep_order_and_answer_like_in(added: list[int], probe: list[int]) -> None:
    s = IdSet(added)
    assert s.among(probe) == [i for i in probe if i in s]
    assert s.not_among(probe) == [i for i in probe if i not in s]
    assert s.among(probe) == [i for i in probe if i in set(added)]
