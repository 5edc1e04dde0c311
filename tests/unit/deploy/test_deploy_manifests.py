"""deploy/: every kustomization renders to objects that validate against the Kubernetes 1.37
schemas, follow the hardening rules, run commands the kfed CLIs accept, and (for the agent base)
equal what ``kfed agent manifests`` renders."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from kfed_agent.manifests import base_objects
from kfed_hub.cli.main import build_parser
from kfed_hub.ingress.settings import parse_settings

DEPLOY = Path(__file__).resolve().parents[3] / "deploy"
FOLDERS = sorted(p.parent.relative_to(DEPLOY) for p in DEPLOY.rglob("kustomization.yaml"))
Objects = list[dict[str, Any]]
Render = Callable[[Path], Objects]


def _find(objects: Objects, kind: str, name: str) -> dict[str, Any]:
    for obj in objects:
        if obj["kind"] == kind and obj["metadata"]["name"] == name:
            return obj
    raise AssertionError(f"no {kind} {name} among {[o['kind'] for o in objects]}")


def _pod(obj: dict[str, Any]) -> dict[str, Any]:
    pod: dict[str, Any] = obj["spec"]["template"]["spec"]
    return pod


def _containers(obj: dict[str, Any]) -> list[dict[str, Any]]:
    pod = _pod(obj)
    containers: list[dict[str, Any]] = pod.get("initContainers", []) + pod["containers"]
    return containers


def test_deploy_holds_the_bases_and_overlays_it_documents() -> None:
    expected = {
        f"{part}/{layer}"
        for part in ("hub", "agent")
        for layer in ("base", "overlays/dev", "overlays/prod")
    }
    assert {str(f) for f in FOLDERS} == expected


@pytest.mark.parametrize("folder", FOLDERS, ids=str)
def test_every_kustomization_validates_against_the_kubernetes_schemas(
    folder: Path, render: Render, validate: Callable[[Objects], list[str]]
) -> None:
    objects = render(DEPLOY / folder)
    assert objects
    assert validate(objects) == []


def test_validation_catches_an_unknown_field(
    render: Render, validate: Callable[[Objects], list[str]]
) -> None:
    objects = render(DEPLOY / "agent/base")
    _pod(_find(objects, "DaemonSet", "kfed-agent"))["containers"][0]["imagePullPolicie"] = "x"
    assert len(validate(objects)) == 1


@pytest.mark.parametrize("folder", FOLDERS, ids=str)
def test_every_container_is_hardened_and_bounded(folder: Path, render: Render) -> None:
    workloads = [o for o in render(DEPLOY / folder) if o["kind"] in ("Deployment", "DaemonSet")]
    assert len(workloads) == 1
    pod = _pod(workloads[0])
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["runAsUser"] != 0
    assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    for container in _containers(workloads[0]):
        security = container["securityContext"]
        assert security["allowPrivilegeEscalation"] is False, container["name"]
        assert security["readOnlyRootFilesystem"] is True, container["name"]
        assert security["capabilities"] == {"drop": ["ALL"]}, container["name"]
        assert container["resources"]["requests"]["memory"], container["name"]
        assert container["resources"]["limits"]["memory"], container["name"]
    assert all(o["metadata"].get("namespace", "kfed-system") == "kfed-system" for o in workloads)


def test_the_agent_base_is_what_kfed_agent_manifests_renders(render: Render) -> None:
    assert render(DEPLOY / "agent/base") == base_objects()


def test_overlays_size_resources_differently(render: Render) -> None:
    def requests(part: str, layer: str, kind: str) -> Any:
        objects = render(DEPLOY / part / layer)
        workload = next(o for o in objects if o["kind"] == kind)
        return _pod(workload)["containers"][0]["resources"]["requests"]

    for part, kind in (("hub", "Deployment"), ("agent", "DaemonSet")):
        dev, base, prod = (
            requests(part, layer, kind) for layer in ("overlays/dev", "base", "overlays/prod")
        )
        assert len({str(dev), str(base), str(prod)}) == 3, part


def test_prod_hub_is_reachable_from_other_networks_and_guarded(render: Render) -> None:
    prod = render(DEPLOY / "hub/overlays/prod")
    dev = render(DEPLOY / "hub/overlays/dev")
    assert _find(prod, "Service", "kfed-hub")["spec"]["type"] == "LoadBalancer"
    assert _find(dev, "Service", "kfed-hub")["spec"]["type"] == "ClusterIP"
    budget = _find(prod, "PodDisruptionBudget", "kfed-hub")
    hub = _find(prod, "Deployment", "kfed-hub")
    assert budget["spec"]["selector"]["matchLabels"].items() <= _pod_labels(hub).items()
    env = {e["name"]: e["value"] for e in _pod(hub)["containers"][0]["env"]}
    assert env["KFED_ADVERTISE_HOST"] != "kfed-hub.kfed-system.svc.cluster.local"
    assert hub["spec"]["replicas"] == 1 and hub["spec"]["strategy"] == {"type": "Recreate"}


def _pod_labels(obj: dict[str, Any]) -> dict[str, str]:
    labels: dict[str, str] = obj["spec"]["template"]["metadata"]["labels"]
    return labels


@pytest.mark.parametrize("layer", ["base", "overlays/dev", "overlays/prod"])
def test_hub_runs_kfed_hub_serve_with_flags_it_accepts(layer: str, render: Render) -> None:
    objects = render(DEPLOY / "hub" / layer)
    hub = _find(objects, "Deployment", "kfed-hub")
    container = _pod(hub)["containers"][0]
    assert container["command"] == ["kfed"]
    parser, _ = build_parser()
    args = parser.parse_args(container["args"])
    assert (args.command, args.hub_command) == ("hub", "serve")
    assert args.data_dir == "/var/lib/kfed/hub"
    assert (args.api_addr, args.sync_addr) == ("0.0.0.0:7443", "0.0.0.0:7444")
    assert args.advertise_host == "$(KFED_ADVERTISE_HOST)"
    assert "KFED_ADVERTISE_HOST" in {e["name"] for e in container["env"]}
    mounts = {m["name"]: m["mountPath"] for m in container["volumeMounts"]}
    assert args.data_dir.startswith(mounts["data"] + "/")
    assert args.settings == mounts["settings"] + "/hub.yaml"
    ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    assert ports == {"api": 7443, "sync": 7444}
    for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
        get = container[probe]["httpGet"]
        assert get["scheme"] == "HTTPS" and get["port"] == "api"
        assert get["path"] in ("/healthz", "/readyz")
    settings = _find(objects, "ConfigMap", "kfed-hub-settings")["data"]["hub.yaml"]
    plugins, ingress = parse_settings(yaml.safe_load(settings), source="hub.yaml")
    assert (
        ingress.default_provider in plugins.allow or ingress.default_provider in ingress.providers
    )
    claim = _pod(hub)["volumes"][0]["persistentVolumeClaim"]["claimName"]
    assert _find(objects, "PersistentVolumeClaim", claim)


@pytest.mark.parametrize("layer", ["base", "overlays/dev", "overlays/prod"])
def test_agent_runs_kfed_agent_with_flags_it_accepts(layer: str, render: Render) -> None:
    objects = render(DEPLOY / "agent" / layer)
    daemonset = _find(objects, "DaemonSet", "kfed-agent")
    container = _pod(daemonset)["containers"][-1]
    assert container["command"] == ["kfed-agent"]
    # kfed-agent's own flags are kfed's global ones plus those of `kfed agent run`.
    flags = list(container["args"])
    global_flags = [f for f in flags if f in ("-v", "--verbose")]
    if "--log-format" in flags:
        at = flags.index("--log-format")
        global_flags += flags[at : at + 2]
        del flags[at : at + 2]
    flags = [f for f in flags if f not in ("-v", "--verbose")]
    parser, _ = build_parser()
    args = parser.parse_args([*global_flags, "agent", "run", *flags])
    assert str(args.config) == "/etc/kfed/agent"
    mounts = {m["name"]: m["mountPath"] for m in container["volumeMounts"]}
    assert str(args.config).startswith(mounts["config"] + "/")
    secret = next(v for v in _pod(daemonset)["volumes"] if "secret" in v)
    assert secret["secret"]["secretName"] == "kfed-agent-credentials"
    assert _pod(daemonset)["serviceAccountName"] == "kfed-agent"
