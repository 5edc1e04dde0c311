"""The agent keeps its renewed certificate in the Secret it was installed from."""

from __future__ import annotations

import base64
import datetime as dt

import pytest

from kfed_agent.config import Credentials
from kfed_agent.fake_kube import FakeKubeApi
from kfed_agent.ports import KubeError
from kfed_agent.secretstore import SecretStore, SecretStoreError, newer, parse_secret_ref
from kfed_core import pki

NOW = dt.datetime(2026, 11, 26, tzinfo=dt.UTC)


CA = pki.create_ca("kfed test CA", now=NOW)


def _credentials(days: int) -> Credentials:
    spec = pki.LeafSpec(common_name="east", client=True, valid_for=dt.timedelta(days=days))
    leaf = pki.issue_key_pair(CA, spec, now=NOW)
    return Credentials(ca_pem=CA.cert_pem, cert_pem=leaf.cert_pem, key_pem=leaf.key_pem)


def _secret(data: dict[str, bytes]) -> dict[str, object]:
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "kfed-agent-credentials", "namespace": "kfed-system"},
        "data": {k: base64.b64encode(v).decode() for k, v in data.items()},
    }


def _kube(data: dict[str, bytes] | None) -> FakeKubeApi:
    kube = FakeKubeApi(namespaces=("kfed-system",))
    if data is not None:
        kube.put(_secret(data))
    return kube


async def test_saving_replaces_the_credentials_and_keeps_the_rest() -> None:
    old, new = _credentials(30), _credentials(60)
    kube = _kube(
        {
            "agent.yaml": b"cluster: east\n",
            "ca.crt": old.ca_pem,
            "tls.crt": old.cert_pem,
            "tls.key": old.key_pem,
        }
    )
    store = SecretStore(kube, "kfed-system", "kfed-agent-credentials")
    await store.save(new)
    loaded = await store.load()
    assert loaded == new
    live = await kube.get("v1", "Secret", "kfed-system", "kfed-agent-credentials")
    assert live is not None
    assert base64.b64decode(live["data"]["agent.yaml"]) == b"cluster: east\n"


async def test_a_conflict_is_retried_from_a_fresh_read() -> None:
    old = _credentials(30)
    kube = _kube({"ca.crt": old.ca_pem, "tls.crt": old.cert_pem, "tls.key": old.key_pem})
    conflict = KubeError("the object has been modified", status=409, reason="Conflict")
    kube.fail_next("Secret", "kfed-agent-credentials", conflict, verb="replace", times=2)
    store = SecretStore(kube, "kfed-system", "kfed-agent-credentials")
    new = _credentials(60)
    await store.save(new)
    assert await store.load() == new


async def test_a_missing_secret_loads_as_none_and_cannot_be_saved_to() -> None:
    store = SecretStore(_kube(None), "kfed-system", "kfed-agent-credentials")
    assert await store.load() is None
    with pytest.raises(KubeError, match="kfed-system/kfed-agent-credentials does not exist"):
        await store.save(_credentials(30))


async def test_unusable_secret_data_is_reported_by_key() -> None:
    kube = _kube({"ca.crt": b"x", "tls.crt": b"y"})
    store = SecretStore(kube, "kfed-system", "kfed-agent-credentials")
    with pytest.raises(SecretStoreError, match=r"no 'tls\.key' key"):
        await store.load()
    kube = _kube(None)
    bad = _secret({})
    bad["data"] = {"ca.crt": "!!", "tls.crt": "!!", "tls.key": "!!"}
    kube.put(bad)
    with pytest.raises(SecretStoreError, match="not base64"):
        await SecretStore(kube, "kfed-system", "kfed-agent-credentials").load()


def test_newer_compares_expiry() -> None:
    assert newer(_credentials(60), _credentials(30))
    assert not newer(_credentials(30), _credentials(60))
    broken = Credentials(ca_pem=b"", cert_pem=b"not a certificate", key_pem=b"")
    assert not newer(broken, _credentials(30))


@pytest.mark.parametrize("text", ["", "name", "/name", "ns/", "a/b/c"])
def test_bad_secret_references_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match="must be NAMESPACE/NAME"):
        parse_secret_ref(text)
    assert parse_secret_ref("kfed-system/creds") == ("kfed-system", "creds")
