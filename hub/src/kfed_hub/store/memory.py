"""MemoryStore: the Store Protocol held in memory, the fake for tests of the modules above it.

Layer: ``kfed_hub.store``. It follows every rule of :class:`~kfed_hub.store.protocol.Store` that
:class:`~kfed_hub.store.sqlite.SqliteStore` follows (revisions, Conflict/NotFound, listeners in
commit order, token use, object states, orphan tombstones, event aggregation and retention),
through the same helpers in :mod:`.codec`, so a test that passes on it means something for the
real store. It persists nothing and must not be used
by the hub service itself.

Concurrency: only the event loop's thread may call it. No method awaits inside, so each write
runs to its end without interleaving: one write, one "transaction". Reads and writes hand out
deep copies, so a caller mutating a manifest it got cannot change what is stored.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
from collections.abc import Callable, Iterable, Sequence

from kfed_core.keys import ResourceKey
from kfed_hub.store import codec
from kfed_hub.store.memory_events import EventLog
from kfed_hub.store.protocol import (
    BootstrapToken,
    ClusterObjectState,
    ClusterRecord,
    Conflict,
    FederatedEvent,
    Manifest,
    NewEvent,
    NotFound,
    ObjectChange,
    StoredObject,
    StoreError,
    TokenUse,
)

_log = logging.getLogger(__name__)


def _utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class MemoryStore:
    """An in-memory :class:`~kfed_hub.store.protocol.Store`."""

    def __init__(self, *, clock: codec.Clock = _utc_now, max_events: int = 10_000) -> None:
        self._clock = clock
        self._closed = False
        self._revision = 0
        self._objects: dict[ResourceKey, StoredObject] = {}
        self._clusters: dict[str, ClusterRecord] = {}
        self._revoked: dict[str, tuple[str, dt.datetime]] = {}  # serial -> (reason, when)
        self._tokens: dict[str, BootstrapToken] = {}
        self._states: dict[tuple[str, ResourceKey], ClusterObjectState] = {}
        self._listeners: list[Callable[[ObjectChange], None]] = []
        self._orphans: dict[ResourceKey, int] = {}  # key -> revision of its orphaning delete
        self._events = EventLog(max_events=max_events)

    # -- federated objects -------------------------------------------------------------------

    async def get_object(self, key: ResourceKey) -> StoredObject | None:
        self._check_open()
        found = self._objects.get(key)
        return None if found is None else codec.copy_stored(found)

    async def list_objects(
        self, *, group: str | None = None, kind: str | None = None, namespace: str | None = None
    ) -> list[StoredObject]:
        self._check_open()
        chosen = [
            codec.copy_stored(stored)
            for key, stored in self._objects.items()
            if (group is None or key.group == group)
            and (kind is None or key.kind == kind)
            and (namespace is None or key.namespace == namespace)
        ]
        return sorted(chosen, key=lambda stored: codec.key_order(stored.key))

    async def create_object(self, key: ResourceKey, manifest: Manifest) -> StoredObject:
        self._check_open()
        if key in self._objects:
            raise Conflict(f"{key} already exists; update it instead, or delete it first")
        stored = self._write(key, manifest, before=None)
        self._orphans.pop(key, None)  # the object is kfed's again
        return stored

    async def update_object(
        self, key: ResourceKey, manifest: Manifest, *, expected_revision: int | None = None
    ) -> StoredObject:
        self._check_open()
        before = self._current(key, expected_revision)
        return self._write(key, manifest, before=before)

    async def delete_object(
        self, key: ResourceKey, *, expected_revision: int | None = None, orphan: bool = False
    ) -> StoredObject:
        self._check_open()
        before = self._current(key, expected_revision)
        self._revision += 1
        del self._objects[key]
        if orphan:
            self._orphans[key] = self._revision
        change = ObjectChange(
            key=key,
            revision=self._revision,
            before=codec.copy_stored(before),
            after=None,
            orphaned=orphan,
        )
        self._notify(change)
        return codec.copy_stored(before)

    async def orphans(self) -> frozenset[ResourceKey]:
        self._check_open()
        return frozenset(self._orphans)

    async def forget_orphans(self, keys: Iterable[ResourceKey]) -> None:
        self._check_open()
        for key in keys:
            self._orphans.pop(key, None)

    async def revision(self) -> int:
        self._check_open()
        return self._revision

    def add_listener(self, listener: Callable[[ObjectChange], None]) -> None:
        self._listeners.append(listener)

    # -- clusters ----------------------------------------------------------------------------

    async def get_cluster(self, name: str) -> ClusterRecord | None:
        self._check_open()
        record = self._clusters.get(name)
        return None if record is None else codec.copy_cluster(record)

    async def list_clusters(self) -> list[ClusterRecord]:
        self._check_open()
        return [codec.copy_cluster(self._clusters[name]) for name in sorted(self._clusters)]

    async def create_cluster(self, record: ClusterRecord) -> ClusterRecord:
        self._check_open()
        if record.name in self._clusters:
            raise Conflict(f"cluster {record.name!r} already exists; pick another name")
        self._clusters[record.name] = codec.copy_cluster(record)
        return codec.copy_cluster(record)

    async def update_cluster(self, record: ClusterRecord) -> ClusterRecord:
        self._check_open()
        if record.name not in self._clusters:
            raise NotFound(f"cluster {record.name!r} does not exist; create it first")
        self._clusters[record.name] = codec.copy_cluster(record)
        return codec.copy_cluster(record)

    async def delete_cluster(self, name: str) -> ClusterRecord:
        self._check_open()
        record = self._clusters.pop(name, None)
        if record is None:
            raise NotFound(f"cluster {name!r} does not exist")
        now = self._clock()
        for serial in record.cert_serials:
            self._revoked.setdefault(serial, (f"cluster {name} removed", now))
        for state_key in [k for k in self._states if k[0] == name]:
            del self._states[state_key]
        return record

    # -- revocation --------------------------------------------------------------------------

    async def revoke_serials(self, serials: Sequence[str], *, reason: str) -> None:
        self._check_open()
        now = self._clock()
        for serial in serials:
            self._revoked.setdefault(serial, (reason, now))

    async def revoked_serials(self) -> frozenset[str]:
        self._check_open()
        return frozenset(self._revoked)

    # -- bootstrap tokens --------------------------------------------------------------------

    async def create_token(self, token: BootstrapToken) -> None:
        self._check_open()
        if token.token_id in self._tokens:
            raise Conflict(f"token id {token.token_id!r} exists; make a new token")
        self._tokens[token.token_id] = token

    async def use_token(
        self, token_id: str, secret_hash: str, *, cluster: str, now: dt.datetime
    ) -> TokenUse:
        self._check_open()
        token = self._tokens.get(token_id)
        verdict = codec.judge_token(token, secret_hash, now=now)
        if verdict is TokenUse.ACCEPTED and token is not None:
            self._tokens[token_id] = dataclasses.replace(token, used_at=now, used_by=cluster)
        return verdict

    async def list_tokens(self) -> list[BootstrapToken]:
        self._check_open()
        return [self._tokens[token_id] for token_id in sorted(self._tokens)]

    # -- per-cluster object state ------------------------------------------------------------

    async def put_object_states(self, states: Sequence[ClusterObjectState]) -> None:
        self._check_open()
        for state in states:
            status = (
                None
                if state.status is None
                else codec.plain_json(
                    state.status, where=f"status of {state.key} in {state.cluster}"
                )
            )
            self._states[(state.cluster, state.key)] = dataclasses.replace(state, status=status)

    async def object_states(
        self, *, key: ResourceKey | None = None, cluster: str | None = None
    ) -> list[ClusterObjectState]:
        self._check_open()
        chosen = [
            codec.copy_state(state)
            for (state_cluster, state_key), state in self._states.items()
            if (key is None or state_key == key) and (cluster is None or state_cluster == cluster)
        ]
        return sorted(chosen, key=codec.state_order)

    async def delete_object_states(self, *, key: ResourceKey) -> None:
        self._check_open()
        for state_key in [k for k in self._states if k[1] == key]:
            del self._states[state_key]

    # -- federated events --------------------------------------------------------------------

    async def add_events(self, events: Sequence[NewEvent]) -> None:
        self._check_open()
        self._events.add(events)

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
        self._check_open()
        return self._events.list(
            key=key, cluster=cluster, namespace=namespace, kind=kind, name=name, limit=limit
        )

    async def close(self) -> None:
        self._closed = True

    # -- internals ---------------------------------------------------------------------------

    def _check_open(self) -> None:
        if self._closed:
            raise StoreError("the store is closed; open a new one")

    def _current(self, key: ResourceKey, expected_revision: int | None) -> StoredObject:
        return codec.require_current(key, self._objects.get(key), expected_revision)

    def _write(
        self, key: ResourceKey, manifest: Manifest, *, before: StoredObject | None
    ) -> StoredObject:
        revision = self._revision + 1
        stored = StoredObject(
            key=key, manifest=codec.stamp(key, manifest, revision), revision=revision
        )
        self._revision = revision
        self._objects[key] = stored
        self._notify(
            ObjectChange(
                key=key,
                revision=revision,
                before=None if before is None else codec.copy_stored(before),
                after=codec.copy_stored(stored),
            )
        )
        return codec.copy_stored(stored)

    def _notify(self, change: ObjectChange) -> None:
        for listener in list(self._listeners):
            try:
                listener(change)
            except Exception:
                # The change is committed whatever a listener does; one failing listener must not
                # starve the others nor make the write look failed. Only the key is logged.
                _log.exception(
                    "store listener failed on %s (revision %d)", change.key, change.revision
                )
