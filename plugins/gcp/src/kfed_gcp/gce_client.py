"""google-cloud-compute behind the ``ComputeApi`` seam: the only module that imports ``google``.

Layer: SDK adapter of the ``gcp`` plugin. It turns the seam's REST-shaped dicts into the SDK's
messages and back (``from_json`` / ``to_dict`` keep GCE's JSON field names), runs every blocking
SDK call in :func:`asyncio.to_thread`, waits for operations, and translates the SDK's exceptions
into :class:`kfed_gcp.errors.GceError`. It decides nothing about load balancers and never
retries (the SDK's own retries are switched off with ``retry=None``, so kfed's policy is the
only one).

Operations: mutations use the ``*_unary`` methods, which return GCE's Operation, and wait with
this client's own Global/ZoneOperationsClient. The SDK's ``ExtendedOperation.result()`` polls
through an operations client that ignores ``client_options`` (so it would call the real GCE
even when ``endpoint`` points at a fake); waiting here keeps every call on one endpoint.

Credentials: ``credentials_file`` when set; else anonymous when ``endpoint`` is set (fakes);
else Application Default Credentials. They are loaded on the first call, in a worker thread,
never when the provider is constructed.
"""

from __future__ import annotations

import asyncio
import functools
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import google.auth
import requests
from google.api_core import exceptions as gexc
from google.api_core.client_options import ClientOptions
from google.auth.credentials import AnonymousCredentials, Credentials
from google.auth.exceptions import GoogleAuthError
from google.cloud import compute_v1
from google.oauth2 import credentials as user_credentials
from google.oauth2 import service_account

from kfed_gcp.api import Kind, Resource
from kfed_gcp.errors import GceError
from kfed_gcp.options import GcpOptions

_T = TypeVar("_T")
_SCOPES = ["https://www.googleapis.com/auth/compute"]


# attach/detach network endpoints: (body type, request type, body field, client method).
_ENDPOINT_CALLS: dict[str, tuple[Any, Any, str, str]] = {
    "attach": (
        compute_v1.NetworkEndpointGroupsAttachEndpointsRequest,
        compute_v1.AttachNetworkEndpointsNetworkEndpointGroupRequest,
        "network_endpoint_groups_attach_endpoints_request_resource",
        "attach_network_endpoints_unary",
    ),
    "detach": (
        compute_v1.NetworkEndpointGroupsDetachEndpointsRequest,
        compute_v1.DetachNetworkEndpointsNetworkEndpointGroupRequest,
        "network_endpoint_groups_detach_endpoints_request_resource",
        "detach_network_endpoints_unary",
    ),
}


@dataclass(frozen=True, slots=True)
class _Spec:
    client: type[Any]
    message: type[Any]
    request: str  # the SDK's request class suffix: Insert<request>Request, ...
    field: str  # the name parameter; the body parameter is <field>_resource


_SPECS = {
    Kind.ADDRESS: _Spec(
        compute_v1.GlobalAddressesClient, compute_v1.Address, "GlobalAddress", "address"
    ),
    Kind.HEALTH_CHECK: _Spec(
        compute_v1.HealthChecksClient, compute_v1.HealthCheck, "HealthCheck", "health_check"
    ),
    Kind.NEG: _Spec(
        compute_v1.NetworkEndpointGroupsClient,
        compute_v1.NetworkEndpointGroup,
        "NetworkEndpointGroup",
        "network_endpoint_group",
    ),
    Kind.BACKEND_SERVICE: _Spec(
        compute_v1.BackendServicesClient,
        compute_v1.BackendService,
        "BackendService",
        "backend_service",
    ),
    Kind.URL_MAP: _Spec(compute_v1.UrlMapsClient, compute_v1.UrlMap, "UrlMap", "url_map"),
    Kind.HTTP_PROXY: _Spec(
        compute_v1.TargetHttpProxiesClient,
        compute_v1.TargetHttpProxy,
        "TargetHttpProxy",
        "target_http_proxy",
    ),
    Kind.FORWARDING_RULE: _Spec(
        compute_v1.GlobalForwardingRulesClient,
        compute_v1.ForwardingRule,
        "GlobalForwardingRule",
        "forwarding_rule",
    ),
    Kind.FIREWALL: _Spec(compute_v1.FirewallsClient, compute_v1.Firewall, "Firewall", "firewall"),
}


def _to_dict(message: Any) -> Resource:
    result: Resource = type(message).to_dict(
        message, preserving_proto_field_name=False, use_integers_for_enums=False
    )
    return result


def _from_dict(message_type: type[Any], body: Resource) -> Any:
    return message_type.from_json(json.dumps(body))


def _request(kind: Kind, verb: str, **fields: Any) -> Any:
    return getattr(compute_v1, f"{verb}{_SPECS[kind].request}Request")(**fields)


def _error(e: Exception) -> GceError:
    if isinstance(e, gexc.GoogleAPICallError):
        errors = [item for item in e.errors if isinstance(item, dict)]
        reason = str(errors[0].get("reason", "")) if errors else (e.reason or "")
        return GceError(int(e.code or 0), reason, e.message)
    if isinstance(e, GoogleAuthError):
        return GceError(401, "credentials", f"{type(e).__name__}: {e}")
    return GceError(0, "connectionFailed", f"{type(e).__name__}: {e}")


def _credentials_from_file(path: str) -> Credentials:
    """Service account keys and gcloud user credentials; the type is read from the file, so a
    file of another kind (an external account that runs programs, say) is refused."""
    where = f"credentials_file {path}"
    try:
        with open(path, encoding="utf-8") as file:
            kind = json.load(file).get("type", "")
        if kind == "service_account":
            loaded: Credentials = service_account.Credentials.from_service_account_file(  # type: ignore[no-untyped-call]
                path, scopes=_SCOPES
            )
            return loaded
        if kind == "authorized_user":
            user: Credentials = user_credentials.Credentials.from_authorized_user_file(  # type: ignore[no-untyped-call]
                path, scopes=_SCOPES
            )
            return user
    except (OSError, ValueError, AttributeError) as e:
        raise GceError(401, "credentials", f"cannot read {where}: {type(e).__name__}") from e
    raise GceError(
        401,
        "credentials",
        f"{where} holds credentials of type {kind!r}; use a service_account key or "
        "authorized_user file, or leave the option out to use Application Default Credentials",
    )


class GceClient:
    """:class:`~kfed_gcp.api.ComputeApi` over google-cloud-compute's REST clients.

    Thread-safety: SDK clients are made once, under a lock, in whichever worker thread first
    needs them; the clients themselves are used from many threads, as the SDK allows.
    """

    def __init__(self, options: GcpOptions) -> None:
        self._options = options
        self._project = options.project
        self._clients: dict[type[Any], Any] = {}
        self._credentials: Credentials | None = None
        self._lock = threading.Lock()
        self._closed = False

    # --- plumbing -----------------------------------------------------------------------------

    def _client(self, client_type: type[Any]) -> Any:
        with self._lock:
            if self._closed:
                raise GceError(0, "closed", "the gcp provider was closed")
            if client_type not in self._clients:
                options = ClientOptions(api_endpoint=self._options.endpoint or None)
                self._clients[client_type] = client_type(
                    credentials=self._load_credentials(), client_options=options, transport="rest"
                )
            return self._clients[client_type]

    def _load_credentials(self) -> Credentials | None:
        if self._credentials is None:
            if self._options.credentials_file:
                self._credentials = _credentials_from_file(self._options.credentials_file)
            elif self._options.endpoint:
                self._credentials = AnonymousCredentials()  # type: ignore[no-untyped-call]
            else:
                found, _ = google.auth.default(scopes=_SCOPES)
                self._credentials = found
        return self._credentials

    async def _run(self, call: Callable[[], _T]) -> _T:
        def guarded() -> _T:
            try:
                return call()
            except GceError:
                raise
            except (gexc.GoogleAPICallError, GoogleAuthError, requests.RequestException) as e:
                raise _error(e) from e

        return await asyncio.to_thread(guarded)

    def _kw(self) -> dict[str, Any]:
        return {"retry": None, "timeout": self._options.request_timeout}

    async def _wait(self, operation: Any, zone: str) -> None:
        """Wait until ``operation`` is DONE; raise its error as a GceError."""
        deadline = time.monotonic() + self._options.operation_timeout
        done = compute_v1.Operation.Status.DONE
        first = True
        while operation.status != done:
            if time.monotonic() > deadline:
                raise GceError(
                    504,
                    "operationTimeout",
                    f"operation {operation.name} was not DONE after "
                    f"{self._options.operation_timeout}s",
                )
            if not first:
                await asyncio.sleep(self._options.operation_poll_interval)
            first = False
            if zone:
                ops = self._client(compute_v1.ZoneOperationsClient)
                request = compute_v1.WaitZoneOperationRequest(
                    project=self._project, zone=zone, operation=operation.name
                )
            else:
                ops = self._client(compute_v1.GlobalOperationsClient)
                request = compute_v1.WaitGlobalOperationRequest(
                    project=self._project, operation=operation.name
                )
            # GCE's wait answers within about two minutes even when not DONE yet.
            wait = functools.partial(
                ops.wait, request=request, retry=None, timeout=self._options.request_timeout + 120
            )
            operation = await self._run(wait)
        if operation.error and operation.error.errors:
            first_error = operation.error.errors[0]
            raise GceError(
                int(operation.http_error_status_code or 400),
                str(first_error.code),
                str(first_error.message or operation.http_error_message),
            )

    async def _mutate(self, client_type: type[Any], method: str, request: Any, zone: str) -> None:
        def call() -> Any:
            return getattr(self._client(client_type), method)(request=request, **self._kw())

        await self._wait(await self._run(call), zone)

    def _scope(self, kind: Kind, zone: str) -> dict[str, str]:
        return {"project": self._project, **({"zone": zone} if kind.zonal else {})}

    # --- ComputeApi ---------------------------------------------------------------------------

    async def get(self, kind: Kind, name: str, *, zone: str = "") -> Resource:
        spec = _SPECS[kind]
        request = _request(kind, "Get", **self._scope(kind, zone), **{spec.field: name})
        found = await self._run(
            lambda: self._client(spec.client).get(request=request, **self._kw())
        )
        return _to_dict(found)

    async def list_all(self, kind: Kind) -> list[Resource]:
        spec = _SPECS[kind]
        return await self._run(
            lambda: [
                _to_dict(item)
                for item in self._client(spec.client).list(project=self._project, **self._kw())
            ]
        )

    async def list_negs(self) -> list[Resource]:
        request = compute_v1.AggregatedListNetworkEndpointGroupsRequest(project=self._project)

        def call() -> list[Resource]:
            client = self._client(compute_v1.NetworkEndpointGroupsClient)
            return [
                _to_dict(neg)
                for _, scoped in client.aggregated_list(request=request, **self._kw())
                for neg in scoped.network_endpoint_groups
            ]

        return await self._run(call)

    async def insert(self, kind: Kind, body: Resource, *, request_id: str, zone: str = "") -> None:
        spec = _SPECS[kind]
        request = _request(
            kind,
            "Insert",
            **self._scope(kind, zone),
            request_id=request_id,
            **{f"{spec.field}_resource": _from_dict(spec.message, body)},
        )
        await self._mutate(spec.client, "insert_unary", request, zone)

    async def patch(
        self, kind: Kind, name: str, body: Resource, *, request_id: str, zone: str = ""
    ) -> None:
        spec = _SPECS[kind]
        request = _request(
            kind,
            "Patch",
            **self._scope(kind, zone),
            request_id=request_id,
            **{spec.field: name, f"{spec.field}_resource": _from_dict(spec.message, body)},
        )
        await self._mutate(spec.client, "patch_unary", request, zone)

    async def delete(self, kind: Kind, name: str, *, request_id: str, zone: str = "") -> None:
        spec = _SPECS[kind]
        request = _request(
            kind, "Delete", **self._scope(kind, zone), request_id=request_id, **{spec.field: name}
        )
        await self._mutate(spec.client, "delete_unary", request, zone)

    async def set_url_map(self, proxy: str, url_map: str, *, request_id: str) -> None:
        request = compute_v1.SetUrlMapTargetHttpProxyRequest(
            project=self._project,
            target_http_proxy=proxy,
            request_id=request_id,
            url_map_reference_resource=compute_v1.UrlMapReference(url_map=url_map),
        )
        await self._mutate(compute_v1.TargetHttpProxiesClient, "set_url_map_unary", request, "")

    async def set_target(self, forwarding_rule: str, target: str, *, request_id: str) -> None:
        request = compute_v1.SetTargetGlobalForwardingRuleRequest(
            project=self._project,
            forwarding_rule=forwarding_rule,
            request_id=request_id,
            target_reference_resource=compute_v1.TargetReference(target=target),
        )
        await self._mutate(compute_v1.GlobalForwardingRulesClient, "set_target_unary", request, "")

    async def list_endpoints(self, zone: str, neg: str) -> list[Resource]:
        request = compute_v1.ListNetworkEndpointsNetworkEndpointGroupsRequest(
            project=self._project,
            zone=zone,
            network_endpoint_group=neg,
            network_endpoint_groups_list_endpoints_request_resource=(
                compute_v1.NetworkEndpointGroupsListEndpointsRequest(health_status="SKIP")
            ),
        )

        def call() -> list[Resource]:
            client = self._client(compute_v1.NetworkEndpointGroupsClient)
            pager = client.list_network_endpoints(request=request, **self._kw())
            return [_to_dict(item.network_endpoint) for item in pager]

        return await self._run(call)

    async def attach_endpoints(
        self, zone: str, neg: str, endpoints: list[Resource], *, request_id: str
    ) -> None:
        await self._change_endpoints("attach", zone, neg, endpoints, request_id=request_id)

    async def detach_endpoints(
        self, zone: str, neg: str, endpoints: list[Resource], *, request_id: str
    ) -> None:
        await self._change_endpoints("detach", zone, neg, endpoints, request_id=request_id)

    async def _change_endpoints(
        self, verb: str, zone: str, neg: str, endpoints: list[Resource], *, request_id: str
    ) -> None:
        """``attach`` or ``detach`` endpoints: one call shape, with the SDK's types for each."""
        body_type, request_type, field, method = _ENDPOINT_CALLS[verb]
        body = body_type(
            network_endpoints=[_from_dict(compute_v1.NetworkEndpoint, e) for e in endpoints]
        )
        request = request_type(
            project=self._project,
            zone=zone,
            network_endpoint_group=neg,
            request_id=request_id,
            **{field: body},
        )
        await self._mutate(compute_v1.NetworkEndpointGroupsClient, method, request, zone)

    async def backend_health(self, backend_service: str, group: str) -> list[Resource]:
        request = compute_v1.GetHealthBackendServiceRequest(
            project=self._project,
            backend_service=backend_service,
            resource_group_reference_resource=compute_v1.ResourceGroupReference(group=group),
        )

        def call() -> list[Resource]:
            client = self._client(compute_v1.BackendServicesClient)
            health = client.get_health(request=request, **self._kw())
            return [_to_dict(status) for status in health.health_status]

        return await self._run(call)

    async def close(self) -> None:
        with self._lock:
            self._closed = True
            clients, self._clients = list(self._clients.values()), {}
        for client in clients:
            await asyncio.to_thread(client.transport.close)
