"""Translation of legacy API versions: the 2016 blog's seed manifests and the rules around them."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from kfed_hub.planning.translate import Translation, TranslationError, translate

EXAMPLES = Path(__file__).resolve().parents[4] / "examples" / "federation-2016"


def seed(relative: str) -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((EXAMPLES / relative).read_text())
    return loaded


def template(labels: dict[str, str] | None = None) -> dict[str, Any]:
    return {
        "metadata": {"labels": labels if labels is not None else {"app": "web"}},
        "spec": {"containers": [{"name": "web", "image": "nginx"}]},
    }


def workload(api_version: str, kind: str, **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": api_version,
        "kind": kind,
        "metadata": {"name": "web", "namespace": "prod"},
        "spec": {"template": template(), **spec},
    }


def test_seed_replicaset_becomes_apps_v1_with_the_selector_v1beta1_defaulted() -> None:
    original = seed("replicasets/nginx-rs.yaml")
    manifest, notes = translate(original)
    expected = seed("replicasets/nginx-rs.yaml")
    expected["apiVersion"] = "apps/v1"
    expected["spec"]["selector"] = {"matchLabels": {"app": "nginx"}}
    assert manifest == expected  # everything else, metadata.labels included, as written
    assert original == seed("replicasets/nginx-rs.yaml")  # the input is not touched
    assert notes == (
        "apiVersion extensions/v1beta1 translated to apps/v1",
        "spec.selector defaulted to matchLabels app=nginx (the template's labels)",
    )


def test_seed_preferences_replicaset_gets_its_labels_from_the_template() -> None:
    manifest, notes = translate(seed("replicasets/nginx-us-preferences.yaml"))
    assert manifest["apiVersion"] == "apps/v1"
    assert manifest["spec"]["selector"] == {"matchLabels": {"app": "nginx-us"}}
    assert manifest["metadata"]["labels"] == {"app": "nginx-us"}
    assert "federation.kubernetes.io/replica-set-preferences" in manifest["metadata"]["annotations"]
    assert (
        "metadata.labels defaulted from the template's labels, as extensions/v1beta1 did" in notes
    )


def test_seed_ingress_becomes_networking_v1_with_a_default_backend() -> None:
    original = seed("ingress/ingress.yaml")
    translation = translate(original)
    assert isinstance(translation, Translation)
    assert translation.manifest == {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "Ingress",
        "metadata": {"name": "nginx"},
        "spec": {"defaultBackend": {"service": {"name": "nginx", "port": {"number": 80}}}},
    }
    assert original == seed("ingress/ingress.yaml")
    assert translation.notes == (
        "apiVersion extensions/v1beta1 translated to networking.k8s.io/v1",
        "spec.backend translated to spec.defaultBackend",
    )


@pytest.mark.parametrize("relative", ["services/nginx.yaml", "configmaps/zonefetch.yaml"])
def test_current_seed_manifests_come_back_as_the_same_object(relative: str) -> None:
    original = seed(relative)
    manifest, notes = translate(original)
    assert manifest is original
    assert notes == ()


def test_translating_twice_changes_nothing_the_second_time() -> None:
    once = translate(seed("replicasets/nginx-rs.yaml")).manifest
    assert translate(once).manifest is once
    ingress = translate(seed("ingress/ingress.yaml")).manifest
    assert translate(ingress) == Translation(manifest=ingress)


def test_ingress_rules_translate_every_backend_and_default_path_types() -> None:
    original = {
        "apiVersion": "networking.k8s.io/v1beta1",
        "kind": "Ingress",
        "metadata": {"name": "web", "annotations": {"kubernetes.io/ingress.class": "gce"}},
        "spec": {
            "backend": {"resource": {"apiGroup": "k8s.example.com", "kind": "Bucket", "name": "b"}},
            "tls": [{"hosts": ["a.example.com"], "secretName": "tls"}],
            "rules": [
                {
                    "host": "a.example.com",
                    "http": {
                        "paths": [
                            {"path": "/", "backend": {"serviceName": "web", "servicePort": "http"}},
                            {
                                "path": "/api",
                                "pathType": "Prefix",
                                "backend": {"serviceName": "api", "servicePort": "8080"},
                            },
                        ]
                    },
                },
                {"host": "b.example.com"},
            ],
        },
    }
    manifest, notes = translate(copy.deepcopy(original))
    assert manifest["apiVersion"] == "networking.k8s.io/v1"
    assert manifest["metadata"] == original["metadata"]  # ingress.class kept as is
    spec = manifest["spec"]
    assert "backend" not in spec
    assert spec["defaultBackend"] == {
        "resource": {"apiGroup": "k8s.example.com", "kind": "Bucket", "name": "b"}
    }
    assert spec["tls"] == [{"hosts": ["a.example.com"], "secretName": "tls"}]
    assert spec["rules"][0]["http"]["paths"] == [
        {
            "path": "/",
            "pathType": "ImplementationSpecific",
            "backend": {"service": {"name": "web", "port": {"name": "http"}}},
        },
        {
            "path": "/api",
            "pathType": "Prefix",
            # A string of digits can only have meant the port number.
            "backend": {"service": {"name": "api", "port": {"number": 8080}}},
        },
    ]
    assert spec["rules"][1] == {"host": "b.example.com"}
    assert notes[1:] == (
        "spec.backend translated to spec.defaultBackend",
        "2 rule path backend(s) translated to the service form",
        "pathType defaulted to ImplementationSpecific on 1 path(s)",
    )


@pytest.mark.parametrize(
    ("backend", "message"),
    [
        ({"servicePort": 80}, "spec.backend.serviceName must be a service name, got None"),
        (
            {"serviceName": "web"},
            "spec.backend.servicePort must be a port number or name, got None",
        ),
        (
            {"serviceName": "web", "servicePort": True},
            "spec.backend.servicePort must be a port number or name, got True",
        ),
        ({}, "spec.backend names neither serviceName/servicePort nor resource"),
        (
            {"serviceName": "w", "servicePort": 1, "resource": {"kind": "B", "name": "b"}},
            "spec.backend names both a service and a resource; keep one",
        ),
        ("web:80", "spec.backend must be an object with serviceName and servicePort"),
    ],
)
def test_ingress_backend_that_cannot_translate_is_named(backend: Any, message: str) -> None:
    ingress = {"apiVersion": "extensions/v1beta1", "kind": "Ingress", "metadata": {"name": "w"}}
    ingress["spec"] = {"backend": backend}
    with pytest.raises(TranslationError) as caught:
        translate(ingress)
    assert str(caught.value) == f"Ingress 'w': {message}"


def test_rule_path_backend_errors_name_the_rule_and_path() -> None:
    path = {"path": "/", "backend": {"serviceName": "web"}}
    ingress = {
        "apiVersion": "extensions/v1beta1",
        "kind": "Ingress",
        "metadata": {"name": "w"},
        "spec": {"rules": [{"http": {"paths": [{"path": "/x"}, path]}}]},
    }
    with pytest.raises(TranslationError, match=r"spec\.rules\[0\]\.http\.paths\[1\]\.backend"):
        translate(ingress)


def test_v1beta1_deployment_keeps_its_rolling_update_defaults() -> None:
    manifest, notes = translate(workload("extensions/v1beta1", "Deployment", replicas=9))
    spec = manifest["spec"]
    assert manifest["apiVersion"] == "apps/v1"
    assert spec["strategy"] == {"rollingUpdate": {"maxUnavailable": 1, "maxSurge": 1}}
    assert spec["selector"] == {"matchLabels": {"app": "web"}}
    assert manifest["metadata"]["labels"] == {"app": "web"}
    # Unlimited history and "no deadline" are deliberately left to apps/v1 (10 and 600 s).
    assert "revisionHistoryLimit" not in spec and "progressDeadlineSeconds" not in spec
    joined = "\n".join(notes)
    assert "maxUnavailable and maxSurge set to 1, the extensions/v1beta1 default" in joined
    assert "spec.revisionHistoryLimit left to the apps/v1 default of 10" in joined
    assert "spec.progressDeadlineSeconds left to the apps/v1 default of 600" in joined


def test_v1beta1_deployment_fills_only_the_rolling_update_fields_left_out() -> None:
    strategy = {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "50%"}}
    manifest, notes = translate(
        workload(
            "extensions/v1beta1",
            "Deployment",
            strategy=strategy,
            revisionHistoryLimit=3,
            progressDeadlineSeconds=60,
            rollbackTo={"revision": 2},
        )
    )
    assert manifest["spec"]["strategy"] == {
        "type": "RollingUpdate",
        "rollingUpdate": {"maxSurge": "50%", "maxUnavailable": 1},
    }
    assert manifest["spec"]["revisionHistoryLimit"] == 3
    assert "rollbackTo" not in manifest["spec"]
    assert "spec.rollbackTo dropped: apps/v1 has no such field" in notes
    assert not any("revisionHistoryLimit" in n or "progressDeadline" in n for n in notes)


def test_recreate_strategy_gets_no_rolling_update() -> None:
    manifest, _ = translate(
        workload("extensions/v1beta1", "Deployment", strategy={"type": "Recreate"})
    )
    assert manifest["spec"]["strategy"] == {"type": "Recreate"}


def test_apps_v1beta1_deployment_keeps_two_old_replicasets() -> None:
    manifest, notes = translate(workload("apps/v1beta1", "Deployment"))
    assert manifest["spec"]["revisionHistoryLimit"] == 2
    assert "strategy" not in manifest["spec"]  # 25 %/25 % then and now
    assert "spec.revisionHistoryLimit set to 2, the apps/v1beta1 default (apps/v1: 10)" in notes


def test_apps_v1beta2_defaults_only_the_selector() -> None:
    manifest, notes = translate(workload("apps/v1beta2", "Deployment"))
    assert manifest["spec"]["selector"] == {"matchLabels": {"app": "web"}}
    assert "labels" not in manifest["metadata"]  # v1beta2 stopped copying them
    assert set(manifest["spec"]) == {"template", "selector"}
    assert len(notes) == 2


def test_v1beta1_daemonset_keeps_on_delete_updates_and_drops_template_generation() -> None:
    manifest, notes = translate(workload("extensions/v1beta1", "DaemonSet", templateGeneration=4))
    assert manifest["apiVersion"] == "apps/v1"
    assert manifest["spec"]["updateStrategy"] == {"type": "OnDelete"}
    assert "templateGeneration" not in manifest["spec"]
    assert "spec.templateGeneration dropped: apps/v1 has no such field" in notes
    rolling = {"type": "RollingUpdate"}
    manifest, _ = translate(workload("extensions/v1beta1", "DaemonSet", updateStrategy=rolling))
    assert manifest["spec"]["updateStrategy"] == rolling
    manifest, _ = translate(workload("apps/v1beta2", "DaemonSet"))
    assert "updateStrategy" not in manifest["spec"]


def test_a_given_selector_is_kept() -> None:
    selector = {"matchExpressions": [{"key": "app", "operator": "Exists"}]}
    manifest, notes = translate(workload("extensions/v1beta1", "ReplicaSet", selector=selector))
    assert manifest["spec"]["selector"] == selector
    assert notes == (
        "apiVersion extensions/v1beta1 translated to apps/v1",
        "metadata.labels defaulted from the template's labels, as extensions/v1beta1 did",
    )


def test_missing_selector_without_template_labels_cannot_be_defaulted() -> None:
    manifest = workload("extensions/v1beta1", "ReplicaSet")
    manifest["spec"]["template"] = template(labels={})
    with pytest.raises(TranslationError) as caught:
        translate(manifest)
    assert str(caught.value) == (
        "ReplicaSet 'web': spec.selector is missing and spec.template.metadata.labels is empty, "
        "so no selector can be defaulted; add spec.selector.matchLabels"
    )


@pytest.mark.parametrize(
    ("api_version", "kind"),
    [
        ("apps/v1", "Deployment"),
        ("extensions/v1beta1", "NetworkPolicy"),
        ("networking.k8s.io/v1", "Ingress"),
        ("apps/v1beta1", "StatefulSet"),
        ("example.com/v1beta1", "ReplicaSet"),
    ],
)
def test_other_kinds_and_versions_are_left_alone(api_version: str, kind: str) -> None:
    manifest = workload(api_version, kind)
    assert translate(manifest) == (manifest, ())
    assert translate(manifest).manifest is manifest
