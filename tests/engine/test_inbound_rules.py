"""Inbound rules: precedence and takeover, AuthoritativeNull / IgnoreThisFlow, joins, provisioning conflicts."""

from __future__ import annotations

import json

from engine_lab import Lab

BASE = """
version: 1
state: state.db
metaverse:
  person:
    employeeId: {type: string}
    displayName: {type: string}
    title: {type: string}
connectors:
  hr:
    type: csv
    path: hr.csv
    object_type: person
    anchor: employeeId
  badge:
    type: csv
    path: badge.csv
    object_type: person
    anchor: badgeId
  dir:
    type: csv
    path: dir.csv
    object_type: person
    anchor: uid
sync_rules:
  - name: In from HR
    connector: hr
    direction: inbound
    cs_type: person
    mv_type: person
    precedence: 100
    scope: [[{attribute: status, op: EQUAL, value: active}]]
    join: [[{cs: employeeId, mv: employeeId}]]
    project: true
    flows:
      - {mv: employeeId, cs: employeeId}
      - {mv: displayName, cs: name}
      - {mv: title, cs: title}
  - name: In from badge
    connector: badge
    direction: inbound
    cs_type: person
    mv_type: person
    precedence: 50
    scope: [[{attribute: kind, op: EQUAL, value: employee}]]
    join: [[{cs: owner, mv: employeeId}]]
    flows:
      - {mv: displayName, cs: printed}
      - {mv: title, expression: 'IIF([role] = "none", AuthoritativeNull, IIF([role] = "skip", IgnoreThisFlow, [role]))'}
  - name: Out to dir
    connector: dir
    direction: outbound
    mv_type: person
    cs_type: person
    precedence: 100
    provision: true
    flows:
      - {cs: uid, mv: employeeId}
      - {cs: cn, mv: displayName}
      - {cs: title, mv: title}
"""


def setup(lab: Lab) -> None:
    lab.playbook(BASE)
    lab.csv("hr.csv", [{"employeeId": "1", "name": "Ada Lovelace", "title": "Engineer", "status": "active"},
                       {"employeeId": "2", "name": "Alan Turing", "title": "Analyst", "status": "active"},
                       {"employeeId": "3", "name": "Grace Hopper", "title": "Rear Admiral", "status": "active"}])  # fmt: skip
    lab.csv("badge.csv", [{"badgeId": "b1", "owner": "1", "printed": "ADA", "role": "x", "kind": "employee"},
                          {"badgeId": "b2", "owner": "2", "printed": "", "role": "skip", "kind": "employee"},
                          {"badgeId": "b3", "owner": "3", "printed": "", "role": "none", "kind": "employee"}])  # fmt: skip


def dir_rows(lab: Lab) -> dict[str, dict[str, str]]:
    return {r["uid"]: r for r in lab.rows("dir.csv")}


def test_lowest_precedence_wins_and_the_next_takes_over(lab: Lab) -> None:
    setup(lab)
    lab.cycle()
    rows = dir_rows(lab)
    assert rows["1"]["cn"] == "ADA"  # badge (50) beats HR (100)
    assert rows["2"]["cn"] == "Alan Turing"  # an empty value is no contribution: HR's stays
    # the badge leaves scope: HR takes over displayName
    lab.csv("badge.csv", [{"badgeId": "b1", "owner": "1", "printed": "ADA", "role": "", "kind": "visitor"}])
    lab.cycle()
    assert dir_rows(lab)["1"]["cn"] == "Ada Lovelace"


def test_ignore_this_flow_and_authoritative_null(lab: Lab) -> None:
    setup(lab)
    lab.cycle()
    rows = dir_rows(lab)
    assert rows["1"]["title"] == "x"
    assert rows["2"]["title"] == "Analyst"  # the badge rule's IgnoreThisFlow: HR's value is used
    assert rows["3"]["title"] == ""  # AuthoritativeNull (50) wins over HR (100) and clears


def test_an_ambiguous_join_is_an_error_not_a_guess(lab: Lab) -> None:
    setup(lab)
    text = BASE.replace("join: [[{cs: owner, mv: employeeId}]]", "join: [[{cs: kind, mv: employeeId}]]")
    lab.playbook(text)
    lab.csv("hr.csv", [{"employeeId": "employee", "name": "X", "title": "t", "status": "active"},
                       {"employeeId": "EMPLOYEE", "name": "Y", "title": "t", "status": "active"}])  # fmt: skip
    result = lab.cycle()
    errors = [e.error for r in result.runs for e in r.error_list]
    assert sum("the join matched 2 metaverse objects" in e for e in errors) == 3  # case-insensitive
    with lab.engine() as eng:
        assert eng.store.count_cs("badge", "joined") == 0


def test_provisioning_onto_a_dn_an_unjoined_object_holds_names_the_missing_join(lab: Lab) -> None:
    setup(lab)
    lab.csv("dir.csv", [{"uid": "1", "cn": "legacy", "title": ""}])
    result = lab.cycle()
    errors = [e.error for r in result.runs for e in r.error_list]
    assert any("not joined" in e and "join rule" in e for e in errors)
    assert dir_rows(lab)["1"]["cn"] == "legacy"  # never a silent takeover


def _contributors(lab: Lab) -> dict[str, dict[str, list[object]]]:
    """employeeId -> the MV object's contrib (which rule and CS object gave each attribute)."""
    with lab.engine() as eng:
        rows = eng.store.conn.execute("SELECT attrs, contrib FROM mv").fetchall()  # type: ignore[attr-defined]
    return {json.loads(a)["employeeId"]: json.loads(c) for a, c in rows}


def test_each_attribute_names_its_contributor_and_one_contributor_stands_for_all(lab: Lab) -> None:
    setup(lab)
    lab.cycle()
    ada = _contributors(lab)["1"]
    assert ada["displayName"][0] == ada["title"][0] == "In from badge"
    assert ada["employeeId"][0] == "In from HR" and "*" not in ada
    lab.csv("badge.csv", [{"badgeId": "b1", "owner": "1", "printed": "ADA", "role": "", "kind": "visitor"}])
    lab.cycle()
    ada = _contributors(lab)["1"]
    assert list(ada) == ["*"] and ada["*"][0] == "In from HR"  # HR alone gives every attribute


def test_a_join_added_later_finds_the_metaverse_objects_that_already_hold_its_attribute(lab: Lab) -> None:
    # the metaverse already holds displayName when a rule starts joining on it: the objects whose value
    # does not change in that sync must be found too (the join index is rebuilt for the new attribute)
    setup(lab)
    lab.playbook(BASE.replace("join: [[{cs: owner, mv: employeeId}]]", "join: [[{cs: owner, mv: title}]]"))
    lab.csv("badge.csv", [])
    lab.cycle()
    with lab.engine() as eng:
        assert eng.store.count_cs("badge", "joined") == 0
    lab.playbook(BASE.replace("join: [[{cs: owner, mv: employeeId}]]", "join: [[{cs: owner, mv: displayName}]]"))
    lab.csv("badge.csv", [{"badgeId": "b1", "owner": "alan turing", "printed": "", "role": "Fellow",
                           "kind": "employee"}])  # fmt: skip
    lab.cycle()
    assert dir_rows(lab)["2"]["title"] == "Fellow"  # joined by displayName: the badge's role flows
