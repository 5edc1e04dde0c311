"""The README's commands exist: the Makefile parses and its targets run what they say."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_the_readme_targets_parse_and_run_what_they_say() -> None:
    dry = subprocess.run(
        ["make", "-n", "-W", ".venv/.kfed-installed", "demo", "test", "sim", "bench-glb"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert dry.returncode == 0, dry.stderr
    assert "warning" not in dry.stderr.lower(), dry.stderr
    for expected in ("kfed demo", "ruff check", "mypy", "lint-imports", "pytest", "sim up"):
        assert expected in dry.stdout, dry.stdout
