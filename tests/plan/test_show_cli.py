"""`reconciler show` through the real CLI process, and the progress display in CI."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

from reconciler.plan.planfile import Plan, write_plan
from reconciler.plan.progress import Progress

from .samples import mixed


def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "reconciler", *args], capture_output=True, text=True, cwd=cwd, timeout=60
    )


def test_show_renders_a_saved_plan_in_every_format(tmp_path: Path) -> None:
    path = tmp_path / "plan.json"
    write_plan(Plan.build(mixed(), playbook="pb.yml", playbook_digest="p" * 64, state_version=1), path)
    text = run("show", str(path))
    assert text.returncode == 0, text.stderr
    assert text.stdout.rstrip().endswith("Plan: 1 to add, 2 to change, 1 to rename, 1 to delete.")
    assert "123-45-6789" not in text.stdout
    md = run("show", str(path), "--format", "md")
    assert "```diff" in md.stdout
    as_json = json.loads(run("show", str(path), "--json").stdout)
    assert as_json["summary"]["delete"] == 1
    assert run("show", str(path), "--format", "html").stdout.startswith("<!DOCTYPE html>")


def test_show_of_a_bad_file_is_one_line_exit_1(tmp_path: Path) -> None:
    bad = tmp_path / "plan.json"
    bad.write_text("{not json")
    result = run("show", str(bad))
    assert result.returncode == 1
    assert result.stderr.startswith("error: plan file ") and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    missing = run("show", str(tmp_path / "none.json"))
    assert missing.returncode == 1 and "cannot be read" in missing.stderr


def test_progress_prints_plain_lines_without_a_terminal() -> None:
    out = io.StringIO()
    with Progress(out, tty=False, delay=0.0, interval=0.0) as progress:
        progress("import hr", 0, 3)
        progress("import hr", 2, 3)
        progress("import hr", 3, 3)
    lines = out.getvalue().splitlines()
    assert lines[0] == "import hr: 0/3" and lines[-1] == "import hr: 3/3 done"
    assert all("\r" not in line and "\x1b" not in line for line in lines)
    quiet = io.StringIO()
    with Progress(quiet, tty=False) as progress:  # a quick stage says nothing
        progress("export corp", 0, 2)
        progress("export corp", 2, 2)
    assert quiet.getvalue() == ""


def test_progress_on_a_terminal_uses_a_bar() -> None:
    out = io.StringIO()
    with Progress(out, tty=True) as progress:
        progress("import hr", 5, 10)
        assert progress._rich is not None
