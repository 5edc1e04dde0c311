"""AWS errors are classified by code and status into retry, absent, or operator action."""

from __future__ import annotations

import pytest

from kfed_aws.errors import AwsApiError, is_retryable, provider_error


def error(code: str, status: int = 400) -> AwsApiError:
    return AwsApiError(operation="CreateAccelerator", code=code, status=status, message="m")


@pytest.mark.parametrize(
    ("code", "status"),
    [
        ("ThrottlingException", 400),
        ("Throttling", 400),
        ("PriorRequestNotComplete", 400),
        ("InternalServiceErrorException", 500),
        ("Anything", 503),
        ("Anything", 429),
        ("TransactionInProgressException", 400),
        ("ConnectionError", 0),
    ],
)
def test_throttling_5xx_and_transient_errors_are_retryable(code: str, status: int) -> None:
    assert is_retryable(code, status)
    assert error(code, status).retryable


@pytest.mark.parametrize(
    "code",
    [
        "AccessDeniedException",
        "InvalidArgumentException",
        "LimitExceededException",
        "NoCredentials",
    ],
)
def test_errors_an_operator_must_fix_are_not_retryable(code: str) -> None:
    assert not error(code).retryable


def test_not_found_codes_are_recognised() -> None:
    assert error("AcceleratorNotFoundException").not_found
    assert error("EndpointGroupNotFoundException").not_found
    assert not error("AcceleratorNotDisabledException").not_found


def test_provider_error_says_what_where_and_what_to_do() -> None:
    denied = provider_error(
        "load balancer web: creating its accelerator", error("AccessDeniedException")
    )
    assert not denied.retryable
    text = str(denied)
    assert "load balancer web: creating its accelerator" in text
    assert "CreateAccelerator answered AccessDeniedException (HTTP 400)" in text
    assert "IAM" in text
    throttled = provider_error("listing accelerators", error("ThrottlingException"))
    assert throttled.retryable and "throttled" in str(throttled)
