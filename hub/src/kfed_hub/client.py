"""A small blocking client of the hub's HTTPS API, for the ``kfed`` CLI.

Layer: ``kfed_hub`` client side; stdlib ``http.client`` and ``ssl`` only (the CLI starts fast and
needs no event loop). mTLS with the admin certificate of :mod:`kfed_hub.cliconfig`; the server is
verified against the hub CA, host name included.

Errors: :class:`HubError` when the hub cannot be reached (the message names the address and what
to check); its subclass :class:`HubApiError` when the hub answered with a Kubernetes ``Status``.
"""

from __future__ import annotations

import http.client
import json
import ssl
import threading
import urllib.parse
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from kfed_core import tls
from kfed_hub.cliconfig import CliConfig, load_config

JSON = "application/json"


class HubError(Exception):
    """The hub could not be reached or answered something that is not the API's."""


class HubApiError(HubError):
    """The hub refused a request with a ``Status`` (``reason`` like ``NotFound``)."""

    def __init__(self, status: int, reason: str, message: str, details: Mapping[str, Any]) -> None:
        super().__init__(message)
        self.status = status
        self.reason = reason
        self.message = message
        self.details = details


class HubClient:
    """Requests to one hub over one kept-alive connection; close it when done.

    Safe to share between threads (callers on an event loop use ``asyncio.to_thread``): requests
    take turns on the connection, so two threads never open two connections and lose one.
    """

    def __init__(self, config: CliConfig, *, timeout: float = 30.0) -> None:
        parsed = urllib.parse.urlsplit(config.server)
        if parsed.scheme != "https" or not parsed.hostname:
            raise HubError(f"the hub address {config.server!r} must look like https://host:port")
        self.server = config.server
        self._host = parsed.hostname
        self._port = parsed.port or 443
        self._timeout = timeout
        try:
            self._context = tls.client_ssl_context(
                ca_pem=config.ca_pem, cert_pem=config.cert_pem, key_pem=config.key_pem
            )
        except ValueError as exc:
            raise HubError(f"the kfed config's credentials are unusable: {exc}") from None
        self._connection: http.client.HTTPSConnection | None = None
        self._lock = threading.RLock()

    @classmethod
    def from_config(cls, path: str | None = None) -> HubClient:
        """A client from the CLI config (default path, or ``$KFED_CONFIG``)."""
        return cls(load_config(Path(path) if path else None))

    def close(self) -> None:
        with self._lock:
            if self._connection is not None:
                self._connection.close()
                self._connection = None

    def __enter__(self) -> HubClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _connect(self) -> http.client.HTTPSConnection:
        if self._connection is None:
            self._connection = http.client.HTTPSConnection(
                self._host, self._port, timeout=self._timeout, context=self._context
            )
        return self._connection

    def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        query: Mapping[str, str] | None = None,
        content_type: str = JSON,
    ) -> Any:
        """Send a request and return the parsed JSON answer; raises :class:`HubApiError` for a
        Status error and :class:`HubError` when the hub cannot be reached."""
        target = path + ("?" + urllib.parse.urlencode(query) if query else "")
        payload = None if body is None else json.dumps(body).encode()
        headers = {"Accept": JSON}
        if payload is not None:
            headers["Content-Type"] = content_type
        with self._lock:
            status, data = self._exchange(method, target, payload, headers)
        text = data.decode("utf-8", errors="replace")
        parsed: Any = None
        if text.strip():
            try:
                parsed = json.loads(text)
            except json.JSONDecodeError:
                parsed = None
        if status >= 400:
            raise _api_error(status, parsed, text)
        if parsed is None and text.strip():
            raise HubError(f"the hub at {self.server} answered {method} {path} with non-JSON data")
        return parsed

    def _exchange(
        self, method: str, target: str, payload: bytes | None, headers: dict[str, str]
    ) -> tuple[int, bytes]:
        for attempt in (1, 2):
            reused = self._connection is not None
            connection = self._connect()
            try:
                connection.request(method, target, body=payload, headers=headers)
                response = connection.getresponse()
                return response.status, response.read()
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
                self.close()
                if reused and attempt == 1:
                    continue  # the hub closed an idle kept-alive connection: try a fresh one
                raise HubError(
                    f"the kfed hub at {self.server} closed the connection; check that the "
                    "server in your kfed config is the hub's API address"
                ) from None
            except ssl.SSLError as exc:
                self.close()
                detail = getattr(exc, "verify_message", None) or exc.reason or exc
                raise HubError(
                    f"TLS with the kfed hub at {self.server} failed ({detail}); check "
                    "that your kfed config came from this hub (`kfed hub serve` writes it)"
                ) from None
            except ConnectionRefusedError:
                self.close()
                raise HubError(
                    f"cannot connect to the kfed hub at {self.server}: connection refused; is "
                    "`kfed hub serve` running there?"
                ) from None
            except TimeoutError:
                self.close()
                raise HubError(
                    f"the kfed hub at {self.server} did not answer within {self._timeout:g}s"
                ) from None
            except OSError as exc:
                self.close()
                raise HubError(
                    f"cannot reach the kfed hub at {self.server}: {exc.strerror or exc}"
                ) from None
        raise AssertionError("unreachable")  # pragma: no cover


def _api_error(status: int, parsed: Any, text: str) -> HubApiError:
    if isinstance(parsed, dict) and parsed.get("kind") == "Status":
        return HubApiError(
            status,
            str(parsed.get("reason") or ""),
            str(parsed.get("message") or f"the hub answered {status}"),
            parsed.get("details") or {},
        )
    snippet = " ".join(text.split())[:200]
    return HubApiError(status, "", f"the hub answered {status}: {snippet or 'no details'}", {})
