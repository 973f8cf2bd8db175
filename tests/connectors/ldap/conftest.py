"""Fixtures of the ldap connector tests: one real slapd per session, an OU of its own per test.

The tests skip only when slapd is not installed (``make test`` installs it).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from .slapd import BASE, PASSWORD, PASSWORD_ENV, SLAPD, Slapd


@pytest.fixture(scope="session")
def slapd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Slapd]:
    if not SLAPD.exists():
        pytest.skip(f"{SLAPD} is not installed (apt-get install slapd ldap-utils; `make test` does it)")
    server = Slapd(tmp_path_factory.mktemp("slapd"))
    server.start()
    try:
        conn = server.connection()
        conn.add(BASE, ["dcObject", "organization"], {"dc": "example", "o": "Example"})
        yield server
    finally:
        server.stop()


@pytest.fixture
def ou(slapd: Slapd) -> Iterator[str]:
    """An organizational unit of the test's own under the base, removed afterwards."""
    dn = slapd.add_ou(f"t{uuid.uuid4().hex[:10]}")
    yield dn
    slapd.delete_tree(dn)


@pytest.fixture(autouse=True)
def password_env(monkeypatch: pytest.MonkeyPatch) -> str:
    """The admin's password where the playbooks' ``{env: …}`` secret names it."""
    monkeypatch.setenv(PASSWORD_ENV, PASSWORD)
    return PASSWORD_ENV


