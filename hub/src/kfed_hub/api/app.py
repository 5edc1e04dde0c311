"""The hub's HTTPS API application: routes, authentication and error middleware, metrics.

Layer: ``kfed_hub.api`` (top; composes the handlers). The caller serves the application over TLS
with ``ssl.CERT_OPTIONAL`` client certificates verified against the hub CA; this module decides
who may do what from the verified certificate:

- anonymous: ``/healthz``, ``/readyz``, ``GET /kfed/v1/cluster-info``, ``POST /kfed/v1/join``;
- everything else needs a certificate whose URI SAN starts with ``spiffe://kfed/admin/``: none →
  401 Unauthorized; any other (an agent's cluster certificate included) → 403 Forbidden.

The decision is made on the route the request resolved to, not on the path text, so no spelling
of a path reaches an admin handler anonymously. Every error leaves as a Kubernetes ``Status``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

import prometheus_client
from aiohttp import web
from prometheus_client import CollectorRegistry, Counter, Histogram

from kfed_core.conventions import SPIFFE_ADMIN_PREFIX
from kfed_hub.api.bootstrap import BootstrapHandlers
from kfed_hub.api.catalog import KindCatalog
from kfed_hub.api.clusters import ClusterHandlers
from kfed_hub.api.discovery import DiscoveryHandlers
from kfed_hub.api.errors import (
    ApiError,
    Reason,
    from_http_exception,
    status_response,
)
from kfed_hub.api.events import EventHandlers
from kfed_hub.api.kinds import KFED_GROUP, KFED_VERSION
from kfed_hub.api.objects import ObjectHandlers
from kfed_hub.ports import Bootstrap, ClusterDirectory, IngressStatuses, Placements
from kfed_hub.store.protocol import Store

log = logging.getLogger(__name__)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
_ANONYMOUS: web.AppKey[frozenset[Handler]] = web.AppKey("kfed_anonymous_handlers")
USER_KEY: web.RequestKey[str] = web.RequestKey("kfed_user", str)
"""Request key holding the authenticated operator's name (the rest of the admin URI)."""


def certificate_uris(peercert: Any) -> list[str]:
    """The URI SANs of a peer certificate in ``ssl``'s dict form."""
    if not isinstance(peercert, dict):
        return []
    return [value for kind, value in peercert.get("subjectAltName", ()) if kind == "URI"]


def authenticate(peercert: Any) -> str:
    """The operator named by a verified client certificate; raises 401 or 403 otherwise."""
    if not peercert:
        raise ApiError(
            Reason.UNAUTHORIZED,
            "Unauthorized: the kfed API needs a client certificate issued by the hub's CA; use "
            "the config that `kfed hub serve` writes (~/.kfed/config or KFED_CONFIG)",
        )
    for uri in certificate_uris(peercert):
        if uri.startswith(SPIFFE_ADMIN_PREFIX) and len(uri) > len(SPIFFE_ADMIN_PREFIX):
            return uri[len(SPIFFE_ADMIN_PREFIX) :]
    raise ApiError(
        Reason.FORBIDDEN,
        "forbidden: this client certificate is not an operator's; the kfed admin API needs an "
        "admin certificate (agent certificates only reach the Sync service and joins)",
    )


@web.middleware
async def _errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except ApiError as error:
        return status_response(error)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        return status_response(from_http_exception(exc))
    except Exception:
        # The log has the traceback; the client gets no internals (they could hold data).
        log.exception("API request %s %s failed", request.method, request.path)
        return status_response(
            ApiError(
                Reason.INTERNAL_ERROR,
                "an internal error occurred in the kfed hub; its log has the details",
            )
        )


@web.middleware
async def _auth(request: web.Request, handler: Handler) -> web.StreamResponse:
    if request.match_info.handler in request.app[_ANONYMOUS]:
        return await handler(request)
    transport = request.transport
    peercert = transport.get_extra_info("peercert") if transport is not None else None
    request[USER_KEY] = authenticate(peercert)
    return await handler(request)


def _metrics_middleware(registry: CollectorRegistry | None) -> Any:
    if registry is None:

        @web.middleware
        async def nothing(request: web.Request, handler: Handler) -> web.StreamResponse:
            return await handler(request)

        return nothing
    requests = Counter(
        "kfed_hub_api_requests",
        "Requests answered by the hub's HTTPS API, by method and status code.",
        ["method", "code"],
        registry=registry,
    )
    latency = Histogram(
        "kfed_hub_api_request_seconds",
        "Time to answer a request of the hub's HTTPS API, by method.",
        ["method"],
        registry=registry,
    )

    @web.middleware
    async def measure(request: web.Request, handler: Handler) -> web.StreamResponse:
        started = time.perf_counter()
        response = await handler(request)
        latency.labels(request.method).observe(time.perf_counter() - started)
        requests.labels(request.method, str(response.status)).inc()
        return response

    return measure


async def _healthy(request: web.Request) -> web.Response:
    return web.Response(text="ok")


def build_api_app(
    *,
    store: Store,
    clusters: ClusterDirectory,
    bootstrap: Bootstrap,
    metrics_registry: CollectorRegistry | None,
    max_body_bytes: int = 3 * 1024 * 1024,
    placements: Placements | None = None,
    ingresses: IngressStatuses | None = None,
) -> web.Application:
    """The API application.

    ``metrics_registry`` receives the API's request metrics and is what ``GET /metrics`` serves;
    None serves prometheus_client's process-wide default registry and records no API metrics.
    ``max_body_bytes`` bounds every request body (413 above it). ``placements``: the
    reconciler's decisions, shown in every served object's status; None serves objects as placed
    in every joined cluster (a hub without placement). ``ingresses``: the ingress controller's
    global load balancers, shown in federated Ingresses' status.
    """
    app = web.Application(
        middlewares=[_metrics_middleware(metrics_registry), _errors, _auth],
        client_max_size=max_body_bytes,
    )
    catalog = KindCatalog(store)  # follows the store from here on: one per application
    objects = ObjectHandlers(
        store=store,
        catalog=catalog,
        clusters=clusters,
        max_body_bytes=max_body_bytes,
        placements=placements,
        ingresses=ingresses,
    )
    discovery = DiscoveryHandlers(catalog)
    cluster_handlers = ClusterHandlers(clusters=clusters, max_body_bytes=max_body_bytes)
    event_handlers = EventHandlers(store=store, catalog=catalog)
    joins = BootstrapHandlers(bootstrap=bootstrap, max_body_bytes=max_body_bytes)
    served_registry = metrics_registry or prometheus_client.REGISTRY

    async def metrics(request: web.Request) -> web.Response:
        body = prometheus_client.generate_latest(served_registry)
        response = web.Response(body=body)
        response.headers["Content-Type"] = prometheus_client.CONTENT_TYPE_LATEST
        return response

    app[_ANONYMOUS] = frozenset({_healthy, joins.cluster_info, joins.join})
    kfed = f"/apis/{KFED_GROUP}/{KFED_VERSION}"
    router = app.router
    router.add_get("/healthz", _healthy)
    router.add_get("/readyz", _healthy)
    router.add_get("/metrics", metrics)
    router.add_get("/kfed/v1/cluster-info", joins.cluster_info)
    router.add_post("/kfed/v1/join", joins.join)
    router.add_get("/api", discovery.api)
    router.add_get("/api/v1", discovery.core_v1)
    router.add_get("/apis", discovery.apis)
    router.add_get(f"{kfed}/clusters", cluster_handlers.list)
    router.add_get(f"{kfed}/clusters/{{name}}", cluster_handlers.get)
    router.add_patch(f"{kfed}/clusters/{{name}}", cluster_handlers.patch)
    router.add_delete(f"{kfed}/clusters/{{name}}", cluster_handlers.delete)
    router.add_get(f"{kfed}/events", event_handlers.list)
    router.add_get(f"{kfed}/namespaces/{{namespace}}/events", event_handlers.list)
    router.add_post(f"{kfed}/bootstraptokens", joins.create_token)
    router.add_get("/apis/{group}", discovery.group)
    router.add_get("/apis/{group}/{version}", discovery.group_version)
    router.add_route("*", "/api/v1/{tail:.+}", objects.core)
    router.add_route("*", "/apis/{group}/{version}/{tail:.+}", objects.grouped)
    return app
