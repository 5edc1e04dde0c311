"""The plugin host: loads the allowed ``kfed.plugins`` entry points and calls their hooks.

Layer: ``kfed_core``, the shell around pluggy (it imports plugins and logs). The hub builds one
:class:`PluginHost` at start, passing the allow-list from its settings; nothing here makes a
host at import time, so tests build their own and register in-memory plugins. Built-in
providers (``local``) are loaded through the same entry points as anyone's.

Failures stay with the plugin that caused them: a plugin that cannot be imported, or that
implements a hook this kfed does not define, is refused and listed in :attr:`PluginHost.errors`;
a raising notification is logged and the other plugins still hear it; a provider that cannot
start raises :class:`~kfed_core.providers.ProviderError`, which degrades only the Ingresses
using it. Only two plugins offering one provider name stops :meth:`PluginHost.providers`: the
hub cannot guess which one the operator meant.

The host is not thread-safe: use it from the hub's event loop thread. Construct it before the
loop starts or in a thread, since importing plugins reads files.
"""

from __future__ import annotations

import importlib.metadata
import inspect
import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import pluggy

from kfed_core import hookspecs
from kfed_core.hookspecs import ProviderInfo, ProviderSettings
from kfed_core.providers import IngressProvider, LoadBalancerStatus, ProviderError

ENTRY_POINT_GROUP = "kfed.plugins"
log = logging.getLogger(__name__)


class EntryPointLike(Protocol):
    """What the host needs of an entry point (``importlib.metadata.EntryPoint`` has it)."""

    @property
    def name(self) -> str: ...
    @property
    def value(self) -> str: ...
    def load(self) -> Any: ...


EntryPointLoader = Callable[[str], Iterable[EntryPointLike]]


def installed_entry_points(group: str) -> list[EntryPointLike]:
    """The entry points of ``group`` in the installed distributions."""
    return list(importlib.metadata.entry_points(group=group))


class PluginError(Exception):
    """A plugin cannot be registered, or the installed plugins contradict each other."""


@dataclass(frozen=True, slots=True, kw_only=True)
class PluginFailure:
    """A plugin that was refused or whose hook raised; ``message`` says what and what to do."""

    plugin: str
    message: str


class PluginHost:
    """The plugins of one hub: loaded from entry points at construction, or registered directly.

    ``allow`` lists the entry-point names to load (the hub's settings pass it); None loads every
    installed plugin, an empty list none. ``entry_points`` is injectable for tests.
    """

    def __init__(
        self,
        *,
        allow: Sequence[str] | None,
        entry_point_group: str = ENTRY_POINT_GROUP,
        entry_points: EntryPointLoader = installed_entry_points,
    ) -> None:
        if isinstance(allow, str):
            raise TypeError("allow is a sequence of plugin names, not one string")
        self._pm = pluggy.PluginManager(hookspecs.PROJECT)
        self._pm.add_hookspecs(hookspecs)
        self._errors: list[PluginFailure] = []
        self._providers: dict[str, tuple[str, ProviderInfo]] | None = None
        found = sorted(entry_points(entry_point_group), key=lambda e: e.name)
        for name in sorted(set(allow or ()) - {e.name for e in found}):
            self._fail(
                name,
                f"plugin {name!r} is in the plugin allow-list but no installed distribution has "
                f"a {entry_point_group!r} entry point of that name; install it or remove it "
                "from the allow-list",
            )
        for entry_point in found:
            if allow is None or entry_point.name in allow:
                self._load(entry_point)

    @property
    def errors(self) -> tuple[PluginFailure, ...]:
        """Plugins refused at load and registration hooks that raised, oldest first."""
        return tuple(self._errors)

    def plugin_names(self) -> list[str]:
        """Names of the registered plugins, sorted."""
        return sorted(name for name, _ in self._pm.list_name_plugin())

    def register(self, plugin: object, *, name: str) -> None:
        """Register ``plugin`` (a module or object with ``@hookimpl`` functions) as ``name``.

        Raises :class:`PluginError`, leaving nothing registered, when the name is taken or the
        plugin implements a hook this kfed does not define, an async or wrapper implementation,
        or an unmarked ``kfed_*`` function (a forgotten ``@hookimpl``)."""
        unmarked = [
            attr
            for attr in dir(plugin)
            if attr.startswith("kfed_")
            and callable(getattr(plugin, attr, None))
            and self._pm.parse_hookimpl_opts(plugin, attr) is None
        ]
        if unmarked:
            raise PluginError(
                f"plugin {name!r} defines {', '.join(unmarked)} without @hookimpl; mark hook "
                "implementations with kfed_core.hookspecs.hookimpl (or rename the function)"
            )
        try:
            self._pm.register(plugin, name=name)
        except (ValueError, pluggy.PluginValidationError) as e:
            detail = str(e).replace("\n", "; ")  # pluggy's messages span lines; logs want one
            raise PluginError(f"plugin {name!r} could not be registered: {detail}") from e
        try:
            self._check(plugin, name)
        except PluginError:
            self._pm.unregister(plugin)
            raise
        self._providers = None

    def unregister(self, name: str) -> None:
        """Remove the plugin registered as ``name`` (absent is fine)."""
        if self._pm.get_plugin(name) is not None:
            self._pm.unregister(name=name)
            self._providers = None

    def providers(self) -> dict[str, ProviderInfo]:
        """Every registered plugin's providers by name. Raises :class:`PluginError` when two
        plugins offer the same name; a plugin whose hook raises is listed in :attr:`errors`."""
        return {name: info for name, (_, info) in sorted(self._provider_table().items())}

    def _provider_table(self) -> dict[str, tuple[str, ProviderInfo]]:
        if self._providers is None:
            found: dict[str, tuple[str, ProviderInfo]] = {}
            results, failures = self._call("kfed_register_providers", {})
            for plugin, result in results:
                if not isinstance(result, list | tuple) or not all(
                    isinstance(info, ProviderInfo) for info in result
                ):
                    message = (
                        f"plugin {plugin!r}: kfed_register_providers returned {result!r}, not a "
                        "list of kfed_core.hookspecs.ProviderInfo; its providers are left out"
                    )
                    log.error("%s", message)
                    failures.append(PluginFailure(plugin=plugin, message=message))
                    continue
                for info in result:
                    if info.name in found:
                        raise PluginError(
                            f"provider {info.name!r} is offered by plugins {found[info.name][0]!r}"
                            f" and {plugin!r}; leave one out of the hub's plugin allow-list"
                        )
                    found[info.name] = (plugin, info)
            self._errors.extend(failures)  # once: the table is cached until plugins change
            self._providers = found
        return self._providers

    def make_provider(self, name: str, settings: ProviderSettings) -> IngressProvider:
        """Start provider ``name`` with ``settings``. Raises ``ProviderError`` (not retryable
        unless the factory says so) when no plugin offers ``name`` or its factory fails."""
        table = self._provider_table()
        if name not in table:
            known = ", ".join(sorted(table)) or "none"
            refused = ", ".join(sorted({f.plugin for f in self._errors}))
            raise ProviderError(
                f"no provider named {name!r}; known providers: {known}"
                + (f"; plugins with problems: {refused} (see the hub's log)" if refused else "")
                + "; install the plugin that offers it and list it in the hub's plugin allow-list",
                retryable=False,
            )
        plugin, info = table[name]
        try:
            return info.factory(settings)
        except ProviderError:
            raise
        except Exception as e:
            raise ProviderError(
                f"provider {name!r} (plugin {plugin!r}) could not start as {settings.name!r}: "
                f"{type(e).__name__}: {e}; check its options in the hub's settings",
                retryable=False,
            ) from e

    def notify_ingress_changed(
        self, ingress: str, status: LoadBalancerStatus
    ) -> list[PluginFailure]:
        """Call every ``kfed_ingress_changed``; returns the plugins that raised (also logged)."""
        return self._notify("kfed_ingress_changed", {"ingress": ingress, "status": status})

    def notify_cluster_status_changed(
        self, cluster: str, status: str, message: str
    ) -> list[PluginFailure]:
        """Call every ``kfed_cluster_status_changed``; returns the plugins that raised."""
        kwargs = {"cluster": cluster, "status": str(status), "message": message}
        return self._notify("kfed_cluster_status_changed", kwargs)

    def _load(self, entry_point: EntryPointLike) -> None:
        name = entry_point.name
        try:
            plugin = entry_point.load()
        except Exception as e:
            self._fail(
                name,
                f"plugin {name!r} ({entry_point.value}) could not be imported: "
                f"{type(e).__name__}: {e}; fix or uninstall it, or leave it out of the hub's "
                "plugin allow-list",
                exc=e,
            )
            return
        try:
            self.register(plugin, name=name)
        except PluginError as e:
            self._fail(name, str(e))

    def _check(self, plugin: object, name: str) -> None:
        impls = [
            impl
            for caller in self._pm.get_hookcallers(plugin) or []
            for impl in caller.get_hookimpls()
            if impl.plugin is plugin
        ]
        try:
            self._pm.check_pending()
        except pluggy.PluginValidationError as e:
            unknown = sorted(
                c.name for c in self._pm.get_hookcallers(plugin) or [] if c.spec is None
            )
            hooks = vars(self._pm.hook).items()
            known = ", ".join(sorted(n for n, c in hooks if getattr(c, "spec", None) is not None))
            raise PluginError(
                f"plugin {name!r} implements {', '.join(unknown)}, which this kfed does not "
                f"define (it knows {known}); use a release of the plugin made for this kfed, "
                "or mark the implementation @hookimpl(optionalhook=True)"
            ) from e
        for impl in impls:
            function = impl.function
            if impl.wrapper or impl.hookwrapper:
                problem = "is a hook wrapper; kfed hooks take plain implementations"
            elif inspect.iscoroutinefunction(function) or inspect.isasyncgenfunction(function):
                problem = (
                    "is async, so it would never run; make it a plain function that starts a task"
                )
            else:
                continue
            raise PluginError(f"plugin {name!r}: {function.__name__} {problem}")

    def _call(
        self, hook: str, kwargs: Mapping[str, object]
    ) -> tuple[list[tuple[str, object]], list[PluginFailure]]:
        # Each implementation is called on its own, in pluggy's order, so that one raising
        # plugin cannot keep the others from being called (pluggy's own call stops at the first).
        results: list[tuple[str, object]] = []
        failures: list[PluginFailure] = []
        for impl in reversed(getattr(self._pm.hook, hook).get_hookimpls()):
            try:
                result = impl.function(*(kwargs[arg] for arg in impl.argnames))
            except Exception as e:
                message = f"plugin {impl.plugin_name!r} failed in {hook}: {type(e).__name__}: {e}"
                log.error("%s", message, exc_info=e)
                failures.append(PluginFailure(plugin=impl.plugin_name, message=message))
            else:
                results.append((impl.plugin_name, result))
        return results, failures

    def _notify(self, hook: str, kwargs: Mapping[str, object]) -> list[PluginFailure]:
        return self._call(hook, kwargs)[1]

    def _fail(self, plugin: str, message: str, *, exc: BaseException | None = None) -> None:
        log.error("%s", message, exc_info=exc)
        self._errors.append(PluginFailure(plugin=plugin, message=message))
