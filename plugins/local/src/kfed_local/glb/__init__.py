"""The local provider's software global load balancer: one HTTP address in front of clusters.

Layer: a plugin (``kfed_local``); depends on ``kfed_core`` only. :mod:`.regions` and
:mod:`.routing` are pure (values in, decisions out; an import-linter contract keeps them so),
as are :mod:`.forwarding` (proxy headers) and :mod:`.settings` (configuration values). The I/O
shell: :mod:`.health` (active checks), :mod:`.upstream` (one exchange with a backend),
:mod:`.proxy` (one load balancer's listener and routing state), :mod:`.metrics` (Prometheus)
and :mod:`.provider` (the ``IngressProvider`` the hub calls). Nothing here imports the
simulator: a backend is any ``host:port`` that answers HTTP, a simulated cluster's
LoadBalancer Service or a real one.
"""

from kfed_local.glb.health import HealthSettings
from kfed_local.glb.provider import LocalProvider, LocalSettings
from kfed_local.glb.regions import Coordinates, RegionTable

__all__ = ["Coordinates", "HealthSettings", "LocalProvider", "LocalSettings", "RegionTable"]
