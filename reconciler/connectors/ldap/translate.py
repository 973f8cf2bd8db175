"""LDAP results and ldap3 exceptions in the reconciler's terms, at the connector's boundary.

A failure of the whole connection (cannot connect, bind refused, server unavailable) becomes a
``ConnectionFailed``; a busy server a ``ThrottledError``; a request the schema rejects a
``SchemaMismatch``; one object's failure during an export is a one-line text for its ``ExportResult``.
No message ever holds the password: the bind's text names the DN and where the password comes from.
"""

from __future__ import annotations

import re
from typing import Any

from reconciler.errors import ConnectionFailed, ConnectorError, SchemaMismatch, ThrottledError

SUCCESS = 0
SIZE_LIMIT = 4
NO_SUCH_ATTRIBUTE = 16
NO_SUCH_OBJECT = 32
INVALID_CREDENTIALS = 49
INSUFFICIENT_ACCESS = 50
BUSY = 51
UNAVAILABLE = 52
NOT_ALLOWED_ON_NON_LEAF = 66
ALREADY_EXISTS = 68

#: Codes after which the same request can succeed later (time and admin limits, busy, unavailable).
RETRYABLE = frozenset({3, 11, BUSY, UNAVAILABLE})
#: Codes by which the server's schema rejects a request.
SCHEMA = frozenset({NO_SUCH_ATTRIBUTE, 17, 18, 19, 21, 64, 65, 67, 69})

_CAMEL = re.compile(r"(?<=[a-z])(?=[A-Z])")


def describe(result: dict[str, Any]) -> str:
    """One line for an LDAP result: its meaning in words, then the server's diagnostic message."""
    code = result.get("result")
    name = str(result.get("description") or f"result {code}")
    words = _CAMEL.sub(" ", name).lower() if name[:1].islower() else name
    message = " ".join(str(result.get("message") or "").split())
    return f"{words}: {message}" if message else words


def object_error(result: dict[str, Any], op: str, dn: str) -> str:
    """The text of one object's failed operation, with the fix when there is a usual one."""
    from reconciler.connectors.ldap.dn import parent

    code = result.get("result")
    text = describe(result)
    if code == NO_SUCH_OBJECT and op == "add":
        missing = parent(dn)
        return (f"the parent {missing} does not exist ({text}); create it, or give the rule a `dn` "
                "under an existing container")  # fmt: skip
    if code == NO_SUCH_OBJECT:
        return f"{dn} does not exist in the directory ({text})"
    if code == ALREADY_EXISTS:
        return f"an entry {dn} already exists ({text}); join it with a join rule instead of provisioning"
    if code == NOT_ALLOWED_ON_NON_LEAF:
        return f"{dn} has entries below it ({text}); delete or move them first"
    if code == INSUFFICIENT_ACCESS:
        return f"the bind DN may not {op} {dn} ({text})"
    return f"{op} refused: {text}"


def raise_for(result: dict[str, Any], what: str, connector: str, uri: str) -> None:
    """Raise the ConnectorError a failed whole-run request (a search, a bind) means."""
    code = result.get("result")
    text = f"{what}: {describe(result)}"
    if code == BUSY:
        raise ThrottledError(f"{uri} is busy ({text})", connector=connector,
                             hint="the next run retries; lower page_size or run less often")  # fmt: skip
    if code in RETRYABLE:
        raise ConnectionFailed(f"{uri}: {text}", connector=connector, hint="the next run retries")
    if code in SCHEMA:
        raise SchemaMismatch(f"{uri}: {text}", connector=connector,
                             hint="check object_types against `reconciler connector schema`")  # fmt: skip
    if code == SIZE_LIMIT:
        raise ConnectorError(f"{uri}: {text}", connector=connector,
                             hint="the server cut a paged search: allow it (OpenLDAP: sizelimit "
                                  "size.pr=unlimited size.prtotal=unlimited)")  # fmt: skip
    if code == NO_SUCH_OBJECT:
        raise ConnectorError(f"{uri}: {text}", connector=connector,
                             hint="check base_dn and containers: they must exist in the directory")  # fmt: skip
    if code == INSUFFICIENT_ACCESS:
        raise ConnectorError(f"{uri}: {text}", connector=connector,
                             hint="give the bind DN read access to what the connector reads")  # fmt: skip
    raise ConnectorError(f"{uri}: {text}", connector=connector)


def communication_failure(exc: BaseException, uri: str, connector: str, doing: str) -> ConnectionFailed:
    """A socket-level failure (refused, reset, timed out, TLS) as a retryable ConnectionFailed."""
    reason = " ".join(str(exc).split()) or type(exc).__name__
    # ldap3 repeats the server in its text: keep the reason, drop the noise around it
    reason = reason.replace("socket connection error while opening:", "").strip(" :")
    return ConnectionFailed(
        f"cannot {doing} {uri}: {reason}",
        connector=connector,
        hint="check the uri, that the server runs and that this host may reach it",
    )
