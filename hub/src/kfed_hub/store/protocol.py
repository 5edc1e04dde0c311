"""The Store seam: what the hub persists, as a Protocol with plain frozen values.

Layer: ``kfed_hub.store`` (bottom of the hub). It knows nothing of gRPC, HTTP or planning; other
hub modules depend on this Protocol, never on a particular implementation.

What is stored:
- **federated objects** (the operator's intent): one manifest per :class:`ResourceKey`, with a
  store-wide, strictly increasing revision written into ``metadata.resourceVersion``;
- **clusters**: joined member clusters, their labels, certificate serials and last reported info;
- **bootstrap tokens**: single-use, expiring; only a hash of the secret part is kept;
- **revoked certificate serials**;
- **per-cluster object state**: the last apply result and observed status the agent reported;
- **orphan tombstones**: keys deleted with ``orphan=True`` whose member copies must be released
  (kfed's marks stripped) rather than deleted, until the reconciler forgets them;
- **federated events**: aggregated like Kubernetes events, bounded (oldest dropped first).

Concurrency: every method is a coroutine; an implementation serialises writes itself. Each write
is one transaction: after the coroutine returns, the change survives a crash of the process.
Listeners added with :meth:`Store.add_listener` are called (synchronously, on the event loop)
after each committed object change, in commit order.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from kfed_core.keys import ResourceKey

Manifest = Mapping[str, Any]


class StoreError(Exception):
    """Base of the store's errors."""


class Conflict(StoreError):
    """An optimistic-concurrency precondition failed (the object changed or already exists)."""


class NotFound(StoreError):
    """The object, cluster or token does not exist."""


@dataclass(frozen=True, slots=True, kw_only=True)
class StoredObject:
    """A federated object as stored: its key, its manifest and the revision that last wrote it."""

    key: ResourceKey
    manifest: Manifest
    revision: int


@dataclass(frozen=True, slots=True, kw_only=True)
class ObjectChange:
    """One committed change of a federated object; ``after`` is None for a deletion.

    ``orphaned``: a deletion that leaves the member clusters' copies in place (they are released
    from kfed's management instead of deleted; see :meth:`Store.orphans`).
    """

    key: ResourceKey
    revision: int
    before: StoredObject | None
    after: StoredObject | None
    orphaned: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class ClusterRecord:
    """A joined member cluster.

    ``info`` holds what its agent last reported that is worth keeping across restarts (region,
    zones, Kubernetes version) as plain JSON-able values; capacity is live state only.
    """

    name: str
    joined_at: dt.datetime
    labels: Mapping[str, str] = field(default_factory=dict)
    cert_serials: tuple[str, ...] = ()
    info: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True, kw_only=True)
class BootstrapToken:
    """A join token as stored: ``secret_hash`` is the SHA-256 hex of its secret part."""

    token_id: str
    secret_hash: str
    created_at: dt.datetime
    expires_at: dt.datetime
    description: str = ""
    used_at: dt.datetime | None = None
    used_by: str = ""


class TokenUse(enum.Enum):
    """What happened when a join tried to use a token."""

    ACCEPTED = "accepted"
    UNKNOWN = "unknown"  # no such token id, or the secret does not match
    USED = "used"  # already used once
    EXPIRED = "expired"


@dataclass(frozen=True, slots=True, kw_only=True)
class ClusterObjectState:
    """What one cluster's agent last said about one object.

    ``outcome`` is "Applied", "Failed", "Removed" or "" (no result yet); ``status`` the object's
    observed ``.status`` (None if none reported); ``absent`` that the object is missing there.
    """

    cluster: str
    key: ResourceKey
    version: str = ""
    outcome: str = ""
    reason: str = ""
    message: str = ""
    status: Mapping[str, Any] | None = None
    absent: bool = False
    updated_at: dt.datetime | None = None


EVENT_TYPES = ("Normal", "Warning")


@dataclass(frozen=True, slots=True, kw_only=True)
class NewEvent:
    """Something that happened, to record as a federated event: ``type`` "Normal" or "Warning";
    ``reason`` a CamelCase word; ``message`` for people, never secret data (clipped to 1,024
    characters); ``key`` the federated object (None for an event about a cluster itself);
    ``cluster`` the member cluster ("" if none); ``count`` and ``first_time`` for occurrences a
    caller already merged."""

    type: str
    reason: str
    message: str
    time: dt.datetime
    key: ResourceKey | None = None
    cluster: str = ""
    count: int = 1
    first_time: dt.datetime | None = None  # None: ``time``


@dataclass(frozen=True, slots=True, kw_only=True)
class FederatedEvent:
    """A recorded event: every occurrence with the same key, cluster, type, reason and message
    is one event whose ``count`` grows and ``last_time`` moves (Kubernetes' aggregation). ``id``
    is assigned by the store, unique and increasing; times are UTC."""

    id: int
    type: str
    reason: str
    message: str
    key: ResourceKey | None
    cluster: str
    count: int
    first_time: dt.datetime
    last_time: dt.datetime


class Store(Protocol):
    """The hub's persistent state. See the module docstring for the guarantees."""

    # -- federated objects -------------------------------------------------------------------

    async def get_object(self, key: ResourceKey) -> StoredObject | None:
        """The object, or None."""
        ...

    async def list_objects(
        self, *, group: str | None = None, kind: str | None = None, namespace: str | None = None
    ) -> list[StoredObject]:
        """Objects matching every filter given, ordered by key."""
        ...

    async def create_object(self, key: ResourceKey, manifest: Manifest) -> StoredObject:
        """Store a new object; raises :class:`Conflict` if the key exists."""
        ...

    async def update_object(
        self, key: ResourceKey, manifest: Manifest, *, expected_revision: int | None = None
    ) -> StoredObject:
        """Replace an object; :class:`NotFound` if absent, :class:`Conflict` if its revision
        moved."""
        ...

    async def delete_object(
        self, key: ResourceKey, *, expected_revision: int | None = None, orphan: bool = False
    ) -> StoredObject:
        """Delete; returns the last stored form. :class:`NotFound` / :class:`Conflict` as above.
        ``orphan``: also record a tombstone (same transaction) and announce the change with
        ``orphaned=True``; creating the key again clears the tombstone."""
        ...

    async def orphans(self) -> frozenset[ResourceKey]:
        """Keys deleted with ``orphan=True`` and not forgotten (nor created again) since."""
        ...

    async def forget_orphans(self, keys: Iterable[ResourceKey]) -> None:
        """Drop the tombstones of ``keys`` (unknown keys are ignored)."""
        ...

    async def revision(self) -> int:
        """The newest revision committed (0 for an empty store)."""
        ...

    def add_listener(self, listener: Callable[[ObjectChange], None]) -> None:
        """Call ``listener`` after every committed object change."""
        ...

    # -- clusters ----------------------------------------------------------------------------

    async def get_cluster(self, name: str) -> ClusterRecord | None: ...

    async def list_clusters(self) -> list[ClusterRecord]:
        """All clusters, ordered by name."""
        ...

    async def create_cluster(self, record: ClusterRecord) -> ClusterRecord:
        """Register a cluster; :class:`Conflict` if the name is taken."""
        ...

    async def update_cluster(self, record: ClusterRecord) -> ClusterRecord:
        """Replace a cluster's record; :class:`NotFound` if absent."""
        ...

    async def delete_cluster(self, name: str) -> ClusterRecord:
        """Remove a cluster, revoke all its certificate serials and drop its object states, in one
        transaction; :class:`NotFound` if absent."""
        ...

    # -- revocation --------------------------------------------------------------------------

    async def revoke_serials(self, serials: Sequence[str], *, reason: str) -> None: ...
    async def revoked_serials(self) -> frozenset[str]: ...

    # -- bootstrap tokens --------------------------------------------------------------------

    async def create_token(self, token: BootstrapToken) -> None:
        """Store a token; :class:`Conflict` if its id exists."""
        ...

    async def use_token(
        self, token_id: str, secret_hash: str, *, cluster: str, now: dt.datetime
    ) -> TokenUse:
        """Atomically check and consume a token (compare the hash in constant time)."""
        ...

    async def list_tokens(self) -> list[BootstrapToken]: ...

    # -- per-cluster object state ------------------------------------------------------------

    async def put_object_states(self, states: Sequence[ClusterObjectState]) -> None:
        """Upsert states (by cluster and key), in one transaction."""
        ...

    async def object_states(
        self, *, key: ResourceKey | None = None, cluster: str | None = None
    ) -> list[ClusterObjectState]:
        """States matching the filters, ordered by cluster then key."""
        ...

    async def delete_object_states(self, *, key: ResourceKey) -> None:
        """Forget every cluster's state of an object (after it left every cluster)."""
        ...

    # -- federated events --------------------------------------------------------------------

    async def add_events(self, events: Sequence[NewEvent]) -> None:
        """Record events in one transaction, aggregating each with an existing one of the same
        key, cluster, type, reason and message; then drop the oldest (by last time) beyond the
        store's ``max_events``. :class:`StoreError` (nothing written) for a type other than
        Normal or Warning, an empty reason, a count below 1 or a naive time."""
        ...

    async def list_events(
        self,
        *,
        key: ResourceKey | None = None,
        cluster: str | None = None,
        namespace: str | None = None,
        kind: str | None = None,
        name: str | None = None,
        limit: int = 1000,
    ) -> list[FederatedEvent]:
        """The newest ``limit`` events matching every filter, newest last. ``namespace`` is the
        event's namespace as Kubernetes files it: the object's, or ``default`` for an event about
        a cluster or a cluster-scoped object. ``kind``/``name`` match the object's."""
        ...

    async def close(self) -> None:
        """Release the database; later calls fail."""
        ...
