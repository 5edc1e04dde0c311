"""Translation of legacy API versions (the 2016 blog's manifests) to the ones clusters serve today.

Layer: ``kfed_hub.planning``, pure: a manifest in, a translated deep copy and notes out; the input
is never mutated; no clock, no I/O, no logging.

- ``extensions/v1beta1``, ``apps/v1beta1`` and ``apps/v1beta2`` ReplicaSet, Deployment and
  DaemonSet become ``apps/v1``. A missing ``spec.selector`` is defaulted from the template's
  labels (``matchLabels``), and for the two v1beta1 versions empty ``metadata.labels`` too, as
  those versions did. ``spec.rollbackTo`` and ``spec.templateGeneration`` (gone in apps/v1) are
  dropped.
- Old defaults that change what a workload *does* are written out, so that a manifest keeps the
  behaviour it was written for: an extensions/v1beta1 Deployment rolls with maxUnavailable 1 and
  maxSurge 1 (apps/v1: 25 % each, which is 2 and 3 for the blog's 9 replicas); an apps/v1beta1
  Deployment keeps 2 old ReplicaSets (apps/v1: 10); an extensions/v1beta1 DaemonSet updates
  OnDelete (apps/v1 would roll every node's pod on the first template change). Two old defaults
  are deliberately *not* carried: extensions/v1beta1 kept every old ReplicaSet forever (unbounded,
  and multiplied by every member cluster; apps/v1 keeps 10) and set no progress deadline (apps/v1's
  600 s only adds the Progressing condition that kfed's status reads). Both are noted.
- ``extensions/v1beta1`` and ``networking.k8s.io/v1beta1`` Ingress become
  ``networking.k8s.io/v1``: ``serviceName``/``servicePort`` backends become ``service.name`` and
  ``port.number`` (integer) or ``port.name`` (string), ``spec.backend`` becomes
  ``spec.defaultBackend``, a missing ``pathType`` becomes ``ImplementationSpecific`` (what v1beta1
  meant), and annotations such as ``kubernetes.io/ingress.class`` stay as they are.

Anything else comes back as the very same object, with no notes.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any, NamedTuple

APPS_V1 = "apps/v1"
NETWORKING_V1 = "networking.k8s.io/v1"
_WORKLOAD_VERSIONS = frozenset({"extensions/v1beta1", "apps/v1beta1", "apps/v1beta2"})
_WORKLOAD_KINDS = frozenset({"ReplicaSet", "Deployment", "DaemonSet"})
_INGRESS_VERSIONS = frozenset({"extensions/v1beta1", "networking.k8s.io/v1beta1"})
_V1BETA1 = frozenset({"extensions/v1beta1", "apps/v1beta1"})


class TranslationError(ValueError):
    """A legacy manifest that cannot be translated; the message names the field."""


class Translation(NamedTuple):
    """The translated manifest and what changed (for events); unpacks as ``manifest, notes``."""

    manifest: dict[str, Any]
    notes: tuple[str, ...] = ()


def translate(manifest: Mapping[str, Any]) -> Translation:
    """``manifest`` in a current API version, with a note per change.

    Legacy workloads and Ingresses come back as translated deep copies; anything else as the
    same object (a dict of it, if it was another mapping) with no notes. Raises
    :class:`TranslationError` naming a field that cannot be translated and what to write
    instead.
    """
    api_version, kind = manifest.get("apiVersion"), manifest.get("kind")
    if api_version in _WORKLOAD_VERSIONS and kind in _WORKLOAD_KINDS:
        return _workload(manifest, str(api_version), str(kind))
    if api_version in _INGRESS_VERSIONS and kind == "Ingress":
        return _ingress(manifest, str(api_version))
    return Translation(manifest=manifest if isinstance(manifest, dict) else dict(manifest))


def _spec(manifest: dict[str, Any], kind: str) -> dict[str, Any]:
    spec = manifest.get("spec")
    if not isinstance(spec, dict):
        raise TranslationError(f"{kind} {_name(manifest)}: spec must be an object")
    return spec


def _name(manifest: Mapping[str, Any]) -> str:
    metadata = manifest.get("metadata") or {}
    return repr(metadata.get("name", "")) if isinstance(metadata, Mapping) else "''"


def _template_labels(spec: Mapping[str, Any]) -> dict[str, Any] | None:
    template = spec.get("template")
    metadata = template.get("metadata") if isinstance(template, Mapping) else None
    labels = metadata.get("labels") if isinstance(metadata, Mapping) else None
    return dict(labels) if isinstance(labels, Mapping) and labels else None


def _workload(original: Mapping[str, Any], api_version: str, kind: str) -> Translation:
    manifest = copy.deepcopy(dict(original))
    manifest["apiVersion"] = APPS_V1
    notes = [f"apiVersion {api_version} translated to {APPS_V1}"]
    spec = _spec(manifest, kind)
    labels = _template_labels(spec)
    if spec.get("selector") is None:
        if labels is None:
            raise TranslationError(
                f"{kind} {_name(manifest)}: spec.selector is missing and "
                "spec.template.metadata.labels is empty, so no selector can be defaulted; "
                "add spec.selector.matchLabels"
            )
        spec["selector"] = {"matchLabels": dict(labels)}
        shown = ",".join(f"{k}={v}" for k, v in sorted(labels.items()))
        notes.append(f"spec.selector defaulted to matchLabels {shown} (the template's labels)")
    if not isinstance(manifest.get("metadata"), dict):
        manifest["metadata"] = {}
    metadata = manifest["metadata"]
    if api_version in _V1BETA1 and labels is not None and not metadata.get("labels"):
        metadata["labels"] = dict(labels)
        notes.append(f"metadata.labels defaulted from the template's labels, as {api_version} did")
    for field in ("rollbackTo", "templateGeneration"):
        if spec.pop(field, None) is not None:
            notes.append(f"spec.{field} dropped: {APPS_V1} has no such field")
    if kind == "Deployment":
        notes.extend(_deployment_defaults(spec, api_version))
    if (
        kind == "DaemonSet"
        and api_version == "extensions/v1beta1"
        and not spec.get("updateStrategy")
    ):
        spec["updateStrategy"] = {"type": "OnDelete"}
        notes.append(
            "spec.updateStrategy set to OnDelete, the extensions/v1beta1 default "
            f"({APPS_V1} would roll every pod on a template change)"
        )
    return Translation(manifest=manifest, notes=tuple(notes))


def _deployment_defaults(spec: dict[str, Any], api_version: str) -> list[str]:
    notes = []
    strategy = spec.setdefault("strategy", {})
    if (
        api_version == "extensions/v1beta1"
        and strategy.get("type", "RollingUpdate") == "RollingUpdate"
    ):
        rolling = strategy.setdefault("rollingUpdate", {})
        carried = [f for f in ("maxUnavailable", "maxSurge") if rolling.get(f) is None]
        for field in carried:
            rolling[field] = 1
        if carried:
            notes.append(
                f"spec.strategy.rollingUpdate {' and '.join(carried)} set to 1, the "
                f"extensions/v1beta1 default ({APPS_V1} would use 25%)"
            )
    if not strategy:
        del spec["strategy"]
    if spec.get("revisionHistoryLimit") is None:
        if api_version == "apps/v1beta1":
            spec["revisionHistoryLimit"] = 2
            notes.append(
                f"spec.revisionHistoryLimit set to 2, the apps/v1beta1 default ({APPS_V1}: 10)"
            )
        elif api_version == "extensions/v1beta1":
            notes.append(
                f"spec.revisionHistoryLimit left to the {APPS_V1} default of 10 "
                "(extensions/v1beta1 kept every old ReplicaSet; set it to keep more)"
            )
    if api_version == "extensions/v1beta1" and spec.get("progressDeadlineSeconds") is None:
        notes.append(
            f"spec.progressDeadlineSeconds left to the {APPS_V1} default of 600 "
            "(extensions/v1beta1 had no deadline)"
        )
    return notes


def _port(port: Any, where: str) -> dict[str, Any]:
    if isinstance(port, int) and not isinstance(port, bool):
        return {"number": port}
    if isinstance(port, str) and port.isdigit():
        # A string of digits can never name a port (names need a letter): it meant the number.
        return {"number": int(port)}
    if isinstance(port, str) and port:
        return {"name": port}
    raise TranslationError(f"{where}.servicePort must be a port number or name, got {port!r}")


def _backend(old: Any, where: str) -> dict[str, Any]:
    if not isinstance(old, Mapping):
        raise TranslationError(f"{where} must be an object with serviceName and servicePort")
    new: dict[str, Any] = {}
    if old.get("serviceName") is not None or old.get("servicePort") is not None:
        name = old.get("serviceName")
        if not isinstance(name, str) or not name:
            raise TranslationError(f"{where}.serviceName must be a service name, got {name!r}")
        new["service"] = {"name": name, "port": _port(old.get("servicePort"), where)}
    if old.get("resource") is not None:
        if new:
            raise TranslationError(f"{where} names both a service and a resource; keep one")
        new["resource"] = copy.deepcopy(old["resource"])
    if not new:
        raise TranslationError(f"{where} names neither serviceName/servicePort nor resource")
    return new


def _ingress(original: Mapping[str, Any], api_version: str) -> Translation:
    manifest = copy.deepcopy(dict(original))
    manifest["apiVersion"] = NETWORKING_V1
    notes = [f"apiVersion {api_version} translated to {NETWORKING_V1}"]
    where = f"Ingress {_name(manifest)}: spec"
    spec = _spec(manifest, "Ingress")
    if "backend" in spec:
        spec["defaultBackend"] = _backend(spec.pop("backend"), f"{where}.backend")
        notes.append("spec.backend translated to spec.defaultBackend")
    moved = defaulted = 0
    for r, rule in enumerate(spec.get("rules") or []):
        http = rule.get("http") if isinstance(rule, dict) else None
        for p, path in enumerate((http or {}).get("paths") or []):
            if not isinstance(path, dict):
                raise TranslationError(f"{where}.rules[{r}].http.paths[{p}] must be an object")
            if "backend" in path:
                path["backend"] = _backend(
                    path["backend"], f"{where}.rules[{r}].http.paths[{p}].backend"
                )
                moved += 1
            if not path.get("pathType"):
                path["pathType"] = "ImplementationSpecific"
                defaulted += 1
    if moved:
        notes.append(f"{moved} rule path backend(s) translated to the service form")
    if defaulted:
        notes.append(f"pathType defaulted to ImplementationSpecific on {defaulted} path(s)")
    return Translation(manifest=manifest, notes=tuple(notes))
