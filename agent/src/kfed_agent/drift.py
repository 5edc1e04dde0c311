"""Drift: does a live object still hold what kfed applied? Pure comparison, no I/O.

Layer: ``kfed_agent`` pure core. The live object may carry more than kfed applied (server
defaults, fields other managers own, status); drift is only a field kfed set that now has another
value or is missing. Lists are compared element by element in order, each element as a subset,
because the API server defaults fields inside list elements (containers, ports). ``.status`` is
never drift: the one status kfed writes itself (a member Ingress's global address, see
:func:`with_global_address`) goes through the status subresource and is compared here too.
"""

from __future__ import annotations

import base64
import copy
from typing import Any

from kfed_core.addresses import load_balancer_ingress
from kfed_core.conventions import (
    GLOBAL_ADDRESS_ANNOTATION,
    KEY_ANNOTATION,
    MANAGED_BY_LABEL,
    VERSION_ANNOTATION,
)

_IGNORED_METADATA = ("resourceVersion", "uid", "creationTimestamp", "generation", "managedFields")


def holds(applied: Any, live: Any) -> bool:
    """True when every field of ``applied`` has the same value in ``live``."""
    if isinstance(applied, dict):
        if not isinstance(live, dict):
            return False
        return all(key in live and holds(value, live[key]) for key, value in applied.items())
    if isinstance(applied, list):
        if not isinstance(live, list) or len(live) != len(applied):
            return False
        return all(holds(a, b) for a, b in zip(applied, live, strict=True))
    if isinstance(applied, bool) or isinstance(live, bool):
        return applied is live
    if isinstance(applied, int | float) and isinstance(live, int | float):
        return applied == live
    return bool(applied == live)


def marker_version(live: dict[str, Any]) -> str:
    """The version the live object says it was applied from ("" if kfed's marks are gone)."""
    metadata = live.get("metadata") or {}
    labels = metadata.get("labels") or {}
    annotations = metadata.get("annotations") or {}
    if labels.get(MANAGED_BY_LABEL) is None or KEY_ANNOTATION not in annotations:
        return ""
    return str(annotations.get(VERSION_ANNOTATION, ""))


def _as_stored(applied: dict[str, Any]) -> dict[str, Any]:
    """What the API server stores for ``applied``: a Secret's ``stringData`` is write-only and
    lands, base64-encoded, in ``data`` (its values win over ``data``'s)."""
    if applied.get("kind") != "Secret" or not applied.get("stringData"):
        return applied
    stored = dict(applied)
    data = dict(stored.get("data") or {})
    for name, value in (stored.pop("stringData") or {}).items():
        data[name] = base64.b64encode(str(value).encode()).decode()
    stored["data"] = data
    return stored


def drifted(applied: dict[str, Any] | None, live: dict[str, Any]) -> bool:
    """Whether ``live`` no longer holds ``applied`` (None: not known, so only kfed's marks are
    checked by the caller through :func:`marker_version`)."""
    if applied is None:
        return False
    trimmed = dict(_as_stored(applied))
    metadata = {
        k: v for k, v in (applied.get("metadata") or {}).items() if k not in _IGNORED_METADATA
    }
    trimmed["metadata"] = metadata
    trimmed.pop("status", None)
    return not holds(trimmed, live)


def global_load_balancer(live: dict[str, Any]) -> dict[str, Any] | None:
    """The ``status.loadBalancer`` a member Ingress shows when the hub gave it a global address
    (annotation ``kfed.io/global-address``): ``ip`` for an IP address, ``hostname`` otherwise,
    with ``ports`` when the address has one (see :func:`kfed_core.addresses.load_balancer_ingress`,
    which the hub uses for the federated Ingress too). None for any other object, or without
    the annotation: then the status is not kfed's."""
    group = str(live.get("apiVersion", "")).partition("/")[0]
    if live.get("kind") != "Ingress" or group != "networking.k8s.io":
        return None
    annotations = (live.get("metadata") or {}).get("annotations") or {}
    address = str(annotations.get(GLOBAL_ADDRESS_ANNOTATION) or "").strip()
    if not address:
        return None
    return {"ingress": [load_balancer_ingress(address)]}


def with_global_address(live: dict[str, Any]) -> dict[str, Any] | None:
    """A copy of ``live`` whose status shows its global address, to write through the status
    subresource; None when there is nothing to write (no address, or it is shown already)."""
    wanted = global_load_balancer(live)
    if wanted is None or (live.get("status") or {}).get("loadBalancer") == wanted:
        return None
    updated = copy.deepcopy(live)
    updated["status"] = {**(updated.get("status") or {}), "loadBalancer": wanted}
    return updated
