"""Identity: SPIFFE URIs in certificates, cluster names, CSRs and the rotation point."""

from __future__ import annotations

import datetime as dt

import pytest
from cryptography import x509
from cryptography.x509.oid import NameOID

from kfed_core import identity, pki

NOW = dt.datetime(2026, 11, 26, tzinfo=dt.UTC)
CA = pki.create_ca("test-ca", now=NOW)


def _client(*uris: str) -> x509.Certificate:
    spec = pki.LeafSpec(common_name="x", uris=uris, client=True)
    return pki.issue_key_pair(CA, spec, now=NOW).cert


def test_cluster_and_admin_are_read_from_the_uri_san() -> None:
    assert identity.cluster_uri("eu-west") == "spiffe://kfed/cluster/eu-west"
    assert identity.admin_uri("alice") == "spiffe://kfed/admin/alice"
    agent = _client(identity.cluster_uri("eu-west"))
    admin = _client(identity.admin_uri("alice"))
    assert (identity.cluster_of(agent), identity.admin_of(agent)) == ("eu-west", None)
    assert (identity.cluster_of(admin), identity.admin_of(admin)) == (None, "alice")


def test_a_certificate_naming_two_clusters_or_none_names_no_cluster() -> None:
    assert identity.cluster_of(_client()) is None
    assert (
        identity.cluster_of(_client("spiffe://kfed/cluster/a", "spiffe://kfed/cluster/b")) is None
    )
    assert identity.cluster_of(_client("spiffe://kfed/cluster/")) is None
    assert identity.cluster_of(_client("spiffe://kfed/cluster/a/b")) is None
    assert identity.cluster_of(_client("spiffe://other/cluster/a")) is None


def test_csr_carries_the_cluster_uri_and_common_name_and_is_signed() -> None:
    key = pki.new_private_key()
    csr = identity.load_csr(identity.make_csr(key, cluster="us-east"))
    assert csr.is_signature_valid
    assert csr.public_key() == key.public_key()
    cn = csr.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value
    sans = csr.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert cn == "us-east"
    assert sans.get_values_for_type(x509.UniformResourceIdentifier) == [
        "spiffe://kfed/cluster/us-east"
    ]


def test_no_csr_for_an_invalid_cluster_name() -> None:
    with pytest.raises(ValueError, match="DNS-1123"):
        identity.make_csr(pki.new_private_key(), cluster="Not_Valid")


def test_garbage_is_not_a_csr_and_the_error_says_what_was_expected() -> None:
    with pytest.raises(ValueError, match="BEGIN CERTIFICATE REQUEST"):
        identity.load_csr(b"garbage")
    with pytest.raises(ValueError, match="not a PEM-encoded PKCS#10"):
        identity.load_csr(CA.cert_pem)


@pytest.mark.parametrize("name", ["a", "eu-west-1", "0", "a" * 63, "1-2-3"])
def test_dns_labels_are_valid_cluster_names(name: str) -> None:
    assert identity.valid_cluster_name(name) is None


@pytest.mark.parametrize(
    ("name", "problem"),
    [
        ("", "empty"),
        ("a" * 64, "at most 63"),
        ("Upper", "lower case"),
        ("-lead", "start and end"),
        ("trail-", "start and end"),
        ("dot.ted", "lower case"),
        ("ünï", "lower case"),
    ],
)
def test_invalid_cluster_names_say_why(name: str, problem: str) -> None:
    message = identity.valid_cluster_name(name)
    assert message is not None and problem in message


def test_rotation_falls_when_a_quarter_to_a_fifth_of_the_lifetime_remains() -> None:
    start, end = NOW, NOW + dt.timedelta(days=100)
    assert identity.rotation_due(start, end, jitter=0.0) == NOW + dt.timedelta(days=75)
    assert identity.rotation_due(start, end, jitter=0.5) == NOW + dt.timedelta(days=77.5)
    latest = identity.rotation_due(start, end, jitter=0.999999)
    assert NOW + dt.timedelta(days=79.99) < latest < NOW + dt.timedelta(days=80)


@pytest.mark.parametrize("jitter", [-0.1, 1.0, 2.0])
def test_rotation_refuses_jitter_outside_zero_to_one(jitter: float) -> None:
    with pytest.raises(ValueError, match=r"\[0, 1\)"):
        identity.rotation_due(NOW, NOW + dt.timedelta(days=1), jitter=jitter)


def test_rotation_refuses_an_empty_lifetime() -> None:
    with pytest.raises(ValueError, match="lifetime is empty"):
        identity.rotation_due(NOW, NOW, jitter=0.0)


def test_serial_hex_is_lower_case_hex_of_the_serial() -> None:
    cert = _client()
    assert identity.serial_hex(cert) == format(cert.serial_number, "x")
    assert int(identity.serial_hex(cert), 16) == cert.serial_number
    assert identity.serial_hex(cert) == identity.serial_hex(cert).lower()
