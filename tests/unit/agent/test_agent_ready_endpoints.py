"""Pure rules of the agent's federated-ingress support: a Service's ready endpoints, the global
address a member Ingress shows, and the fake API's status subresource."""

from __future__ import annotations

from typing import Any

import pytest

from kfed_agent.drift import drifted, global_load_balancer, with_global_address
from kfed_agent.fake_kube import FakeKubeApi
from kfed_agent.pods import ready_endpoints, service_selector
from kfed_agent.ports import KubeError
from kfed_core.conventions import GLOBAL_ADDRESS_ANNOTATION


def service(selector: dict[str, str] | None = None, namespace: str = "web") -> dict[str, Any]:
    spec: dict[str, Any] = {"ports": [{"port": 80}]}
    if selector is not None:
        spec["selector"] = selector
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "front", "namespace": namespace},
        "spec": spec,
    }


def pod(
    name: str,
    *,
    labels: dict[str, str] | None = None,
    namespace: str = "web",
    ready: str | None = "True",
    terminating: bool = False,
) -> dict[str, Any]:
    metadata: dict[str, Any] = {
        "name": name,
        "namespace": namespace,
        "labels": {"app": "front"} if labels is None else labels,
    }
    if terminating:
        metadata["deletionTimestamp"] = "2026-01-01T00:00:00Z"
    conditions = [{"type": "PodScheduled", "status": "True"}]
    if ready is not None:
        conditions.append({"type": "Ready", "status": ready})
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": metadata,
        "status": {"conditions": conditions},
    }


def ingress(address: str | None = None, status: Any = None) -> dict[str, Any]:
    annotations = {GLOBAL_ADDRESS_ANNOTATION: address} if address is not None else {}
    obj: dict[str, Any] = {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "Ingress",
        "metadata": {"name": "front", "namespace": "web", "annotations": annotations},
        "spec": {"defaultBackend": {"service": {"name": "front", "port": {"number": 80}}}},
    }
    if status is not None:
        obj["status"] = status
    return obj


# -- ready endpoints --------------------------------------------------------------------------


def test_ready_endpoints_counts_ready_pods_the_selector_picks() -> None:
    pods = [pod("a"), pod("b"), pod("c", labels={"app": "front", "tier": "x"})]
    assert ready_endpoints(service({"app": "front"}), pods) == 3


def test_ready_endpoints_needs_every_selector_label() -> None:
    pods = [pod("a", labels={"app": "front", "tier": "web"}), pod("b", labels={"app": "front"})]
    assert ready_endpoints(service({"app": "front", "tier": "web"}), pods) == 1


def test_ready_endpoints_skips_unready_unknown_and_terminating_pods() -> None:
    pods = [
        pod("ready"),
        pod("unready", ready="False"),
        pod("unknown", ready="Unknown"),
        pod("no-condition", ready=None),
        pod("terminating", terminating=True),
    ]
    assert ready_endpoints(service({"app": "front"}), pods) == 1


def test_ready_endpoints_counts_only_the_services_namespace() -> None:
    pods = [pod("here"), pod("there", namespace="other")]
    assert ready_endpoints(service({"app": "front"}), pods) == 1
    assert ready_endpoints(service({"app": "front"}, namespace="other"), pods) == 1


def test_ready_endpoints_of_a_service_without_a_selector_is_zero() -> None:
    assert ready_endpoints(service(), [pod("a")]) == 0
    assert ready_endpoints(service({}), [pod("a")]) == 0
    assert service_selector(service()) == {}
    assert service_selector(service({"app": "front"})) == {"app": "front"}


def test_ready_endpoints_without_pods_is_zero() -> None:
    assert ready_endpoints(service({"app": "front"}), []) == 0


# -- the global address on a member Ingress -----------------------------------------------------


@pytest.mark.parametrize(
    ("address", "entry"),
    [
        ("203.0.113.7", {"ip": "203.0.113.7"}),
        ("2001:db8::1", {"ip": "2001:db8::1"}),
        ("shop.example.com", {"hostname": "shop.example.com"}),
        (" 203.0.113.7 ", {"ip": "203.0.113.7"}),
    ],
)
def test_global_load_balancer_is_an_ip_or_a_hostname(address: str, entry: dict[str, str]) -> None:
    assert global_load_balancer(ingress(address)) == {"ingress": [entry]}


def test_global_load_balancer_is_none_without_the_annotation_or_for_other_kinds() -> None:
    assert global_load_balancer(ingress()) is None
    assert global_load_balancer(ingress("")) is None
    not_ingress = {**ingress("203.0.113.7"), "kind": "Service", "apiVersion": "v1"}
    assert global_load_balancer(not_ingress) is None
    other_group = {**ingress("203.0.113.7"), "apiVersion": "example.com/v1"}
    assert global_load_balancer(other_group) is None


def test_with_global_address_sets_only_the_load_balancer_of_a_copy() -> None:
    live = ingress("203.0.113.7", status={"loadBalancer": {"ingress": [{"ip": "127.1.1.1"}]}})
    updated = with_global_address(live)
    assert updated is not None
    assert updated["status"]["loadBalancer"] == {"ingress": [{"ip": "203.0.113.7"}]}
    assert updated["spec"] == live["spec"]
    assert live["status"]["loadBalancer"] == {"ingress": [{"ip": "127.1.1.1"}]}  # untouched


def test_with_global_address_has_nothing_to_write_when_shown_or_not_kfeds() -> None:
    shown = ingress("203.0.113.7", status={"loadBalancer": {"ingress": [{"ip": "203.0.113.7"}]}})
    assert with_global_address(shown) is None
    other = ingress(status={"loadBalancer": {"ingress": [{"ip": "127.1.1.1"}]}})
    assert with_global_address(other) is None


def test_a_status_kfed_wrote_is_not_drift() -> None:
    applied = ingress("203.0.113.7")
    live = with_global_address(applied)
    assert live is not None
    assert not drifted(applied, live)


# -- the fake's status subresource --------------------------------------------------------------


async def test_fake_replace_status_writes_only_the_status() -> None:
    kube = FakeKubeApi(namespaces=("web",))
    stored = await kube.apply(ingress("203.0.113.7"), field_manager="kfed")
    changed = {
        **stored,
        "spec": {"rules": []},
        "metadata": {**stored["metadata"], "labels": {"new": "label"}},
        "status": {"loadBalancer": {"ingress": [{"ip": "203.0.113.7"}]}},
    }
    written = await kube.replace_status(changed)
    assert written["status"] == changed["status"]
    assert written["spec"] == stored["spec"]
    assert "labels" not in written["metadata"]
    assert int(written["metadata"]["resourceVersion"]) > int(stored["metadata"]["resourceVersion"])
    assert written["metadata"]["generation"] == stored["metadata"]["generation"]
    assert ("replace_status", "networking.k8s.io/Ingress/web/front") in kube.calls


async def test_fake_replace_status_refuses_a_stale_version_and_an_absent_object() -> None:
    kube = FakeKubeApi(namespaces=("web",))
    with pytest.raises(KubeError) as absent:
        await kube.replace_status(ingress(status={"loadBalancer": {}}))
    assert (absent.value.status, absent.value.reason) == (404, "NotFound")
    stored = await kube.apply(ingress(), field_manager="kfed")
    await kube.apply(ingress("203.0.113.7"), field_manager="kfed")
    with pytest.raises(KubeError) as stale:
        await kube.replace_status({**stored, "status": {"loadBalancer": {}}})
    assert (stale.value.status, stale.value.reason) == (409, "Conflict")


async def test_fake_replace_status_without_a_change_writes_nothing() -> None:
    kube = FakeKubeApi(namespaces=("web",))
    stored = await kube.apply(ingress(status=None), field_manager="kfed")
    again = await kube.replace_status(stored)
    assert again["metadata"]["resourceVersion"] == stored["metadata"]["resourceVersion"]
