"""The seam between the ``gcp`` provider and Google Compute Engine: the calls it makes.

Layer: typed contract of the ``gcp`` plugin (no I/O, no SDK). :class:`ComputeApi` is what the
provider needs of GCE, with resources as plain dicts in GCE's REST JSON shape (camelCase, as
the API documents them), so the provider never sees an SDK type.
:class:`kfed_gcp.gce_client.GceClient` implements it with google-cloud-compute (the one module
importing ``google.*``); unit tests may implement it in memory.

Every method raises :class:`kfed_gcp.errors.GceError` for GCE's errors. Mutations return once
GCE's operation is DONE (an operation that ends in error raises). ``request_id`` makes a
mutation idempotent when it is sent again (GCE remembers it): pass the same id when retrying.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any, Protocol

Resource = dict[str, Any]


class Kind(StrEnum):
    """A GCE collection the provider uses; the value is its REST collection name."""

    ADDRESS = "addresses"
    HEALTH_CHECK = "healthChecks"
    NEG = "networkEndpointGroups"
    BACKEND_SERVICE = "backendServices"
    URL_MAP = "urlMaps"
    HTTP_PROXY = "targetHttpProxies"
    FORWARDING_RULE = "forwardingRules"
    FIREWALL = "firewalls"

    @property
    def zonal(self) -> bool:
        return self is Kind.NEG


GLOBAL_KINDS = tuple(kind for kind in Kind if not kind.zonal)


def link(project: str, kind: Kind, name: str, zone: str = "") -> str:
    """A partial resource URL, as GCE accepts in references (``projects/p/global/...``)."""
    scope = f"zones/{zone}" if kind.zonal else "global"
    return f"projects/{project}/{scope}/{kind.value}/{name}"


def same_link(a: str | None, b: str | None) -> bool:
    """Whether two resource URLs (full self links or partial) name the same resource."""
    if not a or not b:
        return False
    return link_tail(a) == link_tail(b)


def link_tail(url: str) -> str:
    """The ``projects/...`` part of a full or partial resource URL."""
    at = url.find("projects/")
    return url[at:] if at >= 0 else url


class ComputeApi(Protocol):
    """The GCE calls of the ``gcp`` provider; ``zone`` only for zonal kinds (NEGs)."""

    async def get(self, kind: Kind, name: str, *, zone: str = "") -> Resource: ...

    async def list_all(self, kind: Kind) -> list[Resource]:
        """Every resource of a global kind in the project (NEGs: :meth:`list_negs`)."""
        ...

    async def list_negs(self) -> list[Resource]:
        """Every zonal NEG in the project (aggregated list); each has its ``zone`` URL."""
        ...

    async def insert(
        self, kind: Kind, body: Resource, *, request_id: str, zone: str = ""
    ) -> None: ...

    async def patch(
        self, kind: Kind, name: str, body: Resource, *, request_id: str, zone: str = ""
    ) -> None: ...

    async def delete(self, kind: Kind, name: str, *, request_id: str, zone: str = "") -> None: ...

    async def set_url_map(self, proxy: str, url_map: str, *, request_id: str) -> None: ...

    async def set_target(self, forwarding_rule: str, target: str, *, request_id: str) -> None: ...

    async def list_endpoints(self, zone: str, neg: str) -> list[Resource]:
        """The NEG's endpoints (``{"ipAddress": ..., "port": ...}``)."""
        ...

    async def attach_endpoints(
        self, zone: str, neg: str, endpoints: list[Resource], *, request_id: str
    ) -> None: ...

    async def detach_endpoints(
        self, zone: str, neg: str, endpoints: list[Resource], *, request_id: str
    ) -> None: ...

    async def backend_health(self, backend_service: str, group: str) -> list[Resource]:
        """``getHealth`` of one backend group: ``[{"ipAddress", "port", "healthState"}]``."""
        ...

    async def close(self) -> None: ...
