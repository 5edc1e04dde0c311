"""In-memory stand-ins for the API's seams: :class:`FakeClusterDirectory`, :class:`FakeBootstrap`,
:class:`FakePlacements`.

Layer: ``kfed_hub.api`` test support (no I/O). They follow the contracts of
:class:`~kfed_hub.ports.ClusterDirectory`, :class:`~kfed_hub.ports.Bootstrap` and
:class:`~kfed_hub.ports.Placements` closely enough to test the API and the CLI without a
registry, a CA, a reconciler or a Sync service: a removed cluster is gone, an unknown cluster is
:class:`~kfed_hub.store.protocol.NotFound`, labels change as asked, a token works once and
expires, a taken name is refused. They sign nothing: a grant's certificate is a placeholder.
The hub service never uses them.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable, Iterable, Mapping

from kfed_core.keys import ResourceKey
from kfed_hub.ports import (
    ClusterInfo,
    ClusterStatus,
    ClusterView,
    IssuedToken,
    JoinGrant,
    JoinRefusal,
    JoinRefused,
    ObjectPlacement,
)
from kfed_hub.store.protocol import NotFound


def _utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def cluster_view(name: str, **fields: object) -> ClusterView:
    """A Ready cluster joined an hour ago, with ``fields`` overriding any attribute."""
    base = ClusterView(
        name=name,
        status=ClusterStatus.READY,
        joined_at=_utc_now() - dt.timedelta(hours=1),
        connected=True,
    )
    return dataclasses.replace(base, **fields)  # type: ignore[arg-type]


class FakeClusterDirectory:
    """Clusters held in a dict; ``removed`` lists the names removed, ``label_changes`` the
    label changes asked for, in order."""

    def __init__(self, clusters: Iterable[ClusterView] = ()) -> None:
        self.views = {view.name: view for view in clusters}
        self.removed: list[str] = []
        self.label_changes: list[tuple[str, dict[str, str | None]]] = []

    def add(self, view: ClusterView) -> None:
        self.views[view.name] = view

    def list_clusters(self) -> list[ClusterView]:
        return [self.views[name] for name in sorted(self.views)]

    def get_cluster(self, name: str) -> ClusterView | None:
        return self.views.get(name)

    async def remove_cluster(self, name: str) -> ClusterView:
        view = self.views.pop(name, None)
        if view is None:
            raise NotFound(f"cluster {name!r} does not exist")
        self.removed.append(name)
        return view

    async def set_cluster_labels(self, name: str, changes: Mapping[str, str | None]) -> ClusterView:
        view = self.views.get(name)
        if view is None:
            raise NotFound(f"cluster {name!r} is not joined")
        labels = dict(view.labels)
        for label, value in changes.items():
            if value is None:
                labels.pop(label, None)
            else:
                labels[label] = value
        self.label_changes.append((name, dict(changes)))
        self.views[name] = dataclasses.replace(view, labels=labels)
        return self.views[name]


class FakePlacements:
    """The reconciler's decisions as a dict the test fills (``placed[key] = ObjectPlacement``)."""

    def __init__(self, placed: Mapping[ResourceKey, ObjectPlacement] | None = None) -> None:
        self.placed: dict[ResourceKey, ObjectPlacement] = dict(placed or {})

    def placement(self, key: ResourceKey) -> ObjectPlacement | None:
        return self.placed.get(key)


class FakeBootstrap:
    """Tokens ``t{n:05d}.{secret}`` made in order; joins check them like the real one."""

    def __init__(
        self,
        *,
        info: ClusterInfo | None = None,
        clock: Callable[[], dt.datetime] = _utc_now,
        taken_names: Iterable[str] = (),
    ) -> None:
        self.info = info or ClusterInfo(
            ca_pem=b"-----BEGIN CERTIFICATE-----\nfake\n-----END CERTIFICATE-----\n",
            ca_hash="sha256:" + "0" * 64,
            api_address="127.0.0.1:7443",
            sync_address="127.0.0.1:7444",
        )
        self._clock = clock
        self._tokens: dict[str, tuple[dt.datetime, str]] = {}  # token -> (expiry, used by)
        self.taken = set(taken_names)
        self.descriptions: list[str] = []

    def cluster_info(self) -> ClusterInfo:
        return self.info

    async def create_token(self, *, ttl: dt.timedelta, description: str = "") -> IssuedToken:
        token = f"t{len(self._tokens):05d}.{'s' * 16}"
        expires_at = self._clock() + ttl
        self._tokens[token] = (expires_at, "")
        self.descriptions.append(description)
        command = (
            f"kfed join NAME --hub {self.info.api_address} --token {token} "
            f"--ca-hash {self.info.ca_hash} --kubeconfig KUBECONFIG --out DIR"
        )
        return IssuedToken(token=token, expires_at=expires_at, join_command=command)

    async def join(self, *, name: str, token: str, csr_pem: bytes) -> JoinGrant:
        if b"CERTIFICATE REQUEST" not in csr_pem:
            raise JoinRefused(JoinRefusal.INVALID, "the CSR is not a PEM certificate request")
        known = self._tokens.get(token)
        if known is None:
            raise JoinRefused(JoinRefusal.TOKEN_UNKNOWN, "the token is not known to this hub")
        expires_at, used_by = known
        if used_by:
            raise JoinRefused(JoinRefusal.TOKEN_USED, "the token was already used")
        if self._clock() >= expires_at:
            raise JoinRefused(JoinRefusal.TOKEN_EXPIRED, "the token has expired")
        if name in self.taken:
            raise JoinRefused(JoinRefusal.NAME_TAKEN, f"a cluster named {name!r} already joined")
        self._tokens[token] = (expires_at, name)
        self.taken.add(name)
        return JoinGrant(
            cluster=name,
            certificate_pem=f"fake certificate for {name}\n".encode(),
            ca_pem=self.info.ca_pem,
            sync_address=self.info.sync_address,
        )
