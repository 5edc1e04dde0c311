"""``kfed label KIND NAME... KEY=VALUE... KEY-... [--overwrite]``, kubectl's ``label`` command.

Layer: the CLI shell over :class:`kfed_hub.client.HubClient`. Labels member clusters (``kfed label
cluster east provider=gce``: placement selectors read them) and federated objects alike: it reads
the object, checks the changes against its labels as kubectl does, then sends a merge patch of
``metadata.labels`` (``null`` removes a label).

kubectl's rules and words: ``KEY=VALUE`` sets, ``KEY-`` removes; changing a label that has
another value needs ``--overwrite`` (``'tier' already has a value (gold), and --overwrite is
false``); removing a label that is not there says ``label "tier" not found.``; the result is
``cluster/east labeled`` (``unlabeled`` when only removing, ``not labeled`` when nothing
changed). Keys and values are checked by the hub (422 with the reason), values here first.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from kfed_hub.api.names import label_value_problems
from kfed_hub.cli.common import add_namespace, fail, server_error, with_client
from kfed_hub.cli.objects import get_object
from kfed_hub.cli.resources import Resource, ResourceMap
from kfed_hub.client import HubApiError, HubClient

MERGE_PATCH = "application/merge-patch+json"


class LabelError(ValueError):
    """A label argument kubectl would refuse; ``str()`` is kubectl's message."""


@dataclass(frozen=True, slots=True, kw_only=True)
class LabelSpec:
    """What the command asks: labels to set and labels to remove."""

    set: dict[str, str] = field(default_factory=dict)
    remove: tuple[str, ...] = ()


def is_label_argument(argument: str) -> bool:
    """Whether an argument is a label change (``k=v``, ``k-``) rather than a name."""
    return "=" in argument or argument.endswith("-")


def parse_labels(arguments: list[str]) -> LabelSpec:
    """kubectl's parsing of label arguments."""
    wanted: dict[str, str] = {}
    remove: list[str] = []
    for argument in arguments:
        if "=" in argument:
            parts = argument.split("=")
            if len(parts) != 2:
                raise LabelError(f"invalid label spec: {argument}")
            problems = label_value_problems(parts[1])
            if problems:
                raise LabelError(f'invalid label value: "{argument}": {";".join(problems)}')
            wanted[parts[0]] = parts[1]
        elif argument.endswith("-"):
            remove.append(argument[:-1])
        else:
            raise LabelError(f"unknown label spec: {argument}")
    if any(key in wanted for key in remove):
        raise LabelError("can not both modify and remove a label in the same command")
    return LabelSpec(set=wanted, remove=tuple(remove))


def plan_patch(
    current: Mapping[str, str], spec: LabelSpec, *, overwrite: bool
) -> tuple[dict[str, str | None], list[str]]:
    """The ``metadata.labels`` merge patch, and the notes kubectl prints (labels to remove that
    are not there); raises :class:`LabelError` for a value changed without ``overwrite``."""
    if not overwrite:
        clashes = [
            f"'{key}' already has a value ({current[key]}), and --overwrite is false"
            for key, value in spec.set.items()
            if key in current and current[key] != value
        ]
        if clashes:
            raise LabelError(clashes[0] if len(clashes) == 1 else "[" + ", ".join(clashes) + "]")
    patch: dict[str, str | None] = {
        key: value for key, value in spec.set.items() if current.get(key) != value
    }
    notes = []
    for key in spec.remove:
        if key in current:
            patch[key] = None
        else:
            notes.append(f'label "{key}" not found.')
    return patch, notes


def outcome(patch: Mapping[str, str | None]) -> str:
    """kubectl's word for what a patch did."""
    if not patch:
        return "not labeled"
    return "unlabeled" if all(value is None for value in patch.values()) else "labeled"


def _display(resource: Resource, name: str) -> str:
    kind = "cluster" if resource.group == "kfed.io" else resource.display
    return f"{kind}/{name}"


def _label(args: argparse.Namespace, client: HubClient) -> int:
    names = [a for a in args.arguments if not is_label_argument(a)]
    changes = [a for a in args.arguments if is_label_argument(a)]
    if not names:
        return fail(
            "one or more resources must be specified as <resource> <name> (kfed label cluster "
            "east region=us-east)"
        )
    if not changes:
        return fail("at least one label update is required")
    try:
        spec = parse_labels(changes)
    except LabelError as exc:
        return fail(str(exc))
    candidates = ResourceMap(client).lookup(args.kind)
    if not candidates or "patch" not in candidates[0].verbs:
        return fail(f'the server doesn\'t have a resource type "{args.kind}" that can be labeled')
    code = 0
    for name in names:
        namespace = str(args.namespace or "default") if candidates[0].namespaced else None
        try:
            resource, obj = get_object(client, candidates, namespace, name)
            labels: Any = (obj.get("metadata") or {}).get("labels") or {}
            patch, notes = plan_patch(labels, spec, overwrite=args.overwrite)
            for note in notes:
                print(note, flush=True)
            if patch:
                body = {"metadata": {"labels": patch}}
                path = resource.path(namespace, name)
                client.request("PATCH", path, body, content_type=MERGE_PATCH)
        except HubApiError as exc:
            print(server_error(exc), file=sys.stderr, flush=True)
            code = 1
            continue
        except LabelError as exc:
            code = fail(str(exc))
            continue
        print(f"{_display(resource, name)} {outcome(patch)}", flush=True)
    return code


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``label`` to the ``kfed`` CLI."""
    label = subparsers.add_parser(
        "label",
        help="set or remove labels of member clusters or federated objects",
        description="Set (KEY=VALUE) or remove (KEY-) labels, kubectl style: kfed label "
        "cluster east provider=gce tier-. Placement selects clusters by their labels.",
    )
    label.add_argument("kind", help="kind: cluster, or a kind of federated object")
    label.add_argument(
        "arguments", nargs="+", metavar="NAME|KEY=VALUE|KEY-", help="names, then label changes"
    )
    label.add_argument(
        "--overwrite", action="store_true", help="allow changing labels that already have a value"
    )
    add_namespace(label)
    label.set_defaults(handler=with_client(_label))
