"""PKI helpers: a CA, leaf certificates that verify against it, and the CA pin."""

from __future__ import annotations

import datetime as dt

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec

from kfed_core import pki

NOW = dt.datetime(2026, 11, 26, tzinfo=dt.UTC)


def test_leaf_is_signed_by_its_ca_and_names_its_holder() -> None:
    ca = pki.create_ca("test-ca", now=NOW)
    leaf = pki.issue_key_pair(
        ca,
        pki.LeafSpec(
            common_name="kube-apiserver",
            ip_addresses=("127.1.1.1",),
            dns_names=("kubernetes",),
            server=True,
        ),
        now=NOW,
    )
    leaf.cert.verify_directly_issued_by(ca.cert)
    sans = leaf.cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert [str(ip) for ip in sans.get_values_for_type(x509.IPAddress)] == ["127.1.1.1"]
    assert leaf.cert.not_valid_after_utc <= ca.cert.not_valid_after_utc
    assert pki.load_certificate(leaf.cert_pem) == leaf.cert
    assert isinstance(pki.load_private_key(leaf.key_pem), ec.EllipticCurvePrivateKey)


def test_a_leaf_must_say_what_it_is_for() -> None:
    ca = pki.create_ca("test-ca", now=NOW)
    with pytest.raises(ValueError, match="server, a client or both"):
        pki.issue_key_pair(ca, pki.LeafSpec(common_name="x"), now=NOW)


def test_ca_hash_is_kubeadm_style_and_differs_per_ca() -> None:
    one, two = pki.create_ca("a", now=NOW), pki.create_ca("a", now=NOW)
    assert pki.ca_hash(one.cert).startswith("sha256:") and len(pki.ca_hash(one.cert)) == 71
    assert pki.ca_hash(one.cert) != pki.ca_hash(two.cert)


def test_garbage_is_not_a_certificate() -> None:
    with pytest.raises(ValueError, match="Unable to load PEM file"):
        pki.load_certificate(b"not a certificate")
