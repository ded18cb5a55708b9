"""Control-channel throughput and latency: leasesync against Kea 2.2, on loopback.

    python bench/control.py                         # everything, 5 s per cell
    python bench/control.py --seconds 3 --targets sqlite,kea-ha --commands lease4-update

Targets, each started (and stopped) by this script:

* ``sqlite``      leasesync, SQLite lease store (WAL, synchronous FULL: the durable default)
* ``sqlite-normal`` the same with ``synchronous`` NORMAL: answers after the WAL write, no fsync
                  (survives a crash of leasesync, not of the machine; Kea's memfile does no more)
* ``postgresql``  leasesync, PostgreSQL (127.0.0.1:5432, user postgres; database ``ls_bench_*``,
                  created and dropped here)
* ``postgresql-capture`` the same with ``capture-changes`` on (a database shared with Kea: the
                  triggers run on every write, each writer transaction is marked as leasesync's)
* ``postgresql-pgbouncer`` the same through a private pgbouncer (transaction mode, 4 server
                  connections; needs root and Debian's pgbouncer)
* ``kea-ca``      kea-ctrl-agent in front of kea-dhcp4 + kea-dhcp6 with lease_cmds
                  (memfile, persist true, lfc-interval 0)
* ``sqlite@NAME`` / ``postgresql@NAME``: the same, run from the source tree given with
                  ``--tree NAME=PATH`` (before/after comparisons in one run)
* ``--compiled NAME``: this tree with its hot path compiled by mypyc (``bench/compiled.py``), as
                  tree NAME: target ``sqlite@NAME`` and the like
* ``sqlite+wN`` / ``postgresql+wN`` (also with ``@NAME``): with ``LeaseSync.http-workers`` = N,
                  N HTTP front-end processes before the one that runs the commands
* ``kea-ha``      kea-dhcp4 / kea-dhcp6's own HTTP listener: HA hook with ``multi-threading``
                  (``enable-multi-threading``, ``http-dedicated-listener``), daemon multi-threading
                  on, a partner on an unused loopback port and heartbeats practically off. This is
                  the path a Kea partner's lease updates take.
* ``floor-http`` / ``floor-fsync`` / ``floor-sqlite``: not products: ``bench/floor.py``, the least
                  one Python process must do per request (HTTP and JSON read, a fixed answer;
                  ``fsync``: and a group-committed fsync before each answer; ``sqlite``: and the
                  lease's upsert into leasesync's SQLite table). What a floor cannot reach,
                  leasesync cannot.
* ``floor-c``     not a product either: ``bench/floor_c.c``, floor-sqlite's work in C (built here
                  with ``cc`` and libsqlite3): what a compiled lease4-update path could reach.

Commands: ``lease4-update`` (force-create, a new address of a /16 each time), ``lease4-get``
(addresses prefilled before the cells), ``lease6-bulk-apply`` (50 leases per request); on
request ``lease4-renew``: lease4-update renewing a prefilled lease (same hardware address and
hostname, a later expiry), most of what an HA partner sends; ``lease6-bulk-renew``: lease6-bulk-apply
renewing 50 prefilled leases (the same leases, a later expiry), a partner's bulk renewals.

The load generator runs in separate processes (``--client-procs``): raw asyncio protocols on
uvloop over keep-alive connections, requests formatted from pre-built byte templates, one
request in flight per connection. Every answer is checked: each ``"result": N`` in the body
must be 0 (so a bulk answer with ``failed-leases`` counts as an error). ``cli%`` is the load
generator's CPU use and ``srv%`` the target's (100 % = one core), to show who was saturated.
Only ratios within one run mean anything on a shared 2-core machine.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import ipaddress
import json
import os
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from array import array
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent

SUBNET4 = "10.0.0.0/16"
SUBNET6 = "2001:db8:1::/64"
V4_BASE = int(ipaddress.IPv4Address("10.0.0.0"))
V6_BASE = int(ipaddress.IPv6Address("2001:db8:1::"))
V4_HOSTS = 65534  # 10.0.0.1 .. 10.0.255.254
V4_STRIDE = 40503  # coprime with 65534: consecutive requests hit addresses spread over the /16
PREFILL = 4096  # leases created before the lease4-get cells
BULK = 50
COMMANDS = ("lease4-update", "lease4-get", "lease6-bulk-apply")
# on request only (--commands): what an HA partner mostly sends, renewals of leases that are there
# (prefilled): lease4-update with the same hardware address and hostname and a later expiry, and
# lease6-bulk-apply of the same 50 leases with a later expiry
EXTRA_COMMANDS = ("lease4-renew", "lease6-bulk-renew")
RENEW_EXPIRE = 1_900_000_000  # + the request's index: every renewal moves the expiry
BULK_RENEW_FIRST = 20_000_000  # lease6-bulk-apply index of the first bulk that lease6-bulk-renew renews
BULK_RENEW_SLOTS = 64  # bulks prefilled for lease6-bulk-renew (3,200 leases)
DEFAULT_TARGETS = ("sqlite", "postgresql", "kea-ca", "kea-ha")
EXTRA_TARGETS = ("sqlite-normal", "postgresql-capture", "postgresql-pgbouncer")
FLOORS = ("floor-http", "floor-fsync", "floor-sqlite", "floor-c")
TARGETS = (*DEFAULT_TARGETS, *EXTRA_TARGETS, *FLOORS)
TARGET_TITLES = {
    "sqlite": "(a) leasesync SQLite FULL",
    "sqlite-normal": "(a) leasesync SQLite NORMAL (no fsync)",
    "postgresql": "(b) leasesync PostgreSQL",
    "postgresql-capture": "(b) leasesync PostgreSQL, capture-changes on",
    "postgresql-pgbouncer": "(b) leasesync PostgreSQL via pgbouncer (transaction, 4 server conns)",
    "kea-ca": "(c) kea-ctrl-agent + lease_cmds",
    "kea-ha": "(d) Kea HA+MT dedicated listener",
    "floor-http": "floor: Python HTTP+JSON, no work",
    "floor-fsync": "floor: Python HTTP+JSON, group fsync",
    "floor-sqlite": "floor: Python HTTP+JSON, SQLite upsert, group fsync",
    "floor-c": "floor: C HTTP+JSON scan, SQLite upsert, group fsync",
}


# ---------------------------------------------------------------------------------------------
# requests


def v4_address(index: int) -> str:
    offset = (index * V4_STRIDE) % V4_HOSTS + 1
    return str(ipaddress.IPv4Address(V4_BASE + offset))


def _hw(index: int) -> str:
    return "02:00:" + ":".join(f"{(index >> s) & 0xFF:02x}" for s in (24, 16, 8, 0))


def _post(body: bytes) -> bytes:
    return (b"POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            b"Content-Length: %d\r\n\r\n%s" % (len(body), body))


def lease4_update(address: str, hw: str, hostname: str, expire: int | None = None) -> bytes:
    """A force-create lease4-update request of subnet 1 (without `expire`, Kea's cltt is now)."""
    when = "" if expire is None else f'"expire":{expire},'
    body = ('{"command":"lease4-update","service":["dhcp4"],"arguments":{"ip-address":"'
            f'{address}","hw-address":"{hw}","subnet-id":1,"valid-lft":3600,{when}'
            f'"hostname":"{hostname}","force-create":true}}}}')
    return _post(body.encode())


def _bulk6(index: int, expire: int | None = None) -> str:
    """The lease6-bulk-apply of bulk number `index` (without `expire`, Kea's cltt is now)."""
    when = "" if expire is None else f',"expire":{expire}'
    leases = ",".join(
        f'{{"ip-address":"{ipaddress.IPv6Address(V6_BASE + 1 + j)}","duid":"00:03:00:01:{_hw(j)[6:]}",'
        f'"iaid":{j & 0xFFFF},"subnet-id":1,"valid-lft":3600,"preferred-lft":1800{when}}}'
        for j in range(index * BULK, (index + 1) * BULK)
    )
    return '{"command":"lease6-bulk-apply","service":["dhcp6"],"arguments":{"leases":[' + leases + "]}}"


def build_request(command: str, index: int) -> bytes:
    """The request number `index` of a command (deterministic, so every target gets the same)."""
    if command == "lease4-update":
        return lease4_update(v4_address(index), _hw(index), f"h{index}.example.org")
    if command == "lease4-renew":
        slot = index % PREFILL
        return lease4_update(v4_address(slot), _hw(slot), f"h{slot}.example.org", RENEW_EXPIRE + index)
    if command == "lease4-get":
        body = ('{"command":"lease4-get","service":["dhcp4"],"arguments":{"ip-address":"'
                f'{v4_address(index % PREFILL)}"}}}}')
    elif command == "lease6-bulk-apply":
        body = _bulk6(index)
    elif command == "lease6-bulk-renew":
        body = _bulk6(BULK_RENEW_FIRST + index % BULK_RENEW_SLOTS, RENEW_EXPIRE + index)
    else:
        raise ValueError(command)
    return _post(body.encode())


def answer_ok(body: bytes) -> bool:
    """Every result in the answer is 0 (and there is at least one)."""
    total = body.count(b'"result": ')
    return total > 0 and total == body.count(b'"result": 0')


# ---------------------------------------------------------------------------------------------
# load generator (runs in its own process: `control.py --client JSON`)


class _Conn(asyncio.Protocol):
    def __init__(self, run: _ClientRun) -> None:
        self.run = run
        self.buf = b""
        self.sent = 0.0
        self.transport: asyncio.Transport | None = None
        self.need = -1  # total bytes of the current response, once its head is parsed

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]  # uvloop's is not an asyncio.Transport subclass
        sock = transport.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.send()

    def send(self) -> None:
        request = self.run.next_request()
        assert self.transport is not None
        if request is None:
            self.transport.close()
            return
        self.sent = time.perf_counter()
        self.transport.write(request)

    def data_received(self, data: bytes) -> None:
        self.buf = self.buf + data if self.buf else data
        while True:
            if self.need < 0:
                end = self.buf.find(b"\r\n\r\n")
                if end < 0:
                    return
                head = self.buf[:end].lower()
                at = head.find(b"content-length:")
                if at < 0:
                    self.run.fail(f"no content-length: {head[:200]!r}")
                    return
                stop = head.find(b"\r\n", at)
                length = int(head[at + 15:stop if stop > 0 else len(head)])
                self.need = end + 4 + length
                self.body_at = end + 4
                self.status_ok = head.startswith(b"http/1.1 200")
            if len(self.buf) < self.need:
                return
            body = self.buf[self.body_at:self.need]
            self.buf = self.buf[self.need:]
            self.need = -1
            self.run.done(time.perf_counter() - self.sent, self.status_ok and answer_ok(body), body)
            self.send()
            return

    def connection_lost(self, exc: Exception | None) -> None:
        self.run.closed(self, exc)


class _ClientRun:
    def __init__(self, spec: dict[str, Any]) -> None:
        self.command = spec["command"]
        self.index = spec["start"] + spec["proc"]
        self.step = spec["procs"]
        self.limit = spec.get("count")  # count mode (prefill): exactly these indices
        self.end_index = spec["start"] + self.limit if self.limit is not None else None
        self.warmup_until = 0.0
        self.stop_at = 0.0
        self.latencies = array("d")
        self.ok = 0
        self.errors = 0
        self.error_sample: list[str] = []
        self.issued = 0
        self.open: set[_Conn] = set()
        self.finished: asyncio.Future[None] | None = None

    def next_request(self) -> bytes | None:
        if self.end_index is not None:
            if self.index >= self.end_index:
                return None
        elif time.perf_counter() >= self.stop_at:
            return None
        request = build_request(self.command, self.index)
        self.index += self.step
        self.issued += 1
        return request

    def done(self, latency: float, ok: bool, body: bytes) -> None:
        measuring = self.end_index is not None or time.perf_counter() - latency >= self.warmup_until
        if ok:
            if measuring:
                self.ok += 1
                self.latencies.append(latency)
        else:
            self.errors += 1
            if len(self.error_sample) < 3:
                self.error_sample.append(body[:300].decode(errors="replace"))

    def fail(self, why: str) -> None:
        self.errors += 1
        if len(self.error_sample) < 3:
            self.error_sample.append(why)

    def closed(self, conn: _Conn, exc: Exception | None) -> None:
        if exc is not None:
            self.fail(f"connection lost: {exc}")
        self.open.discard(conn)
        if not self.open and self.finished is not None and not self.finished.done():
            self.finished.set_result(None)


async def _client_main(spec: dict[str, Any]) -> dict[str, Any]:
    loop = asyncio.get_running_loop()
    run = _ClientRun(spec)
    run.finished = loop.create_future()
    now = time.perf_counter()
    run.warmup_until = now + spec.get("warmup", 0.0)
    run.stop_at = run.warmup_until + spec.get("seconds", 0.0)
    for _ in range(spec["conns"]):
        _, conn = await loop.create_connection(lambda: _Conn(run), spec["host"], spec["port"])
        run.open.add(conn)
    started = time.perf_counter()
    cpu0 = resource.getrusage(resource.RUSAGE_SELF)
    await asyncio.wait_for(run.finished, spec.get("seconds", 0) + spec.get("warmup", 0) + 120)
    elapsed = time.perf_counter() - max(started, run.warmup_until) if run.end_index is None else time.perf_counter() - started
    cpu1 = resource.getrusage(resource.RUSAGE_SELF)
    Path(spec["latency_file"]).write_bytes(run.latencies.tobytes())  # noqa: ASYNC240 - after the run
    return {"ok": run.ok, "errors": run.errors, "issued": run.issued, "elapsed": elapsed,
            "cpu": (cpu1.ru_utime + cpu1.ru_stime) - (cpu0.ru_utime + cpu0.ru_stime),
            "wall": time.perf_counter() - started, "error_sample": run.error_sample}


def client_process(spec_json: str) -> None:
    spec = json.loads(spec_json)
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    print(json.dumps(asyncio.run(_client_main(spec))))


# ---------------------------------------------------------------------------------------------
# running cells


@dataclass
class Cell:
    target: str
    command: str
    conns: int
    rps: float = 0.0
    p50: float = 0.0
    p99: float = 0.0
    errors: int = 0
    ok: int = 0
    cli_cpu: float = 0.0
    srv_cpu: float = 0.0
    error_sample: list[str] = field(default_factory=list)


def proc_cpu(pids: list[int]) -> float:
    """CPU seconds (user + system, all threads) used so far by these processes."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for pid in pids:
        with contextlib.suppress(OSError):
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / tick
    return total


def child_pids(parent: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError, IndexError):
                if int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1]) == parent:
                    found.append(int(entry.name))
    return found


def run_clients(host: str, port: int, command: str, conns: int, procs: int, start: int, *,
                seconds: float = 0.0, warmup: float = 0.0, count: int | None = None,
                server_pids: list[int] | None = None) -> tuple[Cell, int]:
    """Run one cell; return it and how many request indices were used."""
    procs = max(1, min(procs, conns))
    tmp = Path(tempfile.mkdtemp(prefix="lsbench-"))
    children = []
    for p in range(procs):
        share = conns // procs + (1 if p < conns % procs else 0)
        spec = {"host": host, "port": port, "command": command, "conns": share, "proc": p, "procs": procs,
                "start": start, "seconds": seconds, "warmup": warmup, "latency_file": str(tmp / f"{p}.lat")}
        if count is not None:
            spec["count"] = count
        children.append(subprocess.Popen([sys.executable, __file__, "--client", json.dumps(spec)],
                                         stdout=subprocess.PIPE, cwd=ROOT))
    cpu0 = proc_cpu(server_pids or [])
    t0 = time.perf_counter()
    results = []
    for child in children:
        out, _ = child.communicate(timeout=seconds + warmup + 180)
        if child.returncode != 0:
            raise RuntimeError(f"load generator failed ({child.returncode})")
        results.append(json.loads(out))
    wall = time.perf_counter() - t0
    srv = (proc_cpu(server_pids or []) - cpu0) / wall if server_pids else 0.0
    latencies = array("d")
    for p in range(procs):
        with open(tmp / f"{p}.lat", "rb") as f:
            latencies.frombytes(f.read())
    shutil.rmtree(tmp, ignore_errors=True)
    cell = Cell("", command, conns)
    cell.ok = sum(r["ok"] for r in results)
    cell.errors = sum(r["errors"] for r in results)
    elapsed = max(r["elapsed"] for r in results)
    cell.rps = cell.ok / elapsed if elapsed > 0 else 0.0
    if latencies:
        ordered = sorted(latencies)
        cell.p50 = statistics.median(ordered) * 1000
        cell.p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000
    cell.cli_cpu = sum(r["cpu"] for r in results) / max(r["wall"] for r in results)
    cell.srv_cpu = srv
    cell.error_sample = [e for r in results for e in r["error_sample"]][:3]
    used = max(r["issued"] for r in results) * procs if count is None else count
    return cell, used


# ---------------------------------------------------------------------------------------------
# targets


def http_post(host: str, port: int, body: dict[str, Any], timeout: float = 5.0) -> tuple[int, bytes]:
    raw = _post(json.dumps(body).encode())
    with socket.create_connection((host, port), timeout=timeout) as s:
        s.sendall(raw)
        buf = b""
        while b"\r\n\r\n" not in buf:
            chunk = s.recv(65536)
            if not chunk:
                break
            buf += chunk
        head, _, rest = buf.partition(b"\r\n\r\n")
        length = 0
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        while len(rest) < length:
            chunk = s.recv(65536)
            if not chunk:
                break
            rest += chunk
        return int(head.split()[1]), rest


def wait_http(host: str, port: int, body: dict[str, Any], timeout: float = 30.0) -> bytes:
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        try:
            status, answer = http_post(host, port, body, timeout=2)
            if status == 200:
                return answer
            last = (status, answer)
        except OSError as exc:
            last = exc
        time.sleep(0.1)
    raise RuntimeError(f"{host}:{port} not answering: {last}")


class Target:
    """A started server: where v4 and v6 requests go, and which processes to account CPU to."""

    name = ""
    v4: tuple[str, int] = ("", 0)
    v6: tuple[str, int] = ("", 0)
    pids: list[int]

    def __enter__(self) -> Target:
        raise NotImplementedError

    def __exit__(self, *exc: object) -> None:
        raise NotImplementedError


def _stop(proc: subprocess.Popen[bytes] | None) -> None:
    """SIGTERM, then SIGKILL after 15 s."""
    if proc is not None and proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _free_port() -> int:
    with contextlib.closing(socket.socket()) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Leasesync(Target):
    def __init__(self, kind: str, extra_db: dict[str, Any] | None = None, root: Path = ROOT, name: str = "",
                 workers: int = 0) -> None:
        self.name = name or kind
        self.kind = kind
        self.workers = workers
        self.root = root
        self.extra_db = extra_db or {}
        self.tmp = Path(tempfile.mkdtemp(prefix=f"lsbench-{kind}-"))
        self.proc: subprocess.Popen[bytes] | None = None
        self.pg_name: str | None = None

    def __enter__(self) -> Leasesync:
        if self.kind == "sqlite":
            db: dict[str, Any] = {"type": "sqlite", "name": str(self.tmp / "leases.db")}
        else:
            import psycopg

            self.pg_name = f"ls_bench_{uuid.uuid4().hex[:10]}"
            with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as admin:
                admin.execute(f'CREATE DATABASE "{self.pg_name}"')
            db = {"type": "postgresql", "name": self.pg_name, "host": "127.0.0.1", "user": "postgres"}
        db.update(self.extra_db)
        port = _free_port()
        config = {
            "LeaseSync": {"http-host": "127.0.0.1", "http-port": port, **({"http-workers": self.workers} if self.workers else {})},
            "Dhcp4": {"lease-database": db, "valid-lifetime": 4000, "subnet4": [{"id": 1, "subnet": SUBNET4}]},
            "Dhcp6": {"lease-database": db, "valid-lifetime": 4000, "preferred-lifetime": 3000,
                      "subnet6": [{"id": 1, "subnet": SUBNET6}]},
        }
        path = self.tmp / "leasesync.json"
        path.write_text(json.dumps(config, indent=1))
        with open(self.tmp / "leasesync.log", "wb") as log:
            self.proc = subprocess.Popen([sys.executable, "-m", "app.cli", "serve", "-c", str(path)], cwd=self.root,
                                         stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        self.v4 = self.v6 = ("127.0.0.1", port)
        self.pids = [self.proc.pid]
        try:
            wait_http("127.0.0.1", port, {"command": "version-get"})
            self.pids += child_pids(self.proc.pid)  # HTTP front-end processes count as the server's CPU
        except BaseException:
            print((self.tmp / "leasesync.log").read_text()[-3000:], file=sys.stderr)
            self.__exit__()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        _stop(self.proc)
        if self.pg_name:
            import psycopg

            with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{self.pg_name}" WITH (FORCE)')
        shutil.rmtree(self.tmp, ignore_errors=True)


class PgbouncerLeasesync(Leasesync):
    """Leasesync on PostgreSQL through a private pgbouncer in transaction mode with four server
    connections (tests/private_db.Pgbouncer), as a site with a pooler in front of its database."""

    def __enter__(self) -> Leasesync:
        if str(ROOT) not in sys.path:
            sys.path.insert(0, str(ROOT))
        from tests.private_db import Pgbouncer

        self.bouncer = Pgbouncer("transaction", pool_size=4)
        self.extra_db = {**self.extra_db, "port": self.bouncer.port}
        try:
            return super().__enter__()
        except BaseException:
            self.bouncer.destroy()
            raise

    def __exit__(self, *exc: object) -> None:
        _stop(self.proc)  # before the database goes: its connections go through pgbouncer
        self.bouncer.destroy()
        super().__exit__(*exc)


class Floor(Target):
    """bench/floor.py: the least a one-process Python server does per request (see its docstring)."""

    def __init__(self, mode: str) -> None:
        self.name = f"floor-{mode}"
        self.mode = mode
        self.proc: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> Floor:
        port = _free_port()
        return self._launch([sys.executable, str(ROOT / "bench" / "floor.py"), "--port", str(port), "--mode", self.mode],
                            port)

    def _launch(self, argv: list[str], port: int) -> Floor:
        """Start the floor server `argv` listening on `port`, and wait until it answers."""
        self.proc = subprocess.Popen(argv, start_new_session=True)
        self.v4 = self.v6 = ("127.0.0.1", port)
        self.pids = [self.proc.pid]
        try:
            wait_http("127.0.0.1", port, {"command": "version-get"})
        except BaseException:
            self.__exit__()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        _stop(self.proc)


class CFloor(Floor):
    """bench/floor_c.c: floor-sqlite's work in C, built here (see its header comment)."""

    def __init__(self) -> None:
        super().__init__("c")
        self.tmp = Path(tempfile.mkdtemp(prefix="lsbench-floor-c-"))

    def __enter__(self) -> Floor:
        binary, database = self.tmp / "floor_c", self.tmp / "leases.db"
        build = subprocess.run(["cc", "-O2", "-o", str(binary), str(ROOT / "bench" / "floor_c.c"), "-lsqlite3",
                                "-lpthread"], capture_output=True, text=True)
        if build.returncode != 0:
            raise SystemExit(f"floor-c needs a C compiler and SQLite's headers (apt-get install gcc "
                             f"libsqlite3-dev):\n{build.stderr}")
        config = self.tmp / "leases.json"
        config.write_text(json.dumps({"Dhcp4": {"lease-database": {"type": "sqlite", "name": str(database)},
                                                "subnet4": [{"id": 1, "subnet": "10.0.0.0/16"}]}}))
        subprocess.run([sys.executable, "-m", "app.cli", "db", "upgrade", "-c", str(config)], cwd=ROOT, check=True,
                       capture_output=True)
        port = _free_port()
        return self._launch([str(binary), str(port), str(database)], port)

    def __exit__(self, *exc: object) -> None:
        super().__exit__()
        shutil.rmtree(self.tmp, ignore_errors=True)


class Kea(Target):
    """kea-dhcp4 + kea-dhcp6 (lease_cmds, memfile persisted), behind the CA or the HA listener."""

    def __init__(self, ha: bool) -> None:
        self.name = "kea-ha" if ha else "kea-ca"
        self.ha = ha
        self.tmp = Path(tempfile.mkdtemp(prefix=f"lsbench-{self.name}-"))
        self.stack = contextlib.ExitStack()

    def _memfile(self, family: int) -> dict[str, Any]:
        return {"type": "memfile", "persist": True, "lfc-interval": 0, "name": str(self.tmp / f"leases{family}.csv")}

    def _ha(self, family: int, this: int, partner: int) -> tuple[list[dict[str, Any]], dict[str, Any]]:
        hook = {"library": "libdhcp_ha.so", "parameters": {"high-availability": [{
            "this-server-name": "bench1",
            "mode": "hot-standby",
            "heartbeat-delay": 65535,  # Kea's maximum (ms)
            "max-response-delay": 65535,
            "max-ack-delay": 5000,
            "max-unacked-clients": 0,
            "send-lease-updates": False,
            "sync-leases": False,
            "multi-threading": {"enable-multi-threading": True, "http-dedicated-listener": True,
                                "http-listener-threads": 0, "http-client-threads": 0},
            "peers": [
                {"name": "bench1", "url": f"http://127.0.0.1:{this}/", "role": "primary", "auto-failover": False},
                {"name": "bench2", "url": f"http://127.0.0.1:{partner}/", "role": "standby", "auto-failover": False},
            ],
        }]}}
        extra = {"multi-threading": {"enable-multi-threading": True, "thread-pool-size": 0, "packet-queue-size": 64}}
        return [hook], extra

    def __enter__(self) -> Kea:
        sys.path.insert(0, str(ROOT))
        from tests.kea_harness import KeaServer, free_port

        subnets4 = [{"id": 1, "subnet": SUBNET4}]
        subnets6 = [{"id": 1, "subnet": SUBNET6}]
        try:
            if not self.ha:
                k6 = self.stack.enter_context(KeaServer(6, subnets6, lease_database=self._memfile(6),
                                                        start_agent=False, name="bench-kea6"))
                k4 = self.stack.enter_context(KeaServer(4, subnets4, lease_database=self._memfile(4),
                                                        extra_control_sockets={"dhcp6": k6.socket_path},
                                                        name="bench-kea4"))
                assert k4.http_port is not None
                self.v4 = self.v6 = ("127.0.0.1", k4.http_port)
                self.pids = [p for p in (k4.pid, k4.agent_pid, k6.pid) if p]
            else:
                ports = [free_port() for _ in range(4)]
                hooks4, extra4 = self._ha(4, ports[0], ports[1])
                hooks6, extra6 = self._ha(6, ports[2], ports[3])
                k4 = self.stack.enter_context(KeaServer(4, subnets4, lease_database=self._memfile(4), start_agent=False,
                                                        hooks_libraries=hooks4, extra_config=extra4, name="bench-ha4"))
                k6 = self.stack.enter_context(KeaServer(6, subnets6, lease_database=self._memfile(6), start_agent=False,
                                                        hooks_libraries=hooks6, extra_config=extra6, name="bench-ha6"))
                self.v4 = ("127.0.0.1", ports[0])
                self.v6 = ("127.0.0.1", ports[2])
                self.pids = [p for p in (k4.pid, k6.pid) if p]
            wait_http(*self.v4, {"command": "list-commands", "service": ["dhcp4"]})
            wait_http(*self.v6, {"command": "list-commands", "service": ["dhcp6"]})
        except BaseException:
            self.__exit__()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.stack.close()
        shutil.rmtree(self.tmp, ignore_errors=True)


TREES: dict[str, Path] = {}  # --tree NAME=PATH: leasesync from another source tree, as target KIND@NAME


def parse_target(name: str) -> tuple[str, int, str]:
    """KIND[+wN][@TREE] -> (kind, front-end processes, tree)."""
    kind, _, tree = name.partition("@")
    kind, _, workers = kind.partition("+w")
    return kind, int(workers or 0), tree


def title(name: str) -> str:
    kind, workers, tree = parse_target(name)
    return TARGET_TITLES[kind] + (f", {workers} front-end{'s' if workers > 1 else ''}" if workers else "") + (f" [{tree}]" if tree else "")


def make_target(name: str) -> Target:
    kind, workers, tree = parse_target(name)
    if kind == "postgresql-pgbouncer":
        return PgbouncerLeasesync("postgresql", root=TREES[tree] if tree else ROOT, name=name, workers=workers)
    if kind in ("sqlite", "sqlite-normal", "postgresql", "postgresql-capture"):
        extra_db = {"sqlite-normal": {"synchronous": "NORMAL"}, "postgresql-capture": {"capture-changes": True}}.get(kind)
        return Leasesync(kind.removesuffix("-normal").removesuffix("-capture"), extra_db=extra_db,
                         root=TREES[tree] if tree else ROOT, name=name, workers=workers)
    if name in ("kea-ca", "kea-ha"):
        return Kea(ha=name == "kea-ha")
    if name == "floor-c":
        return CFloor()
    if name in FLOORS:
        return Floor(name.removeprefix("floor-"))
    raise ValueError(name)


def check_commands(target: Target) -> None:
    """One request of each command, printed: proves the path accepts it and answers result 0."""
    for command in COMMANDS:
        host, port = target.v6 if command.startswith("lease6") else target.v4
        index = 10_000_000 if command == "lease6-bulk-apply" else 0
        raw = build_request(command, index)  # lease4-get 0 reads what lease4-update 0 created
        body = raw.partition(b"\r\n\r\n")[2]
        status, answer = http_post(host, port, json.loads(body))
        text = answer.decode(errors="replace")
        print(f"  check {command:18s} -> {status} {text[:110]}", flush=True)
        if status != 200 or not answer_ok(answer):
            raise RuntimeError(f"{target.name} does not accept {command}: {status} {text[:500]}")


def prefill(target: Target, procs: int) -> None:
    """Create the leases the lease4-get cells read (indices 0..PREFILL-1 of lease4-update)."""
    cell, _ = run_clients(*target.v4, "lease4-update", 8, procs, 0, count=PREFILL)
    if cell.errors:
        raise RuntimeError(f"prefill of {target.name} failed: {cell.error_sample}")


def prefill_bulks(target: Target, procs: int) -> None:
    """Create the leases the lease6-bulk-renew cells renew."""
    cell, _ = run_clients(*target.v6, "lease6-bulk-apply", 8, procs, BULK_RENEW_FIRST, count=BULK_RENEW_SLOTS)
    if cell.errors:
        raise RuntimeError(f"prefill of {target.name}'s bulks failed: {cell.error_sample}")


def bench_all(targets: list[Target], args: argparse.Namespace) -> list[Cell]:
    """Every (command, conns) cell on every target back to back, then the next cell: the targets
    of one cell are measured seconds apart, so a noisy neighbour hits them alike. With
    `--rounds` > 1 the whole sweep repeats and each cell keeps its median round (by req/s)."""
    for target in targets:
        print(f"== {title(target.name)}", flush=True)
        check_commands(target)
        if "lease4-get" in args.commands or "lease4-renew" in args.commands:
            prefill(target, args.client_procs)
        if "lease6-bulk-renew" in args.commands:
            prefill_bulks(target, args.client_procs)
    cursor = {t.name: dict.fromkeys(COMMANDS + EXTRA_COMMANDS, 0) | {"lease4-update": PREFILL} for t in targets}
    runs: dict[tuple[str, str, int], list[Cell]] = {}
    for round_ in range(args.rounds):
        for command in args.commands:
            for conns in args.conns:
                for target in targets:
                    host, port = target.v6 if command.startswith("lease6") else target.v4
                    cell, used = run_clients(host, port, command, conns, args.client_procs,
                                             cursor[target.name][command], seconds=args.seconds,
                                             warmup=args.warmup, server_pids=target.pids)
                    cursor[target.name][command] += used
                    cell.target = target.name
                    runs.setdefault((target.name, command, conns), []).append(cell)
                    print(f"  r{round_} {target.name:10s} {command:18s} c={conns:<3d} {cell.rps:9.0f} req/s  "
                          f"p50 {cell.p50:7.2f} ms  p99 {cell.p99:7.2f} ms  err {cell.errors}  "
                          f"cli {cell.cli_cpu:4.0%} srv {cell.srv_cpu:4.0%}", flush=True)
                    for sample in cell.error_sample:
                        print(f"    error: {sample}", flush=True)
    cells = []
    for found in runs.values():
        ordered = sorted(found, key=lambda c: c.rps)
        median = ordered[len(ordered) // 2]
        median.errors = sum(c.errors for c in found)
        cells.append(median)
    return cells


def render(cells: list[Cell], targets: list[str]) -> str:
    by = {(c.target, c.command, c.conns): c for c in cells}
    lines = [
        "| command | conns | target | req/s | p50 ms | p99 ms | errors | ×(c) CA | ×(d) HA | srv cpu | srv µs/req | cli cpu |",
        "|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    order = COMMANDS + EXTRA_COMMANDS
    seen = sorted({(c.command, c.conns) for c in cells}, key=lambda k: (order.index(k[0]), k[1]))
    for command, conns in seen:
        ca = by.get(("kea-ca", command, conns))
        ha = by.get(("kea-ha", command, conns))
        for name in targets:
            c = by.get((name, command, conns))
            if c is None:
                continue
            r_ca = f"{c.rps / ca.rps:.2f}×" if ca and ca.rps else "–"
            r_ha = f"{c.rps / ha.rps:.2f}×" if ha and ha.rps else "–"
            # server CPU per request: steadier than req/s on a shared machine, for before/after runs
            cpu_us = f"{c.srv_cpu / c.rps * 1e6:,.0f}" if c.rps else "–"
            lines.append(f"| {command} | {conns} | {title(name)} | {c.rps:,.0f} | {c.p50:.2f} | {c.p99:.2f} | "
                         f"{c.errors} | {r_ca} | {r_ha} | {c.srv_cpu:.0%} | {cpu_us} | {c.cli_cpu:.0%} |")
    return "\n".join(lines)


def _csv(value: str) -> list[str]:
    return [v.strip() for v in value.split(",") if v.strip()]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--client", help=argparse.SUPPRESS)
    parser.add_argument("--seconds", type=float, default=5.0, help="measured seconds per cell (default 5)")
    parser.add_argument("--warmup", type=float, default=1.0, help="unmeasured seconds before each cell (default 1)")
    parser.add_argument("--targets", type=_csv, default=list(DEFAULT_TARGETS),
                        help=f"comma list of {','.join(TARGETS)} (default: the first four)")
    parser.add_argument("--commands", type=_csv, default=list(COMMANDS),
                        help=f"comma list of {','.join(COMMANDS + EXTRA_COMMANDS)} (default: the first three)")
    parser.add_argument("--conns", type=lambda v: [int(x) for x in _csv(v)], default=[1, 8, 32],
                        help="comma list of concurrent keep-alive connections (default 1,8,32)")
    parser.add_argument("--client-procs", type=int, default=2, help="load generator processes (default 2)")
    parser.add_argument("--tree", action="append", default=[], metavar="NAME=PATH",
                        help="another leasesync source tree; benchmark it as target sqlite@NAME / postgresql@NAME")
    parser.add_argument("--compiled", action="append", default=[], metavar="NAME",
                        help="this tree with its hot path compiled by mypyc (bench/compiled.py), as tree NAME")
    parser.add_argument("--rounds", type=int, default=1, help="repeat the sweep; keep each cell's median (default 1)")
    parser.add_argument("--markdown", help="also write the table to this file")
    args = parser.parse_args(argv)
    if args.client:
        client_process(args.client)
        return 0
    for spec in args.tree:
        tree_name, _, tree_path = spec.partition("=")
        TREES[tree_name] = Path(tree_path).resolve()
    for name in args.targets:
        try:
            kind, _, tree = parse_target(name)
        except ValueError:
            parser.error(f"unknown target {name}")
        known_tree = tree in TREES or tree in args.compiled  # --compiled trees are built below
        if kind not in TARGETS or (tree and (not known_tree or kind.startswith(("kea", "floor")))):
            parser.error(f"unknown target {name}")
    for command in args.commands:
        if command not in COMMANDS + EXTRA_COMMANDS:
            parser.error(f"unknown command {command}")
    with contextlib.ExitStack() as stack:
        if args.compiled:
            from compiled import build
        for tree_name in args.compiled:
            out = Path(tempfile.mkdtemp(prefix=f"lsbench-{tree_name}-"))
            stack.callback(shutil.rmtree, out, ignore_errors=True)
            print(f"compiling the hot path with mypyc into {out} (about 2 minutes)", file=sys.stderr)
            TREES[tree_name] = build(out)
        targets = [stack.enter_context(make_target(name)) for name in args.targets]
        cells = bench_all(targets, args)
    table = render(cells, args.targets)
    cmdline = "python bench/control.py " + " ".join(sys.argv[1:] if argv is None else argv)
    print()
    print(table)
    if args.markdown:
        Path(args.markdown).write_text(f"`{cmdline}`\n\n{table}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
