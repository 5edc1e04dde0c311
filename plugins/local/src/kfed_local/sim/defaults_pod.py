"""Pod defaulting for the simulated API server: pods, pod templates, containers, volumes, probes.

Layer: pure (next to ``kfed_local.sim.schema``). This is the pod half of
:mod:`kfed_local.sim.defaults`; it holds the defaulters of the pod-related Kubernetes types, keyed
by OpenAPI definition name, and the three mutating admission plugins a default kube-apiserver runs
on pods (ServiceAccount, Priority, DefaultTolerationSeconds), each of which the caller can turn off.

Every defaulter mutates the dict it is given in place:
:func:`kfed_local.sim.defaults.apply_defaults` owns the copy, so these functions must only ever see
that private copy. They never overwrite a
value the user set (except where kube-apiserver itself does, said at the spot), never read a clock
or random source, and never allocate anything (the API layer allocates names, IPs and the
random-suffixed service account token volume).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

JsonObject = dict[str, Any]

CORE = "io.k8s.api.core.v1."

DEFAULT_MODE = 0o644  # 420: what kube-apiserver stores for volume file modes nobody set
TOLERATION_SECONDS = 300  # kube-apiserver's --default-not-ready/unreachable-toleration-seconds
NOT_READY_TAINT = "node.kubernetes.io/not-ready"
UNREACHABLE_TAINT = "node.kubernetes.io/unreachable"
# The two PriorityClasses every cluster has; any other name would need a PriorityClass object.
SYSTEM_PRIORITY_CLASSES: Mapping[str, int] = {
    "system-node-critical": 2000001000,
    "system-cluster-critical": 2000000000,
}


@dataclass(frozen=True, slots=True, kw_only=True)
class Admission:
    """Which mutating admission plugins of a default kube-apiserver run on pods.

    They run on pod creation only; callers turn them off for updates.
    """

    service_account: bool = True
    default_toleration_seconds: bool = True
    priority: bool = True


Defaulter = Callable[[JsonObject, Admission], None]


# -- filling fields ------------------------------------------------------------------------------


def is_unset(value: Any, *, zero_is_unset: bool = False) -> bool:
    """True if a field counts as not set.

    JSON null and absence are always unset (Go decodes both to nil or the zero value). Go fields
    that are plain values rather than pointers cannot tell ``""`` or ``0`` from absent, so their
    defaulters pass ``zero_is_unset`` and then an explicit ``""`` or ``0`` is defaulted too.
    """
    if value is None:
        return True
    if zero_is_unset and not isinstance(value, bool):
        return bool(value == "" or value == 0)
    return False


def fill(obj: JsonObject, key: str, value: Any, *, zero_is_unset: bool = False) -> None:
    """Set ``obj[key] = value`` unless the user already set it."""
    if is_unset(obj.get(key), zero_is_unset=zero_is_unset):
        obj[key] = value


def child(obj: JsonObject, key: str) -> JsonObject | None:
    """``obj[key]`` if it is an object; None for absent, null or malformed values."""
    value = obj.get(key)
    return value if isinstance(value, dict) else None


def children(obj: JsonObject, key: str) -> list[JsonObject]:
    """The object items of list ``obj[key]`` (malformed items are validation's business)."""
    value = obj.get(key)
    if not isinstance(value, list):
        return []
    return [item for item in value if isinstance(item, dict)]


# -- image pull policy -----------------------------------------------------------------------------

# The distribution image reference grammar: [domain/]path[:tag][@digest]. A reference that does
# not parse has no tag, which kube-apiserver turns into IfNotPresent.
_DOMAIN_PART = r"(?:[A-Za-z0-9]|[A-Za-z0-9][A-Za-z0-9-]*[A-Za-z0-9])"
_DOMAIN = rf"(?:{_DOMAIN_PART}(?:\.{_DOMAIN_PART})*|\[[A-Fa-f0-9:]+\])(?::[0-9]+)?"
_PATH_PART = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
_NAME = rf"(?:{_DOMAIN}/)?{_PATH_PART}(?:/{_PATH_PART})*"
_TAG = r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}"
_DIGEST = r"[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[A-Fa-f0-9]{32,}"
_REFERENCE = re.compile(rf"(?P<name>{_NAME})(?::(?P<tag>{_TAG}))?(?:@(?P<digest>{_DIGEST}))?")
_MAX_NAME = 255


def image_tag(image: str) -> str:
    """The tag an image reference asks for: ``latest`` when it names neither tag nor digest.

    ``""`` for digest-only references and for references that do not parse.
    """
    match = _REFERENCE.fullmatch(image)
    if match is None or len(match["name"]) > _MAX_NAME:
        return ""
    if match["tag"]:
        return match["tag"]
    return "" if match["digest"] else "latest"


def default_pull_policy(image: Any) -> str:
    """``Always`` for ``:latest`` (or untagged, undigested) images, else ``IfNotPresent``."""
    if isinstance(image, str) and image_tag(image) == "latest":
        return "Always"
    return "IfNotPresent"


# -- pods (admission and Pod-only defaults) -------------------------------------------------------


def sync_service_account(spec: JsonObject) -> None:
    """Keep the deprecated ``serviceAccount`` field equal to ``serviceAccountName``.

    kube-apiserver reads the old field only when the new one is empty and always writes the old
    one from the new one, so a differing ``serviceAccount`` is overwritten, as on a real server.
    """
    name = spec.get("serviceAccountName")
    if is_unset(name, zero_is_unset=True):
        legacy = spec.get("serviceAccount")
        if is_unset(legacy, zero_is_unset=True):
            return
        spec["serviceAccountName"] = name = legacy
    spec["serviceAccount"] = name


def _requests_from_limits(container: JsonObject) -> None:
    resources = child(container, "resources")
    limits = child(resources, "limits") if resources is not None else None
    if resources is None or not limits:
        return
    requests = child(resources, "requests")
    merged = dict(requests) if requests is not None else {}
    for resource, quantity in limits.items():
        merged.setdefault(resource, quantity)
    resources["requests"] = merged


def _host_network_ports(container: JsonObject) -> None:
    for port in children(container, "ports"):
        if "containerPort" in port:
            fill(port, "hostPort", port["containerPort"], zero_is_unset=True)


def _tolerates(tolerations: list[JsonObject], taint_key: str) -> bool:
    for toleration in tolerations:
        key = toleration.get("key") or ""
        effect = toleration.get("effect") or ""
        if key in ("", taint_key) and effect in ("", "NoExecute"):
            return True
    return False


def _default_tolerations(spec: JsonObject) -> None:
    existing = spec.get("tolerations")
    tolerations = list(existing) if isinstance(existing, list) else []
    present = [t for t in tolerations if isinstance(t, dict)]
    added = False
    for taint_key in (NOT_READY_TAINT, UNREACHABLE_TAINT):
        if not _tolerates(present, taint_key):
            tolerations.append(
                {
                    "key": taint_key,
                    "operator": "Exists",
                    "effect": "NoExecute",
                    "tolerationSeconds": TOLERATION_SECONDS,
                }
            )
            added = True
    if added:
        spec["tolerations"] = tolerations


def _default_priority(spec: JsonObject) -> None:
    class_name = spec.get("priorityClassName") or ""
    if class_name:
        priority = SYSTEM_PRIORITY_CLASSES.get(class_name)
        if priority is None:
            # A user-defined class: resolving (or refusing) it needs the PriorityClass objects.
            return
    else:
        priority = 0  # no globalDefault PriorityClass exists in a fresh cluster
    fill(spec, "priority", priority)
    fill(spec, "preemptionPolicy", "PreemptLowerPriority")


def _sync_ips(status: JsonObject, single: str, plural: str) -> None:
    # The v1 API carries both forms; the server keeps them consistent whichever one was sent.
    listed = children(status, plural)
    value = status.get(single)
    if not listed and isinstance(value, str) and value:
        status[plural] = [{"ip": value}]
    elif listed and is_unset(value, zero_is_unset=True) and isinstance(listed[0].get("ip"), str):
        status[single] = listed[0]["ip"]


def default_pod(pod: JsonObject, admission: Admission) -> None:
    """Defaults that apply to Pods but not to pod templates, then the admission plugins."""
    spec = child(pod, "spec")
    if spec is not None:
        containers = children(spec, "containers") + children(spec, "initContainers")
        for container in containers:
            _requests_from_limits(container)
        fill(spec, "enableServiceLinks", True)
        if spec.get("hostNetwork") is True:
            for container in containers:
                _host_network_ports(container)
        sync_service_account(spec)
        if admission.service_account:
            fill(spec, "serviceAccountName", "default", zero_is_unset=True)
            sync_service_account(spec)
        if admission.priority:
            _default_priority(spec)
        if admission.default_toleration_seconds:
            _default_tolerations(spec)
    status = child(pod, "status")
    if status is not None:
        _sync_ips(status, "podIP", "podIPs")
        _sync_ips(status, "hostIP", "hostIPs")


# -- pod specs (pods and templates alike) ----------------------------------------------------------


def default_pod_spec(spec: JsonObject, _: Admission) -> None:
    fill(spec, "restartPolicy", "Always", zero_is_unset=True)
    fill(spec, "terminationGracePeriodSeconds", 30)
    fill(spec, "dnsPolicy", "ClusterFirst", zero_is_unset=True)
    fill(spec, "securityContext", {})
    fill(spec, "schedulerName", "default-scheduler", zero_is_unset=True)
    sync_service_account(spec)


def default_container(container: JsonObject, _: Admission) -> None:
    """Containers, init containers and ephemeral containers."""
    policy = default_pull_policy(container.get("image"))
    fill(container, "imagePullPolicy", policy, zero_is_unset=True)
    fill(container, "terminationMessagePath", "/dev/termination-log", zero_is_unset=True)
    fill(container, "terminationMessagePolicy", "File", zero_is_unset=True)
    # ResourceRequirements is a struct, not a pointer: the server always writes it out.
    fill(container, "resources", {})


def _container_port(port: JsonObject, _: Admission) -> None:
    fill(port, "protocol", "TCP", zero_is_unset=True)


def _probe(probe: JsonObject, _: Admission) -> None:
    fill(probe, "timeoutSeconds", 1, zero_is_unset=True)
    fill(probe, "periodSeconds", 10, zero_is_unset=True)
    fill(probe, "successThreshold", 1, zero_is_unset=True)
    fill(probe, "failureThreshold", 3, zero_is_unset=True)


def _http_get(action: JsonObject, _: Admission) -> None:
    fill(action, "path", "/", zero_is_unset=True)
    fill(action, "scheme", "HTTP", zero_is_unset=True)


def _grpc(action: JsonObject, _: Admission) -> None:
    fill(action, "service", "")


def _field_ref(selector: JsonObject, _: Admission) -> None:
    fill(selector, "apiVersion", "v1", zero_is_unset=True)


def _resource_field_ref(selector: JsonObject, _: Admission) -> None:
    # A Quantity struct, always serialized; its zero value prints as "0".
    fill(selector, "divisor", "0")


# -- volumes -------------------------------------------------------------------------------------


def _volume(volume: JsonObject, _: Admission) -> None:
    if not any(value is not None for key, value in volume.items() if key != "name"):
        volume["emptyDir"] = {}


def _file_mode_source(source: JsonObject, _: Admission) -> None:
    fill(source, "defaultMode", DEFAULT_MODE)


def _token_projection(projection: JsonObject, _: Admission) -> None:
    fill(projection, "expirationSeconds", 3600)


def _host_path(source: JsonObject, _: Admission) -> None:
    fill(source, "type", "")


def _iscsi(source: JsonObject, _: Admission) -> None:
    fill(source, "iscsiInterface", "default", zero_is_unset=True)


def _rbd(source: JsonObject, _: Admission) -> None:
    fill(source, "pool", "rbd", zero_is_unset=True)
    fill(source, "user", "admin", zero_is_unset=True)
    fill(source, "keyring", "/etc/ceph/keyring", zero_is_unset=True)


def _azure_disk(source: JsonObject, _: Admission) -> None:
    fill(source, "cachingMode", "ReadWrite")
    fill(source, "kind", "Shared")
    fill(source, "fsType", "ext4")
    fill(source, "readOnly", False)


def _scale_io(source: JsonObject, _: Admission) -> None:
    fill(source, "storageMode", "ThinProvisioned", zero_is_unset=True)
    fill(source, "fsType", "xfs", zero_is_unset=True)


def _claim_spec(spec: JsonObject, _: Admission) -> None:
    fill(spec, "volumeMode", "Filesystem")


def _image_volume(source: JsonObject, _: Admission) -> None:
    fill(source, "pullPolicy", default_pull_policy(source.get("reference")), zero_is_unset=True)


POD_DEFAULTERS: Mapping[str, Defaulter] = {
    CORE + "Pod": default_pod,
    CORE + "PodSpec": default_pod_spec,
    CORE + "Container": default_container,
    CORE + "EphemeralContainer": default_container,
    CORE + "ContainerPort": _container_port,
    CORE + "Probe": _probe,
    CORE + "HTTPGetAction": _http_get,
    CORE + "GRPCAction": _grpc,
    CORE + "ObjectFieldSelector": _field_ref,
    CORE + "ResourceFieldSelector": _resource_field_ref,
    CORE + "Volume": _volume,
    CORE + "ConfigMapVolumeSource": _file_mode_source,
    CORE + "SecretVolumeSource": _file_mode_source,
    CORE + "DownwardAPIVolumeSource": _file_mode_source,
    CORE + "ProjectedVolumeSource": _file_mode_source,
    CORE + "ServiceAccountTokenProjection": _token_projection,
    CORE + "HostPathVolumeSource": _host_path,
    CORE + "ISCSIVolumeSource": _iscsi,
    CORE + "ISCSIPersistentVolumeSource": _iscsi,
    CORE + "RBDVolumeSource": _rbd,
    CORE + "RBDPersistentVolumeSource": _rbd,
    CORE + "AzureDiskVolumeSource": _azure_disk,
    CORE + "ScaleIOVolumeSource": _scale_io,
    CORE + "ScaleIOPersistentVolumeSource": _scale_io,
    CORE + "PersistentVolumeClaimSpec": _claim_spec,
    CORE + "ImageVolumeSource": _image_volume,
}
"""Defaulters of pod-related types by OpenAPI definition name; each runs wherever its type is."""
