"""The agent's seam to a member cluster's Kubernetes API: the :class:`KubeApi` Protocol, errors.

Layer: ``kfed_agent`` interfaces. The agent's logic (apply, report, lease, the main loop) depends
on this Protocol only; :class:`kfed_agent.kube.RealKubeApi` implements it over HTTPS with the
official client and :class:`kfed_agent.fake_kube.FakeKubeApi` in memory for tests. This module
must not import ``kubernetes`` nor do any I/O.

Kubernetes objects cross the seam as plain dicts (JSON as the API server speaks it), never as the
client's model classes. Cluster-scoped objects use the namespace ``""``.

Errors (one tree)::

    KubeError                 the API answered with a failure Status, or could not be asked
    ├── KubeUnreachable       no HTTP answer: connection refused, reset, timed out (status 0)
    └── UnknownKind           the cluster does not serve that apiVersion/kind (status 404)
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

Manifest = dict[str, Any]
"""A Kubernetes object as plain JSON data."""

WatchEvent = tuple[str, Manifest]
"""``(type, object)`` where type is ``ADDED``, ``MODIFIED`` or ``DELETED``."""


class KubeError(Exception):
    """A Kubernetes API call failed.

    ``status`` is the HTTP status code (0 when no answer came), ``reason`` the Kubernetes Status
    reason (``NotFound``, ``Conflict``, ``Invalid``, ``Forbidden``, ``AlreadyExists``, ...,
    ``Unreachable`` when no answer came) and ``message`` a sentence for people that names the
    call and the object.
    """

    def __init__(
        self,
        message: str,
        *,
        status: int = 0,
        reason: str = "",
        details: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.reason = reason
        self.details: Mapping[str, Any] = dict(details or {})

    def __str__(self) -> str:
        return self.message

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(status={self.status}, reason={self.reason!r}, {self.message!r})"
        )


class KubeUnreachable(KubeError):
    """The API server gave no answer (refused, reset or timed out): retry later."""

    def __init__(self, message: str) -> None:
        super().__init__(message, status=0, reason="Unreachable")


class UnknownKind(KubeError):
    """The cluster serves no resource for this apiVersion and kind (a missing CRD, a typo)."""

    def __init__(self, api_version: str, kind: str) -> None:
        super().__init__(
            f"kind {kind} ({api_version}) is not served by this cluster: install its "
            "CustomResourceDefinition first, or check the apiVersion and kind",
            status=404,
            reason="NotFound",
        )
        self.api_version = api_version
        self.kind = kind


@dataclass(frozen=True, slots=True, kw_only=True)
class ApiResource:
    """One resource the API server offers, from discovery (``group`` is "" for the core group)."""

    group: str
    version: str
    kind: str
    plural: str
    namespaced: bool
    verbs: frozenset[str]

    @property
    def api_version(self) -> str:
        """``v1`` for the core group, ``<group>/<version>`` otherwise."""
        return f"{self.group}/{self.version}" if self.group else self.version


class KubeApi(Protocol):
    """What the agent asks of its member cluster. Every method is a coroutine that never blocks
    the event loop; failures raise :class:`KubeError`."""

    async def server_version(self) -> str:
        """The API server's ``gitVersion`` (e.g. ``v1.37.0``)."""
        ...

    async def resource_for(self, api_version: str, kind: str) -> ApiResource:
        """The resource serving ``kind`` in ``api_version``; :class:`UnknownKind` if none.

        Discovery is cached and refreshed once on a miss, so CRDs created later are found.
        """
        ...

    async def apply(
        self, manifest: Mapping[str, Any], *, field_manager: str, force: bool = True
    ) -> Manifest:
        """Server-side apply ``manifest`` as ``field_manager``; returns the object as stored."""
        ...

    async def get(self, api_version: str, kind: str, namespace: str, name: str) -> Manifest | None:
        """The object, or None if it does not exist."""
        ...

    async def create(self, manifest: Mapping[str, Any]) -> Manifest:
        """Create the object (``AlreadyExists`` if it exists); returns it as stored."""
        ...

    async def replace(self, manifest: Mapping[str, Any]) -> Manifest:
        """Replace the object (PUT). With ``metadata.resourceVersion`` set, a stale version fails
        with reason ``Conflict``: the optimistic concurrency leader election relies on."""
        ...

    async def replace_status(self, manifest: Mapping[str, Any]) -> Manifest:
        """Replace the object's status through its ``status`` subresource (PUT .../status):
        only ``.status`` changes, spec and metadata are kept as stored. ``NotFound`` when the
        object is absent; with ``metadata.resourceVersion`` set, a stale version fails with
        reason ``Conflict`` (re-read and try again)."""
        ...

    async def delete(self, api_version: str, kind: str, namespace: str, name: str) -> bool:
        """Delete with background propagation; False if it was already absent (or its kind is
        no longer served, so no such object can exist)."""
        ...

    async def list_managed(self, label_selector: str) -> list[Manifest]:
        """Every object matching ``label_selector`` over every listable resource (preferred
        versions, all namespaces), each with ``apiVersion`` and ``kind`` filled in."""
        ...

    async def list_nodes(self) -> list[Manifest]:
        """Every Node."""
        ...

    async def list_pods(self) -> list[Manifest]:
        """Every Pod in every namespace."""
        ...

    def watch(
        self,
        api_version: str,
        kind: str,
        *,
        label_selector: str = "",
        resource_version: str | None = None,
    ) -> AsyncGenerator[WatchEvent, None]:
        """Changes of ``kind`` objects matching the selector, in all namespaces.

        Without ``resource_version`` the current objects come first as ``ADDED``; with one, the
        changes after it. The iterator resumes by itself when the server ends a stream, and
        re-lists when the version is too old (410): then current objects come as ``ADDED`` or
        ``MODIFIED`` and objects it had reported that vanished as ``DELETED``. It raises
        :class:`KubeError` when the API cannot be reached (restart it from the last object's
        ``metadata.resourceVersion``), ends on cancellation, and ends when the API is closed.
        It is an async generator (an ``AsyncIterator`` with ``aclose``): close it with
        ``contextlib.aclosing`` when you stop early.
        """
        ...

    async def close(self) -> None:
        """Release connections; open watches end."""
        ...
