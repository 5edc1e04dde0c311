"""SqliteDatabase: the SQLite store's synchronous core, one connection on one thread.

Layer: ``kfed_hub.store``, below :mod:`.sqlite` (the async shell that owns the worker thread and
the listeners). Every public method is one transaction; writes return the committed
:class:`ObjectChange` for the shell to announce. A Secret's ``data``, ``stringData`` and kubectl's
last-applied annotation never reach the database in clear: they leave the stored body and are
sealed with :class:`~.sealing.SecretSealer`, bound to the object's key, the sealing key's id beside
them; reads open them transparently.

Thread-safety: none. Only the thread that called :func:`connect` may use the object (sqlite3's
``check_same_thread`` enforces it). It must not log: rows may hold secrets.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from kfed_core.keys import ResourceKey
from kfed_hub.store import codec
from kfed_hub.store import sqlite_schema as schema
from kfed_hub.store.protocol import (
    BootstrapToken,
    ClusterObjectState,
    ClusterRecord,
    Conflict,
    Manifest,
    NotFound,
    ObjectChange,
    StoredObject,
    StoreError,
    TokenUse,
)
from kfed_hub.store.sealing import Sealed, SecretSealer

_KEY_WHERE = "grp = ? AND kind = ? AND namespace = ? AND name = ?"


class SqliteDatabase:
    """The store's tables on one connection; see the module docstring."""

    def __init__(self, conn: sqlite3.Connection, *, sealer: SecretSealer) -> None:
        self._conn, self._sealer = conn, sealer

    @classmethod
    def connect(cls, path: Path, *, sealer: SecretSealer) -> SqliteDatabase:
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
        return cls(conn, sealer=sealer)

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
        with self._transaction():
            if self.get_object(key) is not None:
                raise Conflict(f"{key} already exists; update it instead, or delete it first")
            return self._put(key, manifest, before=None)

    def update_object(
        self, key: ResourceKey, manifest: Manifest, expected_revision: int | None
    ) -> ObjectChange:
        with self._transaction():
            return self._put(key, manifest, before=self._current(key, expected_revision))

    def delete_object(self, key: ResourceKey, expected_revision: int | None) -> ObjectChange:
        with self._transaction():
            before = self._current(key, expected_revision)
            revision = self._next_revision()
            self._conn.execute(f"DELETE FROM objects WHERE {_KEY_WHERE}", schema.key_params(key))
        return ObjectChange(key=key, revision=revision, before=before, after=None)

    def reseal_all(self) -> int:
        active = self._sealer.active_key_id
        with self._transaction():
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

    # -- clusters and revocation -------------------------------------------------------------

    def get_cluster(self, name: str) -> ClusterRecord | None:
        row = self._conn.execute(
            f"SELECT {schema.CLUSTER_COLUMNS} FROM clusters WHERE name = ?", (name,)
        ).fetchone()
        return None if row is None else schema.cluster_of(row)

    def list_clusters(self) -> list[ClusterRecord]:
        rows = self._conn.execute(f"SELECT {schema.CLUSTER_COLUMNS} FROM clusters ORDER BY name")
        return [schema.cluster_of(row) for row in rows]

    def create_cluster(self, record: ClusterRecord) -> ClusterRecord:
        row = schema.cluster_row(record)
        with self._transaction():
            if self.get_cluster(record.name) is not None:
                raise Conflict(f"cluster {record.name!r} already exists; pick another name")
            self._conn.execute(
                f"INSERT INTO clusters ({schema.CLUSTER_COLUMNS}) VALUES (?, ?, ?, ?, ?)", row
            )
        return schema.cluster_of(row)

    def update_cluster(self, record: ClusterRecord) -> ClusterRecord:
        row = schema.cluster_row(record)
        with self._transaction():
            cursor = self._conn.execute(
                "UPDATE clusters SET joined_at = ?, labels = ?, cert_serials = ?, info = ? "
                "WHERE name = ?",
                (*row[1:], record.name),
            )
            if cursor.rowcount == 0:
                raise NotFound(f"cluster {record.name!r} does not exist; create it first")
        return schema.cluster_of(row)

    def delete_cluster(self, name: str, now: dt.datetime) -> ClusterRecord:
        with self._transaction():
            record = self.get_cluster(name)
            if record is None:
                raise NotFound(f"cluster {name!r} does not exist")
            self._revoke(record.cert_serials, reason=f"cluster {name} removed", now=now)
            self._conn.execute("DELETE FROM object_states WHERE cluster = ?", (name,))
            self._conn.execute("DELETE FROM clusters WHERE name = ?", (name,))
        return record

    def revoke_serials(self, serials: Sequence[str], reason: str, now: dt.datetime) -> None:
        with self._transaction():
            self._revoke(serials, reason=reason, now=now)

    def revoked_serials(self) -> frozenset[str]:
        return frozenset(r[0] for r in self._conn.execute("SELECT serial FROM revoked_serials"))

    # -- bootstrap tokens --------------------------------------------------------------------

    def create_token(self, token: BootstrapToken) -> None:
        with self._transaction():
            try:
                self._conn.execute(
                    f"INSERT INTO tokens ({schema.TOKEN_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    schema.token_row(token),
                )
            except sqlite3.IntegrityError:
                raise Conflict(f"token id {token.token_id!r} exists; make a new token") from None

    def use_token(
        self, token_id: str, secret_hash: str, cluster: str, now: dt.datetime
    ) -> TokenUse:
        with self._transaction():
            row = self._conn.execute(
                f"SELECT {schema.TOKEN_COLUMNS} FROM tokens WHERE token_id = ?", (token_id,)
            ).fetchone()
            token = None if row is None else schema.token_of(row)
            verdict = codec.judge_token(token, secret_hash, now=now)
            if verdict is TokenUse.ACCEPTED:
                self._conn.execute(
                    "UPDATE tokens SET used_at = ?, used_by = ? WHERE token_id = ?",
                    (now.isoformat(), cluster, token_id),
                )
        return verdict

    def list_tokens(self) -> list[BootstrapToken]:
        rows = self._conn.execute(f"SELECT {schema.TOKEN_COLUMNS} FROM tokens ORDER BY token_id")
        return [schema.token_of(row) for row in rows]

    # -- per-cluster object state ------------------------------------------------------------

    def put_object_states(self, states: Sequence[ClusterObjectState]) -> None:
        rows = [schema.state_row(state) for state in states]
        with self._transaction():
            self._conn.executemany(
                f"INSERT OR REPLACE INTO object_states ({schema.STATE_COLUMNS}) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                rows,
            )

    def object_states(
        self, key: ResourceKey | None, cluster: str | None
    ) -> list[ClusterObjectState]:
        where, params = ["1"], list[str]()
        if key is not None:
            where.append(_KEY_WHERE)
            params.extend(schema.key_params(key))
        if cluster is not None:
            where.append("cluster = ?")
            params.append(cluster)
        rows = self._conn.execute(
            f"SELECT {schema.STATE_COLUMNS} FROM object_states WHERE {' AND '.join(where)} "
            "ORDER BY cluster, grp, kind, namespace, name",
            params,
        )
        return [schema.state_of(row) for row in rows]

    def delete_object_states(self, key: ResourceKey) -> None:
        with self._transaction():
            self._conn.execute(
                f"DELETE FROM object_states WHERE {_KEY_WHERE}", schema.key_params(key)
            )

    # -- internals ---------------------------------------------------------------------------

    @contextmanager
    def _transaction(self) -> Iterator[None]:
        # IMMEDIATE takes the write lock up front, so a read-then-write never fails half-way on a
        # lock another process holds (a second hub on the same file, a backup tool).
        self._conn.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self._conn.execute("ROLLBACK")
            raise
        self._conn.execute("COMMIT")

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

    def _revoke(self, serials: Sequence[str], *, reason: str, now: dt.datetime) -> None:
        self._conn.executemany(
            "INSERT OR IGNORE INTO revoked_serials (serial, reason, revoked_at) VALUES (?, ?, ?)",
            [(serial, reason, now.isoformat()) for serial in serials],
        )


def _aad(key: ResourceKey) -> bytes:
    """What a sealed value is bound to: its object's key (a value moved elsewhere won't open)."""
    return f"kfed-object:{key}".encode()
