"""The gcp plugin's layering: one module talks to Google's SDK, the pure ones do no I/O."""

import ast
from pathlib import Path

import kfed_gcp

PACKAGE = Path(kfed_gcp.__file__).parent
PURE = ("api", "errors", "names", "options", "plan", "retry", "fake.errors")
IMPURE = {"asyncio", "aiohttp", "logging", "random", "requests", "socket", "threading", "time"}


def imported(module: str) -> set[str]:
    path = PACKAGE.joinpath(*module.split(".")).with_suffix(".py")
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def modules() -> list[str]:
    return sorted(
        ".".join(path.relative_to(PACKAGE).with_suffix("").parts) for path in PACKAGE.rglob("*.py")
    )


def test_only_the_client_module_imports_google() -> None:
    users = [m for m in modules() if any(n.split(".")[0] == "google" for n in imported(m))]
    assert users == ["gce_client"]


def test_the_fake_stands_alone_from_the_provider() -> None:
    for module in modules():
        if module.startswith("fake"):
            others = {n for n in imported(module) if n.startswith("kfed_gcp.")}
            assert all(n.startswith("kfed_gcp.fake") for n in others), module


def test_pure_modules_do_no_io() -> None:
    for module in PURE:
        assert not {n.split(".")[0] for n in imported(module)} & IMPURE, module
