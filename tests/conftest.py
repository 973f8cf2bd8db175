"""What tests share: the revision the bench/ tools compare with, git, and ``--expect-compiled``."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def pytest_addoption(parser: pytest.Parser) -> None:
    # an option, not an environment variable: bench/instructions.py hands the environment on to the runs it
    # counts, which a test compares to within a percent
    parser.addoption("--expect-compiled", action="store_true",
                     help="fail, rather than skip, where the hot modules are not all compiled (make test)")  # fmt: skip


def git(*args: str) -> str:
    return subprocess.run(["git", "-C", str(ROOT), *args], capture_output=True, text=True, check=True).stdout


@pytest.fixture
def head_revision() -> Iterator[str]:
    """HEAD's hash (the test skips outside a git checkout); afterwards, no worktree is left behind."""
    try:
        head = git("rev-parse", "HEAD").strip()
    except (OSError, subprocess.CalledProcessError):
        pytest.skip("not a git checkout")
    before = git("worktree", "list")
    yield head
    assert git("worktree", "list") == before
