"""The providers the hub has started, made on first use through the plugin host.

Layer: ``kfed_hub.ingress`` shell. A provider is started when the first Ingress chooses it (so
a hub without cloud Ingresses never touches a cloud SDK) and closed when the hub stops. A
provider that cannot start is remembered with its error, which degrades only the Ingresses that
chose it; the error is retried when the controller retries those Ingresses.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Protocol

from prometheus_client import CollectorRegistry
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector

from kfed_core.hookspecs import ProviderInfo, ProviderSettings
from kfed_core.providers import IngressProvider, LoadBalancerStatus, ProviderError
from kfed_hub.ingress.settings import IngressSettings

log = logging.getLogger(__name__)


class ProviderSource(Protocol):
    """What the controller needs of :class:`kfed_core.plugins.PluginHost`."""

    def providers(self) -> dict[str, ProviderInfo]: ...

    def make_provider(self, name: str, settings: ProviderSettings) -> IngressProvider: ...

    def notify_ingress_changed(self, ingress: str, status: LoadBalancerStatus) -> object: ...


class ProviderPool:
    """Started providers by the name Ingresses choose them by."""

    def __init__(
        self, source: ProviderSource, settings: IngressSettings, data_dir: Path | None
    ) -> None:
        self.source = source
        self.settings = settings
        self.data_dir = data_dir
        self._started: dict[str, IngressProvider] = {}

    def known(self) -> list[str]:
        """Names an Ingress may choose: configured ones and every registered provider."""
        return sorted(set(self.settings.providers) | set(self._registered()))

    def _registered(self) -> Mapping[str, ProviderInfo]:
        try:
            return self.source.providers()
        except Exception as exc:  # two plugins claiming one name: no provider is trusted
            log.error("the installed plugins' providers cannot be listed: %s", exc)
            return {}

    def started(self) -> dict[str, IngressProvider]:
        return dict(self._started)

    def get(self, name: str) -> IngressProvider:
        """The started provider ``name``, starting it now if needed; raises ProviderError
        (``retryable=False`` when no such provider exists or its options are wrong)."""
        provider = self._started.get(name)
        if provider is not None:
            return provider
        config = self.settings.config_for(name)
        registered = self._registered()
        if config.plugin not in registered:
            choices = ", ".join(self.known()) or "none are installed"
            raise ProviderError(
                f"no ingress provider {config.plugin!r} is registered (choose one of: {choices};"
                " a plugin must be installed and allowed by plugins.allow in the hub's settings)",
                retryable=False,
            )
        data = self.data_dir / "providers" / name if self.data_dir is not None else None
        settings = ProviderSettings(name=name, options=dict(config.options), data_dir=data)
        provider = self.source.make_provider(config.plugin, settings)
        self._started[name] = provider
        log.info("started ingress provider %s (%s)", name, config.plugin)
        return provider

    async def close(self) -> None:
        """Close every started provider (never deleting cloud resources)."""
        started, self._started = self._started, {}
        for name, provider in started.items():
            try:
                await provider.close()
            except Exception:
                log.exception("closing ingress provider %s failed", name)


class ProviderMetricsCollector(Collector):
    """Serves the metrics of started providers that keep their own registry (a ``registry``
    attribute holding a ``CollectorRegistry``, as the local provider does) on the hub's."""

    def __init__(self, pool: ProviderPool) -> None:
        self.pool = pool

    def collect(self) -> Iterator[Metric]:
        for provider in self.pool.started().values():
            registry = getattr(provider, "registry", None)
            if isinstance(registry, CollectorRegistry):
                yield from registry.collect()

    def describe(self) -> Iterator[Metric]:
        return iter(())  # names are not known until providers start: never checked for clashes
