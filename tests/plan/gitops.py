"""A small HR → directory playbook on CSV files, and a CLI runner in a subprocess, for the GitOps tests."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

PLAYBOOK = """\
version: 1
metaverse:
  person:
    employeeId:  {type: string}
    displayName: {type: string}
    department:  {type: string}
    nationalId:  {type: string, sensitive: true}
connectors:
  hr:
    type: csv
    path: hr.csv
    object_type: person
    anchor: employeeId
  dir:
    type: csv
    path: dir.csv
    object_type: person
    anchor: employeeId
    columns: [employeeId, displayName, department, nationalId]
    delete_threshold: %(threshold)d
sync_rules:
  - name: In from HR
    connector: hr
    direction: inbound
    cs_type: person
    mv_type: person
    precedence: 100
    join:
      - [{cs: employeeId, mv: employeeId}]
    project: true
    flows:
      - {mv: employeeId, cs: employeeId}
      - {mv: displayName, expression: '[givenName] & " " & [sn]'}
      - {mv: department, cs: department}
      - {mv: nationalId, cs: nationalId}
  - name: Out to directory
    connector: dir
    direction: outbound
    mv_type: person
    cs_type: person
    precedence: 100
    provision: true
    deprovision: delete
    flows:
      - {cs: employeeId, mv: employeeId}
      - {cs: displayName, mv: displayName}
      - {cs: department, mv: %(department)s}
      - {cs: nationalId, mv: nationalId}
"""

HR_HEADER = ["employeeId", "givenName", "sn", "department", "nationalId"]


@dataclass
class Result:
    code: int
    out: str
    err: str

    def json(self) -> Any:
        return json.loads(self.out)


class Workspace:
    """A playbook folder: hr.csv is the source, dir.csv the target the engine provisions."""

    def __init__(self, root: Path, people: int = 3, threshold: int = 500) -> None:
        self.root = root
        self.threshold = threshold
        self.write_playbook()
        self.people = {
            str(i): {
                "employeeId": str(i),
                "givenName": f"Given{i}",
                "sn": f"Sur{i}",
                "department": "Sales",
                "nationalId": f"NID-{i:04d}-SECRET",
            }
            for i in range(1, people + 1)
        }
        self.write_hr()

    @property
    def playbook(self) -> Path:
        return self.root / "playbook.yml"

    def write_playbook(self, department: str = "department") -> None:
        self.playbook.write_text(PLAYBOOK % {"threshold": self.threshold, "department": department})

    def write_hr(self) -> None:
        buf = io.StringIO()
        writer = csv.DictWriter(buf, HR_HEADER, lineterminator="\n")
        writer.writeheader()
        writer.writerows(self.people.values())
        (self.root / "hr.csv").write_text(buf.getvalue())

    def directory(self) -> dict[str, dict[str, str]]:
        path = self.root / "dir.csv"
        if not path.exists():
            return {}
        return {row["employeeId"]: row for row in csv.DictReader(io.StringIO(path.read_text()))}

    def write_directory(self, rows: dict[str, dict[str, str]]) -> None:
        columns = ["employeeId", "displayName", "department", "nationalId"]
        buf = io.StringIO()
        writer = csv.DictWriter(buf, columns, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows.values())
        (self.root / "dir.csv").write_text(buf.getvalue())

    def run(self, *args: str, stdin: str | None = None) -> Result:
        proc = subprocess.run(
            [sys.executable, "-m", "reconciler", *args],
            cwd=self.root,
            capture_output=True,
            text=True,
            input=stdin if stdin is not None else "",
            timeout=120,
            env={**os.environ, "NO_COLOR": "1"},
        )
        return Result(proc.returncode, proc.stdout, proc.stderr)

    def state_version(self) -> int:
        # a plan reports the state version it started from, and commits nothing itself
        result = self.run("plan", "playbook.yml", "--json")
        assert result.code == 0, result.err
        return int(result.json()["state_version"])
