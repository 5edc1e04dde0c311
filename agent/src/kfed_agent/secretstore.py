"""Keeps the agent's renewed certificate in the Kubernetes Secret it was installed from.

Layer: ``kfed_agent`` shell, through the :class:`~kfed_agent.ports.KubeApi` port. A DaemonSet's
agent starts from a read-only Secret volume (``kfed agent manifests`` makes the Secret
``kfed-system/kfed-agent-credentials``); without this, a pod restarted after a rotation would
start again from the first certificate, which stops working when it expires. The leader writes
each renewed certificate and key back into the Secret; an agent that becomes leader reads the
Secret and takes its certificate when it is newer than the one in its config directory.

The Secret's keys are the config directory's file names (``ca.crt``, ``tls.crt``, ``tls.key``);
its other keys (``agent.yaml``) are kept as they are. The key is never logged.
"""

from __future__ import annotations

import base64
import binascii
import logging
from dataclasses import dataclass

from kfed_agent import config as agent_config
from kfed_agent.ports import KubeApi, KubeError
from kfed_core import pki

log = logging.getLogger(__name__)

ATTEMPTS = 5  # a Conflict means someone else wrote the Secret in between: read it again


class SecretStoreError(Exception):
    """The Secret holds no usable credentials (missing keys, bad base64, not PEM)."""


def parse_secret_ref(text: str) -> tuple[str, str]:
    """``NAMESPACE/NAME`` as a pair; ValueError saying what is wrong otherwise."""
    namespace, sep, name = text.strip().partition("/")
    if not sep or not namespace or not name or "/" in name:
        raise ValueError(f"--credentials-secret {text!r} must be NAMESPACE/NAME")
    return namespace, name


@dataclass(slots=True)
class SecretStore:
    """The Secret ``namespace/name`` holding an agent's credentials."""

    kube: KubeApi
    namespace: str
    name: str

    @property
    def where(self) -> str:
        return f"Secret {self.namespace}/{self.name}"

    async def load(self) -> agent_config.Credentials | None:
        """The credentials in the Secret, or None when it does not exist."""
        secret = await self.kube.get("v1", "Secret", self.namespace, self.name)
        if secret is None:
            return None
        data = secret.get("data") or {}
        try:
            files = {
                key: base64.b64decode(str(data[key]), validate=True)
                for key in (agent_config.CA_FILE, agent_config.CERT_FILE, agent_config.KEY_FILE)
            }
        except KeyError as exc:
            raise SecretStoreError(f"{self.where} has no {exc.args[0]!r} key") from None
        except (binascii.Error, ValueError) as exc:
            raise SecretStoreError(f"{self.where} holds data that is not base64: {exc}") from None
        return agent_config.Credentials(
            ca_pem=files[agent_config.CA_FILE],
            cert_pem=files[agent_config.CERT_FILE],
            key_pem=files[agent_config.KEY_FILE],
        )

    async def save(self, credentials: agent_config.Credentials) -> None:
        """Write the certificate, key and CA into the Secret (read, change, replace; a
        Conflict is retried). Raises KubeError when the Secret is missing or cannot be
        written."""
        wanted = {
            agent_config.CA_FILE: credentials.ca_pem,
            agent_config.CERT_FILE: credentials.cert_pem,
            agent_config.KEY_FILE: credentials.key_pem,
        }
        for attempt in range(ATTEMPTS):
            secret = await self.kube.get("v1", "Secret", self.namespace, self.name)
            if secret is None:
                raise KubeError(f"{self.where} does not exist", status=404, reason="NotFound")
            data = dict(secret.get("data") or {})
            for key, value in wanted.items():
                data[key] = base64.b64encode(value).decode()
            try:
                await self.kube.replace({**secret, "data": data})
                return
            except KubeError as exc:
                if exc.reason != "Conflict" or attempt == ATTEMPTS - 1:
                    raise
        raise AssertionError("unreachable")  # the loop returns or raises


def newer(candidate: agent_config.Credentials, current: agent_config.Credentials) -> bool:
    """Whether ``candidate``'s certificate expires later than ``current``'s."""
    try:
        theirs = pki.load_certificate(candidate.cert_pem).not_valid_after_utc
        ours = pki.load_certificate(current.cert_pem).not_valid_after_utc
    except ValueError:
        return False
    return theirs > ours
