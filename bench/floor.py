"""The floor under any one-process Python control channel on this machine: a server that does the
least a durable lease update must do, and nothing else. `bench/control.py` runs it as the targets
``floor-http`` and ``floor-fsync`` beside leasesync and Kea, so the three are measured in one run.

    python bench/floor.py --port 8123 --mode fsync     # (control.py starts it itself)

Both modes read each request with httptools on uvloop (what uvicorn's fastest stack uses), parse
its JSON body with orjson and answer a fixed Kea answer map with result 0; one request at a time
per keep-alive connection, as the load generator sends them. ``fsync`` adds group commit at its
cheapest: each request appends its body to a file, one thread fsyncs that file for every request
that arrived before the fsync began, and a request is answered only after such an fsync returned
(what leasesync's SQLite WAL path does, without the SQL, the lease checks or the statistics).
``sqlite`` adds the SQL: each lease4-update is one upsert into leasesync's own SQLite lease4 table
(Kea's columns and indexes, leasesync's statistics triggers, created by `leasesync db upgrade`),
the statements of every request that arrived while an fsync ran share one transaction, and the
WAL is fsynced after each commit (leasesync's inline writer, without its argument checks,
dispatch, statistics, metrics or HA). Whatever leasesync spends beyond these floors is its own;
what a floor itself cannot reach, no amount of work on leasesync's code reaches in one process.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import queue
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httptools
import orjson
import uvloop

ANSWER = b'[ { "result": 0, "text": "IPv4 lease updated." } ]'
RESPONSE = (b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: "
            + str(len(ANSWER)).encode() + b"\r\n\r\n" + ANSWER)


class GroupCommit:
    """Append on the loop, fsync on one thread; answer each request after an fsync that began
    after its append returned."""

    def __init__(self, loop: asyncio.AbstractEventLoop, path: str) -> None:
        self.loop = loop
        self.fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        self.waiting: list[asyncio.Transport] = []
        self.syncing = False
        self.jobs: queue.SimpleQueue[list[asyncio.Transport] | None] = queue.SimpleQueue()
        threading.Thread(target=self._sync_loop, daemon=True).start()

    def add(self, transport: asyncio.Transport, body: bytes) -> None:
        orjson.loads(body)
        os.write(self.fd, body)
        self.waiting.append(transport)
        if not self.syncing:
            self._start()

    def _start(self) -> None:
        batch, self.waiting = self.waiting, []
        self.syncing = True
        self.jobs.put(batch)

    def _sync_loop(self) -> None:
        while (batch := self.jobs.get()) is not None:
            os.fsync(self.fd)
            self.loop.call_soon_threadsafe(self._synced, batch)

    def _synced(self, batch: list[asyncio.Transport]) -> None:
        for transport in batch:
            if not transport.is_closing():
                transport.write(RESPONSE)
        self.syncing = False
        if self.waiting:
            self._start()


_UPSERT = ("INSERT INTO lease4 (address, hwaddr, client_id, valid_lifetime, expire, subnet_id, fqdn_fwd, fqdn_rev, "
           "hostname, state, user_context) VALUES (?, ?, NULL, ?, ?, 1, 0, 0, ?, 0, NULL) ON CONFLICT (address) DO "
           "UPDATE SET hwaddr = excluded.hwaddr, valid_lifetime = excluded.valid_lifetime, expire = excluded.expire, "
           "hostname = excluded.hostname")


class SqliteGroupCommit(GroupCommit):
    """The lease's upsert in the open transaction; COMMIT (WAL write, synchronous NORMAL) on the
    loop when no fsync runs, then the WAL's fsync on the thread, as leasesync's inline writer."""

    def __init__(self, loop: asyncio.AbstractEventLoop, path: str) -> None:
        config = {"Dhcp4": {"lease-database": {"type": "sqlite", "name": path},
                            "subnet4": [{"id": 1, "subnet": "10.0.0.0/16"}]}}
        config_path = Path(path).with_suffix(".json")
        config_path.write_text(json.dumps(config))
        root = Path(__file__).resolve().parent.parent
        subprocess.run([sys.executable, "-m", "app.cli", "db", "upgrade", "-c", str(config_path)], cwd=root,
                       check=True, capture_output=True)
        self.db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.in_transaction = False
        super().__init__(loop, path + "-wal")

    def add(self, transport: asyncio.Transport, body: bytes) -> None:
        envelope = orjson.loads(body)
        if envelope.get("command") != "lease4-update":  # the floor measures lease4-update only
            transport.write(RESPONSE)
            return
        arguments = envelope["arguments"]
        if not self.in_transaction:
            self.db.execute("BEGIN IMMEDIATE")
            self.in_transaction = True
        valid = arguments.get("valid-lft", 4000)
        self.db.execute(_UPSERT, (int.from_bytes(socket.inet_pton(socket.AF_INET, arguments["ip-address"]), "big"),
                                  bytes.fromhex(arguments["hw-address"].replace(":", "")), valid,
                                  int(time.time()) + valid, arguments.get("hostname", "")))
        self.waiting.append(transport)
        if not self.syncing:
            self._start()

    def _start(self) -> None:
        self.db.execute("COMMIT")
        self.in_transaction = False
        super()._start()


class FloorProtocol(asyncio.Protocol):
    def __init__(self, commit: GroupCommit | None) -> None:
        self.commit = commit
        self.transport: Any = None
        self.parser = httptools.HttpRequestParser(self)
        self.body: list[bytes] = []

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError:
            self.transport.close()

    def on_body(self, body: bytes) -> None:
        self.body.append(body)

    def on_message_complete(self) -> None:
        body = b"".join(self.body)
        self.body.clear()
        if self.commit is None:
            orjson.loads(body)  # the least a command needs: its envelope read
            self.transport.write(RESPONSE)
        else:
            self.commit.add(self.transport, body)


async def serve(port: int, mode: str) -> None:
    loop = asyncio.get_running_loop()
    with tempfile.TemporaryDirectory(prefix="lsfloor-") as tmp:
        commit: GroupCommit | None = None
        if mode == "fsync":
            commit = GroupCommit(loop, os.path.join(tmp, "log"))
        elif mode == "sqlite":
            commit = SqliteGroupCommit(loop, os.path.join(tmp, "leases.db"))
        server = await loop.create_server(lambda: FloorProtocol(commit), "127.0.0.1", port, backlog=2048)
        async with server:
            await server.serve_forever()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--mode", choices=("http", "fsync", "sqlite"), default="fsync")
    args = parser.parse_args()
    uvloop.run(serve(args.port, args.mode))


if __name__ == "__main__":
    main()
