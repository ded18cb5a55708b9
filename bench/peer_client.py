"""The CPU an HA peer client spends per request, httpx's client against leasesync's own.

    python bench/peer_client.py [--requests 4000] [--conns 1,8]

Starts one `leasesync serve` (SQLite, an empty store) and sends it lease4-get from this process,
on uvloop as the server runs, first with httpx's AsyncClient (its default transport: httpcore on
anyio, h11; what app/ha/peer_client.py used until session 22), then with `PeerClient` (keep-alive
connections of app/ha/http_transport.py). Prints this process's CPU per request (user + system,
`time.process_time`) and the request rate. A primary sends one request per lease change to each
peer, and two per backlog entry, so the client's CPU is spent on the serving core.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import orjson
import uvloop

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app.ha.peer_client import PeerClient, PeerEndpoint  # noqa: E402
from tests.conftest import free_port  # noqa: E402

BODY = {"command": "lease4-get", "service": ["dhcp4"], "arguments": {"ip-address": "10.0.0.1"}}


async def measure(send: Callable[[], Awaitable[Any]], requests: int, conns: int) -> tuple[float, float]:
    """(CPU µs per request, requests/s) of `requests` sends over `conns` concurrent senders."""
    async def sender(count: int) -> None:
        for _ in range(count):
            await send()

    await sender(200)  # connections open, code warm
    cpu, wall = time.process_time(), time.perf_counter()
    await asyncio.gather(*(sender(requests // conns) for _ in range(conns)))
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    done = requests // conns * conns
    return cpu / done * 1e6, done / wall


async def run(url: str, requests: int, conns: list[int]) -> None:
    print(f"{'client':44} {'conns':>5} {'CPU µs/request':>15} {'requests/s':>11}")
    content = orjson.dumps(BODY)
    for conn in conns:
        async with httpx.AsyncClient(limits=httpx.Limits(max_connections=8, max_keepalive_connections=4),
                                     headers={"Content-Type": "application/json"}, timeout=10) as client:

            async def httpx_send(client: httpx.AsyncClient = client) -> Any:
                return orjson.loads((await client.post(url, content=content)).content)

            cpu, rate = await measure(httpx_send, requests, conn)
        print(f"{'httpx.AsyncClient (httpcore, anyio, h11)':44} {conn:5d} {cpu:15.0f} {rate:11.0f}")
        peer = PeerClient(PeerEndpoint("bench", url))
        cpu, rate = await measure(lambda: peer.send(BODY), requests, conn)  # noqa: B023 - awaited at once
        await peer.close()
        print(f"{'PeerClient (app/ha/http_transport.py)':44} {conn:5d} {cpu:15.0f} {rate:11.0f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=4000)
    parser.add_argument("--conns", default="1,8")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="ls-bench-peer-") as tmp:
        port = free_port()
        config = {"LeaseSync": {"http-host": "127.0.0.1", "http-port": port},
                  "Dhcp4": {"lease-database": {"type": "sqlite", "name": f"{tmp}/leases.db"},
                            "subnet4": [{"id": 1, "subnet": "10.0.0.0/8"}]}}
        Path(tmp, "config.json").write_text(json.dumps(config))
        server = subprocess.Popen([sys.executable, "-m", "app.cli", "serve", "-c", f"{tmp}/config.json"], cwd=ROOT,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            url = f"http://127.0.0.1:{port}/"
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                try:
                    if httpx.get(url + "healthz", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    time.sleep(0.1)
            uvloop.run(run(url, args.requests, [int(c) for c in args.conns.split(",")]))
        finally:
            server.terminate()
            server.wait(10)


if __name__ == "__main__":
    main()
