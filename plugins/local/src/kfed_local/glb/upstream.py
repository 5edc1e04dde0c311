"""One exchange with one backend: send a client's request upstream, relay the answer back.

Layer: I/O shell of the global load balancer, used by :mod:`kfed_local.glb.proxy` for each
attempt. The request goes out with its method, path and query exactly as received (still
percent-encoded), the headers of :func:`kfed_local.glb.forwarding.request_headers`, and its body
streamed from the client's connection. The answer comes back with its status, reason, headers
(:func:`~kfed_local.glb.forwarding.response_headers`) and body: a small one with a
Content-Length in one write, anything else streamed chunk by chunk.

Failures before the answer's head arrived raise :class:`UpstreamFailed`, saying whether nothing
was sent (so a retry elsewhere is always safe). Once the head went to the client, a backend that
breaks off its body gets the client's connection cut, so a truncated answer never looks
complete. Routing, retries and metrics are the caller's.
"""

from __future__ import annotations

from collections.abc import Callable

import aiohttp
from aiohttp import web
from yarl import URL

from kfed_local.glb import forwarding
from kfed_local.glb.settings import ProxyConfig

_CHUNK = 64 * 1024
_SMALL = 64 * 1024  # answers up to this size (with a Content-Length) leave in one write
# aiohttp's client adds these unless told not to; a proxy passes on only what the client sent.
_NO_AUTO_HEADERS = ("Accept", "Accept-Encoding", "User-Agent", "Content-Type")


class UpstreamFailed(Exception):
    """The backend failed before its answer started; ``kind`` is connect, timeout, disconnect
    or body; ``nothing_sent`` is True when the request never left (a retry is always safe)."""

    def __init__(self, kind: str, message: str, *, nothing_sent: bool) -> None:
        super().__init__(message)
        self.kind = kind
        self.nothing_sent = nothing_sent


async def send(
    session: aiohttp.ClientSession,
    request: web.BaseRequest,
    *,
    cluster: str,
    address: str,
    config: ProxyConfig,
) -> aiohttp.ClientResponse:
    """Send ``request`` to ``address`` and wait for the answer's head."""
    where = f"backend {cluster} ({address})"
    try:
        return await session.request(
            request.method,
            URL(f"http://{address}{request.rel_url.raw_path_qs}", encoded=True),
            headers=forwarding.request_headers(
                request.headers, peer=request.remote, host=request.headers.get("Host")
            ),
            data=request.content if request.body_exists else None,
            allow_redirects=False,
            skip_auto_headers=_NO_AUTO_HEADERS,
            timeout=aiohttp.ClientTimeout(
                total=None, sock_connect=config.connect_timeout, sock_read=config.read_timeout
            ),
        )
    except (aiohttp.ClientConnectorError, aiohttp.ConnectionTimeoutError) as exc:
        message = f"cannot connect to {where}: {exc}"
        raise UpstreamFailed("connect", message, nothing_sent=True) from exc
    except TimeoutError as exc:
        message = f"{where} did not answer within {config.read_timeout:g} s"
        raise UpstreamFailed("timeout", message, nothing_sent=False) from exc
    except aiohttp.ClientError as exc:
        message = f"{where} failed: {type(exc).__name__}: {exc}"
        raise UpstreamFailed("disconnect", message, nothing_sent=False) from exc


async def relay(
    request: web.BaseRequest,
    answer: aiohttp.ClientResponse,
    *,
    cluster: str,
    on_broken: Callable[[BaseException], None],
) -> web.StreamResponse:
    """The client's response for the backend's ``answer`` (already sent, if streamed)."""
    headers = forwarding.response_headers(answer.headers, cluster=cluster)
    length = answer.content_length
    if length is not None and length <= _SMALL:
        # Head and body together: a system call and a loop turn fewer per request than
        # streaming, and most answers are small.
        try:
            body = await answer.read()
        except (aiohttp.ClientError, TimeoutError) as exc:
            message = f"backend {cluster} broke off its answer: {type(exc).__name__}"
            raise UpstreamFailed("body", message, nothing_sent=False) from exc
        return web.Response(status=answer.status, reason=answer.reason, body=body, headers=headers)
    response = web.StreamResponse(status=answer.status, reason=answer.reason)
    response.headers.extend(headers)
    try:
        await response.prepare(request)
        async for chunk in answer.content.iter_chunked(_CHUNK):
            await response.write(chunk)
        await response.write_eof()
    except ConnectionError:
        pass  # the client left; aiohttp closes its connection
    except (aiohttp.ClientError, TimeoutError) as exc:
        on_broken(exc)
        if request.transport is not None:
            request.transport.abort()
    return response
