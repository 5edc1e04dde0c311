"""The agent's commands: ``kfed agent run --config DIR`` (also ``kfed-agent --config DIR``) and
``kfed join``.

Layer: ``kfed_agent`` command shell. Registered in the ``kfed`` CLI through the ``kfed.commands``
entry point, so the hub's CLI never imports the agent.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import signal
import sys
from collections.abc import Sequence
from pathlib import Path

from kfed_agent.agent import Agent, AgentSettings, AgentStopped
from kfed_agent.config import ConfigError, load
from kfed_agent.join import register_join
from kfed_agent.manifests import register_manifests
from kfed_agent.metrics import AgentMetrics
from kfed_agent.secretstore import parse_secret_ref
from kfed_core import logs

log = logging.getLogger(__name__)


def _add_run_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--config", required=True, type=Path, metavar="DIR", help="directory written by kfed join"
    )
    parser.add_argument(
        "--metrics-addr",
        default="",
        metavar="HOST:PORT",
        help="serve Prometheus metrics on this address (plain HTTP; off by default)",
    )
    parser.add_argument(
        "--lease-duration", type=float, default=15.0, help="leader Lease duration in seconds"
    )
    parser.add_argument(
        "--credentials-secret",
        default=os.environ.get("KFED_CREDENTIALS_SECRET", ""),
        metavar="NAMESPACE/NAME",
        help="the Secret the agent's credentials were installed from: renewed certificates are "
        "written back to it, so a restarted agent starts from the newest (DaemonSets)",
    )


async def _serve(args: argparse.Namespace) -> int:
    from kfed_agent.kube import RealKubeApi  # the kubernetes client loads only when running

    config, _ = load(args.config)
    if config.kubeconfig:
        kube = await asyncio.to_thread(
            RealKubeApi.from_kubeconfig, config.kubeconfig, config.context
        )
    else:
        kube = await asyncio.to_thread(RealKubeApi.in_cluster)
    metrics = AgentMetrics.create()
    server = None
    if args.metrics_addr:
        from prometheus_client import start_http_server

        host, _, port = args.metrics_addr.rpartition(":")
        server, _thread = start_http_server(
            int(port), addr=host or "127.0.0.1", registry=metrics.registry
        )
    settings = AgentSettings(
        lease_duration=args.lease_duration,
        lease_renew_period=max(args.lease_duration / 3, 0.2),
        lease_retry_period=max(args.lease_duration / 7, 0.1),
    )
    secret = parse_secret_ref(args.credentials_secret) if args.credentials_secret else None
    agent = Agent(
        config_dir=args.config,
        kube=kube,
        settings=settings,
        metrics=metrics,
        credentials_secret=secret,
    )
    loop = asyncio.get_running_loop()
    task = asyncio.current_task()
    assert task is not None
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, task.cancel)
    try:
        await agent.run()
    except asyncio.CancelledError:
        log.info("agent stopped")
        return 0
    finally:
        await kube.close()
        if server is not None:
            server.shutdown()
            server.server_close()
    return 0


def run(args: argparse.Namespace) -> int:
    """``kfed agent run``."""
    try:
        return asyncio.run(_serve(args))
    except (ConfigError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except AgentStopped as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``agent run``, ``agent manifests`` and ``join`` to the ``kfed`` CLI."""
    agent = subparsers.add_parser("agent", help="run kfed's agent in a member cluster")
    agent_commands = agent.add_subparsers(dest="agent_command", metavar="COMMAND", required=True)
    run_parser = agent_commands.add_parser(
        "run", help="apply the hub's desired state to this cluster"
    )
    _add_run_arguments(run_parser)
    run_parser.set_defaults(handler=run)
    register_manifests(agent_commands)
    register_join(subparsers)


def main(argv: Sequence[str] | None = None) -> int:
    """``kfed-agent --config DIR``."""
    parser = argparse.ArgumentParser(prog="kfed-agent", description="kfed's member-cluster agent")
    parser.add_argument("-v", "--verbose", action="count", default=0, help="debug log output")
    parser.add_argument("--log-format", choices=logs.FORMATS, default="text")
    _add_run_arguments(parser)
    args = parser.parse_args(argv)
    logs.configure(level=logging.INFO if args.verbose == 0 else logging.DEBUG, fmt=args.log_format)
    with contextlib.suppress(BrokenPipeError):
        return run(args)
    return 1


if __name__ == "__main__":
    sys.exit(main())
