"""Shared helpers of the deploy/ tests: the repository's deploy folder, a minimal kustomize, and
offline validation against the Kubernetes 1.37 schemas (kubernetes-validate).

The kustomize here does only what deploy/ uses: ``resources`` (files and folders holding a
kustomization), strategic-merge ``patches`` by path (maps merge; lists of maps merge by ``name``
where every element has one; other lists are replaced) and ``images`` (newName, newTag, digest).
It refuses any other field, so a kustomization that grows past it fails here rather than being
half-rendered. The integration tier renders the same folders with the real kustomize that kubectl
embeds.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

DEPLOY = Path(__file__).resolve().parents[3] / "deploy"
KUBERNETES_VERSION = "1.37.0"
_KNOWN_FIELDS = {"apiVersion", "kind", "resources", "patches", "images"}

Objects = list[dict[str, Any]]


def load_documents(path: Path) -> Objects:
    """Every non-empty YAML document of ``path``."""
    return [d for d in yaml.safe_load_all(path.read_text()) if d]


def _merge(base: Any, patch: Any) -> Any:
    if isinstance(base, dict) and isinstance(patch, dict):
        merged = dict(base)
        for key, value in patch.items():
            merged[key] = _merge(base[key], value) if key in base else copy.deepcopy(value)
        return merged
    if (
        isinstance(base, list)
        and isinstance(patch, list)
        and all(isinstance(i, dict) and "name" in i for i in base + patch)
    ):
        merged_list = [copy.deepcopy(i) for i in base]
        for item in patch:
            names = [i["name"] for i in merged_list]
            if item["name"] in names:
                at = names.index(item["name"])
                merged_list[at] = _merge(merged_list[at], item)
            else:
                merged_list.append(copy.deepcopy(item))
        return merged_list
    return copy.deepcopy(patch)


def _identity(obj: dict[str, Any]) -> tuple[str, str, str]:
    meta = obj.get("metadata") or {}
    return str(obj.get("kind")), str(meta.get("namespace") or ""), str(meta.get("name"))


def _set_images(objects: Objects, images: list[dict[str, str]]) -> None:
    for obj in objects:
        pod = (((obj.get("spec") or {}).get("template") or {}).get("spec")) or {}
        for container in pod.get("initContainers", []) + pod.get("containers", []):
            name, _, tag = str(container["image"]).partition(":")
            for image in images:
                if image["name"] == name:
                    reference = image.get("newName", name)
                    if "digest" in image:
                        container["image"] = f"{reference}@{image['digest']}"
                    else:
                        container["image"] = f"{reference}:{image.get('newTag', tag)}"


def kustomize(folder: Path) -> Objects:
    """The objects ``folder``'s kustomization.yaml renders (see the module docstring)."""
    spec = yaml.safe_load((folder / "kustomization.yaml").read_text())
    unknown = set(spec) - _KNOWN_FIELDS
    assert not unknown, f"{folder}: the test kustomize does not support {sorted(unknown)}"
    objects: Objects = []
    for entry in spec.get("resources", []):
        path = folder / entry
        objects.extend(kustomize(path) if path.is_dir() else load_documents(path))
    by_id = {_identity(o): i for i, o in enumerate(objects)}
    for patch in spec.get("patches", []):
        assert set(patch) == {"path"}, f"{folder}: only patches by path are supported"
        for document in load_documents(folder / patch["path"]):
            at = by_id.get(_identity(document))
            assert at is not None, f"{folder}/{patch['path']}: no {_identity(document)} to patch"
            objects[at] = _merge(objects[at], document)
    _set_images(objects, spec.get("images", []))
    return objects


def kustomizations() -> list[Path]:
    """Every folder under deploy/ holding a kustomization.yaml, bases and overlays."""
    return sorted(p.parent for p in DEPLOY.rglob("kustomization.yaml"))


def validation_errors(objects: Objects) -> list[str]:
    """One line per object that does not validate strictly (unknown fields are errors)."""
    errors = []
    for obj in objects:
        try:
            kubernetes_validate.validate(obj, KUBERNETES_VERSION, strict=True)
        except (
            kubernetes_validate.ValidationError,
            kubernetes_validate.SchemaNotFoundError,
            kubernetes_validate.InvalidSchemaError,
        ) as exc:
            first = str(exc).splitlines()[0]
            errors.append(f"{'/'.join(_identity(obj))}: {first}")
    return errors


@pytest.fixture
def render() -> Callable[[Path], Objects]:
    """:func:`kustomize`, for tests (a fixture, so they need not import this module)."""
    return kustomize


@pytest.fixture
def validate() -> Callable[[Objects], list[str]]:
    """:func:`validation_errors`."""
    return validation_errors
