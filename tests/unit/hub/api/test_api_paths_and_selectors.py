"""Which kind a path names, and label selectors."""

from __future__ import annotations

import pytest

from kfed_hub.api.kinds import SERVED_KINDS, find_kind, parse_resource_path
from kfed_hub.planning.selectors import SelectorError, parse_selector


def test_the_served_kinds_have_kubernetes_plurals_and_short_names() -> None:
    plurals = {(k.api_version, k.plural): k.short_names for k in SERVED_KINDS if k.federated}
    assert plurals[("v1", "configmaps")] == ("cm",)
    assert plurals[("networking.k8s.io/v1", "ingresses")] == ("ing",)
    assert plurals[("extensions/v1beta1", "replicasets")] == ("rs",)
    assert plurals[("apps/v1", "deployments")] == ("deploy",)
    assert ("v1", "secrets") in plurals and ("v1", "serviceaccounts") in plurals


def test_keys_use_the_core_group_name_of_kfed_keys() -> None:
    configmap, replicaset = (
        find_kind("v1", "ConfigMap"),
        find_kind("extensions/v1beta1", "ReplicaSet"),
    )
    assert configmap and replicaset
    assert str(configmap.key("default", "x")) == "core/ConfigMap/default/x"
    assert str(replicaset.key("default", "nginx")) == "extensions/ReplicaSet/default/nginx"


@pytest.mark.parametrize(
    ("group", "version", "tail", "expected"),
    [
        ("", "v1", "configmaps", ("ConfigMap", None, None)),
        ("", "v1", "namespaces/a/configmaps", ("ConfigMap", "a", None)),
        ("", "v1", "namespaces/a/configmaps/b", ("ConfigMap", "a", "b")),
        ("", "v1", "namespaces", ("Namespace", None, None)),
        ("", "v1", "namespaces/a", ("Namespace", None, "a")),
        ("apps", "v1", "namespaces/a/deployments/d", ("Deployment", "a", "d")),
        ("", "v1", "configmaps/b", None),  # namespaced objects live in a namespace
        ("", "v1", "namespaces/a/namespaces/b", None),
        ("", "v1", "namespaces/a/configmaps/b/status", None),
        ("", "v1", "widgets", None),
        ("kfed.io", "v1alpha1", "clusters", None),  # not a federated kind
        ("", "v1", "namespaces//configmaps", None),
    ],
)
def test_resource_paths(
    group: str, version: str, tail: str, expected: tuple[str, str | None, str | None] | None
) -> None:
    parsed = parse_resource_path(group, version, tail)
    if expected is None:
        assert parsed is None
    else:
        assert parsed is not None
        assert (parsed.info.kind, parsed.namespace, parsed.name) == expected


@pytest.mark.parametrize(
    ("selector", "labels", "selected"),
    [
        ("", {}, True),
        ("app=web", {"app": "web"}, True),
        ("app==web", {"app": "db"}, False),
        ("app!=web", {}, True),
        ("app!=web", {"app": "web"}, False),
        ("app=web,tier=front", {"app": "web"}, False),
        ("app", {"app": ""}, True),
        ("!app", {"app": "x"}, False),
        ("env in (prod, staging)", {"env": "staging"}, True),
        ("env notin (prod),app=web", {"env": "dev", "app": "web"}, True),
    ],
)
def test_label_selectors(selector: str, labels: dict[str, str], selected: bool) -> None:
    assert parse_selector(selector).matches(labels) is selected


def test_an_unparsable_selector_names_the_bad_part() -> None:
    with pytest.raises(SelectorError, match="a=b=c"):
        parse_selector("x=y,a=b=c")
