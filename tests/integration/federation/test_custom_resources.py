"""Custom resources across three simulated clusters: a federated CustomResourceDefinition and its
objects reach every cluster (namespaced and cluster-scoped, at the CRD's own plural), follow
updates and deletes, and a custom resource whose CRD the members lack fails in each cluster with
that cluster's reason."""

from __future__ import annotations

from typing import Any

from fedharness import NAMES, Federation, eventually

from kfed_agent.ports import UnknownKind

CRDS = "/apis/apiextensions.k8s.io/v1/customresourcedefinitions"
CRONTABS = "/apis/stable.example.com/v1/namespaces/default/crontabs"
MOOSE = "/apis/zoo.example.com/v1/moose"


def crd(group: str, plural: str, kind: str, scope: str, properties: dict[str, Any]) -> Any:
    schema = {
        "type": "object",
        "properties": {"spec": {"type": "object", "properties": properties}},
    }
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": f"{plural}.{group}"},
        "spec": {
            "group": group,
            "scope": scope,
            "names": {"plural": plural, "singular": kind.lower(), "kind": kind},
            "versions": [
                {
                    "name": "v1",
                    "served": True,
                    "storage": True,
                    "schema": {"openAPIV3Schema": schema},
                }
            ],
        },
    }


CRONTAB_CRD = crd(
    "stable.example.com",
    "crontabs",
    "CronTab",
    "Namespaced",
    {"cronSpec": {"type": "string"}, "image": {"type": "string"}},
)
MOOSE_CRD = crd("zoo.example.com", "moose", "Moose", "Cluster", {"antlers": {"type": "integer"}})


def crontab(image: str) -> dict[str, Any]:
    return {
        "apiVersion": "stable.example.com/v1",
        "kind": "CronTab",
        "metadata": {"name": "nightly"},
        "spec": {"cronSpec": "0 3 * * *", "image": image},
    }


async def member(fed: Federation, cluster: str, api_version: str, kind: str, ns: str, name: str):  # type: ignore[no-untyped-def]
    """The member's object; None when absent or when the cluster does not serve the kind."""
    try:
        return await fed.member(cluster, api_version, kind, ns, name)
    except UnknownKind:
        return None


async def everywhere(
    fed: Federation, api_version: str, kind: str, ns: str, name: str, check
) -> bool:  # type: ignore[no-untyped-def]
    for cluster in NAMES:
        if not check(await member(fed, cluster, api_version, kind, ns, name)):
            return False
    return True


def _image(image: str):  # type: ignore[no-untyped-def]
    return lambda obj: obj is not None and obj.get("spec", {}).get("image") == image


async def test_a_crd_and_its_custom_resources_reach_every_cluster(federation: Federation) -> None:
    fed = federation
    await fed.api("POST", CRDS, CRONTAB_CRD)
    await fed.api("POST", CRONTABS, crontab("backup:1"))
    await eventually(
        lambda: everywhere(
            fed,
            "apiextensions.k8s.io/v1",
            "CustomResourceDefinition",
            "",
            "crontabs.stable.example.com",
            lambda obj: obj is not None,
        ),
        what="the CRD in every cluster",
    )
    await eventually(
        lambda: everywhere(
            fed, "stable.example.com/v1", "CronTab", "default", "nightly", _image("backup:1")
        ),
        what="the CronTab in every cluster",
    )
    live = await fed.member("west", "stable.example.com/v1", "CronTab", "default", "nightly")
    assert (
        live["metadata"]["annotations"]["kfed.io/key"]
        == "stable.example.com/CronTab/default/nightly"
    )

    async def propagated() -> bool:
        obj = await fed.api("GET", f"{CRONTABS}/nightly")
        entries = obj["status"]["clusters"]
        return len(entries) == 3 and all(
            e["outcome"] == "Applied" and e["current"] for e in entries
        )

    await eventually(propagated, what="Applied in every cluster, through the API")

    current = await fed.api("GET", f"{CRONTABS}/nightly")
    current["spec"]["image"] = "backup:2"
    await fed.api("PUT", f"{CRONTABS}/nightly", current)
    await eventually(
        lambda: everywhere(
            fed, "stable.example.com/v1", "CronTab", "default", "nightly", _image("backup:2")
        ),
        what="the update in every cluster",
    )
    await fed.api("DELETE", f"{CRONTABS}/nightly")
    await eventually(
        lambda: everywhere(
            fed, "stable.example.com/v1", "CronTab", "default", "nightly", lambda o: o is None
        ),
        what="the CronTab pruned everywhere",
    )


async def test_a_cluster_scoped_kind_at_the_crds_own_plural(federation: Federation) -> None:
    fed = federation
    await fed.api("POST", CRDS, MOOSE_CRD)
    bullwinkle = {
        "apiVersion": "zoo.example.com/v1",
        "kind": "Moose",
        "metadata": {"name": "bullwinkle"},
        "spec": {"antlers": 2},
    }
    await fed.api("POST", MOOSE, bullwinkle)  # "moose", where the guess would be "mooses"
    await eventually(
        lambda: everywhere(
            fed,
            "zoo.example.com/v1",
            "Moose",
            "",
            "bullwinkle",
            lambda obj: obj is not None and obj["spec"] == {"antlers": 2},
        ),
        what="the cluster-scoped Moose in every cluster",
    )


async def test_a_custom_resource_without_its_crd_fails_in_every_cluster(
    federation: Federation,
) -> None:
    fed = federation
    widget = {"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"}}
    path = "/apis/example.com/v1/namespaces/default/widgets"
    await fed.api("POST", path, widget)  # the hub accepts it: it cannot know the members' kinds

    async def failed() -> list[Any]:
        obj = await fed.api("GET", f"{path}/w")
        entries = obj["status"]["clusters"]
        done = len(entries) == 3 and all(e["outcome"] == "Failed" for e in entries)
        return entries if done else []

    entries = await eventually(failed, what="Failed in every cluster")
    assert sorted(e["cluster"] for e in entries) == sorted(NAMES)
    for entry in entries:
        assert entry["reason"] == "NotFound"
        assert "kind Widget (example.com/v1) is not served by this cluster" in entry["message"]
    obj = await fed.api("GET", f"{path}/w")
    conditions = {c["type"]: c for c in obj["status"]["conditions"]}
    assert conditions["Propagated"]["status"] == "False"
    assert conditions["Propagated"]["reason"] == "ApplyFailed"


async def test_a_custom_resource_that_failed_is_applied_once_its_crd_arrives(
    federation: Federation,
) -> None:
    fed = federation
    await fed.api("POST", CRONTABS, crontab("early:1"))  # no CRD anywhere yet: fails

    async def failed_everywhere() -> bool:
        obj = await fed.api("GET", f"{CRONTABS}/nightly")
        entries = obj["status"].get("clusters", [])
        return len(entries) == 3 and all(e["outcome"] == "Failed" for e in entries)

    await eventually(failed_everywhere, what="the custom resource Failed without its CRD")
    await fed.api("POST", CRDS, CRONTAB_CRD)
    await eventually(
        lambda: everywhere(
            fed, "stable.example.com/v1", "CronTab", "default", "nightly", _image("early:1")
        ),
        what="the custom resource applied after its CRD arrived",
    )
