"""Name and label syntax checks of the simulated API server, with kube-apiserver's wording."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kfed_local.sim import names

DNS1123_SUBDOMAIN_MESSAGE = (
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or "
    "'.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used "
    r"for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"
)
DNS1123_LABEL_MESSAGE = (
    "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and "
    "must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex "
    "used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')"
)
QUALIFIED_NAME_PART = (
    "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an "
    "alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for "
    "validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')"
)


@pytest.mark.parametrize("value", ["a", "example.com", "a-b.c-d", "0", "x" * 253])
def test_dns1123_subdomain_accepts_valid_names(value: str) -> None:
    assert names.is_dns1123_subdomain(value) == []


def test_dns1123_subdomain_rejects_uppercase_with_the_real_message() -> None:
    assert names.is_dns1123_subdomain("Web_1") == [DNS1123_SUBDOMAIN_MESSAGE]


def test_dns1123_subdomain_reports_length_and_pattern_separately() -> None:
    assert names.is_dns1123_subdomain("a" * 254) == ["must be no more than 253 characters"]
    assert names.is_dns1123_subdomain("-" * 254) == [
        "must be no more than 253 characters",
        DNS1123_SUBDOMAIN_MESSAGE,
    ]


def test_dns1123_label_says_dots_are_the_problem_for_a_subdomain() -> None:
    assert names.is_dns1123_label("my.ns") == ["must not contain dots"]


def test_dns1123_label_rejects_uppercase_with_the_real_message() -> None:
    assert names.is_dns1123_label("Web") == [DNS1123_LABEL_MESSAGE]
    assert names.is_dns1123_label("a" * 64) == ["must be no more than 63 characters"]


def test_dns1035_label_must_start_with_a_letter() -> None:
    assert names.is_dns1035_label("my-svc") == []
    assert names.is_dns1035_label("1svc") == [
        "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with "
        "an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or "
        "'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')"
    ]


def test_qualified_name_accepts_prefixed_keys() -> None:
    assert names.is_qualified_name("app.kubernetes.io/name") == []
    assert names.is_qualified_name("MyName") == []


def test_qualified_name_reports_empty_name_twice_like_go() -> None:
    assert names.is_qualified_name("example.com/") == [
        "name part must be non-empty",
        "name part " + QUALIFIED_NAME_PART,
    ]


def test_qualified_name_checks_the_prefix_as_a_subdomain() -> None:
    assert names.is_qualified_name("Example.com/a") == ["prefix part " + DNS1123_SUBDOMAIN_MESSAGE]
    assert names.is_qualified_name("/a") == ["prefix part must be non-empty"]


def test_qualified_name_with_two_slashes_has_its_own_message() -> None:
    assert names.is_qualified_name("a/b/c") == [
        "a qualified name " + QUALIFIED_NAME_PART + " with an optional DNS subdomain prefix and "
        "'/' (e.g. 'example.com/MyName')"
    ]


def test_label_value_may_be_empty_but_not_start_with_a_dash() -> None:
    assert names.is_valid_label_value("") == []
    assert names.is_valid_label_value("-x") == [
        "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' "
        "or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or "
        "'my_value',  or '12345', regex used for validation is "
        "'(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')"
    ]


def test_lengths_count_utf8_bytes_like_go() -> None:
    assert "must be no more than 63 characters" in names.is_valid_label_value("é" * 32)


def test_path_segment_names_refuse_dots_and_slashes() -> None:
    assert names.is_path_segment_name("..") == ["may not be '..'"]
    assert names.is_path_segment_name("a/b%c") == ["may not contain '/'", "may not contain '%'"]
    assert names.is_path_segment_name("system:admin") == []


def test_config_map_keys_refuse_parent_directory_forms() -> None:
    assert names.is_config_map_key("app.properties") == []
    assert names.is_config_map_key("..data") == ["must not start with '..'"]
    assert names.is_config_map_key("a b") == [
        "a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. "
        "'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is "
        "'[-._a-zA-Z0-9]+')"
    ]


def test_port_names_follow_iana_service_name_rules() -> None:
    assert names.is_valid_port_name("http-metrics") == []
    assert names.is_valid_port_name("8080") == ["must contain at least one letter (a-z)"]
    assert names.is_valid_port_name("a--b") == ["must not contain consecutive hyphens"]


@pytest.mark.parametrize(
    ("group", "plural", "name", "valid"),
    [
        ("", "namespaces", "team.a", False),
        ("", "services", "1web", False),
        ("", "services", "web", True),
        ("", "configmaps", "app.config", True),
        ("", "events", "web-1.17a8b2c3d4e5f6a7", True),
        ("apps", "deployments", "web.v2", True),
        ("rbac.authorization.k8s.io", "clusterroles", "system:controller:x", True),
        ("example.com", "widgets", "w.1", True),
    ],
)
def test_name_validator_follows_the_resource(
    group: str, plural: str, name: str, *, valid: bool
) -> None:
    assert (names.name_validator_for(group, plural)(name) == []) is valid


def test_generate_name_prefix_may_end_with_a_dash() -> None:
    check = names.name_validator_for("", "pods")
    assert check("web-", True) == []
    assert check("web-", False) != []


@given(st.text(alphabet="abcz09-.A_", max_size=80))
def test_accepted_dns1123_labels_are_short_lowercase_and_dash_bounded(value: str) -> None:
    if names.is_dns1123_label(value) == []:
        assert len(value) <= 63
        assert re.fullmatch("[a-z0-9-]+", value)
        assert not value.startswith("-")
        assert not value.endswith("-")
