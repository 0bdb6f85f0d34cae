"""A throw-away certificate authority and one leaf certificate for the local site.

Made at test time with ``cryptography``; nothing is kept between runs.  Both
browsers are told to trust the CA (Chromium through an NSS database in its
``$HOME/.pki/nssdb``, Firefox through its profile's own NSS database); neither
is ever started with ``--ignore-certificate-errors`` or an equivalent, so
``Secure`` cookies behave as on a real HTTPS site.
"""

from __future__ import annotations

import datetime as _dt
import ipaddress
import shutil
import subprocess
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

CA_NICKNAME = "privacy-inspector-test-ca"


@dataclass(frozen=True)
class CertFiles:
    """PEM files written by :func:`make_certificates`."""

    folder: Path
    ca_cert: Path
    ca_key: Path
    leaf_cert: Path
    leaf_key: Path
    hosts: tuple[str, ...]


def _key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def _pem_key(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def make_certificates(folder: str | Path, hosts: Iterable[str]) -> CertFiles:
    """Write ``ca.pem``, ``ca-key.pem``, ``leaf.pem`` (leaf + CA chain) and ``leaf-key.pem``.

    The leaf carries a SAN for every host in ``hosts`` plus ``127.0.0.1``.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    hosts = tuple(dict.fromkeys(hosts))
    now = _dt.datetime.now(_dt.UTC)
    not_before = now - _dt.timedelta(days=1)
    # Short-lived on purpose (browsers dislike leaves valid for > 398 days).
    not_after = now + _dt.timedelta(days=30)

    ca_key = _key()
    ca_name = x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Privacy Inspector tests"),
            x509.NameAttribute(NameOID.COMMON_NAME, "Privacy Inspector Test CA"),
        ]
    )
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(
            x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )

    leaf_key = _key()
    sans: list[x509.GeneralName] = [x509.DNSName(h) for h in hosts]
    sans.append(x509.IPAddress(ipaddress.ip_address("127.0.0.1")))
    leaf_cert = (
        x509.CertificateBuilder()
        .subject_name(
            x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, hosts[0] if hosts else "localhost")])
        )
        .issuer_name(ca_name)
        .public_key(leaf_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectAlternativeName(sans), critical=False)
        .add_extension(
            x509.SubjectKeyIdentifier.from_public_key(leaf_key.public_key()), critical=False
        )
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )

    files = CertFiles(
        folder=folder,
        ca_cert=folder / "ca.pem",
        ca_key=folder / "ca-key.pem",
        leaf_cert=folder / "leaf.pem",
        leaf_key=folder / "leaf-key.pem",
        hosts=hosts,
    )
    files.ca_cert.write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
    files.ca_key.write_bytes(_pem_key(ca_key))
    files.leaf_cert.write_bytes(
        leaf_cert.public_bytes(serialization.Encoding.PEM)
        + ca_cert.public_bytes(serialization.Encoding.PEM)
    )
    files.leaf_key.write_bytes(_pem_key(leaf_key))
    for p in (files.ca_key, files.leaf_key):
        p.chmod(0o600)
    return files


def certutil_path() -> str:
    path = shutil.which("certutil")
    if path is None:
        raise RuntimeError(
            "certutil not found: install libnss3-tools (Debian) to run real-browser tests"
        )
    return path


def ca_fingerprint(ca_pem: str | Path) -> str:
    cert = x509.load_pem_x509_certificate(Path(ca_pem).read_bytes())
    return cert.fingerprint(hashes.SHA256()).hex()


def import_ca_into_nssdb(db_dir: str | Path, ca_pem: str | Path) -> str:
    """Trust ``ca_pem`` for TLS servers in the NSS database at ``db_dir`` (created if missing).

    Used for a Firefox profile folder (its ``cert9.db``) and for Chromium's
    ``$HOME/.pki/nssdb``.  The nickname carries the CA's fingerprint, so a
    profile reused with a newer CA trusts both.  Returns the nickname.
    """
    db_dir = Path(db_dir)
    db_dir.mkdir(parents=True, exist_ok=True)
    certutil = certutil_path()
    nickname = f"{CA_NICKNAME}-{ca_fingerprint(ca_pem)[:16]}"
    if not (db_dir / "cert9.db").exists():
        _run([certutil, "-N", "-d", f"sql:{db_dir}", "--empty-password"])
    _run([certutil, "-A", "-d", f"sql:{db_dir}", "-t", "C,,", "-n", nickname, "-i", str(ca_pem)])
    return nickname


def _run(cmd: list[str]) -> None:
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=30, check=False)
    if proc.returncode != 0:
        raise RuntimeError(
            f"{' '.join(cmd)} failed with exit code {proc.returncode}:\n{proc.stdout}{proc.stderr}"
        )
