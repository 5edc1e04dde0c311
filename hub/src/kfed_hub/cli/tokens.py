"""``kfed token create [--ttl 1h] [--description TEXT]``: a single-use, expiring join token.

Layer: the CLI shell. Prints the whole ``kfed join ...`` line (CA hash included) on stdout, as
``kubeadm token create --print-join-command`` does, so it can be pasted or captured; the expiry
goes to stderr. The token is a secret: it is printed once and never logged.
"""

from __future__ import annotations

import argparse
import sys

from kfed_hub.cli import printing
from kfed_hub.cli.common import add_output, fail, with_client
from kfed_hub.client import HubClient

TOKENS_PATH = "/apis/kfed.io/v1alpha1/bootstraptokens"


def _create(args: argparse.Namespace, client: HubClient) -> int:
    answer = client.request(
        "POST", TOKENS_PATH, {"ttl": args.ttl, "description": args.description or ""}
    )
    if args.output == "json":
        sys.stdout.write(printing.to_json(answer))
    elif args.output == "yaml":
        sys.stdout.write(printing.to_yaml(answer))
    else:
        print(answer["joinCommand"])
        print(
            f"(single use; expires at {answer['expiresAt']}; run it where the member cluster's "
            "kubeconfig is)",
            file=sys.stderr,
        )
    return 0


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``token create`` to the ``kfed`` CLI."""
    token = subparsers.add_parser("token", help="manage bootstrap tokens for joining clusters")
    commands = token.add_subparsers(dest="token_command", metavar="COMMAND")
    token.set_defaults(handler=lambda args: fail("say what to do: kfed token create"))
    create = commands.add_parser(
        "create", help="make a single-use, expiring join token and print the join command"
    )
    create.add_argument(
        "--ttl", default="1h", help="how long the token is valid: 30m, 1h, 24h (default 1h)"
    )
    create.add_argument("--description", default="", help="what the token is for")
    add_output(create, ("yaml", "json"))
    create.set_defaults(handler=with_client(_create))
