"""deploy/ with real tools: every kustomization rendered by the kustomize that kubectl embeds
validates against the Kubernetes 1.37 schemas, and the install `kfed agent manifests` prints is
applied to a simulated cluster with real `kubectl apply --server-side`.

The simulated clusters serve no DaemonSets and no RBAC kinds, so the test first serves stand-ins
for them through CustomResourceDefinitions (schemaless); the kinds the simulator does serve
(Namespace, ServiceAccount, Secret) are checked by its strict field validation, and every
object is validated offline against the real schemas as well.
"""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import json
import shutil
import sys
from pathlib import Path

import kubernetes_validate
import pytest
import yaml

from kfed_agent import config
from kfed_agent.config import AgentConfig, Credentials
from kfed_core import identity, pki
from kfed_local.sim.cluster import SimOptions
from kfed_local.sim.config import ClusterSpec, NodeCapacity
from kfed_local.sim.fleet import SimFleet

pytestmark = pytest.mark.kubectl

ROOT = Path(__file__).resolve().parents[3]
BIN = Path(sys.executable).parent
FOLDERS = sorted(p.parent for p in (ROOT / "deploy").rglob("kustomization.yaml"))
STAND_INS = [
    ("apps", "daemonsets", "DaemonSet", "Namespaced"),
    ("rbac.authorization.k8s.io", "clusterroles", "ClusterRole", "Cluster"),
    ("rbac.authorization.k8s.io", "clusterrolebindings", "ClusterRoleBinding", "Cluster"),
    ("rbac.authorization.k8s.io", "roles", "Role", "Namespaced"),
    ("rbac.authorization.k8s.io", "rolebindings", "RoleBinding", "Namespaced"),
]


def tool(name: str) -> str:
    found = shutil.which(name, path=str(BIN))
    if found is None:
        pytest.fail(f"{name} is missing from {BIN}: install the dev requirements (make setup)")
    return found


async def run(*argv: str, stdin: bytes | None = None) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        *argv,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(stdin), 60)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


def strict_errors(objects: list[dict]) -> list[str]:
    errors = []
    for obj in objects:
        try:
            kubernetes_validate.validate(obj, "1.37.0", strict=True)
        except kubernetes_validate.ValidationError as exc:
            errors.append(f"{obj['kind']}/{obj['metadata']['name']}: {str(exc).splitlines()[0]}")
    return errors


@pytest.mark.parametrize("folder", FOLDERS, ids=lambda f: str(f.relative_to(ROOT)))
async def test_kubectl_kustomize_renders_objects_that_validate(folder: Path) -> None:
    code, out, err = await run(tool("kubectl"), "kustomize", str(folder))
    assert code == 0, err
    objects = [d for d in yaml.safe_load_all(out) if d]
    assert objects and strict_errors(objects) == []
    assert {o["metadata"].get("namespace", "kfed-system") for o in objects} == {"kfed-system"}


def joined(directory: Path, cluster: str) -> None:
    now = dt.datetime.now(dt.UTC)
    ca = pki.create_ca("hub-ca", now=now)
    spec = pki.LeafSpec(common_name=cluster, uris=(identity.cluster_uri(cluster),), client=True)
    pair = pki.issue_key_pair(ca, spec, now=now)
    settings = AgentConfig(
        cluster=cluster, hub_api="hub.example.com:7443", hub_sync="hub.example.com:7444"
    )
    config.save(
        directory,
        settings,
        Credentials(ca_pem=ca.cert_pem, cert_pem=pair.cert_pem, key_pem=pair.key_pem),
    )


def stand_in(group: str, plural: str, kind: str, scope: str) -> dict:
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {
            "name": f"{plural}.{group}",
            "annotations": {"api-approved.kubernetes.io": "unapproved, test stand-in"},
        },
        "spec": {
            "group": group,
            "scope": scope,
            "names": {"plural": plural, "kind": kind, "singular": kind.lower()},
            "versions": [
                {
                    "name": "v1",
                    "served": True,
                    "storage": True,
                    "schema": {
                        "openAPIV3Schema": {
                            "type": "object",
                            "x-kubernetes-preserve-unknown-fields": True,
                        }
                    },
                }
            ],
        },
    }


async def test_agent_install_applies_to_a_simulated_cluster(tmp_path: Path) -> None:
    kubectl = tool("kubectl")
    spec = ClusterSpec(
        name="east",
        region="us-east1",
        zones=("us-east1-b",),
        nodes=1,
        capacity=NodeCapacity(cpu="2", memory="4Gi", pods=20),
    )
    joined(tmp_path / "agent", "east")
    code, manifests, err = await run(
        tool("kfed"), "agent", "manifests", "east", "--config", str(tmp_path / "agent")
    )
    assert (code, err) == (0, "")
    objects = [d for d in yaml.safe_load_all(manifests) if d]
    assert strict_errors(objects) == []

    async with SimFleet([spec], options=SimOptions(history=100)) as fleet:
        kubeconfig = str(fleet.write_kubeconfig(tmp_path / "kubeconfig"))
        k = (kubectl, "--kubeconfig", kubeconfig, "--context", "east")
        crds = "\n---\n".join(json.dumps(stand_in(*s)) for s in STAND_INS)
        code, out, err = await run(*k, "apply", "--server-side", "-f", "-", stdin=crds.encode())
        assert code == 0, err
        for group, plural, _, _ in STAND_INS:
            code, _, err = await run(
                *k, "wait", "--for=condition=Established", f"crd/{plural}.{group}", "--timeout=10s"
            )
            assert code == 0, err

        code, out, err = await run(
            *k,
            "apply",
            "--server-side",
            "--field-manager=kfed-install",
            "-f",
            "-",
            stdin=manifests.encode(),
        )
        assert code == 0, err
        assert "PRIVATE KEY" not in out + err
        lines = out.splitlines()
        assert len(lines) == len(objects) and all(
            line.endswith("serverside-applied") for line in lines
        ), out

        # The Secret the cluster now holds is a complete agent config directory.
        code, out, err = await run(
            *k, "-n", "kfed-system", "get", "secret", "kfed-agent-credentials", "-o", "json"
        )
        assert code == 0, err
        restored = tmp_path / "restored"
        restored.mkdir()
        for name, value in json.loads(out)["data"].items():
            (restored / name).write_bytes(base64.b64decode(value))
        loaded, _ = config.load(restored)
        assert loaded.cluster == "east" and loaded.kubeconfig == ""

        # Every object is there, as rendered.
        for obj in objects:
            meta = obj["metadata"]
            kind = obj["kind"].lower() + "s"
            group = obj["apiVersion"].rpartition("/")[0]
            resource = f"{kind}.{group}" if group else kind
            where = ("-n", meta["namespace"]) if "namespace" in meta else ()
            code, out, err = await run(*k, *where, "get", resource, meta["name"], "-o", "json")
            assert code == 0, f"{resource}/{meta['name']}: {err}"
            assert meta["labels"].items() <= json.loads(out)["metadata"]["labels"].items()
