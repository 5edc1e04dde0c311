"""The rules behind dynamic kinds: Kubernetes' plural guess, version priority, what a CRD teaches,
and how the catalog follows the store."""

from __future__ import annotations

from typing import Any

import pytest

from kfed_core.keys import ResourceKey
from kfed_hub.api.catalog import KindCatalog
from kfed_hub.api.crds import kinds_of_crd, version_order
from kfed_hub.api.kinds import SERVED_KINDS, guess_plural
from kfed_hub.store.memory import MemoryStore
from kfed_hub.store.protocol import StoredObject


@pytest.mark.parametrize(
    ("kind", "plural"),
    [
        ("CronTab", "crontabs"),
        ("Ingress", "ingresses"),
        ("NetworkPolicy", "networkpolicies"),
        ("Gateway", "gatewaies"),  # the guess is only a guess: a CRD names the real plural
        ("Moose", "mooses"),
        ("Endpoints", "endpoints"),
        ("Box", "boxs"),  # no x/z/ch/sh rule in Kubernetes' guess
    ],
)
def test_the_plural_guess_is_kubernetes_own(kind: str, plural: str) -> None:
    assert guess_plural(kind) == plural


def test_every_built_in_kind_follows_the_guess() -> None:
    assert all(k.plural == guess_plural(k.kind) for k in SERVED_KINDS if k.federated)


def test_versions_sort_in_kubernetes_priority_order() -> None:
    given = ["v1alpha1", "v1", "foo", "v2beta1", "v1beta2", "v2", "v1beta1", "v10"]
    assert sorted(given, key=version_order) == [
        "v10",
        "v2",
        "v1",
        "v2beta1",
        "v1beta2",
        "v1beta1",
        "v1alpha1",
        "foo",
    ]


def crd(**spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": "crontabs.stable.example.com"},
        "spec": {
            "group": "stable.example.com",
            "scope": "Namespaced",
            "names": {"plural": "crontabs", "kind": "CronTab", "shortNames": ["ct"]},
            "versions": [{"name": "v1", "served": True}, {"name": "v0", "served": False}],
            **spec,
        },
    }


def test_a_crd_teaches_one_kind_per_served_version() -> None:
    (taught,) = kinds_of_crd(crd())
    assert (taught.api_version, taught.kind, taught.plural, taught.singular) == (
        "stable.example.com/v1",
        "CronTab",
        "crontabs",
        "crontab",
    )
    assert taught.short_names == ("ct",) and taught.namespaced
    assert not kinds_of_crd(crd(scope="Cluster"))[0].namespaced
    assert kinds_of_crd(crd(names={"plural": "crontabs"})) == ()
    assert kinds_of_crd(crd(group="kfed.io")) == ()
    assert kinds_of_crd({"spec": "nonsense"}) == ()


class StaleListing(MemoryStore):
    """A store whose listing was read before the latest changes (as a slow read can be)."""

    def __init__(self) -> None:
        super().__init__()
        self.stale: list[StoredObject] = []

    async def list_objects(
        self, *, group: str | None = None, kind: str | None = None, namespace: str | None = None
    ) -> list[StoredObject]:
        return list(self.stale)


async def test_a_change_seen_while_loading_wins_over_an_older_listing() -> None:
    store = StaleListing()
    key = ResourceKey(group="infra.example.com", kind="Region", namespace="", name="emea")
    manifest = {"apiVersion": "infra.example.com/v1", "kind": "Region", "metadata": {}}
    store.stale = [await store.create_object(key, manifest)]
    catalog = KindCatalog(store)
    await store.delete_object(key)
    await catalog.load()
    assert catalog.find_resource("infra.example.com", "v1", "regions") is None
    await store.create_object(key, manifest)
    found = catalog.find_resource("infra.example.com", "v1", "regions")
    assert found is not None and found.kind == "Region" and not found.namespaced
    await store.close()


async def test_a_kind_is_forgotten_with_its_last_object_and_moves_with_its_version() -> None:
    store = MemoryStore()
    catalog = KindCatalog(store)
    await catalog.load()
    a, b = (
        ResourceKey(group="stable.example.com", kind="CronTab", namespace="ns", name=name)
        for name in "ab"
    )
    v1 = {"apiVersion": "stable.example.com/v1", "kind": "CronTab", "metadata": {}}
    await store.create_object(a, v1)
    await store.create_object(b, v1)
    await store.delete_object(a)
    assert catalog.find_kind("stable.example.com/v1", "CronTab") is not None
    await store.update_object(b, {**v1, "apiVersion": "stable.example.com/v2"})
    assert catalog.find_kind("stable.example.com/v1", "CronTab") is None
    assert catalog.find_kind("stable.example.com/v2", "CronTab") is not None
    await store.delete_object(b)
    assert [k.group for k in catalog.served()] == [k.group for k in SERVED_KINDS]
    await store.close()
