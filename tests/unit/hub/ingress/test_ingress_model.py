"""The pure rules of federated Ingress: backend Service, provider choice, names, backends."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest

from kfed_hub.ingress import model
from kfed_hub.planning.facts import ClusterFacts


def _v1(spec: Mapping[str, Any], **annotations: str) -> dict[str, Any]:
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "Ingress",
        "metadata": {"name": "web", "namespace": "shop", "annotations": annotations},
        "spec": spec,
    }


def test_the_default_backend_is_the_target() -> None:
    spec = {"defaultBackend": {"service": {"name": "nginx", "port": {"number": 80}}}}
    target = model.ingress_target(_v1(spec))
    assert (target.namespace, target.service, target.port) == ("shop", "nginx", 80)


def test_without_a_default_backend_the_first_rule_path_is_the_target() -> None:
    path = {"path": "/", "backend": {"service": {"name": "api", "port": {"name": "http"}}}}
    spec = {"rules": [{"host": "a.example"}, {"http": {"paths": [path]}}]}
    target = model.ingress_target(_v1(spec))
    assert (target.service, target.port) == ("api", "http")


@pytest.mark.parametrize(
    ("spec", "where"),
    [
        ({}, "neither defaultBackend"),
        ({"defaultBackend": {"service": {"port": {"number": 80}}}}, "defaultBackend.service.name"),
        ({"defaultBackend": {"service": {"name": "x"}}}, "defaultBackend.service.port"),
        ({"defaultBackend": {"service": {"name": "x", "port": {"number": 0}}}}, "number"),
        ({"defaultBackend": {"resource": {"kind": "Bucket"}}}, "service.name is missing"),
    ],
)
def test_an_unusable_backend_is_refused_saying_where(spec: dict[str, object], where: str) -> None:
    with pytest.raises(model.IngressSpecError, match=where):
        model.ingress_target(_v1(spec))


def test_the_annotation_chooses_the_provider_before_the_class_and_the_default() -> None:
    configured = {"gcp", "local"}
    chosen = model.choose_provider(
        _v1({"ingressClassName": "gcp"}, **{"kfed.io/ingress-provider": "aws"}), configured, "local"
    )
    assert chosen[0] == "aws"
    assert model.choose_provider(_v1({"ingressClassName": "gcp"}), configured, "local")[0] == "gcp"
    # a class that names no provider is a member cluster's class, not a provider
    assert model.choose_provider(_v1({"ingressClassName": "nginx"}), configured, "local") == (
        "local",
        "the hub's default provider",
    )


def test_options_come_from_lb_annotations() -> None:
    manifest = _v1({}, **{"lb.kfed.io/address": "127.0.0.9:8080", "lb.kfed.io/": "x", "a": "b"})
    assert model.provider_options(manifest) == {"address": "127.0.0.9:8080"}


def test_names_are_deterministic_safe_and_short() -> None:
    assert model.load_balancer_name("default", "nginx") == "kfed-default-nginx"
    odd = model.load_balancer_name("Team_A", "web.v2")
    assert odd.startswith("kfed-team-a-web-v2-") and len(odd) == len("kfed-team-a-web-v2-") + 8
    long = model.load_balancer_name("n" * 63, "i" * 253)
    assert len(long) <= 63 and long == model.load_balancer_name("n" * 63, "i" * 253)
    assert long != model.load_balancer_name("n" * 63, "i" * 252)
    assert all(c.isalnum() or c == "-" for c in long) and long[0].isalpha()


def test_no_ready_cluster_fails_open_to_those_whose_last_report_had_endpoints() -> None:
    # Every agent went quiet at once: the hub keeps the backends that last had ready endpoints
    # (the load balancer's own checks take out any that really went down) and says so.
    facts = {
        name: ClusterFacts(name=name, labels={"region": "us-central1"}, ready=False)
        for name in ("a", "b", "c")
    }
    observed: dict[str, Mapping[str, Any] | None] = {
        "a": {"loadBalancer": {"ingress": [{"ip": "10.0.0.1"}]}, "kfedReadyEndpoints": 2},
        "b": {"loadBalancer": {"ingress": [{"ip": "10.0.0.2"}]}, "kfedReadyEndpoints": 0},
        "c": {"loadBalancer": {"ingress": [{"ip": "10.0.0.3"}]}, "kfedReadyEndpoints": 1},
    }
    backends, notes = model.plan_backends(
        placed=["a", "b", "c"], facts=facts, port=80, observed=observed
    )
    assert {b.cluster: (b.weight, b.healthy) for b in backends} == {
        "a": (2, True),
        "b": (0, False),  # drained stays drained
        "c": (1, True),
    }
    assert notes == [
        "failing open: no cluster of this Ingress is Ready by the hub's account, so a, c keep "
        "serving as long as the load balancer's health checks pass"
    ]
    # One Ready cluster with endpoints and the hub's account is trusted: the others drain.
    facts["c"] = ClusterFacts(name="c", labels={"region": "us-central1"}, ready=True)
    backends, notes = model.plan_backends(
        placed=["a", "b", "c"], facts=facts, port=80, observed=observed
    )
    assert {b.cluster: b.healthy for b in backends} == {"a": False, "b": False, "c": True}
    assert notes == []


def test_service_ports_resolve_by_number_or_name() -> None:
    svc = {"spec": {"ports": [{"name": "http", "port": 8080}, {"name": "admin", "port": 9000}]}}
    assert model.service_port(svc, 8080) == 8080
    assert model.service_port(svc, "admin") == 9000
    assert model.service_port(svc, 80) is None
    assert model.service_port(None, "http") is None


def test_backends_carry_place_address_capacity_and_health() -> None:
    facts = {
        "a": ClusterFacts(name="a", labels={"region": "us-central1", "zone": "us-central1-b"}),
        "b": ClusterFacts(name="b", labels={"region": "asia-east1"}, ready=False),
        "c": ClusterFacts(name="c", labels={}),
        "d": ClusterFacts(name="d", labels={}),
    }
    observed: dict[str, Mapping[str, Any] | None] = {
        "a": {"loadBalancer": {"ingress": [{"ip": "10.0.0.1"}]}, "kfedReadyEndpoints": 4},
        "b": {"loadBalancer": {"ingress": [{"hostname": "b.elb.example"}]}},
        "c": {"loadBalancer": {"ingress": [{"ip": "fd00::1"}]}, "kfedReadyEndpoints": 0},
        "d": {"loadBalancer": {}},
    }
    backends, notes = model.plan_backends(
        placed=["d", "c", "b", "a"], facts=facts, port=80, observed=observed
    )
    got = {b.cluster: (b.address, b.weight, b.healthy, b.region, b.zone) for b in backends}
    assert got == {
        "a": ("10.0.0.1:80", 4, True, "us-central1", "us-central1-b"),
        "b": ("b.elb.example:80", 1, False, "asia-east1", ""),
        "c": ("[fd00::1]:80", 0, False, "", ""),
    }
    assert notes == ["no load balancer address reported yet in d"]
    assert model.serving_count(backends) == 1
