"""Requests for paths the catalog does not serve yet: the first create of a dynamic kind, and
the error every other such request gets.

Layer: ``kfed_hub.api``, pure (reads the :class:`~.catalog.KindCatalog`; no I/O). Raises
:class:`~kfed_hub.api.errors.ApiError`.

A path of a named group (``/apis/{group}/{version}/[namespaces/{ns}/]{plural}``) whose plural
the catalog does not know is the collection of a new dynamic kind when a create is POSTed to it:
the body's ``apiVersion`` must be ``{group}/{version}`` and its ``kind`` names the kind, whose
plural must be the one Kubernetes derives from it (:func:`.kinds.guess_plural`) unless a
federated CustomResourceDefinition defines it (then the CRD's plural, versions and scope rule,
and the catalog already serves them). The kind is namespaced when the path has a namespace.
Reading, replacing or deleting an object of an unknown kind is a plain NotFound: there is no
such object. The core group (``/api/v1``) and ``kfed.io`` get no dynamic kinds.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from kfed_hub.api import errors
from kfed_hub.api.catalog import KindCatalog
from kfed_hub.api.crds import version_order
from kfed_hub.api.errors import ApiError, Reason
from kfed_hub.api.kinds import (
    KFED_GROUP,
    KindInfo,
    NameRule,
    find_resource,
    guess_plural,
    split_tail,
)
from kfed_hub.api.names import name_problems


@dataclass(frozen=True, slots=True, kw_only=True)
class NewCollection:
    """Where a create of a not yet known kind was sent."""

    group: str
    version: str
    namespace: str | None
    plural: str

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}"

    @property
    def path(self) -> str:
        where = f"namespaces/{self.namespace}/" if self.namespace is not None else ""
        return f"/apis/{self.group}/{self.version}/{where}{self.plural}"


def new_collection(method: str, group: str, version: str, tail: str) -> NewCollection:
    """The collection a request for an unserved path creates in; raises the error the request
    gets when it is anything else."""
    other = find_resource(group, version, tail.split("/")[0])
    if other is not None and not other.federated:  # the hub's own kinds
        raise errors.method_not_allowed(
            f"the server does not allow {method} on {other.qualified_plural}"
        )
    parsed = split_tail(tail)
    if not group or group == KFED_GROUP or parsed is None:
        raise errors.resource_not_found()
    namespace, plural, name = parsed
    if name is not None:
        raise errors.not_found(plural, name, group=group)
    if method != "POST":
        raise errors.resource_not_found()
    return NewCollection(group=group, version=version, namespace=namespace, plural=plural)


def _not_here(message: str) -> ApiError:
    return ApiError(Reason.NOT_FOUND, message)


def _scope(info: KindInfo) -> str:
    return "namespaced" if info.namespaced else "cluster-scoped"


def _kind_of(where: NewCollection, body: Mapping[str, Any]) -> str:
    api_version, kind = body.get("apiVersion"), body.get("kind")
    if api_version != where.api_version:
        raise errors.bad_request(
            f"the API version in the data ({api_version or 'none'}) does not match the expected "
            f"API version ({where.api_version}): a body sent to {where.path} must say "
            f"apiVersion: {where.api_version}"
        )
    if not isinstance(kind, str) or not kind:
        raise errors.bad_request(
            f"the object sent to {where.path} has no kind: set kind (and apiVersion) in the body"
        )
    problems = name_problems(kind.lower(), NameRule.DNS1035)
    if problems:
        raise errors.bad_request(
            f"the kind in the data ({kind}) is not a valid kind name: {problems[0]}"
        )
    return kind


def new_kind(catalog: KindCatalog, where: NewCollection, body: Mapping[str, Any]) -> KindInfo:
    """The dynamic kind a create at ``where`` makes known (see the module docstring)."""
    kind = _kind_of(where, body)
    known = catalog.find_kind(where.api_version, kind)
    if known is not None:
        raise _not_here(
            f"{kind} ({where.api_version}) is {_scope(known)} and served at "
            f"{known.collection_path('{namespace}')}, not at {where.path}"
        )
    taken = catalog.find_resource(where.group, where.version, where.plural)
    if taken is not None:
        raise _not_here(
            f"{where.plural}.{where.group} is the {_scope(taken)} resource of kind {taken.kind}: "
            f"{kind} cannot be created at {where.path}"
        )
    defined = catalog.defined(where.group, kind, where.plural)
    if defined:
        crd = defined[0]
        versions = sorted({info.version for info in defined}, key=version_order)
        raise _not_here(
            f'the federated CustomResourceDefinition "{crd.plural}.{crd.group}" defines kind '
            f"{crd.kind} as the {_scope(crd)} resource {crd.plural!r} in version(s) "
            f"{', '.join(versions)}: send {crd.kind} objects to "
            f"{crd.collection_path('{namespace}')} with apiVersion {crd.api_version}"
        )
    plural = guess_plural(kind)
    if plural != where.plural:
        raise _not_here(
            f"kind {kind} ({where.api_version}) is served at the plural Kubernetes derives from "
            f"it, {plural!r}, not {where.plural!r}: send it to "
            f"{dataclasses.replace(where, plural=plural).path}, or federate its "
            "CustomResourceDefinition first to serve it at its own plural"
        )
    return KindInfo(
        group=where.group,
        version=where.version,
        kind=kind,
        plural=plural,
        singular=kind.lower(),
        namespaced=where.namespace is not None,
    )
