"""The state and rules of the fake GCE: resources, references between them, operations.

Layer: the in-memory core of :mod:`kfed_gcp.fake` (no HTTP; :mod:`kfed_gcp.fake.server` maps
REST requests onto it). It keeps the rules of GCE that kfed relies on: names are unique per
collection and scope (409 ``alreadyExists``), a reference must name an existing resource
(404 ``notFound``), a resource still referenced cannot be deleted (400
``resourceInUseByAnotherResource``), stale fingerprints are refused (412 ``conditionNotMet``),
a ``requestId`` seen before returns the first operation instead of acting twice, and every
mutation answers with an Operation that is DONE at once or after ``op_polls`` polls.

Concurrency: every public method takes :attr:`GceModel.lock`, so tests may read it from another
thread while the server runs.
"""

from __future__ import annotations

import base64
import copy
import ipaddress
import itertools
import re
import threading
from typing import Any

from kfed_gcp.fake import errors
from kfed_gcp.fake.errors import FakeGceError
from kfed_gcp.fake.operations import BASE, OperationLog, now

GLOBAL = (
    "addresses",
    "healthChecks",
    "backendServices",
    "urlMaps",
    "targetHttpProxies",
    "forwardingRules",
    "firewalls",
)
ZONAL = ("networkEndpointGroups",)
SINGULAR = {
    "addresses": "address",
    "healthChecks": "healthCheck",
    "networkEndpointGroups": "networkEndpointGroup",
    "backendServices": "backendService",
    "urlMaps": "urlMap",
    "targetHttpProxies": "targetHttpProxy",
    "forwardingRules": "forwardingRule",
    "firewalls": "firewall",
    "networks": "network",
}
FINGERPRINTED = frozenset({"backendServices", "urlMaps", "targetHttpProxies", "forwardingRules"})
_NAME = re.compile(r"[a-z](?:[-a-z0-9]{0,61}[a-z0-9])?")
_REF = re.compile(r"(global|zones/[-a-z0-9]+)/([A-Za-z]+)/([-a-z0-9]+)")

Key = tuple[str, str, str]
"""(scope, collection, name): scope is ``global`` or ``zones/<zone>``."""


class GceModel:
    """One fake GCP project: its load balancing resources and operations."""

    def __init__(
        self,
        *,
        project: str = "kfed-test",
        networks: tuple[str, ...] = ("default",),
        op_polls: int = 0,
        address_range: str = "203.0.113.0/24",
    ) -> None:
        self.project = project
        self.networks = set(networks)
        self.items: dict[Key, dict[str, Any]] = {}
        self.endpoints: dict[Key, list[dict[str, Any]]] = {}
        self.health: dict[str, str] = {}
        """``"ip:port"`` to the healthState getHealth reports (default HEALTHY)."""
        self.lock = threading.RLock()
        self.operations = OperationLog(project, polls=op_polls)
        self._pool = ipaddress.ip_network(address_range)
        self._ids = itertools.count(4_000_000_001)

    # --- names and references -----------------------------------------------------------------

    def link(self, key: Key) -> str:
        scope, collection, name = key
        return f"projects/{self.project}/{scope}/{collection}/{name}"

    def self_link(self, key: Key) -> str:
        return BASE + self.link(key)

    def check_project(self, project: str) -> None:
        if project != self.project:
            raise errors.not_found(f"projects/{project}")

    def ref(self, url: object, field: str) -> Key:
        """The key a reference names (full URL, ``projects/...`` or ``global/...``)."""
        text = str(url or "")
        if not text:
            raise errors.invalid(field, text, "A reference to a resource is required.")
        tail = text.split("/compute/v1/", 1)[-1]
        if tail.startswith("projects/"):
            _, project, tail = tail.split("/", 2)
            if project != self.project:
                raise errors.not_found(f"projects/{project}")
        match = _REF.fullmatch(tail)
        if match is None:
            raise errors.invalid(field, text, "Must be a URL to a resource.")
        scope, collection, name = match.groups()
        return scope, collection, name

    def _existing(self, url: object, field: str, collections: tuple[str, ...]) -> Key:
        key = self.ref(url, field)
        if key[1] not in collections:
            raise errors.invalid(field, url, f"Must reference a {' or '.join(collections)}.")
        if key not in self.items:
            raise errors.not_found(self.link(key))
        return key

    def _network(self, url: object, field: str) -> str:
        key = self.ref(url, field)
        if key[:2] != ("global", "networks"):
            raise errors.invalid(field, url, "Must reference a network.")
        if key[2] not in self.networks:
            raise errors.not_found(self.link(key))
        return self.self_link(key)

    def _refs(self, item: dict[str, Any]) -> list[Key]:
        """Resources ``item`` uses (stored references are valid full URLs)."""
        collection = item["_key"][1]
        urls: list[Any] = []
        if collection == "backendServices":
            urls = list(item.get("healthChecks", [])) + [
                b["group"] for b in item.get("backends", [])
            ]
        elif collection == "urlMaps":
            urls = [item.get("defaultService")]
            for matcher in item.get("pathMatchers", []):
                urls.append(matcher.get("defaultService"))
                urls.extend(rule.get("service") for rule in matcher.get("pathRules", []))
        elif collection == "targetHttpProxies":
            urls = [item.get("urlMap")]
        elif collection == "forwardingRules":
            urls = [item.get("target"), item.get("_address")]
        return [self.ref(url, "ref") for url in urls if url]

    # --- reads --------------------------------------------------------------------------------

    def get(self, key: Key) -> dict[str, Any]:
        with self.lock:
            if key not in self.items:
                raise errors.not_found(self.link(key))
            return self._render(key)

    def list_items(self, scope: str, collection: str) -> list[dict[str, Any]]:
        with self.lock:
            keys = sorted(k for k in self.items if k[0] == scope and k[1] == collection)
            return [self._render(k) for k in keys]

    def aggregated(self, collection: str) -> dict[str, list[dict[str, Any]]]:
        with self.lock:
            found: dict[str, list[dict[str, Any]]] = {}
            for key in sorted(k for k in self.items if k[1] == collection):
                found.setdefault(key[0], []).append(self._render(key))
            return found

    def _render(self, key: Key) -> dict[str, Any]:
        item = {k: copy.deepcopy(v) for k, v in self.items[key].items() if not k.startswith("_")}
        if key[1] == "addresses":
            users = [
                self.self_link(k)
                for k, v in self.items.items()
                if v.get("_address") == self.self_link(key)
            ]
            item["users"] = users
            item["status"] = "IN_USE" if users else "RESERVED"
        if key[1] == "networkEndpointGroups":
            item["size"] = len(self.endpoints.get(key, []))
        return item

    def list_endpoints(self, key: Key) -> list[dict[str, Any]]:
        with self.lock:
            self.get(key)
            return [{"networkEndpoint": dict(e)} for e in self.endpoints.get(key, [])]

    def get_health(self, key: Key, body: dict[str, Any]) -> dict[str, Any]:
        with self.lock:
            service = self.get(key)
            group = self.ref(body.get("group"), "resource.group")
            groups = [self.ref(b["group"], "group") for b in service.get("backends", [])]
            if group not in groups:
                raise errors.invalid(
                    "resource.group", body.get("group"), f"It is not a backend of {self.link(key)}."
                )
            statuses = [
                {
                    "ipAddress": e["ipAddress"],
                    "port": e["port"],
                    "healthState": self.health.get(_endpoint_key(e), "HEALTHY"),
                }
                for e in self.endpoints.get(group, [])
            ]
            return {"kind": "compute#backendServiceGroupHealth", "healthStatus": statuses}

    # --- mutations ----------------------------------------------------------------------------

    def insert(
        self, scope: str, collection: str, body: dict[str, Any], request_id: str
    ) -> dict[str, Any]:
        name = str(body.get("name", ""))
        key: Key = (scope, collection, name)

        def act() -> Key:
            if not _NAME.fullmatch(name):
                raise errors.invalid(
                    "resource.name",
                    name,
                    "Must be a match of regex '(?:[a-z](?:[-a-z0-9]{0,61}[a-z0-9])?)'",
                )
            if key in self.items:
                raise errors.already_exists(self.link(key))
            item = self._validated(key, copy.deepcopy(body))
            item.update(
                _key=key,
                kind=f"compute#{SINGULAR[collection]}",
                id=str(next(self._ids)),
                creationTimestamp=now(),
                selfLink=self.self_link(key),
            )
            if scope != "global":
                item["zone"] = BASE + f"projects/{self.project}/{scope}"
            if collection == "addresses":
                item["address"] = self._allocate()
            if collection in FINGERPRINTED:
                item["fingerprint"] = self._fingerprint()
            self.items[key] = item
            return key

        return self._once(request_id, "insert", key, act)

    def patch(self, key: Key, body: dict[str, Any], request_id: str) -> dict[str, Any]:
        def act() -> Key:
            current = self.items.get(key)
            if current is None:
                raise errors.not_found(self.link(key))
            if "fingerprint" in body and body["fingerprint"] != current.get("fingerprint"):
                raise errors.stale_fingerprint()
            if body.get("name", key[2]) != key[2]:
                raise errors.invalid("resource.name", body["name"], "The name cannot be changed.")
            merged = {**copy.deepcopy(current), **copy.deepcopy(body)}
            merged = self._validated(key, merged)
            if key[1] in FINGERPRINTED:
                merged["fingerprint"] = self._fingerprint()
            self.items[key] = merged
            return key

        return self._once(request_id, "patch", key, act)

    def set_field(
        self, key: Key, field: str, url: object, request_id: str, op_type: str
    ) -> dict[str, Any]:
        """``setUrlMap`` / ``setTarget``: point one reference elsewhere."""

        def act() -> Key:
            current = self.items.get(key)
            if current is None:
                raise errors.not_found(self.link(key))
            merged = self._validated(key, {**copy.deepcopy(current), field: url})
            merged["fingerprint"] = self._fingerprint()
            self.items[key] = merged
            return key

        return self._once(request_id, op_type, key, act)

    def delete(self, key: Key, request_id: str) -> dict[str, Any]:
        def act() -> Key:
            if key not in self.items:
                raise errors.not_found(self.link(key))
            for user in self.items.values():
                if key in self._refs(user):
                    raise errors.in_use(SINGULAR[key[1]], self.link(key), self.link(user["_key"]))
            del self.items[key]
            self.endpoints.pop(key, None)
            return key

        return self._once(request_id, "delete", key, act)

    def attach(self, key: Key, body: dict[str, Any], request_id: str) -> dict[str, Any]:
        def act() -> Key:
            neg = self.get(key)
            have = self.endpoints.setdefault(key, [])
            for index, endpoint in enumerate(body.get("networkEndpoints", [])):
                field = f"resource.networkEndpoints[{index}]"
                ip = str(endpoint.get("ipAddress", ""))
                try:
                    ipaddress.ip_address(ip)
                except ValueError:
                    raise errors.invalid(
                        f"{field}.ipAddress", ip, "An IP address is required."
                    ) from None
                port = int(endpoint.get("port") or neg.get("defaultPort") or 0)
                if not 1 <= port <= 65535:
                    raise errors.invalid(f"{field}.port", port, "A port is required.")
                wanted = {"ipAddress": ip, "port": port}
                if wanted not in have:
                    have.append(wanted)
            return key

        return self._once(request_id, "attachNetworkEndpoints", key, act)

    def detach(self, key: Key, body: dict[str, Any], request_id: str) -> dict[str, Any]:
        def act() -> Key:
            self.get(key)
            gone = [
                {"ipAddress": e.get("ipAddress"), "port": int(e.get("port", 0))}
                for e in body.get("networkEndpoints", [])
            ]
            self.endpoints[key] = [e for e in self.endpoints.get(key, []) if e not in gone]
            return key

        return self._once(request_id, "detachNetworkEndpoints", key, act)

    # --- validation of what a resource references ----------------------------------------------

    def _validated(self, key: Key, item: dict[str, Any]) -> dict[str, Any]:
        collection = key[1]
        if collection == "addresses":
            if item.setdefault("addressType", "EXTERNAL") != "EXTERNAL":
                raise errors.invalid(
                    "resource.addressType", item["addressType"], "Only EXTERNAL is modelled."
                )
        elif collection == "healthChecks":
            kind = item.get("type", "")
            if kind not in ("HTTP", "HTTPS", "HTTP2", "TCP"):
                raise errors.invalid("resource.type", kind, "Unsupported health check type.")
        elif collection == "networkEndpointGroups":
            if item.get("networkEndpointType") != "NON_GCP_PRIVATE_IP_PORT":
                raise errors.invalid(
                    "resource.networkEndpointType",
                    item.get("networkEndpointType"),
                    "The fake models hybrid (NON_GCP_PRIVATE_IP_PORT) NEGs only.",
                )
            item["network"] = self._network(item.get("network"), "resource.network")
        elif collection == "backendServices":
            self._validate_backend_service(item)
        elif collection == "urlMaps":
            url = item.get("defaultService")
            item["defaultService"] = self.self_link(
                self._existing(url, "resource.defaultService", ("backendServices",))
            )
        elif collection == "targetHttpProxies":
            url = item.get("urlMap")
            item["urlMap"] = self.self_link(self._existing(url, "resource.urlMap", ("urlMaps",)))
        elif collection == "forwardingRules":
            self._validate_forwarding_rule(item)
        elif collection == "firewalls":
            item["network"] = self._network(
                item.get("network", "global/networks/default"), "resource.network"
            )
            for cidr in item.get("sourceRanges", []):
                try:
                    ipaddress.ip_network(cidr)
                except ValueError:
                    raise errors.invalid(
                        "resource.sourceRanges", cidr, "Must be a CIDR range."
                    ) from None
            if not item.get("allowed") and not item.get("denied"):
                raise errors.invalid("resource.allowed", [], "A firewall rule must allow or deny.")
        return item

    def _validate_backend_service(self, item: dict[str, Any]) -> None:
        scheme = item.setdefault("loadBalancingScheme", "EXTERNAL")
        if scheme not in ("EXTERNAL", "EXTERNAL_MANAGED"):
            raise errors.invalid(
                "resource.loadBalancingScheme", scheme, "Not a global external scheme."
            )
        item["healthChecks"] = [
            self.self_link(self._existing(url, "resource.healthChecks", ("healthChecks",)))
            for url in item.get("healthChecks", [])
        ]
        seen: set[Key] = set()
        for index, backend in enumerate(item.get("backends", [])):
            field = f"resource.backends[{index}]"
            group = self._existing(
                backend.get("group"), f"{field}.group", ("networkEndpointGroups",)
            )
            if group in seen:
                raise errors.invalid(f"{field}.group", backend["group"], "Duplicate backend group.")
            seen.add(group)
            backend["group"] = self.self_link(group)
            mode = backend.setdefault("balancingMode", "UTILIZATION")
            if mode not in ("RATE", "CONNECTION"):
                raise errors.invalid(
                    f"{field}.balancingMode", mode, "Hybrid NEGs support RATE or CONNECTION."
                )
            if mode == "RATE" and not (backend.get("maxRatePerEndpoint") or backend.get("maxRate")):
                raise errors.invalid(
                    f"{field}.maxRatePerEndpoint", 0, "RATE mode needs a maximum rate."
                )
            scaler = float(backend.setdefault("capacityScaler", 1.0))
            if not (scaler == 0.0 or 0.1 <= scaler <= 1.0):
                raise errors.invalid(f"{field}.capacityScaler", scaler, "Must be 0 or in [0.1, 1].")

    def _validate_forwarding_rule(self, item: dict[str, Any]) -> None:
        target = self._existing(item.get("target"), "resource.target", ("targetHttpProxies",))
        item["target"] = self.self_link(target)
        ports = item.setdefault("portRange", "80-80")
        if ports not in ("80-80", "8080-8080"):
            raise errors.invalid(
                "resource.portRange", ports, "Target HTTP proxies serve port 80 or 8080."
            )
        scheme = item.setdefault("loadBalancingScheme", "EXTERNAL")
        url_map = self.items[self.ref(self.items[target]["urlMap"], "urlMap")]
        service = self.items[self.ref(url_map["defaultService"], "defaultService")]
        if service["loadBalancingScheme"] != scheme:
            raise errors.invalid(
                "resource.loadBalancingScheme",
                scheme,
                f"It must match the backend service's scheme {service['loadBalancingScheme']}.",
            )
        wanted = item.get("IPAddress")
        if wanted and "/" in str(wanted):
            address = self._existing(wanted, "resource.IPAddress", ("addresses",))
        elif wanted:
            found = [
                k for k, v in self.items.items() if k[1] == "addresses" and v["address"] == wanted
            ]
            if not found:
                raise errors.invalid(
                    "resource.IPAddress", wanted, "The IP address is not reserved."
                )
            address = found[0]
        else:
            item["IPAddress"] = self._allocate()  # ephemeral
            return
        item["_address"] = self.self_link(address)
        item["IPAddress"] = self.items[address]["address"]

    # --- operations ---------------------------------------------------------------------------

    def _once(self, request_id: str, op_type: str, key: Key, act: Any) -> dict[str, Any]:
        with self.lock:
            return self.operations.once(request_id, op_type, key[0], self.self_link(key), act)

    def failed_operation(self, op_type: str, key: Key, error: FakeGceError) -> dict[str, Any]:
        """A DONE operation carrying ``error`` (an asynchronous failure), changing nothing."""
        with self.lock:
            return self.operations.record(op_type, key[0], self.self_link(key), error)

    def poll(self, scope: str, name: str) -> dict[str, Any]:
        """Get (or wait on) an operation: a pending one moves one poll closer to DONE."""
        with self.lock:
            return self.operations.poll(scope, name)

    # --- helpers ------------------------------------------------------------------------------

    def _allocate(self) -> str:
        used = {v.get("address") for v in self.items.values()} | {
            v.get("IPAddress") for v in self.items.values()
        }
        for host in self._pool.hosts():
            if str(host) not in used:
                return str(host)
        raise FakeGceError(403, "quotaExceeded", "Quota 'GLOBAL_ADDRESSES' exceeded.")

    def _fingerprint(self) -> str:
        return base64.b64encode(next(self._ids).to_bytes(8, "big")).decode()

    # --- inspection for tests ----------------------------------------------------------------

    def resource_ids(self) -> list[str]:
        with self.lock:
            return sorted(f"{scope}/{collection}/{name}" for scope, collection, name in self.items)

    def backend_rates(self, backend_service: str) -> dict[str, float]:
        """``{"ip:port": maxRatePerEndpoint x capacityScaler}`` of a backend service's NEGs."""
        with self.lock:
            service = self.items.get(("global", "backendServices", backend_service))
            rates: dict[str, float] = {}
            for backend in (service or {}).get("backends", []):
                rate = float(backend.get("maxRatePerEndpoint", 0.0)) * float(
                    backend["capacityScaler"]
                )
                for endpoint in self.endpoints.get(self.ref(backend["group"], "group"), []):
                    rates[_endpoint_key(endpoint)] = rate
            return rates


def _endpoint_key(endpoint: dict[str, Any]) -> str:
    ip = str(endpoint["ipAddress"])
    host = f"[{ip}]" if ":" in ip else ip
    return f"{host}:{endpoint['port']}"
