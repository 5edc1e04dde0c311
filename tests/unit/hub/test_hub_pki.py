"""The hub's PKI: made once in the data dir, reloaded after, re-issued only when due; agent CSRs."""

from __future__ import annotations

import datetime as dt
import ipaddress
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from kfed_core import identity, pki
from kfed_hub.pki import CsrRejected, HubPki, PkiError

NOW = dt.datetime(2026, 11, 26, tzinfo=dt.UTC)
FILES = ("ca.crt", "ca.key", "hub.crt", "hub.key", "admin.crt", "admin.key")


def _load(data_dir: Path, hosts: tuple[str, ...] = (), now: dt.datetime = NOW) -> HubPki:
    return HubPki.load_or_create(data_dir, hosts=hosts, clock=lambda: now)


def _sans(cert: x509.Certificate) -> x509.SubjectAlternativeName:
    return cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value


def _usages(cert: x509.Certificate) -> set[x509.ObjectIdentifier]:
    return set(cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value)


def test_first_start_makes_ca_serving_and_admin_pairs_with_private_modes(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    hub = _load(data_dir, ("hub.example.com", "10.0.0.5", "[::1]"))
    assert sorted(p.name for p in data_dir.iterdir()) == sorted(FILES)
    assert data_dir.stat().st_mode & 0o777 == 0o700
    for name in ("ca.key", "hub.key", "admin.key"):
        assert (data_dir / name).stat().st_mode & 0o777 == 0o600
    sans = _sans(hub.serving.cert)
    assert sans.get_values_for_type(x509.DNSName) == ["localhost", "hub.example.com"]
    assert sans.get_values_for_type(x509.IPAddress) == [
        ipaddress.ip_address(ip) for ip in ("127.0.0.1", "10.0.0.5", "::1")
    ]
    assert sans.get_values_for_type(x509.UniformResourceIdentifier) == ["spiffe://kfed/hub"]
    assert _usages(hub.serving.cert) == {
        ExtendedKeyUsageOID.SERVER_AUTH,
        ExtendedKeyUsageOID.CLIENT_AUTH,
    }
    assert identity.admin_of(hub.admin.cert) == "admin"
    assert _usages(hub.admin.cert) == {ExtendedKeyUsageOID.CLIENT_AUTH}
    for leaf in (hub.serving.cert, hub.admin.cert):
        leaf.verify_directly_issued_by(hub.ca_cert)
    assert hub.ca_hash == pki.ca_hash(pki.load_certificate(hub.ca_pem))


def test_later_starts_load_the_same_pki(tmp_path: Path) -> None:
    first = _load(tmp_path, ("hub.test",))
    second = _load(tmp_path, ("hub.test",), NOW + dt.timedelta(days=30))
    assert second.ca_hash == first.ca_hash
    assert second.serving.cert == first.serving.cert
    assert second.admin.cert == first.admin.cert


def test_a_new_host_reissues_only_the_serving_pair(tmp_path: Path) -> None:
    first = _load(tmp_path, ("hub.test",))
    second = _load(tmp_path, ("hub.test", "192.0.2.7"))
    assert second.ca_hash == first.ca_hash and second.admin.cert == first.admin.cert
    assert second.serving.cert != first.serving.cert
    assert ipaddress.ip_address("192.0.2.7") in _sans(second.serving.cert).get_values_for_type(
        x509.IPAddress
    )
    assert _load(tmp_path, ("hub.test",)).serving.cert == second.serving.cert  # still covered


def test_leaves_near_expiry_are_reissued_but_the_ca_is_kept(tmp_path: Path) -> None:
    first = _load(tmp_path)
    late = NOW + dt.timedelta(days=300)  # less than 20 % of a year left
    second = _load(tmp_path, now=late)
    assert second.ca_hash == first.ca_hash
    assert second.serving.cert != first.serving.cert and second.admin.cert != first.admin.cert
    assert second.serving.cert.not_valid_after_utc > late + dt.timedelta(days=300)


def test_a_missing_ca_key_is_an_error_that_says_restore_it(tmp_path: Path) -> None:
    _load(tmp_path)
    (tmp_path / "ca.key").unlink()
    with pytest.raises(PkiError, match=r"ca\.key is missing but .*ca\.crt exists; restore"):
        _load(tmp_path)


def test_a_damaged_file_is_named(tmp_path: Path) -> None:
    _load(tmp_path)
    (tmp_path / "hub.crt").write_bytes(b"garbage")
    with pytest.raises(PkiError, match=r"hub\.crt is not a PEM certificate.*delete both"):
        _load(tmp_path)


def test_a_key_that_is_not_the_certificates_is_refused(tmp_path: Path) -> None:
    _load(tmp_path)
    (tmp_path / "admin.key").write_bytes((tmp_path / "hub.key").read_bytes())
    with pytest.raises(PkiError, match=r"admin\.key is not the key of"):
        _load(tmp_path)


def test_a_host_with_a_port_is_refused(tmp_path: Path) -> None:
    with pytest.raises(PkiError, match="without a port"):
        _load(tmp_path, ("hub.test:8443",))


def _csr(key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey, *names: x509.GeneralName) -> bytes:
    builder = x509.CertificateSigningRequestBuilder().subject_name(
        x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "admin")])
    )
    if names:
        builder = builder.add_extension(x509.SubjectAlternativeName(list(names)), critical=False)
    return builder.sign(key, hashes.SHA256()).public_bytes(serialization.Encoding.PEM)


def test_agent_certificate_names_only_its_cluster_whatever_the_csr_asks(tmp_path: Path) -> None:
    hub = _load(tmp_path)
    key = pki.new_private_key()
    greedy = _csr(
        key,
        x509.UniformResourceIdentifier(identity.admin_uri("admin")),
        x509.UniformResourceIdentifier(identity.cluster_uri("other")),
        x509.DNSName("hub.test"),
    )
    cert = hub.sign_agent(greedy, cluster="eu-west", valid_for=dt.timedelta(days=30))
    cert.verify_directly_issued_by(hub.ca_cert)
    assert list(_sans(cert)) == [x509.UniformResourceIdentifier("spiffe://kfed/cluster/eu-west")]
    assert identity.cluster_of(cert) == "eu-west" and identity.admin_of(cert) is None
    assert _usages(cert) == {ExtendedKeyUsageOID.CLIENT_AUTH}
    assert cert.public_key() == key.public_key()
    assert cert.not_valid_after_utc == NOW + dt.timedelta(days=30)


def test_an_rsa_2048_csr_is_signed(tmp_path: Path) -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    cert = _load(tmp_path).sign_agent(_csr(key), cluster="a", valid_for=dt.timedelta(days=1))
    assert cert.public_key() == key.public_key()


@pytest.mark.parametrize(
    ("key", "problem"),
    [
        (ec.generate_private_key(ec.SECP384R1()), "must be P-256"),
        (rsa.generate_private_key(public_exponent=65537, key_size=1024), "at least 2048"),
    ],
)
def test_weak_or_unexpected_keys_are_refused(
    tmp_path: Path, key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey, problem: str
) -> None:
    with pytest.raises(CsrRejected, match=problem):
        _load(tmp_path).sign_agent(_csr(key), cluster="a", valid_for=dt.timedelta(days=1))


def test_a_csr_with_a_bad_signature_is_refused(tmp_path: Path) -> None:
    good = x509.load_pem_x509_csr(identity.make_csr(pki.new_private_key(), cluster="a"))
    der = bytearray(good.public_bytes(serialization.Encoding.DER))
    der[-1] ^= 0x01  # the last byte belongs to the signature
    bad = x509.load_der_x509_csr(bytes(der)).public_bytes(serialization.Encoding.PEM)
    with pytest.raises(CsrRejected, match="signature does not verify"):
        _load(tmp_path).sign_agent(bad, cluster="a", valid_for=dt.timedelta(days=1))


def test_garbage_is_refused_as_a_csr(tmp_path: Path) -> None:
    with pytest.raises(CsrRejected, match="not a PEM-encoded"):
        _load(tmp_path).sign_agent(b"garbage", cluster="a", valid_for=dt.timedelta(days=1))


def test_no_certificate_for_an_invalid_cluster_name(tmp_path: Path) -> None:
    csr = identity.make_csr(pki.new_private_key(), cluster="a")
    with pytest.raises(ValueError, match="DNS-1123"):
        _load(tmp_path).sign_agent(csr, cluster="A_B", valid_for=dt.timedelta(days=1))
