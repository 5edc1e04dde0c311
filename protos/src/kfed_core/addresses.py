"""Load balancer addresses as Kubernetes status shows them.

Layer: ``kfed_core`` pure helper (no I/O), shared by the hub (the federated Ingress's status)
and the agent (each member Ingress's status), so both show one global address the same way.
"""

from __future__ import annotations

import ipaddress
from typing import Any


def split_host_port(address: str) -> tuple[str, int | None]:
    """``host`` and ``port`` of ``host:port``, ``[v6]:port``, a bare IP or a bare host name."""
    text = address.strip()
    if text.startswith("["):
        host, _, rest = text[1:].partition("]")
        port = rest[1:] if rest.startswith(":") else ""
        return host, int(port) if port.isdigit() else None
    try:
        ipaddress.ip_address(text)
        return text, None  # a bare IPv6 address has colons but no port
    except ValueError:
        pass
    host, sep, port = text.rpartition(":")
    if sep and port.isdigit() and host:
        return host, int(port)
    return text, None


def load_balancer_ingress(address: str) -> dict[str, Any]:
    """One ``status.loadBalancer.ingress`` item for a global address: ``ip`` for an IP address,
    ``hostname`` for a DNS name, and ``ports`` when the address carries a port (the local
    provider listens on one port per load balancer)."""
    host, port = split_host_port(address)
    try:
        ipaddress.ip_address(host)
        item: dict[str, Any] = {"ip": host}
    except ValueError:
        item = {"hostname": host}
    if port is not None:
        item["ports"] = [{"port": port, "protocol": "TCP"}]
    return item
