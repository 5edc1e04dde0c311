"""``kfed sim``: run simulated clusters (``up``), break and mend them (``fault``), ``status``.

Layer: CLI shell of the simulator (registered through the ``kfed.commands`` entry point). It
parses flags into cluster specs, runs a :class:`~kfed_local.sim.fleet.SimFleet` in the foreground
until Ctrl-C, and talks to a running one through its control API.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import sys
from pathlib import Path
from typing import Any

from kfed_local.sim.cluster import SimOptions
from kfed_local.sim.config import (
    ClusterSpec,
    ConfigError,
    parse_clusters_flag,
    parse_config,
    preset,
)
from kfed_local.sim.control import ControlClient, ControlError
from kfed_local.sim.faults import FleetError
from kfed_local.sim.fleet import SimFleet

DEFAULT_KUBECONFIG = "sim-kubeconfig.yaml"
DEFAULT_ADDRESS_BASE = "127.1.1.0"


def register(subparsers: Any) -> None:
    """Add ``kfed sim`` and its subcommands."""
    sim = subparsers.add_parser(
        "sim",
        help="simulated Kubernetes clusters (no containers run)",
        description="Simulated Kubernetes clusters: real HTTPS API servers that kubectl and the "
        "Kubernetes clients use unmodified, with simulated nodes, pods and load balancers. No "
        "containers run.",
    )
    commands = sim.add_subparsers(dest="sim_command", metavar="COMMAND")

    up = commands.add_parser("up", help="run simulated clusters until Ctrl-C")
    source = up.add_mutually_exclusive_group(required=True)
    source.add_argument(
        "--clusters",
        metavar="NAME=REGION/ZONE[,...]",
        help="clusters to run, e.g. east=us-east1/us-east1-b,west=us-west1/us-west1-a",
    )
    source.add_argument("--config", metavar="FILE", help="YAML file describing the clusters")
    source.add_argument(
        "--preset", choices=["seed"], help="seed: the 2016 walk-through's nine GCE clusters"
    )
    up.add_argument(
        "--kubeconfig",
        default=DEFAULT_KUBECONFIG,
        metavar="FILE",
        help=f"kubeconfig to write, one context per cluster (default: {DEFAULT_KUBECONFIG})",
    )
    up.add_argument(
        "--address-base",
        default=DEFAULT_ADDRESS_BASE,
        metavar="127.A.B.0",
        help=f"loopback block: cluster N listens on 127.A.B.N (default: {DEFAULT_ADDRESS_BASE})",
    )
    up.add_argument(
        "--api-port",
        type=int,
        default=6443,
        metavar="PORT",
        help="API server port on each cluster address (default: 6443; 0: any)",
    )
    up.add_argument(
        "--eviction-timeout",
        type=float,
        default=SimOptions().eviction_timeout,
        metavar="SECONDS",
        help="seconds before pods leave an unreachable node (default: %(default)s)",
    )
    up.set_defaults(handler=_up)

    fault = commands.add_parser("fault", help="take a cluster, zone, region or node down or up")
    fault.add_argument(
        "--kubeconfig",
        default=DEFAULT_KUBECONFIG,
        metavar="FILE",
        help="the kubeconfig `kfed sim up` wrote",
    )
    target = fault.add_mutually_exclusive_group(required=True)
    for scope in ("cluster", "zone", "region", "node"):
        target.add_argument(f"--{scope}", metavar="NAME")
    fault.add_argument(
        "--kind",
        choices=["down", "unreachable", "api-server"],
        default="down",
        help="for clusters and regions: down (default: nodes down, no API, no "
        "traffic), unreachable (network partition) or api-server (API stopped)",
    )
    fault.add_argument("state", choices=["down", "up"])
    fault.set_defaults(handler=_fault)

    status = commands.add_parser("status", help="list the clusters of a running `kfed sim up`")
    status.add_argument("--kubeconfig", default=DEFAULT_KUBECONFIG, metavar="FILE")
    status.set_defaults(handler=_status)
    sim.set_defaults(handler=lambda args: _help(sim))


def _help(parser: argparse.ArgumentParser) -> int:
    parser.print_help(sys.stderr)
    return 2


def _fail(message: str) -> int:
    print(f"kfed sim: error: {message}", file=sys.stderr)
    return 1


def specs_from_args(args: argparse.Namespace) -> list[ClusterSpec]:
    """The clusters ``kfed sim up`` was asked for."""
    if args.preset:
        return preset(args.preset)
    if args.clusters:
        return parse_clusters_flag(args.clusters)
    path = Path(args.config)
    try:
        text = path.read_text()
    except OSError as exc:
        raise ConfigError(f"cannot read --config {path}: {exc.strerror}") from exc
    return parse_config(text, source=str(path))


def _up(args: argparse.Namespace) -> int:
    try:
        specs = specs_from_args(args)
        fleet = SimFleet(
            specs,
            address_base=args.address_base,
            api_port=args.api_port,
            options=SimOptions(eviction_timeout=args.eviction_timeout),
            control=True,
        )
    except (ConfigError, FleetError) as exc:
        return _fail(str(exc))
    try:
        return asyncio.run(_run(fleet, Path(args.kubeconfig)))
    except FleetError as exc:
        return _fail(str(exc))


async def _run(fleet: SimFleet, kubeconfig: Path) -> int:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    print(f"starting {len(fleet.clusters)} simulated cluster(s)...", file=sys.stderr, flush=True)
    await fleet.start()
    try:
        fleet.write_kubeconfig(kubeconfig)
        _print_clusters(fleet.status())
        print(
            f"\nkubeconfig: {kubeconfig} (one context per cluster)\n"
            f"try:        kubectl --kubeconfig {kubeconfig} get nodes\n"
            f"faults:     kfed sim fault --kubeconfig {kubeconfig} --cluster NAME down\n"
            "No containers run: pods, nodes and load balancers are simulated.\n"
            "Press Ctrl-C to stop.",
            flush=True,
        )
        await stop.wait()
    finally:
        print("\nstopping...", file=sys.stderr, flush=True)
        await fleet.stop()
        with contextlib.suppress(OSError):
            await asyncio.to_thread(kubeconfig.unlink)
            print(f"removed {kubeconfig}: its credentials ended with the clusters", file=sys.stderr)
    return 0


def _print_clusters(clusters: list[dict[str, Any]]) -> None:
    rows = [("NAME", "REGION", "ZONE", "SERVER", "FAULTS")]
    for item in clusters:
        faults = item["faults"]
        broken = [k for k in ("down", "unreachable", "apiServerStopped") if faults.get(k)]
        if faults.get("nodesDown"):
            broken.append(f"nodes down: {','.join(faults['nodesDown'])}")
        rows.append(
            (
                item["name"],
                item["region"],
                ",".join(item["zones"]),
                item["server"],
                "; ".join(broken) or "<none>",
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        print(
            "   ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        )


def _client(path: str) -> ControlClient:
    try:
        text = Path(path).read_text()
    except OSError as exc:
        raise ControlError(
            f"cannot read --kubeconfig {path}: {exc.strerror}; "
            "start the clusters with `kfed sim up --kubeconfig FILE`"
        ) from exc
    return ControlClient.from_kubeconfig(text, path)


def _fault(args: argparse.Namespace) -> int:
    scope = next(s for s in ("cluster", "zone", "region", "node") if getattr(args, s))
    body = {"scope": scope, "name": getattr(args, scope), "state": args.state, "kind": args.kind}
    try:
        answer = asyncio.run(_client(args.kubeconfig).request("POST", "/v1/faults", body))
    except ControlError as exc:
        return _fail(str(exc))
    touched = ", ".join(answer["touched"])
    print(f"{scope} {body['name']}: {args.kind} -> {args.state} (clusters: {touched})")
    return 0


def _status(args: argparse.Namespace) -> int:
    try:
        answer = asyncio.run(_client(args.kubeconfig).request("GET", "/v1/clusters"))
    except ControlError as exc:
        return _fail(str(exc))
    _print_clusters(answer["clusters"])
    return 0
