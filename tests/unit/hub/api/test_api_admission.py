"""Admission: defaulting, validation with Kubernetes' messages, merge patches, generation."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from kfed_hub.api import admission
from kfed_hub.api.errors import ApiError, Reason
from kfed_hub.api.kinds import KindInfo, NameRule, find_kind
from kfed_hub.api.names import label_key_problems, name_problems

NOW = dt.datetime(2025, 3, 4, 5, 6, 7, 890000, tzinfo=dt.UTC)


def kind(name: str) -> KindInfo:
    found = find_kind("v1", name)
    assert found is not None
    return found


CONFIGMAP, NAMESPACE, SECRET = kind("ConfigMap"), kind("Namespace"), kind("Secret")


def body(**metadata: Any) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": metadata, "data": {"a": "1"}}


def create(manifest: dict[str, Any], info: Any = CONFIGMAP, ns: str | None = "default") -> Any:
    return admission.prepare_create(info, manifest, namespace=ns, uid="u-1", now=NOW)


def test_create_defaults_server_fields_and_drops_status() -> None:
    manifest = create({**body(name="x"), "status": {"made": "up"}})
    assert manifest["metadata"] == {
        "name": "x",
        "namespace": "default",
        "uid": "u-1",
        "creationTimestamp": "2025-03-04T05:06:07Z",
        "generation": 1,
    }
    assert "status" not in manifest


def test_create_fills_a_missing_api_version_and_kind_from_the_path() -> None:
    manifest = create({"metadata": {"name": "x"}})
    assert (manifest["apiVersion"], manifest["kind"]) == ("v1", "ConfigMap")


def test_cluster_scoped_objects_lose_a_namespace() -> None:
    namespace = {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {"name": "a", "namespace": "b"},
    }
    assert "namespace" not in create(namespace, NAMESPACE, None)["metadata"]


def test_create_refuses_a_resource_version() -> None:
    with pytest.raises(ApiError) as caught:
        create(body(name="x", resourceVersion="5"))
    assert caught.value.reason is Reason.BAD_REQUEST


@pytest.mark.parametrize(
    ("labels", "fragment"),
    [
        ({"app": "bad value"}, "a valid label must be an empty string"),
        ({"-bad": "x"}, "name part must consist of alphanumeric"),
        ({"a" * 64: "x"}, "name part must be no more than 63 characters"),
        ({"app": 3}, "must be a string"),
    ],
)
def test_bad_labels_are_invalid(labels: dict[str, Any], fragment: str) -> None:
    with pytest.raises(ApiError) as caught:
        create(body(name="x", labels=labels))
    assert caught.value.reason is Reason.INVALID
    assert fragment in caught.value.message


def test_every_problem_is_one_cause() -> None:
    with pytest.raises(ApiError) as caught:
        create({**body(name="X_"), "data": {"bad key!": "v"}})
    fields = [cause.field for cause in caught.value.causes]
    assert fields == ["metadata.name", "data[bad key!]"]
    assert caught.value.message.startswith('ConfigMap "X_" is invalid: [')


def test_secret_data_must_be_base64_and_is_never_echoed() -> None:
    secret = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"}}
    admission.prepare_create(
        SECRET, {**secret, "data": {"k": "aGVsbG8="}}, namespace="default", uid="u", now=NOW
    )
    for bad in ("hello world", "aGVsbG8"):
        with pytest.raises(ApiError) as caught:
            admission.prepare_create(
                SECRET, {**secret, "data": {"k": bad}}, namespace="default", uid="u", now=NOW
            )
        assert "illegal base64 data at input byte" in caught.value.message
        assert bad not in caught.value.message
        assert "<secret contents redacted>" in caught.value.message


def test_update_keeps_identity_and_bumps_generation_on_content_change() -> None:
    existing = create(body(name="x"))
    changed = body(name="x", uid="forged", resourceVersion="7")
    changed["data"] = {"a": "2"}
    update = admission.prepare_update(CONFIGMAP, changed, existing, namespace="default", name="x")
    assert update.expected_revision == 7
    assert update.manifest["metadata"]["uid"] == "u-1"
    assert update.manifest["metadata"]["generation"] == 2
    same = admission.prepare_update(
        CONFIGMAP, body(name="x", labels={"a": "b"}), existing, namespace="default", name="x"
    )
    assert same.manifest["metadata"]["generation"] == 1 and same.expected_revision is None


def test_update_refuses_a_resource_version_that_is_not_a_number() -> None:
    existing = create(body(name="x"))
    with pytest.raises(ApiError) as caught:
        admission.prepare_update(
            CONFIGMAP,
            body(name="x", resourceVersion="abc"),
            existing,
            namespace="default",
            name="x",
        )
    assert caught.value.reason is Reason.BAD_REQUEST


def test_merge_patch_follows_rfc_7386() -> None:
    target = {"a": "b", "c": {"d": "e", "f": "g"}, "list": [1, 2]}
    patch = {"a": "z", "c": {"f": None}, "list": [3], "new": {"x": None, "y": 1}}
    result = admission.merge_patch(target, patch)
    assert result == {"a": "z", "c": {"d": "e"}, "list": [3], "new": {"y": 1}}
    assert target["c"] == {"d": "e", "f": "g"}  # untouched


@pytest.mark.parametrize(
    ("value", "rule", "valid"),
    [
        ("web-1", NameRule.SUBDOMAIN, True),
        ("a.b.c", NameRule.SUBDOMAIN, True),
        ("a.b.c", NameRule.LABEL, False),
        ("1abc", NameRule.LABEL, True),
        ("1abc", NameRule.DNS1035, False),
        ("-a", NameRule.SUBDOMAIN, False),
        ("a" * 64, NameRule.LABEL, False),
        ("a" * 253, NameRule.SUBDOMAIN, True),
        ("Upper", NameRule.SUBDOMAIN, False),
    ],
)
def test_name_rules(value: str, rule: NameRule, valid: bool) -> None:
    assert (name_problems(value, rule) == []) is valid


def test_label_keys_may_have_a_dns_prefix() -> None:
    assert label_key_problems("app.kubernetes.io/name") == []
    assert label_key_problems("/name") == ["prefix part must be non-empty"]
    assert label_key_problems("Bad_Prefix/name")
