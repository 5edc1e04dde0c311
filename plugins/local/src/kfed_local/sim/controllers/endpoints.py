"""Endpoints and EndpointSlices: which pods back each Service, ready or not.

Layer: controllers. For every Service with a selector, the Endpoints object lists the matching
pods' IPs as ``addresses`` (ready) or ``notReadyAddresses``, with the Service's ports resolved
against the pods' named container ports; one EndpointSlice (``<service>-<suffix>``, owned by the
Service) carries the same with per-endpoint ready/serving/terminating conditions and zones.
Services without a selector keep whatever Endpoints their users write.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping
from typing import Any

from kfed_local.sim import deletion, objects
from kfed_local.sim.controllers.base import Controller, ControllerContext
from kfed_local.sim.controllers.replicasets import pod_is_ready
from kfed_local.sim.store import Change

SERVICES = "/services"
PODS = "/pods"
NODES = "/nodes"
SLICE_LABEL = "kubernetes.io/service-name"
MANAGED_BY = "endpointslice.kubernetes.io/managed-by"


def selector_matches(selector: Mapping[str, str], labels: Mapping[str, str]) -> bool:
    """A Service selector (a plain map) matches when every pair is in the labels."""
    return bool(selector) and all(labels.get(k) == v for k, v in selector.items())


def resolve_target_port(port: Mapping[str, Any], pod: Mapping[str, Any]) -> int | None:
    """The pod port a Service port sends to (numbers as they are, names via containerPorts)."""
    target = port.get("targetPort", port.get("port"))
    if isinstance(target, int):
        return target
    if isinstance(target, str) and target.isdigit():
        return int(target)
    for container in (pod.get("spec") or {}).get("containers") or ():
        for container_port in container.get("ports") or ():
            if container_port.get("name") == target:
                return int(container_port["containerPort"])
    return None


def pod_ports(service: Mapping[str, Any], pod: Mapping[str, Any]) -> list[tuple[str, int, str]]:
    """The Service's ports for one pod: (name, pod port, protocol); unresolvable ones left out."""
    ports = []
    for port in (service.get("spec") or {}).get("ports") or ():
        target = resolve_target_port(port, pod)
        if target is not None:
            ports.append((str(port.get("name", "")), target, str(port.get("protocol", "TCP"))))
    return ports


def pod_reference(pod: Mapping[str, Any]) -> dict[str, Any]:
    """An endpoint's ``targetRef`` to its pod."""
    return {
        "kind": "Pod",
        "namespace": objects.namespace_of(pod),
        "name": objects.name_of(pod),
        "uid": pod["metadata"]["uid"],
    }


class EndpointsController(Controller):
    """Keeps Endpoints and EndpointSlices in step with Services and pods."""

    name = "endpoints"
    watches = (SERVICES, PODS)

    def __init__(self, ctx: ControllerContext) -> None:
        super().__init__(ctx)
        registry = self.api.registry
        self.endpoints = registry.require("", "v1", "endpoints")
        self.slices = registry.require("discovery.k8s.io", "v1", "endpointslices")

    def keys_for(self, change: Change) -> Iterable[Hashable]:
        namespace = objects.namespace_of(change.obj)
        if change.storage_key == SERVICES:
            return ((namespace, objects.name_of(change.obj)),)
        labels = [objects.labels_of(change.obj)]
        if change.old is not None:
            labels.append(objects.labels_of(change.old.obj))
        keys = []
        for entry in self.api.store.items(SERVICES, namespace):
            selector = (entry.obj.get("spec") or {}).get("selector") or {}
            if any(selector_matches(selector, label_set) for label_set in labels):
                keys.append((namespace, objects.name_of(entry.obj)))
        return keys

    def reconcile(self, key: Any) -> float | None:
        namespace, name = key
        service_entry = self.api.store.get(SERVICES, namespace, name)
        if service_entry is None:
            self._remove(namespace, name)
            return None
        service = service_entry.obj
        spec = service.get("spec") or {}
        selector = spec.get("selector") or {}
        if not selector or spec.get("type") == "ExternalName":
            return None
        pods = [
            e.obj
            for e in self.api.store.items(PODS, namespace)
            if selector_matches(selector, objects.labels_of(e.obj))
            and (e.obj.get("status") or {}).get("podIP")
        ]
        self._write_endpoints(service, pods)
        self._write_slice(service, pods)
        return None

    def _write_endpoints(self, service: dict[str, Any], pods: list[dict[str, Any]]) -> None:
        namespace, name = objects.namespace_of(service), objects.name_of(service)
        subsets: dict[tuple[tuple[str, int, str], ...], dict[str, list[Any]]] = {}
        for pod in sorted(pods, key=objects.name_of):
            ports = pod_ports(service, pod)
            if not ports:
                continue
            address = {
                "ip": pod["status"]["podIP"],
                "nodeName": pod["spec"].get("nodeName"),
                "targetRef": pod_reference(pod),
            }
            bucket = subsets.setdefault(tuple(ports), {"addresses": [], "notReadyAddresses": []})
            usable = pod_is_ready(pod) and not objects.is_terminating(pod)
            bucket["addresses" if usable else "notReadyAddresses"].append(address)
        body: dict[str, Any] = {
            "apiVersion": "v1",
            "kind": "Endpoints",
            "metadata": {
                "name": name,
                "namespace": namespace,
                "labels": dict(objects.labels_of(service)),
            },
        }
        rendered = []
        for port_key, bucket in subsets.items():
            subset: dict[str, Any] = {
                "ports": [
                    {k: v for k, v in (("name", n), ("port", p), ("protocol", proto)) if v != ""}
                    for n, p, proto in port_key
                ]
            }
            for key in ("addresses", "notReadyAddresses"):
                if bucket[key]:
                    subset[key] = bucket[key]
            rendered.append(subset)
        if rendered:
            body["subsets"] = rendered
        existing = self.api.store.get(self.endpoints.storage_key, namespace, name)
        if existing is not None:
            current = {k: v for k, v in existing.obj.items() if k in ("subsets",)}
            if (
                current == {k: v for k, v in body.items() if k in ("subsets",)}
                and existing.obj["metadata"].get("labels") == body["metadata"]["labels"]
            ):
                return
        self.api.update(self.endpoints, namespace, name, body, self.writer)

    def _write_slice(self, service: dict[str, Any], pods: list[dict[str, Any]]) -> None:
        namespace, name = objects.namespace_of(service), objects.name_of(service)
        zones = {
            objects.name_of(e.obj): objects.labels_of(e.obj).get("topology.kubernetes.io/zone")
            for e in self.api.store.items(NODES)
        }
        endpoints = []
        ports: list[dict[str, Any]] = []
        for pod in sorted(pods, key=objects.name_of):
            if not ports:
                ports = [
                    {"name": port_name, "port": number, "protocol": protocol}
                    for port_name, number, protocol in pod_ports(service, pod)
                ]
            terminating = objects.is_terminating(pod)
            ready = pod_is_ready(pod)
            endpoint: dict[str, Any] = {
                "addresses": [pod["status"]["podIP"]],
                "conditions": {
                    "ready": ready and not terminating,
                    "serving": ready,
                    "terminating": terminating,
                },
                "nodeName": pod["spec"].get("nodeName"),
                "targetRef": pod_reference(pod),
            }
            zone = zones.get(pod["spec"].get("nodeName", ""))
            if zone:
                endpoint["zone"] = zone
            endpoints.append(endpoint)
        existing = [
            e.obj
            for e in self.api.store.items(self.slices.storage_key, namespace)
            if objects.labels_of(e.obj).get(SLICE_LABEL) == name
        ]
        body: dict[str, Any] = {
            "apiVersion": "discovery.k8s.io/v1",
            "kind": "EndpointSlice",
            "metadata": {
                "namespace": namespace,
                "labels": {
                    **objects.labels_of(service),
                    SLICE_LABEL: name,
                    MANAGED_BY: "endpointslice-controller.k8s.io",
                },
                "ownerReferences": [objects.owner_reference(service)],
            },
            "addressType": "IPv4",
            "endpoints": endpoints,
            "ports": ports,
        }
        if existing:
            current = existing[0]
            if current.get("endpoints") == endpoints and current.get("ports") == ports:
                return
            body["metadata"]["name"] = objects.name_of(current)
            self.api.update(self.slices, namespace, objects.name_of(current), body, self.writer)
        else:
            body["metadata"]["generateName"] = f"{name}-"
            self.api.create(self.slices, namespace, body, self.writer)

    def _remove(self, namespace: str, name: str) -> None:
        deletion.delete_if_present(
            self.api, self.endpoints, namespace, name, deletion.DeleteOptions(), self.writer
        )
