"""`reconciler validate`: one line per finding, exit 1 on errors, --json, never a traceback."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from reconciler.cli import cli

from .conftest import BASE, REPO, Writer, line_of


def test_subprocess_reports_errors_as_file_line_col_and_exits_1(write: Writer) -> None:
    path = write(
        BASE.replace("connector: hr\n", "connector: hrr\n").replace(
            "    path: hr.csv\n", "    path: hr.csv\n    pth: x\n"
        )
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("PB_")}
    done = subprocess.run(
        [sys.executable, "-m", "reconciler", "validate", str(path)],
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO,
    )
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stdout + done.stderr
    assert done.stdout.splitlines() == [
        f"{path}:{line_of(path, 'pth: x')}:5: unknown key 'pth' in connectors.hr (did you mean 'path'?)",
        f"{path}: 1 error (rules are checked against each other once these are fixed)",
    ]
    fixed = write(BASE)
    done = subprocess.run(
        [sys.executable, "-m", "reconciler", "validate", str(fixed)], capture_output=True, text=True, cwd=REPO
    )
    assert done.returncode == 0 and done.stdout == f"{fixed}: valid (1 file, 2 connectors, 2 sync rules)\n"


def test_meaning_errors_after_a_clean_schema(write: Writer) -> None:
    path = write(BASE.replace("connector: hr\n", "connector: hrr\n"))
    result = CliRunner().invoke(cli, ["validate", str(path)])
    assert result.exit_code == 1
    assert result.output.splitlines() == [
        f"{path}:{line_of(path, 'connector: hrr')}:16: rule 'In from HR': unknown connector 'hrr' (did you mean 'hr'?)",
        f"{path}: 1 error",
    ]


def test_json_output(write: Writer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PB_CLI_SECRET", raising=False)
    text = BASE.replace("connector: hr\n", "connector: hrr\n").replace(
        "  directory:\n",
        "  corp:\n    type: ldap\n    uri: ldap://127.0.0.1\n    base_dn: dc=example,dc=org\n"
        "    password: {env: PB_CLI_SECRET}\n    object_types: {inetOrgPerson: [uid]}\n    anchor: entryUUID\n"
        "  directory:\n",
    )
    path = write(text)
    result = CliRunner().invoke(cli, ["validate", str(path), "--json"])
    assert result.exit_code == 1
    data = json.loads(result.output)
    assert data["valid"] is False and data["error_count"] == 1
    assert data["diagnostics"] == [
        {
            "severity": "warning",
            "message": "connector corp: password: environment variable PB_CLI_SECRET is not set "
            "(needed when the connector opens)",
            "file": str(path),
            "line": line_of(path, "password:"),
            "column": 15,
        },
        {
            "severity": "error",
            "message": "rule 'In from HR': unknown connector 'hrr' (did you mean 'hr'?)",
            "file": str(path),
            "line": line_of(path, "connector: hrr"),
            "column": 16,
        },
    ]


def test_warnings_do_not_fail(write: Writer) -> None:
    path = write(
        BASE.replace("    provision: true\n", "    provision: true\n    dn: '\"uid=\" & [employeeId]'\n")
    )
    result = CliRunner().invoke(cli, ["validate", str(path)])
    assert result.exit_code == 0
    assert result.output.splitlines()[-1] == f"{path}: valid (1 file, 2 connectors, 2 sync rules, 1 warning)"
    result = CliRunner().invoke(cli, ["validate", str(path), "--json"])
    assert result.exit_code == 0 and json.loads(result.output)["valid"] is True


@pytest.mark.parametrize(
    ("content", "where"),
    [
        ("version: 1\nconnectors: [\n", "3:1"),  # malformed YAML
        (
            "version: 1\nconnectors:\n  hr: {type: csv, path: 5, object_type: p, anchor: id}\n",
            "3:25",
        ),  # a wrong type
        ("version: 1\nconectors: {}\n", "2:1"),  # an unknown key
        (
            "version: 1\nconnectors:\n  corp: {type: ldap, uri: 'ldap://x', base_dn: dc=x, password: p4ssw0rd,"
            " object_types: {person: [uid]}, anchor: entryUUID}\n",
            "3:64",
        ),  # a secret in clear
    ],
)
def test_bad_input_is_one_line_and_exit_1(write: Writer, content: str, where: str) -> None:
    path = write(content)
    result = CliRunner().invoke(cli, ["validate", str(path)])
    assert result.exit_code == 1
    assert result.exception is None or isinstance(result.exception, SystemExit)
    lines = result.output.splitlines()
    assert len(lines) == 2 and lines[0].startswith(f"{path}:{where}: ") and lines[1].startswith(f"{path}: 1 error")
    assert "p4ssw0rd" not in result.output


def test_missing_playbook(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["validate", str(tmp_path / "nope.yml")])
    assert result.exit_code == 1
    assert (
        result.output.splitlines()[0]
        == f"{tmp_path / 'nope.yml'}: no such file or folder (give a playbook file or folder)"
    )
