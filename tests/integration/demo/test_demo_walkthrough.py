"""``kfed demo`` end to end, as ``make demo`` runs it: the whole walk-through passes, and a step
that does not see what it expects stops the demo with a clear message and a non-zero exit."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

SEED = Path(__file__).resolve().parents[3] / "examples" / "federation-2016"
KFED = str(Path(sys.executable).parent / "kfed")


def _demo(*args: str, timeout: float = 180) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [KFED, "demo", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, "NO_COLOR": "1"},
        check=False,
    )


def test_the_demo_walks_through_the_blog_and_succeeds() -> None:
    done = _demo()
    out = done.stdout
    assert done.returncode == 0, out + done.stderr
    for expected in (
        "nine clusters Ready",
        "nine load balancer addresses",
        "the global address on every member Ingress",
        "9 ready replicas",
        "You are being served from asia-east1-",
        "You are being served from us-central1-",
        "You are being served from europe-west1-",
        "the Asia client served from Asia again",
        "## Done",
    ):
        assert expected in out, f"{expected!r} missing from:\n{out}"
    assert out.count("$ kfed ") >= 10  # the commands are printed, then run for real
    assert "Traceback" not in out + done.stderr


def test_a_step_that_fails_stops_the_demo_with_what_went_wrong(tmp_path: Path) -> None:
    manifests = tmp_path / "manifests"
    shutil.copytree(SEED, manifests)
    (manifests / "services" / "nginx.yaml").write_text("apiVersion: v1\nkind: Service\nspec: [\n")
    done = _demo("--manifests", str(manifests))
    assert done.returncode == 1, done.stdout + done.stderr
    assert "the demo stopped: `kfed create -f" in done.stdout
    assert "nginx.yaml" in done.stdout and "exited with 1" in done.stdout
    assert "Traceback" not in done.stdout + done.stderr


def test_missing_manifests_are_reported(tmp_path: Path) -> None:
    done = _demo("--manifests", str(tmp_path), timeout=30)
    assert done.returncode == 1
    assert "manifests were not found; pass --manifests DIR" in done.stdout
