"""A fake Octavia v2 API for one region: load balancers, listeners, pools, members, monitors.

Layer: ``kfed_openstack.fake``, pure state machine (no I/O). It answers the paths and JSON
shapes openstacksdk sends (``/v2/lbaas/...``, bodies keyed ``loadbalancer``/``listener``/...,
lists with ``<kind>_links``) and keeps the rules kfed relies on:

- after every change the load balancer is PENDING_CREATE/UPDATE/DELETE for ``pending_reads``
  reads of it, then ACTIVE (or gone); meanwhile any change under it answers 409 ImmutableObject;
- deleting a load balancer with listeners or pools needs ``cascade=true`` (else 400, as
  Octavia's "Validation failure ... it has children"); deleting a pool removes its members and
  health monitor; a listener keeps one default pool; (address, port) is unique in a pool;
- 404 for unknown ids; 400 for a VIP subnet the region does not have, or a bad field.

What it does not do: balance traffic, run health checks (members are ONLINE, or DRAINING at
weight 0, NO_MONITOR without a monitor), quotas, TLS, L7 policies, amphorae, availability zones.
"""

from __future__ import annotations

from typing import Any

from kfed_openstack.fake.common import (
    Json,
    Query,
    Reply,
    first,
    matches_fields,
    matches_tags,
)
from kfed_openstack.fake.octavia_state import OctaviaState, fault, tag_values

PROTOCOLS = {"HTTP", "HTTPS", "TCP", "UDP", "TERMINATED_HTTPS", "PROXY", "SCTP"}
ALGORITHMS = {"ROUND_ROBIN", "LEAST_CONNECTIONS", "SOURCE_IP", "SOURCE_IP_PORT"}
MONITOR_TYPES = {"HTTP", "HTTPS", "TCP", "PING", "UDP-CONNECT", "TLS-HELLO", "SCTP"}
_KINDS = {"loadbalancers", "listeners", "pools", "healthmonitors"}


class OctaviaRegion(OctaviaState):
    """The load balancers of one region and the HTTP operations on them."""

    # -- dispatch ------------------------------------------------------------------------------

    def handle(self, method: str, path: list[str], query: Query, body: Json | None) -> Reply:
        """``path`` is what follows ``/v2/lbaas/``."""
        if not path or path[0] not in _KINDS:
            raise fault(404, "The resource could not be found.")
        kind, rest = path[0], path[1:]
        if kind == "pools" and len(rest) >= 2 and rest[1] == "members":
            return self._members(method, rest[0], rest[2:], query, body)
        handler = getattr(self, f"_{kind}")
        reply: Reply = handler(method, rest, query, body or {})
        return reply

    def _loadbalancers(self, method: str, rest: list[str], query: Query, body: Json) -> Reply:
        if not rest and method == "GET":
            found = [v for lb in list(self.lbs.values()) if (v := self._read_lb(lb)) is not None]
            found = [
                v for v in found if matches_tags(v["tags"], query) and matches_fields(v, query)
            ]
            return Reply(200, {"loadbalancers": found, "loadbalancers_links": []})
        if not rest and method == "POST":
            return self._create_lb(_unwrap(body, "loadbalancer"))
        if len(rest) != 1:
            raise fault(404, "The resource could not be found.")
        lb = self._get(self.lbs, "loadbalancer", rest[0])
        if method == "GET":
            view = self._read_lb(lb)
            if view is None:
                raise fault(404, f"Load Balancer {rest[0]} not found.")
            return Reply(200, {"loadbalancer": view})
        if method == "PUT":
            self._mutable(lb)
            lb.update(_updates(_unwrap(body, "loadbalancer"), ("name", "description", "tags")))
            self._changed(lb)
            return Reply(200, {"loadbalancer": self._lb_view(lb)})
        if method == "DELETE":
            if lb["provisioning_status"] != "ERROR":
                self._mutable(lb)
            children = any(
                x["_lb"] == lb["id"] for x in [*self.listeners.values(), *self.pools.values()]
            )
            if children and first(query, "cascade") not in ("true", "True", "1"):
                raise fault(
                    400,
                    f"Validation failure: Cannot delete Load Balancer {lb['id']} - it has children",
                )
            self._changed(lb, "PENDING_DELETE")
            return Reply(204)
        raise fault(405, "The method is not allowed for this resource.")

    def _create_lb(self, spec: Json) -> Reply:
        subnet = spec.get("vip_subnet_id")
        if not subnet and not spec.get("vip_network_id") and not spec.get("vip_port_id"):
            raise fault(
                400,
                "Validation failure: VIP must contain one of: vip_port_id, "
                "vip_network_id, vip_subnet_id.",
            )
        if subnet not in self.subnets:
            raise fault(400, f"Validation failure: Subnet {subnet} not found.")
        self._vips += 1
        lb_id = self.ids.next()
        lb = self._common(spec, lb_id)
        lb.update(
            id=lb_id,
            provisioning_status="PENDING_CREATE",
            operating_status="OFFLINE",
            vip_subnet_id=subnet,
            vip_address=f"{self.subnets[subnet]}.{self._vips}",
            vip_port_id=self.ids.next(),
            vip_network_id=f"net-{subnet}",
            provider="amphora",
            flavor_id=None,
            availability_zone=None,
        )
        self.lbs[lb_id] = lb
        self._pending.start(lb_id, self.pending_reads)
        return Reply(201, {"loadbalancer": self._lb_view(lb)})

    def _listeners(self, method: str, rest: list[str], query: Query, body: Json) -> Reply:
        if not rest and method == "GET":
            lb_filter = first(query, "loadbalancer_id") or first(query, "load_balancer_id")
            found = [
                self._view("listener", x)
                for x in self.listeners.values()
                if (lb_filter is None or x["_lb"] == lb_filter)
            ]
            skip = ("loadbalancer_id", "load_balancer_id")
            found = [
                v
                for v in found
                if matches_tags(v["tags"], query) and matches_fields(v, query, skip=skip)
            ]
            return Reply(200, {"listeners": found, "listeners_links": []})
        if not rest and method == "POST":
            spec = _unwrap(body, "listener")
            lb = self._parent("loadbalancer", str(spec.get("loadbalancer_id")))
            protocol, port = spec.get("protocol"), spec.get("protocol_port")
            if protocol not in PROTOCOLS:
                raise fault(
                    400, f"Invalid input for field/attribute protocol. Value: '{protocol}'."
                )
            if not isinstance(port, int) or not 0 < port < 65536:
                raise fault(
                    400, f"Invalid input for field/attribute protocol_port. Value: '{port}'."
                )
            self._mutable(lb)
            if any(
                x["_lb"] == lb["id"] and x["protocol_port"] == port for x in self.listeners.values()
            ):
                raise fault(
                    409,
                    f"Another Listener on this Load Balancer is already using protocol_port {port}",
                )
            listener = self._common(spec, lb["id"])
            listener.update(
                id=self.ids.next(),
                protocol=protocol,
                protocol_port=port,
                default_pool_id=None,
                connection_limit=-1,
            )
            self.listeners[listener["id"]] = listener
            self._changed(lb)
            return Reply(201, {"listener": self._view("listener", listener)})
        return self._item(
            "listener", self.listeners, method, rest, body, ("name", "description", "tags")
        )

    def _pools(self, method: str, rest: list[str], query: Query, body: Json) -> Reply:
        if not rest and method == "GET":
            found = [self._view("pool", x) for x in self.pools.values()]
            lb_filter = first(query, "loadbalancer_id")
            if lb_filter is not None:
                found = [v for v in found if v["loadbalancers"][0]["id"] == lb_filter]
            found = [
                v
                for v in found
                if matches_tags(v["tags"], query)
                and matches_fields(v, query, skip=("loadbalancer_id", "listener_id"))
            ]
            return Reply(200, {"pools": found, "pools_links": []})
        if not rest and method == "POST":
            spec = _unwrap(body, "pool")
            listener = None
            if spec.get("listener_id"):
                listener = self._parent("listener", str(spec["listener_id"]))
                lb = self.lbs[listener["_lb"]]
            else:
                lb = self._parent("loadbalancer", str(spec.get("loadbalancer_id")))
            protocol, algorithm = spec.get("protocol"), spec.get("lb_algorithm")
            if protocol not in PROTOCOLS:
                raise fault(
                    400, f"Invalid input for field/attribute protocol. Value: '{protocol}'."
                )
            if algorithm not in ALGORITHMS:
                raise fault(
                    400, f"Invalid input for field/attribute lb_algorithm. Value: '{algorithm}'."
                )
            if listener is not None and not _compatible(listener["protocol"], str(protocol)):
                raise fault(
                    400,
                    f"Validation failure: The pool protocol '{protocol}' is invalid "
                    f"while the listener protocol is '{listener['protocol']}'.",
                )
            self._mutable(lb)
            if listener is not None and listener["default_pool_id"]:
                raise fault(409, "This listener already has a default pool")
            pool = self._common(spec, lb["id"])
            pool.update(
                id=self.ids.next(),
                protocol=protocol,
                lb_algorithm=algorithm,
                healthmonitor_id=None,
                session_persistence=None,
            )
            self.pools[pool["id"]] = pool
            if listener is not None:
                listener["default_pool_id"] = pool["id"]
            self._changed(lb)
            return Reply(201, {"pool": self._view("pool", pool)})
        if len(rest) == 1 and method == "DELETE":
            pool = self._get(self.pools, "pool", rest[0])
            lb = self.lbs[pool["_lb"]]
            self._mutable(lb)
            self._remove_pool(pool["id"])
            self._changed(lb)
            return Reply(204)
        return self._item(
            "pool", self.pools, method, rest, body, ("name", "description", "tags", "lb_algorithm")
        )

    def _healthmonitors(self, method: str, rest: list[str], query: Query, body: Json) -> Reply:
        if not rest and method == "GET":
            found = [self._view("healthmonitor", x) for x in self.monitors.values()]
            pool_filter = first(query, "pool_id")
            if pool_filter is not None:
                found = [v for v in found if v["pools"][0]["id"] == pool_filter]
            found = [
                v
                for v in found
                if matches_tags(v["tags"], query) and matches_fields(v, query, skip=("pool_id",))
            ]
            return Reply(200, {"healthmonitors": found, "healthmonitors_links": []})
        if not rest and method == "POST":
            spec = _unwrap(body, "healthmonitor")
            pool = self._parent("pool", str(spec.get("pool_id")))
            lb = self.lbs[pool["_lb"]]
            _check_monitor(spec, creating=True)
            self._mutable(lb)
            if pool["healthmonitor_id"]:
                raise fault(409, "This pool already has a health monitor")
            monitor = self._common(spec, lb["id"])
            http = spec["type"] in ("HTTP", "HTTPS")
            monitor.update(
                id=self.ids.next(),
                type=spec["type"],
                delay=spec["delay"],
                timeout=spec["timeout"],
                max_retries=spec["max_retries"],
                max_retries_down=spec.get("max_retries_down", 3),
                http_method=spec.get("http_method", "GET") if http else None,
                url_path=spec.get("url_path", "/") if http else None,
                expected_codes=spec.get("expected_codes", "200") if http else None,
                _pool=pool["id"],
            )
            self.monitors[monitor["id"]] = monitor
            pool["healthmonitor_id"] = monitor["id"]
            self._changed(lb)
            return Reply(201, {"healthmonitor": self._view("healthmonitor", monitor)})
        if len(rest) == 1 and method == "PUT":
            _check_monitor(_unwrap(body, "healthmonitor"), creating=False)
        if len(rest) == 1 and method == "DELETE":
            monitor = self._get(self.monitors, "healthmonitor", rest[0])
            self._mutable(self.lbs[monitor["_lb"]])
            self.pools[monitor["_pool"]]["healthmonitor_id"] = None
        fields = (
            "name",
            "tags",
            "delay",
            "timeout",
            "max_retries",
            "max_retries_down",
            "http_method",
            "url_path",
            "expected_codes",
        )
        return self._item("healthmonitor", self.monitors, method, rest, body, fields)

    def _members(
        self, method: str, pool_id: str, rest: list[str], query: Query, body: Json | None
    ) -> Reply:
        pool = self._get(self.pools, "pool", pool_id)
        if not rest and method == "GET":
            found = [
                self._view("member", m) for m in self.members.values() if m["_pool"] == pool_id
            ]
            found = [
                v for v in found if matches_tags(v["tags"], query) and matches_fields(v, query)
            ]
            return Reply(200, {"members": found, "members_links": []})
        if not rest and method == "POST":
            spec = _unwrap(body or {}, "member")
            address, port = spec.get("address"), spec.get("protocol_port")
            weight = spec.get("weight", 1)
            if not isinstance(address, str) or not address:
                raise fault(400, "Invalid input for field/attribute address.")
            if not isinstance(port, int) or not 0 < port < 65536:
                raise fault(
                    400, f"Invalid input for field/attribute protocol_port. Value: '{port}'."
                )
            _check_weight(weight)
            lb = self.lbs[pool["_lb"]]
            self._mutable(lb)
            if any(
                m["_pool"] == pool_id and (m["address"], m["protocol_port"]) == (address, port)
                for m in self.members.values()
            ):
                raise fault(
                    409,
                    f"Another member on this pool is already using ip {address} "
                    f"on protocol_port {port}",
                )
            member = self._common(spec, lb["id"])
            member.update(
                id=self.ids.next(),
                address=address,
                protocol_port=port,
                weight=weight,
                backup=bool(spec.get("backup", False)),
                subnet_id=spec.get("subnet_id"),
                monitor_address=None,
                monitor_port=None,
                _pool=pool_id,
            )
            self.members[member["id"]] = member
            self._changed(lb)
            return Reply(201, {"member": self._view("member", member)})
        if len(rest) == 1 and method == "PUT" and "weight" in _unwrap(body or {}, "member"):
            _check_weight(_unwrap(body or {}, "member")["weight"])
        fields = ("name", "tags", "weight", "backup", "admin_state_up")
        return self._item("member", self.members, method, rest, body or {}, fields)

    def _item(
        self,
        kind: str,
        table: dict[str, Json],
        method: str,
        rest: list[str],
        body: Json,
        fields: tuple[str, ...],
    ) -> Reply:
        if len(rest) != 1:
            raise fault(404, "The resource could not be found.")
        item = self._get(table, kind, rest[0])
        if method == "GET":
            return Reply(200, {kind: self._view(kind, item)})
        lb = self.lbs[item["_lb"]]
        if method == "PUT":
            spec = _unwrap(body, kind)
            if set(spec) - set(fields) - {"admin_state_up", "description"}:
                bad = sorted(set(spec) - set(fields))
                raise fault(
                    400,
                    f"Invalid input for field/attribute {bad[0]}. Value: "
                    f"'{spec[bad[0]]}'. Mandatory field missing or not allowed.",
                )
            self._mutable(lb)
            item.update(_updates(spec, (*fields, "admin_state_up", "description")))
            self._changed(lb)
            return Reply(200, {kind: self._view(kind, item)})
        if method == "DELETE":
            self._mutable(lb)
            del table[item["id"]]
            self._changed(lb)
            return Reply(204)
        raise fault(405, "The method is not allowed for this resource.")


def _unwrap(body: Json, key: str) -> Json:
    spec = body.get(key)
    if not isinstance(spec, dict):
        raise fault(400, f"Invalid input: the request body needs a '{key}' object.")
    return spec


def _updates(spec: Json, fields: tuple[str, ...]) -> dict[str, Any]:
    if "tags" in spec:
        tag_values(spec)
    return {k: v for k, v in spec.items() if k in fields}


def _check_weight(weight: object) -> None:
    if not isinstance(weight, int) or isinstance(weight, bool) or not 0 <= weight <= 256:
        raise fault(
            400,
            f"Invalid input for field/attribute weight. Value: '{weight}'. "
            "Value should be lower or equal to 256",
        )


def _check_monitor(spec: Json, *, creating: bool) -> None:
    if creating and spec.get("type") not in MONITOR_TYPES:
        raise fault(400, f"Invalid input for field/attribute type. Value: '{spec.get('type')}'.")
    if not creating and "type" in spec:
        raise fault(400, "Invalid input for field/attribute type. The type cannot be changed.")
    for key in ("delay", "timeout", "max_retries"):
        if creating and not isinstance(spec.get(key), int):
            raise fault(400, f"Invalid input for field/attribute {key}. Mandatory field missing.")
    retries = spec.get("max_retries", 1)
    if not 1 <= retries <= 10:
        raise fault(400, f"Invalid input for field/attribute max_retries. Value: '{retries}'.")


def _compatible(listener: str, pool: str) -> bool:
    allowed = {
        "HTTP": {"HTTP", "PROXY"},
        "TCP": {"TCP", "HTTP", "HTTPS", "PROXY"},
        "HTTPS": {"HTTPS", "PROXY", "TCP"},
        "TERMINATED_HTTPS": {"HTTP", "PROXY"},
        "UDP": {"UDP"},
        "SCTP": {"SCTP"},
    }
    return pool in allowed.get(listener, {pool})
