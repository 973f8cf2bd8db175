"""Failures of msgraph-sdk, kiota, httpx and azure-identity, translated into reconciler errors.

``translate`` never lets a secret through: messages come from Graph's error body (``error.message``)
or from the login service's ``AADSTS…`` line, which name the client, never its secret.
"""

from __future__ import annotations

import re
from typing import Any

from reconciler.connectors.graph.settings import Settings
from reconciler.errors import (
    ConnectionFailed,
    ConnectorError,
    ObjectError,
    ReconcilerError,
    ThrottledError,
)

THROTTLED = frozenset({429, 503})


class GraphFailure(Exception):
    """A request that failed; ``error`` is the reconciler error it means, ``status`` Graph's HTTP status."""

    def __init__(self, error: ReconcilerError, status: int | None = None, code: str | None = None) -> None:
        super().__init__(error.message)
        self.error = error
        self.status = status
        self.code = code

    @property
    def batch(self) -> bool:
        """Whether the failure concerns the whole run (connection, credentials, throttling), not one object."""
        return isinstance(self.error, ConnectionFailed | ThrottledError)


def status_of(exc: BaseException) -> int | None:
    status = getattr(exc, "response_status_code", None)
    return status if isinstance(status, int) else None


def throttled(exc: BaseException) -> float | None:
    """Seconds to wait before retrying when ``exc`` says Graph is throttling (429/503), else None."""
    if status_of(exc) not in THROTTLED:
        return None
    headers = getattr(exc, "response_headers", None) or {}
    value = next((v for k, v in headers.items() if k.lower() == "retry-after"), None)
    if isinstance(value, list):
        value = value[0] if value else None
    try:
        return float(value) if value is not None else 1.0
    except ValueError:
        return 1.0


def graph_message(exc: BaseException) -> tuple[str | None, str]:
    """Graph's error code and message (one line) of an ODataError."""
    error = getattr(exc, "error", None)
    code = getattr(error, "code", None)
    message = getattr(error, "message", None) or getattr(exc, "message", None) or str(exc) or type(exc).__name__
    return code, one_line(str(message))


def one_line(text: str) -> str:
    line = " ".join(text.split())
    line = re.split(r"\s+Trace ID:|\s+Correlation ID:|\s+Timestamp:", line)[0]
    return line[:400]


def login_message(exc: BaseException) -> str:
    """The login service's reason (``AADSTS…: …``), or the first line of the error."""
    text = str(getattr(exc, "message", None) or exc)
    match = re.search(r"AADSTS\d+:[^\r\n]*", text)
    return one_line(match.group(0) if match else text.splitlines()[0] if text else type(exc).__name__)


def translate(exc: BaseException, s: Settings, what: str) -> GraphFailure:
    """The ``GraphFailure`` an SDK exception means; ``what`` names the request (for the message)."""
    name = s.name
    if isinstance(exc, ReconcilerError):
        return GraphFailure(exc)
    kind = type(exc).__name__
    module = type(exc).__module__
    if kind == "ClientAuthenticationError" or (module.startswith("azure.identity") and "Credential" in kind):
        return GraphFailure(ConnectionFailed(
            f"authentication failed for client {s.client_id} at tenant {s.tenant} ({s.authority}): "
            f"{login_message(exc)}", connector=name,
            hint=f"check tenant, client_id and the {s.credential_source}",
        ))  # fmt: skip
    if module.startswith("azure.core") and kind in ("ServiceRequestError", "ServiceResponseError"):
        return GraphFailure(ConnectionFailed(f"cannot reach the login service {s.authority}: {login_message(exc)}",
                                             connector=name, hint="check authority, ca_file and the network"))
    if module.startswith(("httpx", "httpcore", "ssl")) or isinstance(exc, OSError):
        return GraphFailure(ConnectionFailed(f"cannot reach Graph at {s.endpoint}: {one_line(str(exc)) or kind}",
                                             connector=name, hint="check endpoint, ca_file and the network"))
    status = status_of(exc)
    if status is None:
        return GraphFailure(ConnectorError(f"{what}: {one_line(str(exc)) or kind}", connector=name))
    code, message = graph_message(exc)
    text = f"{what}: {message}" + (f" ({code})" if code else "")
    if status == 401:
        return GraphFailure(ConnectionFailed(f"Graph refused the credentials of client {s.client_id}: {message}",
                                             connector=name, hint="check the app registration and its secret"),
                            status, code)  # fmt: skip
    if status in THROTTLED:
        return GraphFailure(ThrottledError(f"Graph is throttling: {text}", connector=name,
                                           hint="run again later", retry_after=throttled(exc)), status, code)
    if status == 403:
        error: ReconcilerError = ObjectError(
            text, connector=name, hint="grant the app User.ReadWrite.All / Group.ReadWrite.All")
    elif status >= 500:
        error = ConnectorError(text, connector=name, retryable=True)
    else:
        error = ObjectError(text, connector=name)
    return GraphFailure(error, status, code)


def describe(failure: Any) -> str:
    """One line for an export result."""
    return failure.error.message if isinstance(failure, GraphFailure) else one_line(str(failure))
