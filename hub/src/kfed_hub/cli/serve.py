"""``kfed hub serve``: run the hub with embedded defaults.

Layer: the hub's command shell. On first start it creates the data directory, the CA, the
serving and admin certificates, and writes the CLI's config (``~/.kfed/config``, or the path in
``$KFED_CONFIG``), so ``kfed get clusters`` works right after.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import datetime as dt
import os
import signal
import sys
from pathlib import Path

import yaml

from kfed_hub.cliconfig import default_config_path
from kfed_hub.health import HealthPolicy
from kfed_hub.ingress.settings import IngressSettings, PluginSettings, parse_settings
from kfed_hub.pki import PkiError
from kfed_hub.service import Hub, HubSettings
from kfed_hub.store.protocol import StoreError
from kfed_hub.stream import StreamSettings

DEFAULT_DATA_DIR = Path("~/.kfed/hub")


def _load_settings(path: str | None) -> tuple[PluginSettings, IngressSettings]:
    if not path:
        return PluginSettings(), IngressSettings()
    try:
        text = Path(path).expanduser().read_text()
        data = yaml.safe_load(text)
    except OSError as exc:
        raise ValueError(f"cannot read the settings file {path}: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        raise ValueError(f"the settings file {path} is not valid YAML: {exc}") from None
    return parse_settings(data, source=path)


async def _serve(args: argparse.Namespace, data_dir: Path) -> int:
    plugins, ingress = _load_settings(args.settings)
    if args.ingress_provider:
        ingress = dataclasses.replace(ingress, default_provider=args.ingress_provider)
    settings = HubSettings(
        data_dir=data_dir,
        api_address=args.api_addr,
        sync_address=args.sync_addr,
        advertise_host=args.advertise_host,
        cli_config_paths=(default_config_path(),),
        health=HealthPolicy(heartbeat_interval=args.heartbeat_interval),
        stream=StreamSettings(agent_cert_ttl=dt.timedelta(seconds=args.agent_cert_ttl)),
        plugins=plugins,
        ingress=ingress,
    )
    hub = await Hub.start(settings)
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, lambda: asyncio.ensure_future(hub.stop()))
    print(
        f"kfed hub serving: API {hub.api_url}, Sync {hub.sync_target}, data {settings.data_dir}\n"
        f"CLI config written to {default_config_path()}; next: kfed token create",
        flush=True,
    )
    await hub.wait()
    return 0


def serve(args: argparse.Namespace) -> int:
    """``kfed hub serve``."""
    try:
        return asyncio.run(_serve(args, Path(args.data_dir).expanduser()))
    except (OSError, ValueError, PkiError, StoreError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``hub serve`` to the ``kfed`` CLI."""
    hub = subparsers.add_parser("hub", help="run the kfed hub")
    commands = hub.add_subparsers(dest="hub_command", metavar="COMMAND", required=True)
    parser = commands.add_parser("serve", help="serve the hub's API and Sync streams")
    parser.add_argument(
        "--data-dir",
        default=os.environ.get("KFED_HUB_DATA_DIR", str(DEFAULT_DATA_DIR)),
        help="where the hub keeps its database, keys and certificates (default ~/.kfed/hub)",
    )
    parser.add_argument("--api-addr", default="127.0.0.1:7443", help="HTTPS API listen address")
    parser.add_argument("--sync-addr", default="127.0.0.1:7444", help="gRPC Sync listen address")
    parser.add_argument("--advertise-host", default="", help="host name agents use for the hub")
    parser.add_argument(
        "--heartbeat-interval",
        type=float,
        default=2.0,
        help="seconds between agent heartbeats; NotReady after 3 missed (default 2)",
    )
    parser.add_argument(
        "--agent-cert-ttl",
        type=float,
        default=30 * 24 * 3600,
        help="lifetime of agent certificates in seconds (default 30 days)",
    )
    parser.add_argument(
        "--settings",
        default=os.environ.get("KFED_HUB_SETTINGS", ""),
        help="YAML file: plugin allow-list, ingress providers (see docs/federated-ingress.md)",
    )
    parser.add_argument(
        "--ingress-provider",
        default="",
        help="the provider of federated Ingresses that choose none (default local)",
    )
    parser.set_defaults(handler=serve)
