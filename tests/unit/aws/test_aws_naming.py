"""Names, tokens and ownership marks of the AWS provider are deterministic and valid."""

from __future__ import annotations

import re

from kfed_aws.naming import (
    TAG_MANAGED_BY,
    TAG_OWNER,
    accelerator_name,
    accelerator_tags,
    idempotency_token,
    is_ours,
    owner_record_name,
    owner_record_value,
    tag_value,
)

VALID = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9.-]{0,62}[A-Za-z0-9])?$")


def test_accelerator_name_keeps_a_valid_name_as_it_is() -> None:
    assert accelerator_name("kfed-default-web") == "kfed-default-web"


def test_accelerator_name_sanitises_and_marks_the_change_with_a_hash() -> None:
    name = accelerator_name("kfed_default/web--")
    assert VALID.match(name)
    assert name.startswith("kfed-default-web-")
    assert name == accelerator_name("kfed_default/web--")


def test_accelerator_name_truncates_long_names_to_64_with_distinct_hashes() -> None:
    first = accelerator_name("kfed-" + "a" * 100 + "-one")
    second = accelerator_name("kfed-" + "a" * 100 + "-two")
    assert len(first) <= 64 and len(second) <= 64
    assert VALID.match(first) and VALID.match(second)
    assert first != second


def test_accelerator_name_of_nothing_valid_is_still_valid() -> None:
    assert VALID.match(accelerator_name("---"))
    assert VALID.match(accelerator_name("-" * 80))


def test_idempotency_tokens_are_stable_and_differ_per_request() -> None:
    assert idempotency_token("aws", "web") == idempotency_token("aws", "web")
    assert idempotency_token("aws", "web") != idempotency_token("aws", "web2")
    assert idempotency_token("a", "bc") != idempotency_token("ab", "c")
    assert len(idempotency_token("x" * 1000)) <= 255


def test_tags_mark_owner_and_ingress_with_valid_values() -> None:
    tags = accelerator_tags(owner_id="aws", lb_name="kfed-default-web", ingress="default/web")
    assert tags[TAG_OWNER] == "kfed-default-web"
    assert tags[TAG_MANAGED_BY] == "aws"
    assert tags["kfed.io/ingress"] == "default/web"
    assert is_ours(tags, "aws", "kfed-default-web")
    assert is_ours(tags, "aws")
    assert not is_ours(tags, "other-hub")
    assert not is_ours(tags, "aws", "kfed-default-api")
    assert tag_value("a\u00e9b" + "x" * 300) == "a_b" + "x" * 253


def test_owner_record_sits_beside_the_hostname_and_names_the_load_balancer() -> None:
    assert owner_record_name("www.example.com.") == "_kfed-owner.www.example.com."
    value = owner_record_value("aws", "kfed-default-web")
    assert value.startswith('"') and value.endswith('"')
    assert "kfed.io/owner=kfed-default-web" in value
