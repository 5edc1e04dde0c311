"""Who may use the API (from the verified certificate), durations, and Status bodies."""

from __future__ import annotations

import datetime as dt

import pytest

from kfed_hub.api.app import authenticate
from kfed_hub.api.bootstrap import parse_duration
from kfed_hub.api.errors import ApiError, Cause, Reason, invalid, status_body


def cert(*uris: str) -> dict[str, object]:
    return {"subject": ((("commonName", "x"),),), "subjectAltName": tuple(("URI", u) for u in uris)}


def test_an_admin_certificate_names_the_operator() -> None:
    assert authenticate(cert("spiffe://kfed/admin/alice")) == "alice"


@pytest.mark.parametrize("peercert", [None, {}])
def test_no_certificate_is_unauthorized(peercert: object) -> None:
    with pytest.raises(ApiError) as caught:
        authenticate(peercert)
    assert caught.value.reason is Reason.UNAUTHORIZED and caught.value.code == 401


@pytest.mark.parametrize(
    "uris",
    [
        ("spiffe://kfed/cluster/east",),
        ("spiffe://kfed/admin/",),
        ("spiffe://kfed/administrator",),
        (),
    ],
)
def test_other_certificates_are_forbidden(uris: tuple[str, ...]) -> None:
    with pytest.raises(ApiError) as caught:
        authenticate(cert(*uris))
    assert caught.value.code == 403


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("30m", 1800), ("1h", 3600), ("24h", 86400), ("1h30m", 5400), ("90s", 90), ("1.5h", 5400)],
)
def test_durations(text: str, seconds: int) -> None:
    assert parse_duration(text) == dt.timedelta(seconds=seconds)


@pytest.mark.parametrize("text", ["", "1", "h", "1d", "0m", "1 h", "-1h"])
def test_bad_durations_say_what_is_accepted(text: str) -> None:
    with pytest.raises(ValueError, match=r"30m, 1h or 24h|longer than zero"):
        parse_duration(text)


def test_status_bodies_carry_the_causes() -> None:
    error = invalid("ConfigMap", "x", [Cause(reason="FieldValueInvalid", message="m", field="f")])
    body = status_body(error)
    assert body["code"] == 422 and body["reason"] == "Invalid"
    assert body["details"] == {
        "name": "x",
        "kind": "ConfigMap",
        "causes": [{"reason": "FieldValueInvalid", "message": "m", "field": "f"}],
    }
