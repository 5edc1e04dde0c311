"""Binding pods to nodes (``pods/binding``): what the scheduler does to a pending pod.

Layer: API logic (beside :mod:`kfed_local.sim.api`). A pod's ``spec.nodeName`` cannot be changed
by an update; only a binding sets it, once, and marks the pod ``PodScheduled``.
"""

from __future__ import annotations

from typing import Any

from kfed_local.sim import errors, objects
from kfed_local.sim.api import ClusterApi, RequestContext
from kfed_local.sim.apply import update_managed_fields


def bind_pod(
    api: ClusterApi, namespace: str, name: str, node: str, ctx: RequestContext
) -> dict[str, Any]:
    """Bind a pending pod to ``node`` (``pods/binding``); 409 if it is already bound."""
    pods = api.registry.require("", "v1", "pods")
    pod = api.get(pods, namespace, name).obj
    if (pod.get("spec") or {}).get("nodeName"):
        raise errors.conflict(
            "pods/binding",
            "",
            name,
            f"pod {name} is already assigned to node {pod['spec']['nodeName']!r}",
        )
    if objects.is_terminating(pod):
        raise errors.conflict("pods/binding", "", name, f"pod {name} is being deleted")
    updated = objects.clone(pod)
    updated["spec"]["nodeName"] = node
    status = updated.setdefault("status", {})
    status["conditions"] = objects.set_condition(
        status.get("conditions") or [], "PodScheduled", "True", now=api.now()
    )
    updated["metadata"]["managedFields"] = update_managed_fields(
        pod,
        updated,
        manager=ctx.field_manager,
        schema=pods.schema,
        api_version="v1",
        now=api.now(),
    )
    if ctx.dry_run:
        return updated
    return api.store.put(pods.storage_key, updated).obj
