"""CustomResourceDefinitions as the hub reads them: the kinds one teaches, and its admission
checks; and the order Kubernetes gives versions.

Layer: ``kfed_hub.api``, pure (values in, values out; no I/O, no logging).

A federated CRD is stored and sent to the member clusters like any object; the hub also reads
it to serve its kinds with their real plural, short names and scope (:mod:`.catalog`). So the
hub checks the fields it reads, with kube-apiserver's wording: ``spec.group`` (a domain with a
dot, not the hub's own ``kfed.io``), ``spec.names`` (plural, singular, kind and short names as
DNS-1035 labels, the kind lowercased), ``spec.scope`` and the version names, and that
``metadata.name`` is ``<plural>.<group>``. Schemas, conversion and the rest are left to the
member clusters, whose verdict comes back as each cluster's apply result.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from kfed_hub.api.errors import Cause
from kfed_hub.api.kinds import KFED_GROUP, KindInfo, NameRule
from kfed_hub.api.names import name_problems

SCOPES = ("Cluster", "Namespaced")
_VERSION = re.compile(r"v(\d+)(?:(alpha|beta)(\d+))?")


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def served_versions(spec: Mapping[str, Any]) -> list[str]:
    """The names of the versions a CRD's ``spec`` serves (``served`` defaults to true here; the
    member clusters insist on it being set)."""
    versions = spec.get("versions")
    names = []
    for entry in versions if isinstance(versions, list) else []:
        entry = _mapping(entry)
        name = _text(entry.get("name"))
        if name and entry.get("served", True) is not False:
            names.append(name)
    return names


def kinds_of_crd(manifest: Mapping[str, Any]) -> tuple[KindInfo, ...]:
    """The kinds a CRD teaches, one per served version; () if it names no usable kind."""
    spec = _mapping(manifest.get("spec"))
    names = _mapping(spec.get("names"))
    group, plural, kind = (
        _text(spec.get("group")),
        _text(names.get("plural")),
        _text(names.get("kind")),
    )
    if not group or group == KFED_GROUP or not plural or not kind:
        return ()
    listed = names.get("shortNames")
    short = tuple(s for s in listed if isinstance(s, str)) if isinstance(listed, list) else ()
    return tuple(
        KindInfo(
            group=group,
            version=version,
            kind=kind,
            plural=plural,
            singular=_text(names.get("singular")) or kind.lower(),
            namespaced=spec.get("scope") != "Cluster",
            short_names=short,
        )
        for version in served_versions(spec)
    )


def defined_kind(manifest: Mapping[str, Any]) -> tuple[str, str] | None:
    """The (group, kind) of the custom resources a CRD defines; None if it names none."""
    spec = _mapping(manifest.get("spec"))
    group, kind = _text(spec.get("group")), _text(_mapping(spec.get("names")).get("kind"))
    return (group, kind) if group and kind else None


def _invalid(field: str, value: Any, detail: str) -> Cause:
    shown = f'"{value}"' if isinstance(value, str) else str(value)
    return Cause(
        reason="FieldValueInvalid",
        message=f"{field}: Invalid value: {shown}: {detail}",
        field=field,
    )


def _required(field: str, detail: str) -> Cause:
    return Cause(
        reason="FieldValueRequired", message=f"{field}: Required value: {detail}", field=field
    )


def _label_causes(field: str, value: Any, *, lowered: bool = False) -> list[Cause]:
    if not isinstance(value, str):
        return [_invalid(field, value, "must be a string")]
    checked = value.lower() if lowered else value
    return [_invalid(field, value, p) for p in name_problems(checked, NameRule.DNS1035)]


def _group_causes(group: Any) -> list[Cause]:
    if not group:
        return [_required("spec.group", "")]
    if not isinstance(group, str):
        return [_invalid("spec.group", group, "must be a string")]
    causes = [_invalid("spec.group", group, p) for p in name_problems(group, NameRule.SUBDOMAIN)]
    if "." not in group:
        causes.append(_invalid("spec.group", group, "should be a domain with at least one dot"))
    if group == KFED_GROUP:
        causes.append(
            _invalid("spec.group", group, "is the kfed hub's own group: choose another domain")
        )
    return causes


def _names_causes(names: Mapping[str, Any]) -> list[Cause]:
    causes: list[Cause] = []
    for field in ("plural", "kind"):
        if not names.get(field):
            causes.append(_required(f"spec.names.{field}", ""))
        else:
            causes += _label_causes(f"spec.names.{field}", names[field], lowered=field == "kind")
    if names.get("singular"):
        causes += _label_causes("spec.names.singular", names["singular"])
    short = names.get("shortNames")
    if short is not None and not isinstance(short, list):
        causes.append(_invalid("spec.names.shortNames", short, "must be a list of strings"))
    for index, name in enumerate(short if isinstance(short, list) else []):
        causes += _label_causes(f"spec.names.shortNames[{index}]", name)
    return causes


def crd_causes(manifest: Mapping[str, Any]) -> list[Cause]:
    """Field problems of a CustomResourceDefinition's parts the hub reads (empty when valid)."""
    spec = manifest.get("spec")
    if not isinstance(spec, Mapping):
        return [_required("spec", "a CustomResourceDefinition needs a spec")]
    causes = _group_causes(spec.get("group"))
    names = spec.get("names")
    if not isinstance(names, Mapping):
        causes.append(_required("spec.names", "plural and kind are required"))
        names = {}
    causes += _names_causes(names)
    scope = spec.get("scope")
    if scope not in SCOPES:
        causes.append(
            Cause(
                reason="FieldValueNotSupported",
                message=f"spec.scope: Unsupported value: {_text(scope) or scope!r}: supported "
                'values: "Cluster", "Namespaced"',
                field="spec.scope",
            )
        )
    versions = spec.get("versions")
    if not isinstance(versions, list) or not versions:
        causes.append(_required("spec.versions", "must have at least one version"))
    else:
        for index, entry in enumerate(versions):
            field = f"spec.versions[{index}].name"
            name = _mapping(entry).get("name")
            causes += _label_causes(field, name) if name else [_required(field, "")]
    plural, group = names.get("plural"), spec.get("group")
    name = (_mapping(manifest.get("metadata"))).get("name")
    if isinstance(plural, str) and isinstance(group, str) and name and name != f"{plural}.{group}":
        causes.append(_invalid("metadata.name", name, 'must be spec.names.plural+"."+spec.group'))
    return causes


def version_order(version: str) -> tuple[int, int, int, str]:
    """Sort key putting versions in Kubernetes' priority order: GA before beta before alpha,
    higher numbers first, then anything else alphabetically (``v2, v1, v1beta2, v1alpha1, x``)."""
    match = _VERSION.fullmatch(version)
    if match is None:
        return (3, 0, 0, version)
    major, stage, minor = int(match[1]), match[2], int(match[3] or 0)
    rank = {None: 0, "beta": 1, "alpha": 2}[stage]
    return (rank, -major, -minor, version)
