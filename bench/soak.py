"""Soak: a bounded mixed load with one injected crash, then a full store check.

    python bench/soak.py                          # 60 s, one process, SQLite
    python bench/soak.py --seconds 20 --processes 2 --db postgresql

Starts one or two ``leasesync serve`` processes on one lease database (two agents over a shared
SQL store), runs writer threads (``lease4-update`` with ``force-create``: new addresses and
rewrites of acknowledged ones) and reader threads (``lease4-get``, ``lease4-get-page``) spread
over the processes, SIGKILLs the first process once at ``--kill-at`` of the run and restarts it.
At the end every acknowledged write must be stored with its acknowledged fields (or those of a
later write whose answer never arrived). Prints acknowledged writes, lost writes (must be 0) and
the store check; exits 1 when anything was lost or wrong.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
PG_DSN = os.environ.get("LEASESYNC_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    def __init__(self, config: dict[str, Any], workdir: Path, name: str) -> None:
        self.config, self.name = config, name
        self.port = config["LeaseSync"]["http-port"]
        self.url = f"http://127.0.0.1:{self.port}/"
        self.config_path, self.log_path = workdir / f"{name}.json", workdir / f"{name}.log"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, wait: float = 30) -> None:
        self.config_path.write_text(json.dumps(self.config))
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen([sys.executable, "-m", "app.cli", "serve", "-c", str(self.config_path)],
                                         stdout=log, stderr=subprocess.STDOUT, cwd=ROOT, start_new_session=True)
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise SystemExit(f"{self.name} exited at start-up, see {self.log_path}")
            try:
                if httpx.get(self.url + "healthz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.1)
        raise SystemExit(f"{self.name} did not start in {wait} s, see {self.log_path}")

    def kill(self) -> None:
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()


class Stats:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.acked = self.rejected = self.unanswered = self.reads = self.read_errors = 0


def writer(index: int, urls: list[str], stop: threading.Event, stats: Stats,
           history: dict[str, list[tuple[str, dict[str, Any]]]], seed: int) -> None:
    """Owns addresses 10.<index>.x.y; records (outcome, fields) per address in order."""
    rng = random.Random(seed + index)
    acked: list[str] = []
    serial = 0
    with httpx.Client(timeout=15) as http:
        while not stop.is_set():
            serial += 1
            if acked and rng.random() < 0.25:
                address = rng.choice(acked)
            else:
                n = len(history)
                address = f"10.{index}.{n // 250 % 250}.{n % 250 + 1}"
            args = {"ip-address": address, "hw-address": f"02:00:{index:02x}:{serial >> 16 & 255:02x}:"
                    f"{serial >> 8 & 255:02x}:{serial & 255:02x}", "hostname": f"s{index}-{serial}.example.org",
                    "valid-lft": 3600, "expire": 2_000_000_000 + serial, "subnet-id": 1, "force-create": True}
            entry = ["unknown", args]
            history.setdefault(address, []).append(entry)  # type: ignore[arg-type]
            url = urls[serial % len(urls)]
            try:
                answer = http.post(url, json={"command": "lease4-update", "service": ["dhcp4"], "arguments": args})
                result = answer.json()[0]["result"]
            except (httpx.HTTPError, ValueError, KeyError, IndexError):
                with stats.lock:
                    stats.unanswered += 1
                time.sleep(0.05)
                continue
            entry[0] = "ack" if result == 0 else "rejected"
            with stats.lock:
                if result == 0:
                    stats.acked += 1
                else:
                    stats.rejected += 1
            if result == 0 and address not in acked:
                acked.append(address)


def reader(index: int, urls: list[str], stop: threading.Event, stats: Stats, seed: int) -> None:
    rng = random.Random(seed * 7 + index)
    with httpx.Client(timeout=15) as http:
        while not stop.is_set():
            if rng.random() < 0.8:
                body = {"command": "lease4-get", "service": ["dhcp4"],
                        "arguments": {"ip-address": f"10.{rng.randint(1, 4)}.0.{rng.randint(1, 250)}"}}
            else:
                body = {"command": "lease4-get-page", "service": ["dhcp4"], "arguments": {"from": "start", "limit": 100}}
            try:
                ok = http.post(rng.choice(urls), json=body).json()[0]["result"] in (0, 3)
            except (httpx.HTTPError, ValueError, KeyError, IndexError):
                ok = False
                time.sleep(0.05)
            with stats.lock:
                stats.reads += 1
                stats.read_errors += not ok


def check(url: str, histories: list[dict[str, list[Any]]]) -> tuple[int, int]:
    """(lost, wrong): acknowledged leases missing, or stored with fields nobody may have written."""
    leases = httpx.post(url, json={"command": "lease4-get-all", "service": ["dhcp4"]}, timeout=120).json()[0]
    stored = {lease["ip-address"]: (lease["hw-address"], lease["hostname"], lease["cltt"] + lease["valid-lft"])
              for lease in leases.get("arguments", {}).get("leases", [])}
    lost = wrong = 0
    for history in histories:
        for address, attempts in history.items():
            last_ack = max((i for i, (outcome, _) in enumerate(attempts) if outcome == "ack"), default=None)
            value = stored.get(address)
            if value is None:
                lost += last_ack is not None
                continue
            allowed = {(a["hw-address"], a["hostname"], a["expire"]) for outcome, a in attempts[last_ack or 0:]
                       if outcome != "rejected"}
            wrong += value not in allowed
    return lost, wrong


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--processes", type=int, choices=(1, 2), default=1)
    parser.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--writers", type=int, default=4)
    parser.add_argument("--readers", type=int, default=2)
    parser.add_argument("--kill-at", type=float, default=0.5, help="fraction of the run at which to SIGKILL")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="leasesync-soak-"))
    drop = None
    if args.db == "sqlite":
        db: dict[str, Any] = {"type": "sqlite", "name": str(workdir / "soak.db")}
    else:
        import psycopg

        name = f"ls_soak_{uuid.uuid4().hex[:8]}"
        admin = psycopg.connect(PG_DSN, autocommit=True)
        admin.execute(f'CREATE DATABASE "{name}"')
        db = {"type": "postgresql", "name": name, "host": "127.0.0.1", "user": "postgres"}

        def drop() -> None:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    servers = [Server({"LeaseSync": {"http-host": "127.0.0.1", "http-port": free_port()},
                       "Dhcp4": {"lease-database": db, "subnet4": [{"id": 1, "subnet": "10.0.0.0/8"}]}},
                      workdir, f"soak{i}") for i in range(args.processes)]
    stop = threading.Event()
    stats = Stats()
    histories: list[dict[str, list[Any]]] = [{} for _ in range(args.writers)]
    threads: list[threading.Thread] = []
    try:
        for server in servers:
            server.start()
        urls = [s.url for s in servers]
        threads = [threading.Thread(target=writer, args=(i + 1, urls, stop, stats, histories[i], args.seed))
                   for i in range(args.writers)]
        threads += [threading.Thread(target=reader, args=(i, urls, stop, stats, args.seed)) for i in range(args.readers)]
        for t in threads:
            t.start()
        started = time.monotonic()
        time.sleep(args.seconds * args.kill_at)
        print(f"{time.monotonic() - started:6.1f} s  SIGKILL {servers[0].name} ({stats.acked} writes acknowledged so far)")
        servers[0].kill()
        servers[0].start()
        print(f"{time.monotonic() - started:6.1f} s  {servers[0].name} restarted")
        time.sleep(max(0.0, args.seconds - (time.monotonic() - started)))
        stop.set()
        for t in threads:
            t.join(timeout=60)
        lost, wrong = check(servers[0].url, histories)
    finally:
        stop.set()
        for server in servers:
            server.stop()
        if drop is not None:
            drop()
    print(f"acknowledged writes : {stats.acked}")
    print(f"rejected writes     : {stats.rejected} (answered with result != 0)")
    print(f"unanswered writes   : {stats.unanswered} (connection lost; may or may not be stored)")
    print(f"reads               : {stats.reads} ({stats.read_errors} failed)")
    print(f"lost writes         : {lost}")
    print(f"store check         : {'OK' if not lost and not wrong else f'FAILED ({wrong} lease(s) with unexpected fields)'}")
    return 1 if lost or wrong else 0


if __name__ == "__main__":
    sys.exit(main())
