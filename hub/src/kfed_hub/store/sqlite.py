"""SqliteStore: the hub's embedded, crash-safe implementation of the Store Protocol.

Layer: ``kfed_hub.store``. The async shell around :class:`~.sqlite_db.SqliteDatabase` (stdlib
``sqlite3``, WAL, one transaction per write, Secret data sealed at rest). It owns the worker thread
and the listeners; it must not block the event loop and must not log manifests.

Concurrency: the one connection lives on one dedicated worker thread, so every call is a job in a
single-threaded executor and writes run in submission order. Listeners are scheduled onto the
event loop from inside the job right after COMMIT (``call_soon_threadsafe`` keeps FIFO order), so
they run in commit order, and before the writer's coroutine resumes.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import logging
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

from kfed_core.keys import ResourceKey
from kfed_hub.store import codec
from kfed_hub.store.protocol import (
    BootstrapToken,
    ClusterObjectState,
    ClusterRecord,
    FederatedEvent,
    Manifest,
    NewEvent,
    ObjectChange,
    StoredObject,
    StoreError,
    TokenUse,
)
from kfed_hub.store.sealing import SecretSealer
from kfed_hub.store.sqlite_db import SqliteDatabase

_log = logging.getLogger(__name__)
_T = TypeVar("_T")


def _utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class SqliteStore:
    """The Store on one SQLite file; open it with :meth:`open`."""

    def __init__(
        self, db: SqliteDatabase, executor: ThreadPoolExecutor, *, path: Path, clock: codec.Clock
    ) -> None:
        self._db, self._executor, self._path, self._clock = db, executor, path, clock
        self._loop = asyncio.get_running_loop()
        self._listeners: list[Callable[[ObjectChange], None]] = []
        self._closed = False

    @classmethod
    async def open(
        cls,
        path: Path | str,
        *,
        sealer: SecretSealer,
        clock: codec.Clock = _utc_now,
        max_events: int = 10_000,
    ) -> SqliteStore:
        """Open (creating or migrating) the database at ``path``; Secret data is sealed with
        ``sealer``, whose key file must hold every key id in the database. At most
        ``max_events`` federated events are kept."""
        path = Path(path)
        executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="kfed-store")
        try:
            db = await asyncio.get_running_loop().run_in_executor(
                executor,
                lambda: SqliteDatabase.connect(path, sealer=sealer, max_events=max_events),
            )
        except BaseException:
            executor.shutdown(wait=True)
            raise
        return cls(db, executor, path=path, clock=clock)

    @property
    def path(self) -> Path:
        return self._path

    # -- federated objects -------------------------------------------------------------------

    async def get_object(self, key: ResourceKey) -> StoredObject | None:
        return await self._run(self._db.get_object, key)

    async def list_objects(
        self, *, group: str | None = None, kind: str | None = None, namespace: str | None = None
    ) -> list[StoredObject]:
        return await self._run(self._db.list_objects, group, kind, namespace)

    async def create_object(self, key: ResourceKey, manifest: Manifest) -> StoredObject:
        return await self._write(self._db.create_object, key, manifest)

    async def update_object(
        self, key: ResourceKey, manifest: Manifest, *, expected_revision: int | None = None
    ) -> StoredObject:
        return await self._write(self._db.update_object, key, manifest, expected_revision)

    async def delete_object(
        self, key: ResourceKey, *, expected_revision: int | None = None, orphan: bool = False
    ) -> StoredObject:
        return await self._write(self._db.delete_object, key, expected_revision, orphan)

    async def orphans(self) -> frozenset[ResourceKey]:
        return await self._run(self._db.orphans)

    async def forget_orphans(self, keys: Iterable[ResourceKey]) -> None:
        await self._run(self._db.forget_orphans, tuple(keys))

    async def revision(self) -> int:
        return await self._run(self._db.revision)

    def add_listener(self, listener: Callable[[ObjectChange], None]) -> None:
        self._listeners.append(listener)

    async def reseal_all(self) -> int:
        """Re-encrypt, in one transaction, every value sealed with a key other than the sealer's
        active one; returns how many. Revisions do not move and listeners are not called: the
        content is unchanged. Afterwards the old keys can be retired
        (:meth:`~.sealing.SecretSealer.retire`)."""
        return await self._run(self._db.reseal_all)

    # -- clusters and revocation -------------------------------------------------------------

    async def get_cluster(self, name: str) -> ClusterRecord | None:
        return await self._run(self._db.records.get_cluster, name)

    async def list_clusters(self) -> list[ClusterRecord]:
        return await self._run(self._db.records.list_clusters)

    async def create_cluster(self, record: ClusterRecord) -> ClusterRecord:
        return await self._run(self._db.records.create_cluster, record)

    async def update_cluster(self, record: ClusterRecord) -> ClusterRecord:
        return await self._run(self._db.records.update_cluster, record)

    async def delete_cluster(self, name: str) -> ClusterRecord:
        return await self._run(self._db.records.delete_cluster, name, self._clock())

    async def revoke_serials(self, serials: Sequence[str], *, reason: str) -> None:
        await self._run(self._db.records.revoke_serials, tuple(serials), reason, self._clock())

    async def revoked_serials(self) -> frozenset[str]:
        return await self._run(self._db.records.revoked_serials)

    # -- bootstrap tokens --------------------------------------------------------------------

    async def create_token(self, token: BootstrapToken) -> None:
        await self._run(self._db.records.create_token, token)

    async def use_token(
        self, token_id: str, secret_hash: str, *, cluster: str, now: dt.datetime
    ) -> TokenUse:
        return await self._run(self._db.records.use_token, token_id, secret_hash, cluster, now)

    async def list_tokens(self) -> list[BootstrapToken]:
        return await self._run(self._db.records.list_tokens)

    # -- per-cluster object state ------------------------------------------------------------

    async def put_object_states(self, states: Sequence[ClusterObjectState]) -> None:
        await self._run(self._db.records.put_object_states, tuple(states))

    async def object_states(
        self, *, key: ResourceKey | None = None, cluster: str | None = None
    ) -> list[ClusterObjectState]:
        return await self._run(self._db.records.object_states, key, cluster)

    async def delete_object_states(self, *, key: ResourceKey) -> None:
        await self._run(self._db.records.delete_object_states, key)

    # -- federated events --------------------------------------------------------------------

    async def add_events(self, events: Sequence[NewEvent]) -> None:
        await self._run(self._db.events.add_events, tuple(events))

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
        return await self._run(
            self._db.events.list_events, key, cluster, namespace, kind, name, limit
        )

    async def close(self) -> None:
        """Close the database after the calls already submitted; later calls fail."""
        if self._closed:
            return
        self._closed = True
        await self._loop.run_in_executor(self._executor, self._db.close)
        self._executor.shutdown(wait=True)  # its queue is empty by now: returns at once

    # -- internals ---------------------------------------------------------------------------

    async def _run(self, fn: Callable[..., _T], *args: Any) -> _T:
        if self._closed:
            raise StoreError(f"the store {self._path} is closed; open it again")
        return await self._loop.run_in_executor(self._executor, fn, *args)

    async def _write(self, fn: Callable[..., ObjectChange], *args: Any) -> StoredObject:
        def job() -> StoredObject:
            change = fn(*args)  # committed when it returns
            self._loop.call_soon_threadsafe(self._notify, change)
            stored = change.after if change.after is not None else change.before
            assert stored is not None  # a change has a before, an after, or both
            # The listeners share ``change``; the writer gets a copy of its own.
            return dataclasses.replace(stored, manifest=codec.copy_manifest(stored.manifest))

        return await self._run(job)

    def _notify(self, change: ObjectChange) -> None:
        for listener in list(self._listeners):
            try:
                listener(change)
            except Exception:
                # Committed is committed: a failing listener must not starve the others. Only the
                # key is logged, never the manifest.
                _log.exception(
                    "store listener failed on %s (revision %d)", change.key, change.revision
                )
