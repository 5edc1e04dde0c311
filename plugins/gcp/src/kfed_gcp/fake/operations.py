"""GCE Operations in the fake: what every mutation answers, DONE at once or after some polls.

Layer: part of the in-memory core of :mod:`kfed_gcp.fake` (no HTTP). GCE answers a mutation
with an Operation (``status`` PENDING/RUNNING/DONE, ``error`` when it failed after being
accepted) that clients get or wait on at ``.../global/operations/{name}`` or
``.../zones/{zone}/operations/{name}``. The log also remembers ``requestId``s: GCE answers a
repeated id with the first operation instead of acting twice. Not thread-safe by itself: the
owning :class:`~kfed_gcp.fake.model.GceModel` holds its lock around every call.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from kfed_gcp.fake import errors
from kfed_gcp.fake.errors import FakeGceError

BASE = "https://www.googleapis.com/compute/v1/"


def now() -> str:
    """A GCE-style timestamp."""
    return datetime.now(UTC).isoformat(timespec="milliseconds")


class OperationLog:
    """The operations of one project; ``polls`` is how many get/wait calls one stays RUNNING."""

    def __init__(self, project: str, *, polls: int = 0) -> None:
        self.project = project
        self.polls = polls
        self._operations: dict[str, dict[str, Any]] = {}
        self._pending: dict[str, int] = {}
        self._request_ids: dict[str, str] = {}
        self._ids = itertools.count(7_000_000_001)

    def once(
        self, request_id: str, op_type: str, scope: str, target: str, act: Callable[[], object]
    ) -> dict[str, Any]:
        """Run ``act`` and answer its operation, unless ``request_id`` was seen already."""
        if request_id and request_id in self._request_ids:
            return dict(self._operations[self._request_ids[request_id]])
        act()
        operation = self.record(op_type, scope, target)
        if request_id:
            self._request_ids[request_id] = operation["name"]
        return operation

    def record(
        self, op_type: str, scope: str, target: str, error: FakeGceError | None = None
    ) -> dict[str, Any]:
        """A new operation on ``target`` (a self link); one carrying ``error`` is DONE."""
        name = f"operation-{next(self._ids)}"
        pending = self.polls if error is None else 0
        operation: dict[str, Any] = {
            "kind": "compute#operation",
            "id": str(next(self._ids)),
            "name": name,
            "operationType": op_type,
            "targetLink": target,
            "status": "RUNNING" if pending else "DONE",
            "progress": 0 if pending else 100,
            "insertTime": now(),
            "selfLink": BASE + f"projects/{self.project}/{scope}/operations/{name}",
        }
        if scope != "global":
            operation["zone"] = BASE + f"projects/{self.project}/{scope}"
        if error is not None:
            operation["error"] = error.operation_error()
            operation["httpErrorStatusCode"] = error.status
            operation["httpErrorMessage"] = error.message.upper()
        self._operations[name] = operation
        self._pending[name] = pending
        return dict(operation)

    def poll(self, scope: str, name: str) -> dict[str, Any]:
        """Get (or wait on) an operation: a pending one moves one poll closer to DONE."""
        operation = self._operations.get(name)
        if operation is None or not operation["selfLink"].endswith(f"/{scope}/operations/{name}"):
            raise errors.not_found(f"projects/{self.project}/{scope}/operations/{name}")
        if self._pending[name] > 0:
            self._pending[name] -= 1
            if self._pending[name] == 0:
                operation.update(status="DONE", progress=100, endTime=now())
        return dict(operation)
