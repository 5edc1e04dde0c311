"""deploy/docker: the images cannot be built here (no container engine), so their Dockerfiles are
read and checked: python:3.11-slim stages, a non-root user, exactly the local packages each image
should hold, entrypoints that are console scripts of those packages, and no cloud SDK anywhere in
the agent image's dependency closure (resolved from the pyprojects and the installed metadata)."""

from __future__ import annotations

import importlib.metadata
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[3]
DOCKER = ROOT / "deploy" / "docker"
CLOUD_SDKS = re.compile(
    r"^(boto3|botocore|aioboto3|google-cloud-.*|google-api-core|google-api-python-client|"
    r"google-auth|openstacksdk|keystoneauth1|azure-.*|oci|ibm-cloud-sdk-core)$"
)
PYPROJECTS = [
    p / "pyproject.toml"
    for p in (ROOT / "protos", ROOT / "hub", ROOT / "agent", *sorted(ROOT.glob("plugins/*")))
    if (p / "pyproject.toml").exists()
]
IMAGE_ENVIRONMENT = {
    "extra": "",
    "python_version": "3.11",
    "python_full_version": "3.11.0",
    "sys_platform": "linux",
    "platform_system": "Linux",
    "os_name": "posix",
    "implementation_name": "cpython",
    "platform_python_implementation": "CPython",
}
EXPECTED = {
    "hub": {"kfed-core", "kfed-hub", "kfed-local", "kfed-gcp", "kfed-aws", "kfed-openstack"},
    "agent": {"kfed-core", "kfed-agent"},
}


@dataclass
class Stage:
    base: str
    instructions: list[tuple[str, str]] = field(default_factory=list)

    def all(self, name: str) -> list[str]:
        return [arguments for instruction, arguments in self.instructions if instruction == name]


def stages(path: Path) -> list[Stage]:
    text = re.sub(r"\\\n", " ", path.read_text())
    found: list[Stage] = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        instruction, _, arguments = line.partition(" ")
        if instruction.upper() == "FROM":
            found.append(Stage(base=arguments.split()[0]))
        else:
            found[-1].instructions.append((instruction.upper(), arguments.strip()))
    return found


def _name(pyproject: Path) -> str:
    name: str = tomllib.loads(pyproject.read_text())["project"]["name"]
    return name


def installed_packages(image: str) -> set[str]:
    """The local distributions the image's pip install names (by their pyproject)."""
    names: set[str] = set()
    for run in stages(DOCKER / f"{image}.Dockerfile")[0].all("RUN"):
        if "pip install" in run:
            for word in run.split():
                if word.startswith("./"):
                    names.add(_name(ROOT / word / "pyproject.toml"))
    return names


def _normal(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def closure(roots: set[str]) -> set[str]:
    """Every distribution the roots need (no extras), from the pyprojects of local packages and
    the installed metadata of the rest."""
    local = {_name(p): p for p in PYPROJECTS}
    seen: set[str] = set()
    todo = [_normal(r) for r in roots]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        if name in local:
            requirements = tomllib.loads(local[name].read_text())["project"]["dependencies"]
        else:
            requirements = importlib.metadata.requires(name) or []
        for text in requirements:
            requirement = Requirement(text)
            # Extras are not installed; markers are judged for the image's Python (3.11 on Linux).
            if requirement.marker is None or requirement.marker.evaluate(IMAGE_ENVIRONMENT):
                todo.append(_normal(requirement.name))
    return seen


@pytest.mark.parametrize("image", ["hub", "agent"])
def test_images_are_multi_stage_python_311_slim_and_run_as_a_non_root_user(image: str) -> None:
    found = stages(DOCKER / f"{image}.Dockerfile")
    assert len(found) >= 2
    assert {s.base.split(" ")[0] for s in found} == {"python:3.11-slim"}
    final = found[-1]
    users = final.all("USER")
    assert users, "the final stage sets no USER"
    user = users[-1].split(":")[0]
    assert user not in ("root", "0") and user.isdigit() and int(user) >= 1000
    assert final.instructions.index(("USER", users[-1])) > max(
        i for i, (name, _) in enumerate(final.instructions) if name in ("RUN", "COPY")
    ), "USER must come after the last RUN and COPY"
    assert any("--from=build" in c for c in final.all("COPY"))


@pytest.mark.parametrize("image", ["hub", "agent"])
def test_images_install_exactly_their_local_packages_from_the_repository(image: str) -> None:
    assert installed_packages(image) == EXPECTED[image]
    for copy in stages(DOCKER / f"{image}.Dockerfile")[0].all("COPY"):
        for source in copy.split()[:-1]:
            assert (ROOT / source).exists(), f"{image}: COPY {source} does not exist"


@pytest.mark.parametrize(("image", "script"), [("hub", "kfed"), ("agent", "kfed-agent")])
def test_entrypoints_are_console_scripts_of_the_installed_packages(image: str, script: str) -> None:
    entrypoint = stages(DOCKER / f"{image}.Dockerfile")[-1].all("ENTRYPOINT")
    assert entrypoint == [f'["{script}"]']
    scripts: dict[str, str] = {}
    for pyproject in PYPROJECTS:
        project = tomllib.loads(pyproject.read_text()).get("project", {})
        if project.get("name") in installed_packages(image):
            scripts.update(project.get("scripts", {}))
    assert script in scripts


def test_the_agent_image_carries_no_cloud_sdk() -> None:
    needed = closure(installed_packages("agent"))
    assert "kubernetes" in needed and "grpcio" in needed  # the walk found the real closure
    assert sorted(n for n in needed if CLOUD_SDKS.match(n)) == []
    # ...while the hub image's closure does hold them, so the check can tell the difference.
    assert {"boto3", "openstacksdk", "google-cloud-compute"} <= closure(installed_packages("hub"))
