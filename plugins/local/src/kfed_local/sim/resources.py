"""The resource types a simulated cluster serves: built-in kinds and those of CRDs.

Layer: pure (bottom of ``kfed_local.sim``). A :class:`ResourceType` is everything the API layer,
discovery, OpenAPI and the controllers need to know about one resource (group, version, plural,
kind, scope, verbs, short names, subresources, schema). :class:`ResourceRegistry` maps URLs and
kinds to types; each cluster owns one, because creating a CRD adds types to that cluster only.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from kfed_local.sim.schema import SchemaNode, schema_for_kind, schema_from_openapi_v3

ALL_VERBS = ("create", "delete", "deletecollection", "get", "list", "patch", "update", "watch")
READ_VERBS = ("get", "list", "watch")


@dataclass(frozen=True, slots=True, kw_only=True)
class ResourceType:
    """One served resource, for example ``apps/v1 deployments``."""

    group: str
    version: str
    plural: str
    kind: str
    namespaced: bool
    singular: str = ""
    short_names: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    verbs: tuple[str, ...] = ALL_VERBS
    subresources: frozenset[str] = frozenset()
    schema: SchemaNode | None = None
    printer_columns: tuple[Mapping[str, Any], ...] = ()
    """``additionalPrinterColumns`` of a CRD version (built-in kinds have fixed tables)."""
    crd_name: str | None = None
    """Name of the CustomResourceDefinition that serves this type, if any."""
    scale_paths: Mapping[str, str] = field(default_factory=dict)
    """A CRD's scale subresource: specReplicasPath, statusReplicasPath, labelSelectorPath."""

    @property
    def api_version(self) -> str:
        """``v1`` for the core group, else ``group/version``."""
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def group_resource(self) -> str:
        """``deployments.apps`` (``pods`` in the core group): how errors name the resource."""
        return f"{self.plural}.{self.group}" if self.group else self.plural

    @property
    def list_kind(self) -> str:
        """The kind of a list of these objects (``DeploymentList``)."""
        return f"{self.kind}List"

    @property
    def storage_key(self) -> str:
        """Key under which objects of this resource are stored: group and plural, not version."""
        return f"{self.group}/{self.plural}"

    @property
    def is_custom(self) -> bool:
        """True for types served because a CRD exists."""
        return self.crd_name is not None

    def url(self, namespace: str | None = None, name: str | None = None) -> str:
        """The REST path of the collection or of one object."""
        prefix = f"/apis/{self.group}/{self.version}" if self.group else f"/api/{self.version}"
        if self.namespaced and namespace is not None:
            prefix += f"/namespaces/{namespace}"
        path = f"{prefix}/{self.plural}"
        return f"{path}/{name}" if name is not None else path


def _builtin(
    group: str,
    version: str,
    plural: str,
    kind: str,
    *,
    namespaced: bool,
    short_names: tuple[str, ...] = (),
    categories: tuple[str, ...] = (),
    subresources: Iterable[str] = (),
    verbs: tuple[str, ...] = ALL_VERBS,
) -> ResourceType:
    schema = schema_for_kind(group, version, kind)
    if schema is None:  # a typo here would silently serve an unvalidated type
        raise RuntimeError(f"no Kubernetes schema for {group}/{version} {kind}")
    return ResourceType(
        group=group,
        version=version,
        plural=plural,
        kind=kind,
        namespaced=namespaced,
        singular=kind.lower(),
        short_names=short_names,
        categories=categories,
        verbs=verbs,
        subresources=frozenset(subresources),
        schema=schema,
    )


def builtin_types() -> tuple[ResourceType, ...]:
    """The built-in resources every simulated cluster serves (a subset of Kubernetes 1.37)."""
    all_ = ("all",)
    return (
        _builtin(
            "",
            "v1",
            "namespaces",
            "Namespace",
            namespaced=False,
            short_names=("ns",),
            subresources=("status", "finalize"),
            verbs=("create", "delete", "get", "list", "patch", "update", "watch"),
        ),
        _builtin(
            "",
            "v1",
            "nodes",
            "Node",
            namespaced=False,
            short_names=("no",),
            subresources=("status",),
        ),
        _builtin(
            "",
            "v1",
            "pods",
            "Pod",
            namespaced=True,
            short_names=("po",),
            categories=all_,
            subresources=("status", "binding", "eviction"),
        ),
        _builtin(
            "",
            "v1",
            "services",
            "Service",
            namespaced=True,
            short_names=("svc",),
            categories=all_,
            subresources=("status",),
            verbs=(
                "create",
                "delete",
                "deletecollection",
                "get",
                "list",
                "patch",
                "update",
                "watch",
            ),
        ),
        _builtin("", "v1", "endpoints", "Endpoints", namespaced=True, short_names=("ep",)),
        _builtin("", "v1", "configmaps", "ConfigMap", namespaced=True, short_names=("cm",)),
        _builtin("", "v1", "secrets", "Secret", namespaced=True),
        _builtin(
            "", "v1", "serviceaccounts", "ServiceAccount", namespaced=True, short_names=("sa",)
        ),
        _builtin("", "v1", "events", "Event", namespaced=True, short_names=("ev",)),
        _builtin(
            "apps",
            "v1",
            "deployments",
            "Deployment",
            namespaced=True,
            short_names=("deploy",),
            categories=all_,
            subresources=("status", "scale"),
        ),
        _builtin(
            "apps",
            "v1",
            "replicasets",
            "ReplicaSet",
            namespaced=True,
            short_names=("rs",),
            categories=all_,
            subresources=("status", "scale"),
        ),
        _builtin(
            "networking.k8s.io",
            "v1",
            "ingresses",
            "Ingress",
            namespaced=True,
            short_names=("ing",),
            subresources=("status",),
        ),
        _builtin("networking.k8s.io", "v1", "ingressclasses", "IngressClass", namespaced=False),
        _builtin("discovery.k8s.io", "v1", "endpointslices", "EndpointSlice", namespaced=True),
        _builtin("coordination.k8s.io", "v1", "leases", "Lease", namespaced=True),
        _builtin(
            "apiextensions.k8s.io",
            "v1",
            "customresourcedefinitions",
            "CustomResourceDefinition",
            namespaced=False,
            short_names=("crd", "crds"),
            categories=("api-extensions",),
            subresources=("status",),
        ),
    )


def types_from_crd(crd: Mapping[str, Any]) -> list[ResourceType]:
    """The resource types a CustomResourceDefinition serves (one per served version)."""
    spec = crd.get("spec", {})
    names = spec.get("names", {})
    types: list[ResourceType] = []
    for version in spec.get("versions", ()):
        if not version.get("served", True):
            continue
        raw_schema = (version.get("schema") or {}).get("openAPIV3Schema")
        subresources = version.get("subresources") or {}
        scale = subresources.get("scale") or {}
        types.append(
            ResourceType(
                group=spec.get("group", ""),
                version=version["name"],
                plural=names.get("plural", ""),
                kind=names.get("kind", ""),
                namespaced=spec.get("scope", "Namespaced") == "Namespaced",
                singular=names.get("singular") or names.get("kind", "").lower(),
                short_names=tuple(names.get("shortNames", ())),
                categories=tuple(names.get("categories", ())),
                subresources=frozenset(k for k in ("status", "scale") if k in subresources),
                schema=schema_from_openapi_v3(raw_schema) if raw_schema else None,
                printer_columns=tuple(version.get("additionalPrinterColumns", ())),
                crd_name=crd.get("metadata", {}).get("name"),
                scale_paths={k: v for k, v in scale.items() if isinstance(v, str)},
            )
        )
    return types


class ResourceRegistry:
    """The resource types one simulated cluster serves, indexed for URL and kind lookups.

    Not thread-safe; owned by one cluster's event loop. CRDs add and remove types at run time.
    """

    def __init__(self, types: Iterable[ResourceType] | None = None) -> None:
        self._types: dict[tuple[str, str, str], ResourceType] = {}
        self.generation = 0
        """Bumped whenever the set of served types changes (caches of documents key on it)."""
        for resource_type in builtin_types() if types is None else types:
            self.add(resource_type)

    def add(self, resource_type: ResourceType) -> None:
        """Serve ``resource_type`` (replacing a type with the same group, version and plural)."""
        key = (resource_type.group, resource_type.version, resource_type.plural)
        self._types[key] = resource_type
        self.generation += 1

    def remove_crd(self, crd_name: str) -> list[ResourceType]:
        """Stop serving every type that CRD ``crd_name`` served; returns them."""
        gone = [t for t in self._types.values() if t.crd_name == crd_name]
        for resource_type in gone:
            del self._types[(resource_type.group, resource_type.version, resource_type.plural)]
        if gone:
            self.generation += 1
        return gone

    def get(self, group: str, version: str, plural: str) -> ResourceType | None:
        """The type served at ``/apis/{group}/{version}/{plural}``, if any."""
        return self._types.get((group, version, plural))

    def require(self, group: str, version: str, plural: str) -> ResourceType:
        """A type every cluster serves (a built-in); a missing one is a bug of ours."""
        found = self.get(group, version, plural)
        if found is None:
            raise RuntimeError(f"built-in resource {group}/{version} {plural} is not served")
        return found

    def by_kind(self, group: str, version: str, kind: str) -> ResourceType | None:
        """The type of objects of ``kind`` in ``group/version``, if served."""
        for resource_type in self._types.values():
            if (resource_type.group, resource_type.version, resource_type.kind) == (
                group,
                version,
                kind,
            ):
                return resource_type
        return None

    def by_api_version_kind(self, api_version: str, kind: str) -> ResourceType | None:
        """The type for an object's ``apiVersion`` and ``kind``."""
        group, _, version = api_version.rpartition("/")
        return self.by_kind(group, version, kind)

    def for_storage_key(self, storage_key: str) -> list[ResourceType]:
        """Every served version of one stored resource."""
        return [t for t in self._types.values() if t.storage_key == storage_key]

    def group_versions(self) -> dict[str, list[str]]:
        """Served versions per group (``""`` is the core group), preferred version first."""
        versions: dict[str, list[str]] = {}
        for group, version, _ in self._types:
            served = versions.setdefault(group, [])
            if version not in served:
                served.append(version)
        return versions

    def in_group_version(self, group: str, version: str) -> list[ResourceType]:
        """The types of one group-version, for discovery."""
        return [t for (g, v, _), t in self._types.items() if g == group and v == version]

    def __iter__(self) -> Iterator[ResourceType]:
        return iter(list(self._types.values()))

    def __len__(self) -> int:
        return len(self._types)
