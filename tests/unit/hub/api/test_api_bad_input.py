"""Bad input to the API: clear Status errors with Kubernetes' codes, and no Secret data in them."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestClient

from kfed_hub.store.memory import MemoryStore

Client = TestClient[web.Request, web.Application]
CM = "/api/v1/namespaces/default/configmaps"
LIMIT = 64 * 1024  # the conftest's limit


async def raw(
    api: Client, method: str, path: str, data: Any, content_type: str = "application/json"
) -> tuple[int, dict[str, Any]]:
    async with api.request(method, path, data=data, headers={"Content-Type": content_type}) as r:
        body = await r.json()
        if r.status >= 400:
            assert body["kind"] == "Status" and body["code"] == r.status
        return r.status, body


def configmap(name: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}, "data": {}}


async def test_unknown_kinds_and_groups_are_not_found(api: Client) -> None:
    for path in (
        "/api/v1/namespaces/default/widgets",
        "/apis/example.com/v1/namespaces/default/widgets",
        "/apis/apps/v2/namespaces/default/deployments",
        "/api/v1/namespaces/default/configmaps/x/status",
        "/nowhere",
    ):
        async with api.get(path) as response:
            assert response.status == 404, path
            body = await response.json()
            assert body["reason"] == "NotFound"
            assert body["message"] == "the server could not find the requested resource"


async def test_invalid_names_are_422_with_field_causes(api: Client) -> None:
    status, body = await raw(api, "POST", CM, json.dumps(configmap("Bad_Name")))
    assert status == 422 and body["reason"] == "Invalid"
    assert body["message"].startswith('ConfigMap "Bad_Name" is invalid: metadata.name: Invalid')
    assert "RFC 1123 subdomain" in body["message"]
    (cause,) = body["details"]["causes"]
    assert cause["field"] == "metadata.name" and cause["reason"] == "FieldValueInvalid"
    status, body = await raw(api, "POST", CM, json.dumps(configmap("")))
    assert status == 422
    assert "metadata.name: Required value: name or generateName is required" in body["message"]


async def test_service_names_are_dns_1035_labels(api: Client) -> None:
    service = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "1st"}, "spec": {}}
    path = "/api/v1/namespaces/default/services"
    status, body = await raw(api, "POST", path, json.dumps(service))
    assert status == 422 and "DNS-1035 label" in body["message"]
    status, _ = await raw(api, "POST", CM, json.dumps(configmap("1st")))
    assert status == 201


async def test_body_must_match_the_path(api: Client) -> None:
    deployment = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "x"}}
    status, body = await raw(api, "POST", CM, json.dumps(deployment))
    assert status == 400 and "API version in the data (apps/v1)" in body["message"]
    wrong_kind = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "x"}}
    status, body = await raw(api, "POST", CM, json.dumps(wrong_kind))
    assert status == 400 and "kind in the data (Secret)" in body["message"]
    elsewhere = configmap("x")
    elsewhere["metadata"]["namespace"] = "other"
    status, body = await raw(api, "POST", CM, json.dumps(elsewhere))
    assert status == 400 and "does not match the namespace" in body["message"]
    renamed = configmap("y")
    await raw(api, "POST", CM, json.dumps(configmap("x")))
    status, body = await raw(api, "PUT", f"{CM}/x", json.dumps(renamed))
    assert status == 400 and "does not match the name on the URL" in body["message"]


async def test_malformed_json_is_400_naming_where(api: Client) -> None:
    status, body = await raw(api, "POST", CM, b'{"apiVersion": "v1",\n  "kind": }')
    assert status == 400 and body["reason"] == "BadRequest"
    assert "line 2, column 11" in body["message"]
    status, body = await raw(api, "POST", CM, b"[1, 2]")
    assert status == 400 and "must be a JSON object" in body["message"]


async def test_only_json_bodies_are_accepted(api: Client) -> None:
    status, body = await raw(api, "POST", CM, b"kind: ConfigMap", "application/yaml")
    assert status == 415 and body["reason"] == "UnsupportedMediaType"
    assert "application/json" in body["message"]


async def test_oversized_bodies_are_413_with_the_limit(api: Client, store: MemoryStore) -> None:
    big = configmap("big")
    big["data"] = {"blob": "x" * (LIMIT + 1)}
    status, body = await raw(api, "POST", CM, json.dumps(big))
    assert status == 413 and body["reason"] == "RequestEntityTooLarge"
    assert f"limit of {LIMIT} bytes" in body["message"]

    async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: caught while streaming
        for _ in range(LIMIT // 1024 + 2):
            yield b" " * 1024

    status, body = await raw(api, "POST", CM, chunks())
    assert status == 413
    assert await store.list_objects() == []


async def test_secret_values_never_appear_in_errors(api: Client) -> None:
    secret_value = "hunter2-super-secret"
    secret = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "creds"},
        "data": {"password": secret_value + "!"},  # not base64
    }
    path = "/api/v1/namespaces/default/secrets"
    status, body = await raw(api, "POST", path, json.dumps(secret))
    assert status == 422
    assert "illegal base64 data" in body["message"]
    assert secret_value not in json.dumps(body)
    broken = b'{"kind": "Secret", "stringData": {"password": "' + secret_value.encode() + b'" x}'
    status, body = await raw(api, "POST", path, broken)
    assert status == 400 and secret_value not in json.dumps(body)


async def test_wrong_methods_are_405(api: Client) -> None:
    status, body = await raw(api, "POST", "/api/v1/configmaps", json.dumps(configmap("x")))
    assert status == 405 and "created in a namespace" in body["message"]
    status, body = await raw(api, "PUT", CM, json.dumps(configmap("x")))
    assert status == 405 and body["reason"] == "MethodNotAllowed"
    status, body = await raw(api, "POST", "/apis/kfed.io/v1alpha1/clusters", b"{}")
    assert status == 405
