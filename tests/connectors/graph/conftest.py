"""Fixtures of the graph connector tests: one Graph-compatible server per session (HTTPS, its own CA),
an empty tenant per test, and the client secret where the playbooks' ``{env: …}`` names it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from reconciler.playbook.model import ConnectorConfig, Secret

from .server import CLIENT_ID, SECRET, SECRET_ENV, TENANT, Directory, GraphHTTPServer, running

USER_ATTRS = ["displayName", "userPrincipalName", "mailNickname", "givenName", "surname", "department",
              "accountEnabled", "manager", "passwordProfile"]  # fmt: skip


@pytest.fixture(scope="session")
def graph_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[GraphHTTPServer, Path]]:
    with running(tmp_path_factory.mktemp("graph")) as found:
        yield found


@pytest.fixture
def graph(graph_server: tuple[GraphHTTPServer, Path]) -> GraphHTTPServer:
    """The server with an empty tenant."""
    server = graph_server[0]
    server.directory = Directory()
    return server


@pytest.fixture
def ca_file(graph_server: tuple[GraphHTTPServer, Path]) -> Path:
    return graph_server[1]


@pytest.fixture(autouse=True)
def secret_env(monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv(SECRET_ENV, SECRET)
    return SECRET_ENV


def graph_config(server: GraphHTTPServer, ca_file: Path, **options: Any) -> ConnectorConfig:
    object_types = options.pop("object_types", {"user": USER_ATTRS})
    opts: dict[str, Any] = {
        "tenant": TENANT, "client_id": CLIENT_ID, "endpoint": server.base, "authority": server.base,
        "ca_file": str(ca_file), "client_secret": Secret("env", SECRET_ENV, ca_file.parent), **options,
    }  # fmt: skip
    return ConnectorConfig(name="entra", type="graph", anchor=["id"], object_types=object_types, options=opts,
                           base_dir=ca_file.parent)  # fmt: skip
