"""How the demo talks to its reader: commands and their output, narration, a progress display
while it waits, and a clear failure when a step's expectation is not met.

Layer: ``kfed_demo`` shell (writes to the terminal). On a terminal, waiting shows a spinner with
the elapsed time on one line; elsewhere (CI logs, pipes) one line when waiting starts and one when
it ends, so logs stay readable.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import sys
import time
from collections.abc import Awaitable, Callable
from typing import Any, TextIO, TypeVar

T = TypeVar("T")


class StepFailed(Exception):
    """A step of the walk-through did not see what it expected; the message says what."""


class Console:
    """Writes the walk-through. ``stream`` defaults to standard output."""

    def __init__(self, stream: TextIO | None = None, *, color: bool | None = None) -> None:
        self.stream = stream or sys.stdout
        tty = hasattr(self.stream, "isatty") and self.stream.isatty()
        self.tty = tty
        # NO_COLOR (https://no-color.org) turns colour off, as does output that is not a terminal.
        self.color = (tty and not os.environ.get("NO_COLOR")) if color is None else color
        self.started = time.monotonic()

    def _style(self, text: str, code: str) -> str:
        return f"\033[{code}m{text}\033[0m" if self.color else text

    def write(self, text: str = "") -> None:
        self.stream.write(text + "\n")
        self.stream.flush()

    def title(self, text: str) -> None:
        self.write()
        self.write(self._style(f"## {text}", "1"))

    def say(self, text: str) -> None:
        self.write(self._style(text, "2") if self.color else text)

    def command(self, text: str) -> None:
        self.write(self._style(f"$ {text}", "1;36"))

    def output(self, text: str) -> None:
        for line in text.rstrip("\n").splitlines():
            self.write(f"  {line}" if line else "")

    def ok(self, text: str) -> None:
        self.write(self._style(f"✔ {text}", "32"))

    def fail(self, text: str) -> None:
        self.write(self._style(f"✘ {text}", "1;31"))

    def elapsed(self) -> float:
        return time.monotonic() - self.started

    async def wait_for(
        self,
        what: str,
        check: Callable[[], Awaitable[T | None]],
        *,
        within: float,
        interval: float = 0.1,
        detail: Callable[[], str] | None = None,
    ) -> T:
        """Poll ``check`` until it returns something truthy, showing progress; raises
        StepFailed naming ``what`` (and the last ``detail``) after ``within`` seconds."""
        started = time.monotonic()
        spinner = itertools.cycle("⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏")
        if not self.tty:
            self.write(f"  … waiting for {what}")
        last_error: Any = None
        while True:
            try:
                value = await check()
            except Exception as exc:  # shown if it never succeeds; a step may race startup
                value, last_error = None, exc
            waited = time.monotonic() - started
            if value:
                if self.tty:
                    self.stream.write("\r\033[K")
                self.write(self._style(f"  ✔ {what} ({waited:.1f}s)", "32"))
                return value
            if waited > within:
                if self.tty:
                    self.stream.write("\r\033[K")
                extra = detail() if detail is not None else ""
                if last_error is not None:
                    extra += f" (last error: {type(last_error).__name__}: {last_error})"
                raise StepFailed(f"{what}: not seen within {within:g} s. {extra}".strip())
            if self.tty:
                shown = detail() if detail is not None else ""
                self.stream.write(f"\r\033[K  {next(spinner)} {what} {waited:4.1f}s {shown}")
                self.stream.flush()
            await asyncio.sleep(interval)
