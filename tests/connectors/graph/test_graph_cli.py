"""What a user does with a graph connector, through the CLI, against the Graph-compatible server:
HR (a CSV file) → metaverse → Entra users. apply provisions, a second plan has nothing to do, an HR
change updates, a removed row deletes, an edit made in Entra shows as drift."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from click.testing import CliRunner

from reconciler.cli import cli

from .server import CLIENT_ID, SECRET, SECRET_ENV, TENANT, GraphHTTPServer

HR_TO_ENTRA = """\
version: 1
metaverse:
  person:
    employeeId:  {type: string}
    givenName:   {type: string}
    sn:          {type: string}
    department:  {type: string}
    active:      {type: boolean}
    manager:     {type: reference}
connectors:
  hr:
    type: csv
    path: hr.csv
    object_type: person
    anchor: employeeId
    references: {manager: employeeId}
  entra:
    type: graph
    tenant: %(tenant)s
    client_id: %(client)s
    client_secret: {env: %(env)s}
    endpoint: %(base)s
    authority: %(base)s
    ca_file: %(ca)s
    object_types:
      user: [displayName, userPrincipalName, mailNickname, givenName, surname, department, accountEnabled, manager, passwordProfile]
    delete_threshold: 10
sync_rules:
  - name: In from HR
    connector: hr
    direction: inbound
    cs_type: person
    mv_type: person
    precedence: 100
    join:
      - [{cs: employeeId, mv: employeeId}]
    project: true
    flows:
      - {mv: employeeId, cs: employeeId}
      - {mv: givenName, cs: givenName}
      - {mv: sn, cs: sn}
      - {mv: department, cs: department}
      - {mv: active, expression: 'IIF([status] = "active", "true", "false")'}
      - {mv: manager, cs: manager}
  - name: Out to Entra
    connector: entra
    direction: outbound
    mv_type: person
    cs_type: user
    precedence: 100
    provision: true
    dn: 'LCase([givenName] & "." & [sn]) & "@contoso.com"'
    deprovision: delete
    flows:
      - {cs: userPrincipalName, expression: 'LCase([givenName] & "." & [sn]) & "@contoso.com"'}
      - {cs: mailNickname, expression: 'LCase([givenName] & [sn])'}
      - {cs: displayName, expression: '[givenName] & " " & [sn]'}
      - {cs: givenName, mv: givenName}
      - {cs: surname, mv: sn}
      - {cs: department, mv: department}
      - {cs: accountEnabled, mv: active}
      - {cs: manager, mv: manager}
      - {cs: passwordProfile, expression: '"Welcome-" & [employeeId]', initial_only: true}
"""


def row(eid: str, given: str, sn: str, dept: str = "IT", manager: str = "", status: str = "active") -> dict[str, str]:
    return {"employeeId": eid, "givenName": given, "sn": sn, "department": dept, "manager": manager, "status": status}


PEOPLE = [row("1", "Ann", "Lee"), row("2", "Bob", "Ray", manager="1"), row("3", "Cid", "Poe", manager="1")]


class Workspace:
    def __init__(self, root: Path, graph: GraphHTTPServer, ca: Path) -> None:
        self.root = root
        self.graph = graph
        values = {"tenant": TENANT, "client": CLIENT_ID, "env": SECRET_ENV, "base": graph.base, "ca": str(ca)}
        (root / "playbook.yml").write_text(HR_TO_ENTRA % values, encoding="utf-8")

    def hr(self, rows: list[dict[str, str]]) -> None:
        buf = io.StringIO()
        w = csv.DictWriter(buf, list(rows[0]), lineterminator="\n")
        w.writeheader()
        w.writerows(rows)
        (self.root / "hr.csv").write_text(buf.getvalue(), encoding="utf-8")

    def run(self, *args: str, code: int = 0) -> str:
        result = CliRunner().invoke(cli, [args[0], str(self.root / "playbook.yml"), *args[1:]], catch_exceptions=False)
        assert SECRET not in result.output and "Welcome-" not in result.output
        assert result.exit_code == code, result.output
        return result.output

    def user(self, upn: str) -> dict[str, object] | None:
        return self.graph.directory.find("users", "userPrincipalName", upn)


@pytest.fixture
def ws(tmp_path: Path, graph: GraphHTTPServer, ca_file: Path) -> Workspace:
    w = Workspace(tmp_path, graph, ca_file)
    w.hr(PEOPLE)
    return w


def test_apply_provisions_updates_deletes_and_shows_drift(ws: Workspace) -> None:
    d = ws.graph.directory
    assert "Plan: 3 to add" in ws.run("plan", "--detailed-exitcode", code=2)
    assert "3 confirmed by import" in ws.run("apply", "--auto-approve")
    ann, bob = ws.user("ann.lee@contoso.com"), ws.user("bob.ray@contoso.com")
    assert ann is not None and bob is not None
    assert bob["displayName"] == "Bob Ray" and bob["mailNickname"] == "bobray" and bob["accountEnabled"] is True
    assert bob["passwordProfile"] == {"password": "Welcome-2", "forceChangePasswordNextSignIn": True}
    assert d.manager[str(bob["id"])] == ann["id"]  # the manager reference is the target's Graph id
    assert "No changes." in ws.run("plan", "--detailed-exitcode")

    # an HR change updates the user
    ws.hr([PEOPLE[0], row("2", "Bob", "Ray", dept="Sales", manager="1", status="leaver"), PEOPLE[2]])
    plan = ws.run("plan")
    assert 'department: "IT" → "Sales"' in plan and "Plan: 0 to add, 1 to change" in plan
    ws.run("apply", "--auto-approve")
    bob = ws.user("bob.ray@contoso.com")
    assert bob is not None and bob["department"] == "Sales" and bob["accountEnabled"] is False
    assert "No changes." in ws.run("plan", "--detailed-exitcode")

    # a row removed from HR deletes the user (deprovision: delete)
    ws.hr([PEOPLE[0], row("2", "Bob", "Ray", dept="Sales", manager="1", status="leaver")])
    assert "delete cid.poe@contoso.com" in ws.run("plan")
    ws.run("apply", "--auto-approve")
    assert ws.user("cid.poe@contoso.com") is None and len(d.objects["users"]) == 2
    assert "No changes." in ws.run("plan", "--detailed-exitcode")

    # an edit made in Entra is drift, and the next apply puts it back
    d.update(str(bob["id"]), department="Marketing")
    drift = ws.run("drift", code=2)
    assert "bob.ray@contoso.com" in drift and '"Marketing"' in drift and '"Sales"' in drift
    ws.run("apply", "--auto-approve")
    assert ws.user("bob.ray@contoso.com")["department"] == "Sales"  # type: ignore[index]
    assert "No drift." in ws.run("drift")


def test_connector_test_and_a_wrong_secret(ws: Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    out = CliRunner().invoke(cli, ["connector", "test", str(ws.root / "playbook.yml"), "entra"])
    assert out.exit_code == 0 and "signed in as client" in out.output, out.output
    monkeypatch.setenv(SECRET_ENV, "wrong-secret")
    out = CliRunner().invoke(cli, ["plan", str(ws.root / "playbook.yml")])
    assert out.exit_code == 1 and "AADSTS7000215" in out.output and "wrong-secret" not in out.output
    assert "Traceback" not in out.output
