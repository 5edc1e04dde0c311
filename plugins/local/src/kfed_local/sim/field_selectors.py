"""Field selectors of the simulated API server (``?fieldSelector=``), as kube-apiserver has them.

Layer: pure, the field half of :mod:`kfed_local.sim.selectors` (which re-exports everything
public here; import from there). It parses ``a=b,c!=d`` with kube-apiserver's escaping rules,
knows which field labels each resource accepts (the real per-kind conversion functions, and a
CRD's ``selectableFields``) and computes the selectable fields of an object. Failures raise
:class:`~kfed_local.sim.errors.SelectorError` with the real server's wording (the API layer
answers ``400 BadRequest``). No state, no I/O; it must not import ``validation``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from kfed_local.sim.errors import SelectorError


def _go_quote(text: str) -> str:
    # Go's %q; JSON quoting agrees with it for every printable character.
    return json.dumps(text, ensure_ascii=False)


@dataclass(frozen=True, slots=True, kw_only=True)
class FieldRequirement:
    """One term of a field selector: ``field=value`` (``==`` is the same) or ``field!=value``."""

    field: str
    operator: Literal["=", "!="]
    value: str

    def matches(self, fields: Mapping[str, str]) -> bool:
        """True if the term holds; an absent field has the empty value, as in Go."""
        equal = fields.get(self.field, "") == self.value
        return equal if self.operator == "=" else not equal

    def to_string(self) -> str:
        """``field=value`` with ``\\``, ``,`` and ``=`` escaped in the value."""
        return f"{self.field}{self.operator}{escape_field_value(self.value)}"


@dataclass(frozen=True, slots=True, kw_only=True)
class FieldSelector:
    """The AND of field terms."""

    requirements: tuple[FieldRequirement, ...] = ()

    @property
    def empty(self) -> bool:
        """True if the selector matches everything."""
        return not self.requirements

    def matches(self, fields: Mapping[str, str]) -> bool:
        """True if every term holds for ``fields`` (see :func:`object_fields`)."""
        return all(term.matches(fields) for term in self.requirements)

    def to_string(self) -> str:
        """The canonical text (terms in the sorted order kube-apiserver parses them)."""
        return ",".join(term.to_string() for term in self.requirements)

    def requires_exact_match(self, field: str) -> str | None:
        """The value ``field`` must equal for a match, if the selector pins it."""
        for term in self.requirements:
            if term.field == field and term.operator == "=":
                return term.value
        return None

    def check_supported(
        self,
        group: str,
        plural: str,
        *,
        namespaced: bool | None = None,
        custom: bool | None = None,
        selectable_fields: Iterable[str] = (),
    ) -> FieldSelector:
        """The selector with its field labels converted as kube-apiserver converts them.

        Raises :class:`SelectorError` for a field label the resource does not support, with the
        resource's own wording; use the returned selector (it maps a Pod's legacy
        ``spec.host`` to ``spec.nodeName``). See :func:`supported_field_labels` for the keywords.
        """
        supported = supported_field_labels(
            group, plural, namespaced=namespaced, selectable_fields=tuple(selectable_fields)
        )
        converted: list[FieldRequirement] = []
        for term in self.requirements:
            if term.field not in supported:
                raise SelectorError(_unsupported_message(group, plural, term.field, custom))
            if (group, plural, term.field) == ("", "pods", "spec.host"):
                term = FieldRequirement(
                    field="spec.nodeName", operator=term.operator, value=term.value
                )
            converted.append(term)
        return FieldSelector(requirements=tuple(converted))


def escape_field_value(value: str) -> str:
    """Escape ``\\``, ``,`` and ``=`` for use as a field selector value."""
    return value.replace("\\", "\\\\").replace(",", "\\,").replace("=", "\\=")


def _unescape_field_value(text: str) -> str:
    if not any(c in text for c in "\\,="):
        return text
    out: list[str] = []
    escaped = False
    for char in text:
        if escaped:
            if char not in "\\,=":
                raise SelectorError(f"invalid field selector: invalid escape sequence: \\{char}")
            out.append(char)
            escaped = False
        elif char == "\\":
            escaped = True
        elif char in ",=":
            # Go formats the rune with %v, that is as its code point number.
            raise SelectorError(
                f"invalid field selector: unescaped character in value: {ord(char)}"
            )
        else:
            out.append(char)
    if escaped:
        raise SelectorError("invalid field selector: invalid escape sequence: \\")
    return "".join(out)


def _split_terms(text: str) -> list[str]:
    terms: list[str] = []
    start = 0
    escaped = False
    for i, char in enumerate(text):
        if escaped:
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == ",":
            terms.append(text[start:i])
            start = i + 1
    terms.append(text[start:])
    return terms


def parse_field_selector(text: str) -> FieldSelector:
    """Parse ``a=b,c!=d`` (``==`` means ``=``; ``\\,`` ``\\=`` ``\\\\`` escape in values)."""
    if not text:
        return FieldSelector()
    terms: list[FieldRequirement] = []
    for part in sorted(_split_terms(text)):
        if not part:
            continue
        # No escaping is possible on the left, so the first operator found splits the term.
        for i in range(len(part)):
            operator = next((op for op in ("!=", "==", "=") if part.startswith(op, i)), None)
            if operator is not None:
                field, raw = part[:i], part[i + len(operator) :]
                break
        else:
            raise SelectorError(f"invalid selector: '{text}'; can't understand '{part}'")
        terms.append(
            FieldRequirement(
                field=field,
                operator="!=" if operator == "!=" else "=",
                value=_unescape_field_value(raw),
            )
        )
    return FieldSelector(requirements=tuple(terms))


# Field labels each built-in resource supports: the v1 conversion functions of kube-apiserver.
# Resources missing here accept only metadata.name and metadata.namespace.
_POD_FIELDS = (
    "spec.nodeName",
    "spec.restartPolicy",
    "spec.schedulerName",
    "spec.serviceAccountName",
    "spec.hostNetwork",
    "status.phase",
    "status.podIP",
    "status.podIPs",
    "status.nominatedNodeName",
    "spec.host",
)
_EVENT_FIELDS = (
    "involvedObject.kind",
    "involvedObject.namespace",
    "involvedObject.name",
    "involvedObject.uid",
    "involvedObject.apiVersion",
    "involvedObject.resourceVersion",
    "involvedObject.fieldPath",
    "reason",
    "reportingComponent",
    "source",
    "type",
)
_CONVERTED_FIELDS: Mapping[tuple[str, str], frozenset[str]] = {
    ("", "pods"): frozenset(("metadata.name", "metadata.namespace", *_POD_FIELDS)),
    ("", "nodes"): frozenset(("metadata.name", "spec.unschedulable")),
    ("", "replicationcontrollers"): frozenset(
        ("metadata.name", "metadata.namespace", "status.replicas")
    ),
    ("", "events"): frozenset(("metadata.name", "metadata.namespace", *_EVENT_FIELDS)),
    ("", "namespaces"): frozenset(("metadata.name", "status.phase")),
    ("", "secrets"): frozenset(("metadata.name", "metadata.namespace", "type")),
    ("", "services"): frozenset(
        ("metadata.name", "metadata.namespace", "spec.clusterIP", "spec.type")
    ),
}
_CLUSTER_SCOPED: frozenset[tuple[str, str]] = frozenset(
    {
        ("", "namespaces"),
        ("", "nodes"),
        ("", "persistentvolumes"),
        ("networking.k8s.io", "ingressclasses"),
        ("apiextensions.k8s.io", "customresourcedefinitions"),
        ("rbac.authorization.k8s.io", "clusterroles"),
        ("rbac.authorization.k8s.io", "clusterrolebindings"),
        ("storage.k8s.io", "storageclasses"),
        ("scheduling.k8s.io", "priorityclasses"),
    }
)
_BUILTIN_GROUPS = frozenset(
    {
        "",
        "apps",
        "batch",
        "autoscaling",
        "policy",
        "networking.k8s.io",
        "discovery.k8s.io",
        "coordination.k8s.io",
        "apiextensions.k8s.io",
        "rbac.authorization.k8s.io",
        "storage.k8s.io",
        "scheduling.k8s.io",
        "events.k8s.io",
        "node.k8s.io",
        "certificates.k8s.io",
        "admissionregistration.k8s.io",
        "apiregistration.k8s.io",
        "flowcontrol.apiserver.k8s.io",
        "resource.k8s.io",
    }
)


def _is_namespaced(group: str, plural: str, namespaced: bool | None) -> bool:
    return namespaced if namespaced is not None else (group, plural) not in _CLUSTER_SCOPED


def supported_field_labels(
    group: str,
    plural: str,
    *,
    namespaced: bool | None = None,
    selectable_fields: Iterable[str] = (),
) -> frozenset[str]:
    """The field labels kube-apiserver accepts in a field selector on ``plural``.

    ``namespaced`` defaults to the built-in scope (namespaced for unknown resources: pass it for
    custom resources). ``selectable_fields`` are a CRD version's ``selectableFields`` JSON paths
    (``.spec.color``). A built-in without its own conversion accepts both metadata labels even
    when cluster-scoped, as the real server does; a custom resource accepts
    ``metadata.namespace`` only when namespaced.
    """
    known = _CONVERTED_FIELDS.get((group, plural))
    if known is not None:
        return known
    selectable = tuple(selectable_fields)
    if group in _BUILTIN_GROUPS and not selectable:
        return frozenset(("metadata.name", "metadata.namespace"))
    labels = {"metadata.name"} | {f.lstrip(".") for f in selectable}
    if _is_namespaced(group, plural, namespaced):
        labels.add("metadata.namespace")
    return frozenset(labels)


def _unsupported_message(group: str, plural: str, label: str, custom: bool | None) -> str:
    is_custom = custom if custom is not None else group not in _BUILTIN_GROUPS
    if is_custom or (group, plural) in _CONVERTED_FIELDS:
        return f"field label not supported: {label}"
    return (
        f'{_go_quote(label)} is not a known field selector: only "metadata.name", '
        '"metadata.namespace"'
    )


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _at(obj: Mapping[str, Any], path: str) -> Any:
    value: Any = obj
    for part in path.split("."):
        if not isinstance(value, Mapping):
            return None
        value = value.get(part)
    return value


def _field_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, int | float):
        return str(value)
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def object_fields(
    group: str,
    plural: str,
    obj: Mapping[str, Any],
    *,
    namespaced: bool | None = None,
    selectable_fields: Iterable[str] = (),
) -> dict[str, str]:
    """The selectable fields of ``obj`` and their values, as kube-apiserver computes them.

    Absent fields have Go's zero value (``""``, ``"false"``, ``"0"``). A label that is accepted
    but not selectable (a Pod's ``status.podIPs``) is missing and so compares as ``""``.
    """
    meta = _mapping(obj.get("metadata"))
    fields = {"metadata.name": _field_text(meta.get("name"))}
    if _is_namespaced(group, plural, namespaced):
        fields["metadata.namespace"] = _field_text(meta.get("namespace"))
    key = (group, plural)
    if key == ("", "pods"):
        status = _mapping(obj.get("status"))
        ips = status.get("podIPs") or [{}]
        first_ip = _mapping(ips[0]).get("ip") if isinstance(ips, list) else None
        for name in ("spec.nodeName", "spec.restartPolicy", "spec.schedulerName"):
            fields[name] = _field_text(_at(obj, name))
        fields["spec.serviceAccountName"] = _field_text(_at(obj, "spec.serviceAccountName"))
        fields["spec.hostNetwork"] = _field_text(bool(_at(obj, "spec.hostNetwork")))
        fields["status.phase"] = _field_text(status.get("phase"))
        fields["status.podIP"] = _field_text(first_ip or status.get("podIP"))
        fields["status.nominatedNodeName"] = _field_text(status.get("nominatedNodeName"))
    elif key == ("", "events"):
        for name in _EVENT_FIELDS:
            if name.startswith("involvedObject.") or name in ("reason", "type"):
                fields[name] = _field_text(_at(obj, name))
        reporting = _field_text(obj.get("reportingComponent"))
        fields["reportingComponent"] = reporting
        fields["source"] = _field_text(_at(obj, "source.component")) or reporting
    elif key == ("", "nodes"):
        fields["spec.unschedulable"] = _field_text(bool(_at(obj, "spec.unschedulable")))
    elif key == ("", "namespaces"):
        fields["status.phase"] = _field_text(_at(obj, "status.phase"))
    elif key == ("", "secrets"):
        fields["type"] = _field_text(obj.get("type"))
    elif key == ("", "services"):
        fields["spec.clusterIP"] = _field_text(_at(obj, "spec.clusterIP"))
        fields["spec.type"] = _field_text(_at(obj, "spec.type"))
    elif key in (("apps", "replicasets"), ("", "replicationcontrollers")):
        # kube-apiserver computes status.replicas for ReplicaSets too, but its apps/v1
        # conversion refuses the label, so only ReplicationControllers can select on it.
        fields["status.replicas"] = _field_text(_at(obj, "status.replicas") or 0)
    for path in selectable_fields:
        label = path.lstrip(".")
        fields[label] = _field_text(_at(obj, label))
    return fields
