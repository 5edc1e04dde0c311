"""Which resource a kind name or a manifest means, learned from the hub's discovery documents.

Layer: the CLI shell. Like kubectl, the CLI does not hard-code kinds: it asks the hub
(``/api/v1``, ``/apis``, ``/apis/{group}/{version}``) once per command and maps plural,
singular and short names (``cm``, ``deploy``, ``rs``, ``ns`` ...), optionally qualified by group
(``replicasets.extensions``), to resources. When several groups serve one name (apps and the
legacy extensions), the current group comes first and legacy ones last.

A manifest's kind maps to a resource even when discovery does not list it (a custom resource
the hub has not seen yet, a StatefulSet ...), as the hub serves any kind of a named group
(:meth:`ResourceMap.resolve`), in this order: the resource a CustomResourceDefinition among the
same files defines (what the hub serves once they are applied); the one discovery lists; the
plural and scope discovery lists for the kind at another version; the plural Kubernetes derives
from the kind (``guess_plural``), namespaced. Namespaced because most custom resources are and
nothing here can know better: a kind is known to be cluster-scoped only from its CRD (federated,
or in the files), so a cluster-scoped custom resource needs its CRD federated first or in the same
files. Core (``v1``) and ``kfed.io`` kinds are only ever the ones discovery lists.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from kfed_hub.api.crds import kinds_of_crd
from kfed_hub.api.kinds import (
    CRD_GROUP,
    CRD_KIND,
    KFED_GROUP,
    OBJECT_VERBS,
    KindInfo,
    guess_plural,
)
from kfed_hub.client import HubClient

LEGACY_GROUPS = ("extensions",)
RESERVED_GROUPS = ("", KFED_GROUP)  # groups whose kinds are only those discovery lists


@dataclass(frozen=True, slots=True, kw_only=True)
class Resource:
    """One resource of one group version, as discovery describes it."""

    group: str  # "" for the core group
    version: str
    kind: str
    plural: str
    singular: str
    namespaced: bool
    short_names: tuple[str, ...] = ()
    verbs: tuple[str, ...] = ()

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def display(self) -> str:
        """How kubectl names an object's type in messages: ``configmap``, ``deployment.apps``."""
        return f"{self.kind.lower()}.{self.group}" if self.group else self.kind.lower()

    @property
    def qualified_plural(self) -> str:
        return f"{self.plural}.{self.group}" if self.group else self.plural

    def path(self, namespace: str | None, name: str | None = None) -> str:
        """The URL path of the collection (``name`` None) or of one object."""
        base = f"/apis/{self.group}/{self.version}" if self.group else f"/api/{self.version}"
        if self.namespaced and namespace:
            base += f"/namespaces/{namespace}"
        base += f"/{self.plural}"
        return f"{base}/{name}" if name else base

    def names(self) -> set[str]:
        return {self.plural, self.singular, self.kind.lower(), *self.short_names}


def _from_info(info: KindInfo) -> Resource:
    return Resource(
        group=info.group,
        version=info.version,
        kind=info.kind,
        plural=info.plural,
        singular=info.singular,
        namespaced=info.namespaced,
        short_names=info.short_names,
        verbs=info.verbs,
    )


def crd_resources(manifests: Iterable[Mapping[str, Any]]) -> dict[tuple[str, str], Resource]:
    """The resources the CustomResourceDefinitions among ``manifests`` define, by (apiVersion,
    kind); the first CRD of a kind wins."""
    found: dict[tuple[str, str], Resource] = {}
    for manifest in manifests:
        if manifest.get("apiVersion") == f"{CRD_GROUP}/v1" and manifest.get("kind") == CRD_KIND:
            for info in kinds_of_crd(manifest):
                found.setdefault((info.api_version, info.kind), _from_info(info))
    return found


def _resources(document: Any, group: str, version: str) -> list[Resource]:
    found = []
    for item in (document or {}).get("resources") or []:
        if "/" in str(item.get("name", "")):
            continue  # a subresource
        found.append(
            Resource(
                group=group,
                version=version,
                kind=str(item.get("kind", "")),
                plural=str(item.get("name", "")),
                singular=str(item.get("singularName") or str(item.get("kind", "")).lower()),
                namespaced=bool(item.get("namespaced")),
                short_names=tuple(item.get("shortNames") or ()),
                verbs=tuple(item.get("verbs") or ()),
            )
        )
    return found


class ResourceMap:
    """The hub's resources, fetched on first use."""

    def __init__(self, client: HubClient) -> None:
        self._client = client
        self._ordered: list[Resource] | None = None

    def all(self) -> list[Resource]:
        """Every resource, preferred versions first, legacy groups last."""
        if self._ordered is None:
            ordered = _resources(self._client.request("GET", "/api/v1"), "", "v1")
            groups = (self._client.request("GET", "/apis") or {}).get("groups") or []
            groups = sorted(groups, key=lambda g: g.get("name") in LEGACY_GROUPS)
            for group in groups:
                name = str(group.get("name", ""))
                preferred = (group.get("preferredVersion") or {}).get("version")
                versions = [str(v.get("version")) for v in group.get("versions") or []]
                versions.sort(key=lambda v: v != preferred)
                for version in versions:
                    document = self._client.request("GET", f"/apis/{name}/{version}")
                    ordered += _resources(document, name, version)
            self._ordered = ordered
        return self._ordered

    def for_kind(self, api_version: str, kind: str) -> Resource | None:
        """The resource of a manifest's ``apiVersion`` and ``kind``."""
        for resource in self.all():
            if resource.api_version == api_version and resource.kind == kind:
                return resource
        return None

    def resolve(
        self,
        api_version: str,
        kind: str,
        taught: Mapping[tuple[str, str], Resource] | None = None,
    ) -> Resource | None:
        """The resource a manifest goes to (see the module docstring); ``taught``: what the
        CRDs among the same files define (:func:`crd_resources`). None for a core or
        ``kfed.io`` kind that discovery does not list."""
        taught = taught or {}
        # The files' CRD first: it is what the hub will serve once they are applied.
        found = taught.get((api_version, kind)) or self.for_kind(api_version, kind)
        if found is not None:
            return found
        group, _, version = api_version.rpartition("/")
        if group in RESERVED_GROUPS:
            return None
        for known in [*taught.values(), *self.all()]:
            if known.group == group and known.kind == kind:
                return dataclasses.replace(known, version=version)
        return Resource(
            group=group,
            version=version,
            kind=kind,
            plural=guess_plural(kind),
            singular=kind.lower(),
            namespaced=True,
            verbs=OBJECT_VERBS,
        )

    def lookup(self, name: str) -> list[Resource]:
        """Resources a kind name may mean (``cm``, ``rs.apps``, ``deployments``), best first;
        one per group (its preferred version)."""
        wanted = name.lower()
        group: str | None = None
        if "." in wanted:
            wanted, _, group = wanted.partition(".")
        chosen: list[Resource] = []
        seen: set[str] = set()
        for resource in self.all():
            if wanted not in resource.names():
                continue
            if group is not None and resource.group != group:
                continue
            if resource.group in seen:
                continue
            seen.add(resource.group)
            chosen.append(resource)
        return chosen
