"""``PATCH /apis/kfed.io/v1alpha1/clusters/{name}``: cluster labels, and selecting clusters."""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestClient

from kfed_hub.api.fakes import FakeClusterDirectory

Client = TestClient[web.Request, web.Application]
CLUSTERS = "/apis/kfed.io/v1alpha1/clusters"
MERGE = {"Content-Type": "application/merge-patch+json"}


async def patch(
    api: Client, name: str, body: Any, headers: dict[str, str] = MERGE
) -> tuple[int, Any]:
    async with api.patch(f"{CLUSTERS}/{name}", data=json.dumps(body), headers=headers) as answer:
        return answer.status, await answer.json()


def labels(body: dict[str, Any]) -> dict[str, Any]:
    return {"metadata": {"labels": body}}


async def test_labels_are_set_and_removed_through_the_directory(
    api: Client, clusters: FakeClusterDirectory
) -> None:
    status, east = await patch(api, "east", labels({"provider": "gce", "tier": "gold"}))
    assert status == 200 and east["metadata"]["labels"] == {"provider": "gce", "tier": "gold"}
    status, east = await patch(api, "east", labels({"tier": None, "team": "web"}))
    assert east["metadata"]["labels"] == {"provider": "gce", "team": "web"}
    assert clusters.label_changes == [
        ("east", {"provider": "gce", "tier": "gold"}),
        ("east", {"tier": None, "team": "web"}),
    ]
    async with api.get(f"{CLUSTERS}/east") as answer:
        assert (await answer.json())["metadata"]["labels"]["team"] == "web"


async def test_kubectls_strategic_merge_patch_works_like_a_merge_patch(
    api: Client, clusters: FakeClusterDirectory
) -> None:
    headers = {"Content-Type": "application/strategic-merge-patch+json"}
    status, _ = await patch(api, "west", labels({"a": "b"}), headers)
    assert status == 200 and clusters.views["west"].labels == {"a": "b"}


async def test_bad_labels_are_422_with_a_cause_each_and_change_nothing(
    api: Client, clusters: FakeClusterDirectory
) -> None:
    status, error = await patch(api, "east", labels({"bad key!": "x", "ok": "-no-", "n": 7}))
    assert status == 422 and error["reason"] == "Invalid"
    assert error["message"].startswith('Cluster "east" is invalid: [metadata.labels: Invalid')
    causes = [c["message"] for c in error["details"]["causes"]]
    assert len(causes) == 3
    assert causes[0].startswith('metadata.labels: Invalid value: "bad key!": name part must')
    assert causes[1].startswith('metadata.labels: Invalid value: "-no-": a valid label must')
    assert causes[2] == (
        "metadata.labels[n]: Invalid value: 7: must be a string, or null to remove it"
    )
    assert clusters.label_changes == []


async def test_only_labels_may_change(api: Client) -> None:
    status, error = await patch(
        api, "east", {"metadata": {"annotations": {"a": "b"}}, "status": {"phase": "Ready"}}
    )
    assert status == 422
    fields = sorted(c["field"] for c in error["details"]["causes"])
    assert fields == ["metadata.annotations", "status"]
    status, _ = await patch(api, "east", {"metadata": {"name": "east", "labels": {"a": "b"}}})
    assert status == 200


async def test_an_unknown_cluster_or_a_plain_json_body_is_refused(api: Client) -> None:
    status, error = await patch(api, "nowhere", labels({"a": "b"}))
    assert status == 404 and error["message"] == 'clusters.kfed.io "nowhere" not found'
    status, error = await patch(
        api, "east", labels({"a": "b"}), {"Content-Type": "application/json"}
    )
    assert status == 415


async def test_clusters_can_be_selected_by_label(
    api: Client, clusters: FakeClusterDirectory
) -> None:
    await patch(api, "east", labels({"provider": "gce"}))
    await patch(api, "west", labels({"provider": "aws"}))
    async with api.get(CLUSTERS, params={"labelSelector": "provider=gce"}) as answer:
        listed = await answer.json()
    assert [c["metadata"]["name"] for c in listed["items"]] == ["east"]
    async with api.get(CLUSTERS, params={"labelSelector": "provider in (a"}) as answer:
        assert answer.status == 400
