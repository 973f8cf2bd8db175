"""`reconciler explain`: one object followed from its source CS through the MV to its target CS.

Real state: an HR file and a badge file feed the metaverse (the badge rule wins `department` on
precedence), a directory file is provisioned; `apply --auto-approve` builds the state, then explain is
asked what a user would ask.
"""

from __future__ import annotations

import csv
import json
import shutil
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from reconciler.cli import cli

PLAYBOOK = """\
version: 1
metaverse:
  person:
    employeeId:  {type: string}
    displayName: {type: string}
    department:  {type: string}
    manager:     {type: reference}
    nationalId:  {type: string, sensitive: true}
connectors:
  hr:
    type: csv
    path: hr.csv
    object_type: person
    anchor: employeeId
    references: {manager: employeeId}
  badge:
    type: csv
    path: badge.csv
    object_type: person
    anchor: badgeId
  dir:
    type: csv
    path: dir.csv
    object_type: person
    anchor: employeeId
    dn: '"CN=" & [employeeId] & ",OU=Staff"'
    columns: [employeeId, displayName, department, manager, idNumber]
    references: {manager: employeeId}
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
      - {mv: displayName, expression: '[givenName] & " " & [sn]'}
      - {mv: department, cs: department}
      - {mv: manager, cs: manager}
      - {mv: nationalId, cs: ssn}
  - name: In from badge
    connector: badge
    direction: inbound
    cs_type: person
    mv_type: person
    precedence: 50
    join: [[{cs: employeeId, mv: employeeId}]]
    flows:
      - {mv: department, cs: site}
  - name: Out to directory
    connector: dir
    direction: outbound
    mv_type: person
    cs_type: person
    precedence: 100
    provision: true
    flows:
      - {cs: employeeId, mv: employeeId}
      - {cs: displayName, mv: displayName}
      - {cs: department, mv: department}
      - {cs: manager, mv: manager}
      - {cs: idNumber, mv: nationalId}
"""

SECRET = "NID-SECRET"  # every ssn holds it: it must never be printed
HR = [
    {"employeeId": "1", "givenName": "Ada", "sn": "Lovelace", "department": "Sales", "manager": "",
     "ssn": f"{SECRET}-1", "status": "active"},
    {"employeeId": "2", "givenName": "Alan", "sn": "Turing", "department": "Sales", "manager": "1",
     "ssn": f"{SECRET}-2", "status": "active"},
    {"employeeId": "3", "givenName": "Grace", "sn": "Hopper", "department": "Ops", "manager": "1",
     "ssn": f"{SECRET}-3", "status": "inactive"},
]  # fmt: skip
BADGES = [
    {"badgeId": "B1", "employeeId": "1", "site": "Paris"},
    {"badgeId": "3", "employeeId": "9", "site": "Nowhere"},  # badge 3 is not employee 3's
]


def write_csv(path: Path, rows: list[dict[str, str]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


def invoke(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args))


def make_playbook(root: Path) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "playbook.yml").write_text(PLAYBOOK, encoding="utf-8")
    write_csv(root / "hr.csv", HR)
    write_csv(root / "badge.csv", BADGES)
    return root


@pytest.fixture(scope="module")
def applied(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = make_playbook(tmp_path_factory.mktemp("explain") / "pb")
    result = invoke("apply", str(root), "--auto-approve")
    assert result.exit_code == 0, result.output
    assert (root / "dir.csv").exists()
    return root


@pytest.fixture
def workspace(applied: Path, tmp_path: Path) -> Path:
    """A copy of the applied playbook folder (state included) that a test may edit."""
    return Path(shutil.copytree(applied, tmp_path / "pb"))


def explain(root: Path, *args: str) -> Result:
    return invoke("explain", str(root), *args)


def explain_json(root: Path, *args: str) -> dict[str, Any]:
    result = explain(root, *args, "--json")
    assert result.exit_code == 0, result.output
    doc: dict[str, Any] = json.loads(result.stdout)
    return doc


def mv_attr(doc: dict[str, Any], name: str) -> dict[str, Any]:
    return next(a for a in doc["mv"]["attributes"] if a["name"] == name)


def one_line_error(result: Result) -> str:
    assert result.exit_code == 1, result.output
    assert result.stdout == ""
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


# ----------------------------------------------------------------------------- the chain
def test_by_dn_follows_source_mv_and_target(applied: Path) -> None:
    result = explain(applied, "employeeId=2")
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "Explain hr:employeeId=2 (found by DN)" in out
    assert "hr:employeeId=2 → metaverse person" in out and "→ dir:CN=2,OU=Staff" in out
    source, rest = out.split("\nMetaverse\n")
    mv, target = rest.split("\nTarget connector space\n")
    assert "link: projected by 'In from HR'" in source
    assert "inbound rule 'In from HR' (precedence 100): in scope" in source
    assert 'manager    = "1" → employeeId=1' in source  # a CS reference, resolved to its target's DN
    assert 'displayName = "Alan Turing"' in mv and "contributed by hr / In from HR" in mv
    assert "(Ada Lovelace)" in mv  # the MV reference named by its target's displayName
    assert "dir:CN=2,OU=Staff" in target and "link: provisioned by 'Out to directory'" in target
    assert "← 'Out to directory': displayName <- displayName" in target
    assert "exported and confirmed" in target


def test_precedence_winner_is_the_contributor(applied: Path) -> None:
    doc = explain_json(applied, "B1")  # the badge's anchor
    assert doc["kind"] == "explain" and doc["found_by"] == "anchor" and doc["focus"] == "badge:badgeId=B1"
    assert {v["connector"] for v in doc["sources"]} == {"hr", "badge"}
    department = mv_attr(doc, "department")
    assert department["value"] == "Paris"
    assert (department["connector"], department["rule"]) == ("badge", "In from badge")
    assert department["precedence"] == 50 and department["flow"] == "department <- site"
    assert department["also"] == ["hr / In from HR (precedence 100)"]
    assert mv_attr(doc, "displayName")["rule"] == "In from HR"
    target = doc["targets"][0]
    assert (target["connector"], target["link_kind"]) == ("dir", "provision")
    assert target["link_rule"] == "Out to directory"
    assert [c["rule"] for c in target["outbound_rules"]] == ["Out to directory"]
    owned = {a["name"]: a for a in target["attributes"]}
    assert owned["department"]["value"] == "Paris" and owned["department"]["rule"] == "Out to directory"
    text = explain(applied, "B1").stdout
    assert "contributed by badge / In from badge (precedence 50" in text
    assert "also flowed by hr / In from HR (precedence 100)" in text


def test_connector_dn_and_mv_guid_name_the_same_chain(applied: Path) -> None:
    by_target = explain_json(applied, "dir:CN=1,OU=Staff")
    assert by_target["focus"] == "dir:CN=1,OU=Staff"
    guid = by_target["mv"]["guid"]
    by_guid = explain_json(applied, guid.upper())
    assert by_guid["found_by"] == "metaverse GUID" and by_guid["focus"] is None
    by_anchor = explain_json(applied, "hr:1")  # CONNECTOR:ANCHOR
    for doc in (by_guid, by_anchor):
        assert doc["mv"] == by_target["mv"]
        assert [v["guid"] for v in doc["targets"]] == [v["guid"] for v in by_target["targets"]]
    assert "found by metaverse GUID" in explain(applied, guid).stdout
    managed = explain_json(applied, "employeeId=2")  # an MV reference reads as its target's GUID
    assert mv_attr(managed, "manager")["value"] == guid
    assert mv_attr(managed, "manager")["refs"] == [f"{guid} (Ada Lovelace)"]


def test_sensitive_values_are_masked(applied: Path) -> None:
    for args in (("employeeId=2",), ("employeeId=2", "--json"), ("dir:2", "--format", "md")):
        result = explain(applied, *args)
        assert result.exit_code == 0, result.output
        assert SECRET not in result.output
    doc = explain_json(applied, "employeeId=2")
    assert mv_attr(doc, "nationalId")["value"] == "(sensitive)"
    source = {a["name"]: a for a in doc["sources"][0]["attributes"]}
    assert source["ssn"]["value"] == "(sensitive)" and source["ssn"]["sensitive"]  # it flows into nationalId
    target = {a["name"]: a for a in doc["targets"][0]["attributes"]}
    assert target["idNumber"]["value"] == "(sensitive)"  # it flows from nationalId


# ----------------------------------------------------------------------------- not joined
def test_disconnectors_say_why(applied: Path) -> None:
    result = explain(applied, "badge:badgeId=3")
    assert result.exit_code == 0, result.output
    assert "link: not joined (a disconnector)" in result.stdout
    assert "join on employeeId = MV employeeId: no metaverse object matches" in result.stdout
    assert "no rule in scope projects" in result.stdout
    doc = explain_json(applied, "hr:3")
    assert doc["mv"] is None and doc["sources"] == [] and doc["targets"] == []
    (view,) = doc["disconnected"]
    assert view["inbound_rules"] == [{"rule": "In from HR", "precedence": 100, "in_scope": False,
                                      "failing": ['status EQUAL "active" (holds "inactive")']}]  # fmt: skip
    assert any("in the scope of no inbound rule" in n for n in view["notes"])


# ----------------------------------------------------------------------------- user mistakes
def test_ambiguous_and_missing_objects_are_one_line_errors(applied: Path) -> None:
    line = one_line_error(explain(applied, "3"))  # anchor 3 in hr and in badge: two objects, not joined
    assert "matches 2 objects" in line and "badge:badgeId=3" in line and "hr:employeeId=3" in line
    # anchor 1 in hr and in dir names one object seen from both sides: its chain, from the source
    doc = explain_json(applied, "1")
    assert doc["focus"] == "hr:employeeId=1" and [v["dn"] for v in doc["targets"]] == ["CN=1,OU=Staff"]
    line = one_line_error(explain(applied, "nobody"))
    assert "no object matches 'nobody'" in line and "reconciler search cs" in line
    line = one_line_error(explain(applied, "employeeId=2", "--format", "html"))
    assert "text, md, json" in line


def test_no_state_and_no_playbook(tmp_path: Path) -> None:
    root = make_playbook(tmp_path / "fresh")
    line = one_line_error(explain(root, "employeeId=1"))
    assert "nothing imported yet" in line and "reconciler apply" in line
    assert not (root / ".reconciler").exists()  # explain creates no state
    assert one_line_error(explain(tmp_path / "missing", "x"))


def test_help_shows_examples() -> None:
    result = invoke("explain", "--help")
    assert result.exit_code == 0
    assert "Example" in result.output and "reconciler explain" in result.output and "--preview" in result.output


# ----------------------------------------------------------------------------- preview
def snapshot(root: Path) -> tuple[Any, ...]:
    """What a preview must leave as it was: the target file and the state's tables."""
    conn = sqlite3.connect(root / ".reconciler" / "state.db")
    try:
        tables = tuple(conn.execute(f"SELECT * FROM {t} ORDER BY 1").fetchall()
                       for t in ("cs", "mv", "cs_ref", "meta", "history", "connector_state"))  # fmt: skip
    finally:
        conn.close()
    return (root / "dir.csv").read_bytes(), tables


def test_preview_shows_what_a_sync_would_do_and_changes_nothing(workspace: Path) -> None:
    rows = [dict(r) for r in HR]
    rows[1]["department"] = "Marketing"  # Alan moves
    rows.append({"employeeId": "4", "givenName": "Kat", "sn": "Johnson", "department": "Ops", "manager": "2",
                 "ssn": f"{SECRET}-4", "status": "active"})  # fmt: skip
    write_csv(workspace / "hr.csv", rows)
    before = snapshot(workspace)

    result = explain(workspace, "employeeId=2", "--preview")
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "nothing committed, nothing exported" in out
    changes, after = out.split("\nAfter the synchronization\n")
    assert 'department: "Sales" → "Marketing"   contributed by hr / In from HR' in changes
    assert "dir:CN=2,OU=Staff: export staged" in changes
    assert "~ update by 'Out to directory' (cause source)" in changes
    assert 'department = "Marketing"' in after  # the chain as it would be
    assert SECRET not in result.output

    doc = explain_json(workspace, "hr:2", "--preview")
    assert doc["kind"] == "explain-preview" and doc["changes"] is True and doc["mv_status"] == "changed"
    assert [(c["name"], c["before"], c["after"]) for c in doc["mv"]] == [("department", "Sales", "Marketing")]
    target = next(o for o in doc["objects"] if o["object"] == "dir:CN=2,OU=Staff")
    assert target["export_is_new"] and target["export"]["op"] == "update"
    assert [(d["name"], d["before"], d["after"]) for d in target["export"]["changes"]] == [
        ("department", "Sales", "Marketing")
    ]
    assert doc["before"]["mv"]["guid"] == doc["after"]["mv"]["guid"]

    new = explain_json(workspace, "hr:4", "--preview")  # not imported yet: the preview's import finds it
    assert new["before"] is None and new["mv_status"] == "new"
    added = next(o for o in new["objects"] if o["object"].startswith("dir:"))
    assert added["status"] == "new" and added["export"]["op"] == "add"
    assert snapshot(workspace) == before  # nothing committed, nothing exported


def test_preview_with_nothing_to_do(applied: Path) -> None:
    before = snapshot(applied)
    result = explain(applied, "employeeId=1", "--preview")
    assert result.exit_code == 0, result.output
    assert "nothing: a synchronization now leaves this object as it is" in result.stdout
    assert snapshot(applied) == before


def test_a_rule_change_is_noted_and_previewed(workspace: Path) -> None:
    playbook = workspace / "playbook.yml"
    playbook.write_text(playbook.read_text().replace("precedence: 50", "precedence: 150"))  # badge now loses
    result = explain(workspace, "B1")
    assert result.exit_code == 0, result.output
    assert "the sync rules changed since the last synchronization" in result.stdout
    doc = explain_json(workspace, "B1", "--preview")
    assert [(c["name"], c["before"], c["after"], c["rule"]) for c in doc["mv"]] == [
        ("department", "Paris", "Sales", "In from HR")
    ]
    assert "this is a full synchronization" in " ".join(doc["notes"])
    department = mv_attr(doc["after"], "department")
    assert department["also"] == ["badge / In from badge (precedence 150)"]
    target = next(o for o in doc["objects"] if o["object"] == "dir:CN=1,OU=Staff")
    assert [(d["name"], d["before"], d["after"]) for d in target["export"]["changes"]] == [
        ("department", "Paris", "Sales")
    ]
