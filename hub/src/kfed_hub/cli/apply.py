"""``kfed apply|create|delete -f FILE|DIR`` and ``kfed delete KIND NAME``.

Layer: the CLI shell over :class:`kfed_hub.client.HubClient`. Every file is read and every
object mapped to a resource before the first request: a malformed file, or a core or ``kfed.io``
kind the hub does not serve, stops the command with nothing sent. A kind of any other group is
mapped even when the hub has not seen it yet (:meth:`.resources.ResourceMap.resolve`): the hub
propagates any kind, and a CustomResourceDefinition in the same files names its plural and
scope. Then each object is sent in file order; a refused object is reported (``Error from server
(Reason): ...``) and the rest still go, and the exit code is 1 if any was refused, as kubectl's.

``apply`` creates what is missing and replaces what differs (``configured``); an object whose
desired content already matches is left alone (``unchanged``). ``delete --cascade`` takes
kubectl's values: ``background`` (the default) and ``foreground`` remove the objects from every
member cluster; ``orphan`` deletes the federated objects but leaves the members' copies,
released from kfed (``configmap "x" deleted (orphaned: left in member clusters)``).
"""

from __future__ import annotations

import argparse
import copy
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from kfed_hub.cli.common import add_namespace, fail, server_error, with_client
from kfed_hub.cli.manifests import Document, ManifestError, load_documents
from kfed_hub.cli.objects import get_object
from kfed_hub.cli.resources import RESERVED_GROUPS, Resource, ResourceMap, crd_resources
from kfed_hub.client import HubApiError, HubClient
from kfed_hub.desired import desired_manifest


@dataclass(frozen=True, slots=True, kw_only=True)
class Planned:
    """One object from a file, mapped to its resource, with its namespace settled."""

    source: str
    resource: Resource
    namespace: str | None
    name: str
    manifest: dict[str, Any]


def plan(documents: list[Document], resources: ResourceMap, namespace: str | None) -> list[Planned]:
    """Map every document to a served resource; raises :class:`ManifestError` on the first that
    cannot be (so that nothing is sent)."""
    planned = []
    taught = crd_resources(document.manifest for document in documents)
    for document in documents:
        manifest = copy.deepcopy(document.manifest)
        metadata = manifest.setdefault("metadata", {})
        if not isinstance(metadata, dict):
            raise ManifestError(f'error validating "{document.source}": metadata must be a mapping')
        name, given = str(metadata.get("name") or ""), str(metadata.get("namespace") or "")
        api_version, kind = str(manifest["apiVersion"]), str(manifest["kind"])
        resource = resources.resolve(api_version, kind, taught)
        if resource is None or "update" not in resource.verbs:
            raise ManifestError(
                f'resource mapping not found for name: "{name}" namespace: "{given}" from '
                f'"{document.source}": no matches for kind "{kind}" in version "{api_version}"\n'
                + _federated(resources, kind)
            )
        target: str | None = None
        if resource.namespaced:
            if namespace and given and given != namespace:
                raise ManifestError(
                    f'the namespace from the provided object "{given}" does not match the '
                    f"namespace \"{namespace}\". You must pass '--namespace={given}' to perform "
                    "this operation."
                )
            target = given or namespace or "default"
            metadata["namespace"] = target
        else:
            metadata.pop("namespace", None)
        planned.append(
            Planned(
                source=document.source,
                resource=resource,
                namespace=target,
                name=name,
                manifest=manifest,
            )
        )
    return planned


def _federated(resources: ResourceMap, kind: str) -> str:
    if kind == "Pod":
        return (
            "kfed federates workloads, not pods: pods belong to member clusters; federate a "
            "Deployment or a ReplicaSet (`kfed get pods --clusters` shows their pods)"
        )
    core = [
        f"{r.api_version} {r.kind}"
        for r in resources.all()
        if r.group in RESERVED_GROUPS and "update" in r.verbs
    ]
    return (
        f"kfed federates these core kinds: {', '.join(core)}; kinds of named groups (apps/v1 "
        "StatefulSet, custom resources ...) are propagated as they are"
    )


def _apply_one(client: HubClient, item: Planned) -> str:
    resource = item.resource
    if not item.name:  # the hub answers why (name is required)
        return _create_one(client, item)
    try:
        _, existing = get_object(client, [resource], item.namespace, item.name)
    except HubApiError as exc:
        if exc.status != 404:
            raise
        client.request("POST", resource.path(item.namespace), item.manifest)
        return "created"
    if desired_manifest(existing) == desired_manifest(item.manifest):
        return "unchanged"
    body = copy.deepcopy(item.manifest)
    metadata = body["metadata"]
    metadata.setdefault("resourceVersion", existing.get("metadata", {}).get("resourceVersion"))
    client.request("PUT", resource.path(item.namespace, item.name), body)
    return "configured"


def _create_one(client: HubClient, item: Planned) -> str:
    client.request("POST", item.resource.path(item.namespace), item.manifest)
    return "created"


CASCADES = {"background": "Background", "foreground": "Foreground", "orphan": "Orphan"}
ORPHANED = " (orphaned: left in member clusters)"


def cascade_policy(value: str) -> str:
    """kubectl's ``--cascade`` value as a propagation policy; ValueError with kubectl's words."""
    if value in CASCADES:
        return CASCADES[value]
    if value in ("true", "false"):  # kubectl's old boolean form, still accepted with a warning
        replacement = "background" if value == "true" else "orphan"
        print(
            f"warning: --cascade={value} is deprecated (boolean value) and can be replaced "
            f"with --cascade={replacement}.",
            file=sys.stderr,
        )
        return CASCADES[replacement]
    raise ValueError(
        f'invalid cascade value ({value}). Must be "background", "foreground", or "orphan".'
    )


def _deleter(policy: str) -> Callable[[HubClient, Planned], str]:
    def delete(client: HubClient, item: Planned) -> str:
        path = item.resource.path(item.namespace, item.name)
        client.request("DELETE", path, query={"propagationPolicy": policy})
        return "deleted" + (ORPHANED if policy == "Orphan" else "")

    return delete


_VERBS: dict[str, tuple[str, Callable[[HubClient, Planned], str]]] = {
    "apply": ("applying", _apply_one),
    "create": ("creating", _create_one),
}


def _run_files(args: argparse.Namespace, client: HubClient) -> int:
    verb = args.command
    if verb == "delete":
        try:
            action: Callable[[HubClient, Planned], str] = _deleter(cascade_policy(args.cascade))
        except ValueError as exc:
            return fail(str(exc))
        gerund = "deleting"
    else:
        gerund, action = _VERBS[verb]
    documents = load_documents(args.filename, verb=verb)
    planned = plan(documents, ResourceMap(client), args.namespace)
    code = 0
    for item in planned:
        try:
            outcome = action(client, item)
        except HubApiError as exc:
            print(
                server_error(exc, f'error when {gerund} "{item.source}": '),
                file=sys.stderr,
                flush=True,
            )
            code = 1
            continue
        if outcome.startswith("deleted"):
            print(f'{item.resource.display} "{item.name}" {outcome}', flush=True)
        else:
            print(f"{item.resource.display}/{item.name} {outcome}", flush=True)
    return code


def _delete(args: argparse.Namespace, client: HubClient) -> int:
    if args.filename:
        if args.kind:
            return fail("give either -f FILE or KIND NAME, not both")
        return _run_files(args, client)
    if not args.kind or not args.names:
        return fail("you must provide one or more resources by -f FILE or by KIND NAME")
    try:
        policy = cascade_policy(args.cascade)
    except ValueError as exc:
        return fail(str(exc))
    candidates = ResourceMap(client).lookup(args.kind)
    if not candidates:
        return fail(f'the server doesn\'t have a resource type "{args.kind}"')
    code = 0
    for name in args.names:
        try:
            resource, _ = get_object(client, candidates, _namespace(args, candidates[0]), name)
            query = {"propagationPolicy": policy} if resource.group != "kfed.io" else None
            client.request("DELETE", resource.path(_namespace(args, resource), name), query=query)
        except HubApiError as exc:
            print(server_error(exc), file=sys.stderr, flush=True)
            code = 1
            continue
        suffix = ORPHANED if policy == "Orphan" and query else ""
        print(f'{resource.display} "{name}" deleted{suffix}', flush=True)
    return code


def _namespace(args: argparse.Namespace, resource: Resource) -> str | None:
    return str(args.namespace or "default") if resource.namespaced else None


def _add_filename(parser: argparse.ArgumentParser, *, required: bool) -> None:
    parser.add_argument(
        "-f",
        "--filename",
        action="append",
        required=required,
        help="a manifest file, a directory of them (*.yaml, *.yml, *.json) or - for stdin",
    )


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``apply``, ``create`` and ``delete`` to the ``kfed`` CLI."""
    helps = {
        "apply": "create or replace federated objects from files",
        "create": "create federated objects from files (fails if they exist)",
    }
    for verb, text in helps.items():
        parser = subparsers.add_parser(verb, help=text)
        _add_filename(parser, required=True)
        add_namespace(parser)
        parser.set_defaults(handler=with_client(_run_files))
    delete = subparsers.add_parser(
        "delete", help="delete federated objects (from files, or by kind and name)"
    )
    delete.add_argument("kind", nargs="?", help="kind: plural, singular or short name")
    delete.add_argument("names", nargs="*", help="object names")
    delete.add_argument(
        "--cascade",
        default="background",
        metavar="background|foreground|orphan",
        help="orphan: delete the federated objects but leave the member clusters' copies "
        "(kfed stops managing them); background (default) and foreground remove them everywhere",
    )
    _add_filename(delete, required=False)
    add_namespace(delete)
    delete.set_defaults(handler=with_client(_delete))
