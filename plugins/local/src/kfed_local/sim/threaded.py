"""Run a simulated fleet in a background thread, for blocking callers (tests, scripts, notebooks).

Layer: composition helper beside the fleet. The official ``kubernetes`` client and kubectl block;
the simulator is asyncio. :class:`FleetThread` runs the fleet on its own event loop in a daemon
thread and lets the caller run coroutines on that loop (``call``), so a test can drive the
clusters with real clients and still inject faults::

    with FleetThread(parse_clusters_flag("east=us-east1/us-east1-b")) as sim:
        api = kubernetes.config.new_client_from_config(str(sim.kubeconfig_path), context="east")
        sim.call(lambda fleet: fleet.cluster("east").set_down(True))
"""

from __future__ import annotations

import asyncio
import contextlib
import tempfile
import threading
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

from kfed_local.sim.config import ClusterSpec
from kfed_local.sim.fleet import SimFleet

T = TypeVar("T")


class FleetThread:
    """A :class:`SimFleet` running on an event loop in a background thread."""

    def __init__(self, specs: Sequence[ClusterSpec], **fleet_options: Any) -> None:
        self._specs = list(specs)
        self._options = fleet_options
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._thread: threading.Thread | None = None
        self._started = threading.Event()
        self._error: BaseException | None = None
        self._dir = tempfile.TemporaryDirectory(prefix="kfed-sim-thread-")
        self.kubeconfig_path = Path(self._dir.name) / "kubeconfig.yaml"
        self.fleet: SimFleet | None = None

    def start(self, timeout: float = 60.0) -> FleetThread:
        """Start the fleet and write its kubeconfig; raises what the fleet raised on failure."""
        self._thread = threading.Thread(target=self._main, name="kfed-sim", daemon=True)
        self._thread.start()
        if not self._started.wait(timeout):
            raise TimeoutError(f"simulated clusters did not start within {timeout} s")
        if self._error is not None:
            raise self._error
        return self

    def _main(self) -> None:
        async def run() -> None:
            self._loop = asyncio.get_running_loop()
            self._stop = asyncio.Event()
            try:
                self.fleet = SimFleet(self._specs, **self._options)
                await self.fleet.start()
                self.fleet.write_kubeconfig(self.kubeconfig_path)
            except BaseException as exc:  # reported to the starting thread
                self._error = exc
                self._started.set()
                return
            self._started.set()
            try:
                await self._stop.wait()
            finally:
                await self.fleet.stop()

        asyncio.run(run())

    def call(self, work: Callable[[SimFleet], Awaitable[T]], timeout: float = 60.0) -> T:
        """Run ``work(fleet)`` on the fleet's loop and return its result."""
        assert self._loop is not None and self.fleet is not None, "start() first"
        fleet = self.fleet

        async def wrapped() -> T:
            return await work(fleet)

        future = asyncio.run_coroutine_threadsafe(wrapped(), self._loop)
        return future.result(timeout)

    def run(self, work: Callable[[SimFleet], T], timeout: float = 60.0) -> T:
        """Run a plain function on the fleet's loop (to read a store without racing it)."""

        async def wrapped(fleet: SimFleet) -> T:
            return work(fleet)

        return self.call(wrapped, timeout)

    def stop(self, timeout: float = 30.0) -> None:
        """Stop the fleet and the thread; removes the kubeconfig."""
        if self._loop is not None and self._stop is not None and not self._loop.is_closed():
            with contextlib.suppress(RuntimeError):  # the loop already ended
                self._loop.call_soon_threadsafe(self._stop.set)
        if self._thread is not None:
            self._thread.join(timeout)
        self._dir.cleanup()

    def __enter__(self) -> FleetThread:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()


def wait_for(
    condition: Callable[[], T], *, timeout: float = 10.0, interval: float = 0.05, what: str = ""
) -> T:
    """Poll ``condition`` until it returns something truthy; raise with ``what`` on timeout."""
    import time

    deadline = time.monotonic() + timeout
    last: T | None = None
    while time.monotonic() < deadline:
        last = condition()
        if last:
            return last
        time.sleep(interval)
    raise TimeoutError(
        f"timed out after {timeout} s waiting for {what or condition!r} (last value: {last!r})"
    )
