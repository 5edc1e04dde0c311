"""What an AWS error means to kfed: retry it, treat it as absent, or tell an operator.

Layer: ``kfed_aws`` pure helpers (no I/O, no SDK types, no logging). :mod:`kfed_aws.aws_client`
turns every botocore failure into an :class:`AwsApiError` (code, HTTP status, operation);
this module classifies it and builds the :class:`~kfed_core.providers.ProviderError` the hub
sees. It must not import boto3 or botocore: the classification is by AWS's error codes, which
are part of the wire protocol, so it is testable without the SDK.
"""

from __future__ import annotations

from kfed_core.providers import ProviderError

THROTTLING_CODES = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "TooManyRequestsException",
        "RequestLimitExceeded",
        "RequestThrottled",
        "RequestThrottledException",
        "SlowDown",
        "PriorRequestNotComplete",  # Route 53: an earlier change to the zone is still applying
        "ProvisionedThroughputExceededException",
        "BandwidthLimitExceeded",
        "EC2ThrottledException",
    }
)
"""Codes AWS uses for "slow down": always worth another try after a pause."""

TRANSIENT_CODES = frozenset(
    {
        "InternalServiceErrorException",  # Global Accelerator's 500
        "InternalFailure",
        "InternalError",
        "ServiceUnavailable",
        "ServiceUnavailableException",
        "TransactionInProgressException",  # Global Accelerator: another change is being applied
        "RequestTimeout",
        "RequestTimeoutException",
        "ConnectionError",  # kfed's code for "no answer" (connection refused, reset, timeout)
    }
)
"""Codes for failures that pass on their own."""

NOT_FOUND_CODES = frozenset(
    {
        "AcceleratorNotFoundException",
        "ListenerNotFoundException",
        "EndpointGroupNotFoundException",
        "LoadBalancerNotFound",
        "NoSuchHostedZone",
    }
)
"""Codes meaning the resource is gone: success when deleting it."""

_HINTS = {
    "AccessDeniedException": "grant the provider's credentials the IAM permissions in "
    "docs/providers/aws.md",
    "AccessDenied": "grant the provider's credentials the IAM permissions in docs/providers/aws.md",
    "UnrecognizedClientException": "check the credentials file and profile in the provider's "
    "options",
    "InvalidClientTokenId": "check the credentials file and profile in the provider's options",
    "ExpiredToken": "renew the credentials the provider's options point at",
    "ExpiredTokenException": "renew the credentials the provider's options point at",
    "SignatureDoesNotMatch": "check the secret key in the credentials file",
    "NoCredentials": "set sharedCredentialsFile/profile in the provider's options, or give the "
    "hub an IAM role",
    "LimitExceededException": "raise the Global Accelerator quota or delete accelerators that "
    "are no longer used",
    "NoSuchHostedZone": "check the hostedZoneId option",
    "InvalidChangeBatch": "check the hostname option: it must lie inside the hosted zone",
    "InvalidArgumentException": "this is a kfed bug or an unsupported setting; report it with "
    "this message",
}


class AwsApiError(Exception):
    """AWS answered ``operation`` with an error, or could not be reached (``status`` 0).

    ``code`` is AWS's error code (``ThrottlingException``, ``AcceleratorNotFoundException``,
    ...), or ``ConnectionError`` / ``NoCredentials`` / ``InvalidParameter`` for failures the
    SDK raises before or instead of an answer.
    """

    def __init__(self, *, operation: str, code: str, status: int, message: str) -> None:
        super().__init__(f"{operation}: {code} ({status or 'no answer'}): {message}")
        self.operation = operation
        self.code = code
        self.status = status
        self.detail = message

    @property
    def retryable(self) -> bool:
        """True when trying again later may succeed (throttling, 5xx, connection trouble)."""
        return is_retryable(self.code, self.status)

    @property
    def not_found(self) -> bool:
        """True when the resource the call named does not exist."""
        return self.code in NOT_FOUND_CODES or self.status == 404


def is_retryable(code: str, status: int) -> bool:
    """Whether an error with this AWS code and HTTP status is worth retrying."""
    return code in THROTTLING_CODES or code in TRANSIENT_CODES or status == 429 or status >= 500


def is_throttling(code: str, status: int) -> bool:
    """Whether AWS asked kfed to slow down."""
    return code in THROTTLING_CODES or status == 429


def provider_error(doing: str, error: AwsApiError) -> ProviderError:
    """The ProviderError for ``error`` met while ``doing`` (which names the resource)."""
    if error.retryable:
        what = "throttled" if is_throttling(error.code, error.status) else "failed for now"
        hint = f"AWS {what}; kfed gave up after its retries and will try again on its next pass"
    else:
        hint = _HINTS.get(error.code, "fix the cause AWS names, then kfed will try again")
    return ProviderError(
        f"{doing}: AWS {error.operation} answered {error.code}"
        f"{f' (HTTP {error.status})' if error.status else ''}: {error.detail}; {hint}",
        retryable=error.retryable,
    )
