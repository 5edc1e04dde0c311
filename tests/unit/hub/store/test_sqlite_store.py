"""SqliteStore: what only the persistent store promises (durability across reopen, sealing at rest,
key rotation, refusing tampered values, migrations). The shared rules are in
``test_store_behaviour.py``."""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import sqlite3
import stat
from pathlib import Path
from typing import Any

import pytest

from kfed_core.keys import ResourceKey
from kfed_hub.store import sqlite_schema
from kfed_hub.store.protocol import (
    BootstrapToken,
    ClusterObjectState,
    ClusterRecord,
    NewEvent,
    ObjectChange,
    StoreError,
)
from kfed_hub.store.sealing import SecretSealer, TamperedValue, UnknownSealingKey
from kfed_hub.store.sqlite import SqliteStore
from kfed_hub.store.sqlite_schema import SCHEMA_VERSION

T0 = dt.datetime(2025, 1, 2, 3, 4, 5, tzinfo=dt.UTC)
PASSWORD = "zebra-quartz-7741-plaintext"  # distinctive, so a byte search cannot miss it
USER = "operator-kangaroo-5521"


def _secret(name: str, password: str = PASSWORD) -> tuple[ResourceKey, dict[str, Any]]:
    key = ResourceKey(group="core", kind="Secret", namespace="default", name=name)
    manifest = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": name, "namespace": "default"},
        "data": {"password": base64.b64encode(password.encode()).decode()},
        "stringData": {"user": USER},
    }
    return key, manifest


async def _open(tmp_path: Path, key_file: str = "store.key") -> SqliteStore:
    sealer = SecretSealer.load_or_create(tmp_path / key_file)
    return await SqliteStore.open(tmp_path / "hub.db", sealer=sealer, clock=lambda: T0)


def _raw_bytes(tmp_path: Path) -> bytes:
    return b"".join(p.read_bytes() for p in sorted(tmp_path.glob("hub.db*")))


def _sql(tmp_path: Path, statement: str, *params: Any) -> list[Any]:
    conn = sqlite3.connect(tmp_path / "hub.db")
    try:
        with conn:
            return conn.execute(statement, params).fetchall()
    finally:
        conn.close()


async def test_reopening_keeps_everything_and_revisions_never_repeat(tmp_path: Path) -> None:
    store = await _open(tmp_path)
    cm = ResourceKey(group="core", kind="ConfigMap", namespace="default", name="a")
    secret_key, secret = _secret("db")
    await store.create_object(cm, {"metadata": {"name": "a"}, "data": {"k": "v"}})
    await store.create_object(secret_key, secret)
    gone = ResourceKey(group="core", kind="ConfigMap", namespace="default", name="gone")
    await store.create_object(gone, {"metadata": {}})
    await store.delete_object(gone)
    cluster = ClusterRecord(name="west", joined_at=T0, labels={"r": "eu"}, cert_serials=("01",))
    await store.create_cluster(cluster)
    token = BootstrapToken(
        token_id="abcdef", secret_hash="f" * 64, created_at=T0, expires_at=T0 + dt.timedelta(1)
    )
    await store.create_token(token)
    await store.use_token("abcdef", "f" * 64, cluster="west", now=T0)
    await store.revoke_serials(["99"], reason="test")
    state = ClusterObjectState(cluster="west", key=cm, version="v", outcome="Applied", status={})
    await store.put_object_states([state])
    before = (await store.list_objects(), await store.list_tokens())
    await store.close()

    reopened = await _open(tmp_path)
    try:
        assert await reopened.revision() == 4
        assert (await reopened.list_objects(), await reopened.list_tokens()) == before
        assert await reopened.list_clusters() == [cluster]
        assert await reopened.revoked_serials() == frozenset({"99"})
        assert await reopened.object_states() == [state]
        again = await reopened.create_object(gone, {"metadata": {}})
        assert again.revision == 5
    finally:
        await reopened.close()


async def test_the_database_files_never_hold_a_secret_in_clear(tmp_path: Path) -> None:
    store = await _open(tmp_path)
    key, manifest = _secret("db")
    manifest["metadata"]["annotations"] = {
        "kubectl.kubernetes.io/last-applied-configuration": f'{{"data":"{PASSWORD}"}}'
    }
    await store.create_object(key, manifest)
    await store.update_object(key, manifest)
    read = await store.get_object(key)
    assert read is not None and read.manifest["stringData"] == {"user": USER}
    needles = (PASSWORD.encode(), manifest["data"]["password"].encode(), USER.encode())
    assert (tmp_path / "hub.db-wal").exists()  # the writes are (at least) in the WAL now
    raw = _raw_bytes(tmp_path)
    assert b"Secret" in raw  # the search does see what is stored
    assert not [needle for needle in needles if needle in raw]
    await store.close()  # checkpoints the WAL into the main file
    raw = _raw_bytes(tmp_path)
    assert b"Secret" in raw
    assert not [needle for needle in needles if needle in raw]


async def test_rotation_and_reseal_move_every_value_to_the_new_key(tmp_path: Path) -> None:
    store = await _open(tmp_path)
    sealer = SecretSealer.load_or_create(tmp_path / "store.key")
    await store.close()
    store = await SqliteStore.open(tmp_path / "hub.db", sealer=sealer)
    try:
        for name in ("a", "b", "c"):
            await store.create_object(*_secret(name, password=f"pw-{name}"))
        plain_cm = ResourceKey(group="core", kind="ConfigMap", namespace="d", name="x")
        await store.create_object(plain_cm, {"metadata": {}})
        empty = ResourceKey(group="core", kind="Secret", namespace="d", name="empty")
        await store.create_object(empty, {"metadata": {}, "type": "Opaque"})
        old_id = sealer.active_key_id
        new_id = await asyncio.to_thread(sealer.rotate)
        revision = await store.revision()
        assert await store.reseal_all() == 3
        assert await store.reseal_all() == 0
        assert await store.revision() == revision
        assert _sql(tmp_path, "SELECT DISTINCT sealed_key_id FROM objects") == [(None,), (new_id,)]
        await asyncio.to_thread(sealer.retire, old_id)
    finally:
        await store.close()
    reopened = await _open(tmp_path)  # loads the key file, which no longer holds the old key
    try:
        secrets = await reopened.list_objects(kind="Secret", namespace="default")
        passwords = [base64.b64decode(s.manifest["data"]["password"]) for s in secrets]
        assert passwords == [b"pw-a", b"pw-b", b"pw-c"]
    finally:
        await reopened.close()


async def test_a_tampered_or_swapped_secret_is_refused_with_a_clear_error(tmp_path: Path) -> None:
    store = await _open(tmp_path)
    try:
        await store.create_object(*_secret("a", password="first-password"))
        await store.create_object(*_secret("b", password="second-password"))
        (row,) = _sql(tmp_path, "SELECT sealed_value FROM objects WHERE name = 'a'")
        flipped = bytes([row[0][0] ^ 0x40]) + row[0][1:]
        _sql(tmp_path, "UPDATE objects SET sealed_value = ? WHERE name = 'a'", flipped)
        key_a = ResourceKey(group="core", kind="Secret", namespace="default", name="a")
        with pytest.raises(TamperedValue, match="core/Secret/default/a") as caught:
            await store.get_object(key_a)
        assert "first-password" not in str(caught.value)
        _sql(
            tmp_path,
            "UPDATE objects SET (sealed_nonce, sealed_value) = "
            "(SELECT sealed_nonce, sealed_value FROM objects WHERE name = 'b') WHERE name = 'a'",
        )
        with pytest.raises(TamperedValue):
            await store.get_object(key_a)
    finally:
        await store.close()


async def test_a_secret_sealed_with_a_lost_key_names_the_missing_key(tmp_path: Path) -> None:
    store = await _open(tmp_path)
    key, manifest = _secret("a")
    await store.create_object(key, manifest)
    await store.close()
    (tmp_path / "store.key").unlink()  # a fresh key file is created: the old key is gone
    reopened = await _open(tmp_path)
    try:
        with pytest.raises(UnknownSealingKey, match="restore the key file"):
            await reopened.get_object(key)
    finally:
        await reopened.close()


async def test_listeners_run_in_commit_order_before_the_writer_resumes(tmp_path: Path) -> None:
    store = await _open(tmp_path)
    seen: list[ObjectChange] = []
    store.add_listener(seen.append)
    try:
        keys = [
            ResourceKey(group="core", kind="ConfigMap", namespace="d", name=f"c{i}")
            for i in range(30)
        ]

        async def write(key: ResourceKey) -> None:
            stored = await store.create_object(key, {"metadata": {}})
            assert seen[-1].revision >= stored.revision  # already announced

        await asyncio.gather(*(write(k) for k in keys))
        assert [c.revision for c in seen] == list(range(1, 31))
    finally:
        await store.close()


async def test_the_database_is_private_uses_wal_and_records_its_schema_version(
    tmp_path: Path,
) -> None:
    store = await _open(tmp_path)
    await store.close()
    assert stat.S_IMODE((tmp_path / "hub.db").stat().st_mode) == 0o600
    assert _sql(tmp_path, "PRAGMA journal_mode") == [("wal",)]
    assert _sql(tmp_path, "SELECT max(version) FROM schema_version") == [(SCHEMA_VERSION,)]
    assert _sql(tmp_path, "PRAGMA integrity_check") == [("ok",)]


async def test_a_database_from_a_newer_kfed_is_refused(tmp_path: Path) -> None:
    store = await _open(tmp_path)
    await store.close()
    _sql(tmp_path, "INSERT INTO schema_version (version) VALUES (99)")
    with pytest.raises(StoreError, match="schema version 99, newer than this kfed"):
        await _open(tmp_path)


async def test_a_version_1_database_migrates_to_events_and_tombstones(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A database as issue 3's kfed left it: schema 1 and a few rows written with plain SQL.
    conn = sqlite3.connect(tmp_path / "hub.db", isolation_level=None)
    try:
        with monkeypatch.context() as patched:
            patched.setattr(sqlite_schema, "SCHEMA_VERSION", 1)
            sqlite_schema.migrate(conn, where="v1")
        conn.execute(
            "INSERT INTO objects (grp, kind, namespace, name, revision, body) "
            "VALUES ('core', 'ConfigMap', 'default', 'a', 1, ?)",
            ('{"data":{"k":"v"},"metadata":{"name":"a","resourceVersion":"1"}}',),
        )
        conn.execute("UPDATE counters SET value = 1 WHERE name = 'revision'")
        conn.execute(
            "INSERT INTO clusters (name, joined_at, labels, cert_serials, info) "
            "VALUES ('west', ?, '{\"r\":\"eu\"}', '[]', '{}')",
            (T0.isoformat(),),
        )
    finally:
        conn.close()
    assert _sql(tmp_path, "SELECT name FROM sqlite_master WHERE name = 'events'") == []

    store = await _open(tmp_path)
    try:
        assert _sql(tmp_path, "SELECT version FROM schema_version ORDER BY version") == [
            (1,),
            (2,),
        ]
        cm = ResourceKey(group="core", kind="ConfigMap", namespace="default", name="a")
        (stored,) = await store.list_objects()
        assert stored.key == cm and stored.manifest["data"] == {"k": "v"}
        assert [c.labels for c in await store.list_clusters()] == [{"r": "eu"}]
        await store.add_events([NewEvent(type="Normal", reason="Hello", message="m", time=T0)])
        assert [e.reason for e in await store.list_events()] == ["Hello"]
        await store.delete_object(cm, orphan=True)
        assert await store.orphans() == frozenset({cm}) and await store.revision() == 2
    finally:
        await store.close()
    assert _sql(tmp_path, "PRAGMA integrity_check") == [("ok",)]


async def test_events_and_tombstones_survive_reopening(tmp_path: Path) -> None:
    store = await _open(tmp_path)
    cm = ResourceKey(group="core", kind="ConfigMap", namespace="default", name="a")
    await store.create_object(cm, {"metadata": {}})
    await store.delete_object(cm, orphan=True)
    new = NewEvent(type="Warning", reason="ApplyFailed", message="m", time=T0, key=cm)
    await store.add_events([new, new])
    before = await store.list_events()
    await store.close()
    reopened = await _open(tmp_path)
    try:
        assert await reopened.list_events() == before and before[0].count == 2
        assert await reopened.orphans() == frozenset({cm})
        await reopened.add_events([NewEvent(type="Normal", reason="Later", message="m", time=T0)])
        assert [e.id for e in await reopened.list_events()][-1] > before[0].id
    finally:
        await reopened.close()
