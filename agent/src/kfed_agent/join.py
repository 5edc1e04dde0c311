"""``kfed join``: the member-cluster side of joining a hub, kubeadm style.

Layer: ``kfed_agent`` I/O shell (blocking HTTPS with the standard library; run it from the CLI or
through ``asyncio.to_thread``). It must not send the token anywhere before the hub's CA has been
checked against the pinned hash, and the private key it makes never leaves the ``--out`` directory.

Steps:

1. Check everything local first (name, hash form, kubeconfig, an empty ``--out``), so that a typo
   costs nothing at the hub.
2. ``GET /kfed/v1/cluster-info`` over TLS *without* verification: the answer is only trusted
   after its CA matches ``--ca-hash`` (sha256 of the CA's SubjectPublicKeyInfo).
3. ``POST /kfed/v1/join`` with ``{name, token, csr}`` over TLS verified against that CA, host name
   included. A refusal is a Kubernetes Status whose message is shown as it is.
4. Check the certificate (our key, our cluster, the pinned CA) and write the config directory.
"""

from __future__ import annotations

import argparse
import http.client
import json
import re
import ssl
import sys
from pathlib import Path
from typing import Any

import yaml
from cryptography.exceptions import InvalidSignature

from kfed_agent.config import AgentConfig, ConfigError, Credentials, holds_config, save
from kfed_core import pki
from kfed_core.identity import cluster_of, make_csr, valid_cluster_name
from kfed_core.tls import bootstrap_ssl_context, client_ssl_context

CLUSTER_INFO_PATH = "/kfed/v1/cluster-info"
JOIN_PATH = "/kfed/v1/join"
MAX_ANSWER_BYTES = 1 << 20  # a CA and a certificate fit in a few KiB; refuse to buffer more
TIMEOUT_SECONDS = 30.0
_CA_HASH = re.compile(r"sha256:[0-9a-f]{64}")


class JoinFailed(Exception):
    """The join did not happen (or its result could not be kept); ``str()`` says why and what to
    do, for the person running ``kfed join``."""


def _hub_host(hub: str) -> str:
    host = hub.strip().removeprefix("https://").rstrip("/")
    if not host or "/" in host or host.startswith("http://"):
        raise JoinFailed(f"--hub {hub!r} must be the hub's HTTPS address as host:port")
    return host


def _check_kubeconfig(kubeconfig: str, context: str | None) -> str:
    """The kubeconfig's absolute path ("" for in-cluster config), checked enough to catch typos."""
    if not kubeconfig:
        if context:
            raise JoinFailed("--context needs a --kubeconfig (in-cluster config has no contexts)")
        return ""
    path = Path(kubeconfig).expanduser()
    try:
        document: Any = yaml.safe_load(path.read_bytes())
    except OSError as exc:
        raise JoinFailed(f"cannot read the kubeconfig {kubeconfig}: {exc.strerror}") from None
    except yaml.YAMLError:
        raise JoinFailed(f"the kubeconfig {kubeconfig} is not valid YAML") from None
    if context is not None:
        contexts = document.get("contexts") if isinstance(document, dict) else None
        names = [c.get("name") for c in contexts or [] if isinstance(c, dict)]
        if context not in names:
            known = ", ".join(str(n) for n in names) or "none"
            raise JoinFailed(
                f'the kubeconfig {kubeconfig} has no context "{context}" (it has: {known})'
            )
    return str(path.resolve())


def _request(
    host: str, method: str, path: str, *, context: ssl.SSLContext, body: bytes | None = None
) -> tuple[int, bytes]:
    connection = http.client.HTTPSConnection(host, context=context, timeout=TIMEOUT_SECONDS)
    headers = {"Accept": "application/json", "User-Agent": "kfed-join"}
    if body is not None:
        headers["Content-Type"] = "application/json"
    try:
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        data = response.read(MAX_ANSWER_BYTES + 1)
    except ssl.SSLCertVerificationError as exc:
        raise JoinFailed(
            f"the hub at {host} presented a serving certificate that does not verify against "
            f"its pinned CA ({exc.verify_message}); --hub must be a name or address the hub's "
            "certificate covers (it names the hosts the hub was started with)"
        ) from None
    except (OSError, http.client.HTTPException) as exc:
        raise JoinFailed(f"cannot reach the hub at https://{host}{path}: {exc}") from None
    finally:
        connection.close()
    if len(data) > MAX_ANSWER_BYTES:
        raise JoinFailed(f"the hub's answer to {path} is larger than {MAX_ANSWER_BYTES} bytes")
    return response.status, data


def _refusal(status: int, data: bytes, path: str) -> JoinFailed:
    try:
        document = json.loads(data)
    except ValueError:
        document = None
    if isinstance(document, dict) and document.get("kind") == "Status":
        message = document.get("message")
        if isinstance(message, str) and message:
            return JoinFailed(message)
    return JoinFailed(f"the hub answered {path} with HTTP {status} and no explanation")


def _fields(data: bytes, path: str, names: tuple[str, ...]) -> dict[str, str]:
    try:
        document = json.loads(data)
    except ValueError:
        document = None
    if not isinstance(document, dict):
        raise JoinFailed(f"the hub's answer to {path} is not a JSON object; is --hub a kfed hub?")
    found: dict[str, str] = {}
    for name in names:
        value = document.get(name)
        if not isinstance(value, str) or not value:
            raise JoinFailed(f"the hub's answer to {path} lacks {name!r}; is --hub a kfed hub?")
        found[name] = value
    return found


def join_cluster(
    name: str,
    *,
    hub: str,
    token: str,
    ca_hash: str,
    kubeconfig: str,
    context: str | None,
    out: Path,
) -> AgentConfig:
    """Join member cluster ``name`` to the hub at ``hub`` and write its config to ``out``."""
    problem = valid_cluster_name(name)
    if problem is not None:
        raise JoinFailed(f"invalid cluster name {name[:80]!r}: {problem}")
    expected = ca_hash.strip().lower()
    if not _CA_HASH.fullmatch(expected):
        raise JoinFailed(
            "--ca-hash must be sha256: followed by 64 hex digits, as printed by `kfed token create`"
        )
    host = _hub_host(hub)
    kubeconfig_path = _check_kubeconfig(kubeconfig, context)
    if holds_config(out):
        raise JoinFailed(f"--out {out} already exists and is not empty; give a new directory")

    status, data = _request(host, "GET", CLUSTER_INFO_PATH, context=bootstrap_ssl_context())
    if status != 200:
        raise _refusal(status, data, CLUSTER_INFO_PATH)
    ca_pem = _fields(data, CLUSTER_INFO_PATH, ("ca",))["ca"].encode()
    try:
        ca = pki.load_certificate(ca_pem)
    except ValueError:
        raise JoinFailed(
            f"the CA in the hub's {CLUSTER_INFO_PATH} is not a PEM certificate"
        ) from None
    found = pki.ca_hash(ca)
    if found != expected:
        raise JoinFailed(
            f"the hub's CA does not match the pinned hash: expected {expected}, found {found}; "
            f"check --ca-hash against the line `kfed token create` printed, and that --hub {hub} "
            "is that hub (if it is, something between you and it is not)"
        )

    # From here on the hub is verified against the pinned CA, so the token may travel.
    key = pki.new_private_key()
    body = json.dumps({"name": name, "token": token, "csr": make_csr(key, cluster=name).decode()})
    verified = client_ssl_context(ca_pem=ca_pem)
    status, data = _request(host, "POST", JOIN_PATH, context=verified, body=body.encode())
    if status not in (200, 201):
        raise _refusal(status, data, JOIN_PATH)
    grant = _fields(data, JOIN_PATH, ("cluster", "certificate", "syncAddress"))
    try:
        cert = pki.load_certificate(grant["certificate"].encode())
        cert.verify_directly_issued_by(ca)
    except (ValueError, TypeError, InvalidSignature) as exc:
        raise JoinFailed(f"the hub sent a certificate its CA did not sign ({exc})") from None
    if cert.public_key() != key.public_key() or cluster_of(cert) != name:
        raise JoinFailed(
            f'the hub sent a certificate that is not for this key and cluster "{name}"'
        )

    config = AgentConfig(
        cluster=name,
        hub_api=host,
        hub_sync=grant["syncAddress"],
        kubeconfig=kubeconfig_path,
        context=context,
    )
    pair = pki.KeyPair(cert, key)
    try:
        save(out, config, Credentials(ca_pem=ca_pem, cert_pem=pair.cert_pem, key_pem=pair.key_pem))
    except (ConfigError, OSError) as exc:
        raise JoinFailed(
            f'cluster "{name}" joined, but its config could not be written to {out}: {exc}; '
            f"run `kfed cluster remove {name}` on the hub, then join again with a new token"
        ) from None
    return config


def _run(args: argparse.Namespace) -> int:
    try:
        join_cluster(
            args.name,
            hub=args.hub,
            token=args.token,
            ca_hash=args.ca_hash,
            kubeconfig=args.kubeconfig,
            context=args.context,
            out=args.out,
        )
    except JoinFailed as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f'cluster "{args.name}" joined; run: kfed agent run --config {args.out}')
    return 0


def register_join(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``kfed join`` to ``subparsers``; its ``handler`` returns the exit code."""
    parser = subparsers.add_parser(
        "join",
        help="join a member cluster to a hub with a bootstrap token",
        description="Make this cluster's key and certificate request, check the hub's CA against "
        "--ca-hash, present the token, and write the agent's config to --out.",
    )
    parser.add_argument("name", metavar="NAME", help="the member cluster's name (a DNS label)")
    parser.add_argument("--hub", required=True, metavar="ADDR", help="the hub API's host:port")
    parser.add_argument("--token", required=True, help="from `kfed token create`")
    parser.add_argument("--ca-hash", required=True, metavar="sha256:HEX", help="the hub CA's pin")
    parser.add_argument(
        "--kubeconfig",
        required=True,
        metavar="FILE",
        help='the member cluster\'s kubeconfig ("" for in-cluster config)',
    )
    parser.add_argument("--context", default=None, help="kubeconfig context (default: current)")
    parser.add_argument(
        "--out", required=True, type=Path, metavar="DIR", help="new directory for the agent config"
    )
    parser.set_defaults(handler=_run)
