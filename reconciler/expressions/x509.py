"""A small X.509 certificate reader on the standard library (DER, Base64 and PEM input).

It reads what the certificate functions need: version, serial number,
signature algorithm, issuer and subject names, validity, the public key's
algorithm and parameters, and the extensions (with subject alternative names).
Names are rendered as .NET's ``X500DistinguishedName.Name`` does: the most
specific component first, ``", "`` between components.
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime


class CertificateError(ValueError):
    """The data is not an X.509 certificate."""


# -- DER -------------------------------------------------------------------------
def _tlv(data: bytes, pos: int) -> tuple[int, int, int]:
    """(tag, content start, content end) of the element at ``pos``."""
    if pos + 2 > len(data):
        raise CertificateError("truncated DER element")
    tag = data[pos]
    length = data[pos + 1]
    pos += 2
    if length & 0x80:
        count = length & 0x7F
        if count == 0 or count > 4 or pos + count > len(data):
            raise CertificateError("unsupported DER length")
        length = int.from_bytes(data[pos : pos + count], "big")
        pos += count
    end = pos + length
    if end > len(data):
        raise CertificateError("truncated DER element")
    return tag, pos, end


def _children(data: bytes, start: int, end: int) -> list[tuple[int, int, int, int]]:
    """(tag, element start, content start, content end) of each element in data[start:end]."""
    out = []
    pos = start
    while pos < end:
        tag, cstart, cend = _tlv(data, pos)
        out.append((tag, pos, cstart, cend))
        pos = cend
    return out


def decode_oid(raw: bytes) -> str:
    if not raw:
        raise CertificateError("empty OID")
    first = raw[0]
    parts = [min(first // 40, 2), first - 40 * min(first // 40, 2)]
    value = 0
    for byte in raw[1:]:
        value = (value << 7) | (byte & 0x7F)
        if not byte & 0x80:
            parts.append(value)
            value = 0
    return ".".join(str(p) for p in parts)


def _decode_string(tag: int, raw: bytes) -> str:
    if tag == 0x1E:
        return raw.decode("utf-16-be", errors="replace")
    if tag == 0x1C:
        return raw.decode("utf-32-be", errors="replace")
    if tag == 0x14:
        return raw.decode("latin-1")
    return raw.decode("utf-8", errors="replace")


def _decode_time(tag: int, raw: bytes) -> datetime:
    text = raw.decode("ascii")
    try:
        if tag == 0x17:  # UTCTime YYMMDDHHMM[SS]Z
            year = int(text[:2])
            year += 2000 if year < 50 else 1900
            rest = text[2:]
        else:  # GeneralizedTime
            year = int(text[:4])
            rest = text[4:]
        rest = rest.rstrip("Z")
        month, day, hour, minute = (int(rest[i : i + 2]) for i in (0, 2, 4, 6))
        second = int(rest[8:10]) if len(rest) >= 10 else 0
        return datetime(year, month, day, hour, minute, second, tzinfo=UTC)
    except ValueError as exc:
        raise CertificateError(f"bad time {text!r}") from exc


# -- names ------------------------------------------------------------------------
SHORT_NAMES = {
    "2.5.4.3": "CN",
    "2.5.4.4": "SN",
    "2.5.4.5": "SERIALNUMBER",
    "2.5.4.6": "C",
    "2.5.4.7": "L",
    "2.5.4.8": "S",
    "2.5.4.9": "STREET",
    "2.5.4.10": "O",
    "2.5.4.11": "OU",
    "2.5.4.12": "T",
    "2.5.4.42": "G",
    "2.5.4.43": "I",
    "1.2.840.113549.1.9.1": "E",
    "0.9.2342.19200300.100.1.25": "DC",
    "0.9.2342.19200300.100.1.1": "UID",
}


@dataclass(frozen=True)
class Name:
    """A distinguished name: RDNs in DER order, each a tuple of (oid, value)."""

    rdns: tuple[tuple[tuple[str, str], ...], ...]

    def dotnet(self) -> str:
        """As .NET renders it: reversed order, ``", "`` separators, values quoted when needed."""
        parts = []
        for rdn in reversed(self.rdns):
            parts.append(" + ".join(f"{SHORT_NAMES.get(oid, 'OID.' + oid)}={_quote(v)}" for oid, v in rdn))
        return ", ".join(parts)

    def first(self, oid: str) -> str | None:
        """The value of the most specific attribute ``oid``."""
        for rdn in reversed(self.rdns):
            for o, v in rdn:
                if o == oid:
                    return v
        return None

    def leading_oid(self) -> str | None:
        """The attribute type of the component printed first (the most specific)."""
        return self.rdns[-1][0][0] if self.rdns else None


def _quote(value: str) -> str:
    if value and (any(c in value for c in ',+=\n<>#;"') or value != value.strip()):
        return '"' + value.replace('"', '""') + '"'
    return value


def _read_name(data: bytes, start: int, end: int) -> Name:
    rdns = []
    for _tag, _s, rs, re_ in _children(data, start, end):
        avas = []
        for _t, _s2, as_, ae in _children(data, rs, re_):
            (_otag, _, os_, oe), (vtag, _, vs, ve) = _children(data, as_, ae)[:2]
            avas.append((decode_oid(data[os_:oe]), _decode_string(vtag, data[vs:ve])))
        rdns.append(tuple(avas))
    return Name(tuple(rdns))


# -- the certificate ------------------------------------------------------------------
@dataclass(frozen=True)
class Certificate:
    der: bytes
    version: int
    serial_hex: str
    signature_oid: str
    issuer: Name
    subject: Name
    not_before: datetime
    not_after: datetime
    key_oid: str
    key_params_der: bytes
    extensions: tuple[tuple[str, bool, bytes], ...]  # (oid, critical, value DER)
    friendly_name: str = ""
    alt_names: dict[str, tuple[tuple[str, str], ...]] = field(default_factory=dict)

    @property
    def thumbprint(self) -> str:
        return hashlib.sha1(self.der).hexdigest().upper()

    def key_params_oid(self) -> str | None:
        if self.key_params_der[:1] == b"\x06":
            _t, s, e = _tlv(self.key_params_der, 0)
            return decode_oid(self.key_params_der[s:e])
        return None


def _general_names(data: bytes) -> tuple[tuple[str, str], ...]:
    """SubjectAltName / IssuerAltName content → ((kind, value), …) for email, dns, uri, upn."""
    out = []
    _tag, start, end = _tlv(data, 0)
    for tag, _s, cs, ce in _children(data, start, end):
        raw = data[cs:ce]
        if tag == 0x81:
            out.append(("email", raw.decode("ascii", errors="replace")))
        elif tag == 0x82:
            out.append(("dns", raw.decode("ascii", errors="replace")))
        elif tag == 0x86:
            out.append(("uri", raw.decode("ascii", errors="replace")))
        elif tag == 0xA0:  # otherName: type-id OID, [0] EXPLICIT value
            parts = _children(data, cs, ce)
            if len(parts) >= 2 and parts[0][0] == 0x06:
                oid = decode_oid(data[parts[0][2] : parts[0][3]])
                inner = _children(data, parts[1][2], parts[1][3])
                if oid == "1.3.6.1.4.1.311.20.2.3" and inner:
                    vtag, _vs, vcs, vce = inner[0]
                    out.append(("upn", _decode_string(vtag, data[vcs:vce])))
    return tuple(out)


def _parse_der(der: bytes, friendly_name: str) -> Certificate:
    tag, cstart, cend = _tlv(der, 0)
    if tag != 0x30 or cend != len(der):
        raise CertificateError("not a DER SEQUENCE")
    top = _children(der, cstart, cend)
    if len(top) != 3 or top[0][0] != 0x30:
        raise CertificateError("not a certificate")
    tbs = _children(der, top[0][2], top[0][3])
    i = 0
    version = 1
    if tbs and tbs[0][0] == 0xA0:
        inner = _children(der, tbs[0][2], tbs[0][3])
        version = int.from_bytes(der[inner[0][2] : inner[0][3]], "big") + 1
        i = 1
    try:
        serial = tbs[i]
        sig_alg = tbs[i + 1]
        issuer = tbs[i + 2]
        validity = tbs[i + 3]
        subject = tbs[i + 4]
        spki = tbs[i + 5]
    except IndexError as exc:
        raise CertificateError("incomplete certificate") from exc
    if serial[0] != 0x02 or validity[0] != 0x30 or spki[0] != 0x30:
        raise CertificateError("not a certificate")
    sig_oid_el = _children(der, sig_alg[2], sig_alg[3])[0]
    times = _children(der, validity[2], validity[3])
    key_alg = _children(der, spki[2], spki[3])[0]
    key_alg_parts = _children(der, key_alg[2], key_alg[3])
    key_oid = decode_oid(der[key_alg_parts[0][2] : key_alg_parts[0][3]])
    key_params = der[key_alg_parts[1][1] : key_alg_parts[1][3]] if len(key_alg_parts) > 1 else b""
    extensions = []
    alt: dict[str, tuple[tuple[str, str], ...]] = {}
    for el in tbs[i + 6 :]:
        if el[0] != 0xA3:
            continue
        seq = _children(der, el[2], el[3])[0]
        for _t, _s, es, ee in _children(der, seq[2], seq[3]):
            parts = _children(der, es, ee)
            oid = decode_oid(der[parts[0][2] : parts[0][3]])
            critical = len(parts) == 3 and der[parts[1][2] : parts[1][3]] != b"\x00"
            value = der[parts[-1][2] : parts[-1][3]]
            extensions.append((oid, critical, value))
            if oid in ("2.5.29.17", "2.5.29.18"):
                alt["subject" if oid == "2.5.29.17" else "issuer"] = _general_names(value)
    raw_serial = der[serial[2] : serial[3]]
    return Certificate(
        der=der,
        version=version,
        serial_hex=raw_serial.hex().upper(),
        signature_oid=decode_oid(der[sig_oid_el[2] : sig_oid_el[3]]),
        issuer=_read_name(der, issuer[2], issuer[3]),
        subject=_read_name(der, subject[2], subject[3]),
        not_before=_decode_time(times[0][0], der[times[0][2] : times[0][3]]),
        not_after=_decode_time(times[1][0], der[times[1][2] : times[1][3]]),
        key_oid=key_oid,
        key_params_der=key_params,
        extensions=tuple(extensions),
        friendly_name=friendly_name,
        alt_names=alt,
    )


_PEM = re.compile(r"-----BEGIN (?:X509 |TRUSTED )?CERTIFICATE-----(.*?)-----END", re.DOTALL)
_FRIENDLY = re.compile(r"^\s*friendlyName:\s*(.*?)\s*$", re.MULTILINE)


@functools.lru_cache(maxsize=1024)
def load(data: bytes | str) -> Certificate:
    """The certificate in ``data``: DER bytes, Base64 of DER, or PEM (with openssl's bag attributes)."""
    friendly = ""
    if isinstance(data, bytes) and data[:1] == b"\x30":
        der = data
    else:
        text = data.decode("ascii", errors="strict") if isinstance(data, bytes) else data
        pem = _PEM.search(text)
        if pem:
            bag = _FRIENDLY.search(text[: pem.start()])
            friendly = bag.group(1) if bag else ""
            text = pem.group(1)
        try:
            der = base64.b64decode("".join(text.split()), validate=True)
        except (binascii.Error, ValueError) as exc:
            raise CertificateError("neither DER nor Base64") from exc
    try:
        return _parse_der(der, friendly)
    except (IndexError, UnicodeError) as exc:
        raise CertificateError(str(exc)) from exc
