"""Certificate: the Cert… functions and IsCert, on X.509 certificates given as DER bytes,
Base64 text or PEM. Parsing is done by ``reconciler.expressions.x509`` (standard library only).

Results follow .NET's ``X509Certificate2`` where Microsoft's reference leans on
it: names as ``X500DistinguishedName.Name``, hashes and serial numbers as
upper-case hexadecimal, dates in UTC (the language's DateTimes are UTC).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from reconciler.expressions import x509
from reconciler.expressions.functions import function
from reconciler.expressions.values import fail

G = "Certificate"
_NAME_TYPES = ("SimpleName", "EmailName", "UpnName", "DnsName", "DnsFromAlternativeName", "UrlName")


def _cert(function_name: str, data: bytes | str) -> x509.Certificate:
    try:
        return x509.load(data)
    except (x509.CertificateError, UnicodeError, ValueError) as exc:
        fail(function_name, f"the value is not an X.509 certificate ({exc})")


@function("IsCert", "cert", group=G, nulls=True)
def is_cert(data: Any) -> bool:
    if data is None:
        return False
    try:
        x509.load(data)
    except (x509.CertificateError, UnicodeError, ValueError):
        return False
    return True


@function("CertExtensionOids", "cert", group=G)
def cert_extension_oids(data: bytes | str) -> list[str]:
    """The OIDs of the certificate's critical extensions."""
    return [oid for oid, critical, _ in _cert("CertExtensionOids", data).extensions if critical]


@function("CertFormat", "cert", group=G)
def cert_format(data: bytes | str) -> str:
    _cert("CertFormat", data)
    return "X509"


@function("CertFriendlyName", "cert", group=G)
def cert_friendly_name(data: bytes | str) -> str:
    """The friendlyName bag attribute of a PEM export; "" for bare DER, which carries none."""
    return _cert("CertFriendlyName", data).friendly_name


@function("CertHashString", "cert", group=G)
def cert_hash_string(data: bytes | str) -> str:
    return _cert("CertHashString", data).thumbprint


@function("CertThumbprint", "cert", group=G)
def cert_thumbprint(data: bytes | str) -> str:
    return _cert("CertThumbprint", data).thumbprint


@function("CertIssuer", "cert", group=G)
def cert_issuer(data: bytes | str) -> str:
    return _cert("CertIssuer", data).issuer.dotnet()


@function("CertIssuerDN", "cert", group=G)
def cert_issuer_dn(data: bytes | str) -> str:
    return _cert("CertIssuerDN", data).issuer.dotnet()


@function("CertIssuerOid", "cert", group=G)
def cert_issuer_oid(data: bytes | str) -> str | None:
    """The attribute type OID of the issuer name's most specific component (2.5.4.3 for CN=…)."""
    return _cert("CertIssuerOid", data).issuer.leading_oid()


@function("CertSubject", "cert", group=G)
def cert_subject(data: bytes | str) -> str:
    return _cert("CertSubject", data).subject.dotnet()


@function("CertSubjectNameDN", "cert", group=G)
def cert_subject_name_dn(data: bytes | str) -> str:
    return _cert("CertSubjectNameDN", data).subject.dotnet()


@function("CertSubjectNameOid", "cert", group=G)
def cert_subject_name_oid(data: bytes | str) -> str | None:
    return _cert("CertSubjectNameOid", data).subject.leading_oid()


@function("CertKeyAlgorithm", "cert", group=G)
def cert_key_algorithm(data: bytes | str) -> str:
    """The OID of the public key algorithm (1.2.840.113549.1.1.1 for RSA)."""
    return _cert("CertKeyAlgorithm", data).key_oid


@function("CertKeyAlgorithmParams", "cert", group=G)
def cert_key_algorithm_params(data: bytes | str) -> str:
    """The key algorithm's parameters, DER in upper-case hexadecimal ("0500" for RSA's NULL)."""
    return _cert("CertKeyAlgorithmParams", data).key_params_der.hex().upper()


@function("CertPublicKeyOid", "cert", group=G)
def cert_public_key_oid(data: bytes | str) -> str:
    return _cert("CertPublicKeyOid", data).key_oid


@function("CertPublicKeyParametersOid", "cert", group=G)
def cert_public_key_parameters_oid(data: bytes | str) -> str:
    """The OID held in the key parameters (an EC curve), else the key algorithm's OID."""
    cert = _cert("CertPublicKeyParametersOid", data)
    return cert.key_params_oid() or cert.key_oid


@function("CertNotAfter", "cert", group=G)
def cert_not_after(data: bytes | str) -> datetime:
    return _cert("CertNotAfter", data).not_after


@function("CertNotBefore", "cert", group=G)
def cert_not_before(data: bytes | str) -> datetime:
    return _cert("CertNotBefore", data).not_before


@function("CertSerialNumber", "cert", group=G)
def cert_serial_number(data: bytes | str) -> str:
    return _cert("CertSerialNumber", data).serial_hex


@function("CertSignatureAlgorithmOid", "cert", group=G)
def cert_signature_algorithm_oid(data: bytes | str) -> str:
    return _cert("CertSignatureAlgorithmOid", data).signature_oid


@function("CertVersion", "cert", group=G)
def cert_version(data: bytes | str) -> int:
    return _cert("CertVersion", data).version


@function("CertNameInfo", "cert, enum, bool", group=G, enums={1: _NAME_TYPES})
def cert_name_info(data: bytes | str, name_type: str, for_issuer: bool) -> str:
    """The subject's (or issuer's) name of one X509NameType; "" when it has none."""
    cert = _cert("CertNameInfo", data)
    name = cert.issuer if for_issuer else cert.subject
    alt = dict(cert.alt_names).get("issuer" if for_issuer else "subject", ())

    def alt_first(kind: str) -> str | None:
        return next((v for k, v in alt if k == kind), None)

    key = name_type.lower()
    if key == "simplename":
        for oid in ("2.5.4.3", "2.5.4.11", "2.5.4.10", "1.2.840.113549.1.9.1"):
            value = name.first(oid)
            if value:
                return value
        return alt_first("email") or alt_first("dns") or ""
    if key == "emailname":
        return name.first("1.2.840.113549.1.9.1") or alt_first("email") or ""
    if key == "upnname":
        return alt_first("upn") or ""
    if key == "dnsname":
        return alt_first("dns") or name.first("2.5.4.3") or ""
    if key == "dnsfromalternativename":
        return alt_first("dns") or ""
    if key == "urlname":
        return alt_first("uri") or ""
    fail("CertNameInfo", f"unknown X509NameType {name_type!r} (one of {', '.join(_NAME_TYPES)})")
