"""The state of the fake Octavia: tables, pending counts, views and cascading removal.

Layer: ``kfed_openstack.fake``, pure (no I/O). :class:`OctaviaState` keeps one region's load
balancers and children as plain dicts (fields starting with ``_`` are links the API does not
show), decides when a PENDING_* load balancer settles (after ``pending_reads`` reads of it),
refuses changes to one that is pending (409 ImmutableObject), and renders API views.
:class:`~kfed_openstack.fake.octavia.OctaviaRegion` adds the HTTP operations on top.
"""

from __future__ import annotations

from kfed_openstack.fake.common import ApiError, Ids, Json, Pending

_NAMES = {
    "loadbalancer": "Load Balancer",
    "listener": "Listener",
    "pool": "Pool",
    "member": "Member",
    "healthmonitor": "Health Monitor",
}


def fault(status: int, message: str) -> ApiError:
    """Octavia's (WSME) error body."""
    return ApiError(
        status,
        {
            "faultcode": "Client" if status < 500 else "Server",
            "faultstring": message,
            "debuginfo": None,
        },
    )


class OctaviaState:
    """The load balancers of one region. ``subnets`` maps VIP subnet IDs to address prefixes."""

    def __init__(self, region: str, subnets: dict[str, str], index: int, pending_reads: int = 1):
        self.region = region
        self.subnets = subnets
        self.pending_reads = pending_reads
        self.ids = Ids(0x0C7A0000 + index)
        self.lbs: dict[str, Json] = {}
        self.listeners: dict[str, Json] = {}
        self.pools: dict[str, Json] = {}
        self.members: dict[str, Json] = {}
        self.monitors: dict[str, Json] = {}
        self._pending = Pending()
        self._vips = 0

    # -- helpers -------------------------------------------------------------------------------

    def _get(self, table: dict[str, Json], kind: str, rid: str) -> Json:
        if rid not in table:
            raise fault(404, f"{_NAMES[kind]} {rid} not found.")
        return table[rid]

    def _parent(self, kind: str, rid: str) -> Json:
        """A sub-resource's parent that must exist (Octavia answers 400 when it does not)."""
        table = {"loadbalancer": self.lbs, "listener": self.listeners, "pool": self.pools}[kind]
        if rid not in table:
            raise fault(400, f"{_NAMES[kind]} {rid} not found.")
        return table[rid]

    def _mutable(self, lb: Json) -> None:
        status = lb["provisioning_status"]
        if status.startswith("PENDING"):
            self._settle(lb)  # real time passes while a client retries
            raise fault(409, f"Load Balancer {lb['id']} is immutable and cannot be updated.")
        if status == "ERROR":
            raise fault(409, f"Invalid state ERROR of loadbalancer resource {lb['id']}")

    def _changed(self, lb: Json, status: str = "PENDING_UPDATE") -> None:
        lb["provisioning_status"] = status
        self._pending.start(lb["id"], self.pending_reads)

    def _settle(self, lb: Json) -> None:
        if not self._pending.read(lb["id"]):
            return
        if lb["provisioning_status"] == "PENDING_DELETE":
            self._remove_lb(lb["id"])
        else:
            lb["provisioning_status"] = "ACTIVE"
            lb["operating_status"] = "ONLINE"

    def _read_lb(self, lb: Json) -> Json | None:
        """A read of ``lb``: shows its state, then counts towards settling it."""
        if not self._pending.pending(lb["id"]):
            return self._lb_view(lb)
        if self._pending.read(lb["id"]):  # settles now: show the settled state
            if lb["provisioning_status"] == "PENDING_DELETE":
                self._remove_lb(lb["id"])
                return None
            lb["provisioning_status"] = "ACTIVE"
            lb["operating_status"] = "ONLINE"
        return self._lb_view(lb)

    def _remove_lb(self, lb_id: str) -> None:
        self._pending.drop(lb_id)
        self.lbs.pop(lb_id, None)
        for pool_id in [p for p, pool in self.pools.items() if pool["_lb"] == lb_id]:
            self._remove_pool(pool_id)
        for listener_id in [x for x, v in self.listeners.items() if v["_lb"] == lb_id]:
            del self.listeners[listener_id]

    def _remove_pool(self, pool_id: str) -> None:
        pool = self.pools.pop(pool_id)
        for member_id in [m for m, v in self.members.items() if v["_pool"] == pool_id]:
            del self.members[member_id]
        if pool["healthmonitor_id"]:
            self.monitors.pop(pool["healthmonitor_id"], None)
        for listener in self.listeners.values():
            if listener["default_pool_id"] == pool_id:
                listener["default_pool_id"] = None

    def _child_status(self, lb_id: str) -> str:
        lb = self.lbs.get(lb_id)
        status = lb["provisioning_status"] if lb else "DELETED"
        return "PENDING_UPDATE" if status == "PENDING_CREATE" else status

    def _lb_view(self, lb: Json) -> Json:
        view = {k: v for k, v in lb.items() if not k.startswith("_")}
        view["listeners"] = [{"id": i} for i, x in self.listeners.items() if x["_lb"] == lb["id"]]
        view["pools"] = [{"id": i} for i, x in self.pools.items() if x["_lb"] == lb["id"]]
        return view

    def _view(self, kind: str, item: Json) -> Json:
        view = {k: v for k, v in item.items() if not k.startswith("_")}
        lb_id = item["_lb"]
        view["provisioning_status"] = self._child_status(lb_id)
        view["loadbalancers"] = [{"id": lb_id}]
        if kind == "pool":
            view["members"] = [
                {"id": i} for i, m in self.members.items() if m["_pool"] == item["id"]
            ]
            view["listeners"] = [
                {"id": i} for i, x in self.listeners.items() if x["default_pool_id"] == item["id"]
            ]
        if kind == "member":
            pool = self.pools.get(item["_pool"], {})
            monitored = bool(pool.get("healthmonitor_id"))
            view.pop("loadbalancers")
            view["operating_status"] = (
                "NO_MONITOR" if not monitored else "DRAINING" if item["weight"] == 0 else "ONLINE"
            )
        if kind == "healthmonitor":
            view["pools"] = [{"id": item["_pool"]}]
        return view

    def _common(self, body: Json, lb_id: str) -> Json:
        return {
            "name": str(body.get("name") or ""),
            "description": str(body.get("description") or ""),
            "admin_state_up": bool(body.get("admin_state_up", True)),
            "tags": tag_values(body),
            "project_id": "kfed-fake-project",
            "operating_status": "ONLINE",
            "_lb": lb_id,
        }


def tag_values(body: Json) -> list[str]:
    tags = body.get("tags") or []
    if not isinstance(tags, list) or not all(isinstance(t, str) and len(t) <= 255 for t in tags):
        raise fault(400, "Invalid input for field/attribute tags.")
    return list(tags)
