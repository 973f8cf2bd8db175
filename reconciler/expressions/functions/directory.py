"""Directory: DNComponent, DNComponentRev, EscapeDNComponent (plus the EscapeDN alias).

DNs are split on unescaped commas (RFC 4514: ``\\,`` and ``\\2C`` escape, a
quoted value may hold commas). A component's value is returned unescaped; a
component number past either end gives NULL.
"""

from __future__ import annotations

import functools
import re

from reconciler.expressions.functions import function
from reconciler.expressions.values import fail

_HEX_ESCAPE = re.compile(r"\\([0-9A-Fa-f]{2})")


@functools.lru_cache(maxsize=4096)
def split_dn(dn: str) -> tuple[tuple[str, str], ...]:
    """``dn`` → ((type, raw value), …) from left to right, with spaces around components removed."""
    parts: list[str] = []
    current: list[str] = []
    i, n = 0, len(dn)
    quoted = False
    while i < n:
        ch = dn[i]
        if ch == "\\" and i + 1 < n:
            current.append(dn[i : i + 2])
            i += 2
            continue
        if ch == '"':
            quoted = not quoted
        elif ch in ",;" and not quoted:
            parts.append("".join(current))
            current = []
            i += 1
            continue
        current.append(ch)
        i += 1
    parts.append("".join(current))
    out: list[tuple[str, str]] = []
    for part in parts:
        part = part.strip()
        if not part:
            continue
        if "=" not in part:
            fail("DNComponent", f"{part!r} in {dn!r} is not a type=value component")
        rdn_type, value = part.split("=", 1)
        out.append((rdn_type.strip(), value.strip()))
    return tuple(out)


def unescape_dn_value(value: str) -> str:
    """An RDN value without its quoting and escapes."""
    if len(value) >= 2 and value[0] == '"' and value[-1] == '"':
        return value[1:-1].replace('\\"', '"')
    if "\\" not in value:
        return value
    out = bytearray()
    i, n = 0, len(value)
    while i < n:
        ch = value[i]
        if ch == "\\" and i + 1 < n:
            pair = value[i + 1 : i + 3]
            if _HEX_ESCAPE.fullmatch("\\" + pair):
                out += bytes.fromhex(pair)
                i += 3
                continue
            out += value[i + 1].encode("utf-8")
            i += 2
            continue
        out += ch.encode("utf-8")
        i += 1
    return out.decode("utf-8", errors="replace")


@function("DNComponent", "ref, num", group="Directory")
def dn_component(dn: str, number: int) -> str | None:
    """The value of component ``number`` counted from the left (1 is the RDN)."""
    parts = split_dn(dn)
    if not 1 <= number <= len(parts):
        return None
    return unescape_dn_value(parts[number - 1][1])


@function("DNComponentRev", "ref, num, enum?", group="Directory", enums={2: ("DC",)})
def dn_component_rev(dn: str, number: int, options: str | None = None) -> str | None:
    """The value of component ``number`` counted from the right; option "DC" skips dc= components."""
    parts = list(split_dn(dn))
    if options is not None:
        if options.upper() != "DC":
            fail("DNComponentRev", f'the only option is "DC", got {options!r}')
        parts = [p for p in parts if p[0].lower() != "dc"]
    if not 1 <= number <= len(parts):
        return None
    return unescape_dn_value(parts[-number][1])


_SPECIAL = set(',+"\\<>;=')


_NEEDS_ESCAPE = re.compile(r'[,+"\\<>;=\x00\r\n]|^[ #]| $')
_TYPED = re.compile(r"^\s*([A-Za-z][\w-]*|\d+(?:\.\d+)*)\s*=(.*)$", re.DOTALL)


def escape_dn_value(value: str) -> str:
    """RFC 4514 escaping of an attribute value."""
    if _NEEDS_ESCAPE.search(value) is None:
        return value  # most names: one scan in C instead of a loop over every character
    return _escape_each(value)


def _escape_each(value: str) -> str:
    out: list[str] = []
    last = len(value) - 1
    for i, ch in enumerate(value):
        if ch in _SPECIAL:
            out.append("\\" + ch)
        elif ch == "\x00":
            out.append("\\00")
        elif ch in "\r\n":
            out.append(f"\\{ord(ch):02X}")
        elif (i == 0 and ch in " #") or (i == last and ch == " "):
            out.append("\\" + ch)
        else:
            out.append(ch)
    return "".join(out)


@function("EscapeDNComponent", "str", group="Directory")
def escape_dn_component(value: str) -> str:
    """Escape the value of one ``type=value`` component (the whole string when it has no ``=``)."""
    match = _TYPED.match(value) if "=" in value else None  # a name without "=" (most) is one value
    if match:
        return f"{match.group(1)}={escape_dn_value(match.group(2))}"
    return escape_dn_value(value)


function("EscapeDN", "str", group="Directory", extension=True)(escape_dn_component)
