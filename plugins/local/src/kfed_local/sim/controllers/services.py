"""The service and ingress controllers of a simulated cloud: load balancer addresses and traffic.

Layer: controllers. A LoadBalancer Service gets ``status.loadBalancer.ingress[0].ip`` set to the
cluster's own loopback address (its "cloud load balancer") and the cluster's
:class:`~kfed_local.sim.traffic.TrafficManager` serves its ports from the ready endpoints.
Every Ingress gets the same address in its status, as a cluster's ingress controller would
report, except one annotated ``kfed.io/global-address``: its status belongs to kfed (whose agent
writes the federated global address there), as an Ingress of another controller's class would
belong to that controller, so the simulator leaves it alone rather than fight kfed over it.
Events: EnsuringLoadBalancer, EnsuredLoadBalancer, SyncLoadBalancerFailed.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable
from typing import Any

from kfed_core.conventions import GLOBAL_ADDRESS_ANNOTATION
from kfed_local.sim import objects
from kfed_local.sim.controllers.base import Controller, ControllerContext
from kfed_local.sim.store import Change
from kfed_local.sim.traffic import Backend, ServiceKey

SERVICES = "/services"
ENDPOINTS = "/endpoints"
NODES = "/nodes"
INGRESSES = "networking.k8s.io/ingresses"


class ServiceController(Controller):
    """Programs the simulated cloud load balancer of each LoadBalancer Service."""

    name = "service"
    manager = "cloud-controller-manager"
    watches = (SERVICES, ENDPOINTS)

    def __init__(self, ctx: ControllerContext) -> None:
        super().__init__(ctx)
        self.services = self.api.registry.require("", "v1", "services")
        self._errors: dict[tuple[ServiceKey, int], str] = {}
        ctx.traffic.on_error = self._traffic_error

    def keys_for(self, change: Change) -> Iterable[Hashable]:
        return ((objects.namespace_of(change.obj), objects.name_of(change.obj)),)

    def _traffic_error(self, service: ServiceKey, port: int, message: str | None) -> None:
        if message is None:
            self._errors.pop((service, port), None)
        else:
            self._errors[(service, port)] = message
        self.queue.add(service)

    def reconcile(self, key: Any) -> float | None:
        namespace, name = key
        entry = self.api.store.get(SERVICES, namespace, name)
        if (
            entry is None
            or (entry.obj.get("spec") or {}).get("type") != "LoadBalancer"
            or objects.is_terminating(entry.obj)
        ):
            self.ctx.traffic.desire(key, [], [])
            if entry is not None:
                self._set_ingress(entry.obj, [])
            return None
        service = entry.obj
        ports = [
            int(p["port"])
            for p in (service.get("spec") or {}).get("ports") or ()
            if p.get("protocol", "TCP") == "TCP"
        ]
        self.ctx.traffic.desire(key, ports, self._backends(namespace, name))
        ingress: dict[str, Any] = {"ip": self.ctx.address, "ipMode": "VIP"}
        failures = [
            (port, self._errors[(key, port)]) for port in ports if (key, port) in self._errors
        ]
        if failures:
            ingress["ports"] = [
                {"port": port, "protocol": "TCP", "error": message[:128]}
                for port, message in failures
            ]
        if self._set_ingress(service, [ingress]):
            self.ctx.events.record(
                service,
                "Normal",
                "EnsuredLoadBalancer",
                "Ensured load balancer",
                component="service-controller",
            )
        for port, message in failures:
            self.ctx.events.record(
                service,
                "Warning",
                "SyncLoadBalancerFailed",
                f"Error syncing load balancer port {port}: {message}",
                component="service-controller",
            )
        return None

    def _backends(self, namespace: str, name: str) -> list[Backend]:
        endpoints = self.api.store.get(ENDPOINTS, namespace, name)
        if endpoints is None:
            return []
        zones = {
            objects.name_of(e.obj): objects.labels_of(e.obj).get("topology.kubernetes.io/zone", "")
            for e in self.api.store.items(NODES)
        }
        backends = []
        for subset in endpoints.obj.get("subsets") or ():
            for address in subset.get("addresses") or ():
                node = address.get("nodeName", "")
                backends.append(
                    Backend(
                        pod=(address.get("targetRef") or {}).get("name", ""),
                        node=node,
                        zone=zones.get(node, ""),
                        ip=address.get("ip", ""),
                    )
                )
        return sorted(backends, key=lambda b: b.pod)

    def _set_ingress(self, service: dict[str, Any], ingress: list[dict[str, Any]]) -> bool:
        status = service.get("status") or {}
        current = (status.get("loadBalancer") or {}).get("ingress") or []
        if current == ingress:
            return False
        updated = objects.clone(service)
        updated.setdefault("status", {})["loadBalancer"] = {"ingress": ingress} if ingress else {}
        self.api.update(
            self.services,
            objects.namespace_of(service),
            objects.name_of(service),
            updated,
            self.writer,
            subresource="status",
        )
        return bool(ingress)


class IngressController(Controller):
    """Reports the cluster's address on every Ingress, as its ingress controller would, but for
    those whose status kfed owns (annotated with a global address)."""

    name = "ingress"
    manager = "ingress-controller"
    watches = (INGRESSES,)

    def __init__(self, ctx: ControllerContext) -> None:
        super().__init__(ctx)
        self.ingresses = self.api.registry.require("networking.k8s.io", "v1", "ingresses")

    def reconcile(self, key: Any) -> float | None:
        namespace, name = key
        entry = self.api.store.get(INGRESSES, namespace, name)
        if entry is None or objects.is_terminating(entry.obj):
            return None
        annotations = (entry.obj.get("metadata") or {}).get("annotations") or {}
        if annotations.get(GLOBAL_ADDRESS_ANNOTATION):
            return None  # kfed's agent writes the global address; not this controller's to set
        wanted = {"ingress": [{"ip": self.ctx.address}]}
        if (entry.obj.get("status") or {}).get("loadBalancer") == wanted:
            return None
        updated = objects.clone(entry.obj)
        updated.setdefault("status", {})["loadBalancer"] = wanted
        self.api.update(self.ingresses, namespace, name, updated, self.writer, subresource="status")
        self.ctx.events.record(
            entry.obj, "Normal", "Sync", "Scheduled for sync", component="ingress-controller"
        )
        return None
