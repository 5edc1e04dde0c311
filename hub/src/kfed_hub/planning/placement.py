"""Placement: which member clusters a federated object goes to, read from its annotations.

Layer: ``kfed_hub.planning``, pure: manifests and :class:`ClusterFacts` in, names out; no clock,
no I/O, no logging. It must not import the simulator (a plugin): selectors are parsed by kfed's
own :mod:`kfed_hub.planning.selectors`, whose errors say where a selector is wrong.

An object names its clusters with ``kfed.io/clusters`` (comma-separated names), selects them by
label with ``kfed.io/cluster-selector`` (kubectl syntax over cluster labels) or with Federation
v1's ``federation.alpha.kubernetes.io/cluster-selector`` (a JSON list of requirements). Names and
selectors together mean the intersection; no annotation means every joined cluster. An empty
``kfed.io/clusters`` means no cluster at all (as KubeFed's ``clusters: []``), while an empty
selector selects everything (as ``kubectl -l ""``). Readiness is not considered here: a NotReady
cluster keeps its placement, and the scheduler decides what it gets.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from kfed_core.identity import valid_cluster_name
from kfed_hub.planning.facts import ClusterFacts
from kfed_hub.planning.selectors import (
    LabelSelector,
    SelectorError,
    legacy_selector,
    parse_selector,
)

CLUSTERS_ANNOTATION = "kfed.io/clusters"
"""Comma-separated names of the clusters an object goes to."""

SELECTOR_ANNOTATION = "kfed.io/cluster-selector"
"""A label selector over cluster labels, in kubectl syntax (``region=us-east1,provider!=aws``)."""

LEGACY_SELECTOR_ANNOTATION = "federation.alpha.kubernetes.io/cluster-selector"
"""Federation v1's selector: ``[{"key": …, "operator": "In", "values": […]}, …]`` as JSON."""


class PlacementError(ValueError):
    """A placement annotation that cannot be read; the message names the annotation."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Placement:
    """Where an object may go: ``names`` (None: any name) and ``selector`` (None: any labels)."""

    names: frozenset[str] | None = None
    selector: LabelSelector | None = None

    def matches(self, cluster: ClusterFacts) -> bool:
        """Whether ``cluster`` is one of this placement's clusters (ready or not)."""
        if self.names is not None and cluster.name not in self.names:
            return False
        return self.selector is None or self.selector.matches(cluster.labels)

    def __str__(self) -> str:
        parts = []
        if self.names is not None:
            parts.append("clusters " + (",".join(sorted(self.names)) or "(none)"))
        if self.selector is not None:
            parts.append(f"clusters matching {self.selector}")
        return " and ".join(parts) or "all clusters"


EVERYWHERE = Placement()
"""The placement of an object without placement annotations."""


def _annotations(manifest: Mapping[str, Any]) -> Mapping[str, Any]:
    metadata = manifest.get("metadata") or {}
    annotations = metadata.get("annotations") if isinstance(metadata, Mapping) else None
    return annotations if isinstance(annotations, Mapping) else {}


def _text(annotations: Mapping[str, Any], name: str) -> str | None:
    value = annotations.get(name)
    if value is None or isinstance(value, str):
        return value
    raise PlacementError(
        f"annotation {name}: the value must be a string, got {type(value).__name__} "
        "(quote it in YAML)"
    )


def _names(text: str) -> frozenset[str]:
    names = set()
    for position, raw in enumerate(text.split(","), start=1):
        name = raw.strip()
        if not name:
            if text.strip():
                raise PlacementError(
                    f"annotation {CLUSTERS_ANNOTATION}: name {position} of {text!r} is empty "
                    "(write names separated by single commas, e.g. 'aws-us-east-1,gce-eu-west1-b')"
                )
            continue
        if problem := valid_cluster_name(name):
            raise PlacementError(
                f"annotation {CLUSTERS_ANNOTATION}: {name!r} is not a cluster name: {problem}"
            )
        names.add(name)
    return frozenset(names)


def placement_of(manifest: Mapping[str, Any]) -> Placement:
    """The placement an object's annotations ask for (:data:`EVERYWHERE` if none).

    Raises :class:`PlacementError` naming the annotation and what is wrong with it.
    """
    annotations = _annotations(manifest)
    names_text = _text(annotations, CLUSTERS_ANNOTATION)
    selector_text = _text(annotations, SELECTOR_ANNOTATION)
    legacy_text = _text(annotations, LEGACY_SELECTOR_ANNOTATION)
    names = None if names_text is None else _names(names_text)
    selectors = []
    try:
        if selector_text is not None:
            selectors.append(parse_selector(selector_text))
    except SelectorError as exc:
        raise PlacementError(f"annotation {SELECTOR_ANNOTATION}: {exc}") from exc
    if legacy_text is not None:
        try:
            data = json.loads(legacy_text)
        except json.JSONDecodeError as exc:
            raise PlacementError(
                f"annotation {LEGACY_SELECTOR_ANNOTATION}: not JSON ({exc.msg} at line "
                f"{exc.lineno} column {exc.colno}); write a list such as "
                '[{"key": "region", "operator": "In", "values": ["us-east1"]}]'
            ) from exc
        try:
            selectors.append(legacy_selector(data))
        except SelectorError as exc:
            raise PlacementError(f"annotation {LEGACY_SELECTOR_ANNOTATION}: {exc}") from exc
    selector = None
    if selectors:
        # Both selector annotations given: every requirement of both must hold.
        selector = LabelSelector(requirements=tuple(r for s in selectors for r in s.requirements))
    return Placement(names=names, selector=selector)


def select(placement: Placement, clusters: Sequence[ClusterFacts]) -> list[str]:
    """The sorted names of the joined ``clusters`` that ``placement`` chooses, ready or not."""
    return sorted({cluster.name for cluster in clusters if placement.matches(cluster)})


def unknown_names(placement: Placement, clusters: Sequence[ClusterFacts]) -> list[str]:
    """The sorted names ``placement`` asks for that are not joined (for an event, not an error:
    the object lands there once such a cluster joins)."""
    if placement.names is None:
        return []
    return sorted(placement.names - {cluster.name for cluster in clusters})
