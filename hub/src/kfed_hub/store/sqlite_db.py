"""SqliteDatabase: the SQLite store's synchronous core, one connection on one thread.

Layer: ``kfed_hub.store``, below :mod:`.sqlite` (the async shell that owns the worker thread and
the listeners). It holds the federated objects and their orphan tombstones itself, and the other
tables through :attr:`records` (:mod:`.sqlite_records`) and :attr:`events`
(:mod:`.sqlite_events`) on the same connection. Every public method is one transaction; writes
return the committed :class:`ObjectChange` for the shell to announce. A Secret's ``data``,
``stringData`` and kubectl's last-applied annotation never reach the database in clear: they
leave the stored body and are sealed with :class:`~.sealing.SecretSealer`, bound to the
object's key, the sealing key's id beside them; reads open them transparently.

Thread-safety: none. Only the thread that called :func:`connect` may use the object (sqlite3's
``check_same_thread`` enforces it). It must not log: rows may hold secrets.
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from kfed_core.keys import ResourceKey
from kfed_hub.store import codec
from kfed_hub.store import sqlite_schema as schema
from kfed_hub.store.protocol import Conflict, Manifest, ObjectChange, StoredObject, StoreError
from kfed_hub.store.sealing import Sealed, SecretSealer
from kfed_hub.store.sqlite_events import SqliteEvents
from kfed_hub.store.sqlite_records import KEY_WHERE as _KEY_WHERE
from kfed_hub.store.sqlite_records import SqliteRecords


class SqliteDatabase:
    """The store's tables on one connection; see the module docstring."""

    def __init__(
        self, conn: sqlite3.Connection, *, sealer: SecretSealer, max_events: int = 10_000
    ) -> None:
        self._conn, self._sealer = conn, sealer
        self.records = SqliteRecords(conn)
        self.events = SqliteEvents(conn, max_events=max_events)

    @classmethod
    def connect(
        cls, path: Path, *, sealer: SecretSealer, max_events: int = 10_000
    ) -> SqliteDatabase:
        """Open (creating or migrating) the database file at ``path``."""
        path.parent.mkdir(parents=True, exist_ok=True)
        # Token hashes and cluster details are nobody else's business: owner-only, like the key
        # file. SQLite gives the -wal and -shm files the main file's mode.
        os.close(os.open(path, os.O_RDWR | os.O_CREAT, 0o600))
        conn = sqlite3.connect(path, isolation_level=None)  # we frame transactions ourselves
        try:
            mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
            if mode != "wal":
                raise StoreError(f"{path} cannot use WAL journaling ({mode!r}); use a local disk")
            # In WAL mode NORMAL syncs the WAL at checkpoints, not at each commit. A committed
            # transaction is in the OS's page cache when COMMIT returns, so it survives the process
            # being killed (SIGKILL, OOM); only a power loss or kernel crash may lose the newest.
            conn.execute("PRAGMA synchronous = NORMAL")
            conn.execute("PRAGMA busy_timeout = 5000")
            schema.migrate(conn, where=str(path))
        except BaseException:
            conn.close()
            raise
        return cls(conn, sealer=sealer, max_events=max_events)

    def close(self) -> None:
        self._conn.close()

    # -- federated objects -------------------------------------------------------------------

    def revision(self) -> int:
        row = self._conn.execute("SELECT value FROM counters WHERE name = 'revision'").fetchone()
        return int(row[0])

    def get_object(self, key: ResourceKey) -> StoredObject | None:
        row = self._conn.execute(
            f"SELECT {schema.OBJECT_COLUMNS} FROM objects WHERE {_KEY_WHERE}",
            schema.key_params(key),
        ).fetchone()
        return None if row is None else self._object_of(row)

    def list_objects(
        self, group: str | None, kind: str | None, namespace: str | None
    ) -> list[StoredObject]:
        filters = (("grp", group), ("kind", kind), ("namespace", namespace))
        chosen = [(column, value) for column, value in filters if value is not None]
        where = " AND ".join(f"{column} = ?" for column, _ in chosen) or "1"
        rows = self._conn.execute(
            f"SELECT {schema.OBJECT_COLUMNS} FROM objects WHERE {where} "
            "ORDER BY grp, kind, namespace, name",
            [value for _, value in chosen],
        )
        return [self._object_of(row) for row in rows]

    def create_object(self, key: ResourceKey, manifest: Manifest) -> ObjectChange:
        with schema.transaction(self._conn):
            if self.get_object(key) is not None:
                raise Conflict(f"{key} already exists; update it instead, or delete it first")
            # Created again: kfed manages it again, so no member may release it any more.
            self._conn.execute(f"DELETE FROM orphans WHERE {_KEY_WHERE}", schema.key_params(key))
            return self._put(key, manifest, before=None)

    def update_object(
        self, key: ResourceKey, manifest: Manifest, expected_revision: int | None
    ) -> ObjectChange:
        with schema.transaction(self._conn):
            return self._put(key, manifest, before=self._current(key, expected_revision))

    def delete_object(
        self, key: ResourceKey, expected_revision: int | None, orphan: bool = False
    ) -> ObjectChange:
        with schema.transaction(self._conn):
            before = self._current(key, expected_revision)
            revision = self._next_revision()
            self._conn.execute(f"DELETE FROM objects WHERE {_KEY_WHERE}", schema.key_params(key))
            if orphan:
                self._conn.execute(
                    "INSERT OR REPLACE INTO orphans (grp, kind, namespace, name, revision) "
                    "VALUES (?, ?, ?, ?, ?)",
                    (*schema.key_params(key), revision),
                )
        return ObjectChange(key=key, revision=revision, before=before, after=None, orphaned=orphan)

    def orphans(self) -> frozenset[ResourceKey]:
        rows = self._conn.execute("SELECT grp, kind, namespace, name FROM orphans")
        return frozenset(schema.key_of(row) for row in rows)

    def forget_orphans(self, keys: Iterable[ResourceKey]) -> None:
        with schema.transaction(self._conn):
            self._conn.executemany(
                f"DELETE FROM orphans WHERE {_KEY_WHERE}", [schema.key_params(k) for k in keys]
            )

    def reseal_all(self) -> int:
        active = self._sealer.active_key_id
        with schema.transaction(self._conn):
            rows = self._conn.execute(
                f"SELECT {schema.OBJECT_COLUMNS} FROM objects "
                "WHERE sealed_key_id IS NOT NULL AND sealed_key_id != ?",
                (active,),
            ).fetchall()
            for row in rows:
                key = schema.key_of(row)
                old = Sealed(key_id=row[6], nonce=row[7], ciphertext=row[8])
                new = self._sealer.seal(self._sealer.unseal(old, aad=_aad(key)), aad=_aad(key))
                self._conn.execute(
                    "UPDATE objects SET sealed_key_id = ?, sealed_nonce = ?, sealed_value = ? "
                    f"WHERE {_KEY_WHERE}",
                    (new.key_id, new.nonce, new.ciphertext, *schema.key_params(key)),
                )
        return len(rows)

    # -- internals ---------------------------------------------------------------------------

    def _next_revision(self) -> int:
        row = self._conn.execute(
            "UPDATE counters SET value = value + 1 WHERE name = 'revision' RETURNING value"
        ).fetchone()
        return int(row[0])

    def _current(self, key: ResourceKey, expected_revision: int | None) -> StoredObject:
        return codec.require_current(key, self.get_object(key), expected_revision)

    def _put(
        self, key: ResourceKey, manifest: Manifest, *, before: StoredObject | None
    ) -> ObjectChange:
        """Write inside the caller's transaction (rolled back if the manifest is refused)."""
        revision = self._next_revision()
        stamped = codec.stamp(key, manifest, revision)
        body, sealed = stamped, None
        if codec.is_secret(key):
            body, sensitive = codec.split_secret(stamped)
            if sensitive is not None:
                sealed = self._sealer.seal(codec.dump_json(sensitive).encode(), aad=_aad(key))
        self._conn.execute(
            f"INSERT OR REPLACE INTO objects ({schema.OBJECT_COLUMNS}) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                *schema.key_params(key),
                revision,
                codec.dump_json(body),
                None if sealed is None else sealed.key_id,
                None if sealed is None else sealed.nonce,
                None if sealed is None else sealed.ciphertext,
            ),
        )
        after = StoredObject(key=key, manifest=stamped, revision=revision)
        return ObjectChange(key=key, revision=revision, before=before, after=after)

    def _object_of(self, row: tuple[Any, ...]) -> StoredObject:
        key = schema.key_of(row)
        manifest = json.loads(row[5])
        if row[6] is not None:
            sealed = Sealed(key_id=row[6], nonce=row[7], ciphertext=row[8])
            sensitive = json.loads(self._sealer.unseal(sealed, aad=_aad(key)))
            manifest = codec.join_secret(manifest, sensitive)
        return StoredObject(key=key, manifest=manifest, revision=int(row[4]))


def _aad(key: ResourceKey) -> bytes:
    """What a sealed value is bound to: its object's key (a value moved elsewhere won't open)."""
    return f"kfed-object:{key}".encode()
