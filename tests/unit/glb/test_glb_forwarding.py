"""Headers a reverse proxy forwards, adds and drops (RFC 9110 section 7.6)."""

from __future__ import annotations

from multidict import CIMultiDict, CIMultiDictProxy

from kfed_local.glb.forwarding import request_headers, response_headers


def headers(*pairs: tuple[str, str]) -> CIMultiDictProxy[str]:
    return CIMultiDictProxy(CIMultiDict(pairs))


def test_request_keeps_end_to_end_headers_and_drops_hop_by_hop_ones() -> None:
    out = request_headers(
        headers(
            ("Host", "shop.example"),
            ("Accept", "text/html"),
            ("Connection", "keep-alive, X-Secret-Hop"),
            ("X-Secret-Hop", "1"),
            ("Keep-Alive", "timeout=5"),
            ("Transfer-Encoding", "chunked"),
            ("Upgrade", "h2c"),
            ("Proxy-Authorization", "Basic abc"),
            ("Expect", "100-continue"),
            ("X-Client-Region", "asia-east1"),
            ("Cookie", "a=1"),
        ),
        peer="10.0.0.7",
        host="shop.example",
    )
    assert out["Host"] == "shop.example"
    assert out["Accept"] == "text/html"
    assert out["Cookie"] == "a=1"
    for dropped in (
        "Connection",
        "X-Secret-Hop",
        "Keep-Alive",
        "Transfer-Encoding",
        "Upgrade",
        "Proxy-Authorization",
        "Expect",
        "X-Client-Region",
    ):
        assert dropped not in out


def test_request_gets_forwarding_headers_appended_to_what_the_client_sent() -> None:
    out = request_headers(
        headers(("X-Forwarded-For", "1.2.3.4"), ("Via", "1.0 corp"), ("X-Forwarded-Host", "evil")),
        peer="10.0.0.7",
        host="shop.example",
    )
    assert out["X-Forwarded-For"] == "1.2.3.4, 10.0.0.7"
    assert out["Via"] == "1.0 corp, 1.1 kfed-glb"
    assert out["X-Forwarded-Host"] == "shop.example"  # the edge says what it saw
    assert out["X-Forwarded-Proto"] == "http"


def test_response_keeps_duplicate_headers_and_names_the_backend() -> None:
    out = response_headers(
        headers(
            ("Set-Cookie", "a=1"),
            ("Set-Cookie", "b=2"),
            ("Content-Length", "12"),
            ("Connection", "close"),
            ("Transfer-Encoding", "chunked"),
        ),
        cluster="gce-asia-east1-a",
    )
    assert out.getall("Set-Cookie") == ["a=1", "b=2"]
    assert out["Content-Length"] == "12"
    assert "Connection" not in out and "Transfer-Encoding" not in out
    assert out["X-Kfed-Backend"] == "gce-asia-east1-a"
    assert out["Via"] == "1.1 kfed-glb"
