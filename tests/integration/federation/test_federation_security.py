"""Identity, revocation and protocol garbage on the real mTLS gRPC stream."""

from __future__ import annotations

import asyncio
import datetime as dt
import time

import grpc
import pytest
from cryptography import x509
from fedharness import Federation, eventually
from grpc import aio

from kfed_agent.agent import AgentStopped
from kfed_agent.config import load
from kfed_agent.link import Endpoint, LinkError, open_link
from kfed_core import pki, rpc, tls
from kfed_core.identity import cluster_uri, make_csr
from kfed_core.keys import ResourceKey


def endpoint_of(fed: Federation, name: str) -> Endpoint:
    _, creds = load(fed.tmp / f"agent-{name}")
    return Endpoint(
        address=fed.hub.sync_target,
        ca_pem=creds.ca_pem,
        cert_pem=creds.cert_pem,
        key_pem=creds.key_pem,
    )


async def hello(endpoint: Endpoint) -> rpc.HubMessage | None:
    link = await open_link(endpoint)
    try:
        await link.send(rpc.AgentMessage(hello=rpc.Hello(agent_version="test")))
        return await asyncio.wait_for(link.receive(), 10)
    finally:
        await link.close()


async def test_the_hub_names_the_stream_after_the_certificate(federation: Federation) -> None:
    welcome = await hello(endpoint_of(federation, "west"))
    assert welcome is not None and welcome.welcome.cluster == "west"


async def test_status_lands_only_under_the_certificates_cluster(federation: Federation) -> None:
    fed = federation
    await fed.api(
        "POST",
        "/api/v1/namespaces/default/configmaps",
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "shared"}, "data": {}},
    )
    key = "core/ConfigMap/default/shared"

    async def applied_everywhere() -> bool:
        states = await fed.hub.store.object_states(key=ResourceKey.parse(key))
        return sorted(s.cluster for s in states if s.outcome == "Applied") == [
            "east",
            "north",
            "west",
        ]

    await eventually(applied_everywhere, what="applied in the three clusters")
    # Stop west's agent and speak as west: a status report for the object can only ever be
    # recorded for west, whatever it says, because no message field names a cluster.
    await fed.stop_agent("west")
    link = await open_link(endpoint_of(fed, "west"))
    try:
        await link.send(rpc.AgentMessage(hello=rpc.Hello(agent_version="test", known={key: "x"})))
        assert (await link.receive()).welcome.cluster == "west"
        report = rpc.StatusReport(
            objects=[rpc.ObjectStatus(key=key, version="x", status=b'{"forged": true}')]
        )
        await link.send(rpc.AgentMessage(status=report))

        async def recorded() -> bool:
            states = await fed.hub.store.object_states(key=ResourceKey.parse(key))
            forged = {s.cluster for s in states if s.status == {"forged": True}}
            return forged == {"west"}

        await eventually(recorded, what="the forged status recorded for west only")
    finally:
        await link.close()


async def test_removed_cluster_is_cut_off_and_its_certificate_refused(
    federation: Federation,
) -> None:
    fed = federation
    agent_task = fed.agents["west/agent"]
    started = time.monotonic()
    await fed.api("DELETE", "/apis/kfed.io/v1alpha1/clusters/west")
    await eventually(lambda: _done(agent_task), within=5, what="west's agent to stop")
    elapsed = time.monotonic() - started
    assert elapsed < 1.0, f"the live stream took {elapsed:.2f}s to close"
    with pytest.raises(AgentStopped, match="removed from the federation"):
        agent_task.result()
    fed.agents.pop("west/agent")
    with pytest.raises(LinkError) as refused:
        await hello(endpoint_of(fed, "west"))
    assert refused.value.code == "PERMISSION_DENIED" and "revoked" in str(refused.value)
    statuses = await fed.cluster_statuses()
    assert "west" not in statuses and statuses["east"] == "Ready"


async def _done(task: asyncio.Task[None]) -> bool:
    return task.done()


async def test_certificate_from_another_ca_is_refused(federation: Federation) -> None:
    now = dt.datetime.now(dt.UTC)
    rogue_ca = pki.create_ca("rogue", now=now)
    key = pki.new_private_key()
    csr = x509.load_pem_x509_csr(make_csr(key, cluster="east"))
    cert = pki.sign_public_key(
        rogue_ca,
        csr.public_key(),
        pki.LeafSpec(common_name="east", uris=(cluster_uri("east"),), client=True),
        now=now,
    )
    real = endpoint_of(federation, "east")
    rogue = Endpoint(
        address=real.address,
        ca_pem=real.ca_pem,
        cert_pem=pki.KeyPair(cert, key).cert_pem,
        key_pem=pki.KeyPair(cert, key).key_pem,
    )
    with pytest.raises(LinkError) as refused:
        await hello(rogue)
    assert refused.value.code in ("UNAVAILABLE", "UNAUTHENTICATED")
    assert (await federation.cluster_statuses())["east"] == "Ready"


async def _raw_stream(endpoint: Endpoint, payloads: list[bytes]) -> grpc.StatusCode:
    """Send raw bytes as messages on the Sync method; the status the hub ends the call with."""
    channel = aio.secure_channel(
        endpoint.address,
        tls.grpc_channel_credentials(
            ca_pem=endpoint.ca_pem, cert_pem=endpoint.cert_pem, key_pem=endpoint.key_pem
        ),
    )
    try:
        call = channel.stream_stream(
            f"/{rpc.SERVICE_NAME}/Sync",
            request_serializer=lambda raw: raw,
            response_deserializer=lambda raw: raw,
        )(timeout=10)  # a hub that never ends the call fails the test, not the run
        for payload in payloads:
            await call.write(payload)
        try:
            while await call.read() is not aio.EOF:
                pass
        except grpc.aio.AioRpcError as exc:
            return exc.code()
        return await call.code()
    finally:
        await channel.close()


@pytest.mark.parametrize(
    ("name", "payloads", "code"),
    [
        ("not protobuf", [b"\xff\xff\xff\xff garbage"], grpc.StatusCode.INVALID_ARGUMENT),
        (
            "no hello first",
            [rpc.AgentMessage(heartbeat=rpc.Heartbeat()).SerializeToString()],
            grpc.StatusCode.INVALID_ARGUMENT,
        ),
        (
            "hello twice",
            [rpc.AgentMessage(hello=rpc.Hello()).SerializeToString()] * 2,
            grpc.StatusCode.INVALID_ARGUMENT,
        ),
        (
            "empty message after hello",
            [rpc.AgentMessage(hello=rpc.Hello()).SerializeToString(), b""],
            grpc.StatusCode.INVALID_ARGUMENT,
        ),
    ],
)
async def test_protocol_garbage_ends_only_that_stream(
    federation: Federation, name: str, payloads: list[bytes], code: grpc.StatusCode
) -> None:
    fed = federation
    await fed.stop_agent("north")
    assert await _raw_stream(endpoint_of(fed, "north"), payloads) == code, name
    # the hub is still up and the other clusters still sync
    await fed.api(
        "POST",
        "/api/v1/namespaces/default/configmaps",
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "after-garbage"}},
    )

    async def arrived() -> bool:
        return await fed.member("east", "v1", "ConfigMap", "default", "after-garbage") is not None

    await eventually(arrived, what="sync to continue after garbage")


async def test_plain_tls_garbage_on_the_sync_port_is_harmless(federation: Federation) -> None:
    host, port = federation.hub.sync_target.rsplit(":", 1)
    reader, writer = await asyncio.open_connection(host, int(port))
    writer.write(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n" + bytes(range(256)) * 4)
    await writer.drain()
    await asyncio.wait_for(reader.read(), 5)  # the hub closes it
    writer.close()
    await writer.wait_closed()
    assert (await federation.cluster_statuses())["east"] == "Ready"
