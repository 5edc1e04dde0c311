"""The seam between the hub's ingress controller and a global load balancer provider.

Layer: ``kfed_core`` (contract): plain values and a Protocol, no I/O. The hub builds a
:class:`GlobalLoadBalancer` for each federated Ingress from the clusters' health, capacity and
load balancer addresses, and asks the Ingress's provider (``local``, ``gcp``, ``aws``,
``openstack``, or a third party's) to converge it. Providers are found through pluggy hooks
(:mod:`kfed_core.hookspecs`); a provider never imports the hub.

Every provider operation is a convergent *ensure*: idempotent, deterministic names derived from
:attr:`GlobalLoadBalancer.name`, ownership marked on every resource it creates, NotFound on
delete counts as success.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol


@dataclass(frozen=True, slots=True, kw_only=True)
class Backend:
    """One member cluster's share of a federated Ingress.

    ``address`` is where the cluster serves the Ingress's backend Service (its load balancer's
    ``host:port``); ``weight`` its relative capacity (0 drains it); ``healthy`` whether it has
    ready endpoints as its agent last reported.
    """

    cluster: str
    region: str
    zone: str
    address: str
    weight: int = 1
    healthy: bool = True


@dataclass(frozen=True, slots=True, kw_only=True)
class GlobalLoadBalancer:
    """What one federated Ingress should have: one global address in front of its backends.

    ``name`` is deterministic (``kfed-<namespace>-<name>``, made safe for every provider), so a
    restarted hub finds (adopts) what it made before. ``options`` carries provider settings
    from the Ingress's annotations.
    """

    name: str
    ingress: str  # the federated Ingress's key, for ownership tags and messages
    backends: Sequence[Backend]
    port: int = 80
    options: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True, kw_only=True)
class LoadBalancerStatus:
    """What a provider reports after converging: the global address (IP or host name) once it
    exists, whether traffic flows, and a message for people when it does not."""

    address: str = ""
    ready: bool = False
    message: str = ""


class ProviderError(Exception):
    """A provider could not converge; ``retryable`` when backing off and trying again may help
    (throttling, 5xx), False when an operator must act (bad credentials, quota)."""

    def __init__(self, message: str, *, retryable: bool = True) -> None:
        super().__init__(message)
        self.retryable = retryable


class IngressProvider(Protocol):
    """A global load balancer implementation. All methods may be retried at any time.

    ``plugins/README.md`` spells out the contract; :mod:`kfed_core.conformance` checks it
    against a provider's fake. Errors are :class:`ProviderError`, chained from the SDK's.
    """

    name: str

    async def ensure(self, desired: GlobalLoadBalancer) -> LoadBalancerStatus:
        """Create or update everything ``desired`` needs; returns its status. Idempotent: the
        address stays the same for as long as the load balancer exists; backends that are not
        healthy or have weight 0 are drained, backends left out are removed."""
        ...

    async def delete(self, name: str) -> None:
        """Delete everything made for ``name``, in reverse order; absent counts as deleted.
        Never touches another load balancer's resources."""
        ...

    async def owned(self) -> list[str]:
        """Names of the load balancers this provider finds it made, read from the cloud's
        ownership tags rather than memory (for the periodic sweep of ones no Ingress wants any
        more, and for adoption after a hub restart)."""
        ...

    async def close(self) -> None:
        """Release connections and stop background work; never deletes cloud resources."""
        ...
