"""The agent's lifecycle: leader election, the reconnecting Sync loop and certificate rotation.

Layer: ``kfed_agent`` composition. A DaemonSet runs one agent per node; they elect one leader
through a coordination.k8s.io Lease and only the leader talks to the hub. When the leader dies,
its Lease expires and a standby takes over; when the leader loses the Lease (API unreachable for
longer than the lease), it stops syncing and becomes a standby again.

Reconnects use jittered exponential backoff ("equal jitter": half the delay fixed, half random),
starting at ``backoff_base`` and capped at ``backoff_max``; a stream that reached Welcome resets it.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import os
import random
import socket
from dataclasses import dataclass, replace
from pathlib import Path

from cryptography.hazmat.primitives import serialization

from kfed_agent import __version__
from kfed_agent import config as agent_config
from kfed_agent.lease import LeaderElector
from kfed_agent.link import Endpoint, LinkError, renew
from kfed_agent.metrics import AgentMetrics
from kfed_agent.ports import KubeApi, KubeError
from kfed_agent.secretstore import SecretStore, SecretStoreError, newer
from kfed_agent.syncer import Session, SessionEnded, SyncSettings
from kfed_core import pki
from kfed_core.identity import make_csr, rotation_due

log = logging.getLogger(__name__)


class AgentStopped(Exception):
    """The agent cannot go on (revoked, or refused by the hub); the message says what to do."""


@dataclass(frozen=True, slots=True, kw_only=True)
class AgentSettings:
    """Timings of the agent, in seconds."""

    backoff_base: float = 0.5
    backoff_max: float = 30.0
    lease_duration: float = 15.0
    lease_renew_period: float = 5.0
    lease_retry_period: float = 2.0
    sync: SyncSettings = SyncSettings()
    rotate: bool = True


def backoff_delay(attempt: int, *, base: float, cap: float, rng: random.Random) -> float:
    """Delay before reconnect attempt ``attempt`` (0-based): equal jitter over a doubling step."""
    step = min(cap, base * 2.0**attempt)
    return step / 2 + rng.uniform(0, step / 2)


class Agent:
    """One agent process (see the module docstring)."""

    def __init__(
        self,
        *,
        config_dir: Path,
        kube: KubeApi,
        settings: AgentSettings = AgentSettings(),
        metrics: AgentMetrics | None = None,
        identity: str | None = None,
        rng: random.Random | None = None,
        credentials_secret: tuple[str, str] | None = None,
    ) -> None:
        self.config_dir = config_dir
        self.store = (
            SecretStore(kube, *credentials_secret) if credentials_secret is not None else None
        )
        self.config, credentials = agent_config.load(config_dir)
        self.endpoint = Endpoint(
            address=self.config.hub_sync,
            ca_pem=credentials.ca_pem,
            cert_pem=credentials.cert_pem,
            key_pem=credentials.key_pem,
        )
        self.kube = kube
        self.settings = settings
        self.metrics = metrics or AgentMetrics.create()
        self.rng = rng or random.Random()
        self.identity = (
            identity or f"{socket.gethostname()}-{os.getpid()}-{self.rng.getrandbits(24):06x}"
        )
        self.elector = LeaderElector(
            kube,
            identity=self.identity,
            lease_duration=settings.lease_duration,
            renew_period=settings.lease_renew_period,
            retry_period=settings.lease_retry_period,
        )
        self.sessions = 0

    async def run(self) -> None:
        """Elect, sync while leader, stand by otherwise; until cancelled or stopped for good."""
        try:
            while True:
                log.info("agent %s waiting to lead cluster %s", self.identity, self.config.cluster)
                await self.elector.acquire()
                self.metrics.leader.set(1)
                await self._reload_credentials()
                log.info("agent %s leads cluster %s", self.identity, self.config.cluster)
                hold = asyncio.create_task(self.elector.hold(), name="lease-hold")
                work = asyncio.create_task(self._lead(), name="lead")
                try:
                    done, _ = await asyncio.wait({hold, work}, return_when=asyncio.FIRST_COMPLETED)
                finally:  # also when this task is cancelled: the children must end with it
                    for task in (hold, work):
                        task.cancel()
                    results = await asyncio.gather(hold, work, return_exceptions=True)
                self.metrics.leader.set(0)
                if work in done and isinstance(results[1], BaseException):
                    raise results[1]
                log.warning("agent %s lost the lease; standing by", self.identity)
        finally:
            self.metrics.leader.set(0)
            if self.elector.is_leader:
                with contextlib.suppress(KubeError, asyncio.CancelledError):
                    await asyncio.shield(self.elector.release())

    async def _reload_credentials(self) -> None:
        """Read the certificate again: another replica may have rotated it while this one stood
        by (it shares the config directory, or wrote the renewed one into the Secret)."""
        if self.store is not None:
            await self._adopt_stored_certificate()
        try:
            _, credentials = await asyncio.to_thread(agent_config.load, self.config_dir)
        except agent_config.ConfigError as exc:
            log.warning("keeping the certificate in memory: %s", exc)
            return
        self.endpoint = replace(
            self.endpoint,
            ca_pem=credentials.ca_pem,
            cert_pem=credentials.cert_pem,
            key_pem=credentials.key_pem,
        )

    async def _adopt_stored_certificate(self) -> None:
        assert self.store is not None
        try:
            stored = await self.store.load()
            _, current = await asyncio.to_thread(agent_config.load, self.config_dir)
        except (KubeError, SecretStoreError, agent_config.ConfigError) as exc:
            log.warning("not reading the stored certificate: %s", exc)
            return
        if stored is None or not newer(stored, current):
            return
        try:
            await asyncio.to_thread(
                agent_config.replace_certificate,
                self.config_dir,
                stored.cert_pem,
                stored.key_pem,
            )
        except ValueError as exc:
            log.warning("the certificate in %s is not usable: %s", self.store.where, exc)
            return
        log.info("took the newer certificate renewed by another replica from %s", self.store.where)

    async def _store_certificate(self, credentials: agent_config.Credentials) -> None:
        """Write a renewed certificate into the Secret, retrying with backoff; a failure is
        logged (the agent keeps running on the new certificate in its directory)."""
        assert self.store is not None
        for attempt in range(4):
            try:
                await self.store.save(credentials)
                log.info("stored the renewed certificate in %s", self.store.where)
                return
            except KubeError as exc:
                if attempt == 3:
                    log.warning(
                        "could not store the renewed certificate in %s: %s; a restarted agent "
                        "would start from the previous certificate until the next renewal",
                        self.store.where,
                        exc,
                    )
                    return
                await asyncio.sleep(backoff_delay(attempt, base=1.0, cap=8.0, rng=self.rng))

    async def _lead(self) -> None:
        rotation = asyncio.create_task(self._rotate_loop()) if self.settings.rotate else None
        try:
            await self._sync_loop()
        finally:
            if rotation is not None:
                rotation.cancel()
                await asyncio.gather(rotation, return_exceptions=True)

    async def _sync_loop(self) -> None:
        attempt = 0
        while True:
            session = Session(
                kube=self.kube,
                endpoint=self.endpoint,
                metrics=self.metrics,
                settings=self.settings.sync,
                agent_version=__version__,
                on_welcome=lambda: None,
            )
            welcomed = False

            def on_welcome() -> None:
                nonlocal welcomed
                welcomed = True

            session.on_welcome = on_welcome
            if self.sessions:
                self.metrics.reconnects.inc()
            self.sessions += 1
            try:
                await session.run()
                log.info("hub closed the stream; reconnecting")
            except SessionEnded as exc:
                if exc.reason == "Revoked":
                    raise AgentStopped(
                        f"cluster {self.config.cluster!r} was removed from the federation; "
                        "join it again with a new token (`kfed token create` on the hub)"
                    ) from exc
                log.info("%s; reconnecting", exc)
            except LinkError as exc:
                if exc.fatal:
                    raise AgentStopped(f"{exc}; join the cluster again if it was removed") from exc
                log.warning("%s", exc)
            except KubeError as exc:
                log.warning("member cluster API: %s", exc)
            except TimeoutError:
                log.warning("hub %s did not answer in time", self.endpoint.address)
            except Exception:  # a bug must not stop the agent for good: log it and reconnect
                log.exception("the Sync session failed unexpectedly; reconnecting")
            if welcomed:
                attempt = 0
            delay = backoff_delay(
                attempt,
                base=self.settings.backoff_base,
                cap=self.settings.backoff_max,
                rng=self.rng,
            )
            attempt += 1
            await asyncio.sleep(delay)

    async def _rotate_loop(self) -> None:
        """Renew the certificate once only 20-25 % of its life remains; the open stream keeps
        going, and the next connection uses the new certificate."""
        failures = 0
        while True:
            cert = pki.load_certificate(self.endpoint.cert_pem)
            due = rotation_due(
                cert.not_valid_before_utc, cert.not_valid_after_utc, jitter=self.rng.random()
            )
            wait = (due - dt.datetime.now(dt.UTC)).total_seconds()
            if failures:  # past due: retry with backoff rather than at once
                wait = backoff_delay(failures, base=1.0, cap=60.0, rng=self.rng)
            await asyncio.sleep(max(0.0, wait))
            key = pki.new_private_key()
            try:
                cert_pem, ca_pem = await renew(
                    self.endpoint, make_csr(key, cluster=self.config.cluster)
                )
            except LinkError as exc:
                failures += 1
                log.warning("certificate renewal failed (will retry): %s", exc)
                continue
            failures = 0
            key_pem = key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
            await asyncio.to_thread(
                agent_config.replace_certificate, self.config_dir, cert_pem, key_pem
            )
            self.endpoint = replace(
                self.endpoint, cert_pem=cert_pem, key_pem=key_pem, ca_pem=ca_pem
            )
            log.info("renewed the agent certificate of cluster %s", self.config.cluster)
            if self.store is not None:
                renewed = agent_config.Credentials(
                    ca_pem=ca_pem, cert_pem=cert_pem, key_pem=key_pem
                )
                await self._store_certificate(renewed)
