"""HubBootstrap: tokens and joins over the in-memory store, with a clock the test moves."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from kfed_core import identity, pki
from kfed_hub.bootstrap import HubBootstrap
from kfed_hub.pki import HubPki
from kfed_hub.ports import JoinRefusal, JoinRefused
from kfed_hub.store.memory import MemoryStore

START = dt.datetime(2026, 11, 26, 12, 0, tzinfo=dt.UTC)


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> dt.datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def store() -> MemoryStore:
    return MemoryStore()


@pytest.fixture
def bootstrap(tmp_path: Path, store: MemoryStore, clock: Clock) -> HubBootstrap:
    hub_pki = HubPki.load_or_create(tmp_path, hosts=("hub.test",), clock=clock)
    return HubBootstrap(
        store=store,
        pki=hub_pki,
        api_address="hub.test:8443",
        sync_address="hub.test:8444",
        clock=clock,
    )


def _csr(cluster: str = "eu-west") -> bytes:
    return identity.make_csr(pki.new_private_key(), cluster=cluster)


async def _refusal(bootstrap: HubBootstrap, *, name: str, token: str, csr: bytes) -> JoinRefused:
    with pytest.raises(JoinRefused) as caught:
        await bootstrap.join(name=name, token=token, csr_pem=csr)
    secret = token.partition(".")[2]
    assert not secret or secret not in str(caught.value)  # never the secret
    return caught.value


async def test_token_is_stored_hashed_and_the_join_line_pins_the_ca(
    bootstrap: HubBootstrap, store: MemoryStore
) -> None:
    issued = await bootstrap.create_token(ttl=dt.timedelta(hours=1), description="for eu")
    token_id, _, secret = issued.token.partition(".")
    (stored,) = await store.list_tokens()
    assert stored.token_id == token_id and secret not in repr(stored)
    assert stored.expires_at == issued.expires_at == START + dt.timedelta(hours=1)
    info = bootstrap.cluster_info()
    assert issued.join_command == (
        f"kfed join <NAME> --hub hub.test:8443 --token {issued.token} "
        f"--ca-hash {info.ca_hash} --kubeconfig <KUBECONFIG> --out <DIR>"
    )
    assert info.ca_hash.startswith("sha256:") and info.sync_address == "hub.test:8444"


@pytest.mark.parametrize("ttl", [dt.timedelta(0), dt.timedelta(seconds=-1), dt.timedelta(days=8)])
async def test_token_ttl_must_be_positive_and_bounded(
    bootstrap: HubBootstrap, ttl: dt.timedelta
) -> None:
    with pytest.raises(ValueError, match="ttl"):
        await bootstrap.create_token(ttl=ttl)


async def test_join_signs_the_csr_and_registers_the_cluster(
    bootstrap: HubBootstrap, store: MemoryStore
) -> None:
    issued = await bootstrap.create_token(ttl=dt.timedelta(hours=1))
    grant = await bootstrap.join(name="eu-west", token=issued.token, csr_pem=_csr())
    cert = pki.load_certificate(grant.certificate_pem)
    cert.verify_directly_issued_by(pki.load_certificate(grant.ca_pem))
    assert identity.cluster_of(cert) == grant.cluster == "eu-west"
    assert cert.not_valid_after_utc == START + dt.timedelta(days=30)
    assert grant.sync_address == "hub.test:8444"
    record = await store.get_cluster("eu-west")
    assert record is not None
    assert record.cert_serials == (identity.serial_hex(cert),) and record.joined_at == START
    (token,) = await store.list_tokens()
    assert token.used_by == "eu-west" and token.used_at == START


async def test_a_used_token_is_refused(bootstrap: HubBootstrap) -> None:
    issued = await bootstrap.create_token(ttl=dt.timedelta(hours=1))
    await bootstrap.join(name="eu-west", token=issued.token, csr_pem=_csr())
    refused = await _refusal(bootstrap, name="us-east", token=issued.token, csr=_csr("us-east"))
    assert refused.reason is JoinRefusal.TOKEN_USED
    assert "single-use" in str(refused) and "kfed token create" in str(refused)


async def test_an_expired_token_is_refused(bootstrap: HubBootstrap, clock: Clock) -> None:
    issued = await bootstrap.create_token(ttl=dt.timedelta(hours=1))
    clock.now = START + dt.timedelta(hours=1, seconds=1)
    refused = await _refusal(bootstrap, name="eu-west", token=issued.token, csr=_csr())
    assert refused.reason is JoinRefusal.TOKEN_EXPIRED
    assert "expired" in str(refused) and "kfed token create" in str(refused)


async def test_unknown_tokens_and_wrong_secrets_are_refused_alike(bootstrap: HubBootstrap) -> None:
    issued = await bootstrap.create_token(ttl=dt.timedelta(hours=1))
    token_id = issued.token.partition(".")[0]
    for token in ("zzzzzz.0123456789abcdef", f"{token_id}.0123456789abcdef"):
        refused = await _refusal(bootstrap, name="eu-west", token=token, csr=_csr())
        assert refused.reason is JoinRefusal.TOKEN_UNKNOWN
        assert "does not know this bootstrap token" in str(refused)
    await bootstrap.join(name="eu-west", token=issued.token, csr_pem=_csr())  # still usable


async def test_a_taken_name_is_refused_without_consuming_the_token(
    bootstrap: HubBootstrap,
) -> None:
    first = await bootstrap.create_token(ttl=dt.timedelta(hours=1))
    await bootstrap.join(name="eu-west", token=first.token, csr_pem=_csr())
    second = await bootstrap.create_token(ttl=dt.timedelta(hours=1))
    refused = await _refusal(bootstrap, name="eu-west", token=second.token, csr=_csr())
    assert refused.reason is JoinRefusal.NAME_TAKEN
    assert "kfed cluster remove eu-west" in str(refused)
    await bootstrap.join(name="us-east", token=second.token, csr_pem=_csr("us-east"))


async def test_a_garbage_csr_is_refused_without_consuming_the_token(
    bootstrap: HubBootstrap,
) -> None:
    issued = await bootstrap.create_token(ttl=dt.timedelta(hours=1))
    refused = await _refusal(bootstrap, name="eu-west", token=issued.token, csr=b"garbage")
    assert refused.reason is JoinRefusal.INVALID
    assert "cannot sign this certificate request" in str(refused)
    await bootstrap.join(name="eu-west", token=issued.token, csr_pem=_csr())


@pytest.mark.parametrize("name", ["", "EU_West", "x" * 64])
async def test_an_invalid_name_is_refused(bootstrap: HubBootstrap, name: str) -> None:
    issued = await bootstrap.create_token(ttl=dt.timedelta(hours=1))
    refused = await _refusal(bootstrap, name=name, token=issued.token, csr=_csr())
    assert refused.reason is JoinRefusal.INVALID and "invalid cluster name" in str(refused)


async def test_a_malformed_token_is_refused_as_invalid(bootstrap: HubBootstrap) -> None:
    refused = await _refusal(bootstrap, name="eu-west", token="k3y1d7-s3cr3t", csr=_csr())
    assert refused.reason is JoinRefusal.INVALID
    assert "s3cr3t" not in str(refused) and "kfed token create" in str(refused)
