"""The CLI surface: every verb of DESIGN.md answers --help with an example, fast, without heavy imports."""

from __future__ import annotations

import subprocess
import sys
import time

import click
import pytest
from click.testing import CliRunner

from reconciler import __version__
from reconciler.cli import VERBS, cli

GROUP_VERBS = {"search": ["cs", "mv"], "connector": ["test", "schema", "clear", "rescan"]}


@pytest.mark.parametrize("verb", sorted(VERBS))
def test_every_verb_has_help_with_an_example(verb: str) -> None:
    runner = CliRunner()
    paths = [[verb, sub] for sub in GROUP_VERBS[verb]] if verb in GROUP_VERBS else [[verb]]
    for path in paths:
        result = runner.invoke(cli, [*path, "--help"])
        assert result.exit_code == 0, result.output
        assert "Example" in result.output or "reconciler " in result.output, path


def test_version() -> None:
    result = CliRunner().invoke(cli, ["--version"])
    assert result.exit_code == 0
    assert __version__ in result.output


def test_version_says_whether_the_hot_modules_run_compiled(monkeypatch: pytest.MonkeyPatch) -> None:
    from reconciler import accel

    monkeypatch.setenv(accel.PURE_ENV, "1")
    monkeypatch.setattr(accel, "active", lambda: None)
    assert "pure Python: RECONCILER_PURE_PYTHON is set" in CliRunner().invoke(cli, ["--version"]).output
    monkeypatch.delenv(accel.PURE_ENV)
    assert "`python -m reconciler.accel` compiles" in CliRunner().invoke(cli, ["--version"]).output
    if accel.status()[0]:  # built here (make test builds them)
        monkeypatch.setattr(accel, "active", lambda: object())
        out = CliRunner().invoke(cli, ["--version"]).output
        assert f"{len(accel.status()[0])} of {len(accel.COMPILED)} hot modules compiled" in out


def test_help_is_fast_and_imports_no_sdk() -> None:
    code = (
        "import sys, time; t=time.perf_counter();"
        "from reconciler.cli import cli;"
        "import contextlib, io\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    try: cli(['--help'], prog_name='reconciler')\n"
        "    except SystemExit: pass\n"
        "heavy=[m for m in sys.modules if m.split('.')[0] in ('msgraph','azure','ldap3','deepdiff','rich')]\n"
        "print(time.perf_counter()-t, heavy)"
    )
    start = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    wall = time.perf_counter() - start
    elapsed, heavy = out.split(" ", 1)
    assert heavy.strip() == "[]", f"--help imported {heavy}"
    assert float(elapsed) < 0.5
    assert wall < 3


def test_unknown_verb_is_one_line_exit_2() -> None:
    result = CliRunner().invoke(cli, ["frobnicate"])
    assert result.exit_code == 2
    assert "Traceback" not in result.output


# the verb table of DESIGN.md ("Command line"): a verb added or renamed there must show up here
DESIGN_VERBS = {
    "validate", "plan", "show", "apply", "drift", "run", "search", "explain", "history", "connector", "expr",
}  # fmt: skip


def test_the_verbs_are_exactly_those_of_the_design() -> None:
    assert set(VERBS) == DESIGN_VERBS
    assert set(cli.list_commands(click.Context(cli))) == DESIGN_VERBS


@pytest.mark.parametrize("verb", sorted(DESIGN_VERBS))
def test_every_help_shows_an_example_command(verb: str) -> None:
    paths = [[verb, sub] for sub in GROUP_VERBS[verb]] if verb in GROUP_VERBS else [[verb]]
    for path in paths:
        out = CliRunner().invoke(cli, [*path, "--help"]).output
        assert "Example" in out and f"reconciler {' '.join(path)}" in out, (path, out)
