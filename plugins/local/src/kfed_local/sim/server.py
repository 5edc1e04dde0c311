"""The HTTPS front of a simulated cluster: kube-apiserver's REST surface over aiohttp.

Layer: I/O shell over :class:`kfed_local.sim.api.ClusterApi`. It authenticates callers, routes
Kubernetes paths, decodes JSON and YAML bodies (with a size limit), negotiates Table and
PartialObjectMetadata responses for kubectl, serves discovery and OpenAPI, streams watches
(:mod:`kfed_local.sim.watchstream`) and subresources (:mod:`kfed_local.sim.subresources`), and
turns every :class:`~kfed_local.sim.errors.ApiError` into a ``Status`` body. HTTP status codes
are produced here and nowhere else.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from kfed_local.sim import (
    deletion,
    discovery,
    errors,
    openapi,
    openapi_proto,
    routing,
    subresources,
    watchstream,
)
from kfed_local.sim.api import PATCH_CONTENT_TYPES, ClusterApi, RequestContext, Selectors
from kfed_local.sim.auth import Authenticator, UserInfo
from kfed_local.sim.errors import ApiError
from kfed_local.sim.httpio import (
    json_response,
    read_body,
    read_object,
    read_optional_object,
    status_response,
)
from kfed_local.sim.resources import ResourceRegistry, ResourceType
from kfed_local.sim.store import StoredObject
from kfed_local.sim.tables import build_table

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 3 * 1024 * 1024
"""Request bodies larger than this get 413, like kube-apiserver's 3 MiB limit."""

_USER_KEY = web.AppKey("user", UserInfo)


@dataclass(frozen=True, slots=True, kw_only=True)
class ServerSettings:
    """Tunables of one simulated API server."""

    cluster: str
    address: str
    """``host:port`` clients reach the server at (for ``/api``'s serverAddressByClientCIDRs)."""
    max_body_bytes: int = MAX_BODY_BYTES
    bookmark_interval: float = 10.0
    """Seconds between BOOKMARK events on watches that allow them."""


class ApiServer:
    """Builds the aiohttp application of one cluster's API server."""

    def __init__(self, api: ClusterApi, auth: Authenticator, settings: ServerSettings) -> None:
        self.api = api
        self.auth = auth
        self.settings = settings
        self._openapi = OpenApiCache()
        self.requests_served = 0

    def app(self) -> web.Application:
        """The application: every path goes through :meth:`_dispatch`."""
        application = web.Application(
            middlewares=[self._errors_middleware],
            client_max_size=self.settings.max_body_bytes + 1,
        )
        application.router.add_route("*", "/{tail:.*}", self._dispatch)
        return application

    # -- middleware ---------------------------------------------------------------------------

    @web.middleware
    async def _errors_middleware(
        self, request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        self.requests_served += 1
        try:
            return await handler(request)
        except ApiError as exc:
            return status_response(exc)
        except web.HTTPRequestEntityTooLarge:
            return status_response(errors.too_large(self.settings.max_body_bytes))
        except web.HTTPException:
            raise
        except Exception:  # a bug of ours: answer 500 like kube-apiserver, and log the trace
            log.exception(
                "simulated API server %s failed on %s %s",
                self.settings.cluster,
                request.method,
                request.path,
            )
            return status_response(
                ApiError(
                    500,
                    "InternalError",
                    "an error on the server has prevented the request "
                    "from succeeding (kfed simulated cluster bug; see the server log)",
                )
            )

    def _authenticate(self, request: web.Request) -> UserInfo:
        user = self.auth.from_certificate(
            request.transport.get_extra_info("peercert") if request.transport else None
        )
        if user is None:
            user = self.auth.from_token(request.headers.get("Authorization"))
        if user is None:
            raise errors.unauthorized()
        return user

    # -- routing ------------------------------------------------------------------------------

    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        path = request.path
        if path in ("/healthz", "/livez", "/readyz"):
            return web.Response(text="ok")
        user = self._authenticate(request)
        if path.rstrip("/") == "/version":
            return json_response(discovery.version_info(self.settings.cluster))
        if path.startswith("/openapi/"):
            return self._serve_openapi(request)
        target = routing.parse(path)
        if target is None:
            raise _path_not_found()
        if isinstance(target, routing.Discovery):
            return self._serve_discovery(target)
        if request.method not in ("GET", "POST", "PUT", "PATCH", "DELETE"):
            raise errors.method_not_allowed(
                f"the server does not allow this method on the "
                f"requested resource ({request.method})"
            )
        rt = self.api.registry.get(target.group, target.version, target.plural)
        if rt is None:
            raise _path_not_found()
        if target.namespace is not None and not rt.namespaced:
            raise _path_not_found()
        if target.subresource is not None and target.subresource not in rt.subresources | {"log"}:
            raise _path_not_found()
        ctx = _request_context(request, user)
        return await self._serve_resource(request, rt, target, ctx)

    def _serve_discovery(self, target: routing.Discovery) -> web.Response:
        registry = self.api.registry
        doc: Mapping[str, Any] | None
        if target.what == "core":
            doc = discovery.core_versions(self.settings.address)
        elif target.what == "groups":
            doc = discovery.group_list(registry)
        elif target.what == "group":
            doc = discovery.group(registry, target.group)
        else:
            doc = discovery.resource_list(registry, target.group, target.version)
        if doc is None:
            raise _path_not_found()
        return json_response(doc)

    def _serve_openapi(self, request: web.Request) -> web.Response:
        registry = self.api.registry
        path = request.path.rstrip("/")
        if path == "/openapi/v2":
            content_type = openapi_proto.negotiate_openapi_v2(request.headers.get("Accept", ""))
            if content_type is None:
                return web.Response(status=406)  # kube-apiserver answers a bare 406, no Status
            if content_type == openapi_proto.OPENAPI_V2_PROTOBUF_CONTENT_TYPE:
                return web.Response(
                    body=self._openapi.v2_protobuf(registry),
                    headers={"Content-Type": content_type, "Vary": "Accept"},
                )
            return json_response(self._openapi.v2(registry))
        if path == "/openapi/v3":
            return json_response(self._openapi.v3_root(registry))
        prefix = "/openapi/v3/"
        if path.startswith(prefix):
            gv_path = path[len(prefix) :]
            doc = self._openapi.v3_group_version(registry, gv_path)
            if doc is not None:
                return json_response(doc)
        raise _path_not_found()

    async def _serve_resource(
        self,
        request: web.Request,
        rt: ResourceType,
        target: routing.Target,
        ctx: RequestContext,
    ) -> web.StreamResponse:
        namespace = target.namespace if rt.namespaced else ""
        method = request.method
        if target.subresource in ("scale", "binding", "eviction", "log"):
            return await subresources.serve(self, request, rt, target, ctx)
        if target.name is None:
            if method == "GET":
                if target.legacy_watch or _truthy(request.query.get("watch")):
                    return await watchstream.serve(self, request, rt, target.namespace)
                return self._list(request, rt, target.namespace)
            if method == "POST":
                if rt.namespaced and target.namespace is None:
                    raise errors.method_not_allowed(
                        f"create of namespaced {rt.plural} needs a namespace in the path"
                    )
                new = await read_object(request, self.settings.max_body_bytes)
                result = self.api.create(rt, namespace or "", new, ctx)
                return json_response(result.obj, 201, warnings=result.warnings)
            if method == "DELETE":
                body = await read_optional_object(request, self.settings.max_body_bytes)
                options = deletion.DeleteOptions.from_body(body, request.query)
                status = deletion.delete_collection(
                    self.api, rt, target.namespace, _selectors(request), options, ctx
                )
                return json_response(status)
            raise errors.method_not_allowed(f"{method} is not supported on a collection")
        if rt.namespaced and target.namespace is None:
            raise _path_not_found()
        name = target.name
        if method == "GET":
            if _truthy(request.query.get("watch")) or target.legacy_watch:
                return await watchstream.serve(self, request, rt, target.namespace, name=name)
            entry = self.api.get(rt, namespace or "", name)
            return self._object_response(request, rt, entry)
        if method == "PUT":
            new = await read_object(request, self.settings.max_body_bytes)
            result = self.api.update(
                rt, namespace or "", name, new, ctx, subresource=target.subresource
            )
            return json_response(
                result.obj, 201 if result.created else 200, warnings=result.warnings
            )
        if method == "PATCH":
            content_type = request.content_type
            patch_type = PATCH_CONTENT_TYPES.get(content_type)
            if patch_type is None:
                raise errors.unsupported_media_type(content_type)
            raw = await read_body(request, self.settings.max_body_bytes)
            result = self.api.patch(
                rt,
                namespace or "",
                name,
                patch_type,
                raw,
                ctx,
                subresource=target.subresource,
                force=_truthy(request.query.get("force")),
            )
            return json_response(
                result.obj, 201 if result.created else 200, warnings=result.warnings
            )
        if method == "DELETE":
            body = await read_optional_object(request, self.settings.max_body_bytes)
            options = deletion.DeleteOptions.from_body(body, request.query)
            outcome = deletion.delete(self.api, rt, namespace or "", name, options, ctx)
            return json_response(outcome.body)
        raise errors.method_not_allowed(f"{method} is not supported on {rt.plural}")

    # -- reads --------------------------------------------------------------------------------

    def _list(self, request: web.Request, rt: ResourceType, namespace: str | None) -> web.Response:
        try:
            limit = int(request.query.get("limit", "0") or 0)
        except ValueError:
            raise errors.bad_request("limit must be an integer") from None
        page = self.api.list_objects(
            rt,
            namespace,
            _selectors(request),
            limit=max(limit, 0),
            continue_token=request.query.get("continue", ""),
        )
        list_meta: dict[str, Any] = {"resourceVersion": str(page.resource_version)}
        if page.continue_token:
            list_meta["continue"] = page.continue_token
            list_meta["remainingItemCount"] = page.remaining
        accept = request.headers.get("Accept", "")
        if "as=Table" in accept:
            table = build_table(
                rt,
                [e.obj for e in page.items],
                now=self.api.clock(),
                include_object=_include_object(request),
                list_metadata=list_meta,
            )
            return json_response(table)
        if "as=PartialObjectMetadataList" in accept:
            return json_response(
                {
                    "kind": "PartialObjectMetadataList",
                    "apiVersion": "meta.k8s.io/v1",
                    "metadata": list_meta,
                    "items": [_partial(e.obj) for e in page.items],
                }
            )
        head = json.dumps(
            {
                "kind": rt.list_kind,
                "apiVersion": rt.api_version,
                "metadata": list_meta,
            },
            separators=(",", ":"),
        ).encode()
        body = head[:-1] + b',"items":[' + b",".join(e.raw() for e in page.items) + b"]}"
        return web.Response(body=body, content_type="application/json")

    def _object_response(
        self, request: web.Request, rt: ResourceType, entry: StoredObject
    ) -> web.Response:
        accept = request.headers.get("Accept", "")
        if "as=Table" in accept:
            return json_response(
                build_table(
                    rt, [entry.obj], now=self.api.clock(), include_object=_include_object(request)
                )
            )
        if "as=PartialObjectMetadata" in accept:
            return json_response(_partial(entry.obj))
        return web.Response(body=entry.raw(), content_type="application/json")


class OpenApiCache:
    """OpenAPI documents, rebuilt only when the served types change (a CRD comes or goes)."""

    def __init__(self) -> None:
        self._generation = -1
        self._v3: dict[str, dict[str, Any]] = {}
        self._root: Mapping[str, Any] = {}
        self._v2: Mapping[str, Any] | None = None
        self._v2_protobuf: bytes | None = None

    def _fresh(self, registry: ResourceRegistry) -> None:
        if registry.generation != self._generation:
            self._v3 = openapi.openapi_v3_documents(registry)
            self._root = openapi.openapi_v3_root(registry, documents=self._v3)
            self._v2 = None
            self._v2_protobuf = None
            self._generation = registry.generation

    def v2(self, registry: ResourceRegistry) -> Mapping[str, Any]:
        """The swagger 2.0 document (JSON; kubectl only reads it as a fallback)."""
        self._fresh(registry)
        if self._v2 is None:
            self._v2 = openapi.openapi_v2(registry)
        return self._v2

    def v2_protobuf(self, registry: ResourceRegistry) -> bytes:
        """The swagger 2.0 document as gnostic protobuf: what kubectl asks for."""
        self._fresh(registry)
        if self._v2_protobuf is None:
            self._v2_protobuf = openapi_proto.encode_openapi_v2(self.v2(registry))
        return self._v2_protobuf

    def v3_root(self, registry: ResourceRegistry) -> Mapping[str, Any]:
        """The OpenAPI v3 discovery root."""
        self._fresh(registry)
        return self._root

    def v3_group_version(self, registry: ResourceRegistry, path: str) -> Mapping[str, Any] | None:
        """The document the root lists under ``path`` (``api/v1``, ``apis/apps/v1``), or None."""
        self._fresh(registry)
        return self._v3.get(path.strip("/"))


# -- helpers ---------------------------------------------------------------------------------


def _path_not_found() -> ApiError:
    return ApiError(
        404,
        "NotFound",
        "the server could not find the requested resource",
        {"causes": [{"reason": "UnexpectedServerResponse", "message": "404 page not found"}]},
    )


def _truthy(value: str | None) -> bool:
    return value is not None and value.lower() in ("1", "true")


def _selectors(request: web.Request) -> Selectors:
    return Selectors(
        label=request.query.get("labelSelector", ""), field=request.query.get("fieldSelector", "")
    )


def _include_object(request: web.Request) -> Any:
    value = request.query.get("includeObject", "Metadata")
    if value not in ("None", "Metadata", "Object"):
        raise errors.bad_request(f"includeObject must be None, Metadata or Object, got {value!r}")
    return value


def _partial(obj: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "kind": "PartialObjectMetadata",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": obj.get("metadata", {}),
    }


def _request_context(request: web.Request, user: UserInfo) -> RequestContext:
    query = request.query
    manager = query.get("fieldManager") or _manager_from_user_agent(
        request.headers.get("User-Agent")
    )
    if len(manager) > 128:
        raise errors.bad_request("fieldManager: Too long: may not be longer than 128 characters")
    validation = query.get("fieldValidation", "Warn") or "Warn"
    if validation not in ("Strict", "Warn", "Ignore"):
        raise errors.bad_request(
            f"fieldValidation: Unsupported value: {validation!r}: supported values: "
            '"Ignore", "Strict", "Warn"'
        )
    dry_run = query.getall("dryRun", [])
    if any(value != "All" for value in dry_run):
        raise errors.bad_request('dryRun: Unsupported value: supported values: "All"')
    return RequestContext(
        field_manager=manager,
        manager_given=bool(query.get("fieldManager")),
        dry_run=bool(dry_run),
        field_validation=validation,  # type: ignore[arg-type]
        user=user.name,
    )


def _manager_from_user_agent(user_agent: str | None) -> str:
    # kube-apiserver names a manager after the client's user agent, up to the first '/'.
    if not user_agent:
        return "unknown"
    return user_agent.split("/", 1)[0][:128] or "unknown"
