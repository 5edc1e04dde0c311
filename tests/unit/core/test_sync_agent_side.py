"""The agent's sans-I/O stream state: batch checks, ordering and what it holds."""

from __future__ import annotations

import json

from kfed_core.sync.agent_side import AgentSession
from kfed_core.sync.hub_side import APPLIED, REMOVED, ResultItem


def manifest(kind: str, name: str, namespace: str = "", api: str = "v1") -> bytes:
    metadata = {"name": name, **({"namespace": namespace} if namespace else {})}
    return json.dumps({"apiVersion": api, "kind": kind, "metadata": metadata}).encode()


def test_plan_orders_namespaces_first_and_removes_them_last() -> None:
    session = AgentSession()
    plan = session.plan(
        "n",
        [
            ("core/ConfigMap/prod/a", "1", manifest("ConfigMap", "a", "prod")),
            ("core/Namespace//prod", "1", manifest("Namespace", "prod")),
        ],
        ["core/Namespace//old", "core/ConfigMap/old/x"],
    )
    assert [str(u.key) for u in plan.upserts] == ["core/Namespace//prod", "core/ConfigMap/prod/a"]
    assert [str(k) for k in plan.removals] == ["core/ConfigMap/old/x", "core/Namespace//old"]
    assert plan.rejected == ()


def test_plan_rejects_bad_items_and_keeps_the_rest() -> None:
    session = AgentSession()
    good = ("core/ConfigMap/default/a", "1", manifest("ConfigMap", "a", "default"))
    plan = session.plan(
        "n",
        [
            good,
            ("not-a-key", "1", b"{}"),
            ("core/ConfigMap/default/b", "1", b"{not json"),
            ("core/ConfigMap/default/c", "1", manifest("Secret", "c", "default")),
            ("core/ConfigMap/default/d", "", manifest("ConfigMap", "d", "default")),
            ("core/ConfigMap/default/e", "1", b"[1]"),
            good,
        ],
        [],
    )
    assert [str(u.key) for u in plan.upserts] == ["core/ConfigMap/default/a"]
    messages = {r.key: r.message for r in plan.rejected}
    assert "group/Kind/namespace/name" in messages["not-a-key"]
    assert "not valid JSON" in messages["core/ConfigMap/default/b"]
    assert "core/Secret/default/c" in messages["core/ConfigMap/default/c"]
    assert "no version" in messages["core/ConfigMap/default/d"]
    assert "not a JSON object" in messages["core/ConfigMap/default/e"]
    assert all(r.reason == "Invalid" for r in plan.rejected)
    assert len(plan.rejected) == 6  # the duplicate too


def test_record_tracks_applied_and_removed() -> None:
    session = AgentSession(known={"core/ConfigMap/default/old": "1"})
    session.record(
        [
            ResultItem(key="core/ConfigMap/default/new", version="2", outcome=APPLIED),
            ResultItem(key="core/ConfigMap/default/old", version="", outcome=REMOVED),
        ]
    )
    assert session.hello() == {"core/ConfigMap/default/new": "2"}
