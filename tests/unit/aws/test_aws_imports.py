"""Only kfed_aws.aws_client imports boto3 or botocore; only the fake imports moto."""

from __future__ import annotations

import ast
from pathlib import Path

import kfed_aws

PACKAGE = Path(kfed_aws.__file__).parent


def imported_roots(path: Path) -> set[str]:
    roots: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            roots.add(node.module.split(".")[0])
    return roots


def modules() -> dict[str, set[str]]:
    return {
        ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts): imported_roots(path)
        for path in sorted(PACKAGE.rglob("*.py"))
    }


def test_only_the_client_module_imports_the_sdk() -> None:
    found = modules()
    sdk = sorted(name for name, roots in found.items() if roots & {"boto3", "botocore"})
    assert sdk == ["kfed_aws.aws_client"]


def test_only_the_fake_imports_moto() -> None:
    found = modules()
    assert sorted(n for n, roots in found.items() if "moto" in roots) == [
        "kfed_aws.fake.moto_server"
    ]


def test_the_pure_modules_do_no_io() -> None:
    found = modules()
    io = {"asyncio", "aiohttp", "socket", "time", "random", "logging", "threading", "boto3"}
    for name in ("naming", "planning", "settings", "errors", "retry", "api"):
        assert not found[f"kfed_aws.{name}"] & io, name
