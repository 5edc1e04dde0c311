"""What the hub-facing ``kfed`` commands share: the client, kubectl-style error reporting.

Layer: the CLI shell. Exit codes follow kubectl: 0 on success, 1 when anything failed (after
doing what could be done); messages go to stderr as ``error: ...`` or
``Error from server (Reason): ...``, never a stack trace.
"""

from __future__ import annotations

import argparse
import datetime as dt
import functools
import sys
from collections.abc import Callable

from kfed_hub.cli.manifests import ManifestError
from kfed_hub.cliconfig import ConfigError
from kfed_hub.client import HubApiError, HubClient, HubError

ClientHandler = Callable[[argparse.Namespace, HubClient], int]
OUTPUTS = ("yaml", "json", "wide", "name")


def fail(message: str) -> int:
    """Print ``error: message`` to stderr; returns the exit code 1."""
    print(f"error: {message}", file=sys.stderr)
    return 1


def server_error(exc: HubApiError, context: str = "") -> str:
    """kubectl's ``Error from server (Reason): <context><message>``."""
    head = f"Error from server ({exc.reason})" if exc.reason else "Error from server"
    return f"{head}: {context}{exc.message}"


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def with_client(handler: ClientHandler) -> Callable[[argparse.Namespace], int]:
    """Run ``handler`` with a client made from the CLI config; report failures kubectl style."""

    @functools.wraps(handler)
    def run(args: argparse.Namespace) -> int:
        try:
            client = HubClient.from_config()
        except (ConfigError, HubError) as exc:
            return fail(str(exc))
        try:
            return handler(args, client)
        except HubApiError as exc:
            print(server_error(exc), file=sys.stderr)
            return 1
        except (HubError, ManifestError) as exc:
            return fail(str(exc))
        finally:
            client.close()

    return run


def add_output(parser: argparse.ArgumentParser, choices: tuple[str, ...] = OUTPUTS) -> None:
    parser.add_argument(
        "-o",
        "--output",
        choices=choices,
        help="output format: " + "|".join(choices),
    )


def add_namespace(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "-n", "--namespace", help="the namespace (default: the object's own, else default)"
    )
