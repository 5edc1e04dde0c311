"""The real :class:`~kfed_agent.ports.KubeApi`: a member cluster's API server over HTTPS.

Layer: ``kfed_agent`` adapter. This package is the ONLY code that imports ``kubernetes``
(import-linter enforces it). It uses the official client for what it does well (kubeconfig and
in-cluster credentials, TLS, bearer tokens) and sends raw REST calls
(:mod:`kfed_agent.kube.transport`) on paths built from discovery, so any kind the cluster serves
works, CRDs included. It must not hold kfed logic: no ownership labels, no ordering.

Failure answers become :class:`~kfed_agent.ports.KubeError` built from the Status body; no answer
at all becomes :class:`~kfed_agent.ports.KubeUnreachable`; watches follow
:mod:`kfed_agent.watching`.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncGenerator, Mapping
from typing import Any

from kubernetes import config as kube_config
from kubernetes.client import ApiClient, Configuration

from kfed_agent.kube.transport import Transport
from kfed_agent.ports import (
    ApiResource,
    KubeApi,
    KubeError,
    KubeUnreachable,
    Manifest,
    UnknownKind,
    WatchEvent,
)
from kfed_agent.resources import (
    collection_path,
    group_version_path,
    listable,
    object_path,
    parse_resource_list,
    preferred_group_versions,
    split_api_version,
    with_type,
)
from kfed_agent.watching import WatchStream, follow

__all__ = ["RealKubeApi"]

log = logging.getLogger(__name__)

_APPLY_PATCH = "application/apply-patch+yaml"  # JSON is valid YAML, so the body stays JSON
_SKIPPED_WHEN_LISTING = {403, 404, 405, 503}  # forbidden, gone, not listable, aggregated API down


class RealKubeApi:
    """:class:`~kfed_agent.ports.KubeApi` over a ``kubernetes.client.ApiClient``.

    Discovery is cached per group version and refreshed once when a kind is missing, so CRDs
    created after the first look are found; ``list_managed`` always rediscovers. Writes use
    ``fieldValidation=Strict`` by default, so a field the cluster does not know is an error the
    operator sees rather than a silent drop.
    """

    def __init__(
        self,
        api_client: ApiClient,
        *,
        connect_timeout: float = 10.0,
        request_timeout: float = 30.0,
        watch_timeout: int = 300,
        field_validation: str = "Strict",
        watch_threads: int = 64,
    ) -> None:
        self._http = Transport(
            api_client,
            connect_timeout=connect_timeout,
            request_timeout=request_timeout,
            watch_threads=watch_threads,
        )
        self._watch_timeout = watch_timeout
        self._field_validation = field_validation
        self._discovered: dict[tuple[str, str], list[ApiResource]] = {}

    @classmethod
    def from_kubeconfig(
        cls, path: str | None, context: str | None = None, **options: Any
    ) -> RealKubeApi:
        """From a kubeconfig file (``None``: ``$KUBECONFIG`` or ``~/.kube/config``). Blocking:
        call it before the event loop runs, or through ``asyncio.to_thread``."""
        configuration = Configuration()
        kube_config.load_kube_config(  # type: ignore[no-untyped-call]
            config_file=path,
            context=context,
            client_configuration=configuration,
            persist_config=False,  # never write refreshed tokens back into the operator's file
        )
        return cls(ApiClient(configuration), **options)

    @classmethod
    def in_cluster(cls, **options: Any) -> RealKubeApi:
        """From the pod's service account (token refreshed as it rotates)."""
        configuration = Configuration()
        kube_config.load_incluster_config(  # type: ignore[no-untyped-call]
            client_configuration=configuration
        )
        return cls(ApiClient(configuration), **options)

    # -- discovery -----------------------------------------------------------------------------

    async def _resources_of(self, group: str, version: str, *, refresh: bool) -> list[ApiResource]:
        key = (group, version)
        if not refresh and key in self._discovered:
            return self._discovered[key]
        gv = f"{group}/{version}" if group else version
        try:
            document = await self._http.request(
                "GET", group_version_path(group, version), action=f"discover {gv}"
            )
        except KubeError as exc:
            if exc.status != 404:
                raise
            self._discovered.pop(key, None)
            return []
        self._discovered[key] = parse_resource_list(document, group, version)
        return self._discovered[key]

    async def resource_for(self, api_version: str, kind: str) -> ApiResource:
        try:
            group, version = split_api_version(api_version)
        except ValueError:
            raise UnknownKind(api_version, kind) from None
        cached = (group, version) in self._discovered
        for refresh in (False, True) if cached else (False,):
            for resource in await self._resources_of(group, version, refresh=refresh):
                if resource.kind == kind:
                    return resource
        raise UnknownKind(api_version, kind)

    async def _resource_of(self, manifest: Mapping[str, Any]) -> tuple[ApiResource, str, str]:
        meta = manifest.get("metadata") or {}
        resource = await self.resource_for(
            str(manifest.get("apiVersion", "")), str(manifest.get("kind", ""))
        )
        return resource, str(meta.get("namespace") or ""), str(meta.get("name") or "")

    # -- objects -------------------------------------------------------------------------------

    async def server_version(self) -> str:
        info = await self._http.request("GET", "/version", action="read the server version")
        return str(info.get("gitVersion", ""))

    async def apply(
        self, manifest: Mapping[str, Any], *, field_manager: str, force: bool = True
    ) -> Manifest:
        resource, namespace, name = await self._resource_of(manifest)
        query = [("fieldManager", field_manager), ("fieldValidation", self._field_validation)]
        if force:
            query.append(("force", "true"))
        return await self._http.request(
            "PATCH",
            object_path(resource, namespace, name),
            action=f"apply {resource.kind} {_where(namespace, name)}",
            query=query,
            body=dict(manifest),
            content_type=_APPLY_PATCH,
        )

    async def get(self, api_version: str, kind: str, namespace: str, name: str) -> Manifest | None:
        resource = await self.resource_for(api_version, kind)
        path = object_path(resource, namespace, name)
        try:
            return await self._http.request(
                "GET", path, action=f"get {kind} {_where(namespace, name)}"
            )
        except KubeError as exc:
            if exc.status == 404:
                return None
            raise

    async def create(self, manifest: Mapping[str, Any]) -> Manifest:
        resource, namespace, name = await self._resource_of(manifest)
        object_path(resource, namespace, name or "-")  # the same scope checks as the others
        return await self._http.request(
            "POST",
            collection_path(resource, namespace),
            action=f"create {resource.kind} {_where(namespace, name)}",
            query=[("fieldValidation", self._field_validation)],
            body=dict(manifest),
        )

    async def replace(self, manifest: Mapping[str, Any]) -> Manifest:
        resource, namespace, name = await self._resource_of(manifest)
        return await self._http.request(
            "PUT",
            object_path(resource, namespace, name),
            action=f"replace {resource.kind} {_where(namespace, name)}",
            query=[("fieldValidation", self._field_validation)],
            body=dict(manifest),
        )

    async def replace_status(self, manifest: Mapping[str, Any]) -> Manifest:
        resource, namespace, name = await self._resource_of(manifest)
        return await self._http.request(
            "PUT",
            object_path(resource, namespace, name) + "/status",
            action=f"replace the status of {resource.kind} {_where(namespace, name)}",
            query=[("fieldValidation", self._field_validation)],
            body=dict(manifest),
        )

    async def delete(self, api_version: str, kind: str, namespace: str, name: str) -> bool:
        try:
            resource = await self.resource_for(api_version, kind)
        except UnknownKind:
            return False  # the kind is gone (its CRD deleted), and its objects with it
        options = {"kind": "DeleteOptions", "apiVersion": "v1", "propagationPolicy": "Background"}
        try:
            await self._http.request(
                "DELETE",
                object_path(resource, namespace, name),
                action=f"delete {kind} {_where(namespace, name)}",
                body=options,
            )
        except KubeError as exc:
            if exc.status == 404:
                return False
            raise
        return True

    # -- lists and watches ---------------------------------------------------------------------

    async def _list(
        self, resource: ApiResource, *, label_selector: str = ""
    ) -> tuple[str, list[Manifest]]:
        """Every object in all namespaces, page by page: (resourceVersion, items)."""
        items: list[Manifest] = []
        token = ""
        while True:
            query = [("limit", "500")]
            if label_selector:
                query.append(("labelSelector", label_selector))
            if token:
                query.append(("continue", token))
            page = await self._http.request(
                "GET", collection_path(resource), action=f"list {resource.plural}", query=query
            )
            items.extend(with_type(page.get("items") or [], page, resource))
            meta = page.get("metadata") or {}
            token = str(meta.get("continue") or "")
            if not token:
                return str(meta.get("resourceVersion") or ""), items

    async def list_managed(self, label_selector: str) -> list[Manifest]:
        core = await self._http.request("GET", "/api", action="discover API versions")
        groups = await self._http.request("GET", "/apis", action="discover API groups")
        found: list[Manifest] = []
        for group, version in preferred_group_versions(core, groups):
            try:
                resources = await self._resources_of(group, version, refresh=True)
            except KubeError as exc:
                if isinstance(exc, KubeUnreachable) or exc.status not in _SKIPPED_WHEN_LISTING:
                    raise
                log.warning("skipping %s/%s while listing managed objects: %s", group, version, exc)
                continue
            for resource in listable(resources):
                try:
                    found.extend((await self._list(resource, label_selector=label_selector))[1])
                except KubeError as exc:
                    if isinstance(exc, KubeUnreachable) or exc.status not in _SKIPPED_WHEN_LISTING:
                        raise
                    log.warning(
                        "skipping %s while listing managed objects: %s", resource.plural, exc
                    )
        return found

    async def list_nodes(self) -> list[Manifest]:
        return (await self._list(await self.resource_for("v1", "Node")))[1]

    async def list_pods(self) -> list[Manifest]:
        return (await self._list(await self.resource_for("v1", "Pod")))[1]

    async def watch(
        self,
        api_version: str,
        kind: str,
        *,
        label_selector: str = "",
        resource_version: str | None = None,
    ) -> AsyncGenerator[WatchEvent, None]:
        resource = await self.resource_for(api_version, kind)
        what = f"watch {resource.plural}"

        async def list_objects() -> tuple[str, list[Manifest]]:
            return await self._list(resource, label_selector=label_selector)

        async def open_stream(version: str) -> WatchStream:
            query = [
                ("watch", "1"),
                ("allowWatchBookmarks", "true"),
                ("timeoutSeconds", str(self._watch_timeout)),
            ]
            if label_selector:
                query.append(("labelSelector", label_selector))
            if version:
                query.append(("resourceVersion", version))
            # The server ends a stream after timeoutSeconds; a socket silent past that is dead.
            return await self._http.open_stream(
                collection_path(resource),
                query,
                action=what,
                read_timeout=float(self._watch_timeout + 30),
            )

        events = follow(
            list_objects=list_objects,
            open_stream=open_stream,
            resource_version=resource_version,
            closed=lambda: self._http.closed,
            api_version=resource.api_version,
            kind=resource.kind,
            what=what,
        )
        try:
            async for event in events:
                yield event
        finally:
            await events.aclose()

    async def close(self) -> None:
        await self._http.close()


def _conforms(api: RealKubeApi) -> KubeApi:
    return api  # mypy proves here that RealKubeApi implements the KubeApi Protocol


def _where(namespace: str, name: str) -> str:
    return f"{namespace}/{name}" if namespace else name
