"""Replica preferences: the Federation v1 annotations parsed into frozen values.

Layer: ``kfed_hub.planning`` (pure: values in, values out; no clock, no I/O, no logging). It
must not decide anything about replicas (that is :mod:`kfed_hub.planning.replicas`); it only
reads and validates what the operator wrote.

A ReplicaSet or Deployment may carry, as in the 2016 blog post::

    federation.kubernetes.io/replica-set-preferences: |
      {"rebalance": true,
       "clusters": {"gce-us-central1-a": {"minReplicas": 2, "maxReplicas": 4, "weight": 1},
                    "*": {"weight": 1}}}

(``federation.kubernetes.io/deployment-preferences`` for a Deployment). ``"*"`` is the entry for
every cluster not named; a cluster matched by neither gets no replicas. A missing or empty
``clusters`` means ``{"*": {"weight": 1}}`` (an even spread), as in KubeFed. Anything the
annotation gets wrong (bad JSON, an unknown field, a negative number, ``minReplicas`` above
``maxReplicas``) raises :class:`PreferencesError` naming the annotation and the field path: the
reconciler reports it as an event and falls back to :data:`DEFAULT`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

REPLICA_SET_PREFERENCES = "federation.kubernetes.io/replica-set-preferences"
DEPLOYMENT_PREFERENCES = "federation.kubernetes.io/deployment-preferences"
ANY_CLUSTER = "*"
MAX_REPLICAS = 2**31 - 1
"""Kubernetes replica counts are int32; larger numbers in an annotation are refused."""

_ENTRY_FIELDS = ("minReplicas", "maxReplicas", "weight")
_TOP_FIELDS = ("rebalance", "clusters")
_FIX = "fix the annotation or remove it (without it, replicas are spread evenly)"


class PreferencesError(ValueError):
    """A preferences annotation that cannot be used; the message names the annotation and field."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ClusterPreference:
    """One entry of ``clusters``: a guaranteed minimum, an optional maximum and a weight for the
    rest (a cluster of weight 0 gets its minimum and nothing more)."""

    min_replicas: int = 0
    max_replicas: int | None = None
    weight: int = 0


@dataclass(frozen=True, slots=True, kw_only=True)
class Preferences:
    """Parsed preferences. ``rebalance`` False keeps running replicas where they are as far as
    the total and the caps allow; True lays replicas out from the preferences alone."""

    rebalance: bool = False
    clusters: Mapping[str, ClusterPreference]

    def entry_for(self, cluster: str) -> tuple[str, ClusterPreference | None]:
        """The entry that applies to ``cluster`` and its name: the cluster's own, else ``"*"``,
        else ``("none", None)``."""
        own = self.clusters.get(cluster)
        if own is not None:
            return cluster, own
        default = self.clusters.get(ANY_CLUSTER)
        if default is not None:
            return ANY_CLUSTER, default
        return "none", None


DEFAULT = Preferences(rebalance=False, clusters={ANY_CLUSTER: ClusterPreference(weight=1)})
"""No preferences: every Ready candidate cluster with the same weight (an even spread)."""


def annotation_names(kind: str) -> tuple[str, ...]:
    """The annotations read for ``kind``, most specific first: a Deployment reads
    ``deployment-preferences`` and, when that is absent, ``replica-set-preferences`` (so the
    blog's annotation is not silently ignored on a Deployment); anything else the reverse."""
    if kind == "Deployment":
        return DEPLOYMENT_PREFERENCES, REPLICA_SET_PREFERENCES
    return REPLICA_SET_PREFERENCES, DEPLOYMENT_PREFERENCES


def preferences_of(manifest: Mapping[str, Any]) -> Preferences | None:
    """The preferences annotated on ``manifest``, or None when it has no such annotation.

    Raises :class:`PreferencesError` when the annotation is present but unusable.
    """
    metadata = manifest.get("metadata")
    annotations = metadata.get("annotations") if isinstance(metadata, Mapping) else None
    if not isinstance(annotations, Mapping):
        return None
    for name in annotation_names(str(manifest.get("kind", ""))):
        text = annotations.get(name)
        if text is not None:
            if not isinstance(text, str):
                raise PreferencesError(f"annotation {name}: must be a JSON string; {_FIX}")
            return parse_preferences(text, annotation=name)
    return None


def parse_preferences(text: str, *, annotation: str = REPLICA_SET_PREFERENCES) -> Preferences:
    """Parse the JSON text of a preferences annotation (``annotation`` names it in errors)."""
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise PreferencesError(
            f"annotation {annotation}: not valid JSON ({exc.msg} at line {exc.lineno}, "
            f"column {exc.colno}); {_FIX}"
        ) from None
    where = _Where(annotation)
    if not isinstance(document, dict):
        raise where.error("", f"must be a JSON object, got {_kind(document)}")
    _refuse_unknown(where, "", document, _TOP_FIELDS)
    rebalance = document.get("rebalance", False)
    if not isinstance(rebalance, bool):
        raise where.error("rebalance", f"must be true or false, got {_kind(rebalance)}")
    raw_clusters = document.get("clusters")
    if raw_clusters is None:
        raw_clusters = {}
    if not isinstance(raw_clusters, dict):
        raise where.error("clusters", f"must be a JSON object, got {_kind(raw_clusters)}")
    clusters: dict[str, ClusterPreference] = {}
    for name, raw in raw_clusters.items():
        if not name:
            raise where.error("clusters", 'has an empty cluster name; use a name or "*"')
        clusters[name] = _entry(where, f"clusters.{name}", raw)
    if not clusters:
        return Preferences(rebalance=rebalance, clusters=DEFAULT.clusters)
    return Preferences(rebalance=rebalance, clusters=clusters)


@dataclass(frozen=True, slots=True)
class _Where:
    annotation: str

    def error(self, path: str, problem: str) -> PreferencesError:
        field = f" field {path}" if path else ""
        return PreferencesError(f"annotation {self.annotation}{field}: {problem}; {_FIX}")


def _entry(where: _Where, path: str, raw: object) -> ClusterPreference:
    if not isinstance(raw, dict):
        raise where.error(path, f"must be a JSON object, got {_kind(raw)}")
    _refuse_unknown(where, path, raw, _ENTRY_FIELDS)
    minimum = _count(where, f"{path}.minReplicas", raw.get("minReplicas", 0))
    weight = _count(where, f"{path}.weight", raw.get("weight", 0))
    raw_max = raw.get("maxReplicas")
    maximum = None if raw_max is None else _count(where, f"{path}.maxReplicas", raw_max)
    if maximum is not None and minimum > maximum:
        raise where.error(path, f"minReplicas {minimum} is above maxReplicas {maximum}")
    return ClusterPreference(min_replicas=minimum, max_replicas=maximum, weight=weight)


def _count(where: _Where, path: str, value: object) -> int:
    # bool is an int in Python but `true` is not a count in JSON.
    if isinstance(value, bool) or not isinstance(value, int):
        raise where.error(path, f"must be a whole number, got {_kind(value)}")
    if value < 0:
        raise where.error(path, f"must not be negative, got {value}")
    if value > MAX_REPLICAS:
        raise where.error(path, f"must be at most {MAX_REPLICAS}, got {value}")
    return value


def _refuse_unknown(
    where: _Where, path: str, document: Mapping[str, object], known: tuple[str, ...]
) -> None:
    for field in document:
        if field not in known:
            full = f"{path}.{field}" if path else field
            raise where.error(full, f"is not a known field (known: {', '.join(known)})")


def _kind(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return json.dumps(value)
    if isinstance(value, int | float):
        return f"the number {value!r}"
    if isinstance(value, str):
        return f"the string {value!r}"
    return "an array" if isinstance(value, list) else "an object"
