"""Overrides: per-cluster changes to a federated object, such as an image registry per cloud.

Layer: ``kfed_hub.planning``, pure: values in, values out; never mutates its input, no clock, no
I/O, no logging.

The annotation ``kfed.io/overrides`` holds a JSON (or YAML) list of rules, applied in order::

    [{"clusterSelector": "provider=aws", "path": "/spec/template/spec/containers/0/image",
      "value": "123.dkr.ecr…/nginx"},
     {"clusters": ["gce-eu-west1-b"], "patch": [{"op": "remove", "path": "/spec/paused"}]}]

A rule targets ``clusters`` (names) and/or ``clusterSelector`` (kubectl syntax over cluster
labels); both mean the intersection, neither means every cluster. It changes the object with
``patch`` (RFC 6902 operations, applied by the ``jsonpatch`` library) or with ``path`` + ``value``,
a shorthand that replaces the value at ``path`` or adds it where it is missing. Overrides may not
touch an object's identity (``apiVersion``, ``kind``, ``metadata.name``, ``metadata.namespace``):
the member's copy must stay the same object.

Members never see kfed's planning annotations (:func:`strip_kfed_annotations`): they mean
nothing to a member, and the overrides would show every cluster what the others get. Federation
v1's annotations (replica-set preferences, the alpha cluster selector) are kept: members ignore
them, and they show an operator looking at a member's copy the intent it was planned from.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import jsonpatch
import yaml

from kfed_core.identity import valid_cluster_name
from kfed_hub.planning.facts import ClusterFacts
from kfed_hub.planning.placement import CLUSTERS_ANNOTATION, SELECTOR_ANNOTATION
from kfed_hub.planning.selectors import LabelSelector, SelectorError, parse_selector

OVERRIDES_ANNOTATION = "kfed.io/overrides"
"""A JSON or YAML list of override rules (see the module docstring)."""

PLANNING_ANNOTATIONS = (CLUSTERS_ANNOTATION, SELECTOR_ANNOTATION, OVERRIDES_ANNOTATION)
"""kfed's own annotations that steer planning and never reach a member cluster."""

_OPS = ("add", "remove", "replace", "move", "copy", "test")
_IDENTITY = ("/apiVersion", "/kind", "/metadata/name", "/metadata/namespace")
_SCALARS: dict[type, str] = {str: "a string", bool: "a boolean", int: "a number"}
_SCALARS.update({float: "a number", type(None): "null"})
_RULE_FIELDS = frozenset({"clusters", "clusterSelector", "patch", "path", "value"})


class OverrideError(ValueError):
    """An override rule that cannot be read, or that cannot be applied to a cluster."""


@dataclass(frozen=True, slots=True, kw_only=True)
class PatchOp:
    """One RFC 6902 operation; ``add_if_missing`` marks the ``path``/``value`` shorthand (a
    ``replace`` that becomes an ``add`` where the path does not exist yet)."""

    op: str
    path: str
    value: Any = None
    from_: str | None = None
    add_if_missing: bool = False

    def as_json(self, *, op: str | None = None) -> dict[str, Any]:
        """The operation as RFC 6902 writes it (as ``op`` if given)."""
        written: dict[str, Any] = {"op": op or self.op, "path": self.path}
        if self.op in ("add", "replace", "test"):
            written["value"] = self.value
        if self.from_ is not None:
            written["from"] = self.from_
        return written


@dataclass(frozen=True, slots=True, kw_only=True)
class Override:
    """Rule number ``index`` of the annotation: whom it targets and what it changes."""

    index: int
    clusters: frozenset[str] | None = None
    selector: LabelSelector | None = None
    ops: tuple[PatchOp, ...] = ()

    def applies_to(self, cluster: ClusterFacts) -> bool:
        """Whether this rule changes ``cluster``'s copy."""
        if self.clusters is not None and cluster.name not in self.clusters:
            return False
        return self.selector is None or self.selector.matches(cluster.labels)


def _load(text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as json_error:
        try:
            return yaml.safe_load(text)
        except yaml.YAMLError as yaml_error:
            if text.lstrip().startswith(("[", "{")):
                problem = f"not JSON: {json_error}"
            else:
                mark = getattr(yaml_error, "problem_mark", None)
                where = f" at line {mark.line + 1} column {mark.column + 1}" if mark else ""
                problem = f"not YAML: {getattr(yaml_error, 'problem', None) or yaml_error}{where}"
            raise OverrideError(f"annotation {OVERRIDES_ANNOTATION}: {problem}") from yaml_error


def _plain(value: Any, where: str) -> Any:
    try:  # YAML can produce dates, sets and NaN; a member's manifest must stay plain JSON.
        json.dumps(value, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise OverrideError(f"{where}: 'value' must be plain JSON ({exc})") from exc
    return value


def _pointer(value: Any, where: str, *, changes: bool = True) -> str:
    try:
        if not isinstance(value, str) or (value and not value.startswith("/")):
            raise jsonpatch.JsonPointerException("it must be '' or start with '/'")
        jsonpatch.JsonPointer(value)  # checks the ~0/~1 escapes
    except jsonpatch.JsonPointerException as exc:
        raise OverrideError(f"{where}: {value!r} is not a JSON pointer ({exc})") from exc
    if not changes:
        return value
    if value == "" or any(p == value or p.startswith(value + "/") for p in _IDENTITY):
        raise OverrideError(
            f"{where}: {value!r} would change the object's identity; overrides may not touch "
            "apiVersion, kind, metadata.name or metadata.namespace"
        )
    return value


def _op(raw: Any, where: str) -> PatchOp:
    if not isinstance(raw, Mapping) or raw.get("op") not in _OPS:
        got = raw.get("op") if isinstance(raw, Mapping) else raw
        raise OverrideError(f"{where}: 'op' must be one of {', '.join(_OPS)}, got {got!r}")
    op = str(raw["op"])
    if op in ("add", "replace", "test"):
        if "value" not in raw:
            raise OverrideError(f"{where}: a {op!r} operation needs a 'value'")
        _plain(raw["value"], where)
    from_ = None
    if op in ("move", "copy"):
        if "from" not in raw:
            raise OverrideError(f"{where}: a {op!r} operation needs a 'from' pointer")
        # A copy only reads "from"; a move removes it, so it is held to the identity rule too.
        from_ = _pointer(raw["from"], f"{where} 'from'", changes=op == "move")
    path = _pointer(raw.get("path"), f"{where} 'path'", changes=op != "test")
    return PatchOp(op=op, path=path, value=raw.get("value"), from_=from_)


def _rule(raw: Any, index: int) -> Override:
    where = f"annotation {OVERRIDES_ANNOTATION}, rule {index}"
    if not isinstance(raw, Mapping):
        raise OverrideError(f"{where}: expected an object, got {type(raw).__name__}")
    if unknown := sorted(set(raw) - _RULE_FIELDS):
        raise OverrideError(
            f"{where}: unknown field(s) {', '.join(map(str, unknown))}; a rule has "
            "clusters, clusterSelector and either patch or path + value"
        )
    clusters = None
    if "clusters" in raw:
        names = raw["clusters"]
        if not isinstance(names, list):
            raise OverrideError(f"{where}: 'clusters' must be a list of cluster names")
        for name in names:
            if problem := valid_cluster_name(name) if isinstance(name, str) else "not a string":
                raise OverrideError(
                    f"{where}: {name!r} in 'clusters' is not a cluster name: {problem}"
                )
        clusters = frozenset(names)
    selector = None
    if "clusterSelector" in raw:
        if not isinstance(raw["clusterSelector"], str):
            raise OverrideError(f"{where}: 'clusterSelector' must be a selector string")
        try:
            selector = parse_selector(raw["clusterSelector"])
        except SelectorError as exc:
            raise OverrideError(f"{where}: 'clusterSelector': {exc}") from exc
    if ("patch" in raw) == ("path" in raw):
        raise OverrideError(
            f"{where}: give either 'patch' (a list of operations) or 'path' + 'value'"
        )
    if "path" in raw:
        if "value" not in raw:
            raise OverrideError(
                f"{where}: 'path' needs a 'value' (to delete a field, use a patch 'remove')"
            )
        path, value = _pointer(raw["path"], f"{where} 'path'"), _plain(raw["value"], where)
        ops: tuple[PatchOp, ...] = (
            PatchOp(op="replace", path=path, value=value, add_if_missing=True),
        )
    else:
        if not isinstance(raw["patch"], list) or not raw["patch"]:
            raise OverrideError(f"{where}: 'patch' must be a non-empty list of operations")
        ops = tuple(_op(op, f"{where}, op {n}") for n, op in enumerate(raw["patch"]))
    return Override(index=index, clusters=clusters, selector=selector, ops=ops)


def overrides_of(manifest: Mapping[str, Any]) -> list[Override]:
    """The override rules of an object, in order ([] without the annotation).

    Raises :class:`OverrideError` saying which rule (and operation) is wrong and why.
    """
    metadata = manifest.get("metadata") or {}
    annotations = metadata.get("annotations") if isinstance(metadata, Mapping) else None
    text = annotations.get(OVERRIDES_ANNOTATION) if isinstance(annotations, Mapping) else None
    if text is None:
        return []
    if not isinstance(text, str):
        raise OverrideError(f"annotation {OVERRIDES_ANNOTATION}: the value must be a string")
    rules = _load(text)
    if not isinstance(rules, list):
        raise OverrideError(
            f"annotation {OVERRIDES_ANNOTATION}: expected a list of rules, "
            f"got {type(rules).__name__}"
        )
    return [_rule(raw, index) for index, raw in enumerate(rules)]


def _apply(document: Any, op: PatchOp) -> Any:
    # The shorthand adds where its path does not exist yet (or ends in "-", past a list's end).
    name = "add" if op.add_if_missing and _gap(document, op.path) else op.op
    return jsonpatch.apply_patch(document, [op.as_json(op=name)], in_place=True)


def _gap(document: Any, pointer: str) -> str | None:
    # Where ``pointer`` leaves ``document``, said without quoting any value: the object may be
    # a Secret, and this message ends up in events (jsonpatch's own messages quote values).
    node, walked = document, ""
    for part in jsonpatch.JsonPointer(pointer).parts:
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        elif isinstance(node, dict):
            return f"{walked or 'the root'} has no member {part!r}"
        elif isinstance(node, list):
            return f"{walked} has no item {part!r} (it has {len(node)})"
        else:
            shown = _SCALARS.get(type(node), type(node).__name__)
            return f"{walked} is {shown}, not an object or list"
        walked += "/" + part.replace("~", "~0").replace("/", "~1")
    return None


def _reason(document: Any, op: PatchOp, exc: Exception) -> str:
    if isinstance(exc, jsonpatch.JsonPatchTestFailed):
        return f"the value at {op.path} is not the tested value"
    for pointer in (op.from_, op.path):
        if pointer is not None and (gap := _gap(document, pointer)):
            return gap
    return f"the operation does not fit this copy ({type(exc).__name__})"


def apply_overrides(
    manifest: Mapping[str, Any], cluster: ClusterFacts, overrides: Sequence[Override]
) -> dict[str, Any]:
    """A deep copy of ``manifest`` with the rules that target ``cluster`` applied in order.

    Raises :class:`OverrideError` naming the rule, the cluster, the operation that failed and
    where its path leaves the object (never quoting the object's values).
    """
    document: dict[str, Any] = copy.deepcopy(dict(manifest))
    for rule in overrides:
        if not rule.applies_to(cluster):
            continue
        for number, op in enumerate(rule.ops):
            try:
                document = _apply(document, op)
            except (jsonpatch.JsonPatchException, jsonpatch.JsonPointerException) as exc:
                # Not chained: jsonpatch's message quotes the object, which may be a Secret.
                shown = "path/value" if op.add_if_missing else f"op {number} ({op.op} {op.path})"
                raise OverrideError(
                    f"annotation {OVERRIDES_ANNOTATION}, rule {rule.index}, {shown}: cannot "
                    f"apply to cluster {cluster.name!r}: {_reason(document, op, exc)}; fix the "
                    "path, or narrow the rule's clusters or clusterSelector"
                ) from None
    return document


def strip_kfed_annotations(manifest: Mapping[str, Any]) -> dict[str, Any]:
    """A deep copy of ``manifest`` without kfed's planning annotations (see the module
    docstring); an annotations map left empty is removed."""
    stripped: dict[str, Any] = copy.deepcopy(dict(manifest))
    metadata = stripped.get("metadata")
    if isinstance(metadata, dict) and isinstance(metadata.get("annotations"), dict):
        annotations = metadata["annotations"]
        for name in PLANNING_ANNOTATIONS:
            annotations.pop(name, None)
        if not annotations:
            del metadata["annotations"]
    return stripped
