"""``kfed get`` and ``kfed describe``: federated objects and member clusters, kubectl style.

Layer: the CLI shell over :class:`kfed_hub.client.HubClient`. Reads only.

``kfed get KIND [NAME...] --clusters`` prints one section per member cluster, like the 2016
walk-through's ``for c in $(contexts); do kubectl --context=$c get ...; done``: each object as
that cluster has it (the version it applied, whether that is the current one, the outcome), and
for ReplicaSets, Deployments and their pods kubectl's own tables (:mod:`.percluster`).
``kfed get events`` lists federated events (:mod:`.events`); ``describe`` ends with the object's.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import Any

from kfed_hub.cli import events, percluster, printing
from kfed_hub.cli.clusters import CLUSTERS_PATH, describe_cluster
from kfed_hub.cli.common import add_namespace, add_output, fail, now, server_error, with_client
from kfed_hub.cli.describe import describe
from kfed_hub.cli.resources import Resource, ResourceMap
from kfed_hub.client import HubApiError, HubClient

POD_NAMES = ("pods", "pod", "po")
WORKLOADS = ("replicasets", "deployments")


def _is_cluster(resource: Resource) -> bool:
    return resource.group == "kfed.io" and resource.kind == "Cluster"


def _is_event(resource: Resource) -> bool:
    return resource.group == "kfed.io" and resource.kind == "Event"


def get_object(
    client: HubClient, candidates: Sequence[Resource], namespace: str | None, name: str
) -> tuple[Resource, dict[str, Any]]:
    """The object ``name`` from the first resource that has it (legacy groups last)."""
    first_error: HubApiError | None = None
    for resource in candidates:
        try:
            return resource, client.request("GET", resource.path(namespace, name))
        except HubApiError as exc:
            if exc.status != 404:
                raise
            first_error = first_error or exc
    assert first_error is not None
    raise first_error


def _list(
    client: HubClient, candidates: Sequence[Resource], namespace: str | None, selector: str
) -> tuple[Resource, list[dict[str, Any]]]:
    query = {"labelSelector": selector} if selector else None
    for resource in candidates:
        answer = client.request("GET", resource.path(namespace), query=query)
        items = list((answer or {}).get("items") or [])
        if items:
            return resource, items
    return candidates[0], []


def _namespace(args: argparse.Namespace, resource: Resource) -> str | None:
    if not resource.namespaced or getattr(args, "all_namespaces", False):
        return None
    return str(args.namespace or "default")


def _print_objects(
    args: argparse.Namespace, resource: Resource, objects: list[dict[str, Any]], single: bool
) -> None:
    if args.output in ("yaml", "json"):
        document: Any = objects[0] if single else printing.as_list(objects)
        dump = printing.to_yaml if args.output == "yaml" else printing.to_json
        sys.stdout.write(dump(document))
    elif args.output == "name":
        for obj in objects:
            print(f"{resource.display}/{obj.get('metadata', {}).get('name', '')}")
    elif _is_cluster(resource):
        sys.stdout.write(
            printing.cluster_table(
                objects, now(), wide=args.output == "wide", show_labels=args.show_labels
            )
        )
    else:
        sys.stdout.write(
            printing.object_table(
                resource.kind,
                objects,
                now(),
                with_namespace=bool(args.all_namespaces) and resource.namespaced,
                wide=args.output == "wide",
                show_labels=args.show_labels,
            )
        )


def _nothing_found(namespace: str | None) -> None:
    where = f" in {namespace} namespace" if namespace else ""
    print(f"No resources found{where}.", file=sys.stderr)


def _members(client: HubClient) -> list[dict[str, Any]]:
    clusters = (client.request("GET", CLUSTERS_PATH) or {}).get("items") or []
    if not clusters:
        print("No member cluster has joined yet (kfed token create).", file=sys.stderr)
    return list(clusters)


def _get_events(args: argparse.Namespace, client: HubClient, resource: Resource) -> int:
    if args.names or args.clusters:
        return fail("kfed get events lists events: give no names, and no --clusters")
    namespace = None if args.all_namespaces else str(args.namespace or "default")
    found = events.list_events(client, namespace)
    if not found:
        _nothing_found(namespace)
    elif args.output in ("yaml", "json", "name"):
        _print_objects(args, resource, found, single=False)
    else:
        table = events.event_table(
            found, now(), with_namespace=namespace is None, wide=args.output == "wide"
        )
        sys.stdout.write(table)
    return 0


def _get_pods(args: argparse.Namespace, client: HubClient) -> int:
    if not args.clusters:
        return fail(
            "kfed federates workloads, not pods: pods belong to member clusters. "
            "`kfed get pods --clusters` shows the pods of kfed's ReplicaSets and Deployments in "
            "each cluster"
        )
    resources = ResourceMap(client)
    namespace = None if args.all_namespaces else str(args.namespace or "default")
    query = {"labelSelector": args.selector} if args.selector else None
    workloads: list[dict[str, Any]] = []
    for name in WORKLOADS:
        for resource in resources.lookup(name):
            answer = client.request("GET", resource.path(namespace), query=query)
            workloads += list((answer or {}).get("items") or [])
    clusters = _members(client)
    if clusters:
        view = percluster.pods_view(
            clusters, workloads, now(), namespace=namespace, wide=args.output == "wide"
        )
        sys.stdout.write(view)
    return 0


def _get(args: argparse.Namespace, client: HubClient) -> int:
    if args.kind.lower() in POD_NAMES:
        return _get_pods(args, client)
    candidates = ResourceMap(client).lookup(args.kind)
    if not candidates:
        return fail(f'the server doesn\'t have a resource type "{args.kind}"')
    resource = candidates[0]
    if _is_event(resource):
        return _get_events(args, client, resource)
    if args.clusters and _is_cluster(resource):
        return fail("--clusters shows objects per cluster; use it with a kind of object")
    namespace = _namespace(args, resource)
    code = 0
    objects: list[dict[str, Any]] = []
    if args.names:
        for name in args.names:
            try:
                resource, obj = get_object(client, candidates, namespace, name)
            except HubApiError as exc:
                print(server_error(exc), file=sys.stderr)
                code = 1
                continue
            objects.append(obj)
    else:
        resource, objects = _list(client, candidates, namespace, args.selector or "")
        if not objects:
            _nothing_found(namespace)
            return code
    if not objects:
        return code
    if args.clusters:
        clusters = _members(client)
        if not clusters:
            return code
        if resource.kind in ("ReplicaSet", "Deployment"):
            view = percluster.workload_view(
                resource.kind, clusters, objects, now(), namespace=namespace
            )
        else:
            view = printing.per_cluster_view(clusters, objects)
        sys.stdout.write(view)
        return code
    _print_objects(args, resource, objects, single=len(args.names) == 1)
    return code


def _describe(args: argparse.Namespace, client: HubClient) -> int:
    candidates = ResourceMap(client).lookup(args.kind)
    if not candidates:
        return fail(f'the server doesn\'t have a resource type "{args.kind}"')
    namespace = _namespace(args, candidates[0])
    code = 0
    for index, name in enumerate(args.names):
        try:
            resource, obj = get_object(client, candidates, namespace, name)
        except HubApiError as exc:
            print(server_error(exc), file=sys.stderr)
            code = 1
            continue
        if index:
            print()
        if _is_cluster(resource):
            found = events.events_of_cluster(client, name)
            sys.stdout.write(describe_cluster(obj, now(), found))
        else:
            sys.stdout.write(describe(obj, now(), events.events_about(client, obj)))
    return code


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``get`` and ``describe`` to the ``kfed`` CLI."""
    get = subparsers.add_parser(
        "get",
        help="show federated objects or member clusters",
        description="Show federated objects (kfed get configmaps) or member clusters "
        "(kfed get clusters); --clusters shows each member cluster's view of the objects.",
    )
    get.add_argument(
        "kind",
        help="kind: plural, singular or short name (cm, svc, rs, clusters, events; "
        "pods with --clusters)",
    )
    get.add_argument("names", nargs="*", help="object names (default: all)")
    add_namespace(get)
    get.add_argument("-A", "--all-namespaces", action="store_true", help="list every namespace")
    get.add_argument("-l", "--selector", help="label selector, e.g. app=nginx,tier!=db")
    get.add_argument(
        "--clusters", action="store_true", help="one section per member cluster (its view)"
    )
    get.add_argument("--show-labels", action="store_true", help="add a LABELS column")
    add_output(get)
    get.set_defaults(handler=with_client(_get))

    describe = subparsers.add_parser(
        "describe", help="show an object's details and its state in every member cluster"
    )
    describe.add_argument("kind", help="kind: plural, singular or short name")
    describe.add_argument("names", nargs="+", help="object names")
    add_namespace(describe)
    describe.set_defaults(handler=with_client(_describe))
