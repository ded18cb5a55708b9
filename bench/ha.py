"""HA benchmarks, side by side in one run (2-core machine: only the ratios mean much).

1. Administrator lease4-update/s (force-create, 8 concurrent keep-alive connections) against a
   single leasesync, a hot-standby pair with send-lease-updates true, and a pair with it false.
2. Time for a standby to sync 100k leases from its partner with ha-sync (target ≤ 10 s).
3. How fast a primary delivers its durable backlog: the standby is paused (SIGSTOP, the pair
   stays in hot-standby under a long max-response-delay), --backlog updates are made on the
   primary and queued for it, and after SIGCONT the time until the backlog is empty is measured.

   With `--family 6` the backlog holds lease6-updates (IA_NA addresses), which reach the standby
   as one-lease lease6-bulk-applies, as Kea sends them.

    python bench/ha.py [--seconds 5] [--leases 100000] [--connections 8] [--backlog 5000] [--only backlog]
                       [--family 6]
"""

from __future__ import annotations

import argparse
import asyncio
import ipaddress
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app.ha.peer_client import PeerClient, PeerEndpoint  # noqa: E402
from tests.conftest import free_port  # noqa: E402
from tests.ha_helpers import ha_hook  # noqa: E402

SUBNET = [{"id": 1, "subnet": "10.0.0.0/8"}]
SUBNET6 = [{"id": 1, "subnet": "2001:db8::/32"}]


def config(db: Path, port: int, hook: dict[str, Any] | None, family: int = 4) -> dict[str, Any]:
    daemon: dict[str, Any] = {"lease-database": {"type": "sqlite", "name": str(db)}, "valid-lifetime": 4000,
                              f"subnet{family}": SUBNET if family == 4 else SUBNET6}
    if hook:
        daemon["hooks-libraries"] = [hook]
    return {"LeaseSync": {"http-host": "127.0.0.1", "http-port": port, "max-bulk-leases": 100000},
            f"Dhcp{family}": daemon}


class Server:
    def __init__(self, workdir: Path, name: str, cfg: dict[str, Any]) -> None:
        self.service = "dhcp6" if "Dhcp6" in cfg else "dhcp4"
        self.port = cfg["LeaseSync"]["http-port"]
        self.url = f"http://127.0.0.1:{self.port}/"
        path = workdir / f"{name}.json"
        path.write_text(json.dumps(cfg))
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        self.proc = subprocess.Popen([sys.executable, "-m", "app.cli", "serve", "-c", str(path)], cwd=workdir,
                                     stdout=open(workdir / f"{name}.log", "wb"), stderr=subprocess.STDOUT,  # noqa: SIM115
                                     env=env, start_new_session=True)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(self.url + "healthz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.1)
        raise RuntimeError(f"{name} did not start")

    def command(self, command: str, arguments: Any = None, timeout: float = 120) -> dict[str, Any]:
        body: dict[str, Any] = {"command": command, "service": [self.service]}
        if arguments is not None:
            body["arguments"] = arguments
        return httpx.post(self.url, json=body, timeout=timeout).json()[0]

    def state(self) -> str:
        try:
            return str(self.command("status-get", timeout=5)["arguments"]["high-availability"][0]["ha-servers"]
                       ["local"]["state"])
        except Exception:  # noqa: BLE001
            return "?"

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)


def wait_state(servers: list[Server], state: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if all(s.state() == state for s in servers):
            return
        time.sleep(0.2)
    raise RuntimeError(f"servers did not reach {state}: {[s.state() for s in servers]}")


async def update_load(url: str, seconds: float, connections: int) -> tuple[float, float, float, int]:
    base = int(ipaddress.IPv4Address("10.1.0.0"))
    latencies: list[float] = []
    errors = 0
    counter = 0
    stop_at = time.monotonic() + seconds
    client = load_client(url, connections)

    async def worker() -> None:
        nonlocal counter, errors
        while time.monotonic() < stop_at:
            counter += 1
            address = str(ipaddress.IPv4Address(base + counter % 1_000_000))
            body = {"command": "lease4-update", "service": ["dhcp4"],
                    "arguments": {"ip-address": address, "hw-address": "0a:0b:0c:0d:0e:0f", "force-create": True}}
            started = time.perf_counter()
            answer = await client.send(body)
            latencies.append(time.perf_counter() - started)
            if answer["result"] != 0:
                errors += 1

    started = time.monotonic()
    await asyncio.gather(*(worker() for _ in range(connections)))
    elapsed = time.monotonic() - started
    await client.close()
    latencies.sort()
    p50 = statistics.median(latencies) * 1000
    p99 = latencies[int(len(latencies) * 0.99) - 1] * 1000
    return len(latencies) / elapsed, p50, p99, errors


def load_client(url: str, connections: int) -> PeerClient:
    """The load generator's client: leasesync's own peer client, whose keep-alive connections cost
    a tenth of httpx's CPU per request, so that the servers, not the client, set the pace."""
    return PeerClient(PeerEndpoint("bench", url), timeout=60, max_connections=connections)


def pair(workdir: Path, mode_extra: dict[str, Any], family: int = 4) -> tuple[Server, Server]:
    p1, p2 = free_port(), free_port()
    peers = [{"name": "server1", "url": f"http://127.0.0.1:{p1}/", "role": "primary"},
             {"name": "server2", "url": f"http://127.0.0.1:{p2}/", "role": "standby"}]
    a = Server(workdir, "a", config(workdir / "a.db", p1, ha_hook("server1", "hot-standby", peers, **mode_extra),
                                    family))
    b = Server(workdir, "b", config(workdir / "b.db", p2, ha_hook("server2", "hot-standby", peers, **mode_extra),
                                    family))
    return a, b


def backlog_depth(server: Server) -> float:
    text = httpx.get(server.url + "metrics", timeout=10).text
    match = re.search(r'^leasesync_ha_backlog_depth\{[^}]*peer="server2"[^}]*\} (\S+)$', text, re.M)
    return float(match.group(1)) if match else -1.0


def backlog_drain(workdir: Path, updates: int, connections: int, family: int = 4) -> tuple[float, float, float, int]:
    """(seconds to queue, seconds from SIGCONT to an empty backlog, seconds from the first entry
    delivered to an empty backlog, leases on the standby afterwards)."""
    a, b = pair(workdir, {"heartbeat-delay": 1000, "max-response-delay": 60000}, family)
    try:
        wait_state([a, b], "hot-standby")
        os.kill(b.proc.pid, signal.SIGSTOP)
        try:
            started = time.monotonic()
            asyncio.run(queue_updates(a.url, updates, connections, family))
            queue_seconds = time.monotonic() - started
            deadline = time.monotonic() + 60
            while (queued := backlog_depth(a)) < updates and time.monotonic() < deadline:
                time.sleep(0.05)
        finally:
            os.kill(b.proc.pid, signal.SIGCONT)
        started = time.monotonic()
        first_delivered = None
        deadline = started + 600
        # the updates in flight when the standby stopped time out first (the peer client's 10 s)
        while (depth := backlog_depth(a)) != 0 and time.monotonic() < deadline:
            if first_delivered is None and depth < queued:
                first_delivered = time.monotonic()
            time.sleep(0.02)
        ended = time.monotonic()
        count = len(b.command(f"lease{family}-get-all", timeout=300)["arguments"]["leases"])
        return queue_seconds, ended - started, ended - (first_delivered or started), count
    finally:
        a.stop()
        b.stop()


async def queue_updates(url: str, updates: int, connections: int, family: int = 4) -> None:
    base = int(ipaddress.IPv4Address("10.3.0.0")) if family == 4 else int(ipaddress.IPv6Address("2001:db8:3::"))
    addresses = iter(range(updates))
    client = load_client(url, connections)

    def body(i: int) -> dict[str, Any]:
        if family == 4:
            return {"command": "lease4-update", "service": ["dhcp4"],
                    "arguments": {"ip-address": str(ipaddress.IPv4Address(base + i)),
                                  "hw-address": "0a:0b:0c:0d:0e:0f", "force-create": True}}
        return {"command": "lease6-update", "service": ["dhcp6"],
                "arguments": {"ip-address": str(ipaddress.IPv6Address(base + i)), "duid": "01:02:03:04:05:06",
                              "iaid": i, "subnet-id": 1, "force-create": True}}

    async def worker() -> None:
        for i in addresses:
            answer = await client.send(body(i))
            assert answer["result"] == 0, answer

    await asyncio.gather(*(worker() for _ in range(connections)))
    await client.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--leases", type=int, default=100_000)
    parser.add_argument("--backlog", type=int, default=5000, help="updates queued for the paused standby")
    parser.add_argument("--only", choices=("backlog",), help="run only the backlog part")
    parser.add_argument("--family", type=int, choices=(4, 6), default=4, help="of the backlog part's updates")
    args = parser.parse_args()
    if args.only == "backlog":
        with tempfile.TemporaryDirectory(prefix="ls-bench-ha-") as tmp:
            print_backlog(args, *backlog_drain(Path(tmp), args.backlog, args.connections, args.family))
            if os.environ.get("BENCH_KEEP_LOGS"):
                shutil.copy(Path(tmp) / "a.log", "/tmp/backlog-a.log")
                shutil.copy(Path(tmp) / "b.log", "/tmp/backlog-b.log")
        return
    rows: list[tuple[str, float, float, float, int]] = []
    with tempfile.TemporaryDirectory(prefix="ls-bench-ha-") as tmp:
        for label, extra in (("single server", None), ("pair, send-lease-updates true", {}),
                             ("pair, send-lease-updates false", {"send-lease-updates": False, "sync-leases": False})):
            work = Path(tmp) / label.replace(" ", "_").replace(",", "")
            work.mkdir()
            if extra is None:
                servers = [Server(work, "single", config(work / "s.db", free_port(), None))]
            else:
                servers = list(pair(work, {"heartbeat-delay": 1000, "max-response-delay": 5000, **extra}))
                wait_state(servers, "hot-standby")
            try:
                rate, p50, p99, errors = asyncio.run(update_load(servers[0].url, args.seconds, args.connections))
                rows.append((label, rate, p50, p99, errors))
            finally:
                for s in servers:
                    s.stop()
            shutil.rmtree(work, ignore_errors=True)

        work = Path(tmp) / "sync"
        work.mkdir()
        a, b = pair(work, {"heartbeat-delay": 1000, "max-response-delay": 5000, "sync-page-limit": 10000})
        try:
            wait_state([a, b], "hot-standby")
            base = int(ipaddress.IPv4Address("10.2.0.0"))
            now = int(time.time())
            load_started = time.monotonic()
            b.stop()  # load the primary alone, so the leases are not sent as live updates
            for start in range(0, args.leases, 5000):
                leases = [{"ip-address": str(ipaddress.IPv4Address(base + i)), "hw-address": "0a:0b:0c:0d:0e:0f",
                           "expire": now + 4000, "valid-lft": 4000}
                          for i in range(start, min(start + 5000, args.leases))]
                answer = a.command("lease4-bulk-apply", {"leases": leases, "deleted-leases": []})
                assert answer["result"] == 0, answer
            load_seconds = time.monotonic() - load_started
            standby_hook = json.loads((work / "b.json").read_text())["Dhcp4"]["hooks-libraries"][0]
            b2 = Server(work, "b2", config(work / "b2.db", b.port, standby_hook))  # an empty standby
            sync_started = time.monotonic()
            answer = b2.command("ha-sync", {"server-name": "server1"}, timeout=300)
            sync_seconds = time.monotonic() - sync_started
            count = len(b2.command("lease4-get-all", timeout=300)["arguments"]["leases"])
            b2.stop()
        finally:
            a.stop()
            b.stop()
        work = Path(tmp) / "backlog"
        work.mkdir()
        drained = backlog_drain(work, args.backlog, args.connections, args.family)

    print(f"\nadmin lease4-update, {args.connections} connections, {args.seconds:g} s each (SQLite, synchronous FULL)")
    print(f"{'target':34} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7} {'vs single':>10}")
    single = rows[0][1]
    for label, rate, p50, p99, errors in rows:
        print(f"{label:34} {rate:8.0f} {p50:8.2f} {p99:8.2f} {errors:7d} {rate / single:9.2f}x")
    print(f"\nsync of {args.leases} leases with ha-sync (sync-page-limit 10000): {sync_seconds:.2f} s "
          f"({args.leases / sync_seconds:.0f} leases/s), {count} leases on the standby afterwards "
          f"(answer: {answer.get('text')}); loading the primary took {load_seconds:.1f} s")
    print_backlog(args, *drained)



def print_backlog(args: argparse.Namespace, queue_seconds: float, after_sigcont: float, draining: float,
                  count: int) -> None:
    print(f"\nbacklog of {args.backlog} lease{args.family}-updates queued for a paused standby in {queue_seconds:.1f} s "
          f"({args.connections} connections): empty {after_sigcont:.2f} s after SIGCONT, {draining:.2f} s after "
          f"the first entry was delivered ({args.backlog / draining:.0f} updates/s); {count} leases on the standby")


if __name__ == "__main__":
    main()
