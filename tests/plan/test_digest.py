"""Digests and plan-file text are the same whichever encoder writes them: a plan saved by an earlier version
stays valid."""

from __future__ import annotations

import datetime as dt
import json

from hypothesis import given, settings
from hypothesis import strategies as st

from reconciler.plan.digest import canonical, change_digest, compact, compact_change, jsonable, sha256_json
from reconciler.plan.model import AttributeDelta, PlannedChange
from reconciler.plan.planfile import _change_doc

from .samples import mixed

SCALARS = (st.none() | st.booleans() | st.integers() | st.text() | st.floats(allow_nan=False)
           | st.datetimes() | st.binary(max_size=8))  # fmt: skip
VALUES = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=4)
                      | st.dictionaries(st.text(max_size=5), inner, max_size=3), max_leaves=8)  # fmt: skip


@st.composite
def changes(draw: st.DrawFn) -> PlannedChange:
    deltas = []
    for name in draw(st.lists(st.text(min_size=1, max_size=6), max_size=4, unique_by=str.lower)):
        multi = draw(st.booleans())
        if multi:
            before, after = draw(st.lists(VALUES, max_size=3)), draw(st.lists(VALUES, max_size=3))
        else:
            before, after = draw(VALUES), draw(VALUES)
        deltas.append(AttributeDelta(name, before, after, multivalued=multi))
    return PlannedChange(
        connector=draw(st.text(min_size=1, max_size=5)), op="update", object_type="person",
        dn=draw(st.text(min_size=1, max_size=20)), anchor=draw(st.none() | st.text(max_size=5)),
        new_dn=draw(st.none() | st.text(max_size=20)), attributes=deltas,
    )  # fmt: skip


def reference_form(change: PlannedChange) -> dict[str, object]:
    """The canonical form as every version so far defined it, spelled out here so that a faster
    ``canonical`` is checked against it: multi-values as sorted sets, other values as plain JSON."""

    def values(value: object, multivalued: bool) -> object:
        if multivalued and isinstance(value, list | tuple | set | frozenset):
            items = [jsonable(v) for v in value]
            if all(type(v) is str for v in items):
                return sorted(items)  # type: ignore[type-var]
            return sorted(items, key=lambda v: json.dumps(v, sort_keys=True, default=str))
        return jsonable(value)

    deltas = [{"name": d.name, "before": values(d.before, d.multivalued), "after": values(d.after, d.multivalued),
               "added": values(d.added, True) if d.added else [],
               "removed": values(d.removed, True) if d.removed else []}
              for d in change.attributes]  # fmt: skip
    return {"connector": change.connector, "op": change.op, "object_type": change.object_type, "dn": change.dn,
            "new_dn": change.new_dn, "anchor": change.anchor,
            "attributes": sorted(deltas, key=lambda a: str(a["name"]).lower())}  # fmt: skip


def reference_digest(change: PlannedChange) -> str:
    """The digest as every version so far defined it: the standard library's JSON of the canonical form."""
    assert canonical(change) == reference_form(change)
    return sha256_json(reference_form(change))


@settings(max_examples=400, deadline=None)
@given(changes())
def test_a_digest_is_the_standard_librarys_whatever_the_values(change: PlannedChange) -> None:
    try:
        expected = reference_digest(change)
    except UnicodeEncodeError:  # a lone surrogate: no digest either way
        return
    assert change_digest(change) == expected


def test_floats_big_integers_and_unusual_text_take_the_same_digest() -> None:
    # the values orjson would write differently (1e+16 / 1e16) or refuses (past 64 bits) are detected
    odd = [1e16, 1.5e-07, 2**70, -(2**64), "\u2028 \x7f \x00 é", dt.datetime(2026, 1, 2, 3, 4, 5), b"\x00\xff"]
    for value in odd:
        for multi in (False, True):
            after = [value, "x"] if multi else value
            change = PlannedChange("c", "update", "person", "cn=a", attributes=[
                AttributeDelta("v", "old", after, multivalued=multi)])  # fmt: skip
            assert change_digest(change) == reference_digest(change), value
    assert all(change_digest(c) == reference_digest(c) for c in mixed())


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text() | st.floats(allow_nan=False),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=12,
)


@settings(max_examples=400, deadline=None)
@given(JSON_VALUES)
def test_a_plan_files_text_is_the_standard_librarys_whatever_the_values(value: object) -> None:
    # a plan file's checksum is taken over this text: an earlier version's file must check the same
    try:
        expected = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
        expected.encode("utf-8")
    except UnicodeEncodeError:
        return
    assert compact(value) == expected


@settings(max_examples=300, deadline=None)
@given(changes())
def test_a_change_line_is_the_standard_librarys_whatever_the_values(change: PlannedChange) -> None:
    # write_plan writes each change's document with compact_change, which looks only at the values
    doc = _change_doc(change, "0" * 64)
    try:
        expected = json.dumps(doc, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    except UnicodeEncodeError:
        return
    assert compact_change(doc) == expected
