"""An export rewrites a file all at once: a failure leaves the old file intact and nothing behind."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest

from reconciler.errors import ConnectorError

from .conftest import add, by_anchor, open_file


@pytest.mark.parametrize("fmt", ["csv", "json", "ldif"])
def test_a_disk_failure_leaves_the_old_file_intact(
    tmp_path: Path, fmt: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    conn = open_file(tmp_path, fmt, f"p.{fmt}", anchor=["uid"], dn='"uid=" & [uid]')
    conn.export([add({"uid": "ann", "cn": "Ann"})])
    before = (tmp_path / f"p.{fmt}").read_bytes()

    def full_disk(fd: int) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "fsync", full_disk)
    with pytest.raises(ConnectorError, match="No space left on device; the file is unchanged"):
        conn.export([add({"uid": "bob", "cn": "Bob"})])
    monkeypatch.undo()
    assert (tmp_path / f"p.{fmt}").read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == [f"p.{fmt}"]  # no temporary file left


def test_a_value_that_cannot_be_written_fails_the_batch_not_the_file(tmp_path: Path) -> None:
    conn = open_file(tmp_path, "csv", "p.csv", anchor=["id"])
    conn.export([add({"id": "1", "name": "Ann"})])
    before = (tmp_path / "p.csv").read_bytes()
    with pytest.raises(ConnectorError, match=r"p\.csv cannot be written"):
        conn.export([add({"id": "2", "name": "bad \udcff surrogate"})])  # not encodable as UTF-8
    assert (tmp_path / "p.csv").read_bytes() == before
    assert by_anchor(conn) == {"1": {"id": "1", "name": "Ann"}}


def test_the_rewrite_keeps_the_file_permissions(tmp_path: Path) -> None:
    conn = open_file(tmp_path, "csv", "p.csv", anchor=["id"])
    conn.export([add({"id": "1"})])
    os.chmod(tmp_path / "p.csv", 0o640)
    conn.export([add({"id": "2"})])
    assert (tmp_path / "p.csv").stat().st_mode & 0o777 == 0o640


def test_an_unreadable_file_is_never_overwritten(tmp_path: Path) -> None:
    (tmp_path / "p.json").write_text('[{"id": "1"}, {"id": ', encoding="utf-8")
    conn = open_file(tmp_path, "json", "p.json", anchor=["id"])
    with pytest.raises(ConnectorError, match=r"p.json: line 1 column \d+"):
        conn.export([add({"id": "2"})])
    assert (tmp_path / "p.json").read_text() == '[{"id": "1"}, {"id": '
