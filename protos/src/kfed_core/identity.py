"""Who a certificate speaks for: SPIFFE URI SANs, cluster names, CSRs and the rotation schedule.

Layer: ``kfed_core`` (contract), pure: no clock (times come in), no randomness (the rotation jitter
comes in; a CSR's signature is the key's business), no I/O, no logging.

Identity is carried by exactly one URI SAN: ``spiffe://kfed/cluster/<name>`` for an agent and
``spiffe://kfed/admin/<user>`` for an operator. The common name is informative only; nothing here
or in the hub trusts it, because a CSR's subject is whatever the requester typed.
"""

from __future__ import annotations

import datetime as dt
import re

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509.oid import NameOID

from kfed_core.conventions import SPIFFE_ADMIN_PREFIX, SPIFFE_CLUSTER_PREFIX
from kfed_core.pki import PrivateKey

MAX_CLUSTER_NAME = 63
"""A cluster name is a DNS-1123 label: it ends up in labels, URIs and host names."""

ROTATE_AT_REMAINING_MAX = 0.25
ROTATE_AT_REMAINING_MIN = 0.20
"""Rotate once only 20 to 25 % of a certificate's lifetime remains (the jitter spreads a fleet's
renewals, so that agents joined together do not all come back in the same second)."""

_DNS_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")


def cluster_uri(name: str) -> str:
    """The URI SAN naming member cluster ``name``."""
    return SPIFFE_CLUSTER_PREFIX + name


def admin_uri(user: str) -> str:
    """The URI SAN naming operator ``user``."""
    return SPIFFE_ADMIN_PREFIX + user


def uris_of(cert: x509.Certificate) -> list[str]:
    """Every URI SAN of ``cert`` (empty if it has no SAN extension)."""
    try:
        sans = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return []
    return list(sans.get_values_for_type(x509.UniformResourceIdentifier))


def _one_under(cert: x509.Certificate, prefix: str) -> str | None:
    # Exactly one identity of a kind: a certificate claiming two clusters names neither.
    found = [uri[len(prefix) :] for uri in uris_of(cert) if uri.startswith(prefix)]
    if len(found) != 1 or not found[0] or "/" in found[0]:
        return None
    return found[0]


def cluster_of(cert: x509.Certificate) -> str | None:
    """The member cluster ``cert`` speaks for, or None if it names no single cluster."""
    return _one_under(cert, SPIFFE_CLUSTER_PREFIX)


def admin_of(cert: x509.Certificate) -> str | None:
    """The operator ``cert`` speaks for, or None if it names no single admin user."""
    return _one_under(cert, SPIFFE_ADMIN_PREFIX)


def valid_cluster_name(name: str) -> str | None:
    """None if ``name`` is a valid cluster name, else what is wrong with it (for people)."""
    if not name:
        return "a cluster name must not be empty"
    if len(name) > MAX_CLUSTER_NAME:
        return f"a cluster name must be at most {MAX_CLUSTER_NAME} characters (got {len(name)})"
    if not _DNS_LABEL.fullmatch(name):
        return (
            "a cluster name must consist of lower case letters, digits and '-', and start and "
            "end with a letter or digit (a DNS-1123 label, e.g. 'eu-west-1')"
        )
    return None


def make_csr(key: PrivateKey, *, cluster: str) -> bytes:
    """A PEM certificate signing request for cluster ``cluster``, signed by ``key``."""
    problem = valid_cluster_name(cluster)
    if problem is not None:
        raise ValueError(f"cannot make a CSR for cluster {cluster!r}: {problem}")
    csr = (
        x509.CertificateSigningRequestBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cluster)]))
        .add_extension(
            x509.SubjectAlternativeName([x509.UniformResourceIdentifier(cluster_uri(cluster))]),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    return csr.public_bytes(serialization.Encoding.PEM)


def load_csr(pem: bytes) -> x509.CertificateSigningRequest:
    """Parse a PEM CSR; raises ``ValueError`` saying so if ``pem`` is not one.

    The signature is not checked here: see ``CertificateSigningRequest.is_signature_valid``.
    """
    try:
        return x509.load_pem_x509_csr(pem)
    except ValueError as exc:
        raise ValueError(
            "the certificate signing request is not a PEM-encoded PKCS#10 request "
            "(expected '-----BEGIN CERTIFICATE REQUEST-----')"
        ) from exc


def serial_hex(cert: x509.Certificate) -> str:
    """The certificate's serial number as lower-case hex without leading zeros or ``0x``.

    This is the one spelling of a serial in the store (cluster records and revocations).
    """
    return format(cert.serial_number, "x")


def rotation_due(not_before: dt.datetime, not_after: dt.datetime, *, jitter: float) -> dt.datetime:
    """When to replace a certificate valid from ``not_before`` to ``not_after``.

    ``jitter`` in [0, 1) picks the point between 25 % of the lifetime remaining (0) and 20 %
    remaining (towards 1); the caller draws it, so this stays pure.
    """
    if not 0.0 <= jitter < 1.0:
        raise ValueError(f"jitter must be in [0, 1), got {jitter}")
    if not_after <= not_before:
        raise ValueError(f"the certificate's lifetime is empty: {not_before} .. {not_after}")
    spread = ROTATE_AT_REMAINING_MAX - ROTATE_AT_REMAINING_MIN
    remaining = ROTATE_AT_REMAINING_MAX - spread * jitter
    return not_after - (not_after - not_before) * remaining
