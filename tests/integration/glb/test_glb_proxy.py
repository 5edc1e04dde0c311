"""The local provider's reverse proxy against HTTP backends of our own: forwarding, streaming,
spill-over at capacity, retries, 503s, metrics and the provider's lifecycle."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Awaitable, Callable

import aiohttp
import pytest
from glbharness import TestBackend, eventually

from kfed_core.providers import Backend, GlobalLoadBalancer, ProviderError
from kfed_local.glb import LocalProvider, LocalSettings

MakeBackend = Callable[[str], Awaitable[TestBackend]]
ASIA = {"X-Client-Region": "asia-east1"}


def lb(*backends: Backend, **options: str) -> GlobalLoadBalancer:
    return GlobalLoadBalancer(name="web", ingress="default/web", backends=backends, options=options)


def backend(test: TestBackend, region: str, **fields: object) -> Backend:
    return Backend(
        cluster=test.name, region=region, zone=f"{region}-a", address=test.address, **fields
    )


async def test_proxy_forwards_method_path_query_and_headers_and_streams_bodies(
    provider: LocalProvider, client: aiohttp.ClientSession, test_backends: MakeBackend
) -> None:
    us = await test_backends("us")
    status = await provider.ensure(lb(backend(us, "us-east1")))
    payload = bytes(range(256)) * 16384  # 4 MiB

    async def upload() -> AsyncIterator[bytes]:  # chunked: no Content-Length
        for start in range(0, len(payload), 100_000):
            yield payload[start : start + 100_000]

    url = f"http://{status.address}/echo?x=1&y=a%20b"
    async with client.put(url, data=upload(), headers={"X-Forwarded-For": "1.2.3.4"}) as answer:
        body = await answer.read()
        assert answer.status == 201
        assert answer.reason == "Created"
        assert body == payload
        assert answer.headers["X-Echo-Method"] == "PUT"
        assert answer.headers["X-Echo-Target"] == "/echo?x=1&y=a%20b"
        assert answer.headers["X-Echo-X-Forwarded-For"] == "1.2.3.4, 127.0.0.1"
        assert answer.headers["X-Echo-X-Forwarded-Host"] == status.address
        assert answer.headers["X-Echo-Host"] == status.address
        assert answer.headers["X-Echo-Via"] == "1.1 kfed-glb"
        assert answer.headers.getall("Set-Cookie") == ["a=1", "b=2"]
        assert answer.headers["X-Kfed-Backend"] == "us"
    async with client.head(f"http://{status.address}/") as answer:
        assert answer.status == 200
        assert answer.headers["X-Kfed-Backend"] == "us"
        assert await answer.read() == b""


async def test_closest_backend_at_capacity_spills_over_to_the_next_closest(
    provider: LocalProvider, client: aiohttp.ClientSession, test_backends: MakeBackend
) -> None:
    asia, eu = await test_backends("asia"), await test_backends("eu")
    limited = {"in-flight-per-weight": "1"}
    status = await provider.ensure(
        lb(backend(asia, "asia-east1"), backend(eu, "europe-west1"), **limited)
    )

    async def slow() -> aiohttp.ClientResponse:
        return await client.get(f"http://{status.address}/slow", headers=ASIA)

    held = asyncio.create_task(slow())
    await eventually(lambda: _async(asia.held == 1), what="a request held in asia")
    async with client.get(f"http://{status.address}/", headers=ASIA) as answer:
        assert answer.headers["X-Kfed-Backend"] == "eu"
    asia.release.set()
    first = await held
    assert first.headers["X-Kfed-Backend"] == "asia"
    first.release()
    async with client.get(f"http://{status.address}/", headers=ASIA) as answer:
        assert answer.headers["X-Kfed-Backend"] == "asia"  # room again: back to the closest


async def test_refused_connection_is_retried_once_on_the_next_choice(
    client: aiohttp.ClientSession, test_backends: MakeBackend
) -> None:
    provider = LocalProvider(LocalSettings(trust_client_region_header=True))  # 1 s checks
    try:
        asia, eu = await test_backends("asia"), await test_backends("eu")
        status = await provider.ensure(lb(backend(asia, "asia-east1"), backend(eu, "europe-west1")))
        await asia.stop()  # before the health checks can notice
        async with client.get(f"http://{status.address}/", headers=ASIA) as answer:
            assert answer.status == 200
            assert answer.headers["X-Kfed-Backend"] == "eu"
        errors = sum(
            provider.registry.get_sample_value(
                "kfed_glb_upstream_errors_total", {"lb": "web", "backend": "asia", "kind": kind}
            )
            or 0.0
            for kind in ("connect", "disconnect")
        )
        assert errors == 1
    finally:
        await provider.close()


async def test_only_backend_refusing_gives_a_502_naming_it(
    client: aiohttp.ClientSession, test_backends: MakeBackend
) -> None:
    provider = LocalProvider(LocalSettings(trust_client_region_header=True))
    try:
        asia = await test_backends("asia")
        status = await provider.ensure(lb(backend(asia, "asia-east1")))
        await asia.stop()
        async with client.post(f"http://{status.address}/", data=b"x") as answer:
            assert answer.status == 502
            assert "backend asia" in await answer.text()
    finally:
        await provider.close()


async def test_no_serving_backend_answers_503_with_the_reason(
    provider: LocalProvider, client: aiohttp.ClientSession, test_backends: MakeBackend
) -> None:
    asia, eu = await test_backends("asia"), await test_backends("eu")
    await eu.stop()  # its checks fail: the proxy cannot fail open to it
    status = await provider.ensure(
        lb(
            backend(asia, "asia-east1", healthy=False, weight=0),
            backend(eu, "europe-west1", healthy=False),
        )
    )
    assert not status.ready
    assert status.message.startswith(
        "0 of 2 backends serving; asia drained (weight 0); eu reported unhealthy by the hub"
    )
    async with client.get(f"http://{status.address}/") as answer:
        assert answer.status == 503
        assert answer.headers["Retry-After"] == "1"
        text = await answer.text()
        assert "no healthy backend: asia unhealthy, eu unhealthy" in text
    value = provider.registry.get_sample_value(
        "kfed_glb_requests_total", {"lb": "web", "backend": "none", "code": "503"}
    )
    assert value == 1


async def test_metrics_count_requests_latency_and_health_per_backend(
    provider: LocalProvider, client: aiohttp.ClientSession, test_backends: MakeBackend
) -> None:
    asia, eu = await test_backends("asia"), await test_backends("eu")
    status = await provider.ensure(lb(backend(asia, "asia-east1"), backend(eu, "europe-west1")))
    for _ in range(3):
        async with client.get(f"http://{status.address}/", headers=ASIA) as answer:
            await answer.read()
    registry = provider.registry
    labels = {"lb": "web", "backend": "asia"}
    assert registry.get_sample_value("kfed_glb_requests_total", {**labels, "code": "200"}) == 3
    assert registry.get_sample_value("kfed_glb_backend_healthy", labels) == 1
    assert registry.get_sample_value("kfed_glb_backend_in_flight", labels) == 0
    assert registry.get_sample_value("kfed_glb_request_seconds_count", {"lb": "web"}) == 3
    await asia.stop()
    await eventually(
        lambda: _async(registry.get_sample_value("kfed_glb_backend_healthy", labels) == 0),
        what="asia's health gauge at 0",
    )


async def test_provider_lifecycle_update_keeps_listener_delete_stops_it(
    provider: LocalProvider, client: aiohttp.ClientSession, test_backends: MakeBackend
) -> None:
    asia, eu = await test_backends("asia"), await test_backends("eu")
    first = await provider.ensure(lb(backend(asia, "asia-east1")))
    second = await provider.ensure(lb(backend(asia, "asia-east1"), backend(eu, "europe-west1")))
    assert second.address == first.address
    assert second.message == "2 of 2 backends serving"
    assert await provider.owned() == ["web"]
    await provider.delete("web")
    await provider.delete("web")  # absent counts as deleted
    assert await provider.owned() == []
    with pytest.raises(aiohttp.ClientConnectorError):
        await client.get(f"http://{first.address}/")


async def test_address_option_pins_the_listener_and_a_taken_port_is_retryable(
    provider: LocalProvider, test_backends: MakeBackend
) -> None:
    asia = await test_backends("asia")
    with socket.socket() as taken:
        taken.bind(("127.0.0.200", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(ProviderError, match="port is taken") as caught:
            await provider.ensure(lb(backend(asia, "asia-east1"), address=f"127.0.0.200:{port}"))
        assert caught.value.retryable
    status = await provider.ensure(lb(backend(asia, "asia-east1"), address=f"127.0.0.200:{port}"))
    assert status.address == f"127.0.0.200:{port}"


async def test_bad_backend_address_is_an_error_an_operator_must_fix(
    provider: LocalProvider,
) -> None:
    bad = Backend(cluster="asia", region="asia-east1", zone="asia-east1-a", address="nowhere")
    with pytest.raises(ProviderError, match="backend asia has address 'nowhere'") as e:
        await provider.ensure(lb(bad))
    assert not e.value.retryable
    with pytest.raises(ProviderError, match="in-flight-per-weight"):
        await provider.ensure(lb(options_backend(), **{"in-flight-per-weight": "lots"}))


def options_backend() -> Backend:
    return Backend(cluster="asia", region="asia-east1", zone="asia-east1-a", address="127.0.0.1:9")


async def _async(value: bool) -> bool:
    return value
