"""Small helpers over raw Kubernetes objects (plain dicts): copying, timestamps, names, owners.

Layer: pure (bottom of ``kfed_local.sim``), apart from :func:`random_suffix` and :func:`new_uid`,
which draw randomness as kube-apiserver does for ``generateName`` and uids.
"""

from __future__ import annotations

import datetime as dt
import json
import random
import uuid
from collections.abc import Mapping
from typing import Any, TypeVar

import yaml

_YamlLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

T = TypeVar("T")

# kube-apiserver's generateName alphabet: no vowels (no words) and no look-alike characters.
_SUFFIX_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"


def clone(value: T) -> T:
    """A deep copy of a JSON-shaped value (dicts, lists, scalars); much faster than deepcopy."""
    return _clone(value)  # type: ignore[no-any-return]


def _clone(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _clone(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_clone(v) for v in value]
    return value


def load_json_or_yaml(text: str | bytes) -> Any:
    """Decode a JSON or YAML document (JSON first: it is the common case and much faster).

    Raises ``ValueError`` (JSON) or ``yaml.YAMLError`` (YAML) with the decoder's message.
    """
    try:
        return json.loads(text)
    except ValueError:
        pass
    if isinstance(text, bytes):
        text = text.decode()
    return yaml.load(text, Loader=_YamlLoader)


def rfc3339(moment: dt.datetime) -> str:
    """``2026-11-26T11:14:22Z``: the second-precision UTC form Kubernetes timestamps use."""
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def rfc3339_micro(moment: dt.datetime) -> str:
    """``2026-11-26T11:14:22.123456Z``: the MicroTime form (leases, events.k8s.io)."""
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_time(text: str) -> dt.datetime:
    """Parse a Kubernetes timestamp (``Z`` or offset, optional fraction)."""
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))


def random_suffix(length: int = 5) -> str:
    """A random name suffix as ``generateName`` and ReplicaSet pods use."""
    return "".join(random.choices(_SUFFIX_ALPHABET, k=length))


def new_uid() -> str:
    """A new object uid."""
    return str(uuid.uuid4())


def meta(obj: Mapping[str, Any]) -> Mapping[str, Any]:
    """An object's metadata (empty if missing)."""
    value = obj.get("metadata")
    return value if isinstance(value, Mapping) else {}


def name_of(obj: Mapping[str, Any]) -> str:
    """``metadata.name``."""
    return str(meta(obj).get("name", ""))


def namespace_of(obj: Mapping[str, Any]) -> str:
    """``metadata.namespace`` (empty for cluster-scoped objects)."""
    return str(meta(obj).get("namespace", "") or "")


def object_key_tuple(obj: Mapping[str, Any]) -> tuple[str, str]:
    """(namespace, name): the order lists are sorted in."""
    return (namespace_of(obj), name_of(obj))


def labels_of(obj: Mapping[str, Any]) -> Mapping[str, str]:
    """``metadata.labels`` (empty if none)."""
    labels = meta(obj).get("labels")
    return labels if isinstance(labels, Mapping) else {}


def controller_ref(obj: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """The ownerReference with ``controller: true``, if any."""
    for ref in meta(obj).get("ownerReferences") or ():
        if ref.get("controller"):
            return ref  # type: ignore[no-any-return]
    return None


def owner_reference(owner: Mapping[str, Any], *, controller: bool = True) -> dict[str, Any]:
    """An ownerReference pointing at ``owner`` (as controllers set on what they create)."""
    return {
        "apiVersion": owner["apiVersion"],
        "kind": owner["kind"],
        "name": name_of(owner),
        "uid": meta(owner)["uid"],
        "controller": controller,
        "blockOwnerDeletion": True,
    }


def is_terminating(obj: Mapping[str, Any]) -> bool:
    """True once ``metadata.deletionTimestamp`` is set."""
    return bool(meta(obj).get("deletionTimestamp"))


def condition(obj: Mapping[str, Any], kind: str) -> Mapping[str, Any] | None:
    """The ``status.conditions`` entry of the given type, if present."""
    for item in (obj.get("status") or {}).get("conditions") or ():
        if item.get("type") == kind:
            return item  # type: ignore[no-any-return]
    return None


def set_condition(
    conditions: list[dict[str, Any]],
    kind: str,
    status: str,
    *,
    reason: str = "",
    message: str = "",
    now: str,
    probe_time: bool = False,
) -> list[dict[str, Any]]:
    """A new conditions list with ``kind`` set; lastTransitionTime moves only on a change."""
    result: list[dict[str, Any]] = []
    found = False
    for item in conditions:
        if item.get("type") != kind:
            result.append(item)
            continue
        found = True
        updated = dict(item)
        if item.get("status") != status:
            updated["lastTransitionTime"] = now
        updated.update(status=status)
        _set_reason(updated, reason, message)
        if probe_time:
            updated["lastProbeTime"] = now
        result.append(updated)
    if not found:
        fresh: dict[str, Any] = {"type": kind, "status": status, "lastTransitionTime": now}
        if probe_time:
            fresh["lastProbeTime"] = now
        _set_reason(fresh, reason, message)
        result.append(fresh)
    return result


def _set_reason(item: dict[str, Any], reason: str, message: str) -> None:
    for key, value in (("reason", reason), ("message", message)):
        if value:
            item[key] = value
        else:
            item.pop(key, None)
