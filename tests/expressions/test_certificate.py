"""The certificate functions against certificates the openssl binary makes (skipped without openssl)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from expr_helpers import ev

from reconciler.errors import ExpressionEvalError
from reconciler.expressions.functions import all_functions

RSA = "1.2.840.113549.1.1.1"
SUBJECT = "CN=Ada Lovelace, OU=Identity, O=Contoso Ltd, C=US"


def expected_values(cert: dict[str, Any]) -> dict[str, Any]:
    return {
        "CertExtensionOids": ["2.5.29.19", "2.5.29.15"],
        "CertFormat": "X509",
        "CertFriendlyName": "",
        "CertHashString": cert["thumbprint"],
        "CertIssuer": SUBJECT,
        "CertIssuerDN": SUBJECT,
        "CertIssuerOid": "2.5.4.3",
        "CertKeyAlgorithm": RSA,
        "CertKeyAlgorithmParams": "0500",
        "CertNotAfter": cert["not_after"],
        "CertNotBefore": cert["not_before"],
        "CertPublicKeyOid": RSA,
        "CertPublicKeyParametersOid": RSA,
        "CertSerialNumber": "1A2B3C",
        "CertSignatureAlgorithmOid": "1.2.840.113549.1.1.11",
        "CertSubject": SUBJECT,
        "CertSubjectNameDN": SUBJECT,
        "CertSubjectNameOid": "2.5.4.3",
        "CertThumbprint": cert["thumbprint"],
        "CertVersion": 3,
        "IsCert": True,
    }


def test_every_certificate_function_is_tested(certificate: dict[str, Any]) -> None:
    names = {s.name for s in all_functions() if s.group == "Certificate"}
    assert names == set(expected_values(certificate)) | {"CertNameInfo"}
    assert len(names) == 22


@pytest.mark.parametrize("form", ["der", "base64", "pem", "bag", "base64-bytes"])
def test_functions_on_each_input_form(certificate: dict[str, Any], form: str) -> None:
    data = certificate["base64"].encode() if form == "base64-bytes" else certificate[form]
    for name, expected in expected_values(certificate).items():
        result = ev(f"{name}([c])", {"c": data})
        if name == "CertFriendlyName" and form == "bag":
            expected = "Ada's signing cert"
        if name == "CertExtensionOids":
            assert sorted(result) == sorted(expected)
        else:
            assert result == expected, name


@pytest.mark.parametrize(
    ("name_type", "issuer", "expected"),
    [
        ("SimpleName", "False", "Ada Lovelace"),
        ("EmailName", "False", "ada@contoso.com"),
        ("UpnName", "False", "ada@corp.contoso.com"),
        ("DnsName", "False", "ada.contoso.com"),
        ("DnsFromAlternativeName", "False", "ada.contoso.com"),
        ("UrlName", "False", "https://contoso.com/ada"),
        ("SimpleName", "True", "Ada Lovelace"),
        ("UpnName", "True", ""),
        ('"DnsName"', "False", "ada.contoso.com"),
    ],
)
def test_cert_name_info(certificate: dict[str, Any], name_type: str, issuer: str, expected: str) -> None:
    assert ev(f"CertNameInfo([c], {name_type}, {issuer})", {"c": certificate["der"]}) == expected


def test_ec_key_parameters(certificate: dict[str, Any]) -> None:
    attrs = {"c": certificate["ec_der"]}
    assert ev("CertKeyAlgorithm([c])", attrs) == "1.2.840.10045.2.1"
    assert ev("CertPublicKeyParametersOid([c])", attrs) == "1.2.840.10045.3.1.7"  # P-256
    assert ev("CertKeyAlgorithmParams([c])", attrs) == "06082A8648CE3D030107"
    assert ev("CertExtensionOids([c])", attrs) in (None, ["2.5.29.19"])


def test_where_and_with_examples_drop_expired_certificates(certificate: dict[str, Any]) -> None:
    attrs = {"userCertificate": [certificate["der"], certificate["ec_der"]]}
    later = certificate["not_before"] + timedelta(days=5)  # the EC certificate lives one day
    where = "Where($item,[userCertificate],CertNotAfter($item)>Now())"
    assert ev(where, attrs, now=later) == [certificate["der"]]
    with_ = (
        "With($unExpiredCerts,Where($item,[userCertificate],CertNotAfter($item)>Now()),"
        "IIF(Count($unExpiredCerts)>0,$unExpiredCerts,NULL))"
    )
    assert ev(with_, attrs, now=later) == [certificate["der"]]
    assert ev(with_, attrs, now=certificate["not_after"] + timedelta(days=1)) is None


def test_certificate_matrix(certificate: dict[str, Any]) -> None:
    """NULL, missing, empty string, multi-valued and wrong type for every certificate function."""
    der = certificate["der"]
    for name, expected in expected_values(certificate).items():
        call = f"{name}([c])"
        if name == "IsCert":
            assert ev(call, {"c": None}) is False and ev(call, {}) is False
            assert ev(call, {"c": ""}) is False
            assert ev(call, {"c": [der, "junk", b"\x30\x00"]}) == [True, False, False]
            with pytest.raises(ExpressionEvalError, match="IsCert: argument 1 must be a certificate"):
                ev(call, {"c": 5})
            continue
        assert ev(call, {"c": None}) is None and ev(call, {}) is None
        with pytest.raises(ExpressionEvalError, match=f"{name}: the value is not an X.509 certificate"):
            ev(call, {"c": ""})
        result = ev(call, {"c": [der, der]})
        if name == "CertExtensionOids":  # multi-valued results are flattened
            assert sorted(result) == sorted(expected * 2)
        else:
            assert result == [expected, expected] if expected != "" else result == ["", ""]
        with pytest.raises(ExpressionEvalError, match="must be a certificate"):
            ev(call, {"c": 5})
    call = "CertNameInfo([c], SimpleName, False)"
    assert ev(call, {}) is None
    assert ev(call, {"c": [der, der]}) == ["Ada Lovelace"] * 2
    with pytest.raises(ExpressionEvalError):
        ev(call, {"c": ""})
    with pytest.raises(ExpressionEvalError, match="argument 3 must be a boolean"):
        ev('CertNameInfo([c], SimpleName, "no")', {"c": der})


def test_garbage_is_not_a_certificate() -> None:
    for junk in ["TUlJQg==", "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----", "%%%"]:
        assert ev("IsCert([c])", {"c": junk}) is False
        with pytest.raises(ExpressionEvalError):
            ev("CertSubject([c])", {"c": junk})
