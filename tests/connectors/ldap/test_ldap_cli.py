"""What a user does with an ldap connector, through the CLI, against a real slapd.

HR (a CSV file) → metaverse → the directory: apply provisions, a second plan has nothing to do, an HR
change updates the entry, a change of the DN's input renames it (the managers of others follow), a
row removed from HR deletes the entry, an edit made in the directory shows as drift and the next
apply puts it back. And the other way: people imported from the directory into the metaverse and
out to a CSV file, incrementally.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from reconciler.cli import cli

from .slapd import ADMIN, BASE, PASSWORD, PASSWORD_ENV, Slapd

HR_TO_LDAP = """\
version: 1
metaverse:
  person:
    personId:    {type: string}
    employeeId:  {type: string}
    givenName:   {type: string}
    sn:          {type: string}
    displayName: {type: string}
    manager:     {type: reference}
connectors:
  hr:
    type: csv
    path: hr.csv
    object_type: person
    anchor: personId
    references: {manager: personId}
  corp:
    type: ldap
    uri: %(uri)s
    bind_dn: %(admin)s
    password: {env: %(env)s}
    base_dn: %(base)s
    containers: ["%(ou)s"]
    object_types:
      inetOrgPerson: [uid, cn, sn, givenName, mail, manager, employeeNumber]
    anchor: entryUUID
    delete_threshold: 10
sync_rules:
  - name: In from HR
    connector: hr
    direction: inbound
    cs_type: person
    mv_type: person
    precedence: 100
    join:
      - [{cs: personId, mv: personId}]
    project: true
    flows:
      - {mv: personId, cs: personId}
      - {mv: employeeId, cs: employeeId}
      - {mv: givenName, cs: givenName}
      - {mv: sn, cs: sn}
      - {mv: displayName, expression: '[givenName] & " " & [sn]'}
      - {mv: manager, cs: manager}
  - name: Out to corp
    connector: corp
    direction: outbound
    mv_type: person
    cs_type: inetOrgPerson
    precedence: 100
    provision: true
    dn: '"uid=" & [employeeId] & ",%(ou)s"'
    deprovision: delete
    flows:
      - {cs: uid, mv: employeeId}
      - {cs: employeeNumber, mv: personId}
      - {cs: cn, mv: displayName}
      - {cs: sn, mv: sn}
      - {cs: givenName, mv: givenName}
      - {cs: mail, expression: 'LCase([givenName] & "." & [sn] & "@example.org")'}
      - {cs: manager, mv: manager}
"""

LDAP_TO_CSV = """\
version: 1
metaverse:
  person:
    employeeId:  {type: string}
    displayName: {type: string}
    manager:     {type: reference}
connectors:
  corp:
    type: ldap
    uri: %(uri)s
    bind_dn: %(admin)s
    password: {env: %(env)s}
    base_dn: %(base)s
    containers: ["%(ou)s"]
    object_types:
      inetOrgPerson: [uid, cn, manager]
    anchor: entryUUID
  phonebook:
    type: csv
    path: phonebook.csv
    object_type: person
    anchor: employeeId
    columns: [employeeId, displayName, manager]
    references: {manager: employeeId}
sync_rules:
  - name: In from the directory
    connector: corp
    direction: inbound
    cs_type: inetOrgPerson
    mv_type: person
    precedence: 100
    join:
      - [{cs: uid, mv: employeeId}]
    project: true
    flows:
      - {mv: employeeId, cs: uid}
      - {mv: displayName, cs: cn}
      - {mv: manager, cs: manager}
  - name: Out to the phonebook
    connector: phonebook
    direction: outbound
    mv_type: person
    cs_type: person
    precedence: 100
    provision: true
    deprovision: delete
    flows:
      - {cs: employeeId, mv: employeeId}
      - {cs: displayName, mv: displayName}
      - {cs: manager, mv: manager}
"""


class Workspace:
    def __init__(self, root: Path, slapd: Slapd, ou: str, template: str) -> None:
        self.root = root
        self.slapd = slapd
        self.ou = ou
        values = {"uri": slapd.uri, "admin": ADMIN, "env": PASSWORD_ENV, "base": BASE, "ou": ou}
        (root / "playbook.yml").write_text(template % values, encoding="utf-8")

    def hr(self, rows: list[dict[str, str]]) -> None:
        buf = io.StringIO()
        w = csv.DictWriter(buf, ["personId", "employeeId", "givenName", "sn", "manager"], lineterminator="\n")
        w.writeheader()
        w.writerows(rows)
        (self.root / "hr.csv").write_text(buf.getvalue(), encoding="utf-8")

    def csv(self, name: str) -> dict[str, dict[str, str]]:
        path = self.root / name
        return {r["employeeId"]: r for r in csv.DictReader(io.StringIO(path.read_text()))} if path.exists() else {}

    def run(self, *args: str, code: int | None = 0) -> str:
        result = CliRunner().invoke(cli, [args[0], str(self.root / "playbook.yml"), *args[1:]], catch_exceptions=False)
        assert PASSWORD not in result.output
        if code is not None:
            assert result.exit_code == code, result.output
        return result.output

    def entry(self, uid: str) -> dict[str, Any] | None:
        return self.slapd.entry(f"uid={uid},{self.ou}", "*", "entryUUID")

    def dn(self, uid: str) -> str:
        return f"uid={uid},{self.ou}"


def person(pid: str, eid: str, given: str, sn: str, manager: str = "") -> dict[str, str]:
    return {"personId": pid, "employeeId": eid, "givenName": given, "sn": sn, "manager": manager}


PEOPLE = [person("1", "e1", "Ann", "Lee"), person("2", "e2", "Bob", "Ray", "1"), person("3", "e3", "Cid", "Poe", "1")]


@pytest.fixture
def hr_to_ldap(tmp_path: Path, slapd: Slapd, ou: str) -> Workspace:
    ws = Workspace(tmp_path, slapd, ou, HR_TO_LDAP)
    ws.hr(PEOPLE)
    return ws


def test_apply_provisions_updates_renames_deletes_and_repairs_drift(hr_to_ldap: Workspace) -> None:
    ws = hr_to_ldap
    assert "Plan: 3 to add" in ws.run("plan", "--detailed-exitcode", code=2)
    assert "3 confirmed by import" in ws.run("apply", "--auto-approve")
    bob = ws.entry("e2")
    assert bob is not None
    assert bob["cn"] == ["Bob Ray"] and bob["mail"] == ["bob.ray@example.org"] and bob["employeeNumber"] == ["2"]
    assert bob["manager"] == [ws.dn("e1")] and bob["objectClass"] == ["inetOrgPerson"]
    ann_uuid = ws.entry("e1")["entryUUID"]  # type: ignore[index]
    # the confirming import cleared export memory: nothing left to do
    assert "No changes." in ws.run("plan", "--detailed-exitcode")

    # an HR change updates the entry
    ws.hr([PEOPLE[0], person("2", "e2", "Bob", "Rae", "1"), PEOPLE[2]])
    plan = ws.run("plan")
    assert 'sn: "Ray" → "Rae"' in plan and "Plan: 0 to add, 1 to change" in plan
    ws.run("apply", "--auto-approve")
    bob = ws.entry("e2")
    assert bob is not None and bob["cn"] == ["Bob Rae"] and bob["mail"] == ["bob.rae@example.org"]
    assert "No changes." in ws.run("plan", "--detailed-exitcode")

    # the DN's input changes: the entry is renamed (same entryUUID) and the managers of others follow
    ws.hr([person("1", "e1b", "Ann", "Lee"), person("2", "e2", "Bob", "Rae", "1"), PEOPLE[2]])
    assert f"rename {ws.dn('e1')}  →  {ws.dn('e1b')}" in ws.run("plan")
    ws.run("apply", "--auto-approve")
    assert ws.entry("e1") is None
    ann = ws.entry("e1b")
    assert ann is not None and ann["entryUUID"] == ann_uuid and ann["uid"] == ["e1b"]
    assert ws.entry("e2")["manager"] == [ws.dn("e1b")]  # type: ignore[index]
    assert ws.entry("e3")["manager"] == [ws.dn("e1b")]  # type: ignore[index]
    assert "No changes." in ws.run("plan", "--detailed-exitcode")

    # a row removed from HR deletes the entry (deprovision: delete, within delete_threshold)
    ws.hr([person("1", "e1b", "Ann", "Lee"), person("2", "e2", "Bob", "Rae", "1")])
    assert f"delete {ws.dn('e3')}" in ws.run("plan")
    ws.run("apply", "--auto-approve")
    assert ws.entry("e3") is None and ws.slapd.children(ws.ou) == [ws.dn("e1b"), ws.dn("e2")]
    assert "No changes." in ws.run("plan", "--detailed-exitcode")

    # an edit made in the directory is drift, and the next apply puts it back
    ws.slapd.connection().modify(ws.dn("e2"), {"cn": [("MODIFY_REPLACE", ["Bobby Tables"])]})
    drift = ws.run("drift", code=2)
    assert ws.dn("e2") in drift and '"Bobby Tables"' in drift and '"Bob Rae"' in drift
    ws.run("apply", "--auto-approve")
    assert ws.entry("e2")["cn"] == ["Bob Rae"]  # type: ignore[index]
    assert "No drift." in ws.run("drift")


def test_a_rename_reaches_a_referrer_that_changes_in_the_same_apply(hr_to_ldap: Workspace) -> None:
    ws = hr_to_ldap
    ws.run("apply", "--auto-approve")
    ws.hr([person("1", "e1b", "Ann", "Lee"), person("2", "e2", "Bob", "Rae", "1"), PEOPLE[2]])
    ws.run("apply", "--auto-approve")
    assert ws.entry("e2")["manager"] == [ws.dn("e1b")]  # type: ignore[index]


def test_a_missing_parent_is_an_error_on_that_entry(hr_to_ldap: Workspace) -> None:
    ws = hr_to_ldap
    playbook = ws.root / "playbook.yml"
    playbook.write_text(playbook.read_text().replace(f'",{ws.ou}"', f'",ou=missing,{ws.ou}"'))
    out = ws.run("apply", "--auto-approve", code=1)
    assert f"the parent ou=missing,{ws.ou} does not exist" in out
    assert ws.slapd.children(ws.ou) == []


def test_people_imported_from_the_directory_flow_out_to_a_csv(tmp_path: Path, slapd: Slapd, ou: str) -> None:
    slapd.add_person(f"uid=ann,{ou}", cn="Ann Lee")
    slapd.add_person(f"uid=bob,{ou}", cn="Bob Ray", manager=f"uid=ann,{ou}")
    slapd.add_person(f"uid=cid,{ou}", cn="Cid Poe", manager=f"uid=ann,{ou}")
    ws = Workspace(tmp_path, slapd, ou, LDAP_TO_CSV)
    ws.run("apply", "--auto-approve")
    rows = ws.csv("phonebook.csv")
    assert rows == {
        "ann": {"employeeId": "ann", "displayName": "Ann Lee", "manager": ""},
        "bob": {"employeeId": "bob", "displayName": "Bob Ray", "manager": "ann"},
        "cid": {"employeeId": "cid", "displayName": "Cid Poe", "manager": "ann"},
    }
    assert "No changes." in ws.run("plan", "--detailed-exitcode")
    # changes in the directory arrive by delta import: a new name, a new manager, a leaver
    ldap = slapd.connection()
    ldap.modify(f"uid=bob,{ou}", {"cn": [("MODIFY_REPLACE", ["Robert Ray"])]})
    ldap.modify(f"uid=cid,{ou}", {"manager": [("MODIFY_REPLACE", [f"uid=bob,{ou}"])]})
    ldap.delete(f"uid=ann,{ou}")
    ldap.modify(f"uid=bob,{ou}", {"manager": [("MODIFY_DELETE", [])]})
    out = ws.run("apply", "--auto-approve")
    assert "import corp (delta)" in out
    assert ws.csv("phonebook.csv") == {
        "bob": {"employeeId": "bob", "displayName": "Robert Ray", "manager": ""},
        "cid": {"employeeId": "cid", "displayName": "Cid Poe", "manager": "bob"},
    }
    assert "No changes." in ws.run("plan", "--detailed-exitcode")


def test_a_plan_says_why_a_delta_import_was_full(hr_to_ldap: Workspace) -> None:
    ws = hr_to_ldap
    ws.run("apply", "--auto-approve")
    assert "import corp (delta)" in ws.run("plan")
    playbook = ws.root / "playbook.yml"
    playbook.write_text(playbook.read_text().replace("manager, employeeNumber]", "manager, employeeNumber, title]"))
    lines = ws.run("plan").splitlines()
    at = next(i for i, line in enumerate(lines) if line.startswith("import corp (full)"))
    assert "a full import" in lines[at + 1] and "settings" in lines[at + 1]  # the reason, under its import
