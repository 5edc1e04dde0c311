"""Shared pieces of the fake OpenStack services: replies, errors, query filters, pending counts.

Layer: ``kfed_openstack.fake`` (test and demo support), pure: no I/O, no clock. The services
(:mod:`.octavia`, :mod:`.designate`, :mod:`.keystone`) answer a parsed request with a
:class:`Reply` or raise :class:`ApiError` carrying the body the real service would send;
:mod:`.server` turns both into HTTP. "Pending" is counted in reads, not seconds, so a test
decides how long a load balancer stays PENDING_* without waiting on a clock.
"""

from __future__ import annotations

import fnmatch
import itertools
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

Json = dict[str, Any]
Query = Mapping[str, Sequence[str]]


@dataclass(frozen=True, slots=True)
class Reply:
    """An HTTP answer: status, JSON body (None for no body), extra headers."""

    status: int
    body: object = None
    headers: Mapping[str, str] = field(default_factory=dict)


class ApiError(Exception):
    """An error answer in the service's own JSON shape."""

    def __init__(self, status: int, body: Json, headers: Mapping[str, str] | None = None):
        super().__init__(f"{status} {body}")
        self.status = status
        self.body = body
        self.headers = dict(headers or {})


class Ids:
    """Deterministic UUID-shaped ids (a fake needs no randomness to be realistic)."""

    def __init__(self, prefix: int) -> None:
        self._prefix = prefix
        self._count = itertools.count(1)

    def next(self) -> str:
        n = next(self._count)
        return f"{self._prefix:08x}-0000-4000-8000-{n:012x}"


def first(query: Query, key: str) -> str | None:
    values = query.get(key)
    return values[0] if values else None


def tag_list(query: Query, key: str) -> list[str]:
    """Tags from ``key``: comma-separated, possibly repeated (both forms are accepted)."""
    return [t for raw in query.get(key, ()) for t in raw.split(",") if t]


def matches_tags(tags: Iterable[str], query: Query) -> bool:
    """Octavia's tag filters: tags (all), tags-any, not-tags, not-tags-any."""
    have = set(tags)
    if not set(tag_list(query, "tags")) <= have:
        return False
    any_of = tag_list(query, "tags-any")
    if any_of and not have & set(any_of):
        return False
    not_all = tag_list(query, "not-tags")
    if not_all and set(not_all) <= have:
        return False
    return not have & set(tag_list(query, "not-tags-any"))


def matches_fields(
    view: Json, query: Query, *, skip: Iterable[str] = (), wildcard: bool = False
) -> bool:
    """Exact (or, for Designate, ``*`` wildcard) matches of plain query fields on ``view``."""
    ignored = {"limit", "marker", "sort_key", "sort_dir", "page_reverse", "fields", *skip}
    for key, values in query.items():
        if key in ignored or key.startswith(("tags", "not-tags")) or key not in view:
            continue
        actual = view[key]
        text = str(actual).lower() if isinstance(actual, bool) else str(actual)
        for wanted in values:
            if wildcard and "*" in wanted:
                if not fnmatch.fnmatchcase(text, wanted):
                    return False
            elif text != wanted:
                return False
    return True


class Pending:
    """How many more reads a resource stays in a pending state.

    A change sets the count; each read that shows the resource uses one up, and the read after
    the last one sees it settled (``settle`` returns True once).
    """

    def __init__(self) -> None:
        self._left: dict[str, int] = {}

    def start(self, key: str, reads: int) -> None:
        self._left[key] = max(0, reads)

    def pending(self, key: str) -> bool:
        return key in self._left

    def read(self, key: str) -> bool:
        """Count one read of ``key``; True when it settles now (was pending, is no more)."""
        if key not in self._left:
            return False
        if self._left[key] > 0:
            self._left[key] -= 1
            return False
        del self._left[key]
        return True

    def drop(self, key: str) -> None:
        self._left.pop(key, None)
