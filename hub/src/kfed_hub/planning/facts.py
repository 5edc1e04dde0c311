"""What planning knows about a member cluster: a plain frozen value built by the reconciler.

Layer: ``kfed_hub.planning`` (pure).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

REGION = "region"
ZONE = "zone"
PROVIDER = "provider"


@dataclass(frozen=True, slots=True, kw_only=True)
class ClusterFacts:
    """One joined member cluster as planning sees it.

    ``labels`` are the cluster's labels for selectors: the custom ones set with
    ``kfed label cluster`` plus ``region``, ``zone`` (the first of its zones) and ``provider``
    from what its agent reported (custom labels win on a clash). ``ready`` is False for
    NotReady and Offline clusters: they keep what they run, but get no new replicas.
    """

    name: str
    labels: Mapping[str, str] = field(default_factory=dict)
    ready: bool = True
