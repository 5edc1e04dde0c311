"""The hub's end of one Sync stream, without I/O: what to send next and what the agent holds.

Layer: ``kfed_core.sync`` (pure: no clock, no randomness, no I/O, no logging). One
:class:`HubSession` belongs to one stream task; it is not shared between threads or tasks.

Memory stays bounded whatever the agent's speed (ARCHITECTURE.md, rule 5): the session keeps only
the versions the agent acknowledged, the keys that may need sending (a set, so a key that changes
a thousand times while the agent is slow is still one entry) and the single batch in flight.
Manifests are never copied into the session; they are read from the shared desired index when a
batch is built, so the newest version of each key always wins.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

# Kinds that others live in or depend on go first, so that a namespace and its objects created
# together never land in separate batches in the wrong order.
_FIRST_KINDS = ("Namespace", "CustomResourceDefinition")
REMOVAL_MARK = "-"  # the version recorded for a failed removal


@dataclass(frozen=True, slots=True)
class DesiredEntry:
    """One object of a cluster's desired state: its key, content version and JSON manifest."""

    key: str
    version: str
    manifest: bytes


class DesiredView(Protocol):
    """Read access to one cluster's desired state (the hub's desired index)."""

    def get(self, key: str) -> DesiredEntry | None: ...

    def keys(self) -> Iterable[str]: ...


@dataclass(frozen=True, slots=True, kw_only=True)
class Batch:
    """A batch to send: upserts (entries) and removals (keys), under one nonce."""

    nonce: str
    upserts: tuple[DesiredEntry, ...]
    removals: tuple[str, ...]

    def __len__(self) -> int:
        return len(self.upserts) + len(self.removals)


@dataclass(frozen=True, slots=True, kw_only=True)
class ResultItem:
    """One per-resource result as the agent reported it (outcome: applied, failed or removed)."""

    key: str
    version: str
    outcome: str
    reason: str = ""
    message: str = ""


APPLIED = "applied"
FAILED = "failed"
REMOVED = "removed"


@dataclass(frozen=True, slots=True, kw_only=True)
class Digest:
    """What a batch result changed: ``stale`` results were ignored; the rest are the accepted
    items, plus keys the agent did not answer for (they will be sent again)."""

    stale: bool
    applied: tuple[ResultItem, ...] = ()
    removed: tuple[ResultItem, ...] = ()
    failed: tuple[ResultItem, ...] = ()
    unanswered: tuple[str, ...] = ()
    unexpected: tuple[str, ...] = ()  # results for keys that were not in the batch (ignored)


def _order(key: str) -> tuple[int, str]:
    kind = key.split("/", 2)[1] if key.count("/") >= 2 else ""
    return (0 if kind in _FIRST_KINDS else 1, key)


@dataclass(slots=True)
class HubSession:
    """State of one stream, hub side.

    ``known`` is what the agent said it holds in Hello. :meth:`mark` records keys whose desired
    state changed; :meth:`next_batch` builds the next batch when none is in flight;
    :meth:`on_result` digests the agent's answer.
    """

    known: dict[str, str]
    max_items: int = 500
    max_bytes: int = 4 * 1024 * 1024
    _dirty: set[str] = field(default_factory=set)
    _failed: dict[str, str] = field(default_factory=dict)
    _inflight: Batch | None = None

    @property
    def in_flight(self) -> Batch | None:
        """The batch awaiting its result, if any."""
        return self._inflight

    @property
    def pending(self) -> int:
        """How many keys may still need sending (an upper bound)."""
        return len(self._dirty)

    def start(self, desired: DesiredView) -> None:
        """Consider every desired key and every key the agent holds (called once, after Hello)."""
        self._dirty.update(desired.keys())
        self._dirty.update(self.known)

    def mark(self, keys: Iterable[str]) -> None:
        """Desired state changed for these keys (added, changed or removed)."""
        self._dirty.update(keys)

    def in_sync(self, desired: DesiredView) -> bool:
        """True when nothing is in flight and no key needs sending."""
        return self._inflight is None and not self._dirty

    def next_batch(self, desired: DesiredView, nonce: str) -> Batch | None:
        """The next batch to send, or None if one is in flight or nothing differs.

        Keys whose desired version the agent already holds, and versions that failed before, are
        dropped from the dirty set without being sent (no resend without a change).
        """
        if self._inflight is not None or not self._dirty:
            return None
        upserts: list[DesiredEntry] = []
        removals: list[str] = []
        size = 0
        examined: list[str] = []
        for key in sorted(self._dirty, key=_order):
            if len(upserts) + len(removals) >= self.max_items:
                break
            entry = desired.get(key)
            held = self.known.get(key)
            if entry is None:
                if held is not None and self._failed.get(key) != REMOVAL_MARK:
                    removals.append(key)
            elif entry.version != held and self._failed.get(key) != entry.version:
                if upserts and size + len(entry.manifest) > self.max_bytes:
                    break
                upserts.append(entry)
                size += len(entry.manifest)
            examined.append(key)
        self._dirty.difference_update(examined)
        if not upserts and not removals:
            return None
        self._inflight = Batch(nonce=nonce, upserts=tuple(upserts), removals=tuple(removals))
        return self._inflight

    def on_result(self, nonce: str, results: Sequence[ResultItem]) -> Digest:
        """Digest the agent's answer to a batch; answers to anything but the batch in flight are
        stale and change nothing."""
        batch = self._inflight
        if batch is None or nonce != batch.nonce:
            return Digest(stale=True)
        expected_upserts = {entry.key: entry.version for entry in batch.upserts}
        expected_removals = set(batch.removals)
        applied: list[ResultItem] = []
        removed: list[ResultItem] = []
        failed: list[ResultItem] = []
        unexpected: list[str] = []
        answered: set[str] = set()
        for item in results:
            if item.key in expected_upserts and item.outcome in (APPLIED, FAILED):
                sent = expected_upserts[item.key]
                if item.outcome == APPLIED:
                    self.known[item.key] = sent
                    self._failed.pop(item.key, None)
                    applied.append(item)
                else:
                    self._failed[item.key] = sent
                    failed.append(item)
            elif item.key in expected_removals and item.outcome in (REMOVED, FAILED):
                if item.outcome == REMOVED:
                    self.known.pop(item.key, None)
                    self._failed.pop(item.key, None)
                    removed.append(item)
                else:
                    self._failed[item.key] = REMOVAL_MARK
                    failed.append(item)
            else:
                unexpected.append(item.key)
                continue
            answered.add(item.key)
        unanswered = [k for k in (*expected_upserts, *expected_removals) if k not in answered]
        self._dirty.update(unanswered)
        self._inflight = None
        return Digest(
            stale=False,
            applied=tuple(applied),
            removed=tuple(removed),
            failed=tuple(failed),
            unanswered=tuple(unanswered),
            unexpected=tuple(unexpected),
        )

    def retry_failed(self, should_retry: Callable[[str], bool]) -> list[str]:
        """Forget failures of the keys ``should_retry`` picks (something they depended on now
        exists, e.g. the CRD of a custom resource) so they are sent again; returns those keys."""
        keys = [key for key in self._failed if should_retry(key)]
        for key in keys:
            del self._failed[key]
        self._dirty.update(keys)
        return keys

    def abandon_in_flight(self) -> None:
        """Forget the batch in flight (its result will never come); its keys are examined again."""
        if self._inflight is not None:
            self._dirty.update(entry.key for entry in self._inflight.upserts)
            self._dirty.update(self._inflight.removals)
            self._inflight = None


def held_versions(known: Mapping[str, str]) -> dict[str, str]:
    """A private copy of an agent's Hello map (the session mutates what it is given)."""
    return dict(known)
