"""LDAP values ↔ engine values, by the attribute's syntax.

Import: text for most syntaxes, ``int`` for Integer, ``bool`` for Boolean (``TRUE``/``FALSE``),
``datetime`` (UTC) for GeneralizedTime, ``bytes`` for binary syntaxes (octet string, JPEG,
certificates); a value that does not parse as its syntax says stays text. One value is the value,
several a list (as the LDIF connector reads them).
Export: booleans as ``TRUE``/``FALSE``, integers as text, datetimes as GeneralizedTime; a binary
attribute takes bytes, or text the engine stores binaries as (base64); a password is sent as text.
"""

from __future__ import annotations

import base64
import binascii
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from reconciler.connectors.files.common import generalized_time  # one form for LDIF files and servers
from reconciler.connectors.ldap.schema import BINARY, BOOLEAN, GENERALIZED_TIME, INTEGER

# ---------------------------------------------------------------- import


def decoder(syntax: str | None) -> Any:
    """A function of one raw value (bytes) to an engine value, for a syntax."""
    if syntax in BINARY:
        return _as_bytes
    if syntax == INTEGER:
        return _as_int
    if syntax == BOOLEAN:
        return _as_bool
    if syntax == GENERALIZED_TIME:
        return _as_time
    return _as_text


def _as_text(raw: bytes) -> Any:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return bytes(raw)


def _as_bytes(raw: bytes) -> Any:
    return bytes(raw)


def _as_int(raw: bytes) -> Any:
    try:
        return int(raw)
    except ValueError:
        return _as_text(raw)


def _as_bool(raw: bytes) -> Any:
    if raw == b"TRUE":
        return True
    if raw == b"FALSE":
        return False
    return _as_text(raw)


def _as_time(raw: bytes) -> Any:
    text = _as_text(raw)
    if not isinstance(text, str):
        return text
    try:
        return parse_generalized_time(text)
    except ValueError:
        return text


def parse_generalized_time(text: str) -> datetime:
    """``YYYYmmddHH[MM[SS]][.f](Z|±hhmm)`` as an aware UTC datetime."""
    t = text.strip()
    tz: timezone = UTC
    if t.endswith("Z"):
        t = t[:-1]
    elif len(t) > 5 and t[-5] in "+-":
        sign = 1 if t[-5] == "+" else -1
        tz = timezone(sign * timedelta(hours=int(t[-4:-2]), minutes=int(t[-2:])))
        t = t[:-5]
    frac = ""
    for sep in (".", ","):
        if sep in t:
            t, frac = t.split(sep, 1)
    if len(t) not in (10, 12, 14) or not t.isdigit():
        raise ValueError(text)
    t = t.ljust(14, "0")
    dt = datetime.strptime(t, "%Y%m%d%H%M%S").replace(tzinfo=tz)
    if frac:
        if not frac.isdigit():
            raise ValueError(text)
        dt += timedelta(microseconds=round(float("0." + frac) * 1_000_000))
    return dt.astimezone(UTC)


def collect(decode: Any, raws: list[bytes]) -> Any:
    """The engine value of an attribute's raw values: None, the one value, or a list."""
    if len(raws) == 1:
        return decode(raws[0])
    if not raws:
        return None
    return [decode(r) for r in raws]


# ---------------------------------------------------------------- export


def encoder(syntax: str | None, password: bool = False) -> Any:
    """A function of one engine value to what ldap3 sends (str or bytes), for a syntax."""
    if password:
        return _send_text
    if syntax in BINARY:
        return _send_binary
    if syntax == GENERALIZED_TIME:
        return _send_time
    if syntax == BOOLEAN:
        return _send_bool
    return _send_text


def _send_text(value: Any) -> Any:
    if type(value) is str:
        return value
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, bytes | bytearray):
        return bytes(value)
    if isinstance(value, datetime):
        return generalized_time(value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _send_binary(value: Any) -> Any:
    if isinstance(value, str):
        # the engine stores binaries as base64 text; a value that is not base64 is sent as its UTF-8
        try:
            return base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError):
            return value.encode("utf-8")
    return _send_text(value)


def _send_time(value: Any) -> Any:
    if isinstance(value, str) and ("-" in value or "T" in value):
        # the engine stores datetimes as ISO-8601 text
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return value
        return generalized_time(parsed)
    return _send_text(value)


def _send_bool(value: Any) -> Any:
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.upper()
    return _send_text(value)


def outgoing(encode: Any, value: Any) -> list[Any]:
    """An engine attribute value as the list of values an LDAP request carries ([] for none)."""
    if value is None:
        return []
    if isinstance(value, list | tuple | set | frozenset):
        return [encode(v) for v in value if v is not None and v != ""]
    if value == "":
        return []
    return [encode(value)]
