"""The Store Protocol's rules, checked against every implementation (see ``conftest.py``)."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

import pytest

from kfed_core.keys import ResourceKey
from kfed_hub.store.protocol import (
    BootstrapToken,
    ClusterObjectState,
    ClusterRecord,
    Conflict,
    NotFound,
    ObjectChange,
    Store,
    StoreError,
    TokenUse,
)

T0 = dt.datetime(2025, 1, 2, 3, 4, 5, tzinfo=dt.UTC)


def _cm_key(name: str, namespace: str = "default") -> ResourceKey:
    return ResourceKey(group="core", kind="ConfigMap", namespace=namespace, name=name)


def _cm(name: str, namespace: str = "default", **data: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": name, "namespace": namespace},
        "data": dict(data),
    }


SECRET_KEY = ResourceKey(group="core", kind="Secret", namespace="default", name="db")


def _secret() -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {
            "name": "db",
            "namespace": "default",
            "labels": {"app": "db"},
            "annotations": {"kubectl.kubernetes.io/last-applied-configuration": "{...}"},
        },
        "type": "Opaque",
        "data": {"password": "aHVudGVyMg=="},
        "stringData": {"user": "admin"},
    }


# -- federated objects -----------------------------------------------------------------------


async def test_writes_share_one_increasing_revision_written_into_resource_version(
    store: Store,
) -> None:
    assert await store.revision() == 0
    a = await store.create_object(_cm_key("a"), _cm("a"))
    b = await store.create_object(_cm_key("b"), _cm("b"))
    a2 = await store.update_object(_cm_key("a"), _cm("a", k="v"))
    gone = await store.delete_object(_cm_key("b"))
    assert [a.revision, b.revision, a2.revision] == [1, 2, 3]
    assert a2.manifest["metadata"]["resourceVersion"] == "3"
    assert gone.revision == 2
    assert await store.revision() == 4
    fetched = await store.get_object(_cm_key("a"))
    assert fetched is not None and fetched.manifest["data"] == {"k": "v"}
    assert fetched.revision == 3 and fetched.manifest["metadata"]["resourceVersion"] == "3"


async def test_create_of_an_existing_key_is_a_conflict(store: Store) -> None:
    await store.create_object(_cm_key("a"), _cm("a"))
    with pytest.raises(Conflict, match="already exists"):
        await store.create_object(_cm_key("a"), _cm("a"))
    assert await store.revision() == 1


async def test_update_and_delete_of_a_missing_key_are_not_found(store: Store) -> None:
    with pytest.raises(NotFound):
        await store.update_object(_cm_key("x"), _cm("x"))
    with pytest.raises(NotFound):
        await store.delete_object(_cm_key("x"))
    assert await store.get_object(_cm_key("x")) is None


async def test_a_stale_expected_revision_is_a_conflict_and_changes_nothing(store: Store) -> None:
    first = await store.create_object(_cm_key("a"), _cm("a", k="1"))
    second = await store.update_object(
        _cm_key("a"), _cm("a", k="2"), expected_revision=first.revision
    )
    with pytest.raises(Conflict, match="read it again"):
        await store.update_object(_cm_key("a"), _cm("a", k="3"), expected_revision=first.revision)
    with pytest.raises(Conflict):
        await store.delete_object(_cm_key("a"), expected_revision=first.revision)
    current = await store.get_object(_cm_key("a"))
    assert current is not None and current.manifest["data"] == {"k": "2"}
    deleted = await store.delete_object(_cm_key("a"), expected_revision=second.revision)
    assert deleted.manifest["data"] == {"k": "2"}


async def test_list_filters_by_group_kind_and_namespace_and_orders_by_key(store: Store) -> None:
    await store.create_object(_cm_key("b", "prod"), _cm("b", "prod"))
    await store.create_object(_cm_key("a", "prod"), _cm("a", "prod"))
    await store.create_object(_cm_key("z", "dev"), _cm("z", "dev"))
    ns_key = ResourceKey(group="core", kind="Namespace", namespace="", name="prod")
    await store.create_object(ns_key, {"apiVersion": "v1", "kind": "Namespace"})
    deploy = ResourceKey(group="apps", kind="Deployment", namespace="prod", name="web")
    await store.create_object(deploy, {"apiVersion": "apps/v1", "kind": "Deployment"})

    def keys(objects: list[Any]) -> list[str]:
        return [str(o.key) for o in objects]

    assert keys(await store.list_objects()) == [
        "apps/Deployment/prod/web",
        "core/ConfigMap/dev/z",
        "core/ConfigMap/prod/a",
        "core/ConfigMap/prod/b",
        "core/Namespace//prod",
    ]
    assert keys(await store.list_objects(kind="ConfigMap", namespace="prod")) == [
        "core/ConfigMap/prod/a",
        "core/ConfigMap/prod/b",
    ]
    assert keys(await store.list_objects(group="apps")) == ["apps/Deployment/prod/web"]
    assert keys(await store.list_objects(namespace="")) == ["core/Namespace//prod"]


async def test_stored_manifests_are_copies_on_the_way_in_and_out(store: Store) -> None:
    given = _cm("a", k="1")
    created = await store.create_object(_cm_key("a"), given)
    assert "resourceVersion" not in given["metadata"]
    given["data"]["k"] = "changed by the caller"
    created.manifest["data"]["k"] = "changed too"
    fetched = await store.get_object(_cm_key("a"))
    assert fetched is not None and fetched.manifest["data"] == {"k": "1"}


async def test_a_manifest_that_is_not_plain_json_is_refused(store: Store) -> None:
    with pytest.raises(StoreError, match="not plain JSON"):
        await store.create_object(_cm_key("a"), {"metadata": {}, "when": object()})
    assert await store.revision() == 0


async def test_secret_data_reads_back_unchanged(store: Store) -> None:
    created = await store.create_object(SECRET_KEY, _secret())
    fetched = await store.get_object(SECRET_KEY)
    listed = await store.list_objects(kind="Secret")
    expected = _secret()
    expected["metadata"]["resourceVersion"] = "1"
    assert created.manifest == expected
    assert fetched is not None and fetched.manifest == expected
    assert [o.manifest for o in listed] == [expected]
    deleted = await store.delete_object(SECRET_KEY)
    assert deleted.manifest == expected


async def test_listeners_see_every_change_in_commit_order(store: Store) -> None:
    seen: list[ObjectChange] = []
    store.add_listener(seen.append)
    await store.create_object(_cm_key("a"), _cm("a", k="1"))
    await store.update_object(_cm_key("a"), _cm("a", k="2"))
    await store.delete_object(_cm_key("a"))
    assert [c.revision for c in seen] == [1, 2, 3]
    assert seen[0].before is None and seen[0].after is not None
    assert seen[1].before is not None and seen[1].before.manifest["data"] == {"k": "1"}
    assert seen[1].after is not None and seen[1].after.manifest["data"] == {"k": "2"}
    assert seen[2].after is None and seen[2].before is not None and seen[2].before.revision == 2


async def test_concurrent_writers_are_serialised_and_notified_in_revision_order(
    store: Store,
) -> None:
    seen: list[int] = []
    store.add_listener(lambda change: seen.append(change.revision))
    results = await asyncio.gather(
        *(store.create_object(_cm_key(f"o{i}"), _cm(f"o{i}")) for i in range(20))
    )
    assert sorted(r.revision for r in results) == list(range(1, 21))
    assert seen == list(range(1, 21))


async def test_a_failing_listener_neither_fails_the_write_nor_starves_others(
    store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    seen: list[int] = []

    def broken(change: ObjectChange) -> None:
        raise RuntimeError("listener bug")

    store.add_listener(broken)
    store.add_listener(lambda change: seen.append(change.revision))
    await store.create_object(_cm_key("a"), _cm("a"))
    assert seen == [1]
    assert "listener failed on core/ConfigMap/default/a" in caplog.text


# -- clusters and revocation -----------------------------------------------------------------


def _cluster(name: str, *serials: str) -> ClusterRecord:
    return ClusterRecord(
        name=name,
        joined_at=T0,
        labels={"region": "eu"},
        cert_serials=serials,
        info={"zones": ["eu-a"], "capacity": {"pods": 110}},
    )


async def test_clusters_are_created_listed_by_name_and_updated(store: Store) -> None:
    await store.create_cluster(_cluster("west", "01"))
    await store.create_cluster(_cluster("east"))
    with pytest.raises(Conflict, match="already exists"):
        await store.create_cluster(_cluster("east"))
    assert [c.name for c in await store.list_clusters()] == ["east", "west"]
    assert await store.get_cluster("west") == _cluster("west", "01")
    updated = ClusterRecord(name="west", joined_at=T0, labels={"tier": "gold"}, info={"v": 1})
    await store.update_cluster(updated)
    assert await store.get_cluster("west") == updated
    with pytest.raises(NotFound):
        await store.update_cluster(_cluster("north"))
    assert await store.get_cluster("north") is None


async def test_deleting_a_cluster_revokes_its_serials_and_drops_its_states(store: Store) -> None:
    await store.create_cluster(_cluster("west", "0a", "0b"))
    await store.create_cluster(_cluster("east", "0c"))
    key = _cm_key("a")
    await store.put_object_states(
        [
            ClusterObjectState(cluster="west", key=key, outcome="Applied"),
            ClusterObjectState(cluster="east", key=key, outcome="Applied"),
        ]
    )
    removed = await store.delete_cluster("west")
    assert removed.cert_serials == ("0a", "0b")
    assert await store.revoked_serials() == frozenset({"0a", "0b"})
    assert [s.cluster for s in await store.object_states(key=key)] == ["east"]
    with pytest.raises(NotFound):
        await store.delete_cluster("west")


async def test_revoking_is_idempotent(store: Store) -> None:
    assert await store.revoked_serials() == frozenset()
    await store.revoke_serials(["01", "02"], reason="compromised")
    await store.revoke_serials(["02", "03"], reason="rotated")
    assert await store.revoked_serials() == frozenset({"01", "02", "03"})


# -- bootstrap tokens ------------------------------------------------------------------------


def _token(
    token_id: str = "abcdef", *, ttl: dt.timedelta = dt.timedelta(hours=1)
) -> BootstrapToken:
    return BootstrapToken(
        token_id=token_id,
        secret_hash="a" * 64,
        created_at=T0,
        expires_at=T0 + ttl,
        description="for west",
    )


async def test_a_token_is_accepted_once_then_reads_as_used(store: Store) -> None:
    await store.create_token(_token())
    later = T0 + dt.timedelta(minutes=5)
    assert await store.use_token("abcdef", "a" * 64, cluster="west", now=later) is TokenUse.ACCEPTED
    assert await store.use_token("abcdef", "a" * 64, cluster="east", now=later) is TokenUse.USED
    (token,) = await store.list_tokens()
    assert token.used_at == later and token.used_by == "west"


async def test_wrong_secret_unknown_id_and_expiry_are_told_apart(store: Store) -> None:
    await store.create_token(_token())
    now = T0 + dt.timedelta(minutes=1)
    assert await store.use_token("abcdef", "b" * 64, cluster="w", now=now) is TokenUse.UNKNOWN
    assert await store.use_token("zzzzzz", "a" * 64, cluster="w", now=now) is TokenUse.UNKNOWN
    too_late = T0 + dt.timedelta(hours=1)
    assert await store.use_token("abcdef", "a" * 64, cluster="w", now=too_late) is TokenUse.EXPIRED
    (token,) = await store.list_tokens()
    assert token.used_at is None and token.used_by == ""


async def test_a_duplicate_token_id_is_a_conflict(store: Store) -> None:
    await store.create_token(_token())
    with pytest.raises(Conflict):
        await store.create_token(_token())
    await store.create_token(_token("aaaaaa"))
    assert [t.token_id for t in await store.list_tokens()] == ["aaaaaa", "abcdef"]


async def test_racing_joins_consume_a_token_exactly_once(store: Store) -> None:
    await store.create_token(_token())
    results = await asyncio.gather(
        *(store.use_token("abcdef", "a" * 64, cluster=f"c{i}", now=T0) for i in range(10))
    )
    assert sorted(r.value for r in results) == ["accepted"] + ["used"] * 9


# -- per-cluster object state ----------------------------------------------------------------


async def test_object_states_upsert_filter_order_and_delete(store: Store) -> None:
    a, b = _cm_key("a"), _cm_key("b")
    await store.put_object_states(
        [
            ClusterObjectState(cluster="west", key=b, version="v1", outcome="Applied"),
            ClusterObjectState(cluster="west", key=a, version="v1", outcome="Failed", reason="X"),
            ClusterObjectState(cluster="east", key=a, version="v1", outcome="Applied"),
        ]
    )
    replaced = ClusterObjectState(
        cluster="west",
        key=a,
        version="v2",
        outcome="Applied",
        message="ok",
        status={"phase": "Active", "n": [1, 2]},
        absent=False,
        updated_at=T0,
    )
    await store.put_object_states([replaced])
    states = await store.object_states()
    assert [(s.cluster, s.key.name) for s in states] == [
        ("east", "a"),
        ("west", "a"),
        ("west", "b"),
    ]
    assert states[1] == replaced
    assert [s.cluster for s in await store.object_states(key=a)] == ["east", "west"]
    assert [s.key.name for s in await store.object_states(cluster="west")] == ["a", "b"]
    assert await store.object_states(key=a, cluster="east") == [states[0]]
    await store.delete_object_states(key=a)
    assert [(s.cluster, s.key.name) for s in await store.object_states()] == [("west", "b")]


async def test_a_closed_store_refuses_calls(store: Store) -> None:
    await store.close()
    with pytest.raises(StoreError, match="closed"):
        await store.get_object(_cm_key("a"))
    with pytest.raises(StoreError, match="closed"):
        await store.create_object(_cm_key("a"), _cm("a"))
