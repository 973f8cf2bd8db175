"""Group members resolved through another connector's map read whole, and the lookups it replaces.

A full import of groups names most people: the import reads the people's key index once instead of
looking each member up (``ReferenceResolver._read_whole``). Both ways must name the same objects.
"""

from __future__ import annotations

import sqlite3
import tempfile
from pathlib import Path

import pytest
from engine_lab import Lab
from hypothesis import given, settings
from hypothesis import strategies as st

from reconciler.engine.objects import PLACEHOLDER, CSObject
from reconciler.store import SqliteStore

GROUPS_PLAYBOOK = """
version: 1
metaverse:
  person: {employeeId: {type: string}}
  group: {groupId: {type: string}, member: {type: reference, multivalued: true}}
connectors:
  people: {type: csv, path: people.csv, object_type: person, anchor: employeeId}
  groups: {type: csv, path: groups.csv, object_type: group, anchor: groupId, multivalue_separator: ";",
           references: {member: {connector: people, key: employeeId}}}
sync_rules:
  - {name: In people, connector: people, direction: inbound, cs_type: person, mv_type: person, precedence: 100,
     join: [[{cs: employeeId, mv: employeeId}]], project: true, flows: [{mv: employeeId, cs: employeeId}]}
  - {name: In groups, connector: groups, direction: inbound, cs_type: group, mv_type: group, precedence: 100,
     join: [[{cs: groupId, mv: groupId}]], project: true,
     flows: [{mv: groupId, cs: groupId}, {mv: member, cs: member}]}
"""


def _members(lab: Lab) -> dict[str, list[tuple[str, int]]]:
    """group -> (member's DN, kind) as the state links them."""
    conn = sqlite3.connect(lab.root / ".reconciler" / "state.db")  # the playbook's default state
    try:
        rows = conn.execute(
            "SELECT g.anchor, t.dn, t.kind FROM cs_ref r JOIN cs g ON g.id = r.src LEFT JOIN cs t ON t.id = r.dst "
            "ORDER BY g.anchor, t.dn"
        ).fetchall()
    finally:
        conn.close()
    out: dict[str, list[tuple[str, int]]] = {}
    for group, dn, kind in rows:
        out.setdefault(group, []).append((dn, kind))
    return out


@pytest.mark.parametrize("people", [3, 200])  # 200: a group names too few of them to read the map whole
def test_members_name_the_people_and_placeholders_stand_for_the_missing(lab: Lab, people: int) -> None:
    lab.playbook(GROUPS_PLAYBOOK)
    lab.csv("people.csv", [{"employeeId": f"P{i}"} for i in range(people)])
    lab.csv("groups.csv", [{"groupId": "g1", "member": "P0;p1;ghost"}, {"groupId": "g2", "member": "P2"}])
    with lab.engine() as eng:
        eng.import_connector("people", True)
        eng.import_connector("groups", True)
    members = _members(lab)
    assert members["g1"] == [("employeeId=P0", 0), ("employeeId=P1", 0), ("employeeId=ghost", PLACEHOLDER)]
    assert members["g2"] == [("employeeId=P2", 0)]


def test_a_placeholder_deleted_mid_run_is_not_named_by_a_later_batch(lab: Lab, monkeypatch: pytest.MonkeyPatch
                                                                     ) -> None:  # fmt: skip
    lab.playbook(GROUPS_PLAYBOOK)
    lab.csv("people.csv", [{"employeeId": "P0"}])
    lab.csv("groups.csv", [{"groupId": "g1", "member": "P0;ghost"}])
    with lab.engine() as eng:
        eng.import_connector("people", True)
        eng.import_connector("groups", True)
    # one group a batch: g1 drops the ghost (its placeholder, named by nothing now, is deleted), then g2
    # names the ghost again and needs a placeholder that exists
    monkeypatch.setenv("RECONCILER_BATCH_SIZE", "1")
    lab.csv("groups.csv", [{"groupId": "g1", "member": "P0"}, {"groupId": "g2", "member": "ghost"}])
    with lab.engine() as eng:
        eng.import_connector("groups", True)
    members = _members(lab)
    assert members["g1"] == [("employeeId=P0", 0)]
    assert members["g2"] == [("employeeId=ghost", PLACEHOLDER)]  # a LEFT JOIN: a dangling link shows None


_KEYS = st.sampled_from(["a", "b", "c", "d"])
_OBJECT = st.tuples(st.sampled_from(["people", "other"]), _KEYS, st.sampled_from([0, 0, 1, 2]))


@settings(max_examples=40, deadline=None)
@given(st.lists(_OBJECT, max_size=14))
def test_reading_a_map_whole_finds_what_lookups_find(objects: list[tuple[str, str, int]]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        store = SqliteStore(Path(tmp) / "state.db")
        try:
            ids = store.new_cs_ids(len(objects)) if objects else []
            store.save_cs([CSObject(c, "person", f"k={k}", i, anchor=k if kind != PLACEHOLDER else None, key_norm=k,
                                    kind=kind) for i, (c, k, kind) in zip(ids, objects)], new=True)  # fmt: skip
            store.commit()
            for column in ("key_norm", "anchor", "dn_norm"):
                values = ["a", "b", "c", "d"] if column != "dn_norm" else ["k=a", "k=b", "k=c", "k=d"]
                assert store.cs_ids_all("people", column) == store.cs_ids_by("people", column, values)
        finally:
            store.close()


SELF_PLAYBOOK = """
version: 1
metaverse:
  person: {employeeId: {type: string}, manager: {type: reference}}
connectors:
  people: {type: csv, path: people.csv, object_type: person, anchor: employeeId, references: {manager: login}}
sync_rules:
  - {name: In people, connector: people, direction: inbound, cs_type: person, mv_type: person, precedence: 100,
     join: [[{cs: employeeId, mv: employeeId}]], project: true,
     flows: [{mv: employeeId, cs: employeeId}, {mv: manager, cs: manager}]}
"""


def _managers(lab: Lab) -> dict[str, tuple[str, int]]:
    """person -> (the DN their manager link names, its kind)."""
    conn = sqlite3.connect(lab.root / ".reconciler" / "state.db")
    try:
        rows = conn.execute("SELECT s.anchor, t.dn, t.kind FROM cs_ref r JOIN cs s ON s.id = r.src "
                            "JOIN cs t ON t.id = r.dst").fetchall()  # fmt: skip
    finally:
        conn.close()
    return {person: (dn, kind) for person, dn, kind in rows}


@pytest.mark.parametrize("first", [True, False])
def test_a_connectors_own_references_follow_its_objects_as_the_import_changes_them(
    lab: Lab, monkeypatch: pytest.MonkeyPatch, first: bool
) -> None:
    """The connector being imported is never read whole (its objects change as the import runs): managers
    in later batches link to the people, and a login that changed in an earlier batch of the same run
    names a placeholder, not its former holder."""
    monkeypatch.setenv("RECONCILER_BATCH_SIZE", "2")
    lab.playbook(SELF_PLAYBOOK)
    if not first:
        lab.csv("people.csv", [{"employeeId": "1", "login": "ada", "manager": ""}, {"employeeId": "2", "login": "bob"}])
        with lab.engine() as eng:
            eng.import_connector("people", True)
    # 3 and 4 name managers that come in the next batch; 1's login changes from ada to lovelace before 5
    # (in the last batch) names ada
    lab.csv("people.csv", [{"employeeId": "1", "login": "lovelace"}, {"employeeId": "3", "login": "cy", "manager": "dee"},
                           {"employeeId": "4", "login": "dee", "manager": "eve"}, {"employeeId": "6", "login": "eve"},
                           {"employeeId": "5", "login": "eli", "manager": "ada"}])  # fmt: skip
    with lab.engine() as eng:
        eng.import_connector("people", True)
    managers = _managers(lab)
    assert managers["3"] == ("employeeId=4", 0) and managers["4"] == ("employeeId=6", 0)
    assert managers["5"] == ("login=ada", PLACEHOLDER)
