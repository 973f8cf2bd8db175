"""Conversion: CBool, CDate, CGuid, ConvertFromBase64, ConvertToBase64, ConvertFromUTF8Hex,
ConvertToUTF8Hex, CNum, CRef, CStr, StringFromGuid, StringFromSid."""

from __future__ import annotations

import base64
import binascii
import re
import struct
import uuid
from datetime import datetime
from typing import Any

from reconciler.expressions.functions import function
from reconciler.expressions.functions.datetime_fns import parse_date
from reconciler.expressions.values import (
    INT64_MAX,
    INT64_MIN,
    Reference,
    fail,
    format_datetime_iso,
    type_name,
)

_ENCODINGS = ("Unicode", "ASCII", "UTF8")
_PY_ENCODING = {"unicode": "utf-16-le", "ascii": "ascii", "utf8": "utf-8", "utf-8": "utf-8"}
GUID_PATTERN = re.compile(
    r"^(\{)?[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}(?(1)\})$"
)
_INT = re.compile(r"^\s*[+-]?\d+\s*$")


def _encoding(function_name: str, name: str | None) -> str:
    if name is None:
        return "utf-16-le"
    try:
        return _PY_ENCODING[name.lower()]
    except KeyError:
        fail(function_name, f"encoding must be Unicode, ASCII or UTF8, got {name!r}")


@function("CBool", "any", group="Conversion")
def cbool(value: Any) -> bool:
    """True for True or a non-zero number; also reads the strings "True" and "False"."""
    if type(value) is bool:
        return value
    if isinstance(value, int):
        return value != 0
    if isinstance(value, str):
        key = value.strip().lower()
        if key in ("true", "false"):
            return key == "true"
    fail("CBool", f"cannot convert {type_name(value)} {value!r} to a boolean")


@function("CDate", "any", group="Conversion")
def cdate(value: Any) -> datetime:
    """A UTC DateTime from a string (a time without zone is UTC); a DateTime is returned as is."""
    if isinstance(value, datetime):
        return value
    if not isinstance(value, str):
        fail("CDate", f"argument 1 must be a string, got {type_name(value)}")
    result = parse_date(value)
    if result is None:
        fail("CDate", f"cannot read {value!r} as a date")
    return result


def parse_num(text: str) -> int | None:
    """The 64-bit integer ``text`` spells, or None."""
    if not _INT.match(text):
        return None
    value = int(text)
    if INT64_MIN <= value <= INT64_MAX:
        return value
    return None


@function("CNum", "any", group="Conversion")
def cnum(value: Any) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str):
        result = parse_num(value)
        if result is None:
            fail("CNum", f"cannot read {value!r} as a 64-bit integer")
        return result
    fail("CNum", f"argument 1 must be a string, got {type_name(value)}")


@function("CStr", "any", group="Conversion")
def cstr(value: Any) -> str:
    """A string from a string, number, reference, boolean (True/False) or DateTime (ISO-8601 UTC)."""
    if isinstance(value, str):
        return str(value)
    if value is True:
        return "True"
    if value is False:
        return "False"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, datetime):
        return format_datetime_iso(value)
    fail("CStr", f"cannot convert a {type_name(value)} value to a string")


@function("CRef", "str", group="Conversion")
def cref(value: str) -> Reference:
    return Reference(value)


@function("CGuid", "str", group="Conversion")
def cguid(value: str) -> bytes:
    """The 16 bytes of a GUID in Microsoft's byte order (as stored in objectGUID)."""
    if not GUID_PATTERN.match(value.strip()):
        fail("CGuid", f"{value!r} is not a GUID (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx)")
    return uuid.UUID(value.strip()).bytes_le


@function("StringFromGuid", "bin", group="Conversion")
def string_from_guid(value: bytes) -> str:
    if len(value) != 16:
        fail("StringFromGuid", f"a binary GUID has 16 bytes, got {len(value)}")
    return str(uuid.UUID(bytes_le=value))


@function("StringFromSid", "bin", group="Conversion")
def string_from_sid(value: bytes) -> str:
    """``S-1-5-21-…`` from a binary security identifier."""
    if len(value) < 8:
        fail("StringFromSid", "a binary SID has at least 8 bytes")
    revision, count = value[0], value[1]
    if len(value) != 8 + 4 * count:
        fail(
            "StringFromSid", f"a SID with {count} sub-authorities has {8 + 4 * count} bytes, got {len(value)}"
        )
    authority = int.from_bytes(value[2:8], "big")
    subs = struct.unpack_from(f"<{count}I", value, 8)
    return f"S-{revision}-{authority}" + "".join(f"-{s}" for s in subs)


@function("ConvertToBase64", "any, enum?", group="Conversion", enums={1: _ENCODINGS})
def convert_to_base64(source: Any, encoding: str | None = None) -> str:
    """Base64 of a string's UTF-16LE bytes ("Unicode", or another encoding), or of binary data."""
    if isinstance(source, bytes):
        data = source
    elif isinstance(source, str):
        try:
            data = source.encode(_encoding("ConvertToBase64", encoding))
        except UnicodeEncodeError:
            fail("ConvertToBase64", f"the string cannot be encoded as {encoding}")
    else:
        fail("ConvertToBase64", f"argument 1 must be a string or binary, got {type_name(source)}")
    return base64.b64encode(data).decode("ascii")


@function("ConvertFromBase64", "str, enum?", group="Conversion", enums={1: _ENCODINGS})
def convert_from_base64(source: str, encoding: str | None = None) -> str:
    try:
        data = base64.b64decode(source.strip(), validate=True)
    except (binascii.Error, ValueError):
        fail("ConvertFromBase64", f"{source!r} is not Base64")
    try:
        return data.decode(_encoding("ConvertFromBase64", encoding))
    except UnicodeDecodeError:
        fail("ConvertFromBase64", f"the decoded bytes are not valid {encoding or 'Unicode'} text")


@function("ConvertToUTF8Hex", "str", group="Conversion")
def convert_to_utf8_hex(source: str) -> str:
    return source.encode("utf-8").hex().upper()


@function("ConvertFromUTF8Hex", "str", group="Conversion")
def convert_from_utf8_hex(source: str) -> str:
    try:
        return bytes.fromhex(source.strip()).decode("utf-8")
    except ValueError:
        fail("ConvertFromUTF8Hex", f"{source!r} is not hexadecimal UTF-8")
