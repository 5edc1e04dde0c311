"""The Deployment controller: ReplicaSets per template, rolling updates, status and conditions.

Layer: controllers. Follows kube-controller-manager's deployment controller closely enough for
``kubectl rollout status`` and for agents that read Deployment status:

* one ReplicaSet per pod template, named ``<deployment>-<pod-template-hash>``, its selector and
  template labelled with that hash, annotated with the revision;
* RollingUpdate: the new ReplicaSet grows within ``maxSurge`` and old ones shrink while at least
  ``replicas - maxUnavailable`` pods stay available; Recreate: old ones go to zero first;
* status: replicas, updatedReplicas, readyReplicas, availableReplicas, unavailableReplicas,
  observedGeneration, and the Available and Progressing conditions with the real reasons;
* old ReplicaSets beyond ``revisionHistoryLimit`` are deleted. Events: ScalingReplicaSet.

Simplified (said in the docs): progress deadlines are not timed (Progressing never turns to
ProgressDeadlineExceeded), and scaling during a rollout is not proportional.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Hashable, Iterable, Mapping
from typing import Any

from kfed_local.sim import deletion, objects
from kfed_local.sim.controllers.base import Controller, ControllerContext
from kfed_local.sim.selectors import from_label_selector_object
from kfed_local.sim.store import Change

DEPLOYMENTS = "apps/deployments"
RS = "apps/replicasets"
HASH_LABEL = "pod-template-hash"
REVISION = "deployment.kubernetes.io/revision"
DESIRED = "deployment.kubernetes.io/desired-replicas"
MAX = "deployment.kubernetes.io/max-replicas"
_SAFE = "bcdfghjklmnpqrstvwxz2456789"


def template_hash(template: Mapping[str, Any], collision_count: int = 0) -> str:
    """The ``pod-template-hash`` of a template: a stable short name-safe string."""
    encoded = json.dumps(template, sort_keys=True, separators=(",", ":")).encode()
    digest = hashlib.sha256(encoded + str(collision_count).encode()).digest()
    number = str(int.from_bytes(digest[:4], "big"))
    return "".join(_SAFE[ord(c) % len(_SAFE)] for c in number)


def _without_hash(template: Mapping[str, Any]) -> dict[str, Any]:
    copy = objects.clone(dict(template))
    labels = (copy.get("metadata") or {}).get("labels")
    if labels:
        labels.pop(HASH_LABEL, None)
    return copy


def resolve_int_or_percent(value: Any, total: int, *, round_up: bool) -> int:
    """``25%`` of ``total`` (rounded up for surge, down for unavailable) or an absolute count."""
    if isinstance(value, str) and value.endswith("%"):
        fraction = int(value[:-1]) * total / 100
        return math.ceil(fraction) if round_up else math.floor(fraction)
    return int(value or 0)


class DeploymentController(Controller):
    """Reconciles Deployments into ReplicaSets."""

    name = "deployment"
    watches = (DEPLOYMENTS, RS)

    def __init__(self, ctx: ControllerContext) -> None:
        super().__init__(ctx)
        self.deploy_type = self.api.registry.require("apps", "v1", "deployments")
        self.rs_type = self.api.registry.require("apps", "v1", "replicasets")

    def keys_for(self, change: Change) -> Iterable[Hashable]:
        namespace = objects.namespace_of(change.obj)
        if change.storage_key == DEPLOYMENTS:
            return ((namespace, objects.name_of(change.obj)),)
        ref = objects.controller_ref(change.obj)
        if ref is not None and ref.get("kind") == "Deployment":
            return ((namespace, ref.get("name")),)
        return ()

    def reconcile(self, key: Any) -> float | None:
        namespace, name = key
        entry = self.api.store.get(DEPLOYMENTS, namespace, name)
        if entry is None or objects.is_terminating(entry.obj):
            return None
        deployment = entry.obj
        spec = deployment.get("spec") or {}
        replicas = int(spec.get("replicas", 1))
        owned = self._owned_replicasets(deployment)
        template = spec.get("template") or {}
        new_rs = next(
            (
                rs
                for rs in owned
                if _without_hash(rs["spec"].get("template") or {}) == _without_hash(template)
            ),
            None,
        )
        old = [rs for rs in owned if rs is not new_rs]
        if spec.get("paused"):
            self._update_status(deployment, new_rs, old)
            return None
        if new_rs is None:
            new_rs = self._create_replicaset(deployment, owned)
        else:
            new_rs = self._ensure_revision(deployment, new_rs, old)
        strategy = spec.get("strategy") or {}
        if strategy.get("type") == "Recreate":
            self._recreate(deployment, new_rs, old, replicas)
        else:
            rolling = strategy.get("rollingUpdate") or {}
            surge = resolve_int_or_percent(rolling.get("maxSurge", "25%"), replicas, round_up=True)
            unavailable = resolve_int_or_percent(
                rolling.get("maxUnavailable", "25%"), replicas, round_up=False
            )
            if surge == 0 and unavailable == 0:
                unavailable = 1
            self._roll(deployment, new_rs, old, replicas, surge, unavailable)
        self._clean_up(deployment, old)
        self._update_status(deployment, self._fresh(new_rs), [self._fresh(rs) for rs in old])
        return None

    # -- ReplicaSets ---------------------------------------------------------------------------

    def _owned_replicasets(self, deployment: dict[str, Any]) -> list[dict[str, Any]]:
        uid = deployment["metadata"]["uid"]
        selector = from_label_selector_object((deployment.get("spec") or {}).get("selector") or {})
        owned = []
        for entry in self.api.store.items(RS, objects.namespace_of(deployment)):
            rs = entry.obj
            ref = objects.controller_ref(rs)
            if ref is not None and ref.get("uid") == uid and not objects.is_terminating(rs):
                owned.append(rs)
            elif (
                ref is None
                and selector.matches(
                    ((rs.get("spec") or {}).get("template") or {}).get("metadata", {}).get("labels")
                    or {}
                )
                and not objects.is_terminating(rs)
            ):
                adopted = objects.clone(rs)
                adopted["metadata"].setdefault("ownerReferences", []).append(
                    objects.owner_reference(deployment)
                )
                owned.append(
                    self.api.update(
                        self.rs_type,
                        objects.namespace_of(rs),
                        objects.name_of(rs),
                        adopted,
                        self.writer,
                    ).obj
                )
        return owned

    def _fresh(self, rs: dict[str, Any]) -> dict[str, Any]:
        entry = self.api.store.get(RS, objects.namespace_of(rs), objects.name_of(rs))
        return entry.obj if entry is not None else rs

    def _create_replicaset(
        self, deployment: dict[str, Any], owned: list[dict[str, Any]]
    ) -> dict[str, Any]:
        spec = deployment.get("spec") or {}
        collisions = int((deployment.get("status") or {}).get("collisionCount", 0))
        template = objects.clone(spec.get("template") or {})
        pod_hash = template_hash(template, collisions)
        template.setdefault("metadata", {}).setdefault("labels", {})[HASH_LABEL] = pod_hash
        selector = objects.clone(spec.get("selector") or {})
        selector.setdefault("matchLabels", {})[HASH_LABEL] = pod_hash
        revision = max((_revision(rs) for rs in owned), default=0) + 1
        replicas = int(spec.get("replicas", 1))
        labels = dict(((spec.get("template") or {}).get("metadata") or {}).get("labels") or {})
        labels[HASH_LABEL] = pod_hash
        body = {
            "apiVersion": "apps/v1",
            "kind": "ReplicaSet",
            "metadata": {
                "name": f"{objects.name_of(deployment)}-{pod_hash}",
                "namespace": objects.namespace_of(deployment),
                "labels": labels,
                "annotations": {
                    REVISION: str(revision),
                    DESIRED: str(replicas),
                    MAX: str(replicas + self._surge(deployment)),
                },
                "ownerReferences": [objects.owner_reference(deployment)],
            },
            "spec": {
                "replicas": 0,
                "minReadySeconds": spec.get("minReadySeconds", 0),
                "selector": selector,
                "template": template,
            },
        }
        rs = self.api.create(self.rs_type, objects.namespace_of(deployment), body, self.writer).obj
        self._set_progressing(
            deployment, "NewReplicaSetCreated", f'Created new replica set "{objects.name_of(rs)}"'
        )
        return rs

    def _surge(self, deployment: Mapping[str, Any]) -> int:
        spec = deployment.get("spec") or {}
        strategy = spec.get("strategy") or {}
        if strategy.get("type") == "Recreate":
            return 0
        rolling = strategy.get("rollingUpdate") or {}
        return resolve_int_or_percent(
            rolling.get("maxSurge", "25%"), int(spec.get("replicas", 1)), round_up=True
        )

    def _ensure_revision(
        self, deployment: dict[str, Any], new_rs: dict[str, Any], old: list[dict[str, Any]]
    ) -> dict[str, Any]:
        newest_old = max((_revision(rs) for rs in old), default=0)
        if _revision(new_rs) > newest_old:
            return new_rs
        updated = objects.clone(new_rs)
        updated["metadata"].setdefault("annotations", {})[REVISION] = str(newest_old + 1)
        return self.api.update(
            self.rs_type,
            objects.namespace_of(new_rs),
            objects.name_of(new_rs),
            updated,
            self.writer,
        ).obj

    def _scale(
        self, deployment: dict[str, Any], rs: dict[str, Any], replicas: int
    ) -> dict[str, Any]:
        current = int((rs.get("spec") or {}).get("replicas", 0))
        if current == replicas:
            return rs
        updated = objects.clone(self._fresh(rs))
        updated["spec"]["replicas"] = replicas
        annotations = updated["metadata"].setdefault("annotations", {})
        desired = int((deployment.get("spec") or {}).get("replicas", 1))
        annotations[DESIRED] = str(desired)
        annotations[MAX] = str(desired + self._surge(deployment))
        result = self.api.update(
            self.rs_type, objects.namespace_of(rs), objects.name_of(rs), updated, self.writer
        ).obj
        direction = "up" if replicas > current else "down"
        self.ctx.events.record(
            deployment,
            "Normal",
            "ScalingReplicaSet",
            f"Scaled {direction} replica set {objects.name_of(rs)} from {current} to {replicas}",
            component="deployment-controller",
        )
        return result

    # -- strategies ----------------------------------------------------------------------------

    def _recreate(
        self,
        deployment: dict[str, Any],
        new_rs: dict[str, Any],
        old: list[dict[str, Any]],
        replicas: int,
    ) -> None:
        for rs in old:
            self._scale(deployment, rs, 0)
        if all(int((self._fresh(rs).get("status") or {}).get("replicas", 0)) == 0 for rs in old):
            self._scale(deployment, new_rs, replicas)

    def _roll(
        self,
        deployment: dict[str, Any],
        new_rs: dict[str, Any],
        old: list[dict[str, Any]],
        replicas: int,
        surge: int,
        max_unavailable: int,
    ) -> None:
        new_replicas = int(new_rs["spec"].get("replicas", 0))
        old_total = sum(int(rs["spec"].get("replicas", 0)) for rs in old)
        if not old_total:
            self._scale(deployment, new_rs, replicas)
            return
        # Scale up the new ReplicaSet within the surge allowance.
        room = replicas + surge - (new_replicas + old_total)
        if new_replicas < replicas and room > 0:
            new_rs = self._scale(deployment, new_rs, min(replicas, new_replicas + room))
        # Scale down old ReplicaSets while enough pods stay available.
        new_rs = self._fresh(new_rs)
        available = sum(
            int((self._fresh(rs).get("status") or {}).get("availableReplicas", 0))
            for rs in [new_rs, *old]
        )
        min_available = replicas - max_unavailable
        # Old pods that are not available can go at once: they serve no one.
        budget = max(available - min_available, 0)
        for rs in sorted(old, key=_revision):
            rs = self._fresh(rs)
            current = int(rs["spec"].get("replicas", 0))
            if not current:
                continue
            unavailable_here = current - int((rs.get("status") or {}).get("availableReplicas", 0))
            cut = min(current, max(unavailable_here, 0) + budget)
            budget -= max(cut - max(unavailable_here, 0), 0)
            if cut:
                self._scale(deployment, rs, current - cut)

    def _clean_up(self, deployment: dict[str, Any], old: list[dict[str, Any]]) -> None:
        limit = int((deployment.get("spec") or {}).get("revisionHistoryLimit", 10))
        idle = [
            rs
            for rs in (self._fresh(r) for r in old)
            if int(rs["spec"].get("replicas", 0)) == 0
            and int((rs.get("status") or {}).get("replicas", 0)) == 0
        ]
        for rs in sorted(idle, key=_revision)[: max(len(idle) - limit, 0)]:
            deletion.delete_if_present(
                self.api,
                self.rs_type,
                objects.namespace_of(rs),
                objects.name_of(rs),
                deletion.DeleteOptions(),
                self.writer,
            )

    # -- status --------------------------------------------------------------------------------

    def _set_progressing(self, deployment: dict[str, Any], reason: str, message: str) -> None:
        self.ctx.extra.setdefault("progress", {})[deployment["metadata"]["uid"]] = (reason, message)

    def _update_status(
        self, deployment: dict[str, Any], new_rs: dict[str, Any] | None, old: list[dict[str, Any]]
    ) -> None:
        spec = deployment.get("spec") or {}
        wanted = int(spec.get("replicas", 1))
        all_rs = ([new_rs] if new_rs else []) + old

        def total(field: str) -> int:
            return sum(int((rs.get("status") or {}).get(field, 0)) for rs in all_rs)

        available = total("availableReplicas")
        updated_replicas = int(((new_rs or {}).get("status") or {}).get("replicas", 0))
        status: dict[str, Any] = {
            "observedGeneration": deployment["metadata"].get("generation", 1),
            "replicas": total("replicas"),
            "updatedReplicas": updated_replicas,
            "readyReplicas": total("readyReplicas"),
            "availableReplicas": available,
            "unavailableReplicas": max(wanted - available, 0),
        }
        terminating = total("terminatingReplicas")
        if terminating:
            status["terminatingReplicas"] = terminating
        old_status = deployment.get("status") or {}
        if "collisionCount" in old_status:
            status["collisionCount"] = old_status["collisionCount"]
        for key in (
            "replicas",
            "updatedReplicas",
            "readyReplicas",
            "availableReplicas",
            "unavailableReplicas",
        ):
            if not status[key]:
                del status[key]
        now = self.api.now()
        conditions = list(old_status.get("conditions") or [])
        rolling = (spec.get("strategy") or {}).get("rollingUpdate") or {}
        max_unavailable = resolve_int_or_percent(
            rolling.get("maxUnavailable", "25%"), wanted, round_up=False
        )
        if available >= wanted - max_unavailable:
            conditions = objects.set_condition(
                conditions,
                "Available",
                "True",
                reason="MinimumReplicasAvailable",
                message="Deployment has minimum availability.",
                now=now,
                probe_time=False,
            )
        else:
            conditions = objects.set_condition(
                conditions,
                "Available",
                "False",
                reason="MinimumReplicasUnavailable",
                message="Deployment does not have minimum availability.",
                now=now,
            )
        conditions = self._progressing(deployment, new_rs, old, conditions, now)
        status["conditions"] = _ordered(conditions)
        if {k: v for k, v in old_status.items() if k != "conditions"} == {
            k: v for k, v in status.items() if k != "conditions"
        } and _same_conditions(old_status.get("conditions") or [], status["conditions"]):
            return
        latest = self.api.store.get(
            DEPLOYMENTS, objects.namespace_of(deployment), objects.name_of(deployment)
        )
        if latest is None:
            return
        updated = objects.clone(latest.obj)
        updated["status"] = status
        self.api.update(
            self.deploy_type,
            objects.namespace_of(deployment),
            objects.name_of(deployment),
            updated,
            self.writer,
            subresource="status",
        )

    def _progressing(
        self,
        deployment: dict[str, Any],
        new_rs: dict[str, Any] | None,
        old: list[dict[str, Any]],
        conditions: list[dict[str, Any]],
        now: str,
    ) -> list[dict[str, Any]]:
        if new_rs is None:
            return conditions
        name = objects.name_of(new_rs)
        wanted = int((deployment.get("spec") or {}).get("replicas", 1))
        new_status = new_rs.get("status") or {}
        complete = (
            int(new_status.get("replicas", 0)) == wanted
            and int(new_status.get("availableReplicas", 0)) == wanted
            and not any(int((rs.get("status") or {}).get("replicas", 0)) for rs in old)
        )
        pending = self.ctx.extra.get("progress", {}).pop(deployment["metadata"]["uid"], None)
        if complete:
            reason, message = (
                "NewReplicaSetAvailable",
                f'ReplicaSet "{name}" has successfully progressed.',
            )
        elif pending is not None:
            reason, message = pending
        else:
            reason, message = "ReplicaSetUpdated", f'ReplicaSet "{name}" is progressing.'
        current = objects.condition({"status": {"conditions": conditions}}, "Progressing")
        if (
            current is not None
            and current.get("reason") == "NewReplicaSetCreated"
            and not complete
            and pending is None
        ):
            return conditions
        if (
            current is not None
            and current.get("reason") == reason
            and current.get("message") == message
        ):
            return conditions
        result = objects.set_condition(
            conditions, "Progressing", "True", reason=reason, message=message, now=now
        )
        for item in result:
            if item.get("type") == "Progressing":
                item["lastUpdateTime"] = now
        return result


def _revision(rs: Mapping[str, Any]) -> int:
    try:
        return int(((rs.get("metadata") or {}).get("annotations") or {}).get(REVISION, "0"))
    except ValueError:
        return 0


def _ordered(conditions: list[dict[str, Any]]) -> list[dict[str, Any]]:
    order = {"Available": 0, "Progressing": 1}
    return sorted(conditions, key=lambda c: order.get(c.get("type", ""), 2))


def _same_conditions(old: list[dict[str, Any]], new: list[dict[str, Any]]) -> bool:
    def strip(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [
            {k: v for k, v in c.items() if k not in ("lastUpdateTime", "lastTransitionTime")}
            for c in items
        ]

    return strip(old) == strip(new)
