"""The table of kinds the hub serves, and how a request path names one of them.

Layer: ``kfed_hub.api``, pure data and lookups (no I/O). Federated kinds are stored and sent to
member clusters; the hub's own kinds (``kfed.io``) have handlers of their own and appear here only
so that discovery lists them.

Legacy ``extensions/v1beta1`` kinds are served as they are, under their own group, so that the
2016 walk-through's manifests are accepted unchanged; translating them to current versions is
the planning layer's job.

This table holds the built-in kinds only. Any other kind of a named group is served as a
dynamic kind (custom resources and kinds kfed has no special handling for); the API's
:mod:`.catalog` adds those at run time, with the plural :func:`guess_plural` derives or the one
a federated CustomResourceDefinition names.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from kfed_core.keys import CORE_GROUP, ResourceKey

OBJECT_VERBS = ("create", "delete", "get", "list", "patch", "update")


class NameRule(enum.Enum):
    """Which Kubernetes name syntax a kind's ``metadata.name`` follows."""

    SUBDOMAIN = "DNS-1123 subdomain"
    LABEL = "DNS-1123 label"
    DNS1035 = "DNS-1035 label"


@dataclass(frozen=True, slots=True, kw_only=True)
class KindInfo:
    """One served kind in one group version."""

    group: str  # "" for the core group, as Kubernetes spells it
    version: str
    kind: str
    plural: str
    singular: str
    namespaced: bool
    short_names: tuple[str, ...] = ()
    name_rule: NameRule = NameRule.SUBDOMAIN
    verbs: tuple[str, ...] = OBJECT_VERBS
    federated: bool = True  # stored and propagated; False for the hub's own kinds

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def store_group(self) -> str:
        """The group as :class:`kfed_core.keys.ResourceKey` spells it (``core`` for core)."""
        return self.group or CORE_GROUP

    @property
    def qualified_plural(self) -> str:
        """``configmaps``, ``deployments.apps``: how kubectl names the resource."""
        return f"{self.plural}.{self.group}" if self.group else self.plural

    def key(self, namespace: str, name: str) -> ResourceKey:
        """The resource key of the object ``name`` (in ``namespace`` if namespaced)."""
        return ResourceKey(
            group=self.store_group,
            kind=self.kind,
            namespace=namespace if self.namespaced else "",
            name=name,
        )

    def collection_path(self, namespace: str | None) -> str:
        """The URL path of the collection (in ``namespace`` for namespaced kinds)."""
        base = f"/apis/{self.group}/{self.version}" if self.group else f"/api/{self.version}"
        if self.namespaced and namespace:
            return f"{base}/namespaces/{namespace}/{self.plural}"
        return f"{base}/{self.plural}"


def guess_plural(kind: str) -> str:
    """The plural Kubernetes derives from a kind when nothing names one.

    The rule of apimachinery's ``meta.UnsafeGuessKindToResource`` (what kubectl and client-go
    fall back to): lowercase; ``...endpoints`` stays as it is; a final ``s`` takes ``es``; a
    final ``y`` becomes ``ies``; anything else takes ``s``. So ``CronTab`` → ``crontabs``,
    ``Ingress`` → ``ingresses``, ``Policy`` → ``policies``, but ``Moose`` → ``mooses``: a kind
    with an irregular plural needs its CustomResourceDefinition federated to be served there.
    """
    lowered = kind.lower()
    if not lowered or lowered.endswith("endpoints"):
        return lowered
    if lowered.endswith("s"):
        return lowered + "es"
    if lowered.endswith("y"):
        return lowered[:-1] + "ies"
    return lowered + "s"


def _kind(
    group: str,
    version: str,
    kind: str,
    *,
    namespaced: bool = True,
    short: tuple[str, ...] = (),
    rule: NameRule = NameRule.SUBDOMAIN,
) -> KindInfo:
    return KindInfo(
        group=group,
        version=version,
        kind=kind,
        plural=guess_plural(kind),
        singular=kind.lower(),
        namespaced=namespaced,
        short_names=short,
        name_rule=rule,
    )


KFED_GROUP = "kfed.io"
KFED_VERSION = "v1alpha1"
CRD_GROUP = "apiextensions.k8s.io"
CRD_KIND = "CustomResourceDefinition"

SERVED_KINDS: tuple[KindInfo, ...] = (
    _kind("", "v1", "Namespace", namespaced=False, short=("ns",), rule=NameRule.LABEL),
    _kind("", "v1", "ConfigMap", short=("cm",)),
    _kind("", "v1", "Secret"),
    _kind("", "v1", "ServiceAccount", short=("sa",)),
    _kind("", "v1", "Service", short=("svc",), rule=NameRule.DNS1035),
    _kind("apps", "v1", "Deployment", short=("deploy",)),
    _kind("apps", "v1", "ReplicaSet", short=("rs",)),
    _kind("networking.k8s.io", "v1", "Ingress", short=("ing",)),
    _kind(CRD_GROUP, "v1", CRD_KIND, namespaced=False, short=("crd", "crds")),
    _kind("extensions", "v1beta1", "Deployment", short=("deploy",)),
    _kind("extensions", "v1beta1", "ReplicaSet", short=("rs",)),
    _kind("extensions", "v1beta1", "Ingress", short=("ing",)),
    KindInfo(
        group=KFED_GROUP,
        version=KFED_VERSION,
        kind="Cluster",
        plural="clusters",
        singular="cluster",
        namespaced=False,
        verbs=("delete", "get", "list", "patch"),
        federated=False,
    ),
    KindInfo(
        group=KFED_GROUP,
        version=KFED_VERSION,
        kind="Event",
        plural="events",
        singular="event",
        namespaced=True,
        short_names=("ev",),
        verbs=("list",),
        federated=False,
    ),
    KindInfo(
        group=KFED_GROUP,
        version=KFED_VERSION,
        kind="BootstrapToken",
        plural="bootstraptokens",
        singular="bootstraptoken",
        namespaced=False,
        verbs=("create",),
        federated=False,
    ),
)

PREFERRED_VERSIONS: dict[str, str] = {
    "": "v1",
    "apps": "v1",
    "networking.k8s.io": "v1",
    CRD_GROUP: "v1",
    "extensions": "v1beta1",
    KFED_GROUP: KFED_VERSION,
}

_BY_PATH = {(k.group, k.version, k.plural): k for k in SERVED_KINDS}
_BY_KIND = {(k.api_version, k.kind): k for k in SERVED_KINDS}


def find_resource(group: str, version: str, plural: str) -> KindInfo | None:
    """The kind served at ``/apis/{group}/{version}/{plural}`` ("" group for ``/api/v1``)."""
    return _BY_PATH.get((group, version, plural))


def find_kind(api_version: str, kind: str) -> KindInfo | None:
    """The kind a manifest's ``apiVersion`` and ``kind`` name."""
    return _BY_KIND.get((api_version, kind))


@dataclass(frozen=True, slots=True, kw_only=True)
class ResourcePath:
    """What a path below a group version names: a collection, or one object."""

    info: KindInfo
    namespace: str | None  # None: no namespace in the path
    name: str | None  # None: the collection


def split_tail(tail: str) -> tuple[str | None, str, str | None] | None:
    """``[namespaces/{ns}/]{plural}[/{name}]`` as (namespace, plural, name); None if malformed."""
    parts = tail.split("/")
    if any(not part for part in parts):
        return None
    namespace: str | None = None
    if len(parts) in (3, 4) and parts[0] == "namespaces":
        namespace, parts = parts[1], parts[2:]
    if len(parts) > 2:
        return None
    return namespace, parts[0], parts[1] if len(parts) == 2 else None


def resource_path(info: KindInfo, namespace: str | None, name: str | None) -> ResourcePath | None:
    """The path's target if its scope fits the kind; None otherwise.

    A namespaced kind may be listed without a namespace (all namespaces) but its objects are
    only addressed inside one; a cluster-scoped kind is never addressed inside a namespace.
    """
    if namespace is not None and not info.namespaced:
        return None
    if namespace is None and info.namespaced and name is not None:
        return None
    return ResourcePath(info=info, namespace=namespace, name=name)


def parse_resource_path(group: str, version: str, tail: str) -> ResourcePath | None:
    """Parse ``[namespaces/{ns}/]{plural}[/{name}]``; None if it names no built-in federated
    resource (see :func:`resource_path` for the scope rules)."""
    parsed = split_tail(tail)
    if parsed is None:
        return None
    namespace, plural, name = parsed
    info = find_resource(group, version, plural)
    if info is None or not info.federated:
        return None
    return resource_path(info, namespace, name)
