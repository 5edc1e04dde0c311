"""TLS builders: real handshakes in memory (ssl.MemoryBIO), so no socket and no port is needed."""

from __future__ import annotations

import datetime as dt
import os
import ssl
import tempfile
from pathlib import Path

import grpc
import pytest
from cryptography import x509

from kfed_core import identity, pki, tls

NOW = dt.datetime.now(dt.UTC)
CA = pki.create_ca("test-ca", now=NOW)
OTHER_CA = pki.create_ca("other-ca", now=NOW)
SERVER = pki.issue_key_pair(
    CA, pki.LeafSpec(common_name="hub", dns_names=("hub.test",), server=True), now=NOW
)
AGENT = pki.issue_key_pair(
    CA, pki.LeafSpec(common_name="a", uris=(identity.cluster_uri("a"),), client=True), now=NOW
)
STRANGER = pki.issue_key_pair(
    OTHER_CA, pki.LeafSpec(common_name="s", uris=(identity.cluster_uri("a"),), client=True), now=NOW
)


def _server(client_certs: str = "required") -> ssl.SSLContext:
    assert client_certs in ("required", "optional")
    return tls.server_ssl_context(
        cert_pem=SERVER.cert_pem,
        key_pem=SERVER.key_pem,
        ca_pem=CA.cert_pem,
        client_certs="required" if client_certs == "required" else "optional",
    )


def _handshake(
    server_context: ssl.SSLContext, client_context: ssl.SSLContext, host: str = "hub.test"
) -> ssl.SSLObject:
    """Run both sides of a handshake through memory buffers; returns the server's end."""
    to_server, to_client = ssl.MemoryBIO(), ssl.MemoryBIO()
    client = client_context.wrap_bio(to_client, to_server, server_hostname=host)
    server = server_context.wrap_bio(to_server, to_client, server_side=True)
    pending = {"client", "server"}
    for _ in range(20):
        for name, end in (("client", client), ("server", server)):
            try:
                end.do_handshake()
            except ssl.SSLWantReadError:
                continue
            pending.discard(name)
        if not pending:
            # TLS 1.3: the server judges the client certificate after the client is done; a
            # refusal reaches the client as an alert on its next read.
            server.write(b"ok")
            assert client.read(2) == b"ok"
            return server
    raise AssertionError(f"handshake did not finish: {pending} still waiting")


def test_mutual_tls_handshake_shows_the_server_who_the_client_is() -> None:
    client = tls.client_ssl_context(
        ca_pem=CA.cert_pem, cert_pem=AGENT.cert_pem, key_pem=AGENT.key_pem
    )
    server_end = _handshake(_server(), client)
    der = server_end.getpeercert(binary_form=True)
    assert der is not None
    assert identity.cluster_of(x509.load_der_x509_certificate(der)) == "a"
    assert server_end.version() in ("TLSv1.2", "TLSv1.3")


def test_required_client_certificate_refuses_a_client_without_one() -> None:
    with pytest.raises(ssl.SSLError):
        _handshake(_server("required"), tls.client_ssl_context(ca_pem=CA.cert_pem))


def test_optional_client_certificate_lets_a_client_without_one_in() -> None:
    server_end = _handshake(_server("optional"), tls.client_ssl_context(ca_pem=CA.cert_pem))
    assert server_end.getpeercert() is None


@pytest.mark.parametrize("client_certs", ["required", "optional"])
def test_a_client_certificate_from_another_ca_is_refused(client_certs: str) -> None:
    client = tls.client_ssl_context(
        ca_pem=CA.cert_pem, cert_pem=STRANGER.cert_pem, key_pem=STRANGER.key_pem
    )
    with pytest.raises(ssl.SSLError):
        _handshake(_server(client_certs), client)


def test_client_checks_the_server_host_name() -> None:
    with pytest.raises(ssl.SSLCertVerificationError, match="match"):
        _handshake(_server("optional"), tls.client_ssl_context(ca_pem=CA.cert_pem), "evil.test")


def test_client_refuses_a_server_from_another_ca() -> None:
    with pytest.raises(ssl.SSLCertVerificationError):
        _handshake(_server("optional"), tls.client_ssl_context(ca_pem=OTHER_CA.cert_pem))


def test_bootstrap_context_accepts_any_server_but_nothing_else_does() -> None:
    unverified = tls.bootstrap_ssl_context()
    assert unverified.verify_mode == ssl.CERT_NONE
    _handshake(_server("optional"), unverified, "whatever.test")
    for context in (_server(), tls.client_ssl_context(ca_pem=CA.cert_pem)):
        assert context.minimum_version == ssl.TLSVersion.TLSv1_2
    assert tls.client_ssl_context(ca_pem=CA.cert_pem).check_hostname


def test_key_files_exist_only_while_loading(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    modes: list[int] = []
    real = ssl.SSLContext.load_cert_chain

    def spy(self: ssl.SSLContext, certfile: str, keyfile: str) -> None:
        modes.extend(os.stat(path).st_mode & 0o777 for path in (Path(keyfile).parent, keyfile))
        real(self, certfile, keyfile)

    monkeypatch.setattr(ssl.SSLContext, "load_cert_chain", spy)
    _server()
    assert modes == [0o700, 0o600]
    assert list(tmp_path.iterdir()) == []


def test_a_key_that_is_not_the_certificates_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="key belongs to the certificate"):
        tls.server_ssl_context(
            cert_pem=SERVER.cert_pem,
            key_pem=AGENT.key_pem,
            ca_pem=CA.cert_pem,
            client_certs="required",
        )


def test_client_certificate_needs_its_key() -> None:
    with pytest.raises(ValueError, match="needs its key"):
        tls.client_ssl_context(ca_pem=CA.cert_pem, cert_pem=AGENT.cert_pem)


def test_garbage_ca_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="CA certificate is not a PEM"):
        tls.client_ssl_context(ca_pem=b"garbage")


def test_grpc_credentials_are_built_from_pem_bytes() -> None:
    server = tls.grpc_server_credentials(
        cert_pem=SERVER.cert_pem, key_pem=SERVER.key_pem, ca_pem=CA.cert_pem
    )
    channel = tls.grpc_channel_credentials(
        ca_pem=CA.cert_pem, cert_pem=AGENT.cert_pem, key_pem=AGENT.key_pem
    )
    assert isinstance(server, grpc.ServerCredentials)
    assert isinstance(channel, grpc.ChannelCredentials)
