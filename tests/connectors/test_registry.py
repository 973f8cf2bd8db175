"""The connector registry: types found through the `reconciler.connectors` entry points."""

from __future__ import annotations

from importlib.metadata import EntryPoint
from pathlib import Path

import pytest

from reconciler.connectors import registry
from reconciler.connectors.files.csv_connector import CsvConnector
from reconciler.connectors.files.json_connector import JsonConnector
from reconciler.connectors.files.ldif_connector import LdifConnector
from reconciler.errors import UserError

from .conftest import make_config


def test_file_types_come_from_the_installed_entry_points() -> None:
    assert registry.connector_class("csv") is CsvConnector
    assert registry.connector_class("ldif") is LdifConnector
    assert registry.connector_class("json") is JsonConnector


def test_open_connector_builds_one_without_touching_the_system(tmp_path: Path) -> None:
    conn = registry.open_connector(make_config(tmp_path, "csv", "missing.csv", anchor=["id"]))
    assert isinstance(conn, CsvConnector) and conn.name == "hr"
    assert not (tmp_path / "missing.csv").exists()


def test_an_unknown_type_lists_the_known_ones() -> None:
    with pytest.raises(UserError) as err:
        registry.connector_class("xls")
    assert "unknown connector type 'xls'" in err.value.one_line()
    assert "csv, graph, json, ldap, ldif" in err.value.one_line()


def test_graph_comes_from_its_entry_point() -> None:
    assert registry._entry_points()["graph"].value == "reconciler.connectors.graph.connector:GraphConnector"
    assert "graph" not in registry.PLANNED and "graph" in registry.known_types()


def test_a_graph_connector_without_its_sdk_says_how_to_install_it(monkeypatch: pytest.MonkeyPatch) -> None:
    missing = EntryPoint("graph", "reconciler_tests_no_such_sdk.connector:GraphConnector", registry.GROUP)
    monkeypatch.setattr(registry, "_entry_points", lambda: {"graph": missing})
    with pytest.raises(UserError) as err:
        registry.connector_class("graph")
    assert "pip install 'reconciler[graph]'" in err.value.one_line()
