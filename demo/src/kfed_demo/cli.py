"""``kfed demo``: the 2016 walk-through on nine simulated clusters, end to end.

Layer: ``kfed_demo`` command shell, registered through the ``kfed.commands`` entry point.
Exit codes: 0 when every step saw what the blog promises; 1 when one did not (the message says
which and what was expected); 130 on Ctrl-C.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
import sys
from pathlib import Path
from typing import Any

from kfed_demo.console import Console, StepFailed
from kfed_demo.stage import Stage
from kfed_demo.walkthrough import Walkthrough, repo_manifests


async def _demo(args: argparse.Namespace, console: Console) -> int:
    manifests = Path(args.manifests) if args.manifests else repo_manifests()
    if manifests is None or not (manifests / "ingress" / "ingress.yaml").is_file():
        console.fail(
            "the 2016 walk-through's manifests were not found; pass --manifests DIR "
            "(the repository's examples/federation-2016)"
        )
        return 1
    stage = Stage.in_temporary_dir()
    walk = Walkthrough(stage=stage, console=console, manifests=manifests)
    console.write("kfed demo: the 2016 Kubernetes Cluster Federation walk-through, on this machine")
    console.say(f"(working directory {stage.workdir}; everything listens on 127.0.0.0/8 only)")
    try:
        await walk.all_steps()
    except (StepFailed, PermissionError) as exc:
        console.fail(f"the demo stopped: {exc}")
        await stage.stop(keep_files=True)
        console.say(f"(files kept for a look: {stage.workdir})")
        return 1
    except Exception as exc:
        logging.getLogger(__name__).debug("the demo failed", exc_info=True)
        console.fail(f"the demo stopped on an unexpected error: {type(exc).__name__}: {exc}")
        await stage.stop(keep_files=True)
        console.say(f"(files kept for a look: {stage.workdir}; run with -v for the traceback)")
        return 1
    except BaseException:  # Ctrl-C: leave nothing running behind
        await stage.stop()
        raise
    console.title("Done")
    console.ok(
        f"the walk-through took {console.elapsed():.1f} s; the Asia client was served from "
        f"Europe {walk.timings.get('failover', 0):.2f} s after Asia went down, and from Asia "
        f"again {walk.timings.get('recovery', 0):.2f} s after it came back"
    )
    if not args.keep:
        await stage.stop()
        return 0
    console.write()
    console.write("Everything keeps running until Ctrl-C. In another shell:")
    console.command(f"export PATH={Path(sys.executable).parent}:$PATH")
    console.command(f"export KFED_CONFIG={stage.cli_config} KUBECONFIG={stage.kubeconfig}")
    console.command("kfed get clusters")
    console.command("kfed get ingress && kfed get pods --clusters")
    console.command(f"curl -H 'X-Client-Region: europe-west1' http://{walk.address}/")
    console.command(f"kfed sim fault --kubeconfig {stage.kubeconfig} --zone us-central1-a down")
    console.command("kubectl --context gce-us-central1-b get pods")
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    await stop.wait()
    await stage.stop()
    return 0


def demo(args: argparse.Namespace) -> int:
    """``kfed demo``."""
    # The walk-through is the output. Agents rightly warn while Asia is down; that is the story
    # the demo tells, so only errors are logged (``kfed -v demo`` shows everything).
    if not getattr(args, "verbose", 0):
        logging.getLogger().setLevel(logging.ERROR)
    console = Console()
    with contextlib.suppress(KeyboardInterrupt):
        return asyncio.run(_demo(args, console))
    return 130


def register(subparsers: Any) -> None:
    """Add ``kfed demo`` to the ``kfed`` CLI."""
    parser = subparsers.add_parser(
        "demo",
        help="the 2016 federation walk-through on nine simulated clusters",
        description="Start nine simulated clusters, a hub and nine agents on this machine, and "
        "walk through the 2016 Cluster Federation blog post: Service, Ingress with one global "
        "address, ConfigMap, ReplicaSet, clients in Asia and the US, Asia's failure and return.",
    )
    parser.add_argument(
        "--keep", action="store_true", help="leave everything running afterwards (until Ctrl-C)"
    )
    parser.add_argument(
        "--manifests",
        default="",
        metavar="DIR",
        help="the walk-through's manifests (default: the repository's examples/federation-2016)",
    )
    parser.set_defaults(handler=demo)
