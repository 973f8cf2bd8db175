"""Helpers for the file connector tests: real files in tmp_path, connectors opened through the registry."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from reconciler.connectors.base import Connector, ExportChange, ImportedObject
from reconciler.connectors.registry import open_connector
from reconciler.playbook.model import ConnectorConfig, ReferenceDef


def make_config(tmp_path: Path, type_: str, path: str, **kw: Any) -> ConnectorConfig:
    refs = kw.pop("references", {})
    references = {
        a: ReferenceDef(a, key=k)
        if isinstance(k, str)
        else ReferenceDef(a, key=k["key"], connector=k["connector"])
        for a, k in refs.items()
    }
    kw.setdefault("object_type", "person")
    options = {"path": path, **kw.pop("options_extra", {})}
    return ConnectorConfig(
        name=kw.pop("name", "hr"), type=type_, options=options, base_dir=tmp_path,
        references=references, **kw,
    )  # fmt: skip


def open_file(tmp_path: Path, type_: str, path: str, **kw: Any) -> Connector:
    return open_connector(make_config(tmp_path, type_, path, **kw))


def imported(conn: Connector) -> list[ImportedObject]:
    return list(conn.full_import().objects)


def by_anchor(conn: Connector) -> dict[str, dict[str, Any]]:
    return {o.anchor: o.attributes for o in imported(conn) if o.error is None and o.anchor}


def add(attrs: dict[str, Any], key: int = 1, object_type: str = "person", dn: str = "") -> ExportChange:
    return ExportChange("add", dn, object_type, attributes=attrs, key=key)


@pytest.fixture
def hr_csv(tmp_path: Path) -> Path:
    path = tmp_path / "hr.csv"
    path.write_text(
        "employeeId,givenName,sn,manager,mail\n"
        "1,Ann,Lee,,ann@example.org;a.lee@example.org\n"
        "2,Bob,Ray,1,\n"
        "3,Cid,Poe,1,cid@example.org\n",
        encoding="utf-8",
    )
    return path
