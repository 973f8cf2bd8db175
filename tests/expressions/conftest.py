"""Fixtures of the expression tests: a certificate made with the openssl binary."""

from __future__ import annotations

import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest


@pytest.fixture(scope="session")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """An RSA certificate made by the openssl binary, with SANs and a critical extension."""
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("the openssl binary is not installed")
    folder: Path = tmp_path_factory.mktemp("cert")
    key, pem, der = folder / "key.pem", folder / "cert.pem", folder / "cert.der"
    subprocess.run(
        [
            openssl,
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            str(key),
            "-out",
            str(pem),
            "-days",
            "30",
            "-set_serial",
            "0x1A2B3C",
            "-subj",
            "/C=US/O=Contoso Ltd/OU=Identity/CN=Ada Lovelace",
            "-addext",
            "subjectAltName=DNS:ada.contoso.com,email:ada@contoso.com,URI:https://contoso.com/ada,"
            "otherName:1.3.6.1.4.1.311.20.2.3;UTF8:ada@corp.contoso.com",
            "-addext",
            "basicConstraints=critical,CA:FALSE",
            "-addext",
            "keyUsage=critical,digitalSignature",
        ],
        check=True,
        capture_output=True,
    )
    subprocess.run([openssl, "x509", "-in", str(pem), "-outform", "DER", "-out", str(der)], check=True)
    fingerprint = (
        subprocess.run(
            [openssl, "x509", "-in", str(pem), "-noout", "-fingerprint", "-sha1"],
            check=True,
            capture_output=True,
            text=True,
        )
        .stdout.strip()
        .split("=", 1)[1]
        .replace(":", "")
    )
    dates = subprocess.run(
        [openssl, "x509", "-in", str(pem), "-noout", "-startdate", "-enddate"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.split("\n")
    ec_key, ec_pem = folder / "ec.key", folder / "ec.pem"
    subprocess.run(
        [
            openssl,
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-keyout",
            str(ec_key),
            "-out",
            str(ec_pem),
            "-days",
            "1",
            "-subj",
            "/CN=EC Test",
        ],
        check=True,
        capture_output=True,
    )
    bag = (
        "Bag Attributes\n    friendlyName: Ada's signing cert\nsubject=CN = Ada Lovelace\n" + pem.read_text()
    )

    def when(line: str) -> datetime:
        return datetime.strptime(line.split("=", 1)[1].strip(), "%b %d %H:%M:%S %Y GMT").replace(tzinfo=UTC)

    return {
        "der": der.read_bytes(),
        "pem": pem.read_text(),
        "base64": "".join(pem.read_text().splitlines()[1:-1]),
        "bag": bag,
        "thumbprint": fingerprint.upper(),
        "not_before": when(dates[0]),
        "not_after": when(dates[1]),
        "ec_der": subprocess.run(
            [openssl, "x509", "-in", str(ec_pem), "-outform", "DER"], check=True, capture_output=True
        ).stdout,
    }
