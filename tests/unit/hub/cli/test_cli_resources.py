"""How the CLI maps a manifest's kind to a resource: discovery first, then a CRD in the same files,
then Kubernetes' plural guess for kinds of named groups; core and kfed.io kinds only as listed."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest

from kfed_hub.cli.apply import plan
from kfed_hub.cli.manifests import Document, ManifestError
from kfed_hub.cli.resources import ResourceMap, crd_resources
from kfed_hub.client import HubClient

DOCUMENTS: dict[str, Any] = {
    "/api/v1": {
        "resources": [
            {"name": "configmaps", "kind": "ConfigMap", "namespaced": True, "verbs": ["update"]}
        ]
    },
    "/apis": {
        "groups": [
            {
                "name": "zoo.example.com",
                "versions": [{"version": "v1"}],
                "preferredVersion": {"version": "v1"},
            }
        ]
    },
    "/apis/zoo.example.com/v1": {
        "resources": [
            {
                "name": "moose",
                "singularName": "moose",
                "kind": "Moose",
                "namespaced": False,
                "verbs": ["create", "update"],
            }
        ]
    },
}


class Discovery(HubClient):
    """Answers the discovery documents above, nothing else."""

    def __init__(self) -> None:  # no connection: only discovery is asked for
        self.asked: list[str] = []

    def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        query: Mapping[str, str] | None = None,
        content_type: str = "application/json",
    ) -> Any:
        self.asked.append(path)
        return DOCUMENTS[path]


CRONTAB_CRD = {
    "apiVersion": "apiextensions.k8s.io/v1",
    "kind": "CustomResourceDefinition",
    "metadata": {"name": "crontabs.stable.example.com"},
    "spec": {
        "group": "stable.example.com",
        "scope": "Cluster",
        "names": {"plural": "crontabz", "kind": "CronTab", "shortNames": ["ct"]},
        "versions": [{"name": "v1", "served": True}],
    },
}


def test_discovery_then_a_crd_in_the_files_then_the_guess() -> None:
    resources = ResourceMap(Discovery())
    listed = resources.resolve("zoo.example.com/v1", "Moose")
    assert listed is not None and (listed.plural, listed.namespaced) == ("moose", False)
    other_version = resources.resolve("zoo.example.com/v2", "Moose")
    assert other_version is not None and other_version.path(None, "b") == (
        "/apis/zoo.example.com/v2/moose/b"
    )
    taught = crd_resources([CRONTAB_CRD])
    from_crd = resources.resolve("stable.example.com/v1", "CronTab", taught)
    assert from_crd is not None and (from_crd.plural, from_crd.namespaced) == ("crontabz", False)
    guessed = resources.resolve("stable.example.com/v1", "CronTab")
    assert guessed is not None and (guessed.plural, guessed.namespaced) == ("crontabs", True)
    assert guessed.display == "crontab.stable.example.com" and "update" in guessed.verbs
    assert resources.resolve("v1", "Pod") is None
    assert resources.resolve("kfed.io/v1alpha1", "Widget") is None


def test_an_unknown_kind_goes_to_its_namespace_or_default() -> None:
    def document(namespace: str | None) -> Document:
        metadata = {"name": "w", **({"namespace": namespace} if namespace else {})}
        widget = {"apiVersion": "example.com/v1", "kind": "Widget", "metadata": metadata}
        return Document(source="w.yaml", manifest=widget)

    resources = ResourceMap(Discovery())
    (given, default) = plan([document("team"), document(None)], resources, None)
    assert given.resource.path(given.namespace) == "/apis/example.com/v1/namespaces/team/widgets"
    assert default.namespace == "default"
    (flag,) = plan([document(None)], resources, "ops")
    assert flag.namespace == "ops"


def test_core_kinds_the_hub_does_not_serve_are_refused_before_anything_is_sent() -> None:
    pod = Document(source="p.yaml", manifest={"apiVersion": "v1", "kind": "Pod", "metadata": {}})
    with pytest.raises(ManifestError) as refused:
        plan([pod], ResourceMap(Discovery()), None)
    assert 'no matches for kind "Pod" in version "v1"' in str(refused.value)
    assert "kfed federates workloads, not pods" in str(refused.value)
