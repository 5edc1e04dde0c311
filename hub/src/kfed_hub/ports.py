"""Seams between the hub's HTTPS API and the services behind it, as Protocols with plain values.

Layer: ``kfed_hub`` interfaces. The API (:mod:`kfed_hub.api`) depends on these Protocols only; the
service composition (:mod:`kfed_hub.service`) passes the real implementations, tests pass fakes.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol

from kfed_core.keys import ResourceKey
from kfed_hub.ingress.state import IngressLoadBalancer


class ClusterStatus(enum.StrEnum):
    """A member cluster's health as the hub sees it (see :mod:`kfed_hub.registry` for timings)."""

    READY = "Ready"
    NOT_READY = "NotReady"  # connected recently, but heartbeats stopped or nodes are not Ready
    OFFLINE = "Offline"  # no stream for longer than the offline grace period, or never connected


@dataclass(frozen=True, slots=True, kw_only=True)
class Capacity:
    """CPU in millicores, memory in bytes, pods as a count."""

    cpu_millis: int = 0
    memory_bytes: int = 0
    pods: int = 0


@dataclass(frozen=True, slots=True, kw_only=True)
class ClusterView:
    """One member cluster as the operator sees it (``kfed get clusters``)."""

    name: str
    status: ClusterStatus
    joined_at: dt.datetime
    last_seen: dt.datetime | None = None
    connected: bool = False
    labels: Mapping[str, str] = field(default_factory=dict)
    region: str = ""
    zones: tuple[str, ...] = ()
    kubernetes_version: str = ""
    agent_version: str = ""
    nodes_ready: int = 0
    nodes_total: int = 0
    allocatable: Capacity = Capacity()
    requested: Capacity = Capacity()
    unschedulable_pods: int = 0
    message: str = ""  # why it is not Ready, for people


class ClusterDirectory(Protocol):
    """The registry of member clusters."""

    def list_clusters(self) -> list[ClusterView]:
        """Every joined cluster, ordered by name."""
        ...

    def get_cluster(self, name: str) -> ClusterView | None: ...

    async def remove_cluster(self, name: str) -> ClusterView:
        """Forget the cluster, revoke its certificates and close its live stream (within a
        second). Raises :class:`kfed_hub.store.protocol.NotFound` if there is no such cluster."""
        ...

    async def set_cluster_labels(self, name: str, changes: Mapping[str, str | None]) -> ClusterView:
        """Set (value) or remove (None) custom labels of a cluster; placement is re-planned.
        Raises :class:`kfed_hub.store.protocol.NotFound` if there is no such cluster."""
        ...


@dataclass(frozen=True, slots=True, kw_only=True)
class ObjectPlacement:
    """Where the hub placed one federated object, and why (for status and ``kfed describe``).

    ``clusters``: the clusters whose desired state holds the object. ``replicas``: for
    workloads, the replicas planned per cluster (None for other kinds). ``explanations``: per
    cluster, why it got what it got. ``problems``: what was wrong with the object's placement,
    preferences or overrides (the hub then falls back to a documented default).
    """

    clusters: tuple[str, ...]
    replicas: Mapping[str, int] | None = None
    explanations: Mapping[str, str] = field(default_factory=dict)
    problems: tuple[str, ...] = ()
    unplaced: int = 0
    versions: Mapping[str, str] = field(default_factory=dict)
    """Per cluster, the content version the hub wants there (it differs between clusters when
    replicas or overrides do); a cluster is current when it holds this version."""


class IngressStatuses(Protocol):
    """The ingress controller's view of federated Ingresses' global load balancers."""

    def load_balancer(self, key: ResourceKey) -> IngressLoadBalancer | None:
        """The Ingress's load balancer state, or None when the controller has none (yet)."""
        ...


class Placements(Protocol):
    """The reconciler's current decisions, read by the API."""

    def placement(self, key: ResourceKey) -> ObjectPlacement | None:
        """The object's placement, or None if the hub has not planned it (yet)."""
        ...


@dataclass(frozen=True, slots=True, kw_only=True)
class ClusterInfo:
    """What a joining agent may learn before it trusts the hub (pinned by ``ca_hash``)."""

    ca_pem: bytes
    ca_hash: str  # "sha256:<hex>" of the CA's SubjectPublicKeyInfo (kubeadm's form)
    api_address: str  # host:port of the hub's HTTPS API (joins go here)
    sync_address: str  # host:port of the hub's gRPC Sync service


@dataclass(frozen=True, slots=True, kw_only=True)
class IssuedToken:
    """A freshly made bootstrap token; the only time its secret is visible."""

    token: str  # "<id>.<secret>", kubeadm's form: [a-z0-9]{6}.[a-z0-9]{16}
    expires_at: dt.datetime
    join_command: str  # the whole `kfed join ...` line, CA hash included


@dataclass(frozen=True, slots=True, kw_only=True)
class JoinGrant:
    """What a successful join returns to the agent."""

    cluster: str
    certificate_pem: bytes
    ca_pem: bytes
    sync_address: str


class JoinRefusal(enum.StrEnum):
    """Why a join was refused; the API maps each to a status code."""

    TOKEN_UNKNOWN = "TokenUnknown"
    TOKEN_USED = "TokenUsed"
    TOKEN_EXPIRED = "TokenExpired"
    NAME_TAKEN = "AlreadyJoined"
    INVALID = "Invalid"  # bad name or CSR


class JoinRefused(Exception):
    """A join that the hub refuses; ``str()`` is a message for the person running ``kfed join``."""

    def __init__(self, reason: JoinRefusal, message: str) -> None:
        super().__init__(message)
        self.reason = reason


class Bootstrap(Protocol):
    """Tokens and joins."""

    def cluster_info(self) -> ClusterInfo: ...

    async def create_token(self, *, ttl: dt.timedelta, description: str = "") -> IssuedToken: ...

    async def join(self, *, name: str, token: str, csr_pem: bytes) -> JoinGrant:
        """Check and consume the token, then sign the CSR for cluster ``name``; raises
        :class:`JoinRefused`."""
        ...
