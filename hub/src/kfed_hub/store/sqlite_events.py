"""SqliteEvents: the SQLite store's federated events, aggregated and bounded in one transaction.

Layer: ``kfed_hub.store``, below :mod:`.sqlite`. The same rules as the in-memory
:class:`~.memory_events.EventLog`, written as SQL: an occurrence whose key, cluster, type, reason
and message match an existing event bumps its count and last time (an upsert on the unique
identity index); then every event beyond ``max_events`` is dropped, oldest last time first, in
the same transaction. Event messages are for people and carry no secrets, but this module still
must not log.

Thread-safety: none; only the store's worker thread calls it.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence

from kfed_core.keys import ResourceKey
from kfed_hub.store import codec
from kfed_hub.store import sqlite_schema as schema
from kfed_hub.store.protocol import FederatedEvent, NewEvent

_UPSERT = (
    "INSERT INTO events (grp, kind, namespace, name, cluster, type, reason, message, count, "
    "first_us, last_us) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
    "ON CONFLICT (grp, kind, namespace, name, cluster, type, reason, message) DO UPDATE SET "
    "count = count + excluded.count, first_us = min(first_us, excluded.first_us), "
    "last_us = max(last_us, excluded.last_us)"
)
# Kubernetes files an event about a cluster-scoped object (or none) in the default namespace.
_EVENT_NAMESPACE = "(CASE WHEN namespace = '' THEN 'default' ELSE namespace END)"


class SqliteEvents:
    """The ``events`` table on one connection."""

    def __init__(self, conn: sqlite3.Connection, *, max_events: int) -> None:
        if max_events < 1:
            raise ValueError(f"max_events must be at least 1, not {max_events}")
        self._conn = conn
        self._max = max_events

    def add_events(self, events: Sequence[NewEvent]) -> None:
        for event in events:
            codec.check_event(event)
        rows = [
            (
                *codec.event_identity(event),
                event.count,
                codec.micros(event.first_time or event.time),
                codec.micros(event.time),
            )
            for event in events
        ]
        with schema.transaction(self._conn):
            self._conn.executemany(_UPSERT, rows)
            (total,) = self._conn.execute("SELECT count(*) FROM events").fetchone()
            excess = int(total) - self._max
            if excess > 0:
                self._conn.execute(
                    "DELETE FROM events WHERE id IN "
                    "(SELECT id FROM events ORDER BY last_us, id LIMIT ?)",
                    (excess,),
                )

    def list_events(
        self,
        key: ResourceKey | None,
        cluster: str | None,
        namespace: str | None,
        kind: str | None,
        name: str | None,
        limit: int,
    ) -> list[FederatedEvent]:
        if limit < 1:
            return []
        where, params = ["1"], list[object]()
        if key is not None:
            where.append("grp = ? AND kind = ? AND namespace = ? AND name = ?")
            params.extend(schema.key_params(key))
        for column, value in (("cluster", cluster), ("kind", kind), ("name", name)):
            if value is not None:
                where.append(f"{column} = ?")
                params.append(value)
        if namespace is not None:
            where.append(f"{_EVENT_NAMESPACE} = ?")
            params.append(namespace)
        rows = self._conn.execute(
            f"SELECT {schema.EVENT_COLUMNS} FROM events WHERE {' AND '.join(where)} "
            "ORDER BY last_us DESC, id DESC LIMIT ?",
            [*params, limit],
        ).fetchall()
        return [schema.event_of(row) for row in reversed(rows)]
