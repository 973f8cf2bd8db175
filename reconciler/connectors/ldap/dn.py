"""Distinguished names (RFC 4514) as the connector needs them: split, compare, parent, containment.

DNs compare case-insensitively, without the spaces allowed around ``=``, ``,`` and ``+``; escapes
(``\\,``) are kept as written, so ``cn=Lee\\, Ann`` stays one RDN. That is what OpenLDAP's
``distinguishedNameMatch`` does for the attribute types the connector meets (directory strings).
"""

from __future__ import annotations

from functools import lru_cache


def split_rdns(dn: str) -> list[str]:
    """The RDNs of ``dn``, leftmost first, as written (``\\``-escapes and quoted values respected)."""
    parts: list[str] = []
    start = 0
    escaped = quoted = False
    for i, ch in enumerate(dn):
        if escaped:
            escaped = False
        elif ch == "\\":
            escaped = True
        elif ch == '"':
            quoted = not quoted
        elif (ch == "," or ch == ";") and not quoted:
            parts.append(dn[start:i])
            start = i + 1
    tail = dn[start:]
    if tail or parts:
        parts.append(tail)
    return parts


def _norm_rdn(rdn: str) -> str:
    avas = []
    for ava in _split_plus(rdn):
        name, _, value = ava.partition("=")
        avas.append(f"{name.strip().lower()}={_strip_value(value)}")
    return "+".join(sorted(avas))


def _split_plus(rdn: str) -> list[str]:
    out, start, escaped = [], 0, False
    for i, ch in enumerate(rdn):
        if escaped:
            escaped = False
        elif ch == "\\":
            escaped = True
        elif ch == "+":
            out.append(rdn[start:i])
            start = i + 1
    out.append(rdn[start:])
    return out


def _strip_value(value: str) -> str:
    v = value.lstrip()
    # a trailing escaped space is part of the value
    while v.endswith(" ") and not v.endswith("\\ "):
        v = v[:-1]
    return v.casefold()


@lru_cache(maxsize=4096)
def norm(dn: str) -> tuple[str, ...]:
    """``dn`` as comparable RDNs, leftmost first."""
    return tuple(_norm_rdn(r) for r in split_rdns(dn))


def same(a: str, b: str) -> bool:
    return norm(a) == norm(b)


def parent(dn: str) -> str:
    """The DN of ``dn``'s parent ("" for a one-RDN DN)."""
    rdns = split_rdns(dn)
    return ",".join(r.strip() for r in rdns[1:]) if len(rdns) > 1 else ""


def first_rdn(dn: str) -> str:
    rdns = split_rdns(dn)
    return rdns[0].strip() if rdns else ""


def rdn_value(dn: str, attribute: str) -> str | None:
    """The value ``attribute`` has in ``dn``'s first RDN, unescaped; None when the RDN names another."""
    for ava in _split_plus(first_rdn(dn)):
        name, _, value = ava.partition("=")
        if name.strip().lower() == attribute.lower():
            return unescape(value.strip())
    return None


def unescape(value: str) -> str:
    """An RDN value without its RFC 4514 escapes (``\\,`` → ``,``, ``\\2C`` → ``,``)."""
    if "\\" not in value:
        return value
    out = bytearray()
    i = 0
    raw = value.encode("utf-8")
    while i < len(raw):
        c = raw[i]
        if c == 0x5C and i + 1 < len(raw):  # backslash
            pair = raw[i + 1 : i + 3]
            try:
                if len(pair) == 2:
                    out.append(int(pair.decode("ascii"), 16))
                    i += 3
                    continue
            except ValueError:
                pass
            out.append(raw[i + 1])
            i += 2
            continue
        out.append(c)
        i += 1
    return out.decode("utf-8", "replace")


def is_under(dn: str, container: str) -> bool:
    """Whether ``dn`` is ``container`` or below it."""
    d, c = norm(dn), norm(container)
    return len(d) >= len(c) and d[len(d) - len(c) :] == c


def under_any(dn: str, containers: list[str]) -> bool:
    return any(is_under(dn, c) for c in containers)


def outermost(containers: list[str]) -> list[str]:
    """The containers that are not below another one of the list (each subtree is searched once)."""
    kept: list[str] = []
    for c in containers:
        if any(is_under(c, k) for k in kept):
            continue
        kept = [k for k in kept if not is_under(k, c)]
        kept.append(c)
    return kept
