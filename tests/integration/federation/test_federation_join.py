"""Joins refused by the real hub: unknown, reused and expired tokens, a CA that does not match
the pinned hash, and a name already joined. Each refusal says what to do, and leaves no trace."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from fedharness import Federation

from kfed_agent.join import JoinFailed, join_cluster


async def _join(fed: Federation, name: str, token: str, ca_hash: str | None = None) -> Path:
    info = await fed.api("GET", "/kfed/v1/cluster-info")
    out = fed.tmp / f"try-{name}-{token[:6]}"
    await asyncio.to_thread(
        join_cluster,
        name,
        hub=fed.hub.api_url.removeprefix("https://"),
        token=token,
        ca_hash=ca_hash or info["caHash"],
        kubeconfig=str(fed.kubeconfig),
        context="east",
        out=out,
    )
    return out


async def _token(fed: Federation, ttl: str = "1h") -> str:
    issued = await fed.api("POST", "/apis/kfed.io/v1alpha1/bootstraptokens", {"ttl": ttl})
    token: str = issued["token"]
    return token


async def test_unknown_token_is_refused(federation: Federation) -> None:
    with pytest.raises(JoinFailed, match="kfed token create"):
        await _join(federation, "spare", "abcdef.0123456789abcdef")
    assert "spare" not in await federation.cluster_statuses()


async def test_reused_token_is_refused(federation: Federation) -> None:
    token = await _token(federation)
    await _join(federation, "spare", token)
    with pytest.raises(JoinFailed, match="used"):
        await _join(federation, "spare-two", token)
    assert "spare-two" not in await federation.cluster_statuses()


async def test_expired_token_is_refused(federation: Federation) -> None:
    token = await _token(federation, ttl="1s")
    await asyncio.sleep(1.2)  # the token's lifetime is what is being waited out
    with pytest.raises(JoinFailed, match="expired"):
        await _join(federation, "late", token)


async def test_ca_that_does_not_match_the_hash_is_refused_before_the_token_is_sent(
    federation: Federation,
) -> None:
    token = await _token(federation)
    with pytest.raises(JoinFailed, match="sha256:"):
        await _join(federation, "pinned", token, ca_hash="sha256:" + "0" * 64)
    await _join(federation, "pinned", token)  # the token was never presented, so it still works


async def test_a_name_already_joined_is_refused_without_using_the_token(
    federation: Federation,
) -> None:
    token = await _token(federation)
    with pytest.raises(JoinFailed, match="east"):
        await _join(federation, "east", token)
    await _join(federation, "fresh", token)
    assert (await federation.cluster_statuses())["fresh"] == "Offline"  # joined, no agent yet
