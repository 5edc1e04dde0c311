"""Admission for the simulated API server: namespace lifecycle, allocations, kind-specific fields.

Layer: API logic (called by :class:`kfed_local.sim.api.ClusterApi` only). It plays the parts of
kube-apiserver's admission chain and REST strategies that a client can observe:

* NamespaceLifecycle: no content in a missing (404) or terminating (403) namespace;
* Service REST: cluster IPs from the service range and node ports from 30000-32767, kept on
  update, refused when taken;
* Pod REST: ``status.phase: Pending`` and the QoS class on create;
* ServiceAccount admission: ``serviceAccountName: default``.

Allocations are reserved when an object is stored (:meth:`Allocator.commit`) and released when
it is removed, so a dry run never takes an address.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from kfed_core.quantity import qos_class
from kfed_local.sim import errors, objects
from kfed_local.sim.errors import FieldError
from kfed_local.sim.resources import ResourceType

if TYPE_CHECKING:
    from kfed_local.sim.api import ClusterApi, RequestContext

NODE_PORT_RANGE = range(30000, 32768)

CREATE_ON_UPDATE = frozenset(
    {"/endpoints", "/events", "coordination.k8s.io/leases", "discovery.k8s.io/endpointslices"}
)
"""Resources whose PUT creates a missing object (PUT of any other missing kind is a 404)."""


class Allocator:
    """Cluster IPs and node ports of one cluster's Services."""

    def __init__(self, service_cidr: str = "10.96.0.0/16") -> None:
        self.network = ipaddress.ip_network(service_cidr)
        self._ips: dict[str, tuple[str, str]] = {}  # ip -> (namespace, name)
        self._ports: dict[int, tuple[str, str]] = {}
        self._next_ip = 10
        self._next_port = NODE_PORT_RANGE.start

    def first_ip(self) -> str:
        """The first usable address: the ``kubernetes`` Service's cluster IP."""
        return str(self.network.network_address + 1)

    def _owner(self, obj: Mapping[str, Any]) -> tuple[str, str]:
        return (objects.namespace_of(obj), objects.name_of(obj))

    def assign(self, obj: dict[str, Any], old: Mapping[str, Any] | None) -> list[FieldError]:
        """Fill ``spec.clusterIP(s)`` and node ports of a Service; errors for taken ones."""
        spec = obj.setdefault("spec", {})
        old_spec = (old or {}).get("spec") or {}
        owner = self._owner(obj)
        problems: list[FieldError] = []
        service_type = spec.get("type", "ClusterIP")
        if service_type == "ExternalName":
            spec.pop("clusterIP", None)
            spec.pop("clusterIPs", None)
        else:
            wanted = spec.get("clusterIP") or old_spec.get("clusterIP")
            if not wanted:
                wanted = self._free_ip()
            elif wanted != "None":
                problems += self._check_ip(wanted, owner)
            spec["clusterIP"] = wanted
            spec["clusterIPs"] = [wanted]
        needs_node_ports = service_type == "NodePort" or (
            service_type == "LoadBalancer" and spec.get("allocateLoadBalancerNodePorts", True)
        )
        old_ports = {
            (p.get("port"), p.get("protocol", "TCP")): p.get("nodePort")
            for p in old_spec.get("ports") or ()
        }
        for index, port in enumerate(spec.get("ports") or ()):
            if not needs_node_ports:
                if service_type in ("ClusterIP", "ExternalName") and port.get("nodePort"):
                    problems.append(
                        FieldError(
                            type="FieldValueForbidden",
                            field=f"spec.ports[{index}].nodePort",
                            detail="may not be used when `type` is 'ClusterIP'",
                        )
                    )
                continue
            node_port = port.get("nodePort") or old_ports.get(
                (port.get("port"), port.get("protocol", "TCP"))
            )
            if node_port:
                problems += self._check_port(node_port, owner, f"spec.ports[{index}].nodePort")
            else:
                node_port = self._free_port()
            port["nodePort"] = node_port
        return problems

    def _check_ip(self, ip: str, owner: tuple[str, str]) -> list[FieldError]:
        field = "spec.clusterIPs"
        try:
            address = ipaddress.ip_address(ip)
        except ValueError:
            return [
                FieldError(
                    type="FieldValueInvalid",
                    field=field,
                    value=[ip],
                    detail="must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)",
                )
            ]
        if address not in self.network:
            return [
                FieldError(
                    type="FieldValueInvalid",
                    field=field,
                    value=[ip],
                    detail=f"failed to allocate IP {ip}: the provided network does not "
                    f"match the current range",
                )
            ]
        holder = self._ips.get(ip)
        if holder is not None and holder != owner:
            return [
                FieldError(
                    type="FieldValueInvalid",
                    field=field,
                    value=[ip],
                    detail=f"failed to allocate IP {ip}: provided IP is already allocated",
                )
            ]
        return []

    def _check_port(self, port: int, owner: tuple[str, str], field: str) -> list[FieldError]:
        if port not in NODE_PORT_RANGE:
            return [
                FieldError(
                    type="FieldValueInvalid",
                    field=field,
                    value=port,
                    detail="provided port is not in the valid range. The range of valid "
                    f"ports is {NODE_PORT_RANGE.start}-{NODE_PORT_RANGE.stop - 1}",
                )
            ]
        holder = self._ports.get(port)
        if holder is not None and holder != owner:
            return [
                FieldError(
                    type="FieldValueInvalid",
                    field=field,
                    value=port,
                    detail="provided port is already allocated",
                )
            ]
        return []

    def _free_ip(self) -> str:
        size = self.network.num_addresses
        for _ in range(size):
            candidate = str(self.network.network_address + self._next_ip)
            self._next_ip = self._next_ip + 1 if self._next_ip + 2 < size else 10
            if candidate not in self._ips:
                return candidate
        raise errors.service_unavailable("no cluster IP addresses are left in the service range")

    def _free_port(self) -> int:
        for _ in NODE_PORT_RANGE:
            candidate = self._next_port
            self._next_port = (
                candidate + 1 if candidate + 1 in NODE_PORT_RANGE else NODE_PORT_RANGE.start
            )
            if candidate not in self._ports:
                return candidate
        raise errors.service_unavailable("no node ports are left in the range 30000-32767")

    def commit(
        self, rt: ResourceType, obj: Mapping[str, Any], old: Mapping[str, Any] | None = None
    ) -> None:
        """Record a stored Service's allocations (and free what its update gave up)."""
        if rt.storage_key != "/services":
            return
        if old is not None:
            self.release(rt, old)
        owner = self._owner(obj)
        spec = obj.get("spec") or {}
        ip = spec.get("clusterIP")
        if ip and ip != "None":
            self._ips[ip] = owner
        for port in spec.get("ports") or ():
            if port.get("nodePort"):
                self._ports[port["nodePort"]] = owner

    def release(self, rt: ResourceType, obj: Mapping[str, Any]) -> None:
        """Free a removed Service's allocations."""
        if rt.storage_key != "/services":
            return
        owner = self._owner(obj)
        for table in (self._ips, self._ports):
            for key in [k for k, v in table.items() if v == owner]:
                del table[key]  # type: ignore[arg-type]


def check_namespace_accepts(api: ClusterApi, rt: ResourceType, namespace: str, name: str) -> None:
    """NamespaceLifecycle: 404 for a missing namespace, 403 for a terminating one."""
    entry = api.store.get("/namespaces", "", namespace)
    if entry is None:
        raise errors.not_found("namespaces", "", namespace)
    if (
        objects.is_terminating(entry.obj)
        or (entry.obj.get("status") or {}).get("phase") == "Terminating"
    ):
        error = errors.forbidden(
            rt.plural,
            rt.group,
            name,
            f"unable to create new content in namespace {namespace} because it is being terminated",
        )
        error.details["causes"] = [
            {
                "reason": "NamespaceTerminating",
                "message": f"namespace {namespace} is being terminated",
                "field": "metadata.namespace",
            }
        ]
        raise error


def admit_create(
    api: ClusterApi, rt: ResourceType, obj: dict[str, Any], ctx: RequestContext
) -> dict[str, Any]:
    """Kind-specific changes kube-apiserver makes to a new object."""
    if rt.storage_key == "/services":
        _assign_service(api, rt, obj, None)
    elif rt.storage_key == "/pods":
        spec = obj.setdefault("spec", {})
        spec.setdefault("serviceAccountName", "default")
        spec.setdefault("serviceAccount", spec["serviceAccountName"])
        obj["status"] = {"phase": "Pending", "qosClass": qos_class(obj)}
    elif rt.storage_key == "/namespaces":
        obj.setdefault("status", {})["phase"] = "Active"
    return obj


def admit_update(
    api: ClusterApi,
    rt: ResourceType,
    old: Mapping[str, Any],
    new: dict[str, Any],
    ctx: RequestContext,
) -> dict[str, Any]:
    """Kind-specific changes kube-apiserver makes on update."""
    if rt.storage_key == "/services":
        _assign_service(api, rt, new, old)
    elif rt.storage_key == "/namespaces" and objects.is_terminating(old):
        new.setdefault("status", {})["phase"] = "Terminating"
    return new


def _assign_service(
    api: ClusterApi, rt: ResourceType, obj: dict[str, Any], old: Mapping[str, Any] | None
) -> None:
    problems = api.allocator.assign(obj, old)
    if problems:
        raise errors.invalid(rt.kind, rt.group, objects.name_of(obj), problems)
