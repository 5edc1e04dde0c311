"""``kfed agent manifests NAME --config DIR``: a member cluster's agent install as one YAML stream.

Layer: ``kfed_agent`` command shell (reads the config directory, writes stdout; no network, no
Kubernetes API). The objects are built here from Python data, the same objects as the kustomize
base in ``deploy/agent/base`` (a test keeps the two equal), so the RBAC table below is the one
place that says what the agent may do. The agent's private key goes into the rendered Secret on
stdout and nowhere else: never into an error message, a log line or stderr.

The install: Namespace ``kfed-system``, ServiceAccount ``kfed-agent``, the RBAC (an aggregated
ClusterRole, so operators grant more kinds by labelling a ClusterRole of their own, the built-in
kinds' ClusterRole, a Role for the leader Lease), the Secret ``kfed-agent-credentials`` holding
the ``kfed join --out`` files, and the DaemonSet. Every agent pod copies the Secret into a
writable in-memory directory first (certificate rotation writes the renewed pair there), then
competes for the Lease; one leads.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import ipaddress
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from kfed_agent import __version__
from kfed_agent import config as agent_config
from kfed_core.conventions import AGENT_LEASE_NAME, AGENT_NAMESPACE
from kfed_core.identity import valid_cluster_name

NAME = "kfed-agent"
CREDENTIALS_SECRET = "kfed-agent-credentials"
DEFAULT_IMAGE = f"ghcr.io/kfed/kfed-agent:{__version__}"
AGGREGATE_LABEL = "kfed.io/aggregate-to-agent"
BUILTIN_ROLE = "kfed-agent-builtin-kinds"
LEASE_ROLE = "kfed-agent-leader-election"
CONFIG_DIR = "/etc/kfed/agent"
CREDENTIALS_DIR = "/var/run/secrets/kfed.io/credentials"
METRICS_PORT = 9102
RUN_AS = 10001  # the image's kfed user
CREDENTIALS_HASH_ANNOTATION = "kfed.io/credentials-sha256"

_LABELS = {"app.kubernetes.io/name": NAME, "app.kubernetes.io/part-of": "kfed"}
_SELECTOR = {"app.kubernetes.io/name": NAME}


@dataclass(frozen=True, slots=True, kw_only=True)
class Rule:
    """One RBAC rule and the reason the agent needs it (deploy/README.md lists the reasons)."""

    group: str
    resources: tuple[str, ...]
    verbs: tuple[str, ...]
    resource_names: tuple[str, ...] = ()
    why: str = ""

    def manifest(self) -> dict[str, Any]:
        rule: dict[str, Any] = {"apiGroups": [self.group], "resources": list(self.resources)}
        if self.resource_names:
            rule["resourceNames"] = list(self.resource_names)
        rule["verbs"] = list(self.verbs)
        return rule


# Server-side apply is PATCH (and needs create when the object is new); drift checks, CRD waits
# and orphan releases GET and PUT; removals DELETE; Hello's inventory lists every kind and drift
# repair watches what kfed applied.
OBJECT_VERBS = ("create", "delete", "get", "list", "patch", "update", "watch")

CLUSTER_RULES: tuple[Rule, ...] = (
    Rule(
        group="",
        resources=("configmaps", "namespaces", "secrets", "serviceaccounts", "services"),
        verbs=OBJECT_VERBS,
        why="the federated core kinds; namespaces also for kfed-system when it is missing",
    ),
    Rule(
        group="apps",
        resources=("deployments", "replicasets"),
        verbs=OBJECT_VERBS,
        why="federated workloads",
    ),
    Rule(
        group="networking.k8s.io",
        resources=("ingresses",),
        verbs=OBJECT_VERBS,
        why="federated Ingresses",
    ),
    Rule(
        group="networking.k8s.io",
        resources=("ingresses/status",),
        verbs=("update",),
        why="the federated Ingress's global address, written into the member Ingress's status",
    ),
    Rule(
        group="apiextensions.k8s.io",
        resources=("customresourcedefinitions",),
        verbs=OBJECT_VERBS,
        why="federated CustomResourceDefinitions (their custom resources need a rule of their own)",
    ),
    Rule(
        group="",
        resources=("nodes", "pods"),
        verbs=("list",),
        why="cluster health and capacity; pods also for workload status and ready endpoints",
    ),
)

LEASE_RULES: tuple[Rule, ...] = (
    Rule(
        group="coordination.k8s.io",
        resources=("leases",),
        verbs=("create",),
        why="the leader Lease on a fresh cluster (create cannot be limited by name)",
    ),
    Rule(
        group="coordination.k8s.io",
        resources=("leases",),
        verbs=("get", "update"),
        resource_names=(AGENT_LEASE_NAME,),
        why="acquire, renew and release the leader Lease",
    ),
)


class ManifestsError(Exception):
    """The install cannot be rendered; the message says what is wrong and what to do."""


def _meta(name: str, *, namespaced: bool = True, **extra: Any) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name}
    if namespaced:
        meta["namespace"] = AGENT_NAMESPACE
    meta["labels"] = dict(_LABELS)
    meta.update(extra)
    return meta


def _container_security() -> dict[str, Any]:
    """A fresh dict per container (shared ones would come out as YAML anchors)."""
    return {
        "allowPrivilegeEscalation": False,
        "readOnlyRootFilesystem": True,
        "runAsNonRoot": True,
        "capabilities": {"drop": ["ALL"]},
    }


def _daemonset(image: str) -> dict[str, Any]:
    copy_credentials = (
        "set -eu\n"
        f"install -d -m 0700 {CONFIG_DIR}\n"
        "for f in agent.yaml ca.crt tls.crt tls.key; do\n"
        f'  install -m 0600 "{CREDENTIALS_DIR}/$f" "{CONFIG_DIR}/$f"\n'
        "done\n"
    )
    return {
        "apiVersion": "apps/v1",
        "kind": "DaemonSet",
        "metadata": _meta(NAME),
        "spec": {
            "selector": {"matchLabels": dict(_SELECTOR)},
            "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 1}},
            "template": {
                "metadata": {"labels": dict(_LABELS)},
                "spec": {
                    "serviceAccountName": NAME,
                    "automountServiceAccountToken": True,
                    "enableServiceLinks": False,
                    "securityContext": {
                        "runAsNonRoot": True,
                        "runAsUser": RUN_AS,
                        "runAsGroup": RUN_AS,
                        "fsGroup": RUN_AS,
                        "seccompProfile": {"type": "RuntimeDefault"},
                    },
                    "tolerations": [
                        {
                            "key": "node-role.kubernetes.io/control-plane",
                            "operator": "Exists",
                            "effect": "NoSchedule",
                        }
                    ],
                    "initContainers": [
                        {
                            "name": "credentials",
                            "image": image,
                            "command": ["sh", "-c", copy_credentials],
                            "securityContext": _container_security(),
                            "resources": {
                                "requests": {"cpu": "10m", "memory": "16Mi"},
                                "limits": {"memory": "32Mi"},
                            },
                            "volumeMounts": [
                                {
                                    "name": "credentials",
                                    "mountPath": CREDENTIALS_DIR,
                                    "readOnly": True,
                                },
                                {"name": "config", "mountPath": "/etc/kfed"},
                            ],
                        }
                    ],
                    "containers": [
                        {
                            "name": "agent",
                            "image": image,
                            "command": ["kfed-agent"],
                            "args": [
                                "--config",
                                CONFIG_DIR,
                                "--log-format",
                                "json",
                                "--metrics-addr",
                                f"0.0.0.0:{METRICS_PORT}",
                                "--credentials-secret",
                                f"{AGENT_NAMESPACE}/{CREDENTIALS_SECRET}",
                            ],
                            "ports": [
                                {
                                    "name": "metrics",
                                    "containerPort": METRICS_PORT,
                                    "protocol": "TCP",
                                }
                            ],
                            "livenessProbe": {
                                "httpGet": {"path": "/metrics", "port": "metrics"},
                                "initialDelaySeconds": 5,
                                "periodSeconds": 20,
                                "timeoutSeconds": 5,
                                "failureThreshold": 3,
                            },
                            "securityContext": _container_security(),
                            "resources": {
                                "requests": {"cpu": "50m", "memory": "96Mi"},
                                "limits": {"memory": "384Mi"},
                            },
                            "volumeMounts": [
                                {"name": "config", "mountPath": "/etc/kfed"},
                                {"name": "tmp", "mountPath": "/tmp"},
                            ],
                        }
                    ],
                    "volumes": [
                        {
                            "name": "credentials",
                            "secret": {"secretName": CREDENTIALS_SECRET, "defaultMode": 0o440},
                        },
                        {"name": "config", "emptyDir": {"medium": "Memory", "sizeLimit": "1Mi"}},
                        {"name": "tmp", "emptyDir": {"sizeLimit": "16Mi"}},
                    ],
                },
            },
        },
    }


def base_objects(image: str = DEFAULT_IMAGE) -> list[dict[str, Any]]:
    """The agent install without credentials: the objects of ``deploy/agent/base``."""
    aggregate = {AGGREGATE_LABEL: "true"}
    return [
        {
            "apiVersion": "v1",
            "kind": "Namespace",
            "metadata": _meta(AGENT_NAMESPACE, namespaced=False),
        },
        {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": _meta(NAME)},
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRole",
            "metadata": _meta(NAME, namespaced=False),
            "aggregationRule": {"clusterRoleSelectors": [{"matchLabels": aggregate}]},
        },
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRole",
            "metadata": {"name": BUILTIN_ROLE, "labels": {**_LABELS, **aggregate}},
            "rules": [rule.manifest() for rule in CLUSTER_RULES],
        },
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRoleBinding",
            "metadata": _meta(NAME, namespaced=False),
            "roleRef": {
                "apiGroup": "rbac.authorization.k8s.io",
                "kind": "ClusterRole",
                "name": NAME,
            },
            "subjects": [{"kind": "ServiceAccount", "name": NAME, "namespace": AGENT_NAMESPACE}],
        },
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "Role",
            "metadata": _meta(LEASE_ROLE),
            "rules": [rule.manifest() for rule in LEASE_RULES],
        },
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "RoleBinding",
            "metadata": _meta(LEASE_ROLE),
            "roleRef": {
                "apiGroup": "rbac.authorization.k8s.io",
                "kind": "Role",
                "name": LEASE_ROLE,
            },
            "subjects": [{"kind": "ServiceAccount", "name": NAME, "namespace": AGENT_NAMESPACE}],
        },
        _daemonset(image),
    ]


def _in_cluster_config(config: agent_config.AgentConfig) -> bytes:
    """``agent.yaml`` for a pod: the same hub and cluster, with in-cluster credentials."""
    document = {
        "apiVersion": agent_config.API_VERSION,
        "kind": agent_config.KIND,
        "cluster": config.cluster,
        "hubApi": config.hub_api,
        "hubSync": config.hub_sync,
        "kubeconfig": "",
        "context": None,
    }
    return yaml.safe_dump(document, sort_keys=False).encode()


def _loopback(address: str) -> bool:
    host = address.rpartition(":")[0].strip("[]").lower()
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True, slots=True, kw_only=True)
class Rendered:
    """The YAML stream and the notes for the person running the command (no secrets)."""

    text: str
    notes: tuple[str, ...]


def render(name: str, config_dir: Path, *, image: str = DEFAULT_IMAGE) -> Rendered:
    """The agent install for cluster ``name`` from the ``kfed join --out`` directory
    ``config_dir``; raises :class:`ManifestsError`."""
    problem = valid_cluster_name(name)
    if problem is not None:
        raise ManifestsError(f"invalid cluster name {name[:80]!r}: {problem}")
    if not image or any(c.isspace() for c in image):
        raise ManifestsError(f"--image {image!r} is not an image reference (registry/name:tag)")
    try:
        config, credentials = agent_config.load(config_dir)
    except agent_config.ConfigError as exc:
        raise ManifestsError(f"cannot use the agent config: {exc}") from None
    if config.cluster != name:
        raise ManifestsError(
            f"the agent config in {config_dir} is for cluster {config.cluster!r}, not {name!r}; "
            f"give the directory `kfed join {name} ... --out DIR` wrote"
        )
    notes: list[str] = []
    if config.kubeconfig:
        notes.append(
            f"the agent config names the kubeconfig {config.kubeconfig}; the install uses the "
            "pod's service account (in-cluster credentials) instead"
        )
    if _loopback(config.hub_sync):
        notes.append(
            f"the hub's Sync address {config.hub_sync} is a loopback address, which agent pods "
            "cannot reach: start the hub with --advertise-host set to a name the member "
            "cluster can reach, and join again"
        )
    files = {
        agent_config.CONFIG_FILE: _in_cluster_config(config),
        agent_config.CA_FILE: credentials.ca_pem,
        agent_config.CERT_FILE: credentials.cert_pem,
        agent_config.KEY_FILE: credentials.key_pem,
    }
    digest = hashlib.sha256()
    for file_name in sorted(files):
        digest.update(file_name.encode() + b"\0" + files[file_name] + b"\0")
    secret = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": _meta(CREDENTIALS_SECRET, labels={**_LABELS, "kfed.io/cluster": name}),
        "type": "Opaque",
        "data": {k: base64.b64encode(v).decode() for k, v in sorted(files.items())},
    }
    objects = base_objects(image)
    daemonset = objects[-1]
    # A new Secret (a new join) changes the pod template, so the DaemonSet rolls its pods.
    daemonset["spec"]["template"]["metadata"]["annotations"] = {
        CREDENTIALS_HASH_ANNOTATION: digest.hexdigest()
    }
    objects.insert(len(objects) - 1, secret)
    header = (
        f"# kfed agent install for member cluster {name}, hub {config.hub_sync}.\n"
        "# It holds the agent's private key: apply it with\n"
        "# `kubectl apply --server-side -f -` and do not keep it.\n"
    )
    text = header + yaml.safe_dump_all(objects, sort_keys=False, explicit_start=True)
    return Rendered(text=text, notes=tuple(notes))


def _run(args: argparse.Namespace) -> int:
    try:
        rendered = render(args.name, args.config, image=args.image)
    except ManifestsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    for note in rendered.notes:
        print(f"note: {note}", file=sys.stderr)
    if sys.stdout.isatty():
        print(
            "note: this output holds the agent's private key; pipe it into "
            "`kubectl apply --server-side -f -` rather than showing it",
            file=sys.stderr,
        )
    sys.stdout.write(rendered.text)
    sys.stdout.flush()
    return 0


def register_manifests(
    agent_commands: argparse._SubParsersAction[argparse.ArgumentParser],
) -> None:
    """Add ``manifests`` under ``kfed agent``."""
    parser = agent_commands.add_parser(
        "manifests",
        help="print a member cluster's agent install (with its credentials) as YAML",
        description="Render the agent's Kubernetes install for cluster NAME from the directory "
        "`kfed join --out` wrote: the objects of deploy/agent/base plus the Secret "
        f"{CREDENTIALS_SECRET} holding that directory. "
        "Pipe it into `kubectl apply --server-side -f -`.",
    )
    parser.add_argument("name", metavar="NAME", help="the member cluster's name, as joined")
    parser.add_argument(
        "--config", required=True, type=Path, metavar="DIR", help="directory written by kfed join"
    )
    parser.add_argument(
        "--image", default=DEFAULT_IMAGE, help=f"the agent image (default {DEFAULT_IMAGE})"
    )
    parser.set_defaults(handler=_run)
