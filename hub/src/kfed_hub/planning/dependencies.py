"""Dependencies: the ConfigMaps, Secrets and ServiceAccount a workload's pods refer to.

Layer: ``kfed_hub.planning``, pure: a manifest in, resource keys out; no clock, no I/O, no
logging. The reconciler makes these objects follow the workload into every cluster it lands in,
so that its pods do not wait forever on a missing volume or key (the blog's nginx mounts the
``zone-fetch`` ConfigMap).

Pod specs are found in Pods, in ``spec.template`` of Deployment, ReplicaSet, DaemonSet,
StatefulSet, Job and ReplicationController, and in ``spec.jobTemplate.spec.template`` of CronJob,
whatever their API version (translation may not have run yet). A reference marked
``optional: true`` still counts: the pod runs without it, but the author wants it when it exists.
The ``default`` ServiceAccount is never a dependency (every namespace has its own). References
name objects in the workload's own namespace (``default`` when it has none), as pods can only
refer to those.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from kfed_core.keys import CORE_GROUP, ResourceKey

_TEMPLATE_KINDS = frozenset(
    {"Deployment", "ReplicaSet", "DaemonSet", "StatefulSet", "Job", "ReplicationController"}
)
_CONTAINER_LISTS = ("containers", "initContainers", "ephemeralContainers")
# Volume sources that hold a Secret by reference besides ``secret`` itself: storage plugins'
# credentials, which the pod cannot mount without.
_SECRET_REF_VOLUMES = (
    "cephfs",
    "cinder",
    "flexVolume",
    "iscsi",
    "rbd",
    "scaleIO",
    "storageos",
)


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _items(value: Any) -> Iterator[Mapping[str, Any]]:
    if isinstance(value, list):
        yield from (item for item in value if isinstance(item, Mapping))


def _name(value: Any, field: str = "name") -> str | None:
    name = _mapping(value).get(field)
    return name if isinstance(name, str) and name else None


def pod_spec_of(manifest: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """The pod spec a workload (or a bare Pod) runs, or None for other kinds."""
    kind = manifest.get("kind")
    spec = _mapping(manifest.get("spec"))
    if kind == "Pod":
        return spec
    if kind in _TEMPLATE_KINDS:
        return _mapping(_mapping(spec.get("template")).get("spec"))
    if kind == "CronJob":
        job = _mapping(_mapping(spec.get("jobTemplate")).get("spec"))
        return _mapping(_mapping(job.get("template")).get("spec"))
    return None


def _volume_refs(pod: Mapping[str, Any]) -> Iterator[tuple[str, str | None]]:
    for volume in _items(pod.get("volumes")):
        yield "ConfigMap", _name(volume.get("configMap"))
        yield "Secret", _name(volume.get("secret"), "secretName")
        yield "Secret", _name(volume.get("azureFile"), "secretName")
        yield "Secret", _name(_mapping(volume.get("csi")).get("nodePublishSecretRef"))
        for source in _SECRET_REF_VOLUMES:
            yield "Secret", _name(_mapping(volume.get(source)).get("secretRef"))
        for projected in _items(_mapping(volume.get("projected")).get("sources")):
            yield "ConfigMap", _name(projected.get("configMap"))
            yield "Secret", _name(projected.get("secret"))


def _container_refs(pod: Mapping[str, Any]) -> Iterator[tuple[str, str | None]]:
    for field in _CONTAINER_LISTS:
        for container in _items(pod.get(field)):
            for env in _items(container.get("env")):
                source = _mapping(env.get("valueFrom"))
                yield "ConfigMap", _name(source.get("configMapKeyRef"))
                yield "Secret", _name(source.get("secretKeyRef"))
            for env_from in _items(container.get("envFrom")):
                yield "ConfigMap", _name(env_from.get("configMapRef"))
                yield "Secret", _name(env_from.get("secretRef"))


def _pod_refs(pod: Mapping[str, Any]) -> Iterator[tuple[str, str | None]]:
    yield from _volume_refs(pod)
    yield from _container_refs(pod)
    for pull_secret in _items(pod.get("imagePullSecrets")):
        yield "Secret", _name(pull_secret)
    # serviceAccount is the deprecated alias; serviceAccountName wins when both are set.
    account = pod.get("serviceAccountName") or pod.get("serviceAccount")
    if isinstance(account, str) and account and account != "default":
        yield "ServiceAccount", account


def references(manifest: Mapping[str, Any]) -> frozenset[ResourceKey]:
    """The ConfigMaps, Secrets and ServiceAccount that ``manifest``'s pods refer to (empty for
    kinds that run no pods)."""
    pod = pod_spec_of(manifest)
    if pod is None:
        return frozenset()
    namespace = _mapping(manifest.get("metadata")).get("namespace") or "default"
    return frozenset(
        ResourceKey(group=CORE_GROUP, kind=kind, namespace=str(namespace), name=name)
        for kind, name in _pod_refs(pod)
        if name is not None
    )
