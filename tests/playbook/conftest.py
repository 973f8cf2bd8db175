"""Helpers for playbook tests: write a playbook into a temporary folder and validate it."""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

from reconciler.playbook import ValidationReport, validate_playbook

REPO = Path(__file__).resolve().parents[2]
DATA = Path(__file__).parent / "data"

#: A small valid playbook; tests edit a copy of it.
BASE = """\
version: 1
metaverse:
  person:
    employeeId: {type: string}
    displayName: {type: string}
    manager: {type: reference}
    mail: {type: string}
connectors:
  hr:
    type: csv
    path: hr.csv
    object_type: person
    anchor: employeeId
    references: {manager: employeeId}
  directory:
    type: csv
    path: directory.csv
    object_type: person
    anchor: uid
    columns: [uid, cn, mail, manager]
    references: {manager: uid}
sync_rules:
  - name: In from HR
    connector: hr
    direction: inbound
    cs_type: person
    mv_type: person
    precedence: 100
    scope: [[{attribute: status, op: EQUAL, value: active}]]
    join: [[{cs: employeeId, mv: employeeId}]]
    project: true
    flows:
      - {mv: employeeId, cs: employeeId}
      - {mv: displayName, expression: '[givenName] & " " & [sn]'}
      - {mv: manager, cs: manager}
  - name: Out to directory
    connector: directory
    direction: outbound
    mv_type: person
    cs_type: person
    precedence: 100
    provision: true
    flows:
      - {cs: uid, mv: employeeId}
      - {cs: cn, mv: displayName}
      - {cs: manager, mv: manager}
      - {cs: mail, expression: 'LCase([displayName]) & "@example.org"', initial_only: true}
"""
HR_CSV = "employeeId,givenName,sn,status,manager\n1,Ada,Lovelace,active,\n2,Alan,Turing,active,1\n"

Writer = Callable[..., Path]


@pytest.fixture
def write(tmp_path: Path) -> Writer:
    """write(text, name="pb.yml") -> path of the written playbook file (hr.csv alongside)."""
    (tmp_path / "hr.csv").write_text(HR_CSV, encoding="utf-8")

    def _write(text: str, name: str = "pb.yml") -> Path:
        path = tmp_path / name
        path.write_text(textwrap.dedent(text), encoding="utf-8")
        return path

    return _write


def errors_of(report: ValidationReport) -> list[str]:
    return [str(d) for d in report.errors]


def only_error(path: Path) -> str:
    """The one error of the playbook at ``path``, as printed (FILE:LINE:COL: message)."""
    report = validate_playbook(path)
    assert len(report.errors) == 1, errors_of(report)
    return str(report.errors[0])


def line_of(path: Path, needle: str, occurrence: int = 1) -> int:
    """The 1-based line of ``path`` holding ``needle`` (its n-th occurrence)."""
    seen = 0
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if needle in line:
            seen += 1
            if seen == occurrence:
                return number
    raise AssertionError(f"{needle!r} not in {path}")
