"""The sandbox's own certificate authority and server certificate (EC P-256, SAN localhost/127.0.0.1/::1)."""

from __future__ import annotations

import datetime as dt
import hashlib
import ipaddress
import ssl
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from wizard.paths import write_private

RENEW_BEFORE = dt.timedelta(days=30)


@dataclass(frozen=True)
class TlsFiles:
    ca_cert: Path
    server_cert: Path
    server_key: Path

    def server_context(self) -> ssl.SSLContext:
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ctx.minimum_version = ssl.TLSVersion.TLSv1_2
        ctx.load_cert_chain(self.server_cert, self.server_key)
        ctx.set_alpn_protocols(["http/1.1"])
        return ctx

    def client_context(self) -> ssl.SSLContext:
        """A client context that trusts the sandbox CA (verification stays on)."""
        return ssl.create_default_context(cafile=str(self.ca_cert))


def _name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "wi-wizard sandbox"),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def _pem_key(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def _still_valid(path: Path) -> bool:
    try:
        cert = x509.load_pem_x509_certificate(path.read_bytes())
    except (OSError, ValueError):
        return False
    return cert.not_valid_after_utc - RENEW_BEFORE > dt.datetime.now(dt.UTC)


def ensure_tls(state_dir: Path) -> TlsFiles:
    """Create the CA and server certificate on first start; reuse them while they stay valid."""
    files = TlsFiles(state_dir / "ca.pem", state_dir / "server.pem", state_dir / "server-key.pem")
    ca_key_path = state_dir / "ca-key.pem"
    if all(p.exists() for p in (files.server_key, ca_key_path)) and all(
        _still_valid(p) for p in (files.ca_cert, files.server_cert)
    ):
        return files

    now = dt.datetime.now(dt.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = _name("wi-wizard sandbox CA")
    ca_ski = x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key())
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True, content_commitment=False, key_encipherment=False,
                data_encipherment=False, key_agreement=False, key_cert_sign=True, crl_sign=True,
                encipher_only=False, decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(ca_ski, critical=False)
        .sign(ca_key, hashes.SHA256())
    )

    key = ec.generate_private_key(ec.SECP256R1())
    cert = _sign_leaf(ca_key, ca_name, ca_ski, key, "127.0.0.1", ["localhost", "127.0.0.1", "::1"], now)

    write_private(ca_key_path, _pem_key(ca_key))
    write_private(files.server_key, _pem_key(key))
    write_private(files.ca_cert, ca_cert.public_bytes(serialization.Encoding.PEM))
    write_private(files.server_cert, cert.public_bytes(serialization.Encoding.PEM))
    files.ca_cert.chmod(0o644)  # the CA certificate is public: clients everywhere must read it
    return files


def _subject_alt_name(hostname: str) -> x509.GeneralName:
    try:
        return x509.IPAddress(ipaddress.ip_address(hostname))
    except ValueError:
        return x509.DNSName(hostname)


def _sign_leaf(ca_key: ec.EllipticCurvePrivateKey, ca_name: x509.Name, ca_ski: x509.SubjectKeyIdentifier,
               key: ec.EllipticCurvePrivateKey, common_name: str, hostnames: list[str],
               now: dt.datetime) -> x509.Certificate:
    """A server certificate for `hostnames` (DNS names or IP addresses) signed by the sandbox CA."""
    return (
        x509.CertificateBuilder()
        .subject_name(_name(common_name))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=825))
        .add_extension(x509.SubjectAlternativeName([_subject_alt_name(h) for h in hostnames]), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_ski), critical=False)
        .sign(ca_key, hashes.SHA256())
    )


def issue_leaf(state_dir: Path, hostnames: list[str], out_dir: Path | None = None) -> tuple[Path, Path]:
    """Another server certificate signed by the sandbox CA, for HTTPS servers the sandbox itself must trust
    (e.g. a test's own OIDC issuer that Entra fetches keys from). Returns (certificate PEM, key PEM) paths,
    written to `out_dir` (default: the state dir). The sandbox must have created its CA already."""
    if not hostnames:
        raise ValueError("issue_leaf needs at least one hostname")
    ca_key = serialization.load_pem_private_key((state_dir / "ca-key.pem").read_bytes(), password=None)
    if not isinstance(ca_key, ec.EllipticCurvePrivateKey):
        raise ValueError("the sandbox CA key is not an EC key")
    ca_cert = x509.load_pem_x509_certificate((state_dir / "ca.pem").read_bytes())
    ca_ski = ca_cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    key = ec.generate_private_key(ec.SECP256R1())
    cert = _sign_leaf(ca_key, ca_cert.subject, ca_ski, key, hostnames[0], hostnames, dt.datetime.now(dt.UTC))
    target = out_dir or state_dir
    stem = "leaf-" + hashlib.sha256(",".join(hostnames).encode()).hexdigest()[:12]
    cert_path, key_path = target / f"{stem}.pem", target / f"{stem}-key.pem"
    write_private(key_path, _pem_key(key))
    write_private(cert_path, cert.public_bytes(serialization.Encoding.PEM))
    return cert_path, key_path
