"""A fake Designate v2 API: zones and their recordsets.

Layer: ``kfed_openstack.fake``, pure state machine (no I/O). Paths and shapes follow Designate
v2 (``/v2/zones``, ``/v2/zones/{id}/recordsets``, unwrapped bodies, lists with ``links`` and
``metadata.total_count``, errors ``{"code", "type", "message", "request_id"}``). Rules kept:
409 ``duplicate_recordset`` for a second recordset of one name and type; 400 for a name
outside the zone, a bad A record or TTL; 404 ``zone_not_found``/``recordset_not_found``; a
created or updated recordset is PENDING for ``pending_reads`` reads, then ACTIVE; each zone has
its SOA and NS recordsets. Zones are created ACTIVE; a deleted recordset is gone at once
(Designate keeps it PENDING/DELETE for a moment); there are no nameservers behind it.
"""

from __future__ import annotations

import ipaddress

from kfed_openstack.fake.common import ApiError, Ids, Json, Pending, Query, Reply, matches_fields

_TYPES = {"A", "AAAA", "CNAME", "MX", "NS", "PTR", "SOA", "SPF", "SRV", "SSHFP", "TXT", "CAA"}


def error(status: int, kind: str, message: str) -> ApiError:
    """Designate's error body."""
    return ApiError(
        status, {"code": status, "type": kind, "message": message, "request_id": "req-fake"}
    )


class Designate:
    """The zones of the one (global) Designate service."""

    def __init__(self, pending_reads: int = 1) -> None:
        self.pending_reads = pending_reads
        self.ids = Ids(0xD0000000)
        self.zones: dict[str, Json] = {}
        self.recordsets: dict[str, Json] = {}
        self._pending = Pending()

    def add_zone(self, name: str, email: str = "hostmaster@example.org") -> Json:
        """Create an ACTIVE zone (with SOA and NS recordsets), as an operator would have."""
        if not name.endswith("."):
            raise ValueError(f"zone name {name!r} must end with a dot")
        if any(z["name"] == name for z in self.zones.values()):
            raise error(409, "duplicate_zone", "Duplicate Zone")
        zone: Json = {
            "id": self.ids.next(),
            "name": name,
            "email": email,
            "ttl": 3600,
            "serial": 1,
            "status": "ACTIVE",
            "action": "NONE",
            "description": None,
            "type": "PRIMARY",
            "masters": [],
            "pool_id": "pool-fake",
            "project_id": "kfed-fake-project",
            "version": 1,
            "transferred_at": None,
        }
        self.zones[zone["id"]] = zone
        self._add(
            zone, name, "SOA", [f"ns1.{name} {email.replace('@', '.')}. 1 3600 600 86400 3600"]
        )
        self._add(zone, name, "NS", [f"ns1.{name}"])
        return zone

    def _add(self, zone: Json, name: str, rtype: str, records: list[str]) -> Json:
        recordset = {
            "id": self.ids.next(),
            "zone_id": zone["id"],
            "zone_name": zone["name"],
            "project_id": "kfed-fake-project",
            "name": name,
            "type": rtype,
            "records": records,
            "ttl": None,
            "description": None,
            "status": "ACTIVE",
            "action": "NONE",
            "version": 1,
        }
        self.recordsets[recordset["id"]] = recordset
        return recordset

    def _view(self, recordset: Json, base: str) -> Json:
        if self._pending.pending(recordset["id"]) and self._pending.read(recordset["id"]):
            recordset.update(status="ACTIVE", action="NONE")
        view = dict(recordset)
        view["links"] = {
            "self": f"{base}/v2/zones/{recordset['zone_id']}/recordsets/{recordset['id']}"
        }
        return view

    def handle(
        self, method: str, path: list[str], query: Query, body: Json | None, base: str
    ) -> Reply:
        """``path`` is what follows ``/v2/``; ``base`` the service's URL for links."""
        if not path or path[0] != "zones":
            raise error(404, "not_found", "The resource could not be found.")
        if len(path) == 1 and method == "GET":
            zones = [
                dict(z, links={"self": f"{base}/v2/zones/{z['id']}"}) for z in self.zones.values()
            ]
            zones = [z for z in zones if matches_fields(z, query, wildcard=True)]
            return Reply(
                200,
                {
                    "zones": zones,
                    "links": {"self": f"{base}/v2/zones"},
                    "metadata": {"total_count": len(zones)},
                },
            )
        if len(path) == 1 and method == "POST":
            name = str((body or {}).get("name", ""))
            if not name.endswith("."):
                raise error(400, "invalid_object", "Provided object does not match schema: name")
            return Reply(202, self.add_zone(name, str((body or {}).get("email", "x@example.org"))))
        zone = self.zones.get(path[1])
        if zone is None:
            raise error(404, "zone_not_found", "Could not find Zone")
        if len(path) == 2 and method == "GET":
            return Reply(200, dict(zone, links={"self": f"{base}/v2/zones/{zone['id']}"}))
        if len(path) >= 3 and path[2] == "recordsets":
            return self._recordsets(method, zone, path[3:], query, body or {}, base)
        raise error(404, "not_found", "The resource could not be found.")

    def _recordsets(
        self, method: str, zone: Json, rest: list[str], query: Query, body: Json, base: str
    ) -> Reply:
        if not rest and method == "GET":
            found = [
                self._view(r, base) for r in self.recordsets.values() if r["zone_id"] == zone["id"]
            ]
            found = [r for r in found if matches_fields(r, query, wildcard=True)]
            return Reply(
                200,
                {
                    "recordsets": found,
                    "links": {"self": f"{base}/v2/zones/{zone['id']}/recordsets"},
                    "metadata": {"total_count": len(found)},
                },
            )
        if not rest and method == "POST":
            name, rtype = body.get("name"), body.get("type")
            if not isinstance(name, str) or not (
                name == zone["name"] or name.endswith("." + zone["name"])
            ):
                raise error(
                    400,
                    "invalid_recordset_location",
                    "RecordSet is not contained within it's parent zone",
                )
            if rtype not in _TYPES:
                raise error(400, "invalid_object", "Provided object does not match schema: type")
            records = self._check(body, rtype)
            if any(
                r["zone_id"] == zone["id"] and r["name"] == name and r["type"] == rtype
                for r in self.recordsets.values()
            ):
                raise error(409, "duplicate_recordset", "Duplicate RecordSet")
            recordset = self._add(zone, name, rtype, records)
            recordset.update(
                ttl=body.get("ttl"),
                description=body.get("description"),
                status="PENDING",
                action="CREATE",
            )
            self._pending.start(recordset["id"], self.pending_reads)
            return Reply(202, self._view(recordset, base))
        target = self.recordsets.get(rest[0]) if len(rest) == 1 else None
        if target is None or target["zone_id"] != zone["id"]:
            raise error(404, "recordset_not_found", "Could not find RecordSet")
        recordset = target
        if method == "GET":
            return Reply(200, self._view(recordset, base))
        if method == "PUT":
            if set(body) - {"records", "ttl", "description"}:
                raise error(400, "invalid_object", "Provided object does not match schema")
            if "records" in body:
                recordset["records"] = self._check(body, recordset["type"])
            if "ttl" in body:
                self._check(
                    {"records": recordset["records"], "ttl": body["ttl"]}, recordset["type"]
                )
                recordset["ttl"] = body["ttl"]
            if "description" in body:
                recordset["description"] = body["description"]
            recordset.update(status="PENDING", action="UPDATE", version=recordset["version"] + 1)
            self._pending.start(recordset["id"], self.pending_reads)
            return Reply(202, self._view(recordset, base))
        if method == "DELETE":
            if recordset["type"] in ("SOA", "NS") and recordset["name"] == zone["name"]:
                raise error(400, "bad_request", "Managed records may not be deleted")
            del self.recordsets[recordset["id"]]
            self._pending.drop(recordset["id"])
            view = dict(recordset, status="PENDING", action="DELETE")
            return Reply(202, view)
        raise error(405, "method_not_allowed", "Method not allowed")

    @staticmethod
    def _check(body: Json, rtype: object) -> list[str]:
        records, ttl = body.get("records"), body.get("ttl")
        if (
            not isinstance(records, list)
            or not records
            or not all(isinstance(r, str) for r in records)
        ):
            raise error(400, "invalid_object", "Provided object does not match schema: records")
        if ttl is not None and (not isinstance(ttl, int) or not 1 <= ttl <= 2147483647):
            raise error(400, "invalid_object", "Provided object does not match schema: ttl")
        if rtype == "A":
            for record in records:
                try:
                    ipaddress.IPv4Address(record)
                except ValueError:
                    raise error(
                        400,
                        "invalid_object",
                        f"Provided object does not match schema: "
                        f"records: '{record}' is not a 'ipv4'",
                    ) from None
        return list(records)
