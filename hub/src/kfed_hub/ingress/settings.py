"""The hub's plugin and federated-ingress settings, and how they are read from its settings file.

Layer: ``kfed_hub.ingress``, pure (parsing plain data; the CLI reads the file). The file is YAML::

    plugins:
      allow: [local, gcp]          # kfed.plugins entry points to load (default: kfed's own four)
    ingress:
      defaultProvider: local       # for Ingresses that choose none
      resyncSeconds: 30            # re-converge every load balancer this often (drift repair)
      sweepSeconds: 300            # delete owned load balancers no Ingress wants this often
      providers:
        local:
          options: {trust_client_region_header: true}
        gcp-prod:                  # a second name for a provider, with its own options
          plugin: gcp
          options: {project: my-project}

A provider that is registered but not listed starts under its own name with no options when an
Ingress chooses it. Options are the provider's (its docs list them); never put a secret's value
here: providers take credential file paths or environment variable names.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

BUILTIN_PLUGINS = ("local", "gcp", "aws", "openstack")
"""The entry points kfed ships; a third party's plugin loads only when the allow-list names it."""


class SettingsError(ValueError):
    """A settings file that cannot be used; the message names the field."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ProviderConfig:
    """One provider the hub may start: its name, the registered provider it runs, options."""

    name: str
    plugin: str
    options: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True, kw_only=True)
class IngressSettings:
    """How the federated Ingress controller runs (defaults suit a real fleet; tests shorten)."""

    default_provider: str = "local"
    providers: Mapping[str, ProviderConfig] = field(default_factory=dict)
    resync_interval: float = 30.0
    sweep_interval: float = 300.0
    retry_initial: float = 1.0
    retry_max: float = 60.0
    call_timeout: float = 300.0
    """Seconds one provider call may take before it counts as failed (cloud load balancers
    take minutes to create; the local one milliseconds)."""

    def config_for(self, name: str) -> ProviderConfig:
        """The configured provider ``name``, or the registered provider of that name."""
        return self.providers.get(name) or ProviderConfig(name=name, plugin=name)


@dataclass(frozen=True, slots=True, kw_only=True)
class PluginSettings:
    """Which ``kfed.plugins`` entry points the hub loads."""

    allow: tuple[str, ...] = BUILTIN_PLUGINS


def _mapping(value: Any, where: str) -> Mapping[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise SettingsError(f"{where} must be a mapping, not {type(value).__name__}")
    return value


def _seconds(section: Mapping[str, Any], key: str, default: float, where: str) -> float:
    value = section.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        raise SettingsError(f"{where}.{key} must be a positive number of seconds, not {value!r}")
    return float(value)


def _check_keys(section: Mapping[str, Any], known: set[str], where: str) -> None:
    unknown = sorted(set(section) - known)
    if unknown:
        raise SettingsError(
            f"{where}: unknown field(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}"
        )


def parse_settings(
    data: Any, *, source: str = "settings"
) -> tuple[PluginSettings, IngressSettings]:
    """The plugin and ingress settings in ``data`` (the parsed YAML document)."""
    root = _mapping(data, source)
    _check_keys(root, {"plugins", "ingress"}, source)
    plugins = _mapping(root.get("plugins"), f"{source}.plugins")
    _check_keys(plugins, {"allow"}, f"{source}.plugins")
    allow = plugins.get("allow", list(BUILTIN_PLUGINS))
    if not isinstance(allow, list) or not all(isinstance(a, str) and a for a in allow):
        raise SettingsError(f"{source}.plugins.allow must be a list of entry point names")
    ingress = _mapping(root.get("ingress"), f"{source}.ingress")
    where = f"{source}.ingress"
    _check_keys(ingress, {"defaultProvider", "resyncSeconds", "sweepSeconds", "providers"}, where)
    default = ingress.get("defaultProvider", "local")
    if not isinstance(default, str) or not default:
        raise SettingsError(f"{where}.defaultProvider must be a provider name")
    providers: dict[str, ProviderConfig] = {}
    for name, body in _mapping(ingress.get("providers"), f"{where}.providers").items():
        at = f"{where}.providers.{name}"
        section = _mapping(body, at)
        _check_keys(section, {"plugin", "options"}, at)
        plugin = section.get("plugin", name)
        if not isinstance(plugin, str) or not plugin:
            raise SettingsError(f"{at}.plugin must be a registered provider's name")
        options = _mapping(section.get("options"), f"{at}.options")
        providers[str(name)] = ProviderConfig(name=str(name), plugin=plugin, options=dict(options))
    return PluginSettings(allow=tuple(allow)), IngressSettings(
        default_provider=default,
        providers=providers,
        resync_interval=_seconds(ingress, "resyncSeconds", 30.0, where),
        sweep_interval=_seconds(ingress, "sweepSeconds", 300.0, where),
    )
