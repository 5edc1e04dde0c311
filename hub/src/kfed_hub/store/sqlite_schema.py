"""The SQLite store's schema, its migrations, and the mapping between rows and store values.

Layer: ``kfed_hub.store``, below :mod:`.sqlite`. :func:`migrate` and :func:`transaction` are
the only functions that touch a connection; the rest is pure conversion. It never decrypts:
sealed columns are opaque here. Add a migration by appending a script to ``_MIGRATIONS``; never
edit a released one.

Datetimes are stored as ISO 8601 text (offset included, so aware values read back equal), event
times as integer microseconds since the epoch (so SQL orders them); mappings as compact JSON.
The API group column is ``grp`` because ``group`` is an SQL word.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from kfed_core.keys import ResourceKey
from kfed_hub.store import codec
from kfed_hub.store.protocol import (
    BootstrapToken,
    ClusterObjectState,
    ClusterRecord,
    FederatedEvent,
    StoreError,
)

_MIGRATIONS: tuple[str, ...] = (
    # 1: the first schema.
    """
    CREATE TABLE counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;
    INSERT INTO counters (name, value) VALUES ('revision', 0);
    CREATE TABLE objects (
        grp TEXT NOT NULL, kind TEXT NOT NULL, namespace TEXT NOT NULL, name TEXT NOT NULL,
        revision INTEGER NOT NULL,
        body TEXT NOT NULL,          -- the manifest as JSON, without a Secret's sealed parts
        sealed_key_id TEXT,          -- for a Secret with data: the sealing key's id ...
        sealed_nonce BLOB,           -- ... the AES-GCM nonce ...
        sealed_value BLOB,           -- ... and the encrypted JSON of the parts taken out
        PRIMARY KEY (grp, kind, namespace, name)
    ) WITHOUT ROWID;
    CREATE INDEX objects_by_sealing_key ON objects (sealed_key_id) WHERE sealed_key_id IS NOT NULL;
    CREATE TABLE clusters (
        name TEXT PRIMARY KEY, joined_at TEXT NOT NULL,
        labels TEXT NOT NULL, cert_serials TEXT NOT NULL, info TEXT NOT NULL
    ) WITHOUT ROWID;
    CREATE TABLE revoked_serials (
        serial TEXT PRIMARY KEY, reason TEXT NOT NULL, revoked_at TEXT NOT NULL
    ) WITHOUT ROWID;
    CREATE TABLE tokens (
        token_id TEXT PRIMARY KEY, secret_hash TEXT NOT NULL,
        created_at TEXT NOT NULL, expires_at TEXT NOT NULL, description TEXT NOT NULL,
        used_at TEXT, used_by TEXT NOT NULL
    ) WITHOUT ROWID;
    CREATE TABLE object_states (
        cluster TEXT NOT NULL,
        grp TEXT NOT NULL, kind TEXT NOT NULL, namespace TEXT NOT NULL, name TEXT NOT NULL,
        version TEXT NOT NULL, outcome TEXT NOT NULL, reason TEXT NOT NULL, message TEXT NOT NULL,
        status TEXT, absent INTEGER NOT NULL, updated_at TEXT,
        PRIMARY KEY (cluster, grp, kind, namespace, name)
    ) WITHOUT ROWID;
    CREATE INDEX object_states_by_key ON object_states (grp, kind, namespace, name);
    """,
    # 2: federated events (issue 4) and the tombstones of orphaning deletes.
    """
    CREATE TABLE events (
        id INTEGER PRIMARY KEY AUTOINCREMENT,   -- never reused, so ids only grow
        grp TEXT NOT NULL, kind TEXT NOT NULL,  -- all four '' for an event about a cluster
        namespace TEXT NOT NULL, name TEXT NOT NULL,
        cluster TEXT NOT NULL, type TEXT NOT NULL, reason TEXT NOT NULL, message TEXT NOT NULL,
        count INTEGER NOT NULL,
        first_us INTEGER NOT NULL, last_us INTEGER NOT NULL  -- microseconds since the epoch, UTC
    );
    CREATE UNIQUE INDEX events_by_identity
        ON events (grp, kind, namespace, name, cluster, type, reason, message);
    CREATE INDEX events_by_age ON events (last_us, id);
    CREATE INDEX events_by_cluster ON events (cluster);
    CREATE TABLE orphans (
        grp TEXT NOT NULL, kind TEXT NOT NULL, namespace TEXT NOT NULL, name TEXT NOT NULL,
        revision INTEGER NOT NULL,              -- the revision of the orphaning delete
        PRIMARY KEY (grp, kind, namespace, name)
    ) WITHOUT ROWID;
    """,
)

SCHEMA_VERSION = len(_MIGRATIONS)

OBJECT_COLUMNS = (
    "grp, kind, namespace, name, revision, body, sealed_key_id, sealed_nonce, sealed_value"
)
CLUSTER_COLUMNS = "name, joined_at, labels, cert_serials, info"
TOKEN_COLUMNS = "token_id, secret_hash, created_at, expires_at, description, used_at, used_by"
EVENT_COLUMNS = (
    "id, grp, kind, namespace, name, cluster, type, reason, message, count, first_us, last_us"
)
STATE_COLUMNS = (
    "cluster, grp, kind, namespace, name, version, outcome, reason, message, status, absent, "
    "updated_at"
)


def migrate(conn: sqlite3.Connection, *, where: str) -> None:
    """Bring the database to :data:`SCHEMA_VERSION`, each step in its own transaction."""
    conn.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
    row = conn.execute("SELECT max(version) FROM schema_version").fetchone()
    current = int(row[0] or 0)
    if current > SCHEMA_VERSION:
        raise StoreError(
            f"the database {where} has schema version {current}, newer than this kfed knows "
            f"({SCHEMA_VERSION}); run a newer kfed, or restore a backup"
        )
    for version in range(current + 1, SCHEMA_VERSION + 1):
        script = _MIGRATIONS[version - 1]
        try:
            # executescript runs outside Python's transaction handling: frame it ourselves, so a
            # failed step leaves the previous version intact.
            conn.executescript(
                f"BEGIN IMMEDIATE;\n{script}\n"
                f"INSERT INTO schema_version (version) VALUES ({version});\nCOMMIT;"
            )
        except sqlite3.Error as e:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise StoreError(f"migrating {where} to schema version {version} failed: {e}") from e


@contextmanager
def transaction(conn: sqlite3.Connection) -> Iterator[None]:
    """One write transaction: committed when the block ends, rolled back if it raises."""
    # IMMEDIATE takes the write lock up front, so a read-then-write never fails half-way on a
    # lock another process holds (a second hub on the same file, a backup tool).
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


def key_params(key: ResourceKey) -> tuple[str, str, str, str]:
    return (key.group, key.kind, key.namespace, key.name)


def key_of(row: tuple[Any, ...] | sqlite3.Row, start: int = 0) -> ResourceKey:
    return ResourceKey(
        group=row[start], kind=row[start + 1], namespace=row[start + 2], name=row[start + 3]
    )


def _time(value: dt.datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def _parse_time(text: str | None) -> dt.datetime | None:
    return None if text is None else dt.datetime.fromisoformat(text)


def cluster_row(record: ClusterRecord) -> tuple[Any, ...]:
    return (
        record.name,
        _time(record.joined_at),
        codec.dump_json(codec.plain_json(dict(record.labels), where=f"labels of {record.name}")),
        codec.dump_json(list(record.cert_serials)),
        codec.dump_json(codec.plain_json(record.info, where=f"info of cluster {record.name}")),
    )


def cluster_of(row: tuple[Any, ...]) -> ClusterRecord:
    joined_at = _parse_time(row[1])
    assert joined_at is not None  # NOT NULL column
    return ClusterRecord(
        name=row[0],
        joined_at=joined_at,
        labels=json.loads(row[2]),
        cert_serials=tuple(json.loads(row[3])),
        info=json.loads(row[4]),
    )


def token_row(token: BootstrapToken) -> tuple[Any, ...]:
    return (
        token.token_id,
        token.secret_hash,
        _time(token.created_at),
        _time(token.expires_at),
        token.description,
        _time(token.used_at),
        token.used_by,
    )


def token_of(row: tuple[Any, ...]) -> BootstrapToken:
    created_at, expires_at = _parse_time(row[2]), _parse_time(row[3])
    assert created_at is not None and expires_at is not None  # NOT NULL columns
    return BootstrapToken(
        token_id=row[0],
        secret_hash=row[1],
        created_at=created_at,
        expires_at=expires_at,
        description=row[4],
        used_at=_parse_time(row[5]),
        used_by=row[6],
    )


def state_row(state: ClusterObjectState) -> tuple[Any, ...]:
    status = None
    if state.status is not None:
        where = f"status of {state.key} in {state.cluster}"
        status = codec.dump_json(codec.plain_json(state.status, where=where))
    return (
        state.cluster,
        *key_params(state.key),
        state.version,
        state.outcome,
        state.reason,
        state.message,
        status,
        int(state.absent),
        _time(state.updated_at),
    )


def state_of(row: tuple[Any, ...]) -> ClusterObjectState:
    return ClusterObjectState(
        cluster=row[0],
        key=key_of(row, 1),
        version=row[5],
        outcome=row[6],
        reason=row[7],
        message=row[8],
        status=None if row[9] is None else json.loads(row[9]),
        absent=bool(row[10]),
        updated_at=_parse_time(row[11]),
    )


def event_of(row: tuple[Any, ...]) -> FederatedEvent:
    return FederatedEvent(
        id=int(row[0]),
        key=codec.key_of_columns(row[1], row[2], row[3], row[4]),
        cluster=row[5],
        type=row[6],
        reason=row[7],
        message=row[8],
        count=int(row[9]),
        first_time=codec.from_micros(int(row[10])),
        last_time=codec.from_micros(int(row[11])),
    )
