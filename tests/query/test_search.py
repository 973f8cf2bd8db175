"""`reconciler search cs|mv` on a real state: HR people projected into the metaverse and provisioned into a
directory file, then a change synchronized but not exported, a change imported but not synchronized, a
duplicate row (import error), a bad integer (sync error), a manager nobody has (placeholder) and objects
no rule links (disconnectors)."""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

import reconciler.playbook  # noqa: F401 - before the engine (playbook and connectors import each other)
from reconciler.cli import cli
from reconciler.engine import Engine, open_state
from reconciler.playbook import load_playbook
from reconciler.query.search import REDACTED, cs_query, mv_query, search_cs, search_mv
from reconciler.store import SqliteStore

PLAYBOOK = """\
version: 1
metaverse:
  person:
    employeeId:  {type: string}
    displayName: {type: string}
    department:  {type: string}
    manager:     {type: reference}
    level:       {type: integer}
    active:      {type: boolean}
    proxyAddresses: {type: string, multivalued: true}
    nationalId:  {type: string, sensitive: true}
connectors:
  hr:
    type: csv
    path: hr.csv
    object_type: person
    anchor: employeeId
    dn: '"CN=" & [employeeId] & ",OU=" & [department] & ",DC=example,DC=org"'
    references: {manager: employeeId}
  dir:
    type: csv
    path: dir.csv
    object_type: person
    anchor: employeeId
    columns: [employeeId, displayName, department, nationalId]
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
      - {mv: level, cs: level}
      - {mv: active, cs: enabled}
      - {mv: proxyAddresses, cs: mail}
      - {mv: nationalId, cs: nid}
  - name: Out to directory
    connector: dir
    direction: outbound
    mv_type: person
    cs_type: person
    precedence: 100
    provision: true
    deprovision: delete
    flows:
      - {cs: employeeId, mv: employeeId}
      - {cs: displayName, mv: displayName}
      - {cs: department, mv: department}
      - {cs: nationalId, mv: nationalId}
"""
HEADER = "employeeId,givenName,sn,department,manager,level,enabled,mail,nid,status\n"
ADA = "1,Ada,Lovelace,Sales,,3,true,ada@example.org;ADA@corp.example.org,NID-1-SECRET,active\n"
GRACE = "2,Grace,Hopper,Sales,1,2,false,grace@example.org,NID-2-SECRET,active\n"
ALAN = "3,Alan,Turing,Research,77,1,true,,NID-3-SECRET,active\n"  # manager 77 does not exist: a placeholder
OLD = "4,Old,Timer,Sales,,1,true,,NID-4-SECRET,inactive\n"  # out of the rule's scope: a disconnector
XAVIER = "Xa9,Xavier,Lower,Research,,1,true,,,active\n"


def run(*args: str) -> Result:
    return CliRunner().invoke(cli, ["search", *args], catch_exceptions=False)


def dns(result: Result) -> list[str]:
    return [o["dn"] for o in json.loads(result.stdout)]


@pytest.fixture(scope="module")
def pb_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("search")
    (root / "playbook.yml").write_text(PLAYBOOK)
    (root / "hr.csv").write_text(HEADER + ADA + GRACE + ALAN + OLD + XAVIER)
    (root / "dir.csv").write_text("employeeId,displayName,department,nationalId\n999,Stray Object,Nowhere,\n")

    def engine_run(*profiles: tuple[str, str]) -> None:
        pb = load_playbook(root / "playbook.yml")
        store = open_state(pb)
        try:
            with store.lock(), Engine(pb, store) as eng:
                if not profiles:
                    eng.cycle("delta")
                for connector, profile in profiles:
                    eng.run_profile(connector, profile)
        finally:
            store.close()

    engine_run()  # import, sync, export, confirming import
    # Grace moves and a new person has a level that is no integer: synchronized, not exported
    (root / "hr.csv").write_text(HEADER + ADA + GRACE.replace("Sales", "Research") + ALAN + OLD + XAVIER
                                 + "6,Six,Bad,Sales,,abc,true,,,active\n")  # fmt: skip
    engine_run(("hr", "delta-import"), ("hr", "delta-sync"))
    # Ada's level changes and Alan's row is there twice: imported, not synchronized
    (root / "hr.csv").write_text(HEADER + ADA.replace(",3,", ",4,") + GRACE.replace("Sales", "Research") + ALAN
                                 + OLD + XAVIER + "6,Six,Bad,Sales,,abc,true,,,active\n" + ALAN)  # fmt: skip
    engine_run(("hr", "delta-import"))
    return root


@pytest.fixture(scope="module")
def pb(pb_dir: Path) -> str:
    return str(pb_dir / "playbook.yml")


# ------------------------------------------------------------------------------------------ cs: states


@pytest.mark.parametrize(
    ("connector", "scope", "expected"),
    [
        ("hr", "joined", ["CN=1,OU=Sales,DC=example,DC=org", "CN=2,OU=Research,DC=example,DC=org",
                          "CN=3,OU=Research,DC=example,DC=org", "CN=6,OU=Sales,DC=example,DC=org",
                          "CN=Xa9,OU=Research,DC=example,DC=org"]),
        ("hr", "disconnector", ["CN=4,OU=Sales,DC=example,DC=org"]),
        ("dir", "disconnector", ["employeeId=999"]),
        ("hr", "placeholder", ["employeeId=77"]),
        ("hr", "pending-import", ["CN=1,OU=Sales,DC=example,DC=org"]),
        ("dir", "pending-export", ["employeeId=2", "employeeId=6"]),
        ("hr", "import-error", ["CN=3,OU=Research,DC=example,DC=org", "CN=6,OU=Sales,DC=example,DC=org"]),
        ("hr", "export-error", []),
        ("hr", "transient", []),
    ],
)  # fmt: skip
def test_state_scopes(pb: str, connector: str, scope: str, expected: list[str]) -> None:
    result = run("cs", pb, connector, "--scope", scope, "--json")
    assert result.exit_code == 0, result.output
    assert dns(result) == expected


def test_each_object_says_its_link_pending_changes_and_errors(pb: str) -> None:
    hr = {o["dn"]: o for o in json.loads(run("cs", pb, "hr", "--scope", "joined", "--json").stdout)}
    ada = hr["CN=1,OU=Sales,DC=example,DC=org"]
    assert (ada["link"], ada["link_rule"], ada["kind"]) == ("project", "In from HR", "normal")
    assert ada["pending_import"] == "update" and len(ada["mv_guid"]) == 36
    assert "duplicate anchor 3" in hr["CN=3,OU=Research,DC=example,DC=org"]["import_error"]
    six = hr["CN=6,OU=Sales,DC=example,DC=org"]
    assert six["import_error"] is None and "flow to level" in six["sync_error"]
    grace = json.loads(run("cs", pb, "dir", "--scope", "anchor", "2", "--json").stdout)[0]
    assert (grace["pending_export"], grace["pending_export_attributes"]) == ("update", ["department"])
    assert grace["link"] == "provision" and grace["mv_guid"] == hr["CN=2,OU=Research,DC=example,DC=org"]["mv_guid"]


def test_text_table_shows_the_state_of_each_object(pb: str) -> None:
    result = run("cs", pb, "hr", "--scope", "import-error")
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["DN", "TYPE", "ANCHOR", "LINK", "STATE"]
    assert "import error: hr.csv: line" in lines[1] and "duplicate anchor 3" in lines[1]
    assert "sync error: sync rule 'In from HR', flow to level" in lines[2]
    assert lines[-1] == "2 objects found"
    assert "pending export update (department)" in run("cs", pb, "dir", "--scope", "pending-export").stdout


# ------------------------------------------------------------------------------------------ cs: by name


@pytest.mark.parametrize(
    ("scope", "value", "expected"),
    [
        ("rdn", "CN=1", ["CN=1,OU=Sales,DC=example,DC=org"]),
        ("rdn", "cn = xA9", ["CN=Xa9,OU=Research,DC=example,DC=org"]),  # case and spaces ignored
        ("rdn", "1", ["CN=1,OU=Sales,DC=example,DC=org"]),  # a bare value: any attribute type
        ("rdn", "CN=Sales", []),  # only the first RDN
        ("rdn", "77", ["employeeId=77"]),
        ("dn", "cn=2, ou=RESEARCH,dc=example, dc=org", ["CN=2,OU=Research,DC=example,DC=org"]),
        ("dn", "CN=2", []),  # a DN is whole
        ("anchor", "Xa9", ["CN=Xa9,OU=Research,DC=example,DC=org"]),
        ("anchor", "XA9", ["CN=Xa9,OU=Research,DC=example,DC=org"]),  # nothing exact: case-insensitive
        ("anchor", "8", []),
        ("subtree", "OU=Sales,DC=example,DC=org", ["CN=1,OU=Sales,DC=example,DC=org",
                                                   "CN=4,OU=Sales,DC=example,DC=org",
                                                   "CN=6,OU=Sales,DC=example,DC=org"]),
        ("subtree", "CN=1,OU=Sales,DC=example,DC=org", ["CN=1,OU=Sales,DC=example,DC=org"]),  # itself
        ("subtree", "ales,DC=example,DC=org", []),  # whole RDNs only
    ],
)  # fmt: skip
def test_name_scopes(pb: str, scope: str, value: str, expected: list[str]) -> None:
    result = run("cs", pb, "hr", "--scope", scope, value, "--json")
    assert result.exit_code == 0, result.output
    assert dns(result) == expected


def test_sensitive_values_are_masked_on_both_sides(pb: str) -> None:
    hr = json.loads(run("cs", pb, "hr", "--scope", "anchor", "1", "--json").stdout)[0]
    assert hr["attributes"]["nid"] == REDACTED  # flows into a sensitive MV attribute
    assert hr["attributes"]["givenName"] == "Ada"
    dir_ = json.loads(run("cs", pb, "dir", "--scope", "anchor", "1", "--json").stdout)[0]
    assert dir_["attributes"]["nationalId"] == REDACTED  # flows from one
    for args in (["cs", pb, "hr", "--scope", "joined", "--json"], ["mv", pb, "--type", "person", "--json"],
                 ["mv", pb, "--type", "person"]):  # fmt: skip
        assert "SECRET" not in run(*args).output


# ------------------------------------------------------------------------------------------ limit, output


def test_limit_says_how_many_more_matched(pb: str) -> None:
    result = run("cs", pb, "hr", "--scope", "joined", "--limit", "2")
    assert result.exit_code == 0
    assert result.stdout.splitlines()[-1].startswith("showing 2 of 5 objects: 3 more matched")
    assert len(result.stdout.splitlines()) == 4  # header, 2 objects, the line
    as_json = run("cs", pb, "hr", "--scope", "joined", "--limit", "2", "--format", "json")
    assert len(json.loads(as_json.stdout)) == 2  # stdout stays one JSON document
    assert "3 more matched" in as_json.stderr
    assert len(json.loads(run("cs", pb, "hr", "--scope", "joined", "--limit", "0", "--json").stdout)) == 5


def test_library_counts_without_loading_everything(pb: str) -> None:
    playbook = load_playbook(pb)
    store = SqliteStore(playbook.state_path)
    try:
        result = search_cs(store, playbook, cs_query(playbook, "hr", "joined", None), limit=1)
        assert (len(result.hits), result.total, result.more) == (1, 5, 4)
        mv = search_mv(store, playbook, mv_query(playbook, "person", []), limit=2)
        assert (len(mv.hits), mv.total) == (2, 5)
    finally:
        store.close()


def test_nothing_found_is_said_and_exits_0(pb: str) -> None:
    result = run("cs", pb, "hr", "--scope", "dn", "CN=nobody")
    assert (result.exit_code, result.stdout) == (0, "no objects found\n")
    assert run("cs", pb, "hr", "--scope", "transient", "--json").stdout.strip() == "[]"


def test_no_state_yet_finds_nothing(tmp_path: Path) -> None:
    (tmp_path / "playbook.yml").write_text(PLAYBOOK)
    result = run("cs", str(tmp_path / "playbook.yml"), "hr", "--scope", "joined")
    assert (result.exit_code, result.stdout) == (0, "no objects found\n")
    assert "no state yet" in result.stderr
    assert not (tmp_path / ".reconciler").exists()  # a search creates no state


# ------------------------------------------------------------------------------------------ mv


def mv(pb: str, *where: str) -> list[dict[str, Any]]:
    args = ["mv", pb, "--type", "person", "--json"]
    for w in where:
        args += ["--where", w]
    result = run(*args)
    assert result.exit_code == 0, result.output
    found: list[dict[str, Any]] = json.loads(result.stdout)
    return found


def ids(found: list[dict[str, Any]]) -> list[str]:
    return [o["attributes"]["employeeId"] for o in found]


@pytest.mark.parametrize(
    ("where", "expected"),
    [
        ((), ["1", "2", "3", "Xa9", "6"]),
        (("employeeId=xa9",), ["Xa9"]),  # indexed (a join attribute), case-insensitive
        (("displayName=ADA LOVELACE",), ["1"]),  # scanned, case-insensitive
        (("department=research",), ["2", "3", "Xa9"]),
        (("department=Research", "level=1"), ["3", "Xa9"]),  # AND
        (("proxyAddresses=ada@corp.example.org",), ["1"]),  # any value of a multi-valued attribute
        (("proxyAddresses=grace@example.org",), ["2"]),  # one value, stored as such
        (("level=03",), ["1"]),  # integers by value
        (("active=FALSE",), ["2"]),
        (("manager=",), ["1", "3", "Xa9", "6"]),  # absent
        (("department=Nowhere",), []),
    ],
)
def test_mv_where(pb: str, where: tuple[str, ...], expected: list[str]) -> None:
    assert ids(mv(pb, *where)) == expected


def test_mv_shows_links_attributes_and_readable_references(pb: str) -> None:
    ada, grace = mv(pb, "employeeId=1")[0], mv(pb, "employeeId=2")[0]
    assert [(c["connector"], c["link"]) for c in ada["connectors"]] == [("dir", "provision"), ("hr", "project")]
    assert ada["connectors"][1]["dn"] == "CN=1,OU=Sales,DC=example,DC=org"
    assert grace["attributes"]["manager"] == ada["guid"]  # JSON: the target's GUID
    assert grace["attributes"]["nationalId"] == REDACTED
    assert ids(mv(pb, f"manager={ada['guid'].upper()}")) == ["2"]  # a reference is searched by GUID
    text = run("mv", pb, "--type", "person", "--where", "employeeId=2").stdout
    assert "manager=Ada Lovelace" in text and "dir (provision), hr (project)" in text  # text: its name
    assert text.splitlines()[-1] == "1 object found"


def test_mv_looks_join_attributes_up_in_the_join_index(pb: str) -> None:
    playbook = load_playbook(pb)
    store = SqliteStore(playbook.state_path)
    statements: list[str] = []
    store.conn.set_trace_callback(statements.append)
    try:
        found = search_mv(store, playbook, mv_query(playbook, "person", ["employeeId=XA9"]))
        assert [h.attributes["employeeId"] for h in found.hits] == ["Xa9"]
        assert any("mv_index" in s for s in statements)  # employeeId is a join attribute
        statements.clear()
        search_mv(store, playbook, mv_query(playbook, "person", ["displayName=Ada Lovelace"]))
        assert statements and not any("mv_index" in s for s in statements)  # a scan
    finally:
        store.close()


def test_mv_a_lagging_join_index_does_not_hide_objects(pb: str, tmp_path: Path) -> None:
    # the engine writes no index rows for objects that predate a new join attribute: simulated by a copy
    # whose index lost Ada's row; "nothing in the index" is checked by a scan
    copy = tmp_path / "copy"
    shutil.copytree(Path(pb).parent, copy)
    with sqlite3.connect(copy / ".reconciler" / "state.db") as conn:
        conn.execute("DELETE FROM mv_index WHERE attr = 'employeeId' AND value = '1'")
    assert ids(mv(str(copy / "playbook.yml"), "employeeId=1")) == ["1"]


def test_mv_unknown_reference_target_is_a_note(pb: str) -> None:
    result = run("mv", pb, "--type", "person", "--where", "manager=not-a-guid")
    assert (result.exit_code, result.stdout) == (0, "no objects found\n")
    assert "no metaverse object has the GUID not-a-guid" in result.stderr


# ------------------------------------------------------------------------------------------ user errors


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["cs", "{pb}", "ldap", "--scope", "joined"], "no connector named 'ldap' in the playbook (its connectors: dir, hr)"),
        (["cs", "{pb}", "hr", "--scope", "rdn"], "--scope rdn needs a VALUE: the RDN (e.g. CN=jdoe) to find"),
        (["cs", "{pb}", "hr", "--scope", "subtree", " "], "--scope subtree needs a VALUE"),
        (["cs", "{pb}", "hr", "--scope", "joined", "CN=1"], "--scope joined takes no VALUE (got 'CN=1')"),
        (["mv", "{pb}", "--type", "group"], "no metaverse object type 'group' in the playbook (its types: person)"),
        (["mv", "{pb}", "--type", "person", "--where", "mail=x"], "person has no attribute 'mail'"),
        (["mv", "{pb}", "--type", "person", "--where", "mail"], "--where 'mail' is not attr=value"),
        (["mv", "{pb}", "--type", "person", "--where", "level=high"], "level is an integer"),
        (["mv", "{pb}", "--type", "person", "--where", "active=maybe"], "active is a boolean"),
    ],
)  # fmt: skip
def test_user_errors_are_one_line_exit_1(pb: str, args: list[str], message: str) -> None:
    result = run(*[a.format(pb=pb) for a in args])
    assert result.exit_code == 1
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0], lines


def test_unknown_attribute_error_lists_the_attributes(pb: str) -> None:
    err = run("mv", pb, "--type", "person", "--where", "mail=x").stderr
    assert "its attributes: employeeId, displayName, department, manager" in err


def test_missing_playbook_is_one_line(tmp_path: Path) -> None:
    result = run("cs", str(tmp_path / "nope.yml"), "hr", "--scope", "joined")
    assert result.exit_code == 1 and len(result.stderr.splitlines()) == 1
