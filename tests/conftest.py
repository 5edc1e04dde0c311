"""Shared pytest setup: test tiers, the opt-in slow suites, and a watchdog for async tests.

Tiers live in folders: ``tests/unit`` (pure code), ``tests/integration`` (real servers on
loopback), ``tests/e2e`` (a real cluster, only when ``KUBECONFIG`` points at one and
``KFED_E2E=1``). Tests marked ``slow`` run only with ``KFED_SLOW=1`` (``make test-all``).

Each test leaves the root logger as it found it (the CLIs configure logging when run in-process).

The watchdog: an async test still running after ``KFED_TEST_WATCHDOG`` seconds (default 120,
well inside pytest-timeout's 300) gets every asyncio task's stack printed, so the report says
*what* it is waiting on, and is then cancelled, so it fails on its own instead of ending the
whole run the way pytest-timeout must.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sys
import threading
from collections.abc import AsyncIterator, Iterator

import pytest
import pytest_asyncio

WATCHDOG_SECONDS = float(os.environ.get("KFED_TEST_WATCHDOG", "120"))


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if item.get_closest_marker("asyncio") is not None and isinstance(item, pytest.Function):
            item.fixturenames.append("_asyncio_watchdog")
    if os.environ.get("KFED_SLOW") == "1":
        return
    skip_slow = pytest.mark.skip(reason="slow suite: run with KFED_SLOW=1 (make test-all)")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip_slow)


def _await_chain(task: asyncio.Task[object]) -> list[str]:
    """Where a task is suspended: each coroutine in its ``await`` chain, outermost first.

    (``Task.print_stack`` shows only the outermost frame, which rarely says what is awaited.)
    """
    lines: list[str] = []
    coro: object = task.get_coro()
    while coro is not None:
        frame = getattr(coro, "cr_frame", None) or getattr(coro, "gi_frame", None)
        if frame is not None:
            code = frame.f_code
            lines.append(f"  {code.co_filename}:{frame.f_lineno} in {code.co_name}")
        else:
            lines.append(f"  {coro!r}")
        coro = getattr(coro, "cr_await", None) or getattr(coro, "gi_yieldfrom", None)
    return lines


def _dump_and_cancel(test_name: str) -> None:
    """On the test's loop: print where every task waits, then cancel the test's own task."""
    out = sys.__stderr__ or sys.stderr
    tasks = asyncio.all_tasks()
    print(
        f"\n=== watchdog: {test_name} still running after {WATCHDOG_SECONDS:g} s; "
        f"{len(tasks)} asyncio task(s) ===",
        file=out,
    )
    for task in tasks:
        print(f"--- task {task.get_name()}: {task!r}", file=out)
        print("\n".join(_await_chain(task)), file=out)
    out.flush()
    for task in tasks:
        if getattr(task.get_coro(), "__name__", None) == test_name:
            task.cancel(f"watchdog: still running after {WATCHDOG_SECONDS:g} s")


@pytest_asyncio.fixture
async def _asyncio_watchdog(request: pytest.FixtureRequest) -> AsyncIterator[None]:
    loop = asyncio.get_running_loop()
    name = request.function.__name__
    timer = threading.Timer(
        WATCHDOG_SECONDS, lambda: loop.call_soon_threadsafe(_dump_and_cancel, name)
    )
    timer.daemon = True
    timer.start()
    try:
        yield
    finally:
        timer.cancel()


@pytest.fixture(autouse=True)
def _restore_root_logger() -> Iterator[None]:
    """Undo a test's ``kfed_core.logs.configure`` (the CLIs call it when run in-process).

    Without this, the root logger keeps a handler on the finished test's captured stderr, and a
    later test's log record fails with "I/O operation on closed file".
    """
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
