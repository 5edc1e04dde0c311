"""The errors of the fake GCE server, in GCE's own JSON error shape.

Layer: pure part of :mod:`kfed_gcp.fake` (values only). GCE answers an error with an HTTP status
and ``{"error": {"code", "message", "errors": [{"message", "domain", "reason"}]}}``; the SDK
reads ``errors[].reason`` from it, and so does the provider (through its client). The helpers
below make the errors the real service makes for the cases the fake models, with its wording.
"""

from __future__ import annotations

from typing import Any

DEFAULT_REASONS = {
    400: "invalid",
    401: "required",
    403: "forbidden",
    404: "notFound",
    409: "alreadyExists",
    412: "conditionNotMet",
    429: "rateLimitExceeded",
    500: "internalError",
    502: "backendError",
    503: "backendError",
}
DEFAULT_MESSAGES = {
    429: "Rate Limit Exceeded",
    500: "Internal Error",
    502: "Bad Gateway",
    503: "Backend Error",
}


class FakeGceError(Exception):
    """An error the fake answers with: HTTP ``status``, GCE ``reason`` and ``message``."""

    def __init__(self, status: int, reason: str, message: str) -> None:
        super().__init__(f"{status} {reason}: {message}")
        self.status = status
        self.reason = reason
        self.message = message

    def body(self) -> dict[str, Any]:
        """GCE's error body for this error."""
        return {
            "error": {
                "code": self.status,
                "message": self.message,
                "errors": [{"message": self.message, "domain": "global", "reason": self.reason}],
            }
        }

    def operation_error(self) -> dict[str, Any]:
        """The ``error`` of an Operation that failed with this error."""
        return {"errors": [{"code": self.reason, "message": self.message}]}


def injected(status: int, reason: str = "") -> FakeGceError:
    """An injected failure with GCE's usual reason and message for ``status``."""
    reason = reason or DEFAULT_REASONS.get(status, "backendError")
    return FakeGceError(status, reason, DEFAULT_MESSAGES.get(status, f"Injected {reason}"))


def not_found(link: str) -> FakeGceError:
    return FakeGceError(404, "notFound", f"The resource '{link}' was not found")


def already_exists(link: str) -> FakeGceError:
    return FakeGceError(409, "alreadyExists", f"The resource '{link}' already exists")


def in_use(kind: str, link: str, user: str) -> FakeGceError:
    return FakeGceError(
        400,
        "resourceInUseByAnotherResource",
        f"The {kind} resource '{link}' is already being used by '{user}'",
    )


def invalid(field: str, value: object, why: str) -> FakeGceError:
    return FakeGceError(400, "invalid", f"Invalid value for field '{field}': '{value}'. {why}")


def stale_fingerprint() -> FakeGceError:
    return FakeGceError(
        412,
        "conditionNotMet",
        "Supplied fingerprint does not match current fingerprint.",
    )
