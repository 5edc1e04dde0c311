"""The hub's certificate authority and its own certificates, kept in the data directory.

Layer: ``kfed_hub`` I/O shell over the pure helpers of :mod:`kfed_core.pki` and
:mod:`kfed_core.identity`. It reads and writes only its six files in the data directory, never logs
key material, and never decides who may join (that is :mod:`kfed_hub.bootstrap`).

Files (keys 0600, directory 0700, each written to a temporary file, fsynced and renamed into place):

- ``ca.crt`` / ``ca.key``: the CA, made on first start. Never replaced: a new CA would cut off every
  joined cluster, so a missing or damaged CA file is an error for a person to resolve.
- ``hub.crt`` / ``hub.key``: the serving pair (HTTPS API and gRPC Sync), re-issued at start when its
  names no longer cover the hosts, it is within 20 % of expiry, or another CA signed it.
- ``admin.crt`` / ``admin.key``: the first operator's client pair, re-issued on the same rules
  (except the names); the CLI's config is written from it.

Blocking file I/O: call :meth:`HubPki.load_or_create` before the event loop starts or through
``asyncio.to_thread``. :meth:`HubPki.sign_agent` is CPU only (one signature) and safe on the loop.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import cast

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from kfed_core import pki
from kfed_core.conventions import SPIFFE_HUB
from kfed_core.identity import admin_uri, cluster_uri, load_csr, valid_cluster_name

Clock = Callable[[], dt.datetime]

ADMIN_USER = "admin"
LEAF_VALID_FOR = dt.timedelta(days=365)
RENEW_WHEN_REMAINING = 0.20  # of the lifetime: leave time for the restart that picks it up
MIN_RSA_BITS = 2048


class PkiError(Exception):
    """The hub's PKI files are missing, damaged or inconsistent; the message says which and how
    to recover."""


class CsrRejected(ValueError):
    """A certificate signing request the hub will not sign; the message says why."""


def _write(path: Path, data: bytes, mode: int) -> None:
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.unlink(missing_ok=True)
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    with os.fdopen(fd, "wb") as file:
        file.write(data)
        file.flush()
        os.fsync(file.fileno())
    os.replace(temporary, path)
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)  # the rename itself must survive a crash
    finally:
        os.close(directory)


def _read_pair(cert_path: Path, key_path: Path, *, recovery: str) -> pki.KeyPair | None:
    present = [path.exists() for path in (cert_path, key_path)]
    if not any(present):
        return None
    if not all(present):
        missing, other = (key_path, cert_path) if present[0] else (cert_path, key_path)
        raise PkiError(f"{missing} is missing but {other} exists; {recovery}")
    try:
        cert = pki.load_certificate(cert_path.read_bytes())
    except ValueError as exc:
        raise PkiError(f"{cert_path} is not a PEM certificate ({exc}); {recovery}") from exc
    try:
        key = pki.load_private_key(key_path.read_bytes())
    except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
        raise PkiError(f"{key_path} is not a PEM EC private key ({exc}); {recovery}") from exc
    if cert.public_key() != key.public_key():
        raise PkiError(f"{key_path} is not the key of {cert_path}; {recovery}")
    return pki.KeyPair(cert, key)


def _split_hosts(hosts: Sequence[str]) -> tuple[list[str], list[str]]:
    """(DNS names, IP addresses) the serving certificate must carry, localhost included."""
    dns_names, ips = ["localhost"], ["127.0.0.1"]
    for host in hosts:
        text = host.strip().removeprefix("[").removesuffix("]").lower()
        try:
            ip = str(ipaddress.ip_address(text))
        except ValueError:
            if not text or not text.isascii() or any(c in text for c in ":/ "):
                raise PkiError(
                    f"hub host {host!r} is neither a host name nor an IP address; "
                    "give names like hub.example.com or 10.0.0.5, without a port"
                ) from None
            if text not in dns_names:
                dns_names.append(text)
        else:
            if ip not in ips:
                ips.append(ip)
    return dns_names, ips


def _due(cert: x509.Certificate, ca: pki.KeyPair, now: dt.datetime) -> bool:
    try:
        cert.verify_directly_issued_by(ca.cert)
    except (ValueError, TypeError, InvalidSignature):
        return True
    lifetime = cert.not_valid_after_utc - cert.not_valid_before_utc
    return cert.not_valid_after_utc - now < lifetime * RENEW_WHEN_REMAINING


def _covers(cert: x509.Certificate, dns_names: Sequence[str], ips: Sequence[str]) -> bool:
    try:
        sans = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return False
    have_dns = {name.lower() for name in sans.get_values_for_type(x509.DNSName)}
    have_ips = {str(ip) for ip in sans.get_values_for_type(x509.IPAddress)}
    have_uris = set(sans.get_values_for_type(x509.UniformResourceIdentifier))
    return set(dns_names) <= have_dns and set(ips) <= have_ips and SPIFFE_HUB in have_uris


class HubPki:
    """The hub's CA, serving pair and admin pair; signs agent certificates. Immutable after
    :meth:`load_or_create`, so it is safe to share between tasks and threads."""

    def __init__(
        self, *, ca: pki.KeyPair, serving: pki.KeyPair, admin: pki.KeyPair, clock: Clock
    ) -> None:
        self._ca, self._serving, self._admin, self._clock = ca, serving, admin, clock

    @classmethod
    def load_or_create(cls, data_dir: Path, *, hosts: Sequence[str], clock: Clock) -> HubPki:
        """Load the PKI from ``data_dir``, making whatever is missing or due (see the module)."""
        now = clock()
        data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.chmod(data_dir, 0o700)  # it holds private keys, whatever the umask made of it
        ca = _read_pair(
            data_dir / "ca.crt",
            data_dir / "ca.key",
            recovery="restore both from a backup (a new CA would cut off every joined cluster)",
        )
        if ca is None:
            ca = pki.create_ca("kfed-hub-ca", now=now)
            _write(data_dir / "ca.key", ca.key_pem, 0o600)
            _write(data_dir / "ca.crt", ca.cert_pem, 0o644)
        elif ca.cert.not_valid_after_utc <= now:
            raise PkiError(
                f"the hub CA in {data_dir / 'ca.crt'} expired at {ca.cert.not_valid_after_utc}; "
                "every cluster must join again under a new CA (move ca.crt and ca.key away)"
            )
        dns_names, ips = _split_hosts(hosts)
        serving_spec = pki.LeafSpec(
            common_name="kfed-hub",
            dns_names=dns_names,
            ip_addresses=ips,
            uris=(SPIFFE_HUB,),
            server=True,
            client=True,
            valid_for=LEAF_VALID_FOR,
        )
        serving = cls._leaf(data_dir, "hub", ca, serving_spec, now, dns_names, ips)
        admin_spec = pki.LeafSpec(
            common_name=ADMIN_USER,
            organizations=("kfed:admins",),
            uris=(admin_uri(ADMIN_USER),),
            client=True,
            valid_for=LEAF_VALID_FOR,
        )
        admin = cls._leaf(data_dir, "admin", ca, admin_spec, now, None, None)
        return cls(ca=ca, serving=serving, admin=admin, clock=clock)

    @staticmethod
    def _leaf(
        data_dir: Path,
        stem: str,
        ca: pki.KeyPair,
        spec: pki.LeafSpec,
        now: dt.datetime,
        dns_names: Sequence[str] | None,
        ips: Sequence[str] | None,
    ) -> pki.KeyPair:
        cert_path, key_path = data_dir / f"{stem}.crt", data_dir / f"{stem}.key"
        pair = _read_pair(
            cert_path, key_path, recovery="delete both to have them made again at the next start"
        )
        fresh = pair is not None and not _due(pair.cert, ca, now)
        if pair is not None and fresh and dns_names is not None and ips is not None:
            fresh = _covers(pair.cert, dns_names, ips)
        if pair is not None and fresh:
            return pair
        pair = pki.issue_key_pair(ca, spec, now=now)
        _write(key_path, pair.key_pem, 0o600)
        _write(cert_path, pair.cert_pem, 0o644)
        return pair

    @property
    def ca_cert(self) -> x509.Certificate:
        return self._ca.cert

    @property
    def ca_pem(self) -> bytes:
        return self._ca.cert_pem

    @property
    def ca_hash(self) -> str:
        """``sha256:<hex>`` of the CA's public key, as ``kfed join --ca-hash`` expects."""
        return pki.ca_hash(self._ca.cert)

    @property
    def serving(self) -> pki.KeyPair:
        """The hub's serving pair (server and client usage, ``spiffe://kfed/hub``)."""
        return self._serving

    @property
    def admin(self) -> pki.KeyPair:
        """The first operator's client pair (``spiffe://kfed/admin/admin``)."""
        return self._admin

    def check_csr(self, csr_pem: bytes) -> x509.CertificateSigningRequest:
        """The parsed CSR if the hub would sign it; raises :class:`CsrRejected` otherwise."""
        try:
            csr = load_csr(csr_pem)
            public_key = csr.public_key()
            signed = csr.is_signature_valid
        except (ValueError, UnsupportedAlgorithm) as exc:
            raise CsrRejected(str(exc)) from exc
        if not signed:
            raise CsrRejected(
                "the CSR's signature does not verify: it was not signed by the key it carries"
            )
        if isinstance(public_key, ec.EllipticCurvePublicKey):
            if not isinstance(public_key.curve, ec.SECP256R1):
                raise CsrRejected(f"EC keys must be P-256, this one is {public_key.curve.name}")
        elif isinstance(public_key, rsa.RSAPublicKey):
            if public_key.key_size < MIN_RSA_BITS:
                raise CsrRejected(
                    f"RSA keys must have at least {MIN_RSA_BITS} bits, "
                    f"this one has {public_key.key_size}"
                )
        else:
            raise CsrRejected("the CSR's key must be EC P-256 or RSA (at least 2048 bits)")
        return csr

    def sign_agent(
        self, csr_pem: bytes, *, cluster: str, valid_for: dt.timedelta
    ) -> x509.Certificate:
        """A client certificate for member cluster ``cluster``, for the CSR's key.

        Only the key is taken from the CSR: the certificate names ``spiffe://kfed/cluster/<name>``
        and nothing else, whatever names the CSR asks for.
        """
        problem = valid_cluster_name(cluster)
        if problem is not None:
            raise ValueError(f"cannot sign for cluster {cluster!r}: {problem}")
        csr = self.check_csr(csr_pem)
        spec = pki.LeafSpec(
            common_name=cluster, uris=(cluster_uri(cluster),), client=True, valid_for=valid_for
        )
        # sign_public_key is typed for EC keys; CertificateBuilder takes RSA ones just as well,
        # and check_csr allowed only those two kinds.
        public_key = cast(ec.EllipticCurvePublicKey, csr.public_key())
        return pki.sign_public_key(self._ca, public_key, spec, now=self._clock())
