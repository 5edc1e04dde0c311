"""The hooks through which kfed finds and informs its plugins (pluggy, project ``kfed``).

Layer: ``kfed_core`` (contract). This module declares hooks and the values they carry; it calls
nothing, loads nothing and keeps no state. :class:`kfed_core.plugins.PluginHost` loads plugins
and calls these hooks; ``plugins/README.md`` is the plugin author's guide (a test fails when a
hook here is missing from it).

Hooks are few on purpose. Registration hands the hub *objects* (:class:`ProviderInfo`, whose
factory makes an :class:`~kfed_core.providers.IngressProvider`), and the hub calls the chosen
provider's methods directly: a pluggy hook broadcasts to every plugin, which suits registration
and notifications but not "converge this Ingress with *its* provider". The other hooks are
notifications for observers (DNS export, alerting, audit).

Compatibility: a hook's arguments only ever grow. An implementation may take fewer arguments
than its spec (pluggy passes only those it names), so plugins keep working when a hook gains
one. A plugin implementing a hook this kfed does not define is refused at load, unless the
implementation is marked ``@hookimpl(optionalhook=True)``. Every hook is called synchronously
on the hub's event loop: implementations are plain functions that return quickly.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pluggy

from kfed_core.providers import IngressProvider, LoadBalancerStatus

PROJECT = "kfed"
"""The pluggy project name: markers set ``kfed_spec`` / ``kfed_impl`` on functions."""

hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)
"""Mark each hook implementation in a plugin with ``@hookimpl``."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ProviderSettings:
    """What the hub hands a provider factory when it starts a provider.

    ``name`` is the name the started provider goes by (its ``IngressProvider.name``): usually
    the name it was registered under, but a hub may start one provider twice under two names
    (say two GCP projects). ``options`` come from the hub's settings file for that provider
    (project, region, credentials file path, never a secret's value): plain YAML values, mostly
    strings, but numbers, booleans, lists and mappings are passed as they are. ``data_dir`` is
    a directory the provider may keep files in, or None when the hub runs without one.
    """

    name: str
    options: Mapping[str, Any] = field(default_factory=dict)
    data_dir: Path | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ProviderInfo:
    """One global load balancer provider that a plugin offers.

    ``name`` is what a federated Ingress chooses it by (``ingressClassName``, an annotation, or
    the hub's default): lowercase, unique among the installed plugins. ``description`` is one
    line for people (``kfed`` lists providers with it). ``factory`` makes a provider from its
    settings; it must not do network I/O or block (connect lazily, on the first ``ensure``) and
    raises :class:`~kfed_core.providers.ProviderError` when the options are wrong.
    """

    name: str
    description: str
    factory: Callable[[ProviderSettings], IngressProvider]


@hookspec
def kfed_register_providers() -> list[ProviderInfo]:  # type: ignore[empty-body]
    """Return the global load balancer providers this plugin offers (an empty list for none).

    Called when the hub starts, after every allowed plugin is loaded, and again whenever a plugin
    is registered or unregistered. Each provider's ``factory`` is called later, once per provider
    the hub's settings start, so this hook only describes and must do no I/O. Two plugins
    offering the same provider name is an error that names both plugins; a plugin whose hook
    raises is reported and its providers are missing, the hub runs on.
    """


@hookspec
def kfed_ingress_changed(ingress: str, status: LoadBalancerStatus) -> None:
    """React to a new state of a federated Ingress's global load balancer.

    Called after a provider converged an Ingress and its status differs from the last one the
    hub reported: the address appeared or changed, it became ready, or it degraded (``ready``
    False, ``message`` says why). Called once more with an empty status after the Ingress's load
    balancer was deleted. ``ingress`` is the federated Ingress's key (``namespace/name``). Use it
    to export DNS records, raise alerts or keep an audit trail. Hand slow work to your own task
    or thread: the hub's event loop waits for this call. A raising implementation is logged and
    the other plugins are still called.
    """


@hookspec
def kfed_cluster_status_changed(cluster: str, status: str, message: str) -> None:
    """React to a member cluster's health changing.

    Called when the hub judges a cluster to have moved between ``Ready``, ``NotReady`` and
    ``Offline`` (``message`` says why, for people). Providers need not implement it: the hub
    drains an unhealthy cluster from every global load balancer through ``ensure`` anyway. Use
    it for alerts, dashboards or pre-emptive DNS changes. Hand slow work to your own task or
    thread; a raising implementation is logged and the other plugins are still called.
    """
