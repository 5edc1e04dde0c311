"""TLS settings for every kfed connection: the one place that builds SSL contexts and gRPC
credentials, so that protocol floors and verification rules cannot drift apart between callers.

Layer: ``kfed_core`` (contract). Takes PEM bytes, never paths: callers own where keys live.
It must not weaken verification anywhere except in :func:`bootstrap_ssl_context`, whose single use
is fetching a CA before it is pinned by hash (kubeadm's discovery step).

Why temporary files: Python's ``ssl.SSLContext.load_cert_chain`` accepts only file paths (CA
certificates can be passed in memory, private keys cannot). The certificate and key are therefore
written to a fresh private directory (mode 0700, files 0600), loaded, and deleted before the
function returns; nothing else reads them. gRPC takes PEM bytes directly and needs no files.
"""

from __future__ import annotations

import os
import ssl
import tempfile
from pathlib import Path
from typing import Literal

import grpc

MINIMUM_VERSION = ssl.TLSVersion.TLSv1_2


def _load_chain(context: ssl.SSLContext, cert_pem: bytes, key_pem: bytes) -> None:
    with tempfile.TemporaryDirectory(prefix="kfed-tls-") as folder:  # mkdtemp makes it 0700
        cert_path, key_path = Path(folder) / "tls.crt", Path(folder) / "tls.key"
        for path, data in ((cert_path, cert_pem), (key_path, key_pem)):
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as file:
                file.write(data)
        try:
            context.load_cert_chain(cert_path, key_path)
        except ssl.SSLError as exc:
            raise ValueError(
                f"the TLS certificate and key do not load together ({exc.reason or exc}); "
                "check that the key belongs to the certificate and both are PEM"
            ) from exc


def _load_ca(context: ssl.SSLContext, ca_pem: bytes) -> None:
    try:
        context.load_verify_locations(cadata=ca_pem.decode("ascii"))
    except (ssl.SSLError, UnicodeDecodeError) as exc:
        raise ValueError("the CA certificate is not a PEM certificate") from exc


def server_ssl_context(
    *,
    cert_pem: bytes,
    key_pem: bytes,
    ca_pem: bytes,
    client_certs: Literal["required", "optional"],
) -> ssl.SSLContext:
    """A server context presenting ``cert_pem`` and verifying client certificates against
    ``ca_pem``: ``required`` refuses a handshake without one, ``optional`` lets the application
    decide per request (a client that does present one must still verify)."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = MINIMUM_VERSION
    _load_chain(context, cert_pem, key_pem)
    _load_ca(context, ca_pem)
    context.verify_mode = ssl.CERT_REQUIRED if client_certs == "required" else ssl.CERT_OPTIONAL
    return context


def client_ssl_context(
    *, ca_pem: bytes, cert_pem: bytes | None = None, key_pem: bytes | None = None
) -> ssl.SSLContext:
    """A client context trusting only ``ca_pem``, checking the server's host name, and presenting
    ``cert_pem``/``key_pem`` when given (both or neither)."""
    if (cert_pem is None) != (key_pem is None):
        raise ValueError("a client certificate needs its key, and a key its certificate")
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)  # check_hostname and CERT_REQUIRED on
    context.minimum_version = MINIMUM_VERSION
    _load_ca(context, ca_pem)
    if cert_pem is not None and key_pem is not None:
        _load_chain(context, cert_pem, key_pem)
    return context


def bootstrap_ssl_context() -> ssl.SSLContext:
    """A client context that does NOT verify the server: only for downloading a hub's CA, which
    the caller must then compare with a pinned hash before trusting anything it received.
    Never send a secret over a connection made with it."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.minimum_version = MINIMUM_VERSION
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context


def grpc_server_credentials(
    *, cert_pem: bytes, key_pem: bytes, ca_pem: bytes
) -> grpc.ServerCredentials:
    """gRPC server credentials presenting ``cert_pem``; every client must present a certificate
    that verifies against ``ca_pem`` (there is no unauthenticated Sync stream). gRPC's own
    floor is already TLS 1.2, so there is no version to set here."""
    return grpc.ssl_server_credentials(
        [(key_pem, cert_pem)], root_certificates=ca_pem, require_client_auth=True
    )


def grpc_channel_credentials(
    *, ca_pem: bytes, cert_pem: bytes, key_pem: bytes
) -> grpc.ChannelCredentials:
    """gRPC channel credentials trusting only ``ca_pem`` and presenting ``cert_pem``."""
    return grpc.ssl_channel_credentials(
        root_certificates=ca_pem, private_key=key_pem, certificate_chain=cert_pem
    )
