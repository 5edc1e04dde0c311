"""Subresources with their own shapes: ``scale``, ``pods/binding``, ``pods/eviction``, ``pods/log``.

Layer: I/O shell beside the HTTP server. ``status`` and ``finalize`` are plain object writes and
live in :mod:`kfed_local.sim.api`; this module converts between an object and the
``autoscaling/v1 Scale`` it exposes, binds pods to nodes, evicts pods (no disruption budgets in
the simulator) and answers log requests with the simulated container's log (the simulator runs
no containers, so the log says only what the simulated kubelet did).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from aiohttp import web

from kfed_local.sim import deletion, errors, objects
from kfed_local.sim.api import PATCH_CONTENT_TYPES, RequestContext
from kfed_local.sim.binding import bind_pod
from kfed_local.sim.httpio import json_response, read_body, read_object
from kfed_local.sim.resources import ResourceType
from kfed_local.sim.routing import Target
from kfed_local.sim.selectors import from_label_selector_object
from kfed_local.sim.strategic import json_merge_patch

if TYPE_CHECKING:
    from kfed_local.sim.server import ApiServer


async def serve(
    server: ApiServer, request: web.Request, rt: ResourceType, target: Target, ctx: RequestContext
) -> web.StreamResponse:
    """Answer a request for one of the subresources this module owns."""
    assert target.name is not None
    namespace = target.namespace or ""
    name = target.name
    api = server.api
    limit = server.settings.max_body_bytes
    if target.subresource == "scale":
        if request.method == "GET":
            return json_response(to_scale(rt, api.get(rt, namespace, name).obj))
        if request.method == "PUT":
            scale = await read_object(request, limit)
        elif request.method == "PATCH":
            patch_type = PATCH_CONTENT_TYPES.get(request.content_type)
            if patch_type not in ("merge", "strategic", "json"):
                raise errors.unsupported_media_type(request.content_type)
            current = to_scale(rt, api.get(rt, namespace, name).obj)
            raw = await read_body(request, limit)
            if patch_type == "json":
                import jsonpatch

                scale = jsonpatch.JsonPatch(json.loads(raw)).apply(current)
            else:
                scale = json_merge_patch(current, json.loads(raw))
        else:
            raise errors.method_not_allowed(f"{request.method} is not supported on scale")
        return json_response(apply_scale(server, rt, namespace, name, scale, ctx))
    if target.subresource == "binding" and request.method == "POST":
        binding = await read_object(request, limit)
        node = (binding.get("target") or {}).get("name") or ""
        if not node:
            raise errors.invalid(
                "Binding",
                "",
                name,
                [errors.FieldError(type="FieldValueRequired", field="target.name")],
            )
        bind_pod(api, namespace, name, node, ctx)
        return json_response(
            {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success"}, 201
        )
    if target.subresource == "eviction" and request.method == "POST":
        await read_object(request, limit)
        deletion.delete(api, rt, namespace, name, deletion.DeleteOptions(), ctx)
        return json_response(
            {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success"}, 201
        )
    if target.subresource == "log" and request.method == "GET":
        pod = api.get(rt, namespace, name).obj
        return web.Response(
            text=pod_log(pod, request.query.get("container")), content_type="text/plain"
        )
    raise errors.method_not_allowed(f"{request.method} is not supported on {target.subresource}")


def _replicas_path(rt: ResourceType, key: str, default: str) -> list[str]:
    path = rt.scale_paths.get(key, default)
    return [p for p in path.split(".") if p]


def _dig(obj: Any, path: list[str]) -> Any:
    for step in path:
        if not isinstance(obj, dict):
            return None
        obj = obj.get(step)
    return obj


def to_scale(rt: ResourceType, obj: dict[str, Any]) -> dict[str, Any]:
    """The ``autoscaling/v1 Scale`` view of a Deployment, ReplicaSet or scalable custom resource."""
    meta = obj["metadata"]
    spec_path = _replicas_path(rt, "specReplicasPath", ".spec.replicas")
    status_path = _replicas_path(rt, "statusReplicasPath", ".status.replicas")
    selector_text = ""
    if rt.is_custom:
        selector_path = rt.scale_paths.get("labelSelectorPath")
        if selector_path:
            selector_text = str(_dig(obj, [p for p in selector_path.split(".") if p]) or "")
    else:
        selector = (obj.get("spec") or {}).get("selector")
        if selector:
            selector_text = from_label_selector_object(selector).to_string()
    return {
        "kind": "Scale",
        "apiVersion": "autoscaling/v1",
        "metadata": {
            k: meta[k]
            for k in ("name", "namespace", "uid", "resourceVersion", "creationTimestamp")
            if k in meta
        },
        "spec": {"replicas": _dig(obj, spec_path) or 0},
        "status": {"replicas": _dig(obj, status_path) or 0, "selector": selector_text},
    }


def apply_scale(
    server: ApiServer,
    rt: ResourceType,
    namespace: str,
    name: str,
    scale: dict[str, Any],
    ctx: RequestContext,
) -> dict[str, Any]:
    """Write a Scale's ``spec.replicas`` into the object; returns the new Scale."""
    api = server.api
    replicas = (scale.get("spec") or {}).get("replicas")
    if not isinstance(replicas, int) or isinstance(replicas, bool) or replicas < 0:
        raise errors.invalid(
            "Scale",
            "autoscaling",
            name,
            [
                errors.FieldError(
                    type="FieldValueInvalid",
                    field="spec.replicas",
                    value=replicas,
                    detail="must be greater than or equal to 0",
                )
            ],
        )
    current = api.get(rt, namespace, name)
    updated = objects.clone(current.obj)
    wanted_rv = (scale.get("metadata") or {}).get("resourceVersion")
    if wanted_rv:  # the Scale's resourceVersion is the object's: a stale one is a 409
        updated["metadata"]["resourceVersion"] = wanted_rv
    target = updated
    path = _replicas_path(rt, "specReplicasPath", ".spec.replicas")
    for step in path[:-1]:
        target = target.setdefault(step, {})
    target[path[-1]] = replicas
    result = api.update(rt, namespace, name, updated, ctx)
    return to_scale(rt, result.obj)


def pod_log(pod: dict[str, Any], container: str | None) -> str:
    """The simulated log of a pod's container: what the simulated kubelet did with it."""
    containers = [c.get("name") for c in (pod.get("spec") or {}).get("containers") or ()]
    if container is None:
        if len(containers) > 1:
            raise errors.bad_request(
                f"a container name must be specified for pod {objects.name_of(pod)}, "
                f"choose one of: {containers}"
            )
        container = containers[0] if containers else ""
    if container not in containers:
        raise errors.bad_request(
            f"container {container} is not valid for pod {objects.name_of(pod)}"
        )
    status = pod.get("status") or {}
    lines = [
        f"kfed simulated cluster: no container runs; container {container!r} of pod "
        f"{objects.name_of(pod)} is simulated"
    ]
    if status.get("startTime"):
        lines.append(
            f"started on node {(pod.get('spec') or {}).get('nodeName')} at {status['startTime']}"
        )
    return "\n".join(lines) + "\n"
