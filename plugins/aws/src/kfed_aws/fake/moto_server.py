"""moto in server mode on 127.0.0.1: the ELBv2, EC2 and Route 53 the AWS provider's tests use.

Layer: ``kfed_aws.fake`` helper, the only place in the package that imports moto (a test
dependency; import this module only from tests and demos). moto keeps its state per process,
so one server per process is enough: :meth:`MotoServer.reset` empties it between tests. It has
no Global Accelerator; :mod:`kfed_aws.fake.ga_server` stands in for that.
"""

from __future__ import annotations

import urllib.request

from moto.server import ThreadedMotoServer


class MotoServer:
    """moto's threaded server on a free port of 127.0.0.1."""

    def __init__(self) -> None:
        self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        self.url = ""

    def start(self) -> str:
        """Start serving; returns the endpoint URL for every AWS service moto fakes."""
        self._server.start()
        host, port = self._server.get_host_and_port()
        self.url = f"http://{host}:{port}"
        return self.url

    def reset(self) -> None:
        """Forget every resource in moto (its documented reset endpoint)."""
        request = urllib.request.Request(f"{self.url}/moto-api/reset", method="POST")
        with urllib.request.urlopen(request, timeout=10) as answer:
            answer.read()

    def stop(self) -> None:
        self._server.stop()
        # ThreadedMotoServer.stop shuts the server down but leaves its socket open.
        wsgi = getattr(self._server, "_server", None)
        if wsgi is not None:
            wsgi.server_close()
