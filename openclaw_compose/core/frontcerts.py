"""The front's TLS material: a local CA and the certificate it signs (``tls: local``), and the
checks of a certificate the user gives (``tls: {cert, key}``).

The ``cryptography`` package rather than the ``openssl`` CLI: the certificates are made and
read in-process (no temporary key files, no parsing of a tool's text output, the same on every
host), and a user's files are checked with the same code that makes ours.

The CA's key is made once and kept (like the tokens): regenerating never changes the CA users
have trusted. The server certificate is kept while it names exactly the profiles' hostnames, is
signed by that CA and has more than :data:`RENEW_BEFORE` left; otherwise a new one is issued.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from openclaw_compose.errors import OutputError, shown

CA_KEY = "tls/ca.key"
"""The local CA's private key: in the output directory, mode 0600, never mounted anywhere."""
CA_CERT = "front/ca.crt"
"""What users trust (the README says how)."""
SERVER_CERT = "front/server.crt"
SERVER_KEY = "front/server.crt.key"
"""Next to the certificate, where HAProxy looks for its key."""
PRIVATE = frozenset({CA_KEY, SERVER_KEY})
CA_DAYS = 3650
SERVER_DAYS = 397
"""Within the 398 days browsers accept for a server certificate."""
RENEW_BEFORE = datetime.timedelta(days=30)

Reader = Callable[[str], bytes | None]
"""The current bytes of a project file (None: absent)."""


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


def local_material(names: Sequence[str], current: Reader, project: str) -> dict[str, bytes]:
    """The CA key and certificate and the server key and certificate for ``names``: the
    current ones where they still serve, new ones otherwise."""
    now = _now()
    ca_key = _load_key(current(CA_KEY), CA_KEY) or ec.generate_private_key(ec.SECP256R1())
    ca_cert = _load_cert(current(CA_CERT))
    if ca_cert is None or not _same_key(ca_cert, ca_key) or _expiring(ca_cert, now):
        ca_cert = _ca_certificate(ca_key, project, now)
    server_key = _load_key(current(SERVER_KEY), SERVER_KEY)
    server_cert = _load_cert(current(SERVER_CERT))
    if (
        server_key is None
        or server_cert is None
        or not _same_key(server_cert, server_key)
        or not _signed_by(server_cert, ca_cert)
        or sorted(dns_names(server_cert)) != sorted(names)
        or _expiring(server_cert, now)
    ):
        server_key = ec.generate_private_key(ec.SECP256R1())
        server_cert = _server_certificate(server_key, names, ca_key, ca_cert, now)
    return {
        CA_KEY: _key_pem(ca_key),
        CA_CERT: ca_cert.public_bytes(serialization.Encoding.PEM),
        SERVER_KEY: _key_pem(server_key),
        SERVER_CERT: server_cert.public_bytes(serialization.Encoding.PEM),
    }


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def _load_key(data: bytes | None, name: str) -> ec.EllipticCurvePrivateKey | None:
    if data is None:
        return None
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError):
        key = None
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise OutputError(
            f"{name} in the output directory is not an unencrypted EC private key that "
            "openclaw-compose wrote; move it away to make a new one (users then trust the new "
            "front/ca.crt)"
        )
    return key


def _load_cert(data: bytes | None) -> x509.Certificate | None:
    if data is None:
        return None
    try:
        return x509.load_pem_x509_certificate(data)
    except ValueError:
        return None


def _same_key(cert: x509.Certificate, key: ec.EllipticCurvePrivateKey) -> bool:
    return cert.public_key() == key.public_key()


def _signed_by(cert: x509.Certificate, ca: x509.Certificate) -> bool:
    try:
        cert.verify_directly_issued_by(ca)
    except (ValueError, TypeError, InvalidSignature):
        return False
    return True


def _expiring(cert: x509.Certificate, now: datetime.datetime) -> bool:
    return cert.not_valid_after_utc - now < RENEW_BEFORE


def _ca_certificate(
    key: ec.EllipticCurvePrivateKey, project: str, now: datetime.datetime
) -> x509.Certificate:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"openclaw-compose {project} CA")])
    return (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=CA_DAYS))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
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
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )


def _server_certificate(
    key: ec.EllipticCurvePrivateKey,
    names: Sequence[str],
    ca_key: ec.EllipticCurvePrivateKey,
    ca: x509.Certificate,
    now: datetime.datetime,
) -> x509.Certificate:
    return (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0])]))
        .issuer_name(ca.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=SERVER_DAYS))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(n) for n in names]), False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )


def dns_names(cert: x509.Certificate) -> list[str]:
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName)
    except x509.ExtensionNotFound:
        return []
    return [name.lower() for name in san.value.get_values_for_type(x509.DNSName)]


def covers(pattern: str, name: str) -> bool:
    """Whether a certificate's DNS name ``pattern`` (``*.example.org`` too) matches ``name``."""
    if pattern.startswith("*."):
        head, _, rest = name.partition(".")
        return bool(head) and rest == pattern[2:]
    return pattern == name


@dataclass(frozen=True)
class CertificateFinding:
    message: str
    fatal: bool = True


def check_user_certificate(
    cert_path: Path, key_path: Path, names: Mapping[str, str]
) -> list[CertificateFinding]:
    """What is wrong with a user's certificate for the profiles' ``names`` (profile ->
    hostname): unreadable files, a key that is not the certificate's, a name it does not cover,
    a certificate not yet or no longer valid."""
    try:
        cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
    except (OSError, ValueError) as exc:
        return [CertificateFinding(f"{shown(cert_path)}: not a readable PEM certificate ({exc})")]
    try:
        key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
    except (OSError, ValueError, TypeError) as exc:
        return [
            CertificateFinding(
                f"{shown(key_path)}: not a readable unencrypted PEM private key ({exc})"
            )
        ]
    found = []
    if cert.public_key() != key.public_key():
        found.append(CertificateFinding(f"{shown(key_path)} is not the key of {shown(cert_path)}"))
    covered = dns_names(cert)
    for profile, name in names.items():
        if not any(covers(pattern, name) for pattern in covered):
            found.append(
                CertificateFinding(
                    f"{shown(cert_path)} does not name {name} (profile {profile!r}); it names "
                    f"{', '.join(covered) or 'no DNS name'}"
                )
            )
    now = _now()
    if cert.not_valid_after_utc <= now:
        found.append(
            CertificateFinding(f"{shown(cert_path)} expired on {cert.not_valid_after_utc:%Y-%m-%d}")
        )
    elif cert.not_valid_before_utc > now:
        found.append(
            CertificateFinding(
                f"{shown(cert_path)} is not valid before {cert.not_valid_before_utc:%Y-%m-%d}"
            )
        )
    elif _expiring(cert, now):
        found.append(
            CertificateFinding(
                f"{shown(cert_path)} expires on {cert.not_valid_after_utc:%Y-%m-%d}: renew it",
                fatal=False,
            )
        )
    if cert.issuer == cert.subject:
        found.append(
            CertificateFinding(
                f"{shown(cert_path)} is self-signed: every browser and phone must trust it by hand",
                fatal=False,
            )
        )
    return found
