"""What the tests of the bench/ tools share: the revision they compare with, and git."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


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
