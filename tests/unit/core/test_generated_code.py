"""The checked-in generated code of the Sync contract matches its .proto (the drift check)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

TOOL = Path(__file__).resolve().parents[3] / "protos" / "tools" / "gen_protos.py"


def test_generated_code_matches_the_proto() -> None:
    done = subprocess.run(
        [sys.executable, str(TOOL), "--check"], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
