"""Which headers a reverse proxy passes on, adds and drops, in each direction.

Layer: pure helpers of :mod:`kfed_local.glb.proxy` (headers in, headers out; no I/O). Follows
RFC 9110 section 7.6: hop-by-hop headers (``Connection`` and every header it names,
``Keep-Alive``, ``Transfer-Encoding``, ``TE``, ``Trailer``, ``Upgrade``, ``Proxy-*``) belong to
one connection and are never forwarded; every other header passes unchanged, duplicates
(``Set-Cookie``) included. The proxy adds ``Via`` both ways, ``X-Forwarded-For``,
``X-Forwarded-Host`` and ``X-Forwarded-Proto`` towards the backend, and ``X-Kfed-Backend``
towards the client.

The global address is the edge: ``X-Forwarded-Host`` and ``X-Forwarded-Proto`` are overwritten
with what this proxy saw, and the peer address is appended to whatever ``X-Forwarded-For`` the
client sent (its earlier entries are the client's claims, not facts).
"""

from __future__ import annotations

from collections.abc import Iterable

from multidict import CIMultiDict, CIMultiDictProxy

VIA = "1.1 kfed-glb"
BACKEND_HEADER = "X-Kfed-Backend"

_HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "proxy-connection",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
    }
)
# Also not forwarded upstream: the client's Expect (the proxy answers 100-continue itself) and
# the routing hint, which is for this proxy only.
_REQUEST_ONLY = frozenset({"expect", "x-client-region"})


def _connection_tokens(headers: CIMultiDictProxy[str] | CIMultiDict[str]) -> set[str]:
    tokens: set[str] = set()
    for value in headers.getall("Connection", ()):
        tokens.update(t.strip().lower() for t in value.split(",") if t.strip())
    return tokens


def _end_to_end(
    headers: CIMultiDictProxy[str] | CIMultiDict[str], extra: Iterable[str] = ()
) -> CIMultiDict[str]:
    dropped = _HOP_BY_HOP | _connection_tokens(headers) | set(extra)
    return CIMultiDict((k, v) for k, v in headers.items() if k.lower() not in dropped)


def _append(existing: str | None, value: str) -> str:
    return f"{existing}, {value}" if existing else value


def request_headers(
    headers: CIMultiDictProxy[str], *, peer: str | None, host: str | None
) -> CIMultiDict[str]:
    """The headers sent to the backend for a client's request."""
    out = _end_to_end(headers, _REQUEST_ONLY)
    if peer:
        forwarded_for = ", ".join(out.getall("X-Forwarded-For", ()))
        out["X-Forwarded-For"] = _append(forwarded_for, peer)
    if host:
        out["X-Forwarded-Host"] = host
    out["X-Forwarded-Proto"] = "http"
    out["Via"] = _append(", ".join(out.getall("Via", ())), VIA)
    return out


def response_headers(headers: CIMultiDictProxy[str], *, cluster: str) -> CIMultiDict[str]:
    """The headers returned to the client for a backend's answer."""
    out = _end_to_end(headers)
    out["Via"] = _append(", ".join(out.getall("Via", ())), VIA)
    out[BACKEND_HEADER] = cluster
    return out
