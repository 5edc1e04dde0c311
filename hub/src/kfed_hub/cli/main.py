"""Entry point of the ``kfed`` command.

Layer: the CLI shell of the hub distribution. Subcommands come from the ``kfed.commands`` entry
point group: each entry point is a function ``register(subparsers)`` that adds its commands and
sets ``handler`` (a callable taking the parsed arguments and returning the exit code) on them.
kfed's own plugins (``kfed sim`` from kfed-local) register this way, so the hub never imports a
plugin. A plugin whose commands fail to load is reported and skipped; the rest still work.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable, Sequence
from importlib.metadata import entry_points

from kfed_core import logs

COMMAND_GROUP = "kfed.commands"

Register = Callable[["argparse._SubParsersAction[argparse.ArgumentParser]"], None]


def build_parser() -> tuple[argparse.ArgumentParser, list[str]]:
    """The parser with every installed subcommand; also the load problems to report."""
    parser = argparse.ArgumentParser(
        prog="kfed",
        description="kfed federates Kubernetes clusters across clouds and on-premises.",
    )
    parser.add_argument(
        "-v", "--verbose", action="count", default=0, help="more log output (-vv for debug)"
    )
    parser.add_argument(
        "--log-format",
        choices=logs.FORMATS,
        default="text",
        help="log lines for people (text) or one JSON object per line (json)",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    problems: list[str] = []
    for entry_point in sorted(entry_points(group=COMMAND_GROUP), key=lambda e: e.name):
        try:
            register: Register = entry_point.load()
            register(subparsers)
        except Exception as exc:  # a broken plugin must not take the whole CLI down
            problems.append(
                f"kfed: commands of {entry_point.name!r} ({entry_point.value}) "
                f"could not be loaded: {exc}"
            )
    return parser, problems


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``kfed``; returns the exit code."""
    parser, problems = build_parser()
    args = parser.parse_args(argv)
    for problem in problems:
        print(problem, file=sys.stderr)
    handler = getattr(args, "handler", None)
    if handler is None:
        parser.print_help(sys.stderr)
        return 2
    level = logging.WARNING - 10 * min(args.verbose, 2)
    logs.configure(level=level, fmt=args.log_format)
    try:
        code: int = handler(args)
    except KeyboardInterrupt:
        return 130
    return code


if __name__ == "__main__":
    sys.exit(main())
