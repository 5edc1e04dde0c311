"""Records core/v1 Events the way Kubernetes components do, with aggregation and retention.

Layer: controllers. A repeated event (same object, reason, message and source) bumps ``count``
and ``lastTimestamp`` of the existing Event instead of creating another, as client-go's event
correlator does. At most ``limit`` Events are kept per cluster (oldest removed first) and each
lives at most ``ttl`` seconds, like kube-apiserver's one-hour event TTL: memory stays bounded.
"""

from __future__ import annotations

import datetime as dt
from collections import OrderedDict
from collections.abc import Mapping
from typing import Any

from kfed_local.sim import objects
from kfed_local.sim.api import ClusterApi, RequestContext
from kfed_local.sim.errors import ApiError

_CTX = RequestContext(field_manager="kube-controller-manager", field_validation="Ignore")


class EventRecorder:
    """Writes Events for one cluster."""

    def __init__(self, api: ClusterApi, *, limit: int = 1000, ttl: float = 3600.0) -> None:
        self.api = api
        self.limit = limit
        self.ttl = dt.timedelta(seconds=ttl)
        self._recent: OrderedDict[tuple[str, ...], tuple[str, str]] = OrderedDict()
        events = api.registry.require("", "v1", "events")
        self._events = events

    def record(
        self,
        obj: Mapping[str, Any],
        event_type: str,
        reason: str,
        message: str,
        *,
        component: str,
        host: str = "",
    ) -> None:
        """Record that ``component`` saw ``reason`` on ``obj`` (``event_type`` Normal/Warning)."""
        meta = objects.meta(obj)
        namespace = meta.get("namespace") or "default"
        involved = {
            "kind": obj.get("kind"),
            "namespace": meta.get("namespace", ""),
            "name": meta.get("name"),
            "uid": meta.get("uid"),
            "apiVersion": obj.get("apiVersion"),
            "resourceVersion": meta.get("resourceVersion"),
        }
        involved = {k: v for k, v in involved.items() if v}
        key = (str(meta.get("uid")), reason, message, component, event_type)
        now = self.api.now()
        existing = self._recent.get(key)
        if existing is not None:
            ns, name = existing
            entry = self.api.store.get(self._events.storage_key, ns, name)
            if entry is not None:
                updated = objects.clone(entry.obj)
                updated["count"] = int(updated.get("count", 1)) + 1
                updated["lastTimestamp"] = now
                self.api.update(self._events, ns, name, updated, _CTX)
                self._recent.move_to_end(key)
                return
        name = f"{meta.get('name')}.{objects.random_suffix(8)}{len(self._recent):x}"
        source = {"component": component}
        if host:
            source["host"] = host
        event = {
            "apiVersion": "v1",
            "kind": "Event",
            "metadata": {"name": name, "namespace": namespace},
            "involvedObject": involved,
            "reason": reason,
            "message": message,
            "source": source,
            "firstTimestamp": now,
            "lastTimestamp": now,
            "count": 1,
            "type": event_type,
            "eventTime": None,
            "reportingComponent": component,
            "reportingInstance": host,
        }
        try:
            self.api.create(self._events, namespace, event, _CTX)
        except ApiError:
            return  # the namespace is going away: the event has nowhere to live
        self._recent[key] = (namespace, name)
        self._trim()

    def _trim(self) -> None:
        cutoff = self.api.clock() - self.ttl
        while self._recent:
            key, (ns, name) = next(iter(self._recent.items()))
            entry = self.api.store.get(self._events.storage_key, ns, name)
            expired = (
                entry is None
                or objects.parse_time(
                    entry.obj.get("lastTimestamp") or entry.obj["metadata"]["creationTimestamp"]
                )
                < cutoff
            )
            if len(self._recent) <= self.limit and not expired:
                return
            del self._recent[key]
            if entry is not None:
                self.api.store.remove(self._events.storage_key, ns, name)
