"""Makes the benchmark helpers in ``bench/`` (a folder of scripts, not an installed package)
importable as ``bench.*`` from these tests, as ``python -m bench.sync_bench`` sees them."""

from __future__ import annotations

import sys
from pathlib import Path

REPO = str(Path(__file__).resolve().parents[3])
if REPO not in sys.path:
    sys.path.append(REPO)  # appended: nothing installed may be shadowed by a repository folder
