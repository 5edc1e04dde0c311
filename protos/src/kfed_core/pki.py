"""PKI helpers: certificate authorities, keys, certificates and their PEM forms.

Layer: ``kfed_core`` (contract). Pure apart from key generation's randomness; no file I/O (callers
decide where PEM bytes go, and with which permissions) and no logging of key material.

Keys are ECDSA P-256: small, fast to make (a simulated fleet makes dozens at start) and accepted by
every Kubernetes and gRPC client. Certificates carry only the extensions a verifier needs: basic
constraints, key usage, extended key usage, subject/authority key identifiers and SANs.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

PrivateKey = ec.EllipticCurvePrivateKey

_BACKDATE = dt.timedelta(minutes=5)  # tolerate small clock skew between peers


def new_private_key() -> PrivateKey:
    """A fresh ECDSA P-256 private key."""
    return ec.generate_private_key(ec.SECP256R1())


def _name(common_name: str, organizations: Sequence[str] = ()) -> x509.Name:
    attributes = [x509.NameAttribute(NameOID.ORGANIZATION_NAME, org) for org in organizations]
    attributes.append(x509.NameAttribute(NameOID.COMMON_NAME, common_name))
    return x509.Name(attributes)


def _key_usage(*, ca: bool) -> x509.KeyUsage:
    # Signing only: ECDSA keys never encipher; only a CA signs certificates and CRLs.
    return x509.KeyUsage(
        digital_signature=True,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=ca,
        crl_sign=ca,
        encipher_only=False,
        decipher_only=False,
    )


@dataclass(frozen=True, slots=True)
class KeyPair:
    """A certificate with its private key."""

    cert: x509.Certificate
    key: PrivateKey

    @property
    def cert_pem(self) -> bytes:
        """The certificate in PEM form."""
        return self.cert.public_bytes(serialization.Encoding.PEM)

    @property
    def key_pem(self) -> bytes:
        """The private key in unencrypted PKCS#8 PEM form (write it with mode 0600)."""
        return self.key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )


def create_ca(
    common_name: str, *, valid_for: dt.timedelta = dt.timedelta(days=3650), now: dt.datetime
) -> KeyPair:
    """A self-signed certificate authority."""
    key = new_private_key()
    name = _name(common_name)
    public = key.public_key()
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(public)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - _BACKDATE)
        .not_valid_after(now + valid_for)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(_key_usage(ca=True), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
        .sign(key, hashes.SHA256())
    )
    return KeyPair(cert, key)


def _san(
    dns_names: Sequence[str], ip_addresses: Sequence[str], uris: Sequence[str]
) -> list[x509.GeneralName]:
    names: list[x509.GeneralName] = [x509.DNSName(name) for name in dns_names]
    names += [x509.IPAddress(ipaddress.ip_address(ip)) for ip in ip_addresses]
    names += [x509.UniformResourceIdentifier(uri) for uri in uris]
    return names


@dataclass(frozen=True, slots=True, kw_only=True)
class LeafSpec:
    """What a leaf certificate says: its subject, its names and what it may be used for."""

    common_name: str
    organizations: Sequence[str] = ()
    dns_names: Sequence[str] = ()
    ip_addresses: Sequence[str] = ()
    uris: Sequence[str] = ()
    server: bool = False
    client: bool = False
    valid_for: dt.timedelta = dt.timedelta(days=365)
    backdate: dt.timedelta | None = None
    """How far before ``now`` validity starts, for clock skew between peers: 5 minutes by
    default, but never more than a tenth of ``valid_for``, so that a short-lived certificate's
    rotation point (a fraction of its lifetime) is not pushed out by the backdating."""


def _leaf_backdate(spec: LeafSpec) -> dt.timedelta:
    if spec.backdate is not None:
        return spec.backdate
    return min(_BACKDATE, spec.valid_for / 10)


def sign_public_key(
    ca: KeyPair, public_key: ec.EllipticCurvePublicKey, spec: LeafSpec, *, now: dt.datetime
) -> x509.Certificate:
    """A leaf certificate for ``public_key`` signed by ``ca`` (the holder keeps its own key)."""
    if not (spec.server or spec.client):
        raise ValueError("a leaf certificate must be for a server, a client or both")
    usages = []
    if spec.server:
        usages.append(ExtendedKeyUsageOID.SERVER_AUTH)
    if spec.client:
        usages.append(ExtendedKeyUsageOID.CLIENT_AUTH)
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(spec.common_name, spec.organizations))
        .issuer_name(ca.cert.subject)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - _leaf_backdate(spec))
        .not_valid_after(min(now + spec.valid_for, ca.cert.not_valid_after_utc))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_key_usage(ca=False), critical=True)
        .add_extension(x509.ExtendedKeyUsage(usages), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca.key.public_key()), critical=False
        )
    )
    sans = _san(spec.dns_names, spec.ip_addresses, spec.uris)
    if sans:
        builder = builder.add_extension(x509.SubjectAlternativeName(sans), critical=False)
    return builder.sign(ca.key, hashes.SHA256())


def issue_key_pair(ca: KeyPair, spec: LeafSpec, *, now: dt.datetime) -> KeyPair:
    """A new private key and its leaf certificate signed by ``ca``."""
    key = new_private_key()
    return KeyPair(sign_public_key(ca, key.public_key(), spec, now=now), key)


def ca_hash(cert: x509.Certificate) -> str:
    """The kubeadm-style pin of a CA: ``sha256:`` + hex SHA-256 of its SubjectPublicKeyInfo."""
    spki = cert.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return "sha256:" + hashlib.sha256(spki).hexdigest()


def load_certificate(pem: bytes) -> x509.Certificate:
    """Parse a PEM certificate; raises ``ValueError`` with the reason if it is not one."""
    return x509.load_pem_x509_certificate(pem)


def load_private_key(pem: bytes) -> PrivateKey:
    """Parse an unencrypted PEM private key; raises ``ValueError`` if it is not an EC key."""
    key = serialization.load_pem_private_key(pem, password=None)
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise ValueError("expected an EC private key")
    return key
