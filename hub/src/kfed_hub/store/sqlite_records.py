"""SqliteRecords: the SQLite store's clusters, revoked serials, bootstrap tokens and per-cluster
object states.

Layer: ``kfed_hub.store``, below :mod:`.sqlite` (beside :mod:`.sqlite_db`, which owns the
connection and the federated objects). Every public method is one transaction on the shared
connection. Nothing here is sealed: these rows hold no Secret data, but token hashes and cluster
details are still nobody's business, so it must not log.

Thread-safety: none; only the store's worker thread calls it (see :mod:`.sqlite_db`).
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Sequence

from kfed_core.keys import ResourceKey
from kfed_hub.store import codec
from kfed_hub.store import sqlite_schema as schema
from kfed_hub.store.protocol import (
    BootstrapToken,
    ClusterObjectState,
    ClusterRecord,
    Conflict,
    NotFound,
    TokenUse,
)

KEY_WHERE = "grp = ? AND kind = ? AND namespace = ? AND name = ?"


class SqliteRecords:
    """Clusters, revocations, tokens and object states on one connection."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

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
        with schema.transaction(self._conn):
            if self.get_cluster(record.name) is not None:
                raise Conflict(f"cluster {record.name!r} already exists; pick another name")
            self._conn.execute(
                f"INSERT INTO clusters ({schema.CLUSTER_COLUMNS}) VALUES (?, ?, ?, ?, ?)", row
            )
        return schema.cluster_of(row)

    def update_cluster(self, record: ClusterRecord) -> ClusterRecord:
        row = schema.cluster_row(record)
        with schema.transaction(self._conn):
            cursor = self._conn.execute(
                "UPDATE clusters SET joined_at = ?, labels = ?, cert_serials = ?, info = ? "
                "WHERE name = ?",
                (*row[1:], record.name),
            )
            if cursor.rowcount == 0:
                raise NotFound(f"cluster {record.name!r} does not exist; create it first")
        return schema.cluster_of(row)

    def delete_cluster(self, name: str, now: dt.datetime) -> ClusterRecord:
        with schema.transaction(self._conn):
            record = self.get_cluster(name)
            if record is None:
                raise NotFound(f"cluster {name!r} does not exist")
            self._revoke(record.cert_serials, reason=f"cluster {name} removed", now=now)
            self._conn.execute("DELETE FROM object_states WHERE cluster = ?", (name,))
            self._conn.execute("DELETE FROM clusters WHERE name = ?", (name,))
        return record

    def revoke_serials(self, serials: Sequence[str], reason: str, now: dt.datetime) -> None:
        with schema.transaction(self._conn):
            self._revoke(serials, reason=reason, now=now)

    def revoked_serials(self) -> frozenset[str]:
        return frozenset(r[0] for r in self._conn.execute("SELECT serial FROM revoked_serials"))

    def _revoke(self, serials: Sequence[str], *, reason: str, now: dt.datetime) -> None:
        self._conn.executemany(
            "INSERT OR IGNORE INTO revoked_serials (serial, reason, revoked_at) VALUES (?, ?, ?)",
            [(serial, reason, now.isoformat()) for serial in serials],
        )

    # -- bootstrap tokens --------------------------------------------------------------------

    def create_token(self, token: BootstrapToken) -> None:
        with schema.transaction(self._conn):
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
        with schema.transaction(self._conn):
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
        with schema.transaction(self._conn):
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
            where.append(KEY_WHERE)
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
        with schema.transaction(self._conn):
            self._conn.execute(
                f"DELETE FROM object_states WHERE {KEY_WHERE}", schema.key_params(key)
            )
