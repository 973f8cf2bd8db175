"""``reconciler expr``: one line of JSON on success, ``error: …`` and exit 1 otherwise, never a traceback."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from reconciler.cli.expr_cmd import command

ROOT = Path(__file__).resolve().parents[2]


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(command, list(args))
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.stdout, result.stderr


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (['[givenName] & " " & [sn]', "--attrs", '{"givenName": "Ada", "sn": "Lovelace"}'], "Ada Lovelace"),
        (["[missing]"], None),
        (["Trim([p])", "--attrs", '{"p": [" a ", "b "]}'], ["a", "b"]),
        (['CDate("2013-01-10 4:00 PM -8")'], "2013-01-11T00:00:00Z"),
        (['DateAdd("d", 1, Now())', "--now", "2024-02-28T10:00:00Z"], "2024-02-29T10:00:00Z"),
        (["IgnoreThisFlow"], "IgnoreThisFlow"),
        (["AuthoritativeNull"], "AuthoritativeNull"),
        (["%Domain.Netbios%", "--param", "Domain.Netbios=CONTOSO"], "CONTOSO"),
        (["%A% & %B%", "--param", "A=x=1", "--param", "%B%=y"], "x=1y"),
        (['CGuid("00001111-aaaa-2222-bbbb-3333cccc4444")'], "EREAAKqqIiK7uzMzzMxERA=="),
        (["10-2*3"], 24),
        (["[flag]", "--attrs", '{"flag": true}'], True),
        (['ImportedValue("p")', "--attrs", '{"p": "new"}', "--imported", '{"p": "old"}'], "old"),
        (['"ünïcödé"'], "ünïcödé"),
    ],
)
def test_prints_one_line_of_json(args: list[str], expected: object) -> None:
    code, out, err = run(*args)
    assert code == 0, err
    assert out.count("\n") == 1
    assert json.loads(out) == expected


def test_attrs_from_a_file(tmp_path: Path) -> None:
    path = tmp_path / "attrs.json"
    path.write_text('{"sn": "Lovelace"}', encoding="utf-8")
    code, out, _ = run("UCase([sn])", "--attrs", f"@{path}")
    assert code == 0 and json.loads(out) == "LOVELACE"


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["LCase([a]"], "error: syntax error at column 10"),
        (["Lcas([a])"], "did you mean LCase?"),
        (['Error("boom")'], "error: Error: boom"),
        (["1/0"], "division by zero"),
        (["[a]", "--attrs", "{not json"], "--attrs is not valid JSON"),
        (["[a]", "--attrs", "[1, 2]"], "must be a JSON object"),
        (["%X%"], "parameter %X% is not defined"),
        (["[a]", "--param", "novalue"], "must be NAME=VALUE"),
        (["Now()", "--now", "yesterday"], "is not a date"),
        (["[a]", "--attrs", "@/nonexistent/file.json"], "cannot read"),
    ],
)
def test_errors_exit_1_with_one_line(args: list[str], fragment: str) -> None:
    code, out, err = run(*args)
    assert code == 1
    assert out == ""
    assert err.startswith("error: ") and err.count("\n") == 1
    assert fragment in err
    assert "Traceback" not in err


def test_help_has_an_example() -> None:
    code, out, _ = run("--help")
    assert code == 0 and "Examples:" in out and "reconciler expr '[givenName]" in out


def _subprocess(*args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    return subprocess.run(
        [sys.executable, "-m", "reconciler.cli.expr_cmd", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=60,
    )


def test_real_subprocess() -> None:
    done = _subprocess('Join(Split([p], ";"), ",")', "--attrs", '{"p": "a;b"}')
    assert done.returncode == 0, done.stderr
    assert done.stdout == '"a,b"\n'
    failed = _subprocess("Left([a], 1")
    assert failed.returncode == 1
    assert failed.stderr.startswith("error: syntax error at column")
    assert "Traceback" not in failed.stderr


def test_through_the_reconciler_group_when_it_is_wired() -> None:
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    probe = subprocess.run(
        [sys.executable, "-c", "import reconciler.cli as c; assert 'expr' in c.VERBS and hasattr(c, 'main')"],
        capture_output=True,
        env=env,
        cwd=ROOT,
    )
    if probe.returncode != 0:
        pytest.skip("the reconciler CLI group is not wired yet")
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; from reconciler.cli import main; sys.argv[0] = 'reconciler'; main()",
            "expr",
            "UCase([a])",
            "--attrs",
            '{"a": "x"}',
        ],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == '"X"\n'
