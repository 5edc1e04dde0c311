"""Active health checks: an HTTP GET to every backend, on a timer, with thresholds.

Layer: I/O shell of the global load balancer. One :class:`HealthChecker` per load balancer runs
one asyncio task that checks every target each ``interval`` (all targets concurrently, each with
a short ``timeout``) and flips a target's health after ``unhealthy_threshold`` failures in a row
or ``healthy_threshold`` successes in a row. Any answer from 200 to 399 passes; refusals, resets,
timeouts and other statuses fail. Every check opens a new connection, as cloud health checkers
do, so a dead listener is noticed even while pooled proxy connections linger.

The defaults (every second, 0.5 s timeout, two failures) notice a lost backend within about
``(interval + timeout) * unhealthy_threshold`` = 3 s, inside the 5 s failover goal.

Concurrency: everything runs on the event loop that called :meth:`HealthChecker.start`; state
is read and written only there, so no locks. The checker never decides routing: it reports.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace

import aiohttp

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True, kw_only=True)
class HealthSettings:
    """How backends are checked."""

    interval: float = 1.0
    """Seconds between the starts of two rounds of checks."""
    timeout: float = 0.5
    """Seconds one check may take, connection included."""
    unhealthy_threshold: int = 2
    """Failures in a row that take a healthy backend out."""
    healthy_threshold: int = 2
    """Successes in a row that bring an unhealthy backend back."""
    path: str = "/"
    """The path requested (with the backend's address as Host)."""

    def __post_init__(self) -> None:
        if self.interval <= 0 or self.timeout <= 0:
            raise ValueError(
                f"health check interval ({self.interval}) and timeout ({self.timeout}) must be "
                "positive seconds"
            )
        if self.unhealthy_threshold < 1 or self.healthy_threshold < 1:
            raise ValueError("health check thresholds must be at least 1")
        if not self.path.startswith("/"):
            raise ValueError(f"health check path {self.path!r} must start with '/'")


@dataclass(frozen=True, slots=True, kw_only=True)
class TargetHealth:
    """One backend's check history. ``healthy`` is None until the first check."""

    healthy: bool | None = None
    successes: int = 0
    failures: int = 0
    last_error: str = ""


def observe(state: TargetHealth, error: str | None, settings: HealthSettings) -> TargetHealth:
    """The state after one check (``error`` None: it passed). The first check decides at once."""
    if error is None:
        seen = replace(state, successes=state.successes + 1, failures=0, last_error="")
        if state.healthy is None or seen.successes >= settings.healthy_threshold:
            seen = replace(seen, healthy=True)
        return seen
    seen = replace(state, failures=state.failures + 1, successes=0, last_error=error)
    if state.healthy is None or seen.failures >= settings.unhealthy_threshold:
        seen = replace(seen, healthy=False)
    return seen


class HealthChecker:
    """Checks a set of named ``host:port`` targets and reports health changes."""

    def __init__(
        self,
        settings: HealthSettings,
        *,
        label: str,
        on_change: Callable[[str, bool, str], None] | None = None,
    ) -> None:
        self.settings = settings
        self.label = label  # the load balancer's name, for log lines
        self.on_change = on_change
        self._targets: dict[str, str] = {}
        self._states: dict[str, TargetHealth] = {}
        self._session: aiohttp.ClientSession | None = None
        self._task: asyncio.Task[None] | None = None

    def set_targets(self, targets: Mapping[str, str]) -> None:
        """Check these ``{name: host:port}`` from now on; a changed address starts afresh."""
        for name in list(self._states):
            if self._targets.get(name) != targets.get(name):
                del self._states[name]
        self._targets = dict(targets)

    def is_healthy(self, name: str) -> bool:
        """Whether the target passes its checks (False before its first check)."""
        state = self._states.get(name)
        return state is not None and state.healthy is True

    def state(self, name: str) -> TargetHealth:
        """The target's check history (empty if never checked)."""
        return self._states.get(name, TargetHealth())

    def start(self) -> None:
        """Open the checks' HTTP session and start the timer task (on the running loop)."""
        if self._task is not None:
            return
        self._session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(force_close=True, limit=0),
            auto_decompress=False,
            cookie_jar=aiohttp.DummyCookieJar(),
            headers={"User-Agent": "kfed-glb-health-check"},  # recognisable in backend logs
        )
        self._task = asyncio.create_task(self._run(), name=f"glb-health-{self.label}")

    async def stop(self) -> None:
        """Stop checking and close the session."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def check_unchecked(self) -> None:
        """Check at once every target never checked (so a new load balancer reports real
        readiness instead of waiting for the timer)."""
        await asyncio.gather(
            *(self._check(n) for n in list(self._targets) if self.state(n).healthy is None)
        )

    async def check_all(self) -> None:
        """One round: check every target concurrently."""
        await asyncio.gather(*(self._check(name) for name in list(self._targets)))

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        next_round = loop.time()
        while True:
            await self.check_all()
            # Keep the cadence of round starts, so slow (timed-out) checks do not stretch it.
            next_round = max(next_round + self.settings.interval, loop.time())
            await asyncio.sleep(next_round - loop.time())

    async def _check(self, name: str) -> None:
        address = self._targets.get(name)
        if address is None or self._session is None:
            return
        error = await self._probe(self._session, address)
        if self._targets.get(name) != address:
            return  # the target changed or left while we were checking
        before = self.state(name)
        after = observe(before, error, self.settings)
        self._states[name] = after
        if after.healthy is not None and after.healthy != before.healthy:
            log.info(
                "load balancer %s: backend %s (%s) is now %s%s",
                self.label,
                name,
                address,
                "healthy" if after.healthy else "unhealthy",
                f": {after.last_error}" if after.last_error else "",
            )
            if self.on_change is not None:
                self.on_change(name, after.healthy, after.last_error)

    async def _probe(self, session: aiohttp.ClientSession, address: str) -> str | None:
        url = f"http://{address}{self.settings.path}"
        try:
            timeout = aiohttp.ClientTimeout(total=self.settings.timeout)
            async with session.get(url, allow_redirects=False, timeout=timeout) as answer:
                if 200 <= answer.status < 400:
                    return None
                return f"HTTP {answer.status} from {url}"
        except TimeoutError:
            return f"no answer from {url} within {self.settings.timeout:g} s"
        except aiohttp.ClientConnectorError as exc:
            reason = os.strerror(exc.os_error.errno) if exc.os_error.errno else str(exc.os_error)
            return f"cannot connect to {address}: {reason}"
        except aiohttp.ClientError as exc:
            return f"{url}: {type(exc).__name__}: {exc}"
