"""Deterministic names, ownership marks and weights for the OpenStack provider.

Layer: ``kfed_openstack``, pure (no I/O, no clock, no SDK). Everything the provider creates is
named from :attr:`GlobalLoadBalancer.name`, so a restarted hub finds (adopts) what it made:

- the DNS label ``<label>`` (a valid RFC 1123 label, at most 63 characters; a short hash is
  appended when the name had to be changed or truncated, so two names never share a label);
- Octavia resources ``<label>`` (load balancer), ``<label>-listener``, ``<label>-pool``,
  ``<label>-monitor``, and one member per cluster named after the cluster;
- Octavia tags ``kfed-owner=<owner>``, ``kfed-lb=<name>`` and ``kfed-ingress=<ingress>``;
- the Designate A recordset ``<label>.<zone>`` with the description marker
  ``kfed owner=<owner> lb=<name>``.
"""

from __future__ import annotations

import hashlib
import ipaddress
import re
from collections.abc import Iterable, Mapping, Sequence

from kfed_core.providers import Backend

MAX_LABEL = 63
MAX_TAG = 255  # Octavia's limit on one tag
MAX_DESCRIPTION = 160  # Designate's limit on a recordset description
MAX_WEIGHT = 256  # Octavia member weights run 0..256; 0 takes no new connections

OWNER_TAG = "kfed-owner="
LB_TAG = "kfed-lb="
INGRESS_TAG = "kfed-ingress="
MARKER = "kfed owner="

_INVALID = re.compile(r"[^a-z0-9-]+")


def _short_hash(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:8]


def dns_label(name: str) -> str:
    """``name`` as one DNS label: lowercase letters, digits and inner hyphens, at most 63.

    Unchanged when already valid; otherwise cleaned and suffixed with a hash of the original,
    so ``Web_1`` and ``web-1`` never collide.
    """
    if not name:
        raise ValueError("a load balancer name is empty")
    cleaned = _INVALID.sub("-", name.lower()).strip("-")
    if cleaned == name and len(cleaned) <= MAX_LABEL:
        return cleaned
    head = cleaned[: MAX_LABEL - 9].rstrip("-") or "kfed"
    return f"{head}-{_short_hash(name)}"


def listener_name(label: str) -> str:
    return f"{label}-listener"


def pool_name(label: str) -> str:
    return f"{label}-pool"


def monitor_name(label: str) -> str:
    return f"{label}-monitor"


def ownership_tags(owner: str, name: str, ingress: str) -> tuple[str, ...]:
    """The Octavia tags on everything made for load balancer ``name`` (each cut to 255)."""
    tags = (f"{OWNER_TAG}{owner}", f"{LB_TAG}{name}", f"{INGRESS_TAG}{ingress}")
    return tuple(tag[:MAX_TAG] for tag in tags)


def identity_tags(owner: str, name: str) -> tuple[str, str]:
    """The two tags that find load balancer ``name`` of ``owner`` (a tag filter)."""
    return f"{OWNER_TAG}{owner}"[:MAX_TAG], f"{LB_TAG}{name}"[:MAX_TAG]


def tag_value(tags: Iterable[str], prefix: str) -> str | None:
    """The value of the first tag starting with ``prefix``, or None."""
    for tag in tags:
        if tag.startswith(prefix):
            return tag[len(prefix) :]
    return None


def record_name(label: str, zone: str) -> str:
    """The recordset's fully qualified name, ``<label>.<zone>`` (the zone ends with a dot)."""
    return f"{label}.{zone}"


def host_name(label: str, zone: str) -> str:
    """The global address the provider reports: the record name without its final dot."""
    return record_name(label, zone).rstrip(".")


def record_description(owner: str, name: str) -> str:
    """The marker that says kfed (as ``owner``) made this recordset for ``name``."""
    return f"{MARKER}{owner} lb={name}"[:MAX_DESCRIPTION]


def parse_description(description: str) -> tuple[str, str] | None:
    """``(owner, name)`` from a marker :func:`record_description` wrote, else None."""
    if not description.startswith(MARKER) or " lb=" not in description:
        return None
    owner, _, name = description[len(MARKER) :].partition(" lb=")
    return (owner, name) if owner and name else None


def split_address(address: str) -> tuple[str, int]:
    """``(ip, port)`` of a backend's ``host:port``; Octavia members need an IP address.

    Raises ValueError saying what is wrong. IPv6 addresses are written ``[::1]:80``.
    """
    host, sep, port = address.rpartition(":")
    host = host.removeprefix("[").removesuffix("]")
    if not sep or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"backend address {address!r} is not host:port with a port 1-65535")
    try:
        ipaddress.ip_address(host)
    except ValueError:
        raise ValueError(
            f"backend address {address!r} does not start with an IP address; Octavia members "
            "need the IP of the cluster's load balancer"
        ) from None
    return host, int(port)


def serves(backend: Backend) -> bool:
    """Whether ``backend`` should receive traffic (healthy, with capacity)."""
    return backend.healthy and backend.weight > 0


def member_weights(backends: Sequence[Backend]) -> Mapping[str, int]:
    """Octavia weights (0..256) by backend address: 0 for drained backends.

    Capacity weights up to 256 are kept as they are (stable: a change in one cluster's
    capacity rewrites only its member); larger ones are scaled so the largest becomes 256 and
    no serving backend drops to 0.
    """
    serving = [b.weight for b in backends if serves(b)]
    top = max(serving, default=0)
    weights: dict[str, int] = {}
    for backend in backends:
        if not serves(backend):
            weights[backend.address] = 0
        elif top <= MAX_WEIGHT:
            weights[backend.address] = backend.weight
        else:
            weights[backend.address] = max(1, round(backend.weight * MAX_WEIGHT / top))
    return weights
