"""The simulator's control API: faults and status of a running ``kfed sim up``, over mTLS.

Layer: I/O shell of the fleet. The server listens on ``127.A.B.254`` with its own CA and accepts
only clients holding the control certificate, which travels in the kubeconfig's ``kfed.io/sim``
extension (next to the clusters' admin credentials, so whoever may administer the clusters may
also break them). :class:`ControlClient` is what ``kfed sim fault`` uses.

    GET  /v1/clusters                      every cluster's address, place and faults
    POST /v1/faults {"scope": "cluster"|"zone"|"region"|"node", "name": ..., "state": "down"|"up",
                     "kind": "down"|"unreachable"|"api-server"}
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import ssl
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import aiohttp
from aiohttp import web

from kfed_core import pki
from kfed_local.sim.faults import FaultTarget, FleetError
from kfed_local.sim.httpio import abort_connections

if TYPE_CHECKING:
    from kfed_local.sim.fleet import SimFleet

EXTENSION_NAME = "kfed.io/sim"
_SCOPES = ("cluster", "zone", "region", "node")
_KINDS = ("down", "unreachable", "api-server")


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


class ControlServer:
    """Serves the control API of one fleet."""

    def __init__(self, fleet: SimFleet, *, address: str) -> None:
        self.fleet = fleet
        self.address = address
        self.port = 0
        now = dt.datetime.now(dt.UTC)
        self.ca = pki.create_ca("kfed-sim-control-ca", now=now)
        self.serving = pki.issue_key_pair(
            self.ca,
            pki.LeafSpec(common_name="kfed-sim-control", ip_addresses=(address,), server=True),
            now=now,
        )
        self.client = pki.issue_key_pair(
            self.ca, pki.LeafSpec(common_name="kfed-sim-operator", client=True), now=now
        )
        self._runner: web.AppRunner | None = None
        self._dir = tempfile.TemporaryDirectory(prefix="kfed-sim-control-")

    async def start(self) -> None:
        """Listen on an ephemeral port of the control address."""
        folder = Path(self._dir.name)
        (folder / "tls.crt").write_bytes(self.serving.cert_pem)
        key = folder / "tls.key"
        key.touch(mode=0o600)
        key.write_bytes(self.serving.key_pem)
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(folder / "tls.crt", key)
        context.load_verify_locations(cadata=self.ca.cert_pem.decode())
        context.verify_mode = ssl.CERT_REQUIRED
        app = web.Application()
        app.router.add_get("/v1/clusters", self._clusters)
        app.router.add_post("/v1/faults", self._faults)
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.address, 0, ssl_context=context)
        await site.start()
        sockets = getattr(site._server, "sockets", None) or []
        self.port = sockets[0].getsockname()[1]

    async def stop(self) -> None:
        """Stop serving and remove the key folder."""
        if self._runner is not None:
            abort_connections(self._runner)
            await self._runner.cleanup()
            self._runner = None
        self._dir.cleanup()

    def extension(self) -> dict[str, Any]:
        """The kubeconfig extension that lets ``kfed sim fault`` reach this server."""
        return {
            "apiVersion": "kfed.io/v1alpha1",
            "kind": "SimulatorControl",
            "server": f"https://{self.address}:{self.port}",
            "certificate-authority-data": _b64(self.ca.cert_pem),
            "client-certificate-data": _b64(self.client.cert_pem),
            "client-key-data": _b64(self.client.key_pem),
        }

    async def _clusters(self, request: web.Request) -> web.Response:
        return web.json_response({"clusters": self.fleet.status()})

    async def _faults(self, request: web.Request) -> web.Response:
        try:
            body = await request.json()
        except ValueError:
            return _error(400, "the body must be JSON: {scope, name, state, kind}")
        if not isinstance(body, Mapping):
            return _error(400, "the body must be a JSON object")
        scope, name = body.get("scope"), body.get("name")
        state, kind = body.get("state"), body.get("kind", "down")
        if scope not in _SCOPES:
            return _error(400, f"scope must be one of {', '.join(_SCOPES)}")
        if not isinstance(name, str) or not name:
            return _error(400, "name is required")
        if state not in ("down", "up"):
            return _error(400, "state must be down or up")
        if kind not in _KINDS:
            return _error(400, f"kind must be one of {', '.join(_KINDS)}")
        try:
            touched = await self.fleet.fault(
                FaultTarget(scope=scope, name=name), state == "down", kind
            )
        except FleetError as exc:
            return _error(404, str(exc))
        return web.json_response({"touched": touched, "state": state, "kind": kind})


def _error(code: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=code)


class ControlError(Exception):
    """The control API could not be reached or refused the request."""


class ControlClient:
    """Talks to a running simulator's control API, found through a kubeconfig."""

    def __init__(self, extension: Mapping[str, Any]) -> None:
        try:
            self.server = str(extension["server"])
            self._ca = base64.b64decode(extension["certificate-authority-data"])
            self._cert = base64.b64decode(extension["client-certificate-data"])
            self._key = base64.b64decode(extension["client-key-data"])
        except (KeyError, ValueError) as exc:
            raise ControlError(
                f"the {EXTENSION_NAME} kubeconfig extension is incomplete: {exc}"
            ) from exc

    @classmethod
    def from_kubeconfig(cls, text: str, source: str) -> ControlClient:
        """Find the ``kfed.io/sim`` extension in a kubeconfig's text."""
        import yaml

        try:
            config = yaml.safe_load(text) or {}
        except yaml.YAMLError as exc:
            raise ControlError(f"{source} is not valid YAML: {exc}") from exc
        for item in config.get("extensions") or ():
            if isinstance(item, Mapping) and item.get("name") == EXTENSION_NAME:
                return cls(item.get("extension") or {})
        raise ControlError(
            f"{source} has no {EXTENSION_NAME} extension: it was not written by a running "
            "`kfed sim up --kubeconfig`, or that simulator has stopped"
        )

    async def request(self, method: str, path: str, body: Any = None) -> Any:
        """Send one request; returns the decoded JSON answer or raises :class:`ControlError`."""
        with tempfile.TemporaryDirectory(prefix="kfed-sim-client-") as folder:
            cert, key = Path(folder) / "tls.crt", Path(folder) / "tls.key"
            cert.write_bytes(self._cert)
            key.touch(mode=0o600)
            key.write_bytes(self._key)
            context = ssl.create_default_context(cadata=self._ca.decode())
            context.load_cert_chain(cert, key)
            try:
                async with (
                    aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as session,
                    session.request(
                        method,
                        self.server + path,
                        ssl=context,
                        data=None if body is None else json.dumps(body),
                        headers={"Content-Type": "application/json"},
                    ) as resp,
                ):
                    answer = await resp.json(content_type=None)
                    if resp.status >= 400:
                        raise ControlError(str(answer.get("error", answer)))
                    return answer
            except aiohttp.ClientError as exc:
                raise ControlError(
                    f"cannot reach the simulator at {self.server}: {exc}; is `kfed sim up` "
                    "still running?"
                ) from exc
