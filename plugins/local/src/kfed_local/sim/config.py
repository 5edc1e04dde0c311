"""What a simulated cluster looks like: its name, place, nodes and timings; presets and parsing.

Layer: pure. Parses ``--clusters NAME=REGION/ZONE,...`` and ``--config FILE`` documents into
:class:`ClusterSpec` values with helpful errors (what is wrong, where, and what to write instead).
Reading the file is the caller's job; this module only sees its text.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import yaml

_NAME = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_QUANTITY = re.compile(r"^[0-9]+(\.[0-9]+)?(m|k|M|G|T|Ki|Mi|Gi|Ti)?$")


class ConfigError(ValueError):
    """A cluster description that cannot be used; the message says where and what to do."""


@dataclass(frozen=True, slots=True, kw_only=True)
class NodeCapacity:
    """Allocatable resources of each simulated node."""

    cpu: str = "4"
    memory: str = "16Gi"
    pods: int = 110


@dataclass(frozen=True, slots=True, kw_only=True)
class ClusterSpec:
    """One simulated member cluster."""

    name: str
    region: str
    zones: tuple[str, ...]
    provider: str = "kfed-sim"
    """Value of the ``kfed.io/provider`` node label (``gce`` for the seed's clusters)."""
    nodes: int = 3
    capacity: NodeCapacity = field(default_factory=NodeCapacity)
    pod_start_delay: float = 0.5
    """Seconds from a pod's binding to a node until it is Running and Ready."""
    labels: Mapping[str, str] = field(default_factory=dict)
    """Extra labels put on every node of the cluster."""

    @property
    def zone(self) -> str:
        """The first (for single-zone clusters: the only) zone."""
        return self.zones[0]


SEED_CLUSTERS: tuple[tuple[str, str, str], ...] = tuple(
    (f"gce-{region}-{suffix}", region, f"{region}-{suffix}")
    for region, suffixes in (
        ("asia-east1", "abc"),
        ("europe-west1", "bcd"),
        ("us-central1", "abc"),
    )
    for suffix in suffixes
)
"""The 2016 walk-through's nine clusters: (name, region, zone)."""

PRESETS: Mapping[str, Sequence[tuple[str, str, str]]] = {"seed": SEED_CLUSTERS}


def preset(name: str) -> list[ClusterSpec]:
    """The clusters of a named preset (``seed``)."""
    try:
        entries = PRESETS[name]
    except KeyError:
        known = ", ".join(sorted(PRESETS))
        raise ConfigError(f"unknown preset {name!r}; known presets: {known}") from None
    provider = "gce" if name == "seed" else "kfed-sim"
    return [ClusterSpec(name=n, region=r, zones=(z,), provider=provider) for n, r, z in entries]


def parse_clusters_flag(text: str) -> list[ClusterSpec]:
    """Parse ``NAME=REGION/ZONE[,NAME=REGION/ZONE...]`` (the ``--clusters`` flag)."""
    specs: list[ClusterSpec] = []
    for position, item in enumerate(text.split(","), start=1):
        item = item.strip()
        if not item:
            continue
        name, eq, place = item.partition("=")
        region, slash, zone = place.partition("/")
        if not eq or not slash or not name or not region or not zone:
            raise ConfigError(
                f"--clusters item {position} ({item!r}) is not NAME=REGION/ZONE; "
                "for example: --clusters east=us-east1/us-east1-b,west=us-west1/us-west1-a"
            )
        specs.append(ClusterSpec(name=name.strip(), region=region.strip(), zones=(zone.strip(),)))
    if not specs:
        raise ConfigError("--clusters names no cluster; write NAME=REGION/ZONE[,...]")
    check_specs(specs)
    return specs


def parse_config(text: str, *, source: str = "config") -> list[ClusterSpec]:
    """Parse a YAML cluster file::

    clusters:
      - name: east
        region: us-east1
        zone: us-east1-b          # or zones: [us-east1-b, us-east1-c]
        provider: gce             # node label kfed.io/provider
        nodes: 3
        capacity: {cpu: "4", memory: 16Gi, pods: 110}
        podStartDelay: 0.5        # seconds
        labels: {team: web}
    """
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise ConfigError(f"{source}: not valid YAML{where}: {exc}") from exc
    if isinstance(doc, Mapping):
        entries = doc.get("clusters")
    else:
        entries = doc
    if not isinstance(entries, list) or not entries:
        raise ConfigError(f"{source}: expected a 'clusters:' list with at least one cluster")
    specs = [
        _spec_from_mapping(entry, f"{source}: clusters[{i}]") for i, entry in enumerate(entries)
    ]
    check_specs(specs)
    return specs


_KNOWN_KEYS = frozenset(
    {"name", "region", "zone", "zones", "provider", "nodes", "capacity", "podStartDelay", "labels"}
)


def _spec_from_mapping(entry: Any, where: str) -> ClusterSpec:
    if not isinstance(entry, Mapping):
        raise ConfigError(f"{where}: expected a mapping with name, region and zone")
    unknown = sorted(set(entry) - _KNOWN_KEYS)
    if unknown:
        raise ConfigError(
            f"{where}: unknown field(s) {', '.join(unknown)}; "
            f"known: {', '.join(sorted(_KNOWN_KEYS))}"
        )
    for required in ("name", "region"):
        if not isinstance(entry.get(required), str) or not entry[required]:
            raise ConfigError(f"{where}: '{required}' is required and must be a string")
    zones = entry.get("zones", [entry["zone"]] if "zone" in entry else None)
    if not isinstance(zones, list) or not zones or not all(isinstance(z, str) for z in zones):
        raise ConfigError(f"{where}: give 'zone: NAME' or 'zones: [NAME, ...]'")
    spec = ClusterSpec(name=entry["name"], region=entry["region"], zones=tuple(zones))
    if "provider" in entry:
        spec = replace(spec, provider=_string(entry["provider"], f"{where}.provider"))
    if "nodes" in entry:
        nodes = entry["nodes"]
        if not isinstance(nodes, int) or isinstance(nodes, bool) or not 0 <= nodes <= 1000:
            raise ConfigError(
                f"{where}.nodes: expected a whole number from 0 to 1000, got {nodes!r}"
            )
        spec = replace(spec, nodes=nodes)
    if "capacity" in entry:
        spec = replace(spec, capacity=_capacity(entry["capacity"], f"{where}.capacity"))
    if "podStartDelay" in entry:
        delay = entry["podStartDelay"]
        if not isinstance(delay, int | float) or isinstance(delay, bool) or delay < 0:
            raise ConfigError(f"{where}.podStartDelay: expected seconds (>= 0), got {delay!r}")
        spec = replace(spec, pod_start_delay=float(delay))
    if "labels" in entry:
        labels = entry["labels"]
        if not isinstance(labels, Mapping) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in labels.items()
        ):
            raise ConfigError(f"{where}.labels: expected a mapping of strings to strings")
        spec = replace(spec, labels=dict(labels))
    return spec


def _string(value: Any, where: str) -> str:
    if not isinstance(value, str) or not value:
        raise ConfigError(f"{where}: expected a non-empty string, got {value!r}")
    return value


def _capacity(value: Any, where: str) -> NodeCapacity:
    if not isinstance(value, Mapping):
        raise ConfigError(f"{where}: expected a mapping with cpu, memory and pods")
    unknown = sorted(set(value) - {"cpu", "memory", "pods"})
    if unknown:
        raise ConfigError(
            f"{where}: unknown field(s) {', '.join(unknown)}; known: cpu, memory, pods"
        )
    capacity = NodeCapacity()
    for key in ("cpu", "memory"):
        if key in value:
            text = str(value[key])
            if not _QUANTITY.match(text):
                raise ConfigError(
                    f"{where}.{key}: {text!r} is not a quantity such as 4, 500m or 16Gi"
                )
            capacity = (
                replace(capacity, cpu=text) if key == "cpu" else replace(capacity, memory=text)
            )
    if "pods" in value:
        pods = value["pods"]
        if not isinstance(pods, int) or isinstance(pods, bool) or pods < 0:
            raise ConfigError(f"{where}.pods: expected a whole number, got {pods!r}")
        capacity = replace(capacity, pods=pods)
    return capacity


def check_specs(specs: Sequence[ClusterSpec]) -> None:
    """Refuse names Kubernetes contexts and labels cannot carry, and duplicates."""
    seen: set[str] = set()
    for spec in specs:
        if not _NAME.match(spec.name) or len(spec.name) > 63:
            raise ConfigError(
                f"cluster name {spec.name!r} must be a DNS label: lower-case letters, digits and "
                "'-', starting and ending with a letter or digit, at most 63 characters"
            )
        if spec.name in seen:
            raise ConfigError(f"cluster name {spec.name!r} is given twice")
        seen.add(spec.name)
        for place in (spec.region, *spec.zones):
            if not _NAME.match(place):
                raise ConfigError(
                    f"cluster {spec.name!r}: region/zone {place!r} must be lower-case letters, "
                    "digits and '-'"
                )
