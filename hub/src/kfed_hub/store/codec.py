"""Values shared by the store implementations: manifest stamping, JSON, secrets, token decisions.

Layer: ``kfed_hub.store``, pure (no clock, no I/O, no randomness). Both :mod:`.memory` and
:mod:`.sqlite` go through these helpers so that the in-memory fake and the real store agree on
every rule: how a revision is written into a manifest, which parts of a Secret are sensitive, and
how a bootstrap token is judged, and which events aggregate. Nothing here may log: the values
can hold secret data.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hmac
import json
from collections.abc import Callable, Mapping
from typing import Any

from kfed_core.keys import CORE_GROUP, ResourceKey
from kfed_hub.store.protocol import (
    EVENT_TYPES,
    BootstrapToken,
    ClusterObjectState,
    ClusterRecord,
    Conflict,
    FederatedEvent,
    Manifest,
    NewEvent,
    NotFound,
    StoredObject,
    StoreError,
    TokenUse,
)

# kubectl's client-side apply copies the whole object, data included, into this annotation: for a
# Secret it is as sensitive as ``data`` itself and is sealed with it.
LAST_APPLIED_ANNOTATION = "kubectl.kubernetes.io/last-applied-configuration"
_SECRET_FIELDS = ("data", "stringData")

Clock = Callable[[], dt.datetime]
"""Where a store reads the time (revocation times); tests pass a fixed one."""


def dump_json(value: Any) -> str:
    """Compact JSON with sorted keys (stable bytes for equal values)."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def plain_json(value: Any, *, where: str) -> Any:
    """A deep copy of ``value`` through JSON, so that both stores refuse the same inputs."""
    try:
        return json.loads(dump_json(value))
    except (TypeError, ValueError) as e:
        # The value itself stays out of the message: it may be secret.
        raise StoreError(
            f"{where} is not plain JSON ({type(e).__name__}); "
            "pass dicts, lists, strings, numbers, booleans and None only"
        ) from None


def stamp(key: ResourceKey, manifest: Manifest, revision: int) -> dict[str, Any]:
    """A private deep copy of ``manifest`` with ``metadata.resourceVersion`` set to ``revision``."""
    copied = plain_json(manifest, where=f"manifest of {key}")
    if not isinstance(copied, dict):
        raise StoreError(f"manifest of {key} must be a JSON object, not {type(copied).__name__}")
    metadata = copied.setdefault("metadata", {})
    if not isinstance(metadata, dict):
        raise StoreError(f"metadata of {key} must be a JSON object")
    metadata["resourceVersion"] = str(revision)
    return copied


def copy_manifest(manifest: Manifest) -> dict[str, Any]:
    """A deep copy of a manifest already known to be plain JSON."""
    copied: dict[str, Any] = json.loads(dump_json(manifest))
    return copied


def copy_stored(stored: StoredObject) -> StoredObject:
    """A copy sharing no mutable manifest with ``stored``."""
    return dataclasses.replace(stored, manifest=copy_manifest(stored.manifest))


def copy_state(state: ClusterObjectState) -> ClusterObjectState:
    """A copy sharing no mutable status with ``state``."""
    if state.status is None:
        return state
    return dataclasses.replace(state, status=copy_manifest(state.status))


def copy_cluster(record: ClusterRecord) -> ClusterRecord:
    """A copy sharing no mutable mapping with ``record``."""
    return dataclasses.replace(
        record,
        labels=dict(record.labels),
        cert_serials=tuple(record.cert_serials),
        info=plain_json(record.info, where=f"info of cluster {record.name}"),
    )


def is_secret(key: ResourceKey) -> bool:
    """Whether objects under ``key`` carry data that must be sealed at rest."""
    return key.group == CORE_GROUP and key.kind == "Secret"


def split_secret(manifest: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """``(public, sensitive)``: the manifest without its secret parts, and those parts (None if
    it has none). :func:`join_secret` puts them back."""
    public = copy_manifest(manifest)
    sensitive: dict[str, Any] = {}
    for name in _SECRET_FIELDS:
        if name in public:
            sensitive[name] = public.pop(name)
    metadata = public.get("metadata")
    annotations = metadata.get("annotations") if isinstance(metadata, dict) else None
    if isinstance(annotations, dict) and LAST_APPLIED_ANNOTATION in annotations:
        sensitive["lastApplied"] = annotations.pop(LAST_APPLIED_ANNOTATION)
    return public, (sensitive or None)


def join_secret(public: dict[str, Any], sensitive: Mapping[str, Any] | None) -> dict[str, Any]:
    """Undo :func:`split_secret` (mutates and returns ``public``)."""
    if not sensitive:
        return public
    for name in _SECRET_FIELDS:
        if name in sensitive:
            public[name] = sensitive[name]
    if "lastApplied" in sensitive:
        metadata = public.setdefault("metadata", {})
        metadata.setdefault("annotations", {})[LAST_APPLIED_ANNOTATION] = sensitive["lastApplied"]
    return public


def judge_token(token: BootstrapToken | None, secret_hash: str, *, now: dt.datetime) -> TokenUse:
    """What a join presenting ``secret_hash`` for ``token`` gets.

    A wrong secret reads exactly like an unknown id, so a caller cannot probe which ids exist;
    the hashes are compared in constant time.
    """
    if token is None or not hmac.compare_digest(token.secret_hash.encode(), secret_hash.encode()):
        return TokenUse.UNKNOWN
    if token.used_at is not None:
        return TokenUse.USED
    if now >= token.expires_at:
        return TokenUse.EXPIRED
    return TokenUse.ACCEPTED


def key_order(key: ResourceKey) -> tuple[str, str, str, str]:
    """The order of keys in every listing (the field order of :class:`ResourceKey`)."""
    return (key.group, key.kind, key.namespace, key.name)


def state_order(state: ClusterObjectState) -> tuple[str, tuple[str, str, str, str]]:
    """The order of object states: by cluster, then key."""
    return (state.cluster, key_order(state.key))


def require_current(
    key: ResourceKey, current: StoredObject | None, expected_revision: int | None
) -> StoredObject:
    """The stored object a write replaces: :class:`NotFound` if there is none, :class:`Conflict`
    if it is not at ``expected_revision`` (when one is given). Both stores use this rule."""
    if current is None:
        raise NotFound(f"{key} does not exist")
    if expected_revision is not None and current.revision != expected_revision:
        raise Conflict(
            f"{key} is at revision {current.revision}, not {expected_revision}; "
            "read it again and retry"
        )
    return current


# -- federated events --------------------------------------------------------------------------

MAX_EVENT_MESSAGE = 1024
"""Characters of an event message kept (the rest is cut and marked), so storage stays bounded."""

NO_KEY = ("", "", "", "")
"""The key columns of an event about a cluster itself (no federated object)."""

EventIdentity = tuple[str, str, str, str, str, str, str, str]
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


def clip_message(message: str) -> str:
    """``message`` cut to :data:`MAX_EVENT_MESSAGE` characters."""
    if len(message) <= MAX_EVENT_MESSAGE:
        return message
    return message[: MAX_EVENT_MESSAGE - 3] + "..."


def check_event(event: NewEvent) -> None:
    """Refuse an event both stores would refuse (before anything is written)."""
    if event.type not in EVENT_TYPES:
        raise StoreError(f"event type {event.type!r} is not one of {', '.join(EVENT_TYPES)}")
    if not event.reason:
        raise StoreError("an event needs a reason (a CamelCase word such as ApplyFailed)")
    if event.count < 1:
        raise StoreError(f"event count {event.count} must be at least 1")
    for when in (event.time, event.first_time):
        if when is not None and when.utcoffset() is None:
            raise StoreError("event times must be timezone-aware (UTC)")


def event_identity(event: NewEvent) -> EventIdentity:
    """What makes two occurrences one event: key, cluster, type, reason and message."""
    key = NO_KEY if event.key is None else key_order(event.key)
    return (*key, event.cluster, event.type, event.reason, clip_message(event.message))


def key_of_columns(group: str, kind: str, namespace: str, name: str) -> ResourceKey | None:
    """The event's object key from its stored columns (None for a cluster-level event)."""
    if not kind:
        return None
    return ResourceKey(group=group, kind=kind, namespace=namespace, name=name)


def event_namespace(key: ResourceKey | None) -> str:
    """Where Kubernetes files an event: its object's namespace, else ``default``."""
    return key.namespace if key is not None and key.namespace else "default"


def micros(when: dt.datetime) -> int:
    """Microseconds since the Unix epoch (exact; orders like time)."""
    delta = when - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def from_micros(value: int) -> dt.datetime:
    """The UTC datetime of :func:`micros`."""
    return _EPOCH + dt.timedelta(microseconds=value)


def event_matches(
    event: FederatedEvent,
    *,
    key: ResourceKey | None,
    cluster: str | None,
    namespace: str | None,
    kind: str | None,
    name: str | None,
) -> bool:
    """Whether ``event`` passes the filters of :meth:`Store.list_events`."""
    own = event.key
    return (
        (key is None or own == key)
        and (cluster is None or event.cluster == cluster)
        and (namespace is None or event_namespace(own) == namespace)
        and (kind is None or (own is not None and own.kind == kind))
        and (name is None or (own is not None and own.name == name))
    )
