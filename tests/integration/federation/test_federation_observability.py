"""Metrics, gRPC health checking and logs of a running federation."""

from __future__ import annotations

import asyncio
import base64
import logging

import pytest
from fedharness import Federation, eventually
from grpc import aio
from grpc_health.v1 import health_pb2, health_pb2_grpc

from kfed_agent.config import load
from kfed_core import rpc, tls


async def test_hub_metrics_count_clusters_results_and_latency(federation: Federation) -> None:
    fed = federation
    await fed.put_configmap("measured", {"a": "1"})
    await eventually(lambda: fed.everywhere("ConfigMap", "default", "measured"))
    text = await _metrics(fed)

    def value(line_start: str) -> float:
        line = next(row for row in text.splitlines() if row.startswith(line_start))
        return float(line.rsplit(" ", 1)[1])

    assert value("kfed_hub_connected_clusters ") == 3
    assert value('kfed_hub_clusters{status="Ready"}') == 3
    assert value("kfed_hub_propagation_seconds_count") >= 3
    assert value('kfed_hub_results_total{cluster="east",outcome="applied"}') >= 1
    assert 'kfed_hub_cluster_pending_objects{cluster="west"}' in text
    agent = fed.agent_objects["east/agent"]
    assert agent.metrics.applies._value.get() >= 1
    assert agent.metrics.connected._value.get() == 1
    assert agent.metrics.leader._value.get() == 1


async def _metrics(fed: Federation) -> str:
    def fetch() -> str:
        status, body = fed.client._exchange("GET", "/metrics", None, {"Accept": "text/plain"})
        assert status == 200
        return body.decode()

    return await asyncio.to_thread(fetch)


@pytest.mark.parametrize("service", ["", rpc.SERVICE_NAME])
async def test_grpc_health_reports_serving(federation: Federation, service: str) -> None:
    _, creds = load(federation.tmp / "agent-east")
    channel = aio.secure_channel(
        federation.hub.sync_target,
        tls.grpc_channel_credentials(
            ca_pem=creds.ca_pem, cert_pem=creds.cert_pem, key_pem=creds.key_pem
        ),
    )
    try:
        answer = await health_pb2_grpc.HealthStub(channel).Check(
            health_pb2.HealthCheckRequest(service=service), timeout=5
        )
    finally:
        await channel.close()
    assert answer.status == health_pb2.HealthCheckResponse.SERVING


async def test_logs_never_contain_secret_data(
    federation: Federation, caplog: pytest.LogCaptureFixture
) -> None:
    fed = federation
    caplog.set_level(logging.DEBUG)
    plain = "s3cr3t-value-that-must-not-be-logged"
    encoded = base64.b64encode(plain.encode()).decode()
    secret = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "quiet"}}
    await fed.api("POST", "/api/v1/namespaces/default/secrets", {**secret, "data": {"k": encoded}})
    await eventually(lambda: fed.everywhere("Secret", "default", "quiet"))
    # a Secret that fails to apply (bad key) goes through the error paths too
    await fed.api(
        "POST",
        "/api/v1/namespaces/default/secrets",
        {**secret, "metadata": {"name": "loud"}, "stringData": {"k": plain}},
    )
    await eventually(lambda: fed.everywhere("Secret", "default", "loud"))
    assert caplog.records, "nothing was logged, so the check would prove nothing"
    for record in caplog.records:
        message = record.getMessage()
        assert plain not in message and encoded not in message, record.name
