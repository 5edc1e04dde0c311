"""Namespace lifecycle: per-namespace defaults, and emptying a terminating namespace.

Layer: controllers. Plays three kube-controller-manager loops: the namespace controller (delete
everything in a terminating namespace, then drop the ``kubernetes`` finalizer so the namespace
goes away), the service account controller (a ``default`` ServiceAccount in every namespace) and
the root CA publisher (a ``kube-root-ca.crt`` ConfigMap holding the cluster CA).
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable
from typing import Any

from kfed_local.sim import deletion, objects
from kfed_local.sim.api import RequestContext
from kfed_local.sim.controllers.base import Controller
from kfed_local.sim.errors import ApiError
from kfed_local.sim.store import Change

ROOT_CA_CONFIGMAP = "kube-root-ca.crt"


class NamespaceController(Controller):
    """Keeps namespaces furnished while they live and empties them when they terminate."""

    name = "namespace"
    watches = ("/namespaces", "/serviceaccounts", "/configmaps")

    def keys_for(self, change: Change) -> Iterable[Hashable]:
        if change.storage_key == "/namespaces":
            return (objects.name_of(change.obj),)
        # A deleted default ServiceAccount or root CA ConfigMap is recreated.
        if change.type == "DELETED" and objects.name_of(change.obj) in (
            "default",
            ROOT_CA_CONFIGMAP,
        ):
            return (objects.namespace_of(change.obj),)
        return ()

    def reconcile(self, key: Any) -> float | None:
        entry = self.api.store.get("/namespaces", "", key)
        if entry is None:
            return None
        namespace = entry.obj
        if objects.is_terminating(namespace):
            return self._empty(namespace)
        self._ensure_default_service_account(key)
        self._ensure_root_ca(key)
        return None

    def _ensure_default_service_account(self, namespace: str) -> None:
        accounts = self.api.registry.require("", "v1", "serviceaccounts")
        if self.api.store.get(accounts.storage_key, namespace, "default") is None:
            body = {
                "apiVersion": "v1",
                "kind": "ServiceAccount",
                "metadata": {"name": "default", "namespace": namespace},
            }
            self._create_quietly(accounts, namespace, body)

    def _ensure_root_ca(self, namespace: str) -> None:
        ca_pem = self.ctx.extra.get("ca_pem")
        configmaps = self.api.registry.require("", "v1", "configmaps")
        if not ca_pem or self.api.store.get(configmaps.storage_key, namespace, ROOT_CA_CONFIGMAP):
            return
        body = {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {
                "name": ROOT_CA_CONFIGMAP,
                "namespace": namespace,
                "annotations": {
                    "kubernetes.io/description": (
                        "Contains a CA bundle that can be used to verify the kube-apiserver when "
                        "using internal endpoints such as the internal service IP or "
                        "kubernetes.default.svc. No other usage is guaranteed across distributions "
                        "of Kubernetes clusters."
                    )
                },
            },
            "data": {"ca.crt": ca_pem},
        }
        self._create_quietly(configmaps, namespace, body)

    def _create_quietly(self, rt: Any, namespace: str, body: dict[str, Any]) -> None:
        ctx = RequestContext(field_manager=self.manager, field_validation="Ignore")
        try:
            self.api.create(rt, namespace, body, ctx)
        except ApiError as exc:
            if exc.code not in (403, 404, 409):  # terminating, gone, or created meanwhile
                raise

    def _empty(self, namespace: dict[str, Any]) -> float | None:
        name = objects.name_of(namespace)
        remaining = 0
        options = deletion.DeleteOptions(propagation_policy="Background")
        for rt in self.api.registry:
            if not rt.namespaced or rt.version != _stored_version(
                self.api.registry, rt.storage_key
            ):
                continue
            for item in self.api.store.items(rt.storage_key, name):
                remaining += 1
                if objects.is_terminating(item.obj):
                    continue
                deletion.delete_if_present(
                    self.api, rt, name, objects.name_of(item.obj), options, self.writer
                )
        if remaining:
            return 0.2  # pods and finalizers take their time; look again shortly
        spec_finalizers = (namespace.get("spec") or {}).get("finalizers") or []
        if "kubernetes" in spec_finalizers:
            namespaces = self.api.registry.require("", "v1", "namespaces")
            updated = objects.clone(namespace)
            updated["spec"]["finalizers"] = [f for f in spec_finalizers if f != "kubernetes"]
            self.api.update(namespaces, "", name, updated, self.writer, subresource="finalize")
        return None


def _stored_version(registry: Any, storage_key: str) -> str:
    # Objects are stored once per resource; visit each resource through one of its versions.
    versions = [t.version for t in registry.for_storage_key(storage_key)]
    return versions[0] if versions else ""
