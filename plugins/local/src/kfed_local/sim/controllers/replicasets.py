"""The ReplicaSet controller: keep ``spec.replicas`` pods alive, adopt and release, report status.

Layer: controllers. Like kube-controller-manager's: pods are owned through a controller
ownerReference; matching orphans are adopted and owned pods that stop matching are released;
missing pods are created from the template (``generateName: <rs>-``), surplus pods are deleted
(unscheduled, then pending, then not ready, then the newest first); status counts replicas,
fully labelled, ready and available (ready for ``minReadySeconds``) pods and the observed
generation. Events: SuccessfulCreate, SuccessfulDelete.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping
from typing import Any

from kfed_local.sim import deletion, objects
from kfed_local.sim.controllers.base import Controller, ControllerContext
from kfed_local.sim.selectors import from_label_selector_object
from kfed_local.sim.store import Change

RS = "apps/replicasets"
PODS = "/pods"


def pod_is_ready(pod: Mapping[str, Any]) -> bool:
    """True when the pod's Ready condition is True."""
    ready = objects.condition(pod, "Ready")
    return ready is not None and ready.get("status") == "True"


def pod_is_active(pod: Mapping[str, Any]) -> bool:
    """Counted towards replicas: not terminating and not finished."""
    phase = (pod.get("status") or {}).get("phase")
    return not objects.is_terminating(pod) and phase not in ("Succeeded", "Failed")


def ready_since(pod: Mapping[str, Any]) -> str | None:
    """When the pod last became Ready, if it is."""
    ready = objects.condition(pod, "Ready")
    if ready is None or ready.get("status") != "True":
        return None
    since = ready.get("lastTransitionTime")
    return str(since) if since else None


class ReplicaSetController(Controller):
    """Reconciles ReplicaSets against their pods."""

    name = "replicaset"
    watches = (RS, PODS)

    def __init__(self, ctx: ControllerContext) -> None:
        super().__init__(ctx)
        self.rs_type = self.api.registry.require("apps", "v1", "replicasets")
        self.pod_type = self.api.registry.require("", "v1", "pods")

    def keys_for(self, change: Change) -> Iterable[Hashable]:
        if change.storage_key == RS:
            return ((objects.namespace_of(change.obj), objects.name_of(change.obj)),)
        keys: set[Hashable] = set()
        for version in (change.obj, change.old.obj if change.old else None):
            if version is None:
                continue
            ref = objects.controller_ref(version)
            namespace = objects.namespace_of(version)
            if ref is not None:
                if ref.get("kind") == "ReplicaSet":
                    keys.add((namespace, ref.get("name")))
            elif change.type != "DELETED":
                keys.update(self._matching_replicasets(namespace, objects.labels_of(version)))
        return keys

    def _matching_replicasets(self, namespace: str, labels: Mapping[str, str]) -> list[Hashable]:
        found: list[Hashable] = []
        for entry in self.api.store.items(RS, namespace):
            selector = (entry.obj.get("spec") or {}).get("selector")
            if selector and from_label_selector_object(selector).matches(labels):
                found.append((namespace, objects.name_of(entry.obj)))
        return found

    def reconcile(self, key: Any) -> float | None:
        namespace, name = key
        entry = self.api.store.get(RS, namespace, name)
        if entry is None or objects.is_terminating(entry.obj):
            return None
        rs = entry.obj
        spec = rs.get("spec") or {}
        selector = from_label_selector_object(spec.get("selector") or {})
        uid = rs["metadata"]["uid"]
        owned: list[dict[str, Any]] = []
        for pod_entry in self.api.store.items(PODS, namespace):
            pod = pod_entry.obj
            ref = objects.controller_ref(pod)
            matches = selector.matches(objects.labels_of(pod))
            if ref is not None and ref.get("uid") == uid:
                if matches:
                    owned.append(pod)
                elif not objects.is_terminating(pod):
                    self._release(pod, uid)
            elif ref is None and matches and pod_is_active(pod):
                owned.append(self._adopt(rs, pod))
        active = [p for p in owned if pod_is_active(p)]
        wanted = int(spec.get("replicas", 1))
        if len(active) < wanted:
            for _ in range(wanted - len(active)):
                active.append(self._create_pod(rs))
        elif len(active) > wanted:
            for pod in _deletion_order(active)[: len(active) - wanted]:
                self._delete_pod(rs, pod)
                active.remove(pod)
        return self._update_status(rs, owned, active)

    def _adopt(self, rs: dict[str, Any], pod: dict[str, Any]) -> dict[str, Any]:
        updated = objects.clone(pod)
        refs = updated["metadata"].setdefault("ownerReferences", [])
        refs.append(objects.owner_reference(rs))
        return self.api.update(
            self.pod_type, objects.namespace_of(pod), objects.name_of(pod), updated, self.writer
        ).obj

    def _release(self, pod: dict[str, Any], uid: str) -> None:
        updated = objects.clone(pod)
        refs = [r for r in updated["metadata"].get("ownerReferences") or () if r.get("uid") != uid]
        updated["metadata"]["ownerReferences"] = refs
        self.api.update(
            self.pod_type, objects.namespace_of(pod), objects.name_of(pod), updated, self.writer
        )

    def _create_pod(self, rs: dict[str, Any]) -> dict[str, Any]:
        template = (rs.get("spec") or {}).get("template") or {}
        template_meta = template.get("metadata") or {}
        metadata: dict[str, Any] = {
            "generateName": f"{objects.name_of(rs)}-",
            "namespace": objects.namespace_of(rs),
            "ownerReferences": [objects.owner_reference(rs)],
        }
        for key in ("labels", "annotations", "finalizers"):
            if template_meta.get(key):
                metadata[key] = objects.clone(template_meta[key])
        body = {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": metadata,
            "spec": objects.clone(template.get("spec") or {}),
        }
        pod = self.api.create(self.pod_type, objects.namespace_of(rs), body, self.writer).obj
        self.ctx.events.record(
            rs,
            "Normal",
            "SuccessfulCreate",
            f"Created pod: {objects.name_of(pod)}",
            component="replicaset-controller",
        )
        return pod

    def _delete_pod(self, rs: dict[str, Any], pod: dict[str, Any]) -> None:
        deleted = deletion.delete_if_present(
            self.api,
            self.pod_type,
            objects.namespace_of(pod),
            objects.name_of(pod),
            deletion.DeleteOptions(),
            self.writer,
        )
        if not deleted:
            return
        self.ctx.events.record(
            rs,
            "Normal",
            "SuccessfulDelete",
            f"Deleted pod: {objects.name_of(pod)}",
            component="replicaset-controller",
        )

    def _update_status(
        self, rs: dict[str, Any], owned: list[dict[str, Any]], active: list[dict[str, Any]]
    ) -> float | None:
        spec = rs.get("spec") or {}
        template_labels = ((spec.get("template") or {}).get("metadata") or {}).get("labels") or {}
        min_ready = int(spec.get("minReadySeconds", 0) or 0)
        now = self.api.clock()
        ready = [p for p in active if pod_is_ready(p)]
        available = 0
        recheck: float | None = None
        for pod in ready:
            since = ready_since(pod)
            waited = (now - objects.parse_time(since)).total_seconds() if since else 0.0
            if waited >= min_ready:
                available += 1
            else:
                remaining = min_ready - waited
                recheck = remaining if recheck is None else min(recheck, remaining)
        status: dict[str, Any] = {
            "replicas": len(active),
            "fullyLabeledReplicas": sum(
                1
                for p in active
                if all(objects.labels_of(p).get(k) == v for k, v in template_labels.items())
            ),
            "readyReplicas": len(ready),
            "availableReplicas": available,
            "terminatingReplicas": sum(1 for p in owned if objects.is_terminating(p)),
            "observedGeneration": rs["metadata"].get("generation", 1),
        }
        for key in (
            "readyReplicas",
            "availableReplicas",
            "fullyLabeledReplicas",
            "terminatingReplicas",
        ):
            if not status[key]:
                del status[key]
        old_status = rs.get("status") or {}
        if {k: v for k, v in old_status.items() if k != "conditions"} != status:
            latest = self.api.store.get(RS, objects.namespace_of(rs), objects.name_of(rs))
            if latest is None:
                return None
            updated = objects.clone(latest.obj)
            if old_status.get("conditions"):
                status["conditions"] = old_status["conditions"]
            updated["status"] = status
            self.api.update(
                self.rs_type,
                objects.namespace_of(rs),
                objects.name_of(rs),
                updated,
                self.writer,
                subresource="status",
            )
        return recheck


def _deletion_order(pods: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Pods in the order the controller deletes surplus ones: least useful first."""

    def rank(pod: dict[str, Any]) -> tuple[int, int, int, str]:
        spec = pod.get("spec") or {}
        phase = (pod.get("status") or {}).get("phase")
        return (
            0 if not spec.get("nodeName") else 1,
            {"Pending": 0, "Unknown": 1}.get(phase or "", 2),
            1 if pod_is_ready(pod) else 0,
            _negated(pod["metadata"].get("creationTimestamp", "")),
        )

    return sorted(pods, key=rank)


def _negated(timestamp: str) -> str:
    # Newer pods go first: invert each digit so that a plain string sort is newest-first.
    return "".join(chr(ord("9") - ord(c) + ord("0")) if c.isdigit() else c for c in timestamp)
