"""Plain values from openstacksdk's resource objects, for :mod:`kfed_openstack.os_client`.

Layer: ``kfed_openstack`` adapter helpers, pure. They read attributes of the SDK's objects
(typed ``Any``: this module does not import the SDK, so only ``os_client`` does) and build the
seam's frozen values; they also read a response's Retry-After header.
"""

from __future__ import annotations

from typing import Any

from kfed_openstack.api import (
    HealthMonitor,
    Listener,
    LoadBalancer,
    Member,
    MonitorSpec,
    Pool,
    Recordset,
)


def _tags(x: Any) -> tuple[str, ...]:
    return tuple(getattr(x, "tags", None) or ())


def lb(x: Any) -> LoadBalancer:
    return LoadBalancer(
        id=x.id,
        name=x.name or "",
        vip_address=x.vip_address or "",
        provisioning_status=x.provisioning_status or "",
        operating_status=x.operating_status or "",
        tags=_tags(x),
    )


def listener(x: Any) -> Listener:
    return Listener(
        id=x.id, name=x.name or "", protocol=x.protocol, port=int(x.protocol_port), tags=_tags(x)
    )


def pool(x: Any) -> Pool:
    return Pool(
        id=x.id,
        name=x.name or "",
        protocol=x.protocol,
        algorithm=x.lb_algorithm,
        healthmonitor_id=x.health_monitor_id or "",
        tags=_tags(x),
    )


def monitor_fields(spec: MonitorSpec) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "type": spec.type,
        "delay": spec.delay,
        "timeout": spec.timeout,
        "max_retries": spec.max_retries,
    }
    if spec.type == "HTTP":
        fields |= {
            "http_method": "GET",
            "url_path": spec.url_path,
            "expected_codes": spec.expected_codes,
        }
    return fields


def monitor(x: Any) -> HealthMonitor:
    http = x.type == "HTTP"
    spec = MonitorSpec(
        type=x.type,
        delay=int(x.delay),
        timeout=int(x.timeout),
        max_retries=int(x.max_retries),
        url_path=(x.url_path or "") if http else "",
        expected_codes=(x.expected_codes or "") if http else "",
    )
    return HealthMonitor(id=x.id, name=x.name or "", spec=spec, tags=_tags(x))


def member(x: Any) -> Member:
    return Member(
        id=x.id,
        name=x.name or "",
        address=x.address,
        port=int(x.protocol_port),
        weight=int(x.weight if x.weight is not None else 1),
        operating_status=x.operating_status or "",
        tags=_tags(x),
    )


def recordset(x: Any) -> Recordset:
    return Recordset(
        id=x.id,
        name=x.name,
        type=x.type,
        records=tuple(x.records or ()),
        ttl=int(x.ttl or 0),
        description=x.description or "",
        status=x.status or "",
    )


def retry_after(response: Any) -> float | None:
    raw = getattr(response, "headers", {}).get("Retry-After") if response is not None else None
    try:
        return float(raw) if raw is not None else None
    except ValueError:
        return None
