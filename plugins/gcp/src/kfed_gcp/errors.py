"""GCE's answers that are not results, and how they become kfed ``ProviderError``s.

Layer: pure values and translation (no I/O, no SDK). :mod:`kfed_gcp.gce_client` turns the SDK's
exceptions (and failed operations) into :class:`GceError`, so everything above the client
speaks one typed error; :func:`provider_error` is the one place that turns a ``GceError`` into
the message an operator reads: what failed, on which resource, what to do.

The exception tree::

    GceError          HTTP status + GCE reason (notFound, alreadyExists, rateLimitExceeded, ...)
    ProviderError     (kfed_core) what the hub sees; ``retryable`` from retry.is_retryable
"""

from __future__ import annotations

from kfed_core.providers import ProviderError


class GceError(Exception):
    """A GCE API error: ``status`` is the HTTP status (0 when no answer came), ``reason`` the
    first ``errors[].reason`` of GCE's error body (empty when it had none)."""

    def __init__(self, status: int, reason: str, message: str) -> None:
        super().__init__(f"{status} {reason}: {message}" if reason else f"{status}: {message}")
        self.status = status
        self.reason = reason
        self.message = message

    @property
    def not_found(self) -> bool:
        return self.status == 404

    @property
    def already_exists(self) -> bool:
        return self.status == 409 or self.reason == "alreadyExists"


def _advice(error: GceError) -> str:
    if error.status in (401, 403) and error.reason not in ("rateLimitExceeded", "quotaExceeded"):
        return (
            "check the provider's credentials (credentials_file or Application Default "
            "Credentials) and that the account may manage load balancers in the project "
            "(roles/compute.loadBalancerAdmin and roles/compute.securityAdmin)"
        )
    if error.reason == "quotaExceeded":
        return "raise the project's quota in the Google Cloud console, or free some"
    if error.status == 429 or error.reason in ("rateLimitExceeded", "userRateLimitExceeded"):
        return "GCE is throttling: kfed backs off and tries again; lower the hub's call rate"
    if error.status >= 500 or error.status == 0:
        return "GCE failed or did not answer: kfed tries again; see status.cloud.google.com"
    if error.reason == "resourceInUseByAnotherResource":
        return "another resource still uses it: kfed tries again after deleting its users"
    if error.reason == "conditionNotMet":
        return "it changed while kfed updated it: kfed reads it again and retries"
    return "check the provider's options (project, network, zone_map) and the Ingress"


def provider_error(doing: str, error: GceError, *, retryable: bool) -> ProviderError:
    """``doing`` says what failed where (``"creating backend service bs-x in project p"``)."""
    return ProviderError(f"{doing}: GCE answered {error}; {_advice(error)}", retryable=retryable)
