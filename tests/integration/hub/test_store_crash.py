"""SqliteStore survives SIGKILL: every write whose coroutine returned is there after a restart.

A child process writes in a tight loop (a new configmap and an update of one Secret per round)
and prints each committed revision; the test kills it mid-stream with SIGKILL, reopens the store
and checks every reported write, the sealed Secret and the database's integrity. Three rounds, so
a store that was itself recovered from a crash is crashed again.
"""

from __future__ import annotations

import asyncio
import base64
import signal
import sqlite3
import sys
from pathlib import Path

from kfed_core.keys import ResourceKey
from kfed_hub.store.sealing import SecretSealer
from kfed_hub.store.sqlite import SqliteStore

WRITER = r"""
import asyncio, base64, sys
from kfed_core.keys import ResourceKey
from kfed_hub.store.sealing import SecretSealer
from kfed_hub.store.sqlite import SqliteStore

async def main(data_dir, round_):
    sealer = SecretSealer.load_or_create(data_dir + "/store.key")
    store = await SqliteStore.open(data_dir + "/hub.db", sealer=sealer)
    secret = ResourceKey(group="core", kind="Secret", namespace="default", name="token")
    if await store.get_object(secret) is None:
        await store.create_object(secret, {"metadata": {"name": "token"}, "data": {}})
    i = 0
    while True:
        name = f"r{round_}-{i}"
        key = ResourceKey(group="core", kind="ConfigMap", namespace="default", name=name)
        stored = await store.create_object(key, {"metadata": {"name": name}, "data": {"i": str(i)}})
        print(f"{name} {stored.revision}", flush=True)
        value = base64.b64encode(f"round {round_} write {i}".encode()).decode()
        body = {"metadata": {"name": "token"}, "data": {"v": value}}
        stored = await store.update_object(secret, body)
        print(f"token {stored.revision} {round_} {i}", flush=True)
        i += 1

asyncio.run(main(sys.argv[1], sys.argv[2]))
"""

SECRET = ResourceKey(group="core", kind="Secret", namespace="default", name="token")


async def _run_and_kill(data_dir: Path, round_: int, lines_before_kill: int) -> list[str]:
    child = await asyncio.create_subprocess_exec(
        sys.executable, "-c", WRITER, str(data_dir), str(round_), stdout=asyncio.subprocess.PIPE
    )
    assert child.stdout is not None
    reported: list[str] = []
    try:
        while len(reported) < lines_before_kill:
            line = await asyncio.wait_for(child.stdout.readline(), timeout=30)
            assert line, f"the writer exited early with {await child.wait()}"
            reported.append(line.decode().strip())
    finally:
        child.send_signal(signal.SIGKILL)
        await child.wait()
    # Lines already in the pipe were committed too; a torn last line (no newline) is dropped.
    rest = await child.stdout.read()
    reported += [line.decode().strip() for line in rest.split(b"\n")[:-1]]
    return reported


async def test_every_reported_write_survives_sigkill(tmp_path: Path) -> None:
    SecretSealer.load_or_create(tmp_path / "store.key")
    for round_, lines in enumerate((100, 401, 1000)):
        reported = await _run_and_kill(tmp_path, round_, lines)
        sealer = SecretSealer.load_or_create(tmp_path / "store.key")
        store = await SqliteStore.open(tmp_path / "hub.db", sealer=sealer)
        try:
            newest = 0
            last_token: tuple[int, str] | None = None
            for line in reported:
                name, revision, *rest = line.split()
                newest = max(newest, int(revision))
                if name == "token":
                    last_token = (int(revision), f"round {rest[0]} write {rest[1]}")
                    continue
                key = ResourceKey(group="core", kind="ConfigMap", namespace="default", name=name)
                stored = await store.get_object(key)
                assert stored is not None, f"{name} (revision {revision}) was lost"
                assert stored.revision == int(revision)
                assert stored.manifest["metadata"]["resourceVersion"] == revision
            assert await store.revision() >= newest
            token = await store.get_object(SECRET)
            assert token is not None and last_token is not None
            assert token.revision >= last_token[0]
            if token.revision == last_token[0]:
                value = base64.b64decode(token.manifest["data"]["v"]).decode()
                assert value == last_token[1]
        finally:
            await store.close()
        conn = sqlite3.connect(tmp_path / "hub.db")
        try:
            assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        finally:
            conn.close()
