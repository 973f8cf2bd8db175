"""`reconciler drift` through the real command line: each drift class, unmanaged objects, the HTML report."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from . import chromium
from .gitops import Workspace


@pytest.fixture
def ws(tmp_path: Path) -> Workspace:
    ws = Workspace(tmp_path)
    result = ws.run("apply", "playbook.yml", "--auto-approve")
    assert result.code == 0, result.out + result.err
    return ws


def drift(ws: Workspace) -> tuple[int, dict]:  # type: ignore[type-arg]
    result = ws.run("drift", "playbook.yml", "--json")
    assert result.code in (0, 2), result.err
    return result.code, json.loads(result.out)


def test_no_drift_after_apply_exit_0(ws: Workspace) -> None:
    result = ws.run("drift", "playbook.yml")
    assert result.code == 0, result.out + result.err
    assert result.out.strip().endswith("No drift.")


def test_out_of_band_edit(ws: Workspace) -> None:
    rows = ws.directory()
    rows["2"]["department"] = "Legal"
    ws.write_directory(rows)
    version = ws.state_version()
    code, doc = drift(ws)
    assert code == 2
    items = [i for i in doc["items"] if i["drift_class"] == "out-of-band"]
    assert [(i["dn"], i["attribute"], i["actual"], i["desired"]) for i in items] == [
        ("employeeId=2", "department", "Legal", "Sales")
    ]
    assert ws.state_version() == version, "drift committed something"
    text = ws.run("drift", "playbook.yml").out
    assert 'department: actual "Legal", desired "Sales"' in text


def test_provisioned_object_missing(ws: Workspace) -> None:
    rows = ws.directory()
    del rows["3"]
    ws.write_directory(rows)
    code, doc = drift(ws)
    assert code == 2
    assert [(i["drift_class"], i["dn"]) for i in doc["items"]] == [("missing", "employeeId=3")]


def test_linked_object_that_should_be_gone(ws: Workspace) -> None:
    del ws.people["1"]
    ws.write_hr()
    code, doc = drift(ws)
    assert code == 2
    assert [(i["drift_class"], i["dn"], i["actual"], i["desired"]) for i in doc["items"]] == [
        ("deprovision", "employeeId=1", "(present)", "(absent)")
    ]


def test_pending_change_counts_as_a_difference(ws: Workspace) -> None:
    ws.people["1"]["department"] = "Marketing"
    ws.write_hr()
    code, doc = drift(ws)
    assert code == 2
    assert [(i["drift_class"], i["attribute"], i["actual"], i["desired"]) for i in doc["items"]] == [
        ("pending", "department", "Sales", "Marketing")
    ]


def test_unmanaged_objects_are_listed_but_never_drift(ws: Workspace) -> None:
    rows = ws.directory()
    rows["900"] = {"employeeId": "900", "displayName": "Backup service", "department": "", "nationalId": ""}
    ws.write_directory(rows)
    code, doc = drift(ws)
    assert code == 0
    assert doc["drift"] is False
    assert [u["dn"] for u in doc["unmanaged"]] == ["employeeId=900"]
    md = ws.run("drift", "playbook.yml", "--format", "md")
    assert md.code == 0 and "employeeId=900" in md.out


@pytest.mark.skipif(not chromium.available(), reason="chromium is not installed (make system-deps)")
def test_html_report_sorts_and_fetches_nothing(ws: Workspace, tmp_path: Path) -> None:
    rows = ws.directory()
    rows["2"]["department"] = "Legal"
    del rows["3"]
    ws.write_directory(rows)
    del ws.people["1"]
    ws.write_hr()
    result = ws.run("drift", "playbook.yml", "--format", "html")
    assert result.code == 2
    page = tmp_path / "drift.html"
    page.write_text(result.out)
    dns = "Array.from(document.querySelectorAll('#drift tbody tr')).map(r => r.cells[3].textContent)"
    with chromium.Browser() as browser:
        browser.open(page.as_uri())
        before = browser.evaluate(dns)
        browser.evaluate("document.querySelectorAll('#drift thead th')[3].click()")
        after = browser.evaluate(dns)
        browser.screenshot(tmp_path / "drift.png")
        requested = browser.requested_urls()
    assert sorted(before) == after and len(after) == 3
    assert requested == [page.as_uri()]


def test_export_never_confirmed(ws: Workspace) -> None:
    ws.people["1"]["department"] = "Marketing"
    ws.write_hr()
    for step in (["hr", "full-import"], ["hr", "full-sync"], ["dir", "export"]):
        result = ws.run("run", "playbook.yml", *step)
        assert result.code == 0, result.out + result.err
    assert ws.directory()["1"]["department"] == "Marketing"
    rows = ws.directory()
    rows["1"]["department"] = "Sales"  # the system did not keep what was exported
    ws.write_directory(rows)
    code, doc = drift(ws)
    assert code == 2
    assert [(i["drift_class"], i["dn"], i["attribute"], i["actual"], i["desired"]) for i in doc["items"]] == [
        ("unconfirmed", "employeeId=1", "department", "Sales", "Marketing")
    ]


def test_rows_an_import_cannot_read_are_reported_not_hidden(ws: Workspace) -> None:
    path = ws.root / "dir.csv"
    path.write_text(path.read_text() + "901,broken\n")
    result = ws.run("drift", "playbook.yml")
    assert result.code in (0, 2), result.err
    assert "1 errors (those objects are not compared)" in result.out
    assert "dir.csv: line" in result.out
