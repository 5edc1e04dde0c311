"""Handlers of the federated objects' Kubernetes-style paths (get, list, create, update, patch,
delete).

Layer: ``kfed_hub.api``. Reads bodies through :mod:`kfed_hub.api.bodies`, checks them with the
pure :mod:`kfed_hub.api.admission`, writes through the :class:`~kfed_hub.store.protocol.Store`
and answers the served form of :mod:`kfed_hub.api.status`. Store errors are translated to
Status errors here; this module never builds an HTTP status itself.

Kinds come from the :class:`~kfed_hub.api.catalog.KindCatalog` (built-in and dynamic kinds); a
create at a path it does not serve yet may make a new dynamic kind known (:mod:`.dynamic`).

Deleting a Namespace deletes the federated objects in it; deleting a CustomResourceDefinition
deletes the federated objects of the kind it defines (member clusters do the same with theirs).
With ``propagationPolicy=Orphan`` (:mod:`.deletion`) those deletions leave the member clusters'
copies, released from kfed.

Concurrency: updates without a client precondition still use the revision they read as the
store's precondition, and retry a few times if another write came in between, so a concurrent
writer's change is never silently lost. The namespace check of a create and the cascade of a
Namespace delete are not one transaction: an object created in a namespace while that namespace
is being deleted can outlive it (Kubernetes closes this with a Terminating phase; not yet here).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from typing import Any

from aiohttp import web

from kfed_core.keys import CORE_GROUP, ResourceKey
from kfed_hub.api import admission, dynamic, errors
from kfed_hub.api.bodies import MERGE_PATCH, read_object, read_optional_object
from kfed_hub.api.catalog import KindCatalog
from kfed_hub.api.crds import defined_kind
from kfed_hub.api.deletion import delete_options
from kfed_hub.api.errors import ApiError, Reason, json_response
from kfed_hub.api.kinds import CRD_GROUP, CRD_KIND, KindInfo, ResourcePath
from kfed_hub.api.status import served_object, served_objects
from kfed_hub.planning.selectors import SelectorError, parse_selector
from kfed_hub.ports import ClusterDirectory, IngressStatuses, Placements
from kfed_hub.store.protocol import Conflict, NotFound, Store, StoredObject

UNCHECKED_NAMESPACES = frozenset({"default"})
"""Namespaces objects may go to without a federated Namespace of that name."""

UNDELETABLE_NAMESPACES = frozenset({"default", "kube-system", "kube-public"})
_ATTEMPTS = 5  # retries of an update that lost a race with another writer


def _utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _new_uid() -> str:
    return str(uuid.uuid4())


def _namespace_key(name: str) -> ResourceKey:
    return ResourceKey(group=CORE_GROUP, kind="Namespace", namespace="", name=name)


class ObjectHandlers:
    """The handlers of ``/api/v1/...`` and ``/apis/{group}/{version}/...`` object paths."""

    def __init__(
        self,
        *,
        store: Store,
        catalog: KindCatalog,
        clusters: ClusterDirectory,
        max_body_bytes: int,
        placements: Placements | None = None,
        ingresses: IngressStatuses | None = None,
        clock: Callable[[], dt.datetime] = _utc_now,
        new_uid: Callable[[], str] = _new_uid,
    ) -> None:
        self._store = store
        self._catalog = catalog
        self._clusters = clusters
        self._placements = placements
        self._ingresses = ingresses
        self._limit = max_body_bytes
        self._clock = clock
        self._new_uid = new_uid

    async def core(self, request: web.Request) -> web.Response:
        """``/api/v1/{tail}``."""
        return await self._dispatch(request, "", "v1", request.match_info["tail"])

    async def grouped(self, request: web.Request) -> web.Response:
        """``/apis/{group}/{version}/{tail}``."""
        info = request.match_info
        return await self._dispatch(request, info["group"], info["version"], info["tail"])

    async def _dispatch(
        self, request: web.Request, group: str, version: str, tail: str
    ) -> web.Response:
        await self._catalog.load()
        method = request.method
        target = self._catalog.parse(group, version, tail)
        if target is None:
            where = dynamic.new_collection(method, group, version, tail)
            body = await read_object(request, self._limit)
            info = dynamic.new_kind(self._catalog, where, body)
            target = ResourcePath(info=info, namespace=where.namespace, name=None)
            return await self._create(target, body)
        if target.name is None:
            if method in ("GET", "HEAD"):
                return await self._list(request, target)
            if method == "POST":
                return await self._create(target, await read_object(request, self._limit))
        else:
            if method in ("GET", "HEAD"):
                return await self._get(target)
            if method == "PUT":
                return await self._update(request, target)
            if method == "PATCH":
                return await self._patch(request, target)
            if method == "DELETE":
                return await self._delete(request, target)
        raise errors.method_not_allowed(
            f"the server does not allow {method} on {target.info.qualified_plural}"
            + (" (a collection)" if target.name is None else "")
        )

    # -- reads -----------------------------------------------------------------------------

    async def _served(self, stored: StoredObject) -> dict[str, Any]:
        return await served_object(
            stored,
            store=self._store,
            clusters=self._clusters,
            placements=self._placements,
            ingresses=self._ingresses,
        )

    async def _existing(self, info: KindInfo, key: ResourceKey) -> StoredObject:
        stored = await self._store.get_object(key)
        if stored is None:
            raise errors.not_found(info.plural, key.name, group=info.group)
        return stored

    async def _get(self, target: ResourcePath) -> web.Response:
        info, key = target.info, _key(target)
        return json_response(await self._served(await self._existing(info, key)))

    async def _list(self, request: web.Request, target: ResourcePath) -> web.Response:
        info = target.info
        if request.query.get("watch") in ("1", "true"):
            raise errors.method_not_allowed("the kfed hub does not serve watches yet")
        try:
            selector = parse_selector(request.query.get("labelSelector", ""))
        except SelectorError as exc:  # kube-apiserver's wording, then where and why
            raise errors.bad_request(f"unable to parse requirement: {exc}") from None
        objects = await self._store.list_objects(
            group=info.store_group, kind=info.kind, namespace=target.namespace
        )
        chosen = [o for o in objects if selector.matches(_labels(o.manifest))]
        items = await served_objects(
            chosen,
            store=self._store,
            clusters=self._clusters,
            placements=self._placements,
            ingresses=self._ingresses,
        )
        for item in items:
            item.setdefault("apiVersion", info.api_version)
            item.setdefault("kind", info.kind)
        return json_response(
            {
                "apiVersion": info.api_version,
                "kind": f"{info.kind}List",
                "metadata": {"resourceVersion": str(await self._store.revision())},
                "items": items,
            }
        )

    # -- writes ----------------------------------------------------------------------------

    async def _require_namespace(self, info: KindInfo, namespace: str | None) -> None:
        if not info.namespaced or namespace is None or namespace in UNCHECKED_NAMESPACES:
            return
        if await self._store.get_object(_namespace_key(namespace)) is None:
            raise errors.not_found("namespaces", namespace)

    async def _create(self, target: ResourcePath, body: dict[str, Any]) -> web.Response:
        info = target.info
        if info.namespaced and target.namespace is None:
            raise errors.method_not_allowed(
                f"{info.qualified_plural} are created in a namespace: POST them to "
                f"{info.collection_path('{namespace}')}"
            )
        manifest = admission.prepare_create(
            info, body, namespace=target.namespace, uid=self._new_uid(), now=self._clock()
        )
        await self._require_namespace(info, target.namespace)
        name = manifest["metadata"]["name"]
        key = info.key(target.namespace or "", name)
        try:
            stored = await self._store.create_object(key, manifest)
        except Conflict:
            raise errors.already_exists(info.plural, name, group=info.group) from None
        return json_response(await self._served(stored), created=True)

    async def _update(self, request: web.Request, target: ResourcePath) -> web.Response:
        body = await read_object(request, self._limit)
        return await self._replace(target, lambda existing: body)

    async def _patch(self, request: web.Request, target: ResourcePath) -> web.Response:
        patch = await read_object(request, self._limit, media_types=(MERGE_PATCH,))

        def patched(existing: StoredObject) -> dict[str, Any]:
            base = dict(existing.manifest)
            base.pop("status", None)
            base_metadata = dict(base.get("metadata") or {})
            base_metadata.pop("resourceVersion", None)  # only the patch's own is a precondition
            base["metadata"] = base_metadata
            result = admission.merge_patch(base, patch)
            assert isinstance(result, dict)  # both are objects: read_object checked the patch
            return result

        return await self._replace(target, patched)

    async def _replace(
        self,
        target: ResourcePath,
        make_body: Callable[[StoredObject], dict[str, Any]],
    ) -> web.Response:
        """Replace the object with ``make_body(existing)``; a precondition in the body is the
        client's (Conflict is theirs to resolve), otherwise a lost race is retried."""
        info, key = target.info, _key(target)
        for _ in range(_ATTEMPTS):
            existing = await self._existing(info, key)
            update = admission.prepare_update(
                info,
                make_body(existing),
                existing.manifest,
                namespace=target.namespace,
                name=key.name,
            )
            client_revision = update.expected_revision
            expected = existing.revision if client_revision is None else client_revision
            try:
                stored = await self._store.update_object(
                    key, update.manifest, expected_revision=expected
                )
            except NotFound:
                raise errors.not_found(info.plural, key.name, group=info.group) from None
            except Conflict:
                if client_revision is not None:
                    raise errors.modified(info.plural, key.name, group=info.group) from None
                continue
            return json_response(await self._served(stored))
        raise errors.modified(info.plural, key.name, group=info.group)

    async def _delete(self, request: web.Request, target: ResourcePath) -> web.Response:
        info, key = target.info, _key(target)
        options = delete_options(await read_optional_object(request, self._limit), request.query)
        expected, orphan = options.expected_revision, options.orphan
        is_namespace = info.kind == "Namespace" and info.group == ""
        if is_namespace and key.name in UNDELETABLE_NAMESPACES:
            raise ApiError(
                Reason.FORBIDDEN,
                f'namespaces "{key.name}" is forbidden: this namespace may not be deleted',
                name=key.name,
                kind="namespaces",
            )
        existing = await self._existing(info, key)
        if expected is not None and expected != existing.revision:
            raise errors.modified(info.plural, key.name, group=info.group)
        if is_namespace:
            await self._delete_contents(await self._store.list_objects(namespace=key.name), orphan)
        elif info.group == CRD_GROUP and info.kind == CRD_KIND:
            group_kind = defined_kind(existing.manifest)
            if group_kind is not None:
                group, kind = group_kind
                await self._delete_contents(
                    await self._store.list_objects(group=group, kind=kind), orphan
                )
        try:
            deleted = await self._store.delete_object(
                key, expected_revision=expected, orphan=orphan
            )
        except NotFound:
            raise errors.not_found(info.plural, key.name, group=info.group) from None
        except Conflict:
            raise errors.modified(info.plural, key.name, group=info.group) from None
        return json_response(await self._served(deleted))

    async def _delete_contents(self, contents: list[StoredObject], orphan: bool) -> None:
        for stored in contents:
            try:
                await self._store.delete_object(stored.key, orphan=orphan)
            except NotFound:
                continue  # deleted by someone else meanwhile: that is what we wanted


def _key(target: ResourcePath) -> ResourceKey:
    assert target.name is not None
    return target.info.key(target.namespace or "", target.name)


def _labels(manifest: Any) -> dict[str, str]:
    labels = (manifest.get("metadata") or {}).get("labels") or {}
    return {str(k): str(v) for k, v in labels.items()}
