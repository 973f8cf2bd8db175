"""One bound ldap3 connection to the directory, its root DSE, and searches that page.

The connection opens at the first request, binds, reads the root DSE (naming contexts, supported
controls) and is kept for the connector's life; a connection left idle long enough for the server
to drop it is checked and opened again before it is used. The password is revealed only for the
bind and dropped from the ldap3 connection right after (ldap3 prints it in its ``repr``).
Every ldap3 failure is translated here (``translate``), ``raise … from exc``.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from typing import Any

from reconciler.connectors.ldap import translate
from reconciler.connectors.ldap.settings import Settings
from reconciler.errors import ConnectionFailed, ConnectorError, UserError

PAGED_RESULTS = "1.2.840.113556.1.4.319"
IDLE_CHECK = 60.0  # seconds a connection may sit unused before it is checked again

_ROOT_ATTRIBUTES = [
    "namingContexts", "supportedControl", "supportedExtension", "subschemaSubentry", "vendorName",
    "vendorVersion", "supportedLDAPVersion",
]  # fmt: skip


class Lost(Exception):
    """The connection broke in the middle of a request (internal: the caller decides what it means)."""

    def __init__(self, error: ConnectionFailed) -> None:
        super().__init__(error.message)
        self.error = error


class Directory:
    """A bound connection to ``settings.uri`` (opened lazily)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._conn: Any = None
        self.root: dict[str, list[str]] = {}
        self._last_used = 0.0

    # ----------------------------------------------------------- connection
    @property
    def uri(self) -> str:
        return self.settings.uri

    def connection(self) -> Any:
        """The bound ldap3 connection (opened, or checked after a long idle time, here)."""
        if self._conn is not None and time.monotonic() - self._last_used > IDLE_CHECK:
            try:
                self._conn.search("", "(objectClass=*)", "BASE", attributes=["1.1"])
            except Exception:  # any failure of the check means: connect again
                self.close()
        if self._conn is None:
            self._conn = self._open()
        self._last_used = time.monotonic()
        return self._conn

    def _open(self) -> Any:
        import ssl

        import ldap3
        from ldap3.core.exceptions import LDAPException

        s = self.settings
        tls = None
        if s.use_ssl:
            tls = ldap3.Tls(validate=ssl.CERT_REQUIRED, ca_certs_file=str(s.ca_file) if s.ca_file else None)
        try:
            server = ldap3.Server(s.uri, get_info=ldap3.NONE, connect_timeout=int(s.timeout), tls=tls)
        except LDAPException as exc:
            raise UserError(f"connector {s.name}: uri {s.uri} is not usable: {exc}",
                            hint="e.g. uri: ldap://ldap.example.org:389") from exc  # fmt: skip
        conn = ldap3.Connection(
            server, user=s.bind_dn, password=s.reveal_password(), raise_exceptions=False, auto_referrals=False,
            receive_timeout=int(s.timeout), return_empty_attributes=False,
        )  # fmt: skip
        try:
            conn.open()
            if s.use_ssl and not s.uri.lower().startswith("ldaps://"):
                conn.start_tls()
            bound = conn.bind()
        except (LDAPException, OSError) as exc:
            raise translate.communication_failure(exc, s.uri, s.name, "connect to") from exc
        finally:
            conn.password = None  # ldap3 prints it in repr(); it is not needed after the bind
        if not bound:
            result = dict(conn.result or {})
            conn.unbind()
            who = s.bind_dn or "anonymous"
            if result.get("result") == translate.INVALID_CREDENTIALS:
                raise ConnectionFailed(
                    f"{s.uri} refused the bind as {who}: invalid credentials",
                    connector=s.name,
                    hint=f"check bind_dn, and the password from {s.password_source}",
                    retryable=False,
                )
            translate.raise_for(result, f"bind as {who}", s.name, s.uri)
        self._last_used = time.monotonic()
        try:
            ok = conn.search("", "(objectClass=*)", "BASE", attributes=_ROOT_ATTRIBUTES)
        except LDAPException as exc:
            raise translate.communication_failure(exc, s.uri, s.name, "read the root DSE of") from exc
        self.root = {}
        if ok and conn.response:
            raw = conn.response[0].get("raw_attributes") or {}
            self.root = {k.lower(): [v.decode("utf-8", "replace") for v in vals] for k, vals in raw.items()}
        return conn

    def close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            with contextlib.suppress(Exception):  # closing a broken connection is not a failure
                conn.unbind()

    # ----------------------------------------------------------- root DSE
    @property
    def naming_contexts(self) -> list[str]:
        self.connection()
        return self.root.get("namingcontexts", [])

    # ----------------------------------------------------------- reads
    def search(
        self,
        base: str,
        search_filter: str,
        attributes: list[str],
        *,
        scope: str = "SUBTREE",
        paged: bool = True,
        size_limit: int = 0,
        missing_ok: bool = False,
    ) -> Iterator[dict[str, Any]]:
        """The entries (ldap3 response dicts) of a search, a page at a time; a base that does not
        exist gives nothing when ``missing_ok``."""
        from ldap3.core.exceptions import LDAPException

        conn = self.connection()
        page = self.settings.page_size if paged else 0
        cookie: Any = None
        while True:
            try:
                conn.search(
                    base, search_filter, scope, attributes=attributes, paged_size=page or None,
                    paged_cookie=cookie, size_limit=size_limit, dereference_aliases="NEVER",
                )  # fmt: skip
            except _broken() as exc:
                self.close()
                raise translate.communication_failure(exc, self.uri, self.settings.name, "search") from exc
            except LDAPException as exc:
                raise ConnectorError(f"{self.uri}: search of {base} refused by ldap3: {exc}",
                                     connector=self.settings.name) from exc
            result = conn.result or {}
            code = result.get("result")
            if code == translate.NO_SUCH_OBJECT and missing_ok:
                return
            if code != translate.SUCCESS and not (code == translate.SIZE_LIMIT and size_limit):
                translate.raise_for(result, f"search of {base or 'the root DSE'}", self.settings.name, self.uri)
            entries = conn.response or []
            self._last_used = time.monotonic()
            for e in entries:
                if e.get("type") == "searchResEntry":
                    yield e
            if not page:
                return
            cookie = (((result.get("controls") or {}).get(PAGED_RESULTS) or {}).get("value") or {}).get("cookie")
            if not cookie:
                return

    def read(self, dn: str, attributes: list[str]) -> dict[str, Any] | None:
        """One entry by DN, or None when there is none."""
        for e in self.search(dn, "(objectClass=*)", attributes, scope="BASE", paged=False, missing_ok=True):
            return e
        return None

    # ----------------------------------------------------------- writes
    def write(self, op: str, *args: Any, **kw: Any) -> dict[str, Any]:
        """Run one write (``add``, ``modify``, ``modify_dn``, ``delete``) and return its LDAP result;
        raise ``Lost`` when the connection broke (the write may or may not have been applied)."""
        from ldap3.core.exceptions import LDAPException

        conn = self.connection()
        try:
            getattr(conn, op)(*args, **kw)
        except _broken() as exc:
            self.close()
            raise Lost(translate.communication_failure(exc, self.uri, self.settings.name, f"{op} on")) from exc
        except LDAPException as exc:  # refused by ldap3 before it was sent (a malformed DN or value)
            return {"result": 34 if "dn" in type(exc).__name__.lower() else 21,
                    "description": type(exc).__name__.removeprefix("LDAP"), "message": str(exc)}  # fmt: skip
        self._last_used = time.monotonic()
        return conn.result or {}


def _broken() -> tuple[type[BaseException], ...]:
    """The ldap3 exceptions that mean the connection is gone (or its answer did not come in time)."""
    from ldap3.core.exceptions import LDAPCommunicationError, LDAPResponseTimeoutError

    return (LDAPCommunicationError, LDAPResponseTimeoutError, OSError)
