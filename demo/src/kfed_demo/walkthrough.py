"""The 2016 walk-through, step by step: each step prints the commands a user would type, runs
them for real (``kfed``, ``kubectl``, ``kfed sim fault``, HTTP requests as ``curl`` would make
them), shows their output, and checks what the blog promises; a step that does not see it fails
the demo with a message that says what was expected.

Layer: ``kfed_demo`` shell. Commands run as subprocesses in the stage's environment
(``KFED_CONFIG``, ``KUBECONFIG``), so what is printed is exactly what a user gets.
"""

from __future__ import annotations

import asyncio
import shlex
import shutil
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp

from kfed_demo.console import Console, StepFailed
from kfed_demo.stage import Stage, region_of

ASIA = "asia-east1"
US = "us-east1"  # a client on the US east coast; the closest clusters are in us-central1
INGRESS = "/apis/extensions/v1beta1/namespaces/default/ingresses/nginx"
SERVICE = "/api/v1/namespaces/default/services/nginx"
REPLICASET = "/apis/extensions/v1beta1/namespaces/default/replicasets/nginx"


def repo_manifests() -> Path | None:
    """The seed manifests of the repository this package was installed from (editable)."""
    candidate = Path(__file__).resolve().parents[3] / "examples" / "federation-2016"
    return candidate if candidate.is_dir() else None


def _tool(name: str) -> str | None:
    beside = Path(sys.executable).parent / name  # the virtualenv's own, first
    return str(beside) if beside.exists() else shutil.which(name)


@dataclass
class Walkthrough:
    """Runs the steps against a started :class:`Stage`."""

    stage: Stage
    console: Console
    manifests: Path
    timings: dict[str, float] = field(default_factory=dict)
    address: str = ""

    def _shown(self, path: Path) -> str:
        try:
            return str(path.relative_to(Path.cwd()))
        except ValueError:
            return str(path)

    async def run(self, argv: list[str], shown: str | None = None, *, echo: bool = True) -> str:
        """Run a command in the stage's environment; its output, printed when ``echo``."""
        if shown is not None or echo:
            self.console.command(shown or shlex.join(argv))
        process = await asyncio.create_subprocess_exec(
            *argv,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env=self.stage.env(),
        )
        out, err = await process.communicate()
        if process.returncode != 0:
            raise StepFailed(
                f"`{shown or shlex.join(argv)}` exited with {process.returncode}: "
                f"{err.decode().strip() or out.decode().strip()}"
            )
        text = out.decode()
        if echo:
            self.console.output(text)
        return text

    async def kfed(self, *args: str, shown: str = "") -> str:
        binary = _tool("kfed")
        if binary is None:
            raise StepFailed("the kfed command is not on the PATH; run `make setup` first")
        return await self.run([binary, *args], shown or "kfed " + shlex.join(args))

    async def fault(self, state: str) -> str:
        kubeconfig = str(self.stage.kubeconfig)
        args = ("sim", "fault", "--kubeconfig", kubeconfig, "--region", ASIA, state)
        return await self.kfed(*args, shown=f"kfed sim fault --region {ASIA} {state}")

    # -- the steps -----------------------------------------------------------------------------

    async def clusters(self) -> None:
        c = self.console
        c.title("Nine clusters in three regions, federated")
        c.say("Nine simulated clusters (3 zones in each of us-central1, europe-west1, asia-east1),")
        c.say("a hub, and one agent per cluster joined with a single-use token:")
        c.command("kfed sim up --preset seed")
        names = await self.stage.start_clusters()
        c.command("kfed hub serve")
        await self.stage.start_hub()
        for name in names:
            c.command(f"kfed token create && kfed join {name} ... && kfed agent run ...")
        await asyncio.gather(*(self.stage.join(name) for name in names))

        async def all_ready() -> bool:
            listed = await self.stage.api("GET", "/apis/kfed.io/v1alpha1/clusters")
            phases = [i["status"]["phase"] for i in listed["items"]]
            return phases.count("Ready") == len(names)

        await c.wait_for("nine clusters Ready", all_ready, within=30)
        table = await self.kfed("get", "clusters")
        if table.count(" Ready ") + table.count(" Ready\n") < 9:
            raise StepFailed(f"`kfed get clusters` does not show nine Ready clusters:\n{table}")

    async def service(self) -> None:
        c = self.console
        c.title("A federated Service: a load balancer in every cluster")
        await self.kfed("create", "-f", self._shown(self.manifests / "services" / "nginx.yaml"))

        async def nine_addresses() -> bool:
            svc = await self.stage.api("GET", SERVICE)
            return len((svc["status"].get("loadBalancer") or {}).get("ingress") or []) == 9

        await c.wait_for("nine load balancer addresses", nine_addresses, within=30)
        described = await self.kfed("describe", "services", "nginx")
        if "LoadBalancer Ingress" not in described:
            raise StepFailed("`kfed describe services nginx` shows no load balancer addresses")

    async def ingress(self) -> None:
        c = self.console
        c.title("A federated Ingress: one global address")
        await self.kfed("create", "-f", self._shown(self.manifests / "ingress" / "ingress.yaml"))

        async def global_address() -> str | None:
            obj = await self.stage.api("GET", INGRESS)
            items = (obj["status"].get("loadBalancer") or {}).get("ingress") or []
            if not items or not items[0].get("ip"):
                return None
            port = (items[0].get("ports") or [{}])[0].get("port")
            return f"{items[0]['ip']}:{port}" if port else str(items[0]["ip"])

        self.address = await c.wait_for("the global address", global_address, within=30)
        await self.kfed("get", "ingress")
        ip = self.address.split(":")[0]
        c.say("The member Ingresses in all nine clusters show the same address:")

        async def members_agree() -> bool:
            for name, kube in self.stage.kubes.items():
                member = await kube.get("networking.k8s.io/v1", "Ingress", "default", "nginx")
                shown = ((member or {}).get("status") or {}).get("loadBalancer") or {}
                if [i.get("ip") for i in shown.get("ingress") or []] != [ip]:
                    return False
                del name
            return True

        await c.wait_for("the global address on every member Ingress", members_agree, within=30)
        kubectl = _tool("kubectl")
        loop = (
            "for c in $(kubectl config view -o jsonpath='{.contexts[*].name}'); "
            "do kubectl --context=$c get ingress; done"
        )
        if kubectl is None:
            c.say("(kubectl is not installed: skipping the per-cluster listing)")
            return
        c.command(loop)
        for name in self.stage.names:
            text = await self.run([kubectl, f"--context={name}", "get", "ingress"], echo=False)
            c.output(text)
            if ip not in text:
                raise StepFailed(f"cluster {name}'s Ingress does not show {ip}:\n{text}")

    async def configmap(self) -> None:
        c = self.console
        c.title("The ConfigMap, in every cluster (the blog created it by hand in each)")
        path = self.manifests / "configmaps" / "zonefetch.yaml"
        await self.kfed("create", "-f", self._shown(path))

        async def everywhere() -> bool:
            for kube in self.stage.kubes.values():
                if await kube.get("v1", "ConfigMap", "default", "zone-fetch") is None:
                    return False
            return True

        await c.wait_for("the ConfigMap in nine clusters", everywhere, within=30)
        await self.kfed("get", "configmaps", "--clusters")

    async def replicaset(self) -> None:
        c = self.console
        c.title("A federated ReplicaSet of 9: one replica per cluster")
        path = self.manifests / "replicasets" / "nginx-rs.yaml"
        await self.kfed("create", "-f", self._shown(path))

        async def nine_ready() -> bool:
            obj = await self.stage.api("GET", REPLICASET)
            return bool(obj["status"].get("readyReplicas") == 9)

        await c.wait_for("9 ready replicas", nine_ready, within=45)
        per_cluster = await self.kfed("get", "rs", "--clusters")
        if per_cluster.count("nginx ") < 9:
            raise StepFailed(
                f"`kfed get rs --clusters` does not list nine ReplicaSets:\n{per_cluster}"
            )
        await self.kfed("get", "pods", "--clusters")

        async def all_serving() -> bool:
            obj = await self.stage.api("GET", INGRESS)
            return int((obj["status"].get("globalLoadBalancer") or {}).get("serving", 0)) == 9

        await c.wait_for("nine clusters behind the global address", all_serving, within=30)

    async def request(self, region: str, *, show: bool = True) -> str:
        """One request through the global address as a client in ``region``; the zone named on
        the page (or what went wrong)."""
        url = f"http://{self.address}/"
        if show:
            self.console.command(f"curl -s -H 'X-Client-Region: {region}' {url} | grep served")
        try:
            timeout = aiohttp.ClientTimeout(total=3)
            async with (
                aiohttp.ClientSession(timeout=timeout) as session,
                session.get(url, headers={"X-Client-Region": region}) as answer,
            ):
                page = await answer.text()
                zone = answer.headers.get("X-Kfed-Zone", "")
                status = answer.status
        except (aiohttp.ClientError, TimeoutError) as exc:
            return f"error: {exc}"
        line = next((ln.strip() for ln in page.splitlines() if "served from" in ln), "")
        if show:
            self.console.output(_strip_tags(line) or f"HTTP {status}")
        return zone if status == 200 else f"HTTP {status}"

    async def clients(self) -> None:
        c = self.console
        c.title("Clients in Asia and in the US, through the one global address")
        # The hub counts a cluster as serving once its pods are ready; the load balancer's own
        # health checks pass a moment later (the cluster's listener opens, the next check runs).
        seen: dict[str, str] = {}

        async def closest_serve() -> bool:
            seen[ASIA] = await self.request(ASIA, show=False)
            seen[US] = await self.request(US, show=False)
            return region_of(seen[ASIA]) == ASIA and region_of(seen[US]) == "us-central1"

        await c.wait_for(
            "the load balancer's health checks to pass",
            closest_serve,
            within=20,
            interval=0.2,
            detail=lambda: f"the Asia client got {seen.get(ASIA)}, the US client {seen.get(US)}",
        )
        asia = await self.request(ASIA)
        if region_of(asia) != ASIA:
            raise StepFailed(f"the Asia client should be served from {ASIA}, not {asia}")
        us = await self.request(US)
        if region_of(us) != "us-central1":
            raise StepFailed(f"the US client should be served from us-central1, not {us}")

    async def asia_down(self) -> None:
        c = self.console
        c.title("Asia's three clusters go down")
        await self.fault("down")
        started = time.monotonic()  # the command returns once the clusters are down

        async def elsewhere() -> str | None:
            zone = await self.request(ASIA, show=False)
            served = bool(zone) and not zone.startswith(("error", "HTTP"))
            return zone if served and region_of(zone) != ASIA else None

        zone = await c.wait_for("the Asia client served from another region", elsewhere, within=15)
        self.timings["failover"] = time.monotonic() - started
        c.say(f"Served from {zone}, {self.timings['failover']:.2f} s after Asia went down:")
        await self.request(ASIA)
        if region_of(zone) != "europe-west1":
            raise StepFailed(f"from Taiwan the next closest region is europe-west1, not {zone}")

    async def asia_back(self) -> None:
        c = self.console
        c.title("Asia comes back")
        await self.fault("up")
        started = time.monotonic()

        async def home() -> str | None:
            zone = await self.request(ASIA, show=False)
            return zone if region_of(zone) == ASIA else None

        await c.wait_for("the Asia client served from Asia again", home, within=30)
        self.timings["recovery"] = time.monotonic() - started
        await self.request(ASIA)

    async def all_steps(self) -> None:
        for step in (
            self.clusters,
            self.service,
            self.ingress,
            self.configmap,
            self.replicaset,
            self.clients,
            self.asia_down,
            self.asia_back,
        ):
            await step()


def _strip_tags(text: str) -> str:
    out, inside = [], False
    for char in text:
        if char == "<":
            inside = True
        elif char == ">":
            inside = False
        elif not inside:
            out.append(char)
    return "".join(out).strip()
