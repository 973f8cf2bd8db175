"""A connector that cannot be reached: a plan is not computed without its objects, and an apply that
loses it while exporting reports its changes as failed, never as confirmed."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from reconciler.connectors.files.csv_connector import CsvConnector
from reconciler.engine.core import open_state
from reconciler.errors import ConnectionFailed
from reconciler.plan.apply import execute, prepare
from reconciler.playbook import load_playbook

from .gitops import Workspace

UNREACHABLE = """
  corp:
    type: ldap
    uri: ldap://127.0.0.1:%d
    bind_dn: cn=admin,dc=example,dc=org
    password: {env: CORP_PASSWORD}
    base_dn: dc=example,dc=org
    anchor: entryUUID
    object_types:
      inetOrgPerson: [uid, cn, sn]
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])  # closed again: nothing listens on it


def test_a_plan_needs_every_connector_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ws = Workspace(tmp_path)
    text = ws.playbook.read_text()
    ws.playbook.write_text(text.replace("\nsync_rules:", UNREACHABLE % free_port() + "sync_rules:", 1))
    monkeypatch.setenv("CORP_PASSWORD", "pw-never-shown")
    for verb in (["plan", "."], ["apply", ".", "--auto-approve"], ["drift", "."]):
        done = ws.run(*verb)
        assert done.code == 1, (verb, done.out, done.err)
        (line,) = done.err.strip().splitlines()
        assert line.startswith("error: connector corp: cannot connect to ldap://127.0.0.1:")
        assert "nothing was planned or exported" in line and "pw-never-shown" not in done.out + done.err
    assert not (tmp_path / "dir.csv").exists()  # the reachable target was not written either
    # the scheduler's cycle goes on with the others, and says once per run what stopped
    done = ws.run("run", ".", "--cycle", "delta")
    assert done.code == 1 and (tmp_path / "dir.csv").exists()
    stopped = [line.strip() for line in done.err.splitlines() if "cannot connect" in line]
    assert [line.split(":")[0] for line in stopped] == ["full-import"]  # no rule writes to corp here
    assert all(line.count("corp") == 1 for line in stopped), stopped


def test_a_connector_lost_during_the_export_fails_its_changes(tmp_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    ws = Workspace(tmp_path, people=3)
    pb = load_playbook(ws.playbook)
    store = open_state(pb)
    try:
        with store.lock():
            prepared = prepare(pb, store, label="pb")
            assert len(prepared.plan.changes) == 3

            def gone(self: CsvConnector, changes: object) -> object:
                raise ConnectionFailed("the share went away", connector=self.name)

            monkeypatch.setattr(CsvConnector, "export", gone)
            outcome = execute(prepared)
            prepared.close()
    finally:
        store.close()
    assert outcome.exported == 0 and outcome.confirmed == []
    assert [(f.connector, f.dn) for f in outcome.failed] == [("dir", "")]
    assert "the share went away" in outcome.failed[0].error
