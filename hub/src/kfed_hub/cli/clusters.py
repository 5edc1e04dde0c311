"""``kfed cluster remove NAME``, and how one member cluster is described.

Layer: the CLI shell. Removing a cluster revokes its certificates and closes its live stream on
the hub; ``kfed get clusters`` (in :mod:`kfed_hub.cli.objects`) lists them and ``kfed label
cluster`` (:mod:`kfed_hub.cli.labels`) labels them.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from collections.abc import Mapping, Sequence
from typing import Any

from kfed_hub.cli.common import fail, server_error, with_client
from kfed_hub.cli.describe import events_section
from kfed_hub.cli.printing import age_of
from kfed_hub.client import HubApiError, HubClient

CLUSTERS_PATH = "/apis/kfed.io/v1alpha1/clusters"


def _capacity(capacity: Any) -> str:
    if not isinstance(capacity, Mapping):
        return "<unknown>"
    return ", ".join(f"{key} {capacity.get(key, '?')}" for key in ("cpu", "memory", "pods"))


def describe_cluster(
    cluster: Mapping[str, Any],
    now: dt.datetime,
    events: Sequence[Mapping[str, Any]] | None = None,
) -> str:
    """``kfed describe cluster NAME``: details, then its events and its objects' events there."""
    metadata = cluster.get("metadata") or {}
    status = cluster.get("status") or {}
    nodes = status.get("nodes") or {}
    capacity = status.get("capacity") or {}
    labels = metadata.get("labels") or {}
    last_seen = status.get("lastSeen")
    joined = metadata.get("creationTimestamp")
    rows = [
        ("Name", metadata.get("name", "")),
        ("Status", status.get("phase", "Unknown")),
        ("Connected", "yes" if status.get("connected") else "no"),
        ("Joined", f"{joined} ({age_of(joined, now)} ago)"),
        ("Last Seen", f"{last_seen} ({age_of(last_seen, now)} ago)" if last_seen else "never"),
        ("Labels", ",".join(f"{k}={v}" for k, v in sorted(labels.items())) or "<none>"),
        ("Region", status.get("region") or "<none>"),
        ("Zones", ",".join(status.get("zones") or []) or "<none>"),
        ("Kubernetes", status.get("kubernetesVersion") or "<unknown>"),
        ("Agent", status.get("agentVersion") or "<unknown>"),
        ("Nodes", f"{nodes.get('ready', 0)}/{nodes.get('total', 0)} Ready"),
        ("Allocatable", _capacity(capacity.get("allocatable"))),
        ("Requested", _capacity(capacity.get("requested"))),
        ("Unschedulable", f"{status.get('unschedulablePods', 0)} pods"),
        ("Message", status.get("message") or "<none>"),
    ]
    details = "".join(f"{label + ':':<15}{value}\n" for label, value in rows)
    return details + "\n".join(events_section(events, now, name_objects=True, width=15)) + "\n"


def _remove(args: argparse.Namespace, client: HubClient) -> int:
    code = 0
    for name in args.names:
        try:
            client.request("DELETE", f"{CLUSTERS_PATH}/{name}")
        except HubApiError as exc:
            print(server_error(exc), file=sys.stderr)
            code = 1
            continue
        print(f'cluster "{name}" removed: its certificates are revoked and its stream closed')
    return code


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``cluster remove`` to the ``kfed`` CLI."""
    cluster = subparsers.add_parser("cluster", help="manage member clusters")
    commands = cluster.add_subparsers(dest="cluster_command", metavar="COMMAND")
    cluster.set_defaults(handler=lambda args: fail("say what to do: kfed cluster remove NAME"))
    remove = commands.add_parser(
        "remove",
        help="remove member clusters: revoke their certificates and cut their streams",
    )
    remove.add_argument("names", nargs="+", metavar="NAME", help="cluster names")
    remove.set_defaults(handler=with_client(_remove))
